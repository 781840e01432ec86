/*
 * test_tree.c - one aggregate fed with the threads of several processes
 * (record --subprocesses): the tree root -> process -> thread -> frames,
 * threads known by (pid, tid), and how each record renderer shows the
 * process.
 *
 * The profile: 10 instants at 100 Hz, each process sampled at each one.
 *   pid 100 "python a.py":  MainThread (100)  python, holds   main work
 *                           io-thread (101)   io              main wait
 *   pid 200 "python b.py":  MainThread (200)  python, holds   main spin
 *   pid 300 "python c.py":  reuse (100)       sleep           (no frames);
 *                           the tid of a thread of pid 100: another thread
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "minidoc.h"
#include "../../src/report/chrometrace.h"
#include "../../src/report/collapsed.h"
#include "../../src/report/flamegraph.h"
#include "../../src/report/speedscope.h"
#include "../../src/report/stacks_json.h"

#define N 10

static void feed(struct agg *a, int32_t pid, const char *cmd, int32_t tid,
		 const char *name, enum gs_state st, const struct agg_frame_in *f, size_t nf)
{
	struct agg_thread_in in;

	memset(&in, 0, sizeof(in));
	in.tid = tid;
	in.name = name;
	in.state = st;
	in.holds_gil = st == ST_PYTHON;
	in.frames = f;
	in.nframes = nf;
	in.pid = pid;
	in.process = cmd;
	agg_add_thread(a, &in);
}

static int tree_agg(struct agg *a)
{
	static const struct agg_frame_in work[] = { { "work", "a.py", 2 }, { "main", "a.py", 1 } };
	static const struct agg_frame_in wait[] = { { "wait", "a.py", 3 }, { "main", "a.py", 1 } };
	static const struct agg_frame_in spin[] = { { "spin", "b.py", 5 }, { "main", "b.py", 1 } };
	struct agg_options opt = { .rate_hz = 100, .state_leaves = 1, .timeline = 1 };
	uint64_t t;
	int i;

	if (agg_init(a, &opt))
		return -1;
	for (i = 0; i < N; i++) {
		t = 1000000000ull + (uint64_t)i * 10000000ull;
		agg_begin_sample(a, t, 1, 1, (uint64_t)i);
		feed(a, 100, "python a.py", 100, "MainThread", ST_PYTHON, work, 2);
		feed(a, 100, "python a.py", 101, "io-thread", ST_IO, wait, 2);
		agg_end_sample(a);
		agg_begin_sample(a, t + 1000, 1, 1, (uint64_t)i);
		feed(a, 200, "python b.py", 200, "MainThread", ST_PYTHON, spin, 2);
		agg_end_sample(a);
		agg_begin_sample(a, t + 2000, 1, 1, (uint64_t)i);
		feed(a, 300, "python c.py", 100, "reuse", ST_SLEEP, NULL, 0);
		agg_end_sample(a);
	}
	agg_finish(a);
	return 0;
}

static const struct agg_thread *thread(const struct agg *a, int32_t pid, int32_t tid)
{
	size_t i;

	for (i = 0; i < a->nthreads; i++)
		if (a->threads[i].pid == pid && a->threads[i].tid == tid)
			return &a->threads[i];
	return NULL;
}

static void t_tree_agg(struct unit *u)
{
	const struct agg_thread *a100, *c100, *b200;
	struct agg a;

	CHECK_EQ(u, tree_agg(&a), 0);
	CHECK_EQ(u, a.nthreads, 4);
	CHECK_EQ(u, a.nprocesses, 3);
	a100 = thread(&a, 100, 100);
	c100 = thread(&a, 300, 100);
	b200 = thread(&a, 200, 200);
	CHECK(u, a100 && c100 && b200);
	if (!a100 || !c100 || !b200)
		goto out;
	/* the same tid in two processes: two threads, two roots */
	CHECK(u, a100->root != c100->root);
	CHECK(u, a100->proc != c100->proc);
	CHECK_EQ(u, c100->states[ST_SLEEP], N);
	CHECK_EQ(u, a100->states[ST_PYTHON], N);
	/* root -> process -> thread; a process counts its threads' samples */
	CHECK_EQ(u, a.nodes[a100->root].parent, a100->proc);
	CHECK_EQ(u, a.nodes[a100->proc].parent, 0);
	CHECK_EQ(u, a.frames[a.nodes[a100->proc].frame].kind, AGG_FRAME_PROCESS);
	CHECK_EQ(u, a.frames[a.nodes[a100->proc].frame].line, 100);
	CHECK_STREQ(u, agg_str(&a, a.frames[a.nodes[a100->proc].frame].func), "python a.py");
	CHECK_EQ(u, a.nodes[a100->proc].total, 2 * N);
	CHECK_EQ(u, a.nodes[b200->proc].total, N);
	CHECK_EQ(u, a.nodes[0].total, 4 * N);
	/* a restate finds the thread by (pid, tid) */
	CHECK_EQ(u, agg_restate(&a, 300, 100, 2, 1000000000ull, ST_SLEEP, ST_IO, ""), 0);
	CHECK_EQ(u, c100->states[ST_IO], 2);
	CHECK_EQ(u, a100->states[ST_IO], 0);
out:
	agg_release(&a);
}

static void t_tree_collapsed(struct unit *u)
{
	static const char want[] =
		"pid 100: python a.py;MainThread (tid 100);main (a.py:1);work (a.py:2) 10\n"
		"pid 100: python a.py;io-thread (tid 101);main (a.py:1);wait (a.py:3);"
		"[blocked in I/O] 10\n"
		"pid 200: python b.py;MainThread (tid 200);main (b.py:1);spin (b.py:5) 10\n"
		"pid 300: python c.py;reuse (tid 100);[sleeping] 10\n";
	struct strbuf sb = STRBUF_INIT;
	struct agg a;

	CHECK_EQ(u, tree_agg(&a), 0);
	CHECK_EQ(u, report_collapsed(&sb, &a, NULL), 0);
	CHECK_STREQ(u, strbuf_str(&sb), want);
	strbuf_release(&sb);
	agg_release(&a);
}

static void t_tree_speedscope(struct unit *u)
{
	static const char *const names[] = {
		"pid 100: python a.py / MainThread (tid 100)",
		"pid 100: python a.py / io-thread (tid 101)",
		"pid 200: python b.py / MainThread (tid 200)",
		"pid 300: python c.py / reuse (tid 100)",
	};
	struct strbuf sb = STRBUF_INIT;
	struct json doc;
	const struct json *profs;
	char err[256];
	struct agg a;
	size_t i, k;

	CHECK_EQ(u, tree_agg(&a), 0);
	CHECK_EQ(u, report_speedscope(&sb, &a, NULL), 0);
	CHECK_EQ(u, json_parse(strbuf_str(&sb), sb.len, &doc, err, sizeof(err)), 0);
	profs = json_get(&doc, "profiles");
	CHECK(u, profs && profs->type == JSON_ARRAY && profs->n == 4);
	for (k = 0; profs && k < 4; k++) {
		int found = 0;

		for (i = 0; i < profs->n; i++) {
			const char *nm = json_get_str(&profs->items[i], "name");

			found += nm && !strcmp(nm, names[k]);
		}
		CHECK_EQ(u, found, 1);
	}
	json_free(&doc);
	strbuf_release(&sb);
	agg_release(&a);
}

/* Each process's events under its own pid, each with its process_name and
 * its own GIL holder track. */
static void t_tree_chrometrace(struct unit *u)
{
	struct chrometrace_options opt = { .pid = 4242, .process_name = "unused" };
	struct strbuf sb = STRBUF_INIT;
	const struct json *ev;
	struct json doc;
	char err[256];
	struct agg a;
	size_t i;
	int procname[3] = { 0 }, gil[3] = { 0 }, spans[3] = { 0 }, other = 0;

	CHECK_EQ(u, tree_agg(&a), 0);
	CHECK_EQ(u, report_chrometrace(&sb, &a, &opt), 0);
	CHECK_EQ(u, json_parse(strbuf_str(&sb), sb.len, &doc, err, sizeof(err)), 0);
	ev = json_get(&doc, "traceEvents");
	CHECK(u, ev && ev->type == JSON_ARRAY);
	for (i = 0; ev && i < ev->n; i++) {
		const struct json *e = &ev->items[i], *pid = json_get(e, "pid");
		const struct json *tid = json_get(e, "tid"), *args = json_get(e, "args");
		const char *ph = json_get_str(e, "ph"), *name = json_get_str(e, "name");
		const char *cat = json_get_str(e, "cat");
		int p = pid ? (int)pid->number : 0, k = p == 100 ? 0 : p == 200 ? 1 : p == 300 ? 2 : -1;

		if (k < 0) {
			other++;
			continue;
		}
		if (!strcmp(ph, "M") && !strcmp(name, "process_name")) {
			const char *pn = args ? json_get_str(args, "name") : NULL;

			CHECK_STREQ(u, pn, k == 0 ? "python a.py" : k == 1 ? "python b.py" :
				    "python c.py");
			procname[k]++;
		} else if (!strcmp(ph, "X") && cat && !strcmp(cat, "gil")) {
			CHECK_EQ(u, (int)tid->number, CHROMETRACE_GIL_TID);
			gil[k]++;
		} else if (!strcmp(ph, "X")) {
			/* pid 300's thread 100 is not pid 100's */
			CHECK(u, k != 2 || !strcmp(name, "sleep"));
			CHECK(u, k != 0 || (int)tid->number != 100 || !strcmp(name, "python"));
			spans[k]++;
		}
	}
	CHECK_EQ(u, other, 0);
	for (i = 0; i < 3; i++) {
		CHECK_EQ(u, procname[i], 1);
		CHECK(u, spans[i] > 0);
	}
	/* a GIL track in the processes whose threads held their GIL */
	CHECK_EQ(u, gil[0], 1);
	CHECK_EQ(u, gil[1], 1);
	CHECK_EQ(u, gil[2], 0);
	json_free(&doc);
	strbuf_release(&sb);
	agg_release(&a);
}

static void t_tree_stacks_json(struct unit *u)
{
	struct strbuf sb = STRBUF_INIT;
	struct json doc;
	char err[256];
	struct agg a;
	size_t i, j, spin = 0;

	CHECK_EQ(u, tree_agg(&a), 0);
	report_stacks_json(&sb, &a);
	CHECK_EQ(u, json_parse(strbuf_str(&sb), sb.len, &doc, err, sizeof(err)), 0);
	CHECK(u, doc.type == JSON_ARRAY && doc.n == 4);
	for (i = 0; i < doc.n; i++) {
		const struct json *s = &doc.items[i], *pid = json_get(s, "pid");
		const struct json *tid = json_get(s, "tid"), *fr = json_get(s, "frames");
		const char *proc = json_get_str(s, "process");

		CHECK(u, pid && proc && tid && fr);
		if (!pid || !proc || !tid || !fr)
			continue;
		CHECK_STREQ(u, proc, pid->number == 100 ? "python a.py" :
			    pid->number == 200 ? "python b.py" : "python c.py");
		/* frames hold neither the process nor the thread */
		for (j = 0; j < fr->n; j++) {
			const char *kind = json_get_str(&fr->items[j], "kind");

			CHECK(u, kind && strcmp(kind, "process") && strcmp(kind, "thread"));
			if (pid->number == 200 && (int)tid->number == 200 &&
			    !strcmp(json_get_str(&fr->items[j], "function"), "spin"))
				spin++;
		}
	}
	CHECK_EQ(u, spin, 1);
	json_free(&doc);
	strbuf_release(&sb);
	agg_release(&a);
}

static void t_tree_flamegraph(struct unit *u)
{
	struct strbuf sb = STRBUF_INIT;
	char err[256];
	struct agg a;

	CHECK_EQ(u, tree_agg(&a), 0);
	CHECK_EQ(u, report_flamegraph(&sb, &a, NULL), 0);
	CHECK_EQ(u, xml_check(strbuf_str(&sb), sb.len, NULL, NULL, err, sizeof(err)), 0);
	CHECK(u, strstr(strbuf_str(&sb), "<title>pid 100: python a.py\n"));
	CHECK(u, strstr(strbuf_str(&sb), "<title>pid 300: python c.py\n"));
	CHECK(u, strstr(strbuf_str(&sb), "30 samples of 4 threads in 3 processes"));
	/* samples: each process's instants (run_tree_session sets the
	 * program's); several GILs: no one figure for them */
	CHECK(u, !strstr(strbuf_str(&sb), "GIL held"));
	strbuf_release(&sb);
	agg_release(&a);
}

UNIT_SUITE(tree)
{
	UNIT_RUN(u, t_tree_agg);
	UNIT_RUN(u, t_tree_collapsed);
	UNIT_RUN(u, t_tree_speedscope);
	UNIT_RUN(u, t_tree_chrometrace);
	UNIT_RUN(u, t_tree_stacks_json);
	UNIT_RUN(u, t_tree_flamegraph);
}
