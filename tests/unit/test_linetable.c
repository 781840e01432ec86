/*
 * test_linetable.c - line-table lookups against ground truth from real
 * interpreters (linetable_cases.h, made by gen_linetable_cases.py), plus
 * hand-made and damaged tables: the tables come from another process, so
 * malformed ones must give GS_ECORRUPT and random ones must never crash.
 */
#include "unit.h"
#include "linetable_cases.h"
#include "../../src/cpython/linetable.h"
#include "../../src/util/error.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCASES (sizeof(lt_cases) / sizeof(lt_cases[0]))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int pos_eq(const struct linetable_pos *p, int line, int end_line,
		  int col, int end_col)
{
	return p->line == line && p->end_line == end_line && p->col == col &&
	       p->end_col == end_col;
}

static int lookup(const struct lt_case *c, uint32_t off, struct linetable_pos *p)
{
	return linetable_lookup(c->kind, c->table, c->table_len, c->firstlineno,
				off, p);
}

/*
 * Every instruction offset of every real code object gives the position
 * the interpreter reported. Only the first mismatch of a case is printed.
 */
static void t_linetable_real_tables(struct unit *u)
{
	size_t i, r, offsets = 0;

	for (i = 0; i < NCASES; i++) {
		const struct lt_case *c = &lt_cases[i];
		uint32_t expect_start = 0;
		int bad = 0;

		for (r = 0; r < c->nruns && !bad; r++) {
			const struct lt_run *run = &c->runs[r];
			uint32_t off;

			if (!CHECK(u, run->start == expect_start && run->end > run->start))
				bad = 1;
			expect_start = run->end;
			for (off = run->start; off < run->end && !bad; off += 2) {
				struct linetable_pos p;
				int err = lookup(c, off, &p);

				offsets++;
				if (err || !pos_eq(&p, run->line, run->end_line,
						   run->col, run->end_col)) {
					printf("  %s %s offset %u: err %d, got %d/%d/%d/%d, want %d/%d/%d/%d\n",
					       c->version, c->name, off, err, p.line,
					       p.end_line, p.col, p.end_col, run->line,
					       run->end_line, run->col, run->end_col);
					CHECK(u, 0);
					bad = 1;
				}
			}
		}
		CHECK(u, bad || expect_start == c->code_len);
	}
	CHECK(u, NCASES > 0);
	printf("  %zu code objects, %zu offsets checked\n", NCASES, offsets);
}

/*
 * 3.10+ tables end where the code ends. 3.9's records only where lines
 * start, so past the code it still answers with the last line, as 3.9's
 * own PyCode_Addr2Line does.
 */
static void t_linetable_past_end(struct unit *u)
{
	static const uint32_t offs[] = { 0, 1, 2, 1000, UINT32_MAX };
	struct linetable_pos p;
	size_t i, j;

	for (i = 0; i < NCASES; i++) {
		const struct lt_case *c = &lt_cases[i];

		for (j = 0; j < ARRAY_SIZE(offs); j++) {
			uint64_t off = (uint64_t)c->code_len + offs[j];
			int err;

			if (off > UINT32_MAX)
				off = UINT32_MAX;
			err = lookup(c, (uint32_t)off, &p);
			if (c->kind == LINETABLE_LNOTAB) {
				CHECK_EQ(u, err, 0);
				CHECK_EQ(u, p.line, c->past_line);
			} else {
				CHECK_EQ(u, err, GS_ERANGE);
			}
		}
	}
}

/* An empty table is a valid 3.9 one (all on the first line). */
static void t_linetable_empty(struct unit *u)
{
	static const uint8_t none[1];
	struct linetable_pos p;

	CHECK_EQ(u, linetable_lookup(LINETABLE_LNOTAB, none, 0, 7, 0, &p), 0);
	CHECK(u, pos_eq(&p, 7, -1, -1, -1));
	CHECK_EQ(u, linetable_lookup(LINETABLE_LNOTAB, NULL, 0, 7, 40, &p), 0);
	CHECK(u, pos_eq(&p, 7, -1, -1, -1));
	CHECK_EQ(u, linetable_lookup(LINETABLE_310, none, 0, 7, 0, &p), GS_ERANGE);
	CHECK_EQ(u, linetable_lookup(LINETABLE_310, NULL, 0, 7, 0, &p), GS_ERANGE);
	CHECK_EQ(u, linetable_lookup(LINETABLE_LOCATIONS, none, 0, 7, 0, &p),
		 GS_ERANGE);
	CHECK_EQ(u, linetable_lookup(LINETABLE_LOCATIONS, NULL, 0, 7, 0, &p),
		 GS_ERANGE);
	CHECK_EQ(u, linetable_lookup((enum linetable_kind)99, none, 0, 7, 0, &p),
		 GS_EUNSUPPORTED);
}

static void t_linetable_lnotab(struct unit *u)
{
	/* 255+45 bytes on line 1, +200 lines split as 127+73, then -128 */
	static const uint8_t t[] = { 255, 0, 45, 127, 0, 73, 10, 0x80 };
	static const uint8_t odd[] = { 4, 1, 4 };
	static const uint8_t up[] = { 2, 1 };
	static const uint8_t down[] = { 2, 0xff };
	struct linetable_pos p;

	CHECK_EQ(u, linetable_lookup(LINETABLE_LNOTAB, t, sizeof(t), 1, 299, &p), 0);
	CHECK(u, pos_eq(&p, 1, -1, -1, -1));
	CHECK_EQ(u, linetable_lookup(LINETABLE_LNOTAB, t, sizeof(t), 1, 300, &p), 0);
	CHECK(u, pos_eq(&p, 201, -1, -1, -1));
	CHECK_EQ(u, linetable_lookup(LINETABLE_LNOTAB, t, sizeof(t), 1, 310, &p), 0);
	CHECK(u, pos_eq(&p, 73, -1, -1, -1));
	CHECK_EQ(u, linetable_lookup(LINETABLE_LNOTAB, odd, sizeof(odd), 1, 0, &p),
		 GS_ECORRUPT);
	/* line numbers must stay within an int and not go negative */
	CHECK_EQ(u, linetable_lookup(LINETABLE_LNOTAB, up, sizeof(up), INT_MAX, 0, &p), 0);
	CHECK_EQ(u, p.line, INT_MAX);
	CHECK_EQ(u, linetable_lookup(LINETABLE_LNOTAB, up, sizeof(up), INT_MAX, 2, &p),
		 GS_ECORRUPT);
	CHECK_EQ(u, linetable_lookup(LINETABLE_LNOTAB, down, sizeof(down), 0, 2, &p),
		 GS_ECORRUPT);
	CHECK_EQ(u, linetable_lookup(LINETABLE_LNOTAB, NULL, 0, -3, 0, &p),
		 GS_ECORRUPT);
}

static void t_linetable_310(struct unit *u)
{
	/*
	 * 6 bytes on line 10; zero-length entries carrying +254; 2 bytes with
	 * no line; 4 bytes back down by 100.
	 */
	static const uint8_t t[] = { 6, 0, 0, 127, 0, 127, 2, 0x80, 4, 0x9c };
	static const uint8_t odd[] = { 6, 0, 2 };
	static const uint8_t up[] = { 2, 1 };
	struct linetable_pos p;

	CHECK_EQ(u, linetable_lookup(LINETABLE_310, t, sizeof(t), 10, 5, &p), 0);
	CHECK(u, pos_eq(&p, 10, -1, -1, -1));
	CHECK_EQ(u, linetable_lookup(LINETABLE_310, t, sizeof(t), 10, 6, &p), 0);
	CHECK(u, pos_eq(&p, -1, -1, -1, -1));
	CHECK_EQ(u, linetable_lookup(LINETABLE_310, t, sizeof(t), 10, 8, &p), 0);
	CHECK(u, pos_eq(&p, 164, -1, -1, -1));
	CHECK_EQ(u, linetable_lookup(LINETABLE_310, t, sizeof(t), 10, 12, &p), GS_ERANGE);
	CHECK_EQ(u, linetable_lookup(LINETABLE_310, odd, sizeof(odd), 10, 0, &p),
		 GS_ECORRUPT);
	CHECK_EQ(u, linetable_lookup(LINETABLE_310, up, sizeof(up), INT_MAX, 0, &p),
		 GS_ECORRUPT);
}

/* 3.11+ first byte: bit 7, code in bits 3-6, code units - 1 in bits 0-2. */
#define LOC(code, units) (0x80 | (code) << 3 | ((units) - 1))

static void t_linetable_locations(struct unit *u)
{
	static const uint8_t t[] = {
		LOC(2, 1), 0x34,		/* short: col 16+3, end col +4 */
		LOC(11, 2), 100, 120,		/* one line form: line +1 */
		LOC(13, 1), 0x0a,		/* no column: line +5 */
		LOC(15, 3),			/* no location */
		/* long: line -3 (svarint 7), end +2, col 4999, end col unknown */
		LOC(14, 8), 0x07, 0x02, 0x48, 0x4e, 0x01, 0x00,
		LOC(12, 1), 0, 1,		/* one line form: line +2 */
	};
	struct linetable_pos p;

	CHECK_EQ(u, linetable_lookup(LINETABLE_LOCATIONS, t, sizeof(t), 50, 1, &p), 0);
	CHECK(u, pos_eq(&p, 50, 50, 19, 23));
	CHECK_EQ(u, linetable_lookup(LINETABLE_LOCATIONS, t, sizeof(t), 50, 2, &p), 0);
	CHECK(u, pos_eq(&p, 51, 51, 100, 120));
	CHECK_EQ(u, linetable_lookup(LINETABLE_LOCATIONS, t, sizeof(t), 50, 5, &p), 0);
	CHECK(u, pos_eq(&p, 51, 51, 100, 120));
	CHECK_EQ(u, linetable_lookup(LINETABLE_LOCATIONS, t, sizeof(t), 50, 6, &p), 0);
	CHECK(u, pos_eq(&p, 56, 56, -1, -1));
	CHECK_EQ(u, linetable_lookup(LINETABLE_LOCATIONS, t, sizeof(t), 50, 8, &p), 0);
	CHECK(u, pos_eq(&p, -1, -1, -1, -1));
	CHECK_EQ(u, linetable_lookup(LINETABLE_LOCATIONS, t, sizeof(t), 50, 14, &p), 0);
	CHECK(u, pos_eq(&p, 53, 55, 4999, -1));
	CHECK_EQ(u, linetable_lookup(LINETABLE_LOCATIONS, t, sizeof(t), 50, 29, &p), 0);
	CHECK(u, pos_eq(&p, 53, 55, 4999, -1));
	CHECK_EQ(u, linetable_lookup(LINETABLE_LOCATIONS, t, sizeof(t), 50, 30, &p), 0);
	CHECK(u, pos_eq(&p, 55, 55, 0, 1));
	CHECK_EQ(u, linetable_lookup(LINETABLE_LOCATIONS, t, sizeof(t), 50, 32, &p),
		 GS_ERANGE);
}

static int loc_err(const uint8_t *t, size_t len, int firstlineno, uint32_t off)
{
	struct linetable_pos p;

	return linetable_lookup(LINETABLE_LOCATIONS, t, len, firstlineno, off, &p);
}

static void t_linetable_locations_corrupt(struct unit *u)
{
	static const uint8_t trunc_svarint[] = { LOC(13, 1), 0x42 };
	static const uint8_t trunc_long[] = { LOC(14, 1), 0x02, 0x00, 0x01 };
	static const uint8_t trunc_short[] = { LOC(3, 1) };
	static const uint8_t trunc_one_line[] = { LOC(10, 1), 5 };
	static const uint8_t too_long[] = { LOC(13, 1), 0x40, 0x40, 0x40, 0x40,
					    0x40, 0x40, 0x00 };
	static const uint8_t too_big[] = { LOC(13, 1), 0x7e, 0x7f, 0x7f, 0x7f,
					   0x7f, 0x3f };
	/* svarints 0xfffffffe and 0xffffffff: +/- INT_MAX */
	static const uint8_t max_up[] = { LOC(13, 1), 0x7e, 0x7f, 0x7f, 0x7f,
					  0x7f, 0x03 };
	static const uint8_t max_down[] = { LOC(13, 1), 0x7f, 0x7f, 0x7f, 0x7f,
					    0x7f, 0x03 };
	static const uint8_t no_lead[] = { 0x10, 0x00 };
	static const uint8_t high_payload[] = { LOC(0, 1), 0x81 };
	static const uint8_t negative[] = { LOC(13, 1), 0x03 };
	static const uint8_t end_overflow[] = { LOC(14, 1), 0x00, 0x02, 0x01, 0x01 };
	static const uint8_t col_overflow[] = { LOC(14, 1), 0x00, 0x00,
						0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x03,
						0x01 };
	/* damage after the entry looked up goes unnoticed: lookups are lazy */
	static const uint8_t late_damage[] = { LOC(0, 1), 0x00, 0x00 };

	CHECK_EQ(u, loc_err(trunc_svarint, sizeof(trunc_svarint), 1, 0), GS_ECORRUPT);
	CHECK_EQ(u, loc_err(trunc_long, sizeof(trunc_long), 1, 0), GS_ECORRUPT);
	CHECK_EQ(u, loc_err(trunc_short, sizeof(trunc_short), 1, 0), GS_ECORRUPT);
	CHECK_EQ(u, loc_err(trunc_one_line, sizeof(trunc_one_line), 1, 0), GS_ECORRUPT);
	CHECK_EQ(u, loc_err(too_long, sizeof(too_long), 1, 0), GS_ECORRUPT);
	CHECK_EQ(u, loc_err(too_big, sizeof(too_big), 1, 0), GS_ECORRUPT);
	CHECK_EQ(u, loc_err(max_up, sizeof(max_up), 0, 0), 0);
	CHECK_EQ(u, loc_err(max_up, sizeof(max_up), 1, 0), GS_ECORRUPT);
	CHECK_EQ(u, loc_err(max_down, sizeof(max_down), INT_MAX, 0), 0);
	CHECK_EQ(u, loc_err(max_down, sizeof(max_down), INT_MAX - 1, 0), GS_ECORRUPT);
	CHECK_EQ(u, loc_err(no_lead, sizeof(no_lead), 1, 0), GS_ECORRUPT);
	CHECK_EQ(u, loc_err(high_payload, sizeof(high_payload), 1, 0), GS_ECORRUPT);
	CHECK_EQ(u, loc_err(negative, sizeof(negative), 0, 0), GS_ECORRUPT);
	CHECK_EQ(u, loc_err(negative, sizeof(negative), 1, 0), 0);
	CHECK_EQ(u, loc_err(end_overflow, sizeof(end_overflow), INT_MAX - 1, 0),
		 GS_ECORRUPT);
	CHECK_EQ(u, loc_err(end_overflow, sizeof(end_overflow), INT_MAX - 2, 0), 0);
	CHECK_EQ(u, loc_err(col_overflow, sizeof(col_overflow), 1, 0), GS_ECORRUPT);
	CHECK_EQ(u, loc_err(late_damage, sizeof(late_damage), 1, 0), 0);
	CHECK_EQ(u, loc_err(late_damage, sizeof(late_damage), 1, 2), GS_ECORRUPT);
}

/* xorshift64*: small, deterministic, good enough to spray bytes. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* What any lookup, on any bytes, may return. */
static int sane(int err, const struct linetable_pos *p, enum linetable_kind kind)
{
	if (err == GS_ERANGE || err == GS_ECORRUPT)
		return 1;
	if (err)
		return 0;
	if (p->line < -1)
		return 0;
	if (kind != LINETABLE_LOCATIONS)
		return p->end_line == -1 && p->col == -1 && p->end_col == -1;
	if (p->line == -1)
		return p->end_line == -1 && p->col == -1 && p->end_col == -1;
	return p->end_line >= p->line && p->col >= -1 && p->end_col >= -1;
}

/*
 * Bytes shaped like a location table: a lead byte with bit 7 set, then
 * usually the payload its code calls for (varints of 1-2 bytes), sometimes
 * one byte too many or too few, so that walks get well past the first
 * entry and still hit damage.
 */
static void fill_entries(uint8_t *t, size_t len, uint64_t *s)
{
	static const uint8_t nvalues[16] = {
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 4, 0,
	};
	size_t i = 0, k, n;

	while (i < len) {
		uint8_t lead = 0x80 | (uint8_t)(rnd(s) & 0x7f);

		t[i++] = lead;
		n = nvalues[(lead >> 3) & 15];
		if (rnd(s) % 8 == 0)
			n = n ? n - 1 : 1;
		else if (rnd(s) % 8 == 0)
			n++;
		for (k = 0; k < n && i < len; k++) {
			if (rnd(s) % 4 == 0 && i + 1 < len)
				t[i++] = 0x40 | (uint8_t)(rnd(s) & 0x3f);
			t[i++] = (uint8_t)(rnd(s) & 0x3f);
		}
	}
}

/*
 * A few thousand random tables, each in a heap block of exactly its size
 * so that ASan sees any read past the end: a third pure noise, a third
 * with bit 7 mostly clear, a third shaped like location entries. Also
 * checks that enough lookups succeed for the spray to test decoding, not
 * just the first error check.
 */
static void t_linetable_random(struct unit *u)
{
	static const enum linetable_kind kinds[] = {
		LINETABLE_LNOTAB, LINETABLE_310, LINETABLE_LOCATIONS,
	};
	static const int firsts[] = { 1, 0, 70001, INT_MAX, INT_MIN, -1 };
	uint64_t s = 0x9e3779b97f4a7c15ull;
	size_t n, i, k, bad = 0, found[ARRAY_SIZE(kinds)] = { 0 };

	for (n = 0; n < 6000; n++) {
		size_t len = rnd(&s) % 48;
		uint8_t *t = malloc(len ? len : 1);

		if (!CHECK(u, t != NULL))
			return;
		if (n % 3 == 2) {
			fill_entries(t, len, &s);
		} else {
			for (i = 0; i < len; i++) {
				t[i] = (uint8_t)rnd(&s);
				if (n % 3 == 1 && rnd(&s) % 3)
					t[i] &= 0x7f;
			}
		}
		for (k = 0; k < ARRAY_SIZE(kinds); k++) {
			int first = firsts[rnd(&s) % ARRAY_SIZE(firsts)];
			uint32_t off;

			for (off = 0; off < 20 * len + 4; off++) {
				struct linetable_pos p;
				int err = linetable_lookup(kinds[k], t, len, first,
							   off, &p);

				bad += !sane(err, &p, kinds[k]);
				found[k] += !err;
			}
		}
		free(t);
	}
	CHECK_EQ(u, bad, 0);
	for (k = 0; k < ARRAY_SIZE(kinds); k++)
		CHECK(u, found[k] > 10000);
}

/*
 * Prefixes of every real table (all of them for small tables, about 64
 * spread out plus the last 8 for big ones, to keep the ASan run short):
 * never a crash, and for 3.10+ any answer the prefix still gives must
 * match the whole table's (the entries before the cut decode the same).
 */
static void t_linetable_prefixes(struct unit *u)
{
	size_t i, len, bad = 0;

	for (i = 0; i < NCASES; i++) {
		const struct lt_case *c = &lt_cases[i];
		size_t step = 1 + c->table_len / 64;

		for (len = 0; len < c->table_len; len++) {
			uint8_t *t;
			uint32_t off;

			if (len % step && c->table_len - len > 8)
				continue;
			t = malloc(len ? len : 1);
			if (!CHECK(u, t != NULL))
				return;
			if (len)
				memcpy(t, c->table, len);
			for (off = 0; off < c->code_len + 4; off += 2) {
				struct linetable_pos p, whole;
				int err, werr;

				err = linetable_lookup(c->kind, t, len,
						       c->firstlineno, off, &p);
				werr = lookup(c, off, &whole);
				if (!sane(err, &p, c->kind))
					bad++;
				else if (!err && c->kind != LINETABLE_LNOTAB &&
					 (werr || memcmp(&p, &whole, sizeof(p))))
					bad++;
			}
			free(t);
		}
	}
	CHECK_EQ(u, bad, 0);
}

UNIT_SUITE(linetable)
{
	UNIT_RUN(u, t_linetable_real_tables);
	UNIT_RUN(u, t_linetable_past_end);
	UNIT_RUN(u, t_linetable_empty);
	UNIT_RUN(u, t_linetable_lnotab);
	UNIT_RUN(u, t_linetable_310);
	UNIT_RUN(u, t_linetable_locations);
	UNIT_RUN(u, t_linetable_locations_corrupt);
	UNIT_RUN(u, t_linetable_random);
	UNIT_RUN(u, t_linetable_prefixes);
}
