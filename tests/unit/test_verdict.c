/* test_verdict.c - the verdict rules on synthetic aggregates. */
#include "unit.h"
#include "../../src/analyze/verdict.h"

#include <string.h>

/* n samples of one thread with the given state counts (in %) */
static void thread(struct agg *a, int32_t tid, const int pct[ST_COUNT], int gil_hold_pct)
{
	struct agg_frame_in f = { "work", "/app/w.py", 3 };
	int s, k, i = 0;

	for (s = 0; s < ST_COUNT; s++) {
		for (k = 0; k < pct[s]; k++, i++) {
			struct agg_thread_in t = { tid, "t", (enum gs_state)s,
						   i < gil_hold_pct, &f, 1, NULL, 0, 0, 0, 0, NULL };

			agg_add_thread(a, &t);
		}
	}
}

static enum verdict_kind decide(int nthreads, const int pct[][ST_COUNT], int ft_off)
{
	struct agg a;
	struct agg_options o = { AGG_MODE_WALL, 0, 0, 100 };
	struct verdict v;
	int i;

	agg_init(&a, &o);
	agg_begin_sample(&a, 1, 1, !ft_off, 0);
	for (i = 0; i < nthreads; i++)
		thread(&a, i + 1, pct[i], 0);
	agg_end_sample(&a);
	a.free_threaded = ft_off;
	a.gil_enabled = !ft_off;
	agg_finish(&a);
	verdict_decide(&a, &v);
	agg_release(&a);
	return v.kind;
}

/*                        py  ngil nat  gw  io  sl  lk  ot */
static const int IDLE[ST_COUNT] = { 0, 0, 0, 0, 0, 90, 10, 0 };
static const int PY[ST_COUNT] = { 25, 0, 0, 75, 0, 0, 0, 0 };
static const int NGIL[ST_COUNT] = { 5, 20, 0, 75, 0, 0, 0, 0 };
static const int NAT[ST_COUNT] = { 2, 0, 98, 0, 0, 0, 0, 0 };
static const int IO[ST_COUNT] = { 5, 0, 0, 0, 95, 0, 0, 0 };
static const int SOLO[ST_COUNT] = { 97, 0, 3, 0, 0, 0, 0, 0 };
static const int PARKED_IO[ST_COUNT] = { 0, 0, 0, 0, 100, 0, 0, 0 };

static void t_verdict_rules(struct unit *u)
{
	int rows[4][ST_COUNT];
	int i;

	for (i = 0; i < 2; i++)
		memcpy(rows[i], IDLE, sizeof(IDLE));
	CHECK_EQ(u, decide(2, (const int (*)[ST_COUNT])rows, 0), V_IDLE);
	for (i = 0; i < 4; i++)
		memcpy(rows[i], PY, sizeof(PY));
	CHECK_EQ(u, decide(4, (const int (*)[ST_COUNT])rows, 0), V_GIL_BOUND_PYTHON);
	for (i = 0; i < 4; i++)
		memcpy(rows[i], NGIL, sizeof(NGIL));
	CHECK_EQ(u, decide(4, (const int (*)[ST_COUNT])rows, 0), V_GIL_BOUND_NATIVE);
	for (i = 0; i < 4; i++)
		memcpy(rows[i], NAT, sizeof(NAT));
	CHECK_EQ(u, decide(4, (const int (*)[ST_COUNT])rows, 0), V_NATIVE_RELEASED);
	for (i = 0; i < 4; i++)
		memcpy(rows[i], IO, sizeof(IO));
	CHECK_EQ(u, decide(4, (const int (*)[ST_COUNT])rows, 0), V_IO_BOUND);
	memcpy(rows[0], SOLO, sizeof(SOLO));
	memcpy(rows[1], IDLE, sizeof(IDLE));
	CHECK_EQ(u, decide(2, (const int (*)[ST_COUNT])rows, 0), V_CPU_SINGLE);
	/* two native workers next to two threads parked in read(): the
	 * workers decide, not the parked threads */
	memcpy(rows[0], NAT, sizeof(NAT));
	memcpy(rows[1], NAT, sizeof(NAT));
	memcpy(rows[2], PARKED_IO, sizeof(PARKED_IO));
	memcpy(rows[3], PARKED_IO, sizeof(PARKED_IO));
	CHECK_EQ(u, decide(4, (const int (*)[ST_COUNT])rows, 0), V_NATIVE_RELEASED);
	/* the same Python threads on a free-threaded build with the GIL off */
	for (i = 0; i < 4; i++)
		memcpy(rows[i], SOLO, sizeof(SOLO));
	CHECK_EQ(u, decide(4, (const int (*)[ST_COUNT])rows, 1), V_PARALLEL);
	/* and with the GIL: four threads all on CPU, no waiting = mixed */
	CHECK_EQ(u, decide(4, (const int (*)[ST_COUNT])rows, 0), V_MIXED);
}

static void t_verdict_names(struct unit *u)
{
	CHECK_STREQ(u, verdict_kind_name(V_GIL_BOUND_NATIVE), "gil-bound-native");
	CHECK_STREQ(u, verdict_kind_name(V_PARALLEL), "parallel");
	CHECK_STREQ(u, verdict_kind_name((enum verdict_kind)99), "mixed");
}

UNIT_SUITE(verdict)
{
	UNIT_RUN(u, t_verdict_rules);
	UNIT_RUN(u, t_verdict_names);
}
