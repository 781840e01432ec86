/*
 * test_render.c - the record renderers (collapsed stacks, speedscope,
 * Chrome trace, SVG flame graph) over the synthetic profile of synth.h,
 * read back with the strict checkers of minidoc.h.
 */
#include "unit.h"
#include "minidoc.h"
#include "synth.h"
#include "../../src/report/chrometrace.h"
#include "../../src/report/collapsed.h"
#include "../../src/report/flamegraph.h"
#include "../../src/report/speedscope.h"
#include "../../src/report/stacks_json.h"
#include "../../src/util/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAIN "MainThread (tid 100)"
#define WORKER "worker-\xce\xbb (tid 101)"
#define ODD "a&b \"q\" <x> (tid 102)"
#define IDLE "idle-python (tid 103)"
#define FFFD "\xef\xbf\xbd"
/* the lock_wait stack of the ODD thread, as collapsed writes it */
#define ODD_STACK "a&b (we_ird name.py:1);semi_colon (x.py:2);bad" FFFD FFFD "utf8 \xc3\xa9 (q\"uote's.py:3)"

/* ------------------------------------------------------------ helpers */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits text into lines (modifies it); returns how many. */
static size_t split_lines(char *text, char **lines, size_t max)
{
	size_t n = 0;
	char *p = text, *nl;

	while (*p && n < max) {
		nl = strchr(p, '\n');
		lines[n++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return n;
}

/* The deep io stack of the worker, as collapsed writes it. */
static void deep_line(struct strbuf *sb, int with_thread)
{
	int i;

	if (with_thread)
		strbuf_addstr(sb, WORKER ";");
	for (i = 0; i < SYNTH_DEEP; i++)
		strbuf_addf(sb, "%sdeep_%d (deep.py:%d)", i ? ";" : "", i, i + 1);
	strbuf_addstr(sb, ";[blocked in I/O] 6");
}

/* Compares the output's lines to the expected ones, as sets. */
static void check_lines(struct unit *u, const char *out, const char **expect, size_t nexp)
{
	char *copy = strdup(out);
	char *got[128];
	char **want = calloc(nexp + 1, sizeof(*want));
	size_t n, i;

	if (!CHECK(u, copy && want)) {
		free(copy);
		free(want);
		return;
	}
	n = split_lines(copy, got, 128);
	for (i = 0; i < nexp; i++)
		want[i] = (char *)expect[i];
	qsort(got, n, sizeof(*got), cmp_str);
	qsort(want, nexp, sizeof(*want), cmp_str);
	CHECK_EQ(u, n, nexp);
	for (i = 0; i < n && i < nexp; i++)
		CHECK_STREQ(u, got[i], want[i]);
	free(copy);
	free(want);
}

/* Sum of the counts ending each line. */
static unsigned long long sum_counts(const char *out, size_t *nlines)
{
	unsigned long long sum = 0;
	const char *p = out;

	*nlines = 0;
	while (*p) {
		const char *nl = strchr(p, '\n'), *sp;

		if (!nl)
			break;
		for (sp = nl; sp > p && sp[-1] != ' '; sp--)
			;
		sum += strtoull(sp, NULL, 10);
		(*nlines)++;
		p = nl + 1;
	}
	return sum;
}

/* ---------------------------------------------------------- collapsed */

static void t_collapsed_exact(struct unit *u)
{
	struct agg a;
	struct strbuf sb = STRBUF_INIT, deep = STRBUF_INIT;
	const char *expect[12];
	size_t n = 0, nlines;

	if (!CHECK_EQ(u, synth_agg(&a, 1, 0, 1), 0))
		return;
	deep_line(&deep, 1);
	expect[n++] = MAIN ";<module> (main.py:10);run (main.py:20);<lambda> (main.py:5) 6";
	expect[n++] = MAIN ";<module> (main.py:10);run (main.py:21);[waiting for the GIL] 4";
	expect[n++] = MAIN ";<module> (main.py:10);run (main.py:20);compute (calc.py:7);"
		      "[native code, holding the GIL] 5";
	expect[n++] = MAIN ";<module> (main.py:10);read (/usr/lib/python3.12/io.py:9);[blocked in I/O] 5";
	expect[n++] = strbuf_str(&deep);
	expect[n++] = WORKER ";deep_0 (deep.py:1);deep_1 (deep.py:2) 4";
	expect[n++] = WORKER ";deep_0 (deep.py:1);crunch (c.py:3);[native code, GIL released] 5";
	expect[n++] = ODD ";" ODD_STACK ";[waiting for a lock] 10";
	expect[n++] = ODD ";[sleeping] 10";
	expect[n++] = IDLE " 3";
	expect[n++] = IDLE ";wait (idle.py:1);[other] 2";

	CHECK_EQ(u, report_collapsed(&sb, &a, NULL), 0);
	check_lines(u, strbuf_str(&sb), expect, n);
	CHECK_EQ(u, sum_counts(strbuf_str(&sb), &nlines), SYNTH_THREAD_SAMPLES);
	CHECK_EQ(u, sum_counts(strbuf_str(&sb), &nlines), a.nodes[0].total);
	/* every line is "stack count": no stray newline from the file name */
	CHECK_EQ(u, nlines, n);
	strbuf_release(&sb);
	strbuf_release(&deep);
	agg_release(&a);
}

static void t_collapsed_options(struct unit *u)
{
	struct collapsed_options opt = { .no_threads = 1, .no_state_leaves = 1 };
	struct agg a;
	struct strbuf sb = STRBUF_INIT;
	const char *expect[12];
	size_t n = 0, nlines;

	if (!CHECK_EQ(u, synth_agg(&a, 1, 0, 1), 0))
		return;
	/* without threads and state leaves: the two no-frame stacks (sleep of
	 * ODD, python of IDLE) merge into one line; state samples go up */
	expect[n++] = "<module> (main.py:10);run (main.py:20);<lambda> (main.py:5) 6";
	expect[n++] = "<module> (main.py:10);run (main.py:21) 4";
	expect[n++] = "<module> (main.py:10);run (main.py:20);compute (calc.py:7) 5";
	expect[n++] = "<module> (main.py:10);read (/usr/lib/python3.12/io.py:9) 5";
	expect[n++] = "deep_0 (deep.py:1);deep_1 (deep.py:2) 4";
	expect[n++] = "deep_0 (deep.py:1);crunch (c.py:3) 5";
	expect[n++] = ODD_STACK " 10";
	expect[n++] = "[no Python frames] 13";
	expect[n++] = "wait (idle.py:1) 2";
	CHECK_EQ(u, report_collapsed(&sb, &a, &opt), 0);
	/* the deep line: checked by prefix and count */
	{
		const char *p = strstr(strbuf_str(&sb), "deep_0 (deep.py:1);deep_1 (deep.py:2);deep_2");

		CHECK(u, p != NULL);
		CHECK(u, p && strstr(p, "deep_39 (deep.py:40) 6\n") != NULL);
		CHECK(u, strstr(strbuf_str(&sb), "I/O") == NULL);
	}
	CHECK_EQ(u, sum_counts(strbuf_str(&sb), &nlines), SYNTH_THREAD_SAMPLES);
	CHECK_EQ(u, nlines, n + 1);
	{
		/* drop the deep line and compare the rest exactly */
		struct strbuf rest = STRBUF_INIT;
		const char *p = strbuf_str(&sb);

		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);

			if (strncmp(p, "deep_0 (deep.py:1);deep_1 (deep.py:2);", 38))
				strbuf_add(&rest, p, len);
			p += len;
		}
		check_lines(u, strbuf_str(&rest), expect, n);
		strbuf_release(&rest);
	}

	/* threads kept, state leaves dropped: sleeping ODD stays as its root */
	strbuf_reset(&sb);
	opt.no_threads = 0;
	CHECK_EQ(u, report_collapsed(&sb, &a, &opt), 0);
	CHECK(u, strstr(strbuf_str(&sb), "\n" ODD " 10\n") != NULL);
	CHECK(u, strstr(strbuf_str(&sb), "\n" IDLE " 3\n") != NULL);
	CHECK_EQ(u, sum_counts(strbuf_str(&sb), &nlines), SYNTH_THREAD_SAMPLES);
	strbuf_release(&sb);
	agg_release(&a);
}

static void t_collapsed_empty(struct unit *u)
{
	struct agg_options opt = { .rate_hz = 100 };
	struct agg a;
	struct strbuf sb = STRBUF_INIT;

	if (!CHECK_EQ(u, agg_init(&a, &opt), 0))
		return;
	agg_finish(&a);
	CHECK_EQ(u, report_collapsed(&sb, &a, NULL), 0);
	CHECK_STREQ(u, strbuf_str(&sb), "");
	strbuf_release(&sb);
	agg_release(&a);
}

/* --------------------------------------------------------- speedscope */

/* "name;name;..." of one sample, from the shared frames. */
static void sample_names(struct strbuf *sb, const struct json *frames, const struct json *stack)
{
	size_t i;

	for (i = 0; i < stack->n; i++) {
		size_t idx = (size_t)stack->items[i].number;
		const char *name = idx < frames->n ? json_get_str(&frames->items[idx], "name") : NULL;

		strbuf_addf(sb, "%s%s", i ? ";" : "", name ? name : "?");
	}
}

/* Looks for a sample with these names and weight in a profile. */
static int has_sample(const struct json *frames, const struct json *prof, const char *names,
		      double weight)
{
	const struct json *samples = json_get(prof, "samples"), *weights = json_get(prof, "weights");
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int found = 0;

	for (i = 0; samples && weights && i < samples->n && i < weights->n; i++) {
		strbuf_reset(&sb);
		sample_names(&sb, frames, &samples->items[i]);
		if (!strcmp(strbuf_str(&sb), names) &&
		    fabs(weights->items[i].number - weight) < 1e-9)
			found = 1;
	}
	strbuf_release(&sb);
	return found;
}

static const struct json *profile_named(const struct json *doc, const char *name)
{
	const struct json *profs = json_get(doc, "profiles");
	size_t i;

	for (i = 0; profs && i < profs->n; i++) {
		const char *n = json_get_str(&profs->items[i], "name");

		if (n && !strcmp(n, name))
			return &profs->items[i];
	}
	return NULL;
}

static void t_speedscope(struct unit *u)
{
	static const struct { const char *name; unsigned samples; } want[] = {
		{ MAIN, 20 }, { WORKER, 15 }, { "a&b \"q\" <x> (tid 102)", 20 }, { IDLE, 5 },
	};
	struct agg a;
	struct strbuf sb = STRBUF_INIT, deep = STRBUF_INIT;
	struct json doc;
	const struct json *frames, *profs, *v;
	char err[200];
	size_t i, j;
	int d;

	if (!CHECK_EQ(u, synth_agg(&a, 1, 0, 1), 0))
		return;
	CHECK_EQ(u, report_speedscope(&sb, &a, NULL), 0);
	if (!CHECK_EQ(u, json_parse(sb.buf, sb.len, &doc, err, sizeof(err)), 0)) {
		printf("  json: %s\n", err);
		goto out;
	}
	CHECK_STREQ(u, json_get_str(&doc, "$schema"),
		    "https://www.speedscope.app/file-format-schema.json");
	CHECK_STREQ(u, json_get_str(&doc, "exporter"), "gilscope");
	frames = json_get(json_get(&doc, "shared"), "frames");
	profs = json_get(&doc, "profiles");
	if (!CHECK(u, frames && frames->type == JSON_ARRAY && profs && profs->type == JSON_ARRAY))
		goto out_doc;
	/* one frame per distinct Python frame or state label used, never a thread */
	for (i = 0; i < frames->n; i++) {
		const char *name = json_get_str(&frames->items[i], "name");

		CHECK(u, name != NULL);
		CHECK(u, name && !strstr(name, "(tid "));
	}
	CHECK_EQ(u, frames->n, 11 + SYNTH_DEEP + 7);
	CHECK_EQ(u, profs->n, 4);
	v = json_get(&doc, "activeProfileIndex");
	CHECK(u, v && v->type == JSON_NUMBER && v->number == 0);	/* MainThread: first of the busiest */
	for (i = 0; i < profs->n; i++) {
		const struct json *p = &profs->items[i];
		const struct json *samples = json_get(p, "samples"), *weights = json_get(p, "weights");
		double sum = 0;

		CHECK_STREQ(u, json_get_str(p, "type"), "sampled");
		CHECK_STREQ(u, json_get_str(p, "unit"), "seconds");
		CHECK_STREQ(u, json_get_str(p, "name"), want[i].name);
		if (!CHECK(u, samples && weights && samples->n == weights->n))
			continue;
		for (j = 0; j < samples->n; j++) {
			size_t k;

			for (k = 0; k < samples->items[j].n; k++)
				CHECK(u, samples->items[j].items[k].number < (double)frames->n);
			CHECK(u, weights->items[j].number > 0);
			sum += weights->items[j].number;
		}
		CHECK(u, fabs(sum - want[i].samples / (double)SYNTH_RATE_HZ) < 1e-9);
		v = json_get(p, "endValue");
		CHECK(u, v && fabs(v->number - sum) < 1e-9);
		v = json_get(p, "startValue");
		CHECK(u, v && v->number == 0);
	}
	/* some stacks, outermost first; the state leaf is the innermost frame */
	CHECK(u, has_sample(frames, profile_named(&doc, MAIN),
			    "<module>;run;<lambda>", 0.06));
	CHECK(u, has_sample(frames, profile_named(&doc, MAIN),
			    "<module>;run;[waiting for the GIL]", 0.04));
	CHECK(u, has_sample(frames, profile_named(&doc, ODD),
			    "a&b;semi;colon;bad" FFFD FFFD "utf8 \xc3\xa9;[waiting for a lock]", 0.1));
	CHECK(u, has_sample(frames, profile_named(&doc, ODD), "[sleeping]", 0.1));
	/* a thread sampled with no frames at all: an empty stack */
	CHECK(u, has_sample(frames, profile_named(&doc, IDLE), "", 0.03));
	for (d = 0; d < SYNTH_DEEP; d++)
		strbuf_addf(&deep, "deep_%d;", d);
	strbuf_addstr(&deep, "[blocked in I/O]");
	CHECK(u, has_sample(frames, profile_named(&doc, WORKER), strbuf_str(&deep), 0.06));
	/* frames keep file and line */
	for (i = 0; i < frames->n; i++) {
		const struct json *f = &frames->items[i];

		if (strcmp(json_get_str(f, "name") ? json_get_str(f, "name") : "", "a&b"))
			continue;
		CHECK_STREQ(u, json_get_str(f, "file"), "we;ird\nname.py");
		v = json_get(f, "line");
		CHECK(u, v && v->number == 1);
	}
out_doc:
	json_free(&doc);
out:
	strbuf_release(&sb);
	strbuf_release(&deep);
	agg_release(&a);
}

static void t_speedscope_options(struct unit *u)
{
	struct speedscope_options opt = { .counts = 1, .no_state_leaves = 1, .name = "x\"y" };
	struct agg a;
	struct strbuf sb = STRBUF_INIT;
	struct json doc;
	const struct json *frames, *profs;
	char err[200];
	size_t i, j;

	if (!CHECK_EQ(u, synth_agg(&a, 1, 0, 1), 0))
		return;
	CHECK_EQ(u, report_speedscope(&sb, &a, &opt), 0);
	if (!CHECK_EQ(u, json_parse(sb.buf, sb.len, &doc, err, sizeof(err)), 0)) {
		printf("  json: %s\n", err);
		goto out;
	}
	CHECK_STREQ(u, json_get_str(&doc, "name"), "x\"y");
	frames = json_get(json_get(&doc, "shared"), "frames");
	profs = json_get(&doc, "profiles");
	if (!CHECK(u, frames && profs && profs->n == 4))
		goto out_doc;
	for (i = 0; i < profs->n; i++) {
		const struct json *w = json_get(&profs->items[i], "weights");
		double sum = 0;

		CHECK_STREQ(u, json_get_str(&profs->items[i], "unit"), "none");
		for (j = 0; w && j < w->n; j++) {
			CHECK(u, w->items[j].number == floor(w->items[j].number));
			sum += w->items[j].number;
		}
		CHECK(u, sum == (i == 0 || i == 2 ? 20 : i == 1 ? 15 : 5));
	}
	/* state samples count for the frame above; a lone state leaf stays */
	CHECK(u, has_sample(frames, profile_named(&doc, MAIN), "<module>;run", 4));
	CHECK(u, has_sample(frames, profile_named(&doc, ODD), "[sleeping]", 10));
	CHECK(u, !has_sample(frames, profile_named(&doc, MAIN), "<module>;run;[waiting for the GIL]", 4));
out_doc:
	json_free(&doc);
out:
	strbuf_release(&sb);
	agg_release(&a);
}

/* -------------------------------------------------------- chrometrace */

struct span_want {
	int tid;
	const char *name;
	unsigned ts_ms, dur_ms;
	const char *function;	/* NULL: no function arg */
};

static const struct json *find_event(const struct json *evs, const char *ph, int tid,
				     double ts, const char *cat)
{
	size_t i;

	for (i = 0; i < evs->n; i++) {
		const struct json *e = &evs->items[i], *t = json_get(e, "tid"), *s = json_get(e, "ts");
		const char *p = json_get_str(e, "ph"), *c = json_get_str(e, "cat");

		if (p && !strcmp(p, ph) && t && t->number == tid && s && fabs(s->number - ts) < 1e-6 &&
		    c && !strcmp(c, cat))
			return e;
	}
	return NULL;
}

static void t_chrometrace(struct unit *u)
{
	static const struct span_want spans[] = {
		{ 100, "python", 0, 60, "<lambda>" },
		{ 100, "gil_wait", 60, 40, "run" },
		{ 100, "native_gil", 100, 50, "compute" },
		{ 100, "io", 150, 50, "read" },
		{ 101, "io", 0, 60, "deep_39" },
		{ 101, "python", 60, 40, "deep_1" },
		{ 101, "native", 100, 50, "crunch" },
		{ 102, "lock_wait", 0, 100, "bad" FFFD FFFD "utf8 \xc3\xa9" },
		{ 102, "sleep", 100, 100, NULL },
		{ 103, "python", 150, 30, NULL },
		{ 103, "other", 180, 20, "wait" },
	};
	static const struct { const char *holder; unsigned ts_ms, dur_ms; int tid; } holds[] = {
		{ MAIN, 0, 60, 100 }, { WORKER, 60, 40, 101 }, { MAIN, 100, 50, 100 },
		{ IDLE, 150, 30, 103 },
	};
	struct chrometrace_options opt = { .pid = 4242, .process_name = "python3 app.py" };
	struct agg a;
	struct strbuf sb = STRBUF_INIT;
	struct json doc;
	const struct json *evs, *e;
	char err[200];
	size_t i, nx = 0, ngil = 0, nmeta = 0;
	int saw_gil_name = 0, saw_proc = 0;

	if (!CHECK_EQ(u, synth_agg(&a, 1, 1, 1), 0))
		return;
	CHECK_EQ(u, report_chrometrace(&sb, &a, &opt), 0);
	if (!CHECK_EQ(u, json_parse(sb.buf, sb.len, &doc, err, sizeof(err)), 0)) {
		printf("  json: %s\n", err);
		goto out;
	}
	CHECK_STREQ(u, json_get_str(&doc, "displayTimeUnit"), "ms");
	evs = json_get(&doc, "traceEvents");
	if (!CHECK(u, evs && evs->type == JSON_ARRAY))
		goto out_doc;
	for (i = 0; i < evs->n; i++) {
		const char *ph = json_get_str(&evs->items[i], "ph");
		const char *name = json_get_str(&evs->items[i], "name");
		const struct json *pid = json_get(&evs->items[i], "pid");
		const struct json *args = json_get(&evs->items[i], "args");

		CHECK(u, pid && pid->number == 4242);
		if (!CHECK(u, ph && name))
			continue;
		if (!strcmp(ph, "X")) {
			const char *cat = json_get_str(&evs->items[i], "cat");

			nx++;
			if (cat && !strcmp(cat, "gil"))
				ngil++;
			CHECK(u, json_get(&evs->items[i], "dur") != NULL);
		} else if (!strcmp(ph, "M")) {
			nmeta++;
			if (!strcmp(name, "process_name"))
				saw_proc = !strcmp(json_get_str(args, "name") ? json_get_str(args, "name") : "",
						   "python3 app.py");
			if (!strcmp(name, "thread_name") &&
			    json_get(&evs->items[i], "tid")->number == CHROMETRACE_GIL_TID)
				saw_gil_name = !strcmp(json_get_str(args, "name"), "GIL holder");
		} else {
			CHECK(u, !"unexpected phase");
		}
	}
	CHECK(u, saw_proc);
	CHECK(u, saw_gil_name);
	CHECK_EQ(u, nmeta, 1 + 2 * 5);	/* process; name + sort index for 4 threads and the GIL */
	CHECK_EQ(u, nx, sizeof(spans) / sizeof(spans[0]) + sizeof(holds) / sizeof(holds[0]));
	CHECK_EQ(u, ngil, sizeof(holds) / sizeof(holds[0]));
	for (i = 0; i < sizeof(spans) / sizeof(spans[0]); i++) {
		const struct span_want *w = &spans[i];
		const struct json *args, *dur;

		e = find_event(evs, "X", w->tid, w->ts_ms * 1000.0, "state");
		if (!CHECK(u, e != NULL)) {
			printf("  missing span %d %s at %u ms\n", w->tid, w->name, w->ts_ms);
			continue;
		}
		CHECK_STREQ(u, json_get_str(e, "name"), w->name);
		dur = json_get(e, "dur");
		CHECK(u, dur && fabs(dur->number - w->dur_ms * 1000.0) < 1e-6);
		args = json_get(e, "args");
		if (w->function)
			CHECK_STREQ(u, json_get_str(args, "function"), w->function);
		else
			CHECK(u, json_get(args, "function") == NULL);
		CHECK(u, json_get(args, "holds_gil") != NULL);
	}
	for (i = 0; i < sizeof(holds) / sizeof(holds[0]); i++) {
		const struct json *dur, *tid;

		e = find_event(evs, "X", CHROMETRACE_GIL_TID, holds[i].ts_ms * 1000.0, "gil");
		if (!CHECK(u, e != NULL))
			continue;
		CHECK_STREQ(u, json_get_str(e, "name"), holds[i].holder);
		dur = json_get(e, "dur");
		CHECK(u, dur && fabs(dur->number - holds[i].dur_ms * 1000.0) < 1e-6);
		tid = json_get(json_get(e, "args"), "tid");
		CHECK(u, tid && tid->number == holds[i].tid);
	}
out_doc:
	json_free(&doc);
out:
	strbuf_release(&sb);
	agg_release(&a);
}

/* Two threads both reported as holding the GIL (a torn sample): the GIL
 * track must still never overlap itself. */
static void t_chrometrace_gil_overlap(struct unit *u)
{
	struct agg_options aopt = { .timeline = 1, .rate_hz = 100 };
	struct agg a;
	struct strbuf sb = STRBUF_INIT;
	struct json doc;
	const struct json *evs;
	char err[200];
	double end = -1;
	size_t i, ngil = 0;
	int k;

	if (!CHECK_EQ(u, agg_init(&a, &aopt), 0))
		return;
	for (k = 0; k < 6; k++) {
		struct agg_thread_in t1 = { .tid = 1, .name = "one", .state = ST_PYTHON,
					    .holds_gil = k < 4 };
		struct agg_thread_in t2 = { .tid = 2, .name = "two", .state = ST_PYTHON,
					    .holds_gil = k >= 2 };

		agg_begin_sample(&a, 5000000000ull + (uint64_t)k * 10000000ull, 1, 1, 0);
		agg_add_thread(&a, &t1);
		agg_add_thread(&a, &t2);
		agg_end_sample(&a);
	}
	agg_finish(&a);
	CHECK_EQ(u, report_chrometrace(&sb, &a, NULL), 0);
	if (!CHECK_EQ(u, json_parse(sb.buf, sb.len, &doc, err, sizeof(err)), 0)) {
		printf("  json: %s\n", err);
		goto out;
	}
	evs = json_get(&doc, "traceEvents");
	for (i = 0; evs && i < evs->n; i++) {
		const struct json *e = &evs->items[i];
		const char *cat = json_get_str(e, "cat");
		double ts, dur;

		if (!cat || strcmp(cat, "gil"))
			continue;
		ngil++;
		ts = json_get(e, "ts")->number;
		dur = json_get(e, "dur")->number;
		CHECK(u, dur > 0);
		CHECK(u, ts >= end);
		end = ts + dur;
	}
	CHECK_EQ(u, ngil, 2);	/* one: 0-40 ms, then two: 40-60 ms */
	CHECK(u, fabs(end - 60000) < 1e-6);
	json_free(&doc);
out:
	strbuf_release(&sb);
	agg_release(&a);
}

/* --------------------------------------------------------- flamegraph */

struct svg_count {
	size_t rects, frames, texts, svg, scripts;
};

static void count_elem(void *ctx, const char *name, size_t len, const char *attrs, size_t alen)
{
	struct svg_count *c = ctx;

	if (len == 4 && !memcmp(name, "rect", 4))
		c->rects++;
	else if (len == 4 && !memcmp(name, "text", 4))
		c->texts++;
	else if (len == 3 && !memcmp(name, "svg", 3))
		c->svg++;
	else if (len == 6 && !memcmp(name, "script", 6))
		c->scripts++;
	else if (len == 1 && name[0] == 'g' && alen >= 10 && memmem(attrs, alen, "class=\"f\"", 9))
		c->frames++;
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
		n++;
	return n;
}

/* The fill of the rect of the first frame whose tooltip starts with label. */
static int frame_fill(const char *svg, const char *label, int rgb[3])
{
	struct strbuf key = STRBUF_INIT;
	const char *p;
	int ok;

	strbuf_addf(&key, "<title>%s\n", label);
	p = strstr(svg, strbuf_str(&key));
	strbuf_release(&key);
	if (!p || !(p = strstr(p, "fill=\"rgb(")))
		return 0;
	ok = sscanf(p, "fill=\"rgb(%d,%d,%d)", &rgb[0], &rgb[1], &rgb[2]) == 3;
	return ok;
}

static int near_color(const int rgb[3], const char *hex)
{
	int i;

	for (i = 0; i < 3; i++) {
		unsigned c;

		if (sscanf(hex + 1 + 2 * i, "%2x", &c) != 1 || abs(rgb[i] - (int)c) > 12)
			return 0;
	}
	return 1;
}

static void t_flamegraph(struct unit *u)
{
	struct flamegraph_options opt = { .title = "t<i>tle & \"more\"" };
	struct agg a;
	struct strbuf sb = STRBUF_INIT;
	struct svg_count c = { 0 };
	char err[200];
	int rgb[3];
	const char *svg;

	if (!CHECK_EQ(u, synth_agg(&a, 1, 0, 1), 0))
		return;
	CHECK_EQ(u, report_flamegraph(&sb, &a, &opt), 0);
	svg = strbuf_str(&sb);
	if (!CHECK_EQ(u, xml_check(sb.buf, sb.len, count_elem, &c, err, sizeof(err)), 0))
		printf("  xml: %s\n", err);
	CHECK_EQ(u, c.svg, 1);
	CHECK_EQ(u, c.scripts, 1);
	/* every tree node is wide enough here: one frame, one rect each, plus
	 * the background and one legend swatch per state */
	CHECK_EQ(u, c.frames, a.nnodes);
	CHECK_EQ(u, c.rects, a.nnodes + 1 + ST_COUNT);
	CHECK(u, strstr(svg, "<![CDATA[") != NULL);
	CHECK(u, strstr(svg, ">t&lt;i&gt;tle &amp; &quot;more&quot;</text>") != NULL);
	CHECK(u, strstr(svg, "<title>all\n60 samples (100.00%)\n") != NULL);
	CHECK(u, strstr(svg, "<title>a&amp;b &quot;q&quot; &lt;x&gt; (tid 102)\n20 samples (33.33%)\n"
			"sleep 10 (50.0%), lock_wait 10 (50.0%)</title>") != NULL);
	/* newline in a file name becomes a space; bad bytes U+FFFD */
	CHECK(u, strstr(svg, "<title>a&amp;b (we;ird name.py:1)\n10 samples (16.67%)\n") != NULL);
	CHECK(u, strstr(svg, "bad" FFFD FFFD "utf8 \xc3\xa9 (q&quot;uote&apos;s.py:3)") != NULL);
	CHECK(u, strstr(svg, "<lambda>") == NULL);
	CHECK(u, strstr(svg, "<title>&lt;lambda&gt; (main.py:5)\n6 samples (10.00%), self 6\n"
			"python 6 (100.0%)</title>") != NULL);
	/* colours: state leaves by their state, frames by their dominant state */
	CHECK(u, frame_fill(svg, "[waiting for the GIL]", rgb) &&
	      near_color(rgb, gs_state_info(ST_GIL_WAIT)->color));
	CHECK(u, frame_fill(svg, "[blocked in I/O]", rgb) && near_color(rgb, gs_state_info(ST_IO)->color));
	CHECK(u, frame_fill(svg, "&lt;lambda&gt; (main.py:5)", rgb) &&
	      near_color(rgb, gs_state_info(ST_PYTHON)->color));
	CHECK(u, frame_fill(svg, "crunch (c.py:3)", rgb) &&
	      near_color(rgb, gs_state_info(ST_NATIVE)->color));
	CHECK(u, frame_fill(svg, "compute (calc.py:7)", rgb) &&
	      near_color(rgb, gs_state_info(ST_NATIVE_GIL)->color));
	CHECK(u, frame_fill(svg, "a&amp;b (we;ird name.py:1)", rgb) &&
	      near_color(rgb, gs_state_info(ST_LOCK_WAIT)->color));
	/* the legend names every state */
	CHECK(u, strstr(svg, ">gil_wait 6.7%</text>") != NULL);
	CHECK(u, strstr(svg, ">python 21.7%</text>") != NULL);
	/* the subtitle has the totals */
	CHECK(u, strstr(svg, "20 samples of 4 threads over 0.20 s at 100 Hz (wall clock); "
			"GIL held 90.0%, contended 20.0%") != NULL);
	/* text is cut to fit, on character boundaries: deep_* are 118 px wide,
	 * room for 15 characters; <module> is wide enough for its whole label */
	CHECK(u, strstr(svg, ">deep_10 (deep..</text>") != NULL);
	CHECK(u, strstr(svg, ">&lt;module&gt; (main.py:10)</text>") != NULL);
	strbuf_release(&sb);
	agg_release(&a);
}

/* Frames with a directory in their file show the base name, the tooltip
 * the whole path. */
static void t_flamegraph_paths(struct unit *u)
{
	static const struct agg_frame_in fr[] = {	/* innermost first */
		{ "_call", "<frozen importlib._bootstrap>", 5 },
		{ "load", "/srv/app/pkg/__init__.py", 3 },
		{ "main", "/srv/app/main.py", 0 },
		{ "odd", "dir/", 4 },
	};
	struct agg_options aopt = { .rate_hz = 100 };
	struct agg_thread_in t = { .tid = 9, .name = "t", .state = ST_PYTHON, .frames = fr,
				   .nframes = sizeof(fr) / sizeof(fr[0]) };
	struct agg a;
	struct strbuf sb = STRBUF_INIT;
	char err[200];
	const char *svg;

	if (!CHECK_EQ(u, agg_init(&a, &aopt), 0))
		return;
	agg_begin_sample(&a, 0, 1, 1, 0);
	agg_add_thread(&a, &t);
	agg_end_sample(&a);
	agg_finish(&a);
	CHECK_EQ(u, report_flamegraph(&sb, &a, NULL), 0);
	svg = strbuf_str(&sb);
	if (!CHECK_EQ(u, xml_check(sb.buf, sb.len, NULL, NULL, err, sizeof(err)), 0))
		printf("  xml: %s\n", err);
	CHECK(u, strstr(svg, "<title>odd (dir/:4)\n1 samples (100.00%)\n") != NULL);
	CHECK(u, strstr(svg, "<title>main (main.py)\n/srv/app/main.py\n1 samples (100.00%)\n") != NULL);
	CHECK(u, strstr(svg, "<title>load (pkg/__init__.py:3)\n/srv/app/pkg/__init__.py:3\n"
			"1 samples (100.00%)\n") != NULL);
	CHECK(u, strstr(svg, "<title>_call (&lt;frozen importlib._bootstrap&gt;:5)\n1 samples (100.00%), "
			"self 1\npython 1 (100.0%)</title>") != NULL);
	CHECK(u, strstr(svg, ">load (pkg/__init__.py:3)</text>") != NULL);
	strbuf_release(&sb);
	agg_release(&a);
}

static void t_flamegraph_prune(struct unit *u)
{
	struct flamegraph_options opt = { .width = 1200, .min_width = 150, .no_state_leaves = 1 };
	struct agg a;
	struct strbuf sb = STRBUF_INIT;
	struct svg_count c = { 0 };
	char err[200];
	size_t want = 0;
	uint32_t i;

	if (!CHECK_EQ(u, synth_agg(&a, 1, 0, 1), 0))
		return;
	CHECK_EQ(u, report_flamegraph(&sb, &a, &opt), 0);
	if (!CHECK_EQ(u, xml_check(sb.buf, sb.len, count_elem, &c, err, sizeof(err)), 0))
		printf("  xml: %s\n", err);
	/* kept: frames at least 150 px of the 1180 usable, and not state leaves */
	for (i = 0; i < a.nnodes; i++) {
		const struct agg_node *n = &a.nodes[i];
		int state = i && a.frames[n->frame].kind == AGG_FRAME_STATE;

		if (!state && n->total * 1180.0 / 60 >= 150)
			want++;
	}
	CHECK(u, want > 5 && want < a.nnodes);
	CHECK_EQ(u, c.frames, want);
	CHECK_EQ(u, count_str(strbuf_str(&sb), "[waiting for"), 0);
	/* totals stay: the root still says 60, deep_0 its 15 */
	CHECK(u, strstr(strbuf_str(&sb), "<title>all\n60 samples (100.00%)") != NULL);
	CHECK(u, strstr(strbuf_str(&sb), "<title>deep_0 (deep.py:1)\n15 samples (25.00%)") != NULL);
	CHECK(u, strstr(strbuf_str(&sb), "deep_2 (deep.py:3)") == NULL);
	strbuf_release(&sb);
	agg_release(&a);
}

static void t_flamegraph_empty(struct unit *u)
{
	struct agg_options opt = { .rate_hz = 100 };
	struct agg a;
	struct strbuf sb = STRBUF_INIT;
	struct svg_count c = { 0 };
	char err[200];

	if (!CHECK_EQ(u, agg_init(&a, &opt), 0))
		return;
	agg_finish(&a);
	CHECK_EQ(u, report_flamegraph(&sb, &a, NULL), 0);
	if (!CHECK_EQ(u, xml_check(sb.buf, sb.len, count_elem, &c, err, sizeof(err)), 0))
		printf("  xml: %s\n", err);
	CHECK_EQ(u, c.frames, 0);
	CHECK(u, strstr(strbuf_str(&sb), ">No samples</text>") != NULL);
	strbuf_release(&sb);
	/* the other formats on an empty profile still parse */
	{
		struct json doc;

		CHECK_EQ(u, report_speedscope(&sb, &a, NULL), 0);
		if (CHECK_EQ(u, json_parse(sb.buf, sb.len, &doc, err, sizeof(err)), 0))
			json_free(&doc);
		strbuf_reset(&sb);
		CHECK_EQ(u, report_chrometrace(&sb, &a, NULL), 0);
		if (CHECK_EQ(u, json_parse(sb.buf, sb.len, &doc, err, sizeof(err)), 0))
			json_free(&doc);
		strbuf_release(&sb);
	}
	agg_release(&a);
}

/* Names made of nothing but hostile bytes: every format stays valid. */
static void t_hostile_names(struct unit *u)
{
	static const char *const names[] = {
		"\x01\x02\x1f\x7f", "]]>", "--><!--", "\xef\xbf\xbe\xef\xbf\xbf", "\xed\xa0\x80",
		"\xf4\x90\x80\x80", "\\\"\\u0000", "&#0;&#xd800;", "\xc0\x80", "\t\r\n", "",
	};
	struct agg_options aopt = { .timeline = 1, .state_leaves = 1, .rate_hz = 100 };
	struct agg_frame_in fr[sizeof(names) / sizeof(names[0])];
	struct agg a;
	struct strbuf sb = STRBUF_INIT;
	struct json doc;
	char err[200];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		fr[i].func = names[i];
		fr[i].file = names[(i + 1) % (sizeof(names) / sizeof(names[0]))];
		fr[i].line = (int)i - 1;
	}
	if (!CHECK_EQ(u, agg_init(&a, &aopt), 0))
		return;
	for (i = 0; i < 3; i++) {
		struct agg_thread_in t = { .tid = 7, .name = names[i * 3], .state = (enum gs_state)i,
					   .frames = fr, .nframes = sizeof(fr) / sizeof(fr[0]) };

		agg_begin_sample(&a, i * 10000000ull, 1, 1, 0);
		agg_add_thread(&a, &t);
		agg_end_sample(&a);
	}
	agg_finish(&a);

	CHECK_EQ(u, report_flamegraph(&sb, &a, NULL), 0);
	if (!CHECK_EQ(u, xml_check(sb.buf, sb.len, NULL, NULL, err, sizeof(err)), 0))
		printf("  xml: %s\n", err);
	strbuf_reset(&sb);
	CHECK_EQ(u, report_speedscope(&sb, &a, NULL), 0);
	if (CHECK_EQ(u, json_parse(sb.buf, sb.len, &doc, err, sizeof(err)), 0))
		json_free(&doc);
	else
		printf("  json: %s\n", err);
	strbuf_reset(&sb);
	CHECK_EQ(u, report_chrometrace(&sb, &a, NULL), 0);
	if (CHECK_EQ(u, json_parse(sb.buf, sb.len, &doc, err, sizeof(err)), 0))
		json_free(&doc);
	else
		printf("  json: %s\n", err);
	strbuf_reset(&sb);
	CHECK_EQ(u, report_collapsed(&sb, &a, NULL), 0);
	{
		size_t nlines;

		/* one line per sample state, each "stack count", in valid UTF-8 */
		CHECK_EQ(u, sum_counts(strbuf_str(&sb), &nlines), 3);
		CHECK_EQ(u, nlines, 3);
		for (i = 0; i < sb.len;) {
			size_t n = utf8_seq_len(sb.buf + i);

			if (!CHECK(u, n))
				break;
			CHECK(u, sb.buf[i] != '\r' && sb.buf[i] != '\t' && (unsigned char)sb.buf[i] != 0x7f);
			i += n;
		}
	}
	strbuf_release(&sb);
	agg_release(&a);
}

/* ------------------------------------------------------- torn stacks */

/* A thread's stacks read torn hang under its "[torn stack]" node, never at
 * its root beside the whole ones; their samples count for the state. */
static void t_torn_apart(struct unit *u)
{
	static const struct agg_frame_in whole[] = {
		{ "fib_gen", "t.py", 3 }, { "run", "t.py", 2 }, { "_bootstrap", "threading.py", 1 },
	};
	struct agg_options o = { AGG_MODE_WALL, 1, 0, 100 };
	struct strbuf sb = STRBUF_INIT;
	const char *expect[3];
	struct agg a;
	size_t nlines;
	int i;

	if (!CHECK_EQ(u, agg_init(&a, &o), 0))
		return;
	for (i = 0; i < 10; i++) {
		struct agg_thread_in t = { .tid = 7, .name = "driver", .state = ST_PYTHON,
					   .holds_gil = 1, .frames = whole, .nframes = 3,
					   .stack_key = (uint64_t)i + 1 };

		if (i >= 5) {
			t.torn = 1;	/* the generator's frame alone */
			t.nframes = 1;
		}
		if (i >= 8) {
			t.nframes = 0;
			t.state = ST_GIL_WAIT;
			t.holds_gil = 0;
		}
		agg_begin_sample(&a, 1000000000ull + (uint64_t)i * 10000000ull, 1, 1, 0);
		CHECK_EQ(u, agg_add_thread(&a, &t), 0);
		agg_end_sample(&a);
	}
	agg_finish(&a);
	CHECK_EQ(u, a.torn, 5);
	CHECK_EQ(u, a.threads[0].torn, 5);
	CHECK_EQ(u, a.threads[0].samples, 10);
	CHECK_EQ(u, a.threads[0].states[ST_PYTHON], 8);
	CHECK_EQ(u, a.threads[0].states[ST_GIL_WAIT], 2);
	expect[0] = "driver (tid 7);_bootstrap (threading.py:1);run (t.py:2);fib_gen (t.py:3) 5";
	expect[1] = "driver (tid 7);[torn stack];fib_gen (t.py:3) 3";
	expect[2] = "driver (tid 7);[torn stack];[waiting for the GIL] 2";
	CHECK_EQ(u, report_collapsed(&sb, &a, NULL), 0);
	check_lines(u, strbuf_str(&sb), expect, 3);
	CHECK_EQ(u, sum_counts(strbuf_str(&sb), &nlines), 10);
	strbuf_reset(&sb);
	report_stacks_json(&sb, &a);
	CHECK(u, strstr(strbuf_str(&sb), "\"frames\": [{\"function\": \"[torn stack]\", \"file\": \"\", "
			 "\"line\": 0, \"kind\": \"torn\"}, {\"function\": \"fib_gen\"") != NULL);
	strbuf_release(&sb);
	agg_release(&a);
}

UNIT_SUITE(render)
{
	UNIT_RUN(u, t_collapsed_exact);
	UNIT_RUN(u, t_collapsed_options);
	UNIT_RUN(u, t_collapsed_empty);
	UNIT_RUN(u, t_torn_apart);
	UNIT_RUN(u, t_speedscope);
	UNIT_RUN(u, t_speedscope_options);
	UNIT_RUN(u, t_chrometrace);
	UNIT_RUN(u, t_chrometrace_gil_overlap);
	UNIT_RUN(u, t_flamegraph);
	UNIT_RUN(u, t_flamegraph_paths);
	UNIT_RUN(u, t_flamegraph_prune);
	UNIT_RUN(u, t_flamegraph_empty);
	UNIT_RUN(u, t_hostile_names);
}
