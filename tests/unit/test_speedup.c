/* test_speedup.c - the speedup report's explanations and JSON, on made-up runs. */
#include "unit.h"
#include "minidoc.h"
#include "../../src/report/speedup.h"
#include "../../src/util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void t_excess_wait(struct unit *u)
{
	struct speedup_report *r = calloc(1, sizeof(*r));
	struct strbuf sb = STRBUF_INIT;

	if (!r)
		return;
	r->cpus = 2;
	/* 4 busy threads on 2 CPUs wait half the time by themselves */
	CHECK(u, speedup_excess_wait(r, 4, 0.55) > 0.049 && speedup_excess_wait(r, 4, 0.55) < 0.051);
	CHECK(u, speedup_excess_wait(r, 2, 0.2) == 0.2);
	CHECK(u, speedup_excess_wait(r, 1, -1) == 0);
	/* the note names the runs other processes spoiled, and only those */
	r->target = "m:f";
	r->calls = 1;
	r->baseline_s = 1;
	r->baseline_cpu_wait = 0.3;
	r->threads[0].n = 2;
	r->threads[0].cpu_wait = 0.01;
	r->threads[1].n = 4;
	r->threads[1].cpu_wait = 0.7;
	r->nthreads = 2;
	report_speedup_text(&sb, r);
	CHECK(u, strstr(strbuf_str(&sb), "during the baseline (30% of its time), the 4-thread run "
			"(70%): those timings are not reliable") != NULL);
	strbuf_reset(&sb);
	r->baseline_cpu_wait = 0.05;
	r->threads[1].cpu_wait = 0.52;
	report_speedup_text(&sb, r);
	CHECK(u, !strstr(strbuf_str(&sb), "not reliable"));
	strbuf_release(&sb);
	free(r);
}

static void point(struct speedup_point *p, int n, double speedup, enum verdict_kind k)
{
	memset(p, 0, sizeof(*p));
	p->n = n;
	p->speedup = speedup;
	p->efficiency = speedup / n;
	p->seconds = 1;
	p->sampled = 1;
	p->samples = 100;
	p->kind = k;
}

static void explain(struct speedup_report *r, const struct speedup_point *p, char *out, size_t len)
{
	struct strbuf sb = STRBUF_INIT;

	speedup_explain(&sb, r, p);
	snprintf(out, len, "%s", strbuf_str(&sb));
	strbuf_release(&sb);
}

static void t_explain(struct unit *u)
{
	struct speedup_report *r = calloc(1, sizeof(*r));
	struct speedup_point p;
	char line[1024];

	if (!r)
		return;
	r->cpus = 2;
	r->gil_enabled = 1;

	point(&p, 4, 1.02, V_GIL_BOUND_PYTHON);
	p.states[ST_GIL_WAIT] = 0.74;
	p.states[ST_PYTHON] = 0.26;
	snprintf(p.where[ST_PYTHON], sizeof(p.where[0]), "compute() at work.py:12");
	explain(r, &p, line, sizeof(line));
	CHECK_STREQ(u, line, "1.02\xc3\x97 at 4 threads: 74% of thread time waiting for the GIL, "
		    "held mostly by compute() at work.py:12: CPU-bound Python, use "
		    "ProcessPoolExecutor or a free-threaded build");

	/* a tie between python and gil_wait: the verdict decides what leads */
	point(&p, 2, 0.85, V_GIL_BOUND_NATIVE);
	p.states[ST_GIL_WAIT] = 0.5;
	p.states[ST_NATIVE_GIL] = 0.5;
	snprintf(p.where[ST_NATIVE_GIL], sizeof(p.where[0]), "math.factorial, called from f() at a.py:3");
	explain(r, &p, line, sizeof(line));
	CHECK_STREQ(u, line, "0.85\xc3\x97 at 2 threads: 50% of thread time waiting for the GIL, "
		    "held mostly by C code: math.factorial, called from f() at a.py:3: the C call "
		    "keeps the GIL, use a library that releases it or ProcessPoolExecutor; slower "
		    "than one thread");

	point(&p, 4, 1.9, V_NATIVE_RELEASED);
	p.states[ST_NATIVE] = 0.95;
	p.states[ST_PYTHON] = 0.05;
	explain(r, &p, line, sizeof(line));
	CHECK_STREQ(u, line, "1.90\xc3\x97 at 4 threads: 95% of thread time in C code with the GIL "
		    "released: the GIL is released, threads scale (at most 2\xc3\x97 on 2 CPUs)");

	point(&p, 4, 3.9, V_IDLE);
	p.states[ST_SLEEP] = 0.99;
	p.states[ST_LOCK_WAIT] = 0.01;
	snprintf(p.where[ST_SLEEP], sizeof(p.where[0]), "nap() at w.py:30");
	explain(r, &p, line, sizeof(line));
	CHECK_STREQ(u, line, "3.90\xc3\x97 at 4 threads: 99% of thread time sleeping in nap() at "
		    "w.py:30: the threads wait rather than compute, so threads overlap the waits");

	r->gil_enabled = 0;
	point(&p, 2, 1.8, V_PARALLEL);
	p.states[ST_PYTHON] = 0.9;
	p.states[ST_NATIVE] = 0.1;
	explain(r, &p, line, sizeof(line));
	CHECK_STREQ(u, line, "1.80\xc3\x97 at 2 threads: 90% of thread time running Python in "
		    "parallel: threads run Python in parallel on this free-threaded build");

	point(&p, 1, 1.0, V_CPU_SINGLE);
	p.sampled = 0;
	explain(r, &p, line, sizeof(line));
	CHECK_STREQ(u, line, "1.00\xc3\x97 at 1 thread (not sampled)");
	free(r);
}

static void t_report_json(struct unit *u)
{
	struct speedup_report *r = calloc(1, sizeof(*r));
	struct strbuf sb = STRBUF_INIT;
	const struct json *runs, *run, *procs;
	struct json doc;
	char err[256];

	if (!r)
		return;
	r->target = "w\"ork:f";
	snprintf(r->version, sizeof(r->version), "3.12.1");
	snprintf(r->implementation, sizeof(r->implementation), "cpython");
	r->gil_enabled = 1;
	r->cpus = 2;
	r->calls = 10;
	r->baseline_s = 0.5;
	r->rate_hz = 100;
	r->sampled = 1;
	point(&r->threads[0], 2, 1.0, V_GIL_BOUND_PYTHON);
	r->threads[0].states[ST_GIL_WAIT] = 0.5;
	r->threads[0].states[ST_PYTHON] = 0.5;
	point(&r->threads[1], 4, 1.0, V_GIL_BOUND_PYTHON);
	r->threads[1].sampled = 0;
	r->nthreads = 2;
	r->processes = 1;
	r->procs[0].n = 2;
	r->procs[0].speedup = 1.9;
	r->nprocs = 1;
	report_speedup_json(&sb, r);
	CHECK(u, !sb.failed);
	if (!CHECK_EQ(u, json_parse(strbuf_str(&sb), sb.len, &doc, err, sizeof(err)), 0)) {
		printf("    %s\n%s\n", err, strbuf_str(&sb));
		goto out;
	}
	CHECK_STREQ(u, json_get_str(&doc, "target"), "w\"ork:f");
	runs = json_get(&doc, "runs");
	CHECK(u, runs && runs->type == JSON_ARRAY && runs->n == 2);
	if (runs && runs->n == 2) {
		run = &runs->items[0];
		CHECK_EQ(u, json_get(run, "threads")->number, 2);
		CHECK_STREQ(u, json_get_str(json_get(run, "verdict"), "kind"), "gil-bound-python");
		CHECK(u, json_get(json_get(run, "states"), "gil_wait")->number == 0.5);
		CHECK(u, strstr(json_get_str(run, "explanation"), "waiting for the GIL") != NULL);
		run = &runs->items[1];
		CHECK(u, json_get(run, "states")->type == JSON_NULL);
		CHECK(u, json_get(run, "verdict")->type == JSON_NULL);
	}
	procs = json_get(&doc, "processes");
	CHECK(u, procs && procs->n == 1 && json_get(&procs->items[0], "workers")->number == 2);
	json_free(&doc);
out:
	strbuf_release(&sb);
	free(r);
}

UNIT_SUITE(speedup)
{
	UNIT_RUN(u, t_excess_wait);
	UNIT_RUN(u, t_explain);
	UNIT_RUN(u, t_report_json);
}
