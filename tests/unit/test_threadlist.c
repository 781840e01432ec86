/*
 * test_threadlist.c - thread lists of thousands of thread states
 * (src/cpython/threads.c): a real interpreter's memory (a recorded
 * snapshot) with its thread list replaced by one of N copies of its first
 * thread state, served by an overlay reader. The walk must find all N, in
 * order, with and without the last walk's list as a hint (read ahead in
 * one batch); a loop anywhere, or a list longer than PY_MAX_THREADS, must
 * end the walk, bounded, with what was read.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cpython/model_internal.h"
#include "../../src/target/reader.h"
#include "../../src/util/error.h"

#define ARENA 0x7e1000000000ull	/* no snapshot has memory there */
#define NBIG 10000

/* The snapshot's memory, and above it an arena of thread states; one
 * pointer-sized patch (the interpreter's list head). */
struct overlay {
	struct reader r;
	struct reader *inner;
	uint8_t *arena;
	size_t arena_len;
	uint64_t patch_at, patch_val;
	uint64_t reads;
};

static int ov_read(struct reader *r, uint64_t addr, void *buf, size_t len)
{
	struct overlay *o = (struct overlay *)r;
	int ret;

	o->reads++;
	if (addr >= ARENA && addr - ARENA <= o->arena_len && len <= o->arena_len - (addr - ARENA)) {
		memcpy(buf, o->arena + (addr - ARENA), len);
		return 0;
	}
	if (addr >= ARENA && addr < ARENA + (1ull << 32))
		return GS_EFAULT;
	ret = reader_read(o->inner, addr, buf, len);
	if (!ret && o->patch_at >= addr && o->patch_at + 8 <= addr + len)
		memcpy((uint8_t *)buf + (o->patch_at - addr), &o->patch_val, 8);
	return ret;
}

static void ov_free(struct reader *r)
{
	(void)r;
}

static const struct reader_ops ov_ops = { .read = ov_read, .free = ov_free };

static const char *meta_get(void *ctx, const char *key)
{
	return reader_snapshot_meta((struct reader *)ctx, key);
}

static struct py_thread th[PY_MAX_THREADS + 8];
static uint64_t hint[PY_MAX_THREADS + 8];

/* Slot i of the arena: a copy of `ts` (span bytes at stride), linked to
 * slot i+1 (the last to `last_next`). */
static void build(struct overlay *ov, const struct py_offsets *o, const uint8_t *ts,
		  size_t span, size_t stride, size_t n, uint64_t last_next)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t *p = ov->arena + i * stride;
		uint64_t next = i + 1 < n ? ARENA + (i + 1) * stride : last_next;
		uint64_t prev = i ? ARENA + (i - 1) * stride : 0;

		memcpy(p, ts, span);
		memcpy(p + o->ts_next, &next, 8);
		memcpy(p + o->ts_prev, &prev, 8);
	}
}

static int in_order(size_t n, size_t stride)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (th[i].tstate != ARENA + i * stride)
			return 0;
	return 1;
}

static int one_snapshot(struct unit *u, const char *path)
{
	struct reader *snap = NULL;
	struct overlay ov;
	struct py_location loc;
	struct py_model m;
	uint8_t ts[4096];
	uint64_t interp;
	size_t n = 0, span, stride, big = PY_MAX_THREADS + 4, i;
	int ret;

	if (reader_snapshot_open(path, &snap))
		return 0;
	memset(&ov, 0, sizeof(ov));
	ov.r.ops = &ov_ops;
	ov.inner = snap;
	memset(&m, 0, sizeof(m));
	if (py_location_parse(meta_get, snap, &loc) || py_model_init(&m, &ov.r, &loc)) {
		py_model_release(&m);
		reader_free(snap);
		return 0;
	}
	if (py_model_threads(&m, th, PY_MAX_THREADS, &n, NULL, 0) || !n ||
	    py_model_interp(&m, &interp)) {
		py_model_release(&m);
		reader_free(snap);
		return 0;
	}
	span = tstate_span(&m.off);
	stride = (span + 63) / 64 * 64;
	if (!CHECK(u, span <= sizeof(ts)) || !CHECK_EQ(u, reader_read(snap, th[0].tstate, ts, span), 0))
		goto out;
	ov.arena_len = big * stride;
	ov.arena = calloc(1, ov.arena_len);
	if (!CHECK(u, ov.arena != NULL))
		goto out;
	ov.patch_at = interp + m.off.is_threads_head;
	ov.patch_val = ARENA;

	/* ten thousand threads, walked one by one */
	build(&ov, &m.off, ts, span, stride, NBIG, 0);
	ret = py_model_threads(&m, th, PY_MAX_THREADS, &n, NULL, 0);
	CHECK_EQ(u, ret, 0);
	CHECK_EQ(u, n, NBIG);
	CHECK(u, in_order(n, stride));

	/* ... and with that list as the hint: the same, in far fewer reads
	 * (the overlay has no batched path: each read ahead counts, so
	 * compare with what one walk reads, times two) */
	for (i = 0; i < n; i++)
		hint[i] = th[i].tstate;
	ov.reads = 0;
	ret = py_model_threads_hint(&m, th, PY_MAX_THREADS, &n, NULL, 0, hint, NBIG);
	CHECK_EQ(u, ret, 0);
	CHECK_EQ(u, n, NBIG);
	CHECK(u, in_order(n, stride));
	CHECK(u, ov.reads < 2 * NBIG + 64);

	/* a thread gone from the middle (5000 -> 5002), a new one at the head
	 * (slot NBIG): the hint is stale in two places, the walk right */
	{
		uint64_t skip = ARENA + 5002 * stride, head = ARENA + (uint64_t)NBIG * stride;

		memcpy(ov.arena + 5000 * stride + m.off.ts_next, &skip, 8);
		build(&ov, &m.off, ts, span, stride, NBIG, 0);
		memcpy(ov.arena + 5000 * stride + m.off.ts_next, &skip, 8);
		memcpy(ov.arena + (size_t)NBIG * stride, ts, span);
		{
			uint64_t next = ARENA, zero = 0;

			memcpy(ov.arena + (size_t)NBIG * stride + m.off.ts_next, &next, 8);
			memcpy(ov.arena + (size_t)NBIG * stride + m.off.ts_prev, &zero, 8);
		}
		ov.patch_val = head;
		ret = py_model_threads_hint(&m, th, PY_MAX_THREADS, &n, NULL, 0, hint, NBIG);
		CHECK_EQ(u, ret, 0);
		CHECK_EQ(u, n, NBIG);
		CHECK_EQ(u, th[0].tstate, head);
		CHECK_EQ(u, th[5001].tstate, ARENA + 5000 * stride);
		CHECK_EQ(u, th[5002].tstate, ARENA + 5002 * stride);
		CHECK_EQ(u, th[n - 1].tstate, ARENA + (NBIG - 1) * stride);
		ov.patch_val = ARENA;
	}

	/* the last leads back into the middle: every thread once, then the
	 * walk ends, with or without the hint */
	build(&ov, &m.off, ts, span, stride, NBIG, ARENA + 4321 * stride);
	ret = py_model_threads(&m, th, PY_MAX_THREADS, &n, NULL, 0);
	CHECK_EQ(u, ret, GS_ECORRUPT);
	CHECK_EQ(u, n, NBIG);
	CHECK(u, in_order(n, stride));
	ret = py_model_threads_hint(&m, th, PY_MAX_THREADS, &n, NULL, 0, hint, NBIG);
	CHECK_EQ(u, ret, GS_ECORRUPT);
	CHECK_EQ(u, n, NBIG);

	/* longer than any list may be: cut at PY_MAX_THREADS */
	build(&ov, &m.off, ts, span, stride, big, 0);
	ret = py_model_threads(&m, th, PY_MAX_THREADS + 8, &n, NULL, 0);
	CHECK_EQ(u, ret, GS_ECORRUPT);
	CHECK_EQ(u, n, PY_MAX_THREADS);
	/* ... or at the caller's room */
	ret = py_model_threads(&m, th, 100, &n, NULL, 0);
	CHECK_EQ(u, ret, GS_ERANGE);
	CHECK_EQ(u, n, 100);
out:
	free(ov.arena);
	py_model_release(&m);
	reader_free(snap);
	return 1;
}

static void t_threadlist_thousands(struct unit *u)
{
	/* the oldest and the newest layouts, a free-threaded one between */
	static const char *const snaps[] = { "3.9.18.snap", "3.13.0.snap", "3.14.7t-gil0.snap",
					     "3.15.0rc1.snap" };
	const char *dir = getenv("GILSCOPE_CORPUS");
	char path[1024];
	size_t i;
	int walked = 0;

	for (i = 0; i < sizeof(snaps) / sizeof(snaps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/corpus/snapshots", snaps[i]);
		walked += one_snapshot(u, path);
	}
	if (!walked)
		unit_skip(u, "no snapshot in tests/corpus/snapshots");
	else
		CHECK_EQ(u, walked, sizeof(snaps) / sizeof(snaps[0]));
}

UNIT_SUITE(threadlist)
{
	UNIT_RUN(u, t_threadlist_thousands);
}
