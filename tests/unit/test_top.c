/* test_top.c - the `gilscope top` screen layout, from synthetic
 * aggregates: what it shows, and that it always fits the screen. */
#include "unit.h"
#include "../../src/analyze/agg.h"
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

UNIT_SUITE(top)
{
	UNIT_RUN(u, t_layout_80x24);
	UNIT_RUN(u, t_many_threads);
	UNIT_RUN(u, t_any_size);
}
