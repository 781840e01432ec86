/* test_agg.c - folding synthetic samples into aggregates. */
#include "unit.h"
#include "../../src/analyze/agg.h"

#include <stdio.h>
#include <string.h>

static void add(struct agg *a, int32_t tid, const char *name, enum gs_state st, int gil,
		const char *inner, int line)
{
	struct agg_frame_in f[3] = {
		{ inner, "/app/work.py", line },
		{ "Worker.run", "/app/work.py", 5 },
		{ "<module>", "/app/main.py", 1 },
	};
	struct agg_thread_in t = { tid, name, st, gil, f, 3, NULL, 0, 0, 0, 0, NULL };

	agg_add_thread(a, &t);
}

static void t_agg_counts(struct unit *u)
{
	struct agg a;
	struct agg_options o = { AGG_MODE_WALL, 1, 1, 100 };
	uint32_t hot[4];
	size_t n;
	int i;

	CHECK_EQ(u, agg_init(&a, &o), 0);
	/* 10 ms apart: thread 1 holds the GIL 6 samples of 10, thread 2
	 * waits whenever 1 holds */
	for (i = 0; i < 10; i++) {
		int hold = i < 6;

		agg_begin_sample(&a, 1000000000ull + (uint64_t)i * 10000000ull, 1, 1, 100 + (uint64_t)i);
		add(&a, 1, "w1", hold ? ST_PYTHON : ST_SLEEP, hold, "compute", 12);
		add(&a, 2, "w2", hold ? ST_GIL_WAIT : ST_PYTHON, !hold, "compute", 13);
		agg_end_sample(&a);
	}
	agg_finish(&a);
	CHECK_EQ(u, a.samples, 10);
	CHECK_EQ(u, a.nthreads, 2);
	CHECK_EQ(u, a.threads[0].states[ST_PYTHON], 6);
	CHECK_EQ(u, a.threads[0].states[ST_SLEEP], 4);
	CHECK_EQ(u, a.threads[1].states[ST_GIL_WAIT], 6);
	CHECK_EQ(u, a.gil_held, 10);
	CHECK_EQ(u, a.gil_contended, 6);
	CHECK_EQ(u, a.switch_last - a.switch_first, 9);
	/* one hold stretch of 60 ms for thread 1, one wait of 60 ms for 2 */
	CHECK_EQ(u, a.threads[0].hold.count, 1);
	CHECK_EQ(u, agg_stretch_pct(&a.threads[0].hold, 50), 60000000);
	CHECK_EQ(u, a.threads[1].wait.count, 1);
	CHECK_EQ(u, a.threads[1].wait.max, 60000000);
	/* thread 2 holds from sample 6 to the end: 40 ms */
	CHECK_EQ(u, a.threads[1].hold.max, 40000000);
	/* tree: root total = 20 thread-samples */
	CHECK_EQ(u, a.nodes[0].total, 20);
	CHECK_EQ(u, a.nodes[a.threads[0].root].total, 10);
	/* hot frames in gil_wait: compute@13 only */
	n = agg_hot_frames(&a, ST_GIL_WAIT, hot, 4);
	CHECK_EQ(u, n, 1);
	CHECK_STREQ(u, agg_str(&a, a.frames[hot[0]].func), "compute");
	CHECK_EQ(u, a.frames[hot[0]].line, 13);
	n = agg_hot_frames(&a, ST_PYTHON, hot, 4);
	CHECK_EQ(u, n, 2);
	CHECK_EQ(u, a.frames[hot[0]].line, 12);	/* 6 samples beat 4 */
	/* spans: thread 1 is python then sleep: two spans */
	CHECK_EQ(u, a.threads[0].nspans, 2);
	CHECK_EQ(u, a.threads[0].spans[0].t0, 0);
	CHECK_EQ(u, a.threads[0].spans[0].t1, 60000000);
	CHECK_EQ(u, a.threads[0].spans[1].t1, 100000000);
	agg_release(&a);
}

static void t_agg_modes(struct unit *u)
{
	struct agg a;
	struct agg_options o = { AGG_MODE_GIL, 0, 0, 1000 };

	CHECK_EQ(u, agg_init(&a, &o), 0);
	agg_begin_sample(&a, 5, 1, 1, 0);
	add(&a, 1, "a", ST_PYTHON, 1, "f", 1);
	add(&a, 2, "b", ST_GIL_WAIT, 0, "g", 2);
	add(&a, 3, "c", ST_NATIVE, 0, "h", 3);
	agg_end_sample(&a);
	agg_finish(&a);
	/* only the holder is in the tree; all three are counted */
	CHECK_EQ(u, a.nodes[0].total, 1);
	CHECK_EQ(u, a.thread_samples, 3);
	agg_release(&a);

	o.mode = AGG_MODE_CPU;
	CHECK_EQ(u, agg_init(&a, &o), 0);
	agg_begin_sample(&a, 5, 1, 1, 0);
	add(&a, 1, "a", ST_PYTHON, 1, "f", 1);
	add(&a, 2, "b", ST_GIL_WAIT, 0, "g", 2);
	add(&a, 3, "c", ST_NATIVE, 0, "h", 3);
	agg_end_sample(&a);
	CHECK_EQ(u, a.nodes[0].total, 2);
	agg_release(&a);
}

static void t_agg_leaves_and_interning(struct unit *u)
{
	struct agg a;
	struct agg_options o = { AGG_MODE_WALL, 1, 0, 100 };
	uint32_t before;
	int i;

	CHECK_EQ(u, agg_init(&a, &o), 0);
	for (i = 0; i < 1000; i++) {
		agg_begin_sample(&a, (uint64_t)i, 1, 1, 0);
		add(&a, 7, "t", ST_GIL_WAIT, 0, "f", 1);
		agg_end_sample(&a);
		if (i == 0)
			before = a.nnodes;
	}
	/* the same stack again and again: no new nodes, strings or frames */
	CHECK_EQ(u, a.nnodes, before);
	/* root, thread, 3 frames, the [waiting for the GIL] leaf */
	CHECK_EQ(u, a.nnodes, 6);
	CHECK_EQ(u, a.frames[a.nodes[5].frame].kind, AGG_FRAME_STATE);
	CHECK_STREQ(u, agg_str(&a, a.frames[a.nodes[5].frame].func), "[waiting for the GIL]");
	CHECK_EQ(u, a.nodes[5].self, 1000);
	agg_release(&a);
}

/* A pseudo-random run of samples: 4 threads, stacks from a small set,
 * states and callees varying. With keys, a thread's key changes exactly
 * when its stack does (and, now and then, also when it does not). */
static void keyed_run(struct agg *a, int keyed, enum agg_mode mode)
{
	static const char *const funcs[] = { "a", "b", "c", "d" };
	struct agg_options o = { mode, 1, 1, 1000 };
	uint32_t rnd = 12345;
	uint64_t key[4] = { 0, 0, 0, 0 }, next_key = 1;
	int stack[4] = { -1, -1, -1, -1 };
	int i, th;

	agg_init(a, &o);
	for (i = 0; i < 3000; i++) {
		agg_begin_sample(a, 1000000000ull + (uint64_t)i * 1000000ull, 1, 1, (uint64_t)i);
		for (th = 0; th < 4; th++) {
			struct agg_frame_in f[4];
			struct agg_thread_in t;
			int k, depth, st;

			rnd = rnd * 1103515245u + 12345u;
			if ((rnd >> 16) % 5 == 0 || stack[th] < 0) {
				stack[th] = (int)((rnd >> 8) % 12);
				key[th] = next_key++;
			} else if ((rnd >> 20) % 7 == 0) {
				key[th] = next_key++;	/* same stack, a new key: allowed */
			}
			depth = 1 + stack[th] % 4;
			for (k = 0; k < depth; k++) {
				f[k].func = funcs[(stack[th] + k) % 4];
				f[k].file = "/app/x.py";
				f[k].line = 10 + stack[th] + k;
			}
			st = (int)((rnd >> 12) % ST_COUNT);
			memset(&t, 0, sizeof(t));
			t.tid = 100 + th;
			t.name = "t";
			t.state = (enum gs_state)st;
			t.holds_gil = st == ST_PYTHON || st == ST_NATIVE_GIL;
			t.frames = f;
			t.nframes = (size_t)depth;
			t.callee = st == ST_NATIVE_GIL ? "math.factorial" : "";
			t.stack_key = keyed ? key[th] : 0;
			agg_add_thread(a, &t);
		}
		agg_end_sample(a);
	}
	agg_finish(a);
}

/* Stack keys only save work: the aggregates come out the same. */
static void t_agg_stack_keys(struct unit *u)
{
	static const enum agg_mode modes[] = { AGG_MODE_WALL, AGG_MODE_CPU, AGG_MODE_GIL };
	size_t m, i;
	int s;

	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		struct agg x, y;

		keyed_run(&x, 0, modes[m]);
		keyed_run(&y, 1, modes[m]);
		CHECK_EQ(u, x.nnodes, y.nnodes);
		CHECK_EQ(u, x.nframes, y.nframes);
		CHECK_EQ(u, x.thread_samples, y.thread_samples);
		for (i = 0; i < x.nnodes && i < y.nnodes; i++) {
			CHECK_EQ(u, x.nodes[i].frame, y.nodes[i].frame);
			CHECK_EQ(u, x.nodes[i].parent, y.nodes[i].parent);
			CHECK_EQ(u, x.nodes[i].total, y.nodes[i].total);
			CHECK_EQ(u, x.nodes[i].self, y.nodes[i].self);
			for (s = 0; s < ST_COUNT; s++)
				CHECK_EQ(u, x.nodes[i].state_total[s], y.nodes[i].state_total[s]);
		}
		for (i = 0; i < x.nframes && i < y.nframes; i++)
			for (s = 0; s < ST_COUNT; s++)
				CHECK_EQ(u, x.frames[i].self[s], y.frames[i].self[s]);
		for (i = 0; i < x.nthreads && i < y.nthreads; i++)
			CHECK_EQ(u, x.threads[i].nspans, y.threads[i].nspans);
		agg_release(&x);
		agg_release(&y);
	}
}

/* A node's frames from the root down, as text. */
static void node_path(const struct agg *a, uint32_t node, char *out, size_t len)
{
	char tmp[256];

	out[0] = '\0';
	while (node != 0 && node != AGG_NONE && node < a->nnodes) {
		snprintf(tmp, sizeof(tmp), "%s/%s", agg_str(a, a->frames[a->nodes[node].frame].func),
			 out);
		snprintf(out, len, "%s", tmp);
		node = a->nodes[node].parent;
	}
}

/* Thread 1 at one stack for 4 samples: either in `to` throughout (direct),
 * or counted in `from` for 3 and moved with agg_restate() at the 4th. */
static void restate_run(struct agg *a, int restate, enum gs_state from, enum gs_state to,
			int gil)
{
	struct agg_options o = { AGG_MODE_WALL, 1, 1, 100 };
	struct agg_frame_in f[2] = {
		{ "work", "/app/work.py", 11 },
		{ "<module>", "/app/main.py", 1 },
	};
	struct agg_thread_in t = { 1, "w1", to, gil, f, 2, "int.__mul__", 42, 0, 0, 0, NULL };
	int i;

	agg_init(a, &o);
	for (i = 0; i < 4; i++) {
		uint64_t ns = 1000000000ull + (uint64_t)i * 10000000ull;

		agg_begin_sample(a, ns, 1, 1, 7);
		if (restate && i < 3) {
			t.state = from;
			t.callee = "";
		} else {
			t.state = to;
			t.callee = "int.__mul__";
		}
		if (restate && i == 3)
			agg_restate(a, 0, 1, 3, 1000000000ull, from, to, "int.__mul__");
		agg_add_thread(a, &t);
		agg_end_sample(a);
	}
	agg_finish(a);
}

/* Moving samples after the fact (the GIL shows only later that a hold was
 * C code, or that a thread on CPU without it stayed there) leaves the same
 * aggregates as if they had been counted right at once. */
static void t_agg_restate(struct unit *u)
{
	static const struct { enum gs_state from, to; int gil; } cases[] = {
		{ ST_PYTHON, ST_NATIVE_GIL, 1 },
		{ ST_GIL_WAIT, ST_NATIVE, 0 },
	};
	size_t c, i;
	int s;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct agg x, y;

		restate_run(&x, 1, cases[c].from, cases[c].to, cases[c].gil);
		restate_run(&y, 0, cases[c].from, cases[c].to, cases[c].gil);
		CHECK_EQ(u, x.threads[0].states[cases[c].to], 4);
		CHECK_EQ(u, x.threads[0].states[cases[c].from], 0);
		CHECK_EQ(u, x.threads[0].wait.count, y.threads[0].wait.count);
		/* the same tree, node for node by path; the leaf the samples
		 * left stays behind, empty */
		for (i = 0; i < x.nnodes; i++) {
			char px[256], py[256];
			size_t j;

			node_path(&x, (uint32_t)i, px, sizeof(px));
			for (j = 0; j < y.nnodes; j++) {
				node_path(&y, (uint32_t)j, py, sizeof(py));
				if (!strcmp(px, py))
					break;
			}
			if (j == y.nnodes) {
				CHECK_EQ(u, x.nodes[i].total, 0);
				continue;
			}
			CHECK_EQ(u, x.nodes[i].total, y.nodes[j].total);
			CHECK_EQ(u, x.nodes[i].self, y.nodes[j].self);
			for (s = 0; s < ST_COUNT; s++)
				CHECK_EQ(u, x.nodes[i].state_total[s], y.nodes[j].state_total[s]);
		}
		for (i = 0; i < x.nframes; i++) {
			size_t j;

			for (j = 0; j < y.nframes; j++)
				if (!strcmp(agg_str(&x, x.frames[i].func), agg_str(&y, y.frames[j].func)) &&
				    x.frames[i].kind == y.frames[j].kind)
					break;
			for (s = 0; s < ST_COUNT; s++)
				CHECK_EQ(u, x.frames[i].self[s], j < y.nframes ? y.frames[j].self[s] : 0);
		}
		CHECK_EQ(u, x.threads[0].nspans, 1);
		CHECK_EQ(u, y.threads[0].nspans, 1);
		CHECK_EQ(u, x.threads[0].spans[0].state, cases[c].to);
		{
			char px[256], py[256];

			node_path(&x, x.threads[0].spans[0].leaf, px, sizeof(px));
			node_path(&y, y.threads[0].spans[0].leaf, py, sizeof(py));
			CHECK_STREQ(u, px, py);
		}
		/* more than was counted: refused, nothing moved */
		CHECK(u, agg_restate(&x, 0, 1, 9, 1000000000ull, cases[c].to, cases[c].from, "") < 0);
		CHECK_EQ(u, x.threads[0].states[cases[c].to], 4);
		agg_release(&x);
		agg_release(&y);
	}
}

UNIT_SUITE(agg)
{
	UNIT_RUN(u, t_agg_restate);
	UNIT_RUN(u, t_agg_stack_keys);
	UNIT_RUN(u, t_agg_counts);
	UNIT_RUN(u, t_agg_modes);
	UNIT_RUN(u, t_agg_leaves_and_interning);
}
