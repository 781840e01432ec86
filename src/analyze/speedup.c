/*
 * speedup.c - what the samples of one threaded run of `gilscope speedup`
 * say; see speedup.h.
 */
#include "speedup.h"

#include <stdio.h>
#include <string.h>

double speedup_excess_wait(const struct speedup_report *r, int n, double cpu_wait)
{
	double own = r->cpus > 0 && n > r->cpus ? 1.0 - (double)r->cpus / n : 0;

	return cpu_wait < 0 ? 0 : cpu_wait - own;
}

static int tid_listed(const int32_t *tids, size_t n, int32_t tid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tids[i] == tid)
			return 1;
	return 0;
}

/* Shares of the worker threads' samples (the tids the harness listed; on
 * a Python without native thread ids, every thread but the main one). */
static void worker_states(const struct agg *a, const int32_t *tids, size_t ntids,
			  pid_t main_tid, double out[ST_COUNT])
{
	uint64_t tot[ST_COUNT] = { 0 }, all = 0;
	size_t i;
	int s;

	for (i = 0; i < a->nthreads; i++) {
		const struct agg_thread *t = &a->threads[i];
		int mine = ntids ? tid_listed(tids, ntids, t->tid) : t->tid != (int32_t)main_tid;

		if (!mine)
			continue;
		for (s = 0; s < ST_COUNT; s++) {
			tot[s] += t->states[s];
			all += t->states[s];
		}
	}
	for (s = 0; s < ST_COUNT; s++)
		out[s] = all ? (double)tot[s] / (double)all : 0;
}

/* "f() at file.py:12", or "callable, called from f() at file.py:12". */
static void where_of(const struct agg *a, const struct verdict *v, int s, char *buf, size_t len)
{
	char py[SPEEDUP_WHERE_MAX / 2] = "";

	if (v->nhot[s]) {
		const struct agg_frame *f = &a->frames[v->hot[s][0]];
		const char *file = agg_str(a, f->file), *slash = strrchr(file, '/');

		snprintf(py, sizeof(py), "%.80s() at %.60s:%d", agg_str(a, f->func),
			 slash ? slash + 1 : file, (int)f->line);
	}
	if (v->nnative[s])
		snprintf(buf, len, "%.100s%s%s", agg_str(a, a->frames[v->native[s][0]].func),
			 py[0] ? ", called from " : "", py);
	else
		snprintf(buf, len, "%s", py);
}

void speedup_fold(const struct agg *agg, const int32_t *tids, size_t ntids, pid_t main_tid,
		  struct speedup_point *p)
{
	struct verdict v;
	int s;

	verdict_decide(agg, &v);
	p->sampled = agg->samples > 0;
	p->samples = agg->samples;
	worker_states(agg, tids, ntids, main_tid, p->states);
	p->gil_held = v.gil_held;
	p->gil_contended = v.gil_contended;
	p->kind = v.kind;
	snprintf(p->summary, sizeof(p->summary), "%s", v.summary);
	snprintf(p->advice, sizeof(p->advice), "%s", v.advice);
	for (s = 0; s < ST_COUNT; s++)
		where_of(agg, &v, s, p->where[s], sizeof(p->where[s]));
}
