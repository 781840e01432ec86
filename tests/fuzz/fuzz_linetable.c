/*
 * fuzz_linetable.c - libFuzzer harness: line tables of every format.
 *
 * Input: byte 0 picks the format (LNOTAB 3.9, 3.10, LOCATIONS 3.11+),
 * bytes 1-4 the byte offset looked up, bytes 5-8 co_firstlineno (all
 * little-endian), the rest is the table. Every lookup must end, in bounds,
 * with a position or an error; the result is checked for what the API
 * promises (a line is -1 or not negative).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../src/cpython/linetable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linetable_pos pos;
	enum linetable_kind kind;
	uint32_t offset, k;
	int first;
	uint8_t *table;
	size_t len;

	if (size < 9)
		return 0;
	kind = (enum linetable_kind)(data[0] % 3);
	offset = le32(data + 1);
	first = (int)(int32_t)le32(data + 5);
	len = size - 9;
	/* an exact-size copy, so reading one byte past the table is caught */
	table = malloc(len ? len : 1);
	if (!table)
		return 0;
	for (k = 0; k < len; k++)
		table[k] = data[9 + k];
	if (!linetable_lookup(kind, len ? table : NULL, len, first, offset, &pos) &&
	    pos.line < -1)
		abort();
	/* and the neighbours, as frames at consecutive instructions would */
	for (k = 0; k < 8; k += 2)
		(void)linetable_lookup(kind, table, len, first, offset + k, &pos);
	free(table);
	return 0;
}
