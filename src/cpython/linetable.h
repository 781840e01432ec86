/*
 * linetable.h - map a bytecode offset to a source line, for every line-table
 * format CPython 3.9-3.15 uses. Pure functions over bytes read from the
 * target (hostile input: every table is bounds-checked, walks are bounded by
 * the table's length).
 *
 *   LINETABLE_LNOTAB      3.9   co_lnotab: (byte-offset delta, line delta) pairs,
 *                               line delta signed (int8), offsets in bytes.
 *   LINETABLE_310         3.10  co_linetable: (byte-offset delta, line delta)
 *                               pairs, line delta -128 means "no line".
 *   LINETABLE_LOCATIONS   3.11+ co_linetable location table (varint entries
 *                               with codes 0-15; PEP 657 positions).
 *
 * `offset` is always a byte offset into the code (3.10's f_lasti counts code
 * units: multiply by 2 first; 3.11+ frames give a code-unit index: times 2).
 */
#ifndef GS_LINETABLE_H
#define GS_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

enum linetable_kind {
	LINETABLE_LNOTAB,
	LINETABLE_310,
	LINETABLE_LOCATIONS,
};

struct linetable_pos {
	int line;		/* -1 when the instruction has no line */
	int end_line;		/* -1 when unknown (only 3.11+ tables have it) */
	int col, end_col;	/* -1 when unknown */
};

/*
 * Find the position of the instruction at byte `offset`. Returns 0 and fills
 * *pos, GS_ERANGE if offset is past the table's end, or GS_ECORRUPT if the
 * table is malformed.
 */
int linetable_lookup(enum linetable_kind kind, const uint8_t *table, size_t len,
		     int firstlineno, uint32_t offset, struct linetable_pos *pos);

#endif
