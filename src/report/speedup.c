/*
 * speedup.c - render the speedup report.
 *
 * Text: one table of the threaded runs (and one of the process pool runs),
 * then one line per threaded run saying why it scaled the way it did.
 */
#include "speedup.h"

#include <string.h>

#include "../util/jw.h"

#define TIMES "\xc3\x97"	/* U+00D7 MULTIPLICATION SIGN */

static int dominant(const struct speedup_point *p)
{
	int s, best = ST_OTHER;
	double top = -1;

	for (s = 0; s < ST_COUNT; s++)
		if (p->states[s] > top) {
			top = p->states[s];
			best = s;
		}
	return best;
}

static void in_where(struct strbuf *sb, const struct speedup_point *p, int s, const char *pre)
{
	if (p->where[s][0])
		strbuf_addf(sb, "%s%s", pre, p->where[s]);
}

static const char *remedy(const struct speedup_point *p, int dom)
{
	switch (p->kind) {
	case V_GIL_BOUND_PYTHON:
		return "CPU-bound Python, use ProcessPoolExecutor or a free-threaded build";
	case V_GIL_BOUND_NATIVE:
		return "the C call keeps the GIL, use a library that releases it or "
		       "ProcessPoolExecutor";
	case V_NATIVE_RELEASED:
		return "the GIL is released, threads scale";
	case V_IO_BOUND:
		return "I/O-bound, threads overlap the waits and the GIL is not in the way";
	case V_PARALLEL:
		return "threads run Python in parallel on this free-threaded build";
	case V_CPU_SINGLE:
		return "one thread on the CPU and nobody waiting for the GIL";
	case V_IDLE:
		if (dom == ST_LOCK_WAIT)
			return "the threads queue on a lock of their own, not on the GIL";
		return "the threads wait rather than compute, so threads overlap the waits";
	case V_MIXED:
	default:
		return "partly serialised, see the state shares";
	}
}

/* The state a run's explanation leads with: the one its verdict rests on,
 * else the most common. */
static int focus(const struct speedup_point *p)
{
	int s = -1;

	switch (p->kind) {
	case V_GIL_BOUND_PYTHON:
	case V_GIL_BOUND_NATIVE:
		s = ST_GIL_WAIT;
		break;
	case V_NATIVE_RELEASED:
		s = ST_NATIVE;
		break;
	case V_IO_BOUND:
		s = ST_IO;
		break;
	case V_PARALLEL:
		s = ST_PYTHON;
		break;
	default:
		break;
	}
	return s >= 0 && p->states[s] > 0 ? s : dominant(p);
}

void speedup_explain(struct strbuf *sb, const struct speedup_report *r,
		     const struct speedup_point *p)
{
	int dom = focus(p), holder;
	int cpu_bound = 0;

	strbuf_addf(sb, "%.2f" TIMES " at %d thread%s", p->speedup, p->n, p->n == 1 ? "" : "s");
	if (!p->sampled) {
		strbuf_addstr(sb, " (not sampled)");
		return;
	}
	strbuf_addf(sb, ": %.0f%% of thread time ", 100 * p->states[dom]);
	switch (dom) {
	case ST_GIL_WAIT:
		strbuf_addstr(sb, "waiting for the GIL");
		holder = p->states[ST_NATIVE_GIL] > p->states[ST_PYTHON] ? ST_NATIVE_GIL : ST_PYTHON;
		if (p->where[holder][0])
			strbuf_addf(sb, ", held mostly by %s%s", holder == ST_NATIVE_GIL ? "C code: " : "",
				    p->where[holder]);
		break;
	case ST_PYTHON:
		cpu_bound = 1;
		strbuf_addstr(sb, r->gil_enabled ? "running Python" : "running Python in parallel");
		in_where(sb, p, ST_PYTHON, " in ");
		break;
	case ST_NATIVE_GIL:
		strbuf_addstr(sb, "in C code that keeps the GIL");
		in_where(sb, p, ST_NATIVE_GIL, ": ");
		break;
	case ST_NATIVE:
		cpu_bound = 1;
		strbuf_addstr(sb, "in C code with the GIL released");
		in_where(sb, p, ST_NATIVE, ": ");
		break;
	case ST_IO:
		strbuf_addstr(sb, "blocked in I/O");
		in_where(sb, p, ST_IO, " in ");
		break;
	case ST_SLEEP:
		strbuf_addstr(sb, "sleeping");
		in_where(sb, p, ST_SLEEP, " in ");
		break;
	case ST_LOCK_WAIT:
		strbuf_addstr(sb, "waiting on a lock");
		in_where(sb, p, ST_LOCK_WAIT, " in ");
		break;
	default:
		strbuf_addstr(sb, "in a state gilscope could not decide");
		break;
	}
	strbuf_addf(sb, ": %s", remedy(p, dom));
	if (cpu_bound && r->cpus > 0 && p->n > r->cpus &&
	    (p->kind == V_NATIVE_RELEASED || p->kind == V_PARALLEL))
		strbuf_addf(sb, " (at most %d" TIMES " on %d CPUs)", r->cpus, r->cpus);
	if (p->speedup < 0.9 && p->n > 1)
		strbuf_addstr(sb, "; slower than one thread");
}

static void top_states(struct strbuf *sb, const struct speedup_point *p, size_t width)
{
	size_t start = sb->len, k;
	int used[ST_COUNT] = { 0 }, s, best, shown = 0;

	for (k = 0; k < 3; k++) {
		best = -1;
		for (s = 0; s < ST_COUNT; s++)
			if (!used[s] && (best < 0 || p->states[s] > p->states[best]))
				best = s;
		if (best < 0 || p->states[best] < 0.05)
			break;
		used[best] = 1;
		strbuf_addf(sb, "%s%s %.0f%%", shown++ ? ", " : "", gs_state_name((enum gs_state)best),
			    100 * p->states[best]);
	}
	if (!shown)
		strbuf_addstr(sb, "-");
	while (sb->len - start < width)
		strbuf_addch(sb, ' ');
}

/* Runs whose timing other processes may have spoiled. */
static void noisy_note(struct strbuf *sb, const struct speedup_report *r)
{
	double worst = speedup_excess_wait(r, 1, r->baseline_cpu_wait), x;
	size_t i, n = 0;

	for (i = 0; i < r->nthreads; i++) {
		x = speedup_excess_wait(r, r->threads[i].n, r->threads[i].cpu_wait);
		if (x > worst)
			worst = x;
	}
	if (worst < SPEEDUP_NOISY_WAIT)
		return;
	strbuf_addstr(sb, "\nnote: other processes kept the threads off the CPUs during ");
	if (speedup_excess_wait(r, 1, r->baseline_cpu_wait) >= SPEEDUP_NOISY_WAIT)
		strbuf_addf(sb, "%sthe baseline (%.0f%% of its time)", n++ ? ", " : "",
			    100 * r->baseline_cpu_wait);
	for (i = 0; i < r->nthreads; i++)
		if (speedup_excess_wait(r, r->threads[i].n, r->threads[i].cpu_wait) >=
		    SPEEDUP_NOISY_WAIT)
			strbuf_addf(sb, "%sthe %d-thread run (%.0f%%)", n++ ? ", " : "",
				    r->threads[i].n, 100 * r->threads[i].cpu_wait);
	strbuf_addstr(sb, ": those timings are not reliable, run again on a quieter machine\n");
}

static void pyline(struct strbuf *sb, const struct speedup_report *r)
{
	strbuf_addf(sb, "Python %s", r->version);
	if (r->free_threaded)
		strbuf_addf(sb, " (free-threaded, GIL %s)", r->gil_enabled ? "enabled" : "disabled");
	else
		strbuf_addstr(sb, " (GIL enabled)");
}

void report_speedup_text(struct strbuf *sb, const struct speedup_report *r)
{
	size_t i;

	strbuf_addf(sb, "gilscope speedup: %s on ", r->target);
	pyline(sb, r);
	strbuf_addf(sb, ", %d CPU%s\n", r->cpus, r->cpus == 1 ? "" : "s");
	strbuf_addf(sb, "baseline: %ld call%s in one thread took %.3f s (%.3g ms per call); "
		    "each run below makes %ld calls per thread\n", r->calls, r->calls == 1 ? "" : "s",
		    r->baseline_s, r->calls ? 1000 * r->baseline_s / (double)r->calls : 0.0,
		    r->calls);

	strbuf_addstr(sb, "\nthreads  seconds  speedup  efficiency  worker threads                        verdict\n");
	for (i = 0; i < r->nthreads; i++) {
		const struct speedup_point *p = &r->threads[i];

		strbuf_addf(sb, "%7d  %7.3f  %6.2f" TIMES "  %9.0f%%  ", p->n, p->seconds, p->speedup,
			    100 * p->efficiency);
		if (p->sampled) {
			top_states(sb, p, 38);
			strbuf_addf(sb, "%s\n", verdict_kind_name(p->kind));
		} else {
			strbuf_addstr(sb, "(not sampled)\n");
		}
	}
	if (r->processes) {
		strbuf_addstr(sb, "\nprocess pool (ProcessPoolExecutor, the same calls per worker):\n"
			      "workers  seconds  speedup  efficiency\n");
		for (i = 0; i < r->nprocs; i++) {
			const struct speedup_point *p = &r->procs[i];

			strbuf_addf(sb, "%7d  %7.3f  %6.2f" TIMES "  %9.0f%%\n", p->n, p->seconds,
				    p->speedup, 100 * p->efficiency);
		}
	}
	noisy_note(sb, r);
	for (i = 0; i < r->nthreads; i++)
		if (r->threads[i].sampled && r->threads[i].samples < SPEEDUP_FEW_SAMPLES)
			strbuf_addf(sb, "note: the %d-thread run lasted %.3f s, %llu samples: raise "
				    "--calls or --rate for a firmer breakdown\n", r->threads[i].n,
				    r->threads[i].seconds,
				    (unsigned long long)r->threads[i].samples);
	if (!r->sampled) {
		strbuf_addstr(sb, "\nnote: the threaded runs could not be sampled (see the message "
			      "above), so there are timings but no states or verdicts\n");
		return;
	}
	strbuf_addstr(sb, "\nWhy:\n");
	for (i = 0; i < r->nthreads; i++) {
		strbuf_addstr(sb, "  ");
		speedup_explain(sb, r, &r->threads[i]);
		strbuf_addch(sb, '\n');
	}
}

static void json_share(struct jw *w, const char *key, double v)
{
	if (v >= 0)
		jw_fixed(w, key, v, 4);
	else
		jw_null(w, key);
}

static void json_point(struct jw *w, const struct speedup_report *r,
		       const struct speedup_point *p, const char *nkey)
{
	struct strbuf ex = STRBUF_INIT;
	int s;

	jw_obj(w, NULL);
	jw_int(w, nkey, p->n);
	jw_fixed(w, "seconds", p->seconds, 6);
	jw_fixed(w, "speedup", p->speedup, 4);
	jw_fixed(w, "efficiency", p->efficiency, 4);
	if (strcmp(nkey, "threads"))
		goto out;
	json_share(w, "cpu_wait", p->cpu_wait);
	if (!p->sampled) {
		jw_int(w, "samples", 0);
		jw_null(w, "states");
		jw_null(w, "gil");
		jw_null(w, "verdict");
		jw_null(w, "explanation");
		goto out;
	}
	jw_uint(w, "samples", p->samples);
	jw_obj(w, "states");
	for (s = 0; s < ST_COUNT; s++)
		jw_fixed(w, gs_state_name((enum gs_state)s), p->states[s], 4);
	jw_end(w);
	jw_obj(w, "gil");
	jw_fixed(w, "held", p->gil_held, 4);
	jw_fixed(w, "contended", p->gil_contended, 4);
	jw_end(w);
	jw_obj(w, "verdict");
	jw_str(w, "kind", verdict_kind_name(p->kind));
	jw_str(w, "summary", p->summary);
	jw_str(w, "advice", p->advice);
	jw_end(w);
	jw_obj(w, "where");
	for (s = 0; s < ST_COUNT; s++)
		jw_str(w, gs_state_name((enum gs_state)s), p->where[s][0] ? p->where[s] : NULL);
	jw_end(w);
	speedup_explain(&ex, r, p);
	jw_str(w, "explanation", strbuf_str(&ex));
	if (ex.failed)
		w->sb->failed = 1;
	strbuf_release(&ex);
out:
	jw_end(w);
}

void report_speedup_json(struct strbuf *sb, const struct speedup_report *r)
{
	struct jw w;
	size_t i;

	jw_init(&w, sb, 2);
	jw_obj(&w, NULL);
	jw_str(&w, "target", r->target);
	jw_obj(&w, "python");
	jw_str(&w, "version", r->version);
	jw_str(&w, "implementation", r->implementation);
	jw_str(&w, "executable", r->executable);
	jw_bool(&w, "free_threaded", r->free_threaded);
	jw_bool(&w, "gil_enabled", r->gil_enabled);
	jw_end(&w);
	jw_int(&w, "cpus", r->cpus);
	jw_int(&w, "calls", r->calls);
	jw_fixed(&w, "baseline_s", r->baseline_s, 6);
	json_share(&w, "baseline_cpu_wait", r->baseline_cpu_wait);
	jw_bool(&w, "sampled", r->sampled);
	jw_sig(&w, "rate_hz", r->rate_hz, 6);
	jw_arr(&w, "runs");
	for (i = 0; i < r->nthreads; i++)
		json_point(&w, r, &r->threads[i], "threads");
	jw_end(&w);
	if (r->processes) {
		jw_arr(&w, "processes");
		for (i = 0; i < r->nprocs; i++)
			json_point(&w, r, &r->procs[i], "workers");
		jw_end(&w);
	}
	jw_end(&w);
	jw_finish(&w);
}
