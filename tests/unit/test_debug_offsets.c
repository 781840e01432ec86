/*
 * test_debug_offsets.c - parsing and validating _Py_DebugOffsets, on the
 * real tables of 3.13, 3.14 and 3.15 (from the recorded snapshots) and on
 * corrupted copies of them.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cpython/layouts.h"
#include "../../src/cpython/model.h"
#include "../../src/cpython/offsets.h"
#include "../../src/target/reader.h"
#include "../../src/util/error.h"

static const char *corpus(void)
{
	const char *d = getenv("GILSCOPE_CORPUS");

	return d ? d : "tests/corpus/snapshots";
}

/* The first PY_DEBUG_OFFSETS_MAX bytes of _PyRuntime from a snapshot. */
static int load_table(const char *name, uint8_t *out, size_t *len)
{
	char path[512];
	struct reader *r = NULL;
	const char *rt;
	uint64_t addr;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", corpus(), name);
	ret = reader_snapshot_open(path, &r);
	if (ret)
		return ret;
	rt = reader_snapshot_meta(r, "runtime");
	ret = GS_ECORRUPT;
	if (rt) {
		addr = strtoull(rt, NULL, 0);
		*len = PY_DEBUG_OFFSETS_MAX;
		while ((ret = reader_read(r, addr, out, *len)) && *len > 256)
			*len /= 2;
	}
	reader_free(r);
	return ret;
}

struct version_case {
	const char *snap;
	uint32_t minor;
	uint32_t ts_state;	/* known from the headers */
	uint32_t fr_owner;
	int base_frame;		/* tstate->base_frame, right after current_frame */
};

static const struct version_case cases[] = {
	{ "3.13.0.snap", 13, 40, 70, 0 },
	{ "3.14.7.snap", 14, 44, 74, 0 },
	{ "3.15.0rc1.snap", 15, 48, 74, 1 },
};

static void t_debug_offsets_real(struct unit *u)
{
	uint8_t buf[PY_DEBUG_OFFSETS_MAX];
	struct py_offsets o;
	size_t len, i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (load_table(cases[i].snap, buf, &len)) {
			unit_skip(u, "snapshot missing");
			continue;
		}
		CHECK_EQ(u, py_offsets_from_debug(buf, len, &o), 0);
		CHECK_EQ(u, (o.version_hex >> 16) & 0xff, cases[i].minor);
		CHECK_EQ(u, o.free_threaded, 0);
		CHECK_EQ(u, o.ob_type, 8);
		CHECK_EQ(u, o.ts_state, cases[i].ts_state);
		CHECK_EQ(u, o.fr_owner, cases[i].fr_owner);
		/* how a walk knows it reached the thread's entry frame */
		CHECK_EQ(u, o.ts_base_frame, cases[i].base_frame ? o.ts_frame + 8 : OFF_NONE);
		CHECK_EQ(u, o.owner_base, 3);
		CHECK_EQ(u, o.owner_generator, 1);
		CHECK_EQ(u, o.fr_refcnt, OFF_NONE);
		CHECK_EQ(u, o.ts_next, 8);
		CHECK_EQ(u, o.ts_interp, 16);
		CHECK_EQ(u, o.gil_locked, 16);
		CHECK_EQ(u, o.gil_last_holder, 8);
		CHECK_EQ(u, o.uni_ascii_size, 40);
		CHECK(u, o.co_size > o.co_linetable);
	}
}

/* Every single-field corruption is either rejected or still sane; the
 * targeted ones must be rejected. */
static void t_debug_offsets_corrupt(struct unit *u)
{
	uint8_t buf[PY_DEBUG_OFFSETS_MAX], bad[PY_DEBUG_OFFSETS_MAX];
	struct py_offsets o;
	size_t len, i, slot;
	uint64_t v;

	if (load_table("3.14.7.snap", buf, &len)) {
		unit_skip(u, "snapshot missing");
		return;
	}
	/* cookie */
	memcpy(bad, buf, len);
	bad[0] = 'y';
	CHECK_EQ(u, py_offsets_from_debug(bad, len, &o), (uint64_t)GS_ECORRUPT);
	/* a version we do not know: 3.16, and 3.15 before b4 */
	memcpy(bad, buf, len);
	v = 0x031000f0;
	memcpy(bad + 8, &v, 8);
	CHECK_EQ(u, py_offsets_from_debug(bad, len, &o), (uint64_t)GS_EUNSUPPORTED);
	v = 0x030f00a7;
	memcpy(bad + 8, &v, 8);
	CHECK_EQ(u, py_offsets_from_debug(bad, len, &o), (uint64_t)GS_EUNSUPPORTED);
	/* not even Python 3 */
	v = 0x020700f0;
	memcpy(bad + 8, &v, 8);
	CHECK_EQ(u, py_offsets_from_debug(bad, len, &o), (uint64_t)GS_ECORRUPT);
	/* free_threaded must be 0 or 1 */
	memcpy(bad, buf, len);
	v = 7;
	memcpy(bad + 16, &v, 8);
	CHECK_EQ(u, py_offsets_from_debug(bad, len, &o), (uint64_t)GS_ECORRUPT);
	/* truncated table */
	CHECK_EQ(u, py_offsets_from_debug(buf, 200, &o), (uint64_t)GS_ECORRUPT);
	/* 3.14 slots: ts.next (24) misaligned, ob_type (51) not 8,
	 * gil holder (19) moved, threads_head (9) past the struct */
	{
		static const struct { size_t slot; uint64_t val; } bads[] = {
			{ 24, 9 }, { 51, 16 }, { 19, 0 }, { 9, 1u << 30 },
			{ 5, (uint64_t)1 << 40 }, { 26, 3 }, { 40, 1 << 21 },
		};
		for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
			memcpy(bad, buf, len);
			memcpy(bad + bads[i].slot * 8, &bads[i].val, 8);
			if (!CHECK_EQ(u, py_offsets_from_debug(bad, len, &o), (uint64_t)GS_ECORRUPT))
				printf("    slot %zu = %llu accepted\n", bads[i].slot,
				       (unsigned long long)bads[i].val);
		}
	}
	/* the first field that fails is named, with its value and its
	 * struct's size (what info and the error message then say):
	 * thread_state.next (slot 24) far outside thread_state */
	{
		const struct gs_why *w;

		memcpy(bad, buf, len);
		v = 1u << 19;
		memcpy(bad + 24 * 8, &v, 8);
		CHECK_EQ(u, py_offsets_from_debug(bad, len, &o), (uint64_t)GS_ECORRUPT);
		w = gs_why_last();
		CHECK(u, w && strstr(w->why, "_Py_DebugOffsets: thread_state.next=524288 lies "
					    "outside thread_state (size "));
	}
	/* any one slot set to an absurd value: never accepted with an
	 * offset that points outside its struct */
	for (slot = 3; slot < len / 8 && slot < 95; slot++) {
		memcpy(bad, buf, len);
		v = 0xfffffff0ull;
		memcpy(bad + slot * 8, &v, 8);
		if (!py_offsets_from_debug(bad, len, &o)) {
			CHECK(u, o.ts_next < 4096 && o.ts_frame < 4096 && o.fr_back < 4096 &&
				 o.co_name < 4096 && o.uni_length < 4096 && o.is_threads_head < (1u << 20));
		}
	}
}

/* The supported range in messages comes from the tables: the oldest
 * minor with an offset table, the newest with a _Py_DebugOffsets layout,
 * and the first release of a layout that starts mid-series. */
static void t_supported_str(struct unit *u)
{
	char buf[200], want[64];
	uint8_t minors[16];
	uint32_t mins[16];
	size_t n = py_debug_layouts(minors, mins, 16), i;

	py_supported_str(buf, sizeof(buf));
	CHECK(u, n >= 3 && py_offsets_table(0x03090000) && !py_offsets_table(0x03080000));
	snprintf(want, sizeof(want), "CPython 3.9 to 3.%u", (unsigned)minors[n - 1]);
	CHECK(u, strstr(buf, want) == buf);
	for (i = 0; i < n; i++) {
		if (!mins[i])
			continue;
		py_version_str(mins[i], want + 32, 32);
		CHECK(u, strstr(buf, want + 32) != NULL);
	}
	CHECK(u, strstr(buf, "free-threaded") != NULL);
}

/* The one table of layouts: every supported (minor, build) has a row,
 * found by version, and the facts that two parts of a row state about the
 * same struct agree: the object header of the offsets, of the object
 * layouts and of the callables; a free-threaded row reads
 * _Py_DebugOffsets through the same slots as its default build. */
static void t_layout_rows(struct unit *u)
{
	size_t i, n = py_layout_count();
	unsigned minor;

	CHECK(u, n >= 10);
	for (minor = 9; minor <= 15; minor++) {
		uint32_t v = 0x03000000u | minor << 16 | 0xf0;
		const struct py_layout *d = py_layout_find(v, 0), *t = py_layout_find(v, 1);

		if (!CHECK(u, d != NULL))
			continue;
		CHECK_EQ(u, d->minor, minor);
		CHECK_EQ(u, d->ft, 0);
		/* free-threaded builds from 3.13 */
		CHECK_EQ(u, t != NULL, minor >= 13);
		CHECK_EQ(u, d->fixed != NULL, minor <= 12);
		if (t) {
			CHECK_EQ(u, t->ft, 1);
			CHECK_EQ(u, t->do_nslots, d->do_nslots);
			CHECK(u, !memcmp(t->do_slot, d->do_slot, sizeof(d->do_slot)));
			CHECK_EQ(u, t->obj.ob_type, 24);
		}
	}
	CHECK(u, !py_layout_find(0x030800f0, 0) && !py_layout_find(0x031000f0, 0));
	CHECK(u, !py_layout_find(0x030f00a2, 0));	/* an early 3.15 beta's table */
	CHECK(u, py_layout_find(0x030f00c1, 1) != NULL);
	for (i = 0; i < n; i++) {
		const struct py_layout *l = py_layout_at(i);

		if (!CHECK(u, l != NULL))
			continue;
		if (l->fixed)
			CHECK_EQ(u, l->fixed->ob_type, l->obj.ob_type);
		CHECK_EQ(u, l->obj.ob_type, l->ft ? 24 : 8);
		CHECK_EQ(u, l->call.cf_ml, l->obj.ob_type + 8u);
		CHECK_EQ(u, l->call.descr_type, l->obj.ob_type + 8u);
		CHECK(u, l->call.cf_self > l->call.cf_ml && l->call.cf_module > l->call.cf_self);
		CHECK_EQ(u, l->has_gil, l->minor >= 13);
		if (l->has_gil)
			CHECK_EQ(u, l->gil.md_dict, l->obj.md_dict);
		if (!l->fixed)
			CHECK(u, l->do_nslots > 0 && l->do_slot[DO_free_threaded] &&
				 l->do_slot[DO_version]);
	}
	CHECK(u, !py_layout_at(n));
}

UNIT_SUITE(debug_offsets)
{
	UNIT_RUN(u, t_layout_rows);
	UNIT_RUN(u, t_supported_str);
	UNIT_RUN(u, t_debug_offsets_real);
	UNIT_RUN(u, t_debug_offsets_corrupt);
}
