/*
 * linetable.c - bytecode offset -> source position for CPython's three
 * line-table formats (see linetable.h for the formats and the API).
 *
 * The table bytes come from another process and are treated as hostile:
 * every byte read is bounds-checked, each walk consumes at least one byte
 * per step (so it cannot run longer than the table), line arithmetic is done
 * in 64 bits and rejected when it leaves the range of an int, and nothing is
 * allocated. Only the entries up to the one covering `offset` are decoded:
 * damage further on is not noticed, which is fine for a lookup.
 *
 * Semantics follow CPython's own decoders (PyCode_Addr2Line and friends in
 * Objects/codeobject.c of each version); tests/unit/linetable_cases.h holds
 * ground truth taken from the real interpreters.
 */
#include "linetable.h"
#include "../util/error.h"

#include <limits.h>

/* 3.10: a line delta of -128 marks a range with no line number. */
#define LT310_NO_LINE	(-128)

/* 3.11+ entry codes (_PyCodeLocationInfoKind). */
#define LOC_SHORT_MAX	9
#define LOC_ONE_LINE0	10
#define LOC_ONE_LINE2	12
#define LOC_LONG	14
#define LOC_NONE	15

/*
 * CPython writes varints from an unsigned int in 6-bit chunks, so a valid
 * one is at most 6 bytes long and fits in 32 bits.
 */
#define VARINT_MAX_SHIFT	30

static const struct linetable_pos no_pos = { -1, -1, -1, -1 };

/* A signed byte, without relying on implementation-defined conversion. */
static int sbyte(uint8_t b)
{
	return b < 128 ? b : (int)b - 256;
}

/* Line numbers are kept in 64 bits and must stay representable as int. */
static int line_add(int64_t *line, int64_t delta)
{
	int64_t v = *line + delta;

	if (v < INT_MIN || v > INT_MAX)
		return GS_CORRUPT("v < INT_MIN || v > INT_MAX");
	*line = v;
	return 0;
}

/*
 * A decoded line is handed to the caller; a negative one cannot come from
 * source code and would be confused with "no line" (-1).
 */
static int set_line(struct linetable_pos *pos, int64_t line)
{
	if (line < 0)
		return GS_CORRUPT("line < 0");
	*pos = no_pos;
	pos->line = (int)line;
	return 0;
}

/*
 * 3.9 co_lnotab: pairs (byte-offset increment, signed line increment). The
 * line increment applies from the address reached by the offset increment,
 * as in 3.9's PyCode_Addr2Line. The table records where lines start, not
 * where the code ends: the last line runs to the end of the code, so an
 * offset is never "past" this table (the caller knows the code size).
 */
static int lookup_lnotab(const uint8_t *t, size_t len, int firstlineno,
			 uint32_t offset, struct linetable_pos *pos)
{
	int64_t line = firstlineno;
	uint64_t addr = 0;
	size_t i;
	int err;

	if (len % 2)
		return GS_CORRUPT("len % 2");
	for (i = 0; i < len; i += 2) {
		addr += t[i];
		if (addr > offset)
			break;
		err = line_add(&line, sbyte(t[i + 1]));
		if (err)
			return err;
	}
	return set_line(pos, line);
}

/*
 * 3.10 co_linetable: pairs (byte length of the range, signed line delta),
 * ranges back to back from offset 0. A -128 delta means the range has no
 * line and leaves the running line alone. Zero-length ranges only carry
 * line deltas too big for one byte.
 */
static int lookup_310(const uint8_t *t, size_t len, int firstlineno,
		      uint32_t offset, struct linetable_pos *pos)
{
	int64_t line = firstlineno;
	uint64_t start = 0;
	size_t i;
	int err, delta;

	if (len % 2)
		return GS_CORRUPT("len % 2");
	for (i = 0; i < len; i += 2) {
		uint64_t end = start + t[i];

		delta = sbyte(t[i + 1]);
		if (delta != LT310_NO_LINE) {
			err = line_add(&line, delta);
			if (err)
				return err;
		}
		/* Earlier ranges all ended at or before offset. */
		if (offset < end) {
			if (delta == LT310_NO_LINE) {
				*pos = no_pos;
				return 0;
			}
			return set_line(pos, line);
		}
		start = end;
	}
	return GS_ERANGE;
}

/*
 * 3.11+ location table reader. Only the first byte of an entry has bit 7
 * set (CPython relies on this to walk the table backwards), so a later
 * byte with it set, or a first byte without it, means the table is damaged.
 */
struct loc_reader {
	const uint8_t *p, *end;
};

static int loc_byte(struct loc_reader *r, uint8_t *out)
{
	if (r->p >= r->end || (*r->p & 0x80))
		return GS_CORRUPT("r->p >= r->end || (*r->p & 0x80)");
	*out = *r->p++;
	return 0;
}

/* Unsigned varint: 6-bit chunks, least significant first, bit 6 = more. */
static int loc_varint(struct loc_reader *r, uint32_t *out)
{
	uint64_t val = 0;
	unsigned int shift = 0;
	uint8_t b;
	int err;

	for (;;) {
		err = loc_byte(r, &b);
		if (err)
			return err;
		val |= (uint64_t)(b & 63) << shift;
		if (!(b & 64))
			break;
		shift += 6;
		if (shift > VARINT_MAX_SHIFT)
			return GS_CORRUPT("shift > VARINT_MAX_SHIFT");
	}
	if (val > UINT32_MAX)
		return GS_CORRUPT("val > UINT32_MAX");
	*out = (uint32_t)val;
	return 0;
}

/* Signed varint: the low bit is the sign, the rest the magnitude. */
static int loc_svarint(struct loc_reader *r, int64_t *out)
{
	uint32_t u;
	int err;

	err = loc_varint(r, &u);
	if (err)
		return err;
	*out = (u & 1) ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
	return 0;
}

/* Long-form columns are stored plus one, so that 0 means "unknown". */
static int loc_column(struct loc_reader *r, int *col)
{
	uint32_t u;
	int err;

	err = loc_varint(r, &u);
	if (err)
		return err;
	if (u > (uint32_t)INT_MAX + 1)
		return GS_CORRUPT("u > (uint32_t)INT_MAX + 1");
	*col = (int)((int64_t)u - 1);
	return 0;
}

/*
 * Decode one entry's payload after its first byte: update the running line
 * and fill *pos. Short forms keep the line, one-line forms add code - 10,
 * codes 13 and 14 carry an svarint delta; 15 has no location and keeps the
 * line. Only the long form has an end line other than the start line.
 */
static int loc_entry(struct loc_reader *r, unsigned int code, int64_t *line,
		     struct linetable_pos *pos)
{
	uint8_t b1, b2;
	uint32_t end_delta = 0;
	int64_t delta = 0;
	int err;

	*pos = no_pos;
	if (code == LOC_NONE)
		return 0;

	if (code <= LOC_SHORT_MAX) {
		err = loc_byte(r, &b1);
		if (err)
			return err;
		pos->col = (int)(code * 8 + (b1 >> 4));
		pos->end_col = pos->col + (b1 & 15);
	} else if (code <= LOC_ONE_LINE2) {
		delta = code - LOC_ONE_LINE0;
		err = loc_byte(r, &b1);
		if (err)
			return err;
		err = loc_byte(r, &b2);
		if (err)
			return err;
		pos->col = b1;
		pos->end_col = b2;
	} else {
		/* 13 (no columns) or LOC_LONG */
		err = loc_svarint(r, &delta);
		if (err)
			return err;
		if (code == LOC_LONG) {
			err = loc_varint(r, &end_delta);
			if (err)
				return err;
			err = loc_column(r, &pos->col);
			if (err)
				return err;
			err = loc_column(r, &pos->end_col);
			if (err)
				return err;
		}
	}

	err = line_add(line, delta);
	if (err)
		return err;
	if (*line < 0 || *line + end_delta > INT_MAX)
		return GS_CORRUPT("*line < 0 || *line + end_delta > INT_MAX");
	pos->line = (int)*line;
	pos->end_line = (int)(*line + end_delta);
	return 0;
}

/*
 * 3.11+ location table: entries back to back from offset 0, each covering
 * 1-8 code units of 2 bytes.
 */
static int lookup_locations(const uint8_t *t, size_t len, int firstlineno,
			    uint32_t offset, struct linetable_pos *pos)
{
	struct loc_reader r;
	struct linetable_pos cur;
	int64_t line = firstlineno;
	uint64_t start = 0;
	int err;

	if (!len)
		return GS_ERANGE;	/* and t may be NULL: no t + 0 */
	r.p = t;
	r.end = t + len;
	while (r.p < r.end) {
		uint8_t first = *r.p++;
		uint64_t end = start + 2 * ((first & 7) + 1);

		if (!(first & 0x80))
			return GS_CORRUPT("!(first & 0x80)");
		err = loc_entry(&r, (first >> 3) & 15, &line, &cur);
		if (err)
			return err;
		if (offset < end) {
			*pos = cur;
			return 0;
		}
		start = end;
	}
	return GS_ERANGE;
}

/*
 * *pos is written only on success. A 3.9 table never gives GS_ERANGE (see
 * lookup_lnotab); an empty 3.10+ table covers nothing, so GS_ERANGE.
 */
int linetable_lookup(enum linetable_kind kind, const uint8_t *table, size_t len,
		     int firstlineno, uint32_t offset, struct linetable_pos *pos)
{
	if (!table)
		len = 0;	/* a missing table reads as an empty one */
	switch (kind) {
	case LINETABLE_LNOTAB:
		return lookup_lnotab(table, len, firstlineno, offset, pos);
	case LINETABLE_310:
		return lookup_310(table, len, firstlineno, offset, pos);
	case LINETABLE_LOCATIONS:
		return lookup_locations(table, len, firstlineno, offset, pos);
	}
	return GS_EUNSUPPORTED;
}
