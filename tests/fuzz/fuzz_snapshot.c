/*
 * fuzz_snapshot.c - libFuzzer harness: a whole snapshot file as input.
 *
 * The snapshot parser (reader_snapshot_from_bytes), the location in its
 * metadata (py_location_parse), then the whole interpreter walk of walk.c.
 * Seeds: real interpreters' memory (tests/corpus/snapshots/, *.snap files).
 */
#include <stddef.h>
#include <stdint.h>

#include "walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_walk_snapshot(data, size);
	return 0;
}
