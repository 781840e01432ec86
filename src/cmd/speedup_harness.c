/*
 * speedup_harness.c - speedup_harness.py as bytes in the binary. The
 * Makefile turns the .py file into the byte list included here (od + sed),
 * so that gilscope is one file and the harness always matches it.
 */
#include "speedup_run.h"

const unsigned char speedup_harness_py[] = {
#include "../../build/gen/speedup_harness.inc"
};
const size_t speedup_harness_py_len = sizeof(speedup_harness_py);
