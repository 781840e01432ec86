/* chrometrace.c - Chrome Trace Event JSON of the state timelines; see chrometrace.h. */
#include "chrometrace.h"

#include <inttypes.h>
#include <stdlib.h>

#include "rtree.h"
#include "../util/jw.h"
#include "../util/error.h"

struct hold {
	uint64_t t0, t1;
	size_t thread;
};

/* Microseconds, to the nanosecond. */
static void add_us(struct jw *w, const char *key, uint64_t ns)
{
	jw_fixed(w, key, (double)ns / 1e3, 3);
}

static void add_meta(struct jw *w, int pid, int64_t tid, const char *what,
		     const char *arg, const char *name, int sort_index)
{
	jw_obj(w, NULL);
	jw_str(w, "ph", "M");
	jw_int(w, "pid", pid);
	jw_int(w, "tid", tid);
	jw_str(w, "name", what);
	jw_obj(w, "args");
	if (name)
		jw_str(w, arg, name);
	else
		jw_int(w, arg, sort_index);
	jw_end(w);
	jw_end(w);
}

static void add_thread_meta(struct jw *w, int pid, int64_t tid, const char *name,
			    int sort_index)
{
	add_meta(w, pid, tid, "thread_name", "name", name, 0);
	add_meta(w, pid, tid, "thread_sort_index", "sort_index", NULL, sort_index);
}

/* The innermost Python frame at or above a span's leaf node, or NULL. */
static const struct agg_frame *leaf_frame(const struct agg *a, uint32_t node)
{
	int hops;

	/* a state leaf hangs below the innermost Python frame */
	for (hops = 0; node < a->nnodes && hops < 2; hops++) {
		uint32_t f = a->nodes[node].frame;

		if (f >= a->nframes)
			return NULL;
		if (a->frames[f].kind == AGG_FRAME_PYTHON)
			return &a->frames[f];
		if (a->frames[f].kind != AGG_FRAME_STATE)
			return NULL;
		node = a->nodes[node].parent;
	}
	return NULL;
}

static void add_span(struct jw *w, const struct agg *a, int pid,
		     const struct agg_thread *t, const struct agg_span *s)
{
	const struct agg_frame *f = leaf_frame(a, s->leaf);

	jw_obj(w, NULL);
	jw_str(w, "ph", "X");
	jw_str(w, "cat", "state");
	jw_int(w, "pid", pid);
	jw_int(w, "tid", t->tid);
	jw_str(w, "name", gs_state_name((enum gs_state)s->state));
	add_us(w, "ts", s->t0);
	add_us(w, "dur", s->t1 > s->t0 ? s->t1 - s->t0 : 0);
	jw_obj(w, "args");
	jw_bool(w, "holds_gil", s->holds_gil);
	if (f) {
		const char *func = agg_str(a, f->func), *file = agg_str(a, f->file);

		jw_str(w, "function", func ? func : "");
		jw_str(w, "file", file ? file : "");
		jw_int(w, "line", f->line);
	}
	jw_end(w);
	jw_end(w);
}

static int cmp_hold(const void *pa, const void *pb)
{
	const struct hold *a = pa, *b = pb;

	if (a->t0 != b->t0)
		return a->t0 < b->t0 ? -1 : 1;
	if (a->t1 != b->t1)
		return a->t1 < b->t1 ? -1 : 1;
	return a->thread < b->thread ? -1 : a->thread > b->thread;
}

/* Who held the GIL of process `pid` (agg_thread.pid) when: each of its
 * threads' holding spans, merged per thread. */
static int collect_holds(const struct agg *a, int32_t pid, struct hold **out, size_t *nout)
{
	struct hold *h = NULL;
	size_t n = 0, cap = 0, i, j;

	for (i = 0; i < a->nthreads; i++) {
		const struct agg_thread *t = &a->threads[i];

		if (t->pid != pid)
			continue;

		for (j = 0; j < t->nspans; j++) {
			const struct agg_span *s = &t->spans[j];

			if (!s->holds_gil || s->t1 <= s->t0)
				continue;
			if (n && h[n - 1].thread == i && s->t0 <= h[n - 1].t1) {
				if (s->t1 > h[n - 1].t1)
					h[n - 1].t1 = s->t1;
				continue;
			}
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 256;
				struct hold *nh = realloc(h, ncap * sizeof(*nh));

				if (!nh) {
					free(h);
					return GS_ENOMEM;
				}
				h = nh;
				cap = ncap;
			}
			h[n].t0 = s->t0;
			h[n].t1 = s->t1;
			h[n].thread = i;
			n++;
		}
	}
	if (n)
		qsort(h, n, sizeof(*h), cmp_hold);
	*out = h;
	*nout = n;
	return 0;
}

static void add_hold(struct jw *w, const struct agg *a, int pid, const struct hold *h,
		     struct strbuf *label)
{
	const struct agg_thread *t = &a->threads[h->thread];

	strbuf_reset(label);
	rtree_thread_label(label, a, t);
	jw_obj(w, NULL);
	jw_str(w, "ph", "X");
	jw_str(w, "cat", "gil");
	jw_int(w, "pid", pid);
	jw_int(w, "tid", CHROMETRACE_GIL_TID);
	jw_str(w, "name", strbuf_str(label));
	add_us(w, "ts", h->t0);
	add_us(w, "dur", h->t1 - h->t0);
	jw_obj(w, "args");
	jw_int(w, "tid", t->tid);
	jw_end(w);
	jw_end(w);
}

/* The GIL track: holds in time order; one never starts before the previous
 * ended, and touching holds of the same thread are one. */
static void add_gil_track(struct jw *w, const struct agg *a, int pid,
			  struct hold *h, size_t n, struct strbuf *label)
{
	struct hold cur = { 0 };
	int have = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		struct hold next = h[i];

		if (have && next.t0 < cur.t1)
			next.t0 = cur.t1;
		if (next.t1 <= next.t0)
			continue;
		if (have && next.thread == cur.thread && next.t0 == cur.t1) {
			cur.t1 = next.t1;
			continue;
		}
		if (have)
			add_hold(w, a, pid, &cur, label);
		cur = next;
		have = 1;
	}
	if (have)
		add_hold(w, a, pid, &cur, label);
}

/* A process of the trace: the threads fed with one pid (agg_thread.pid;
 * all of them, 0, for one process), and who held its GIL when. */
struct proc {
	int32_t key;		/* agg_thread.pid */
	int pid;		/* in the trace */
	const char *name;
	struct hold *holds;
	size_t nholds;
};

/* Process `key` of the trace, named after its command line (that of
 * thread t's process node) or the options. */
static int add_proc(struct proc *p, const struct agg *a, const struct agg_thread *t,
		    const struct chrometrace_options *opt)
{
	const char *cmd = "";

	p->key = t ? t->pid : 0;
	if (p->key) {
		if (t->proc < a->nnodes && a->nodes[t->proc].frame < a->nframes)
			cmd = agg_str(a, a->frames[a->nodes[t->proc].frame].func);
		p->pid = p->key;
		p->name = cmd && cmd[0] ? cmd : "python";
	} else {
		p->pid = opt->pid ? opt->pid : 1;
		p->name = opt->process_name ? opt->process_name : "python";
	}
	return opt->no_gil_track ? 0 : collect_holds(a, p->key, &p->holds, &p->nholds);
}

/* The processes in the order of their first thread (one when there is no
 * thread, for the process_name event). */
static int collect_procs(const struct agg *a, const struct chrometrace_options *opt,
			 struct proc **out, size_t *nout)
{
	struct proc *p = calloc(a->nthreads ? a->nthreads : 1, sizeof(*p));
	size_t n = 0, i, k;
	int ret = 0;

	*out = p;
	*nout = 0;
	if (!p)
		return GS_ENOMEM;
	for (i = 0; i < a->nthreads && !ret; i++) {
		for (k = 0; k < n && p[k].key != a->threads[i].pid; k++)
			;
		if (k == n)
			ret = add_proc(&p[n++], a, &a->threads[i], opt);
	}
	if (!n && !ret)
		ret = add_proc(&p[n++], a, NULL, opt);
	*nout = n;
	return ret;
}

static void free_procs(struct proc *p, size_t n)
{
	size_t i;

	for (i = 0; p && i < n; i++)
		free(p[i].holds);
	free(p);
}

int report_chrometrace(struct strbuf *sb, const struct agg *a,
		       const struct chrometrace_options *opt)
{
	static const struct chrometrace_options defaults;
	struct strbuf label = STRBUF_INIT;
	struct proc *procs = NULL;
	struct jw w;
	size_t nprocs = 0, i, j, k;
	int ret;

	if (!opt)
		opt = &defaults;
	ret = collect_procs(a, opt, &procs, &nprocs);
	if (ret) {
		free_procs(procs, nprocs);
		return ret;
	}

	jw_init(&w, sb, 2);
	jw_obj(&w, NULL);
	jw_str(&w, "displayTimeUnit", "ms");
	jw_obj(&w, "otherData");
	jw_str(&w, "exporter", "gilscope");
	jw_uint(&w, "samples", a->samples);
	jw_uint(&w, "spans_dropped", a->spans_dropped);
	/* ts 0: the first sample, on CLOCK_MONOTONIC (the target's
	 * time.monotonic()), to line the trace up with the program's own
	 * timestamps */
	jw_uint(&w, "t0_monotonic_ns", a->t_first);
	jw_end(&w);
	jw_arr(&w, "traceEvents");
	for (k = 0; k < nprocs; k++) {
		const struct proc *p = &procs[k];

		add_meta(&w, p->pid, 0, "process_name", "name", p->name, 0);
		if (p->nholds)
			add_thread_meta(&w, p->pid, CHROMETRACE_GIL_TID, "GIL holder", 0);
		for (i = 0; i < a->nthreads; i++) {
			if (a->threads[i].pid != p->key)
				continue;
			strbuf_reset(&label);
			rtree_thread_label(&label, a, &a->threads[i]);
			add_thread_meta(&w, p->pid, a->threads[i].tid, strbuf_str(&label),
					(int)i + 1);
		}
	}
	for (k = 0; k < nprocs; k++)
		add_gil_track(&w, a, procs[k].pid, procs[k].holds, procs[k].nholds, &label);
	for (i = 0; i < a->nthreads; i++) {
		const struct agg_thread *t = &a->threads[i];

		for (k = 0; k < nprocs && procs[k].key != t->pid; k++)
			;
		for (j = 0; j < t->nspans; j++)
			add_span(&w, a, k < nprocs ? procs[k].pid : 1, t, &t->spans[j]);
	}
	jw_end(&w);
	jw_end(&w);
	jw_finish(&w);
	ret = sb->failed || label.failed ? GS_ENOMEM : 0;
	free_procs(procs, nprocs);
	strbuf_release(&label);
	return ret;
}
