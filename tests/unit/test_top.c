/* test_top.c - the `gilscope top` screen layout, from synthetic
 * aggregates: what it shows, and that it always fits the screen. */
#include "unit.h"
#include "../../src/analyze/agg.h"
#include "../../src/analyze/program.h"
#include "../../src/analyze/verdict.h"
#include "../../src/report/top.h"
#include "../../src/util/strbuf.h"

#include <stdio.h>
#include <string.h>

struct synth_thread {
	int32_t tid;
	const char *name;
	enum gs_state cycle[4];	/* states it goes through, one per sample */
	const char *func, *file;
	int line;
};

/* nsamples instants, 10 ms apart; thread k is in cycle[i % 4] at sample i,
 * holds the GIL when python/native_gil. */
static void fill(struct agg *a, const struct synth_thread *th, size_t n, int nsamples)
{
	struct agg_options o;
	int i;
	size_t k;

	memset(&o, 0, sizeof(o));
	o.mode = AGG_MODE_WALL;
	o.rate_hz = 100;
	agg_init(a, &o);
	for (i = 0; i < nsamples; i++) {
		agg_begin_sample(a, 1000000000ull + (uint64_t)i * 10000000ull, 1, 1, (uint64_t)i);
		for (k = 0; k < n; k++) {
			struct agg_frame_in f = { th[k].func, th[k].file, th[k].line };
			struct agg_thread_in in;

			memset(&in, 0, sizeof(in));
			in.tid = th[k].tid;
			in.name = th[k].name;
			in.state = th[k].cycle[i % 4];
			in.holds_gil = in.state == ST_PYTHON || in.state == ST_NATIVE_GIL;
			in.frames = &f;
			in.nframes = 1;
			in.callee = "";
			agg_add_thread(a, &in);
		}
		agg_end_sample(a);
	}
	agg_finish(a);
}

static const struct synth_thread workers[] = {
	{ 100, "MainThread", { ST_IO, ST_IO, ST_IO, ST_IO }, "<module>", "/app/main.py", 40 },
	{ 101, "worker-1", { ST_PYTHON, ST_GIL_WAIT, ST_PYTHON, ST_GIL_WAIT }, "spin", "/app/w.py", 7 },
	{ 102, "worker-2", { ST_GIL_WAIT, ST_PYTHON, ST_GIL_WAIT, ST_PYTHON }, "spin", "/app/w.py", 7 },
	{ 103, "n\xc5\x93ud-\xce\xbb-\xe7\xb7\x9a", { ST_SLEEP, ST_SLEEP, ST_SLEEP, ST_SLEEP },
	  "attendre", "/app/x.py", 3 },
	{ 104, "bad\x01name\x7f", { ST_LOCK_WAIT, ST_LOCK_WAIT, ST_LOCK_WAIT, ST_LOCK_WAIT },
	  "wait", "/app/y.py", 9 },
};

static const struct top_now now[] = {
	{ 100, ST_IO, 0 }, { 101, ST_PYTHON, 1 }, { 102, ST_GIL_WAIT, 0 },
	{ 103, ST_SLEEP, 0 }, { 104, ST_LOCK_WAIT, 0 },
};

static void info_init(struct top_info *info)
{
	memset(info, 0, sizeof(*info));
	info->pid = 4242;
	info->version = "3.14.7";
	info->gil_enabled = 1;
	info->rate_hz = 100;
	info->now = now;
	info->nnow = sizeof(now) / sizeof(now[0]);
}

/* Every line fits, has no control characters, and its attributes are in
 * range; returns the screen as text. */
static void check_fits(struct unit *u, const struct top_screen *s, struct strbuf *text)
{
	int r;

	for (r = 0; r < s->rows; r++) {
		const struct top_line *l = &s->lines[r];
		size_t i;
		int ok = 1;

		CHECK(u, l->cols <= s->cols);
		CHECK_EQ(u, strlen(l->text), l->len);
		for (i = 0; i < l->len; i++) {
			if ((unsigned char)l->text[i] < 0x20 || l->text[i] == 0x7f ||
			    l->attr[i] >= TA_COUNT)
				ok = 0;
		}
		CHECK(u, ok);
	}
	strbuf_reset(text);
	top_screen_text(s, text);
}

static void t_layout_80x24(struct unit *u)
{
	struct strbuf sb = STRBUF_INIT;
	struct top_screen s;
	struct top_info info;
	struct verdict v;
	struct agg a;
	const char *t;

	fill(&a, workers, 5, 200);
	verdict_decide(&a, &v);
	info_init(&info);
	CHECK_EQ(u, top_screen_init(&s, 80, 24), 0);
	report_top(&s, &info, &a, &v);
	check_fits(u, &s, &sb);
	t = strbuf_str(&sb);
	CHECK(u, strstr(t, "pid 4242") != NULL);
	CHECK(u, strstr(t, "Python 3.14.7") != NULL);
	CHECK(u, strstr(t, "GIL held") != NULL);
	CHECK(u, strstr(t, "Verdict: gil-bound-python") != NULL);
	/* every thread, with its name and its state now */
	CHECK(u, strstr(t, "MainThread") != NULL);
	CHECK(u, strstr(t, "worker-1") != NULL);
	CHECK(u, strstr(t, "worker-2") != NULL);
	CHECK(u, strstr(t, "n\xc5\x93ud-\xce\xbb-\xe7\xb7\x9a") != NULL);
	CHECK(u, strstr(t, "bad?name?") != NULL);	/* controls made harmless */
	CHECK(u, strstr(t, "gil_wait") != NULL);
	CHECK(u, strstr(t, "lock_wait") != NULL);
	/* worker-1: half python, half waiting: a bar of P then W */
	CHECK(u, strstr(t, "PPPPPPPPPPPPPPPPPWWWWWWWWWWWWWWWWW") != NULL ||
		 strstr(t, "PPPPPPPPPPPPPPPPPPWWWWWWWWWWWWWWWWWW") != NULL);
	/* the holder is marked */
	CHECK(u, strstr(t, "python     G ") != NULL);
	/* hottest functions */
	CHECK(u, strstr(t, "spin (w.py:7)") != NULL);
	/* the keys, on the last row */
	CHECK(u, strstr(s.lines[23].text, "q quit") == s.lines[23].text);
	top_screen_release(&s);
	agg_release(&a);
	strbuf_release(&sb);
}

static void t_many_threads(struct unit *u)
{
	struct synth_thread th[60];
	char names[60][16];
	struct strbuf sb = STRBUF_INIT;
	struct top_screen s;
	struct top_info info;
	struct verdict v;
	struct agg a;
	size_t i;

	for (i = 0; i < 60; i++) {
		snprintf(names[i], sizeof(names[i]), "t%zu", i);
		th[i] = workers[1];
		th[i].tid = (int32_t)(1000 - i);	/* shown sorted by tid */
		th[i].name = names[i];
	}
	fill(&a, th, 60, 50);
	verdict_decide(&a, &v);
	info_init(&info);
	CHECK_EQ(u, top_screen_init(&s, 80, 24), 0);
	report_top(&s, &info, &a, &v);
	check_fits(u, &s, &sb);
	CHECK(u, strstr(strbuf_str(&sb), "more threads") != NULL);
	/* lowest tid first: thread t59 (tid 941) */
	CHECK(u, strstr(strbuf_str(&sb), "    941 t59") != NULL);
	CHECK(u, strstr(strbuf_str(&sb), "(gone)") != NULL);	/* not in the latest sample */
	CHECK(u, strstr(s.lines[23].text, "q quit") != NULL);
	top_screen_release(&s);
	agg_release(&a);
	strbuf_release(&sb);
}

static void t_any_size(struct unit *u)
{
	static const int cols[] = { 1, 2, 7, 20, 39, 40, 60, 80, 132, 512, 4000 };
	static const int rows[] = { 1, 2, 3, 4, 8, 12, 24, 50, 300 };
	struct strbuf sb = STRBUF_INIT;
	struct top_info info;
	struct verdict v;
	struct agg a, empty;
	struct agg_options o;
	size_t i, j;

	fill(&a, workers, 5, 20);
	memset(&o, 0, sizeof(o));
	o.rate_hz = 100;
	agg_init(&empty, &o);
	info_init(&info);
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		for (j = 0; j < sizeof(rows) / sizeof(rows[0]); j++) {
			struct top_screen s;

			CHECK_EQ(u, top_screen_init(&s, cols[i], rows[j]), 0);
			CHECK(u, s.cols >= 1 && s.cols <= TOP_MAX_COLS);
			verdict_decide(&a, &v);
			report_top(&s, &info, &a, &v);
			check_fits(u, &s, &sb);
			/* before the first sample */
			verdict_decide(&empty, &v);
			info.message = "process 1 exited";
			report_top(&s, &info, &empty, &v);
			check_fits(u, &s, &sb);
			if (s.rows >= 3 && s.cols >= 30)
				CHECK(u, strstr(strbuf_str(&sb), "collecting samples") != NULL);
			info.message = NULL;
			top_screen_release(&s);
		}
	agg_release(&a);
	agg_release(&empty);
	strbuf_release(&sb);
}

/* A tree: a parent waiting on I/O, two workers spinning, one exited. */
struct tree_fix {
	struct agg a[4];
	struct verdict v[4];
	struct top_proc p[4];
	struct program_proc pp[4];
	struct program_verdict pv;
	struct top_tree t;
	int scroll;
};

static const struct synth_thread parent_th[] = {
	{ 500, "MainThread", { ST_IO, ST_IO, ST_IO, ST_IO }, "wait", "/app/pool.py", 12 },
	{ 503, "Thread-1", { ST_LOCK_WAIT, ST_LOCK_WAIT, ST_LOCK_WAIT, ST_LOCK_WAIT },
	  "handle", "/app/pool.py", 30 },
};
static const struct synth_thread w1_th[] = {
	{ 501, "MainThread", { ST_PYTHON, ST_PYTHON, ST_PYTHON, ST_PYTHON }, "spin", "/app/w.py", 7 },
};
static const struct synth_thread w2_th[] = {
	{ 502, "MainThread", { ST_PYTHON, ST_PYTHON, ST_PYTHON, ST_PYTHON }, "spin", "/app/w.py", 7 },
	{ 504, "feeder", { ST_LOCK_WAIT, ST_LOCK_WAIT, ST_LOCK_WAIT, ST_LOCK_WAIT }, "feed", "/q.py", 2 },
};
static const struct top_now tree_now[] = {
	{ 500, ST_IO, 0 }, { 503, ST_LOCK_WAIT, 0 }, { 501, ST_PYTHON, 1 }, { 502, ST_PYTHON, 1 },
	{ 504, ST_LOCK_WAIT, 0 },
};

static void tree_fill(struct tree_fix *f, size_t nprocs)
{
	static const struct {
		const struct synth_thread *th;
		size_t n;
		int pid, ppid, gone;
		const char *cmd;
	} d[] = {
		{ parent_th, 2, 500, 400, 0, "/usr/bin/python3.14 /app/pool.py --workers 2" },
		{ w1_th, 1, 501, 500, 0, "/usr/bin/python3.14 /app/pool.py --workers 2" },
		{ w2_th, 2, 502, 500, 0, "python3.14 -c from multiprocessing.spawn import x" },
		{ w1_th, 1, 499, 500, 1, "/usr/bin/python3.14 /app/pool.py --workers 2" },
	};
	size_t i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < nprocs; i++) {
		size_t k = i % 4;

		fill(&f->a[k == i ? i : 0], d[k].th, d[k].n, 200);
		verdict_decide(&f->a[i], &f->v[i]);
		f->p[i].pid = d[k].pid;
		f->p[i].ppid = d[k].ppid;
		f->p[i].command = d[k].cmd;
		f->p[i].version = "3.14.7";
		f->p[i].gone = d[k].gone;
		f->p[i].a = &f->a[i];
		f->p[i].v = &f->v[i];
		f->p[i].now = tree_now;
		f->p[i].nnow = sizeof(tree_now) / sizeof(tree_now[0]);
		f->pp[i].pid = d[k].pid;
		f->pp[i].command = d[k].cmd;
		f->pp[i].a = &f->a[i];
		f->pp[i].v = &f->v[i];
	}
	verdict_program(f->pp, nprocs, &f->pv);
	f->t.procs = f->p;
	f->t.n = nprocs;
	f->t.others = 1;
	f->t.pv = &f->pv;
	f->t.scroll = &f->scroll;
}

static void tree_release(struct tree_fix *f)
{
	size_t i;

	for (i = 0; i < 4; i++)
		if (f->p[i].a)
			agg_release(&f->a[i]);
}

/* Index of the row whose text starts with prefix, or -1. */
static int row_of(const struct top_screen *s, const char *prefix)
{
	int r;

	for (r = 0; r < s->rows; r++)
		if (!strncmp(s->lines[r].text, prefix, strlen(prefix)))
			return r;
	return -1;
}

static void t_tree_layout(struct unit *u)
{
	struct strbuf sb = STRBUF_INIT;
	struct tree_fix f;
	struct top_screen s;
	struct top_info info;
	const char *t;
	int r0, r1, r2, r3;

	tree_fill(&f, 4);
	info_init(&info);
	info.pid = 400;
	CHECK_EQ(u, top_screen_init(&s, 132, 40), 0);
	report_top_tree(&s, &info, &f.t);
	check_fits(u, &s, &sb);
	t = strbuf_str(&sb);
	CHECK(u, strstr(t, "tree of pid 400: 4 Python processes (1 exited), Python 3.14.7") != NULL);
	CHECK(u, strstr(t, "not Python 1") != NULL);
	CHECK(u, strstr(t, "not readable") == NULL);
	f.t.unreadable = 2;
	report_top_tree(&s, &info, &f.t);
	check_fits(u, &s, &sb);
	t = strbuf_str(&sb);
	CHECK(u, strstr(t, "not Python 1   not readable 2 (dump -s says why)") != NULL);
	/* two workers each with one busy Python thread, the parent waiting */
	CHECK(u, strstr(t, "Verdict: parallel: ") != NULL);
	/* each process's line, with its figures and its short command, then
	 * its threads, in tid order */
	r0 = row_of(&s, "pid 500 ppid 400 io-bound");
	r1 = row_of(&s, "pid 501 ppid 500 cpu-single");
	r2 = row_of(&s, "pid 502 ppid 500 cpu-single");
	r3 = row_of(&s, "pid 499 ppid 500 exited");
	CHECK(u, r0 > 0 && r1 == r0 + 3 && r2 == r1 + 2 && r3 == r2 + 3);
	if (r0 > 0 && r3 > 0) {
		CHECK(u, strstr(s.lines[r0].text, "busy 1/2  python3.14 pool.py --workers 2") != NULL);
		CHECK(u, strstr(s.lines[r1].text, "GIL held 100% contended 0%  busy 1/1") != NULL);
		CHECK(u, strstr(s.lines[r2].text, "python3.14 -c from multiprocessing") != NULL);
		CHECK(u, strstr(s.lines[r0 + 1].text, "    500 MainThread") != NULL);
		CHECK(u, strstr(s.lines[r0 + 2].text, "    503 Thread-1") != NULL);
		CHECK(u, strstr(s.lines[r2 + 1].text, "    502 MainThread      python     G") != NULL);
		CHECK(u, strstr(s.lines[r2 + 2].text, "    504 feeder") != NULL);
		/* an exited process's threads are gone */
		CHECK(u, strstr(s.lines[r3 + 1].text, "    501 MainThread      (gone)") != NULL);
	}
	/* everything fits: no scrolling, the busiest process's hot functions */
	CHECK_EQ(u, f.scroll, 0);
	CHECK(u, strstr(t, "more rows") == NULL);
	CHECK(u, strstr(t, "Hottest functions of the busiest process") != NULL);
	CHECK(u, strstr(t, "spin (w.py:7)") != NULL);
	top_screen_release(&s);
	tree_release(&f);
	strbuf_release(&sb);
}

static void t_tree_scroll(struct unit *u)
{
	struct strbuf sb = STRBUF_INIT;
	struct tree_fix f;
	struct top_screen s;
	struct top_info info;
	int last;

	tree_fill(&f, 4);	/* 4 + 7 threads = 11 rows of the list */
	info_init(&info);
	CHECK_EQ(u, top_screen_init(&s, 80, 12), 0);
	report_top_tree(&s, &info, &f.t);
	check_fits(u, &s, &sb);
	CHECK(u, strstr(strbuf_str(&sb), "more rows") != NULL);
	CHECK(u, strstr(strbuf_str(&sb), "rows above") == NULL);
	CHECK(u, strstr(s.lines[11].text, "q quit j/k scroll") == s.lines[11].text);
	/* down by two: the first two rows are said to be above */
	f.scroll = 2;
	report_top_tree(&s, &info, &f.t);
	check_fits(u, &s, &sb);
	CHECK(u, strstr(strbuf_str(&sb), "    ... 2 rows above") != NULL);
	CHECK_EQ(u, f.scroll, 2);
	/* past the end: clamped so that the last row is the last thread */
	f.scroll = 1000;
	report_top_tree(&s, &info, &f.t);
	check_fits(u, &s, &sb);
	CHECK(u, f.scroll > 2 && f.scroll < 11);
	CHECK(u, strstr(strbuf_str(&sb), "more rows") == NULL);
	for (last = 10; last > 0 && !s.lines[last].len; last--)
		;
	CHECK(u, strstr(s.lines[last].text, "    501 MainThread") == s.lines[last].text);
	/* and back up */
	f.scroll = -3;
	report_top_tree(&s, &info, &f.t);
	CHECK_EQ(u, f.scroll, 0);
	top_screen_release(&s);
	tree_release(&f);
	strbuf_release(&sb);
}

static void t_tree_any_size(struct unit *u)
{
	static const int cols[] = { 1, 7, 40, 80, 512 };
	static const int rows[] = { 1, 2, 3, 4, 5, 8, 24, 300 };
	struct strbuf sb = STRBUF_INIT;
	struct tree_fix f;
	struct top_info info;
	size_t i, j;
	int sc;

	tree_fill(&f, 4);
	info_init(&info);
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		for (j = 0; j < sizeof(rows) / sizeof(rows[0]); j++)
			for (sc = 0; sc < 12; sc += 3) {
				struct top_screen s;

				CHECK_EQ(u, top_screen_init(&s, cols[i], rows[j]), 0);
				f.scroll = sc;
				f.t.n = 4;
				report_top_tree(&s, &info, &f.t);
				check_fits(u, &s, &sb);
				CHECK(u, f.scroll >= 0 && f.scroll <= sc);
				/* no Python process yet */
				f.t.n = 0;
				report_top_tree(&s, &info, &f.t);
				check_fits(u, &s, &sb);
				if (s.rows >= 3 && s.cols >= 40)
					CHECK(u, strstr(strbuf_str(&sb), "no Python process") != NULL);
				top_screen_release(&s);
			}
	tree_release(&f);
	strbuf_release(&sb);
}

UNIT_SUITE(top)
{
	UNIT_RUN(u, t_tree_layout);
	UNIT_RUN(u, t_tree_scroll);
	UNIT_RUN(u, t_tree_any_size);
	UNIT_RUN(u, t_layout_80x24);
	UNIT_RUN(u, t_many_threads);
	UNIT_RUN(u, t_any_size);
}
