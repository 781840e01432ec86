/*
 * flamegraph_js.c - flamegraph.js as bytes in the binary. The Makefile
 * turns the .js file, less its "//" header lines, into the byte list
 * included here (od + sed), as it does for speedup_harness.py.
 */
#include "flamegraph.h"

const unsigned char flamegraph_js[] = {
#include "../../build/gen/flamegraph_js.inc"
};
const size_t flamegraph_js_len = sizeof(flamegraph_js);
