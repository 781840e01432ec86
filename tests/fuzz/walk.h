/*
 * walk.h - the whole interpreter walk over a snapshot, shared by the
 * fuzz_snapshot and fuzz_snapshot_mem harnesses.
 *
 * It does what a sample and a dump do with target memory: the runtime, the
 * thread list (also the 3.9-3.10 search for glibc's tid field), every
 * thread's stack twice (the second time through the code cache) and once
 * more the sampler's way (batched reads, a read-ahead window), the GIL
 * and why it is on (gilinfo.c), the threading names, the C callable of each innermost frame, and the text
 * encoders that target strings end up in. Results are thrown away; only
 * crashes, leaks, hangs and huge allocations matter.
 */
#ifndef GS_FUZZ_WALK_H
#define GS_FUZZ_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "../../src/cpython/model.h"
#include "../../src/target/reader.h"

/* Walk everything reachable from `loc` through r. */
void fuzz_walk(struct reader *r, const struct py_location *loc);

/* Parse a snapshot (bytes), take the location from its metadata, walk. */
void fuzz_walk_snapshot(const uint8_t *data, size_t size);

#endif
