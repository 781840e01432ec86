/* chrometrace.c - Chrome Trace Event JSON of the state timelines; see chrometrace.h. */
#include "chrometrace.h"

#include <inttypes.h>
#include <stdlib.h>

#include "rtree.h"
#include "../util/error.h"

struct hold {
	uint64_t t0, t1;
	size_t thread;
};

/* Microseconds, exactly: ns / 1000 with three decimals. */
static void add_us(struct strbuf *sb, uint64_t ns)
{
	strbuf_addf(sb, "%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
}

static void add_thread_meta(struct strbuf *sb, int pid, int64_t tid, const char *name,
			    int sort_index)
{
	strbuf_addf(sb, ",\n{\"ph\": \"M\", \"pid\": %d, \"tid\": %" PRId64
		    ", \"name\": \"thread_name\", \"args\": {\"name\": ", pid, tid);
	strbuf_add_json_str(sb, name);
	strbuf_addf(sb, "}},\n{\"ph\": \"M\", \"pid\": %d, \"tid\": %" PRId64
		    ", \"name\": \"thread_sort_index\", \"args\": {\"sort_index\": %d}}",
		    pid, tid, sort_index);
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

static void add_span(struct strbuf *sb, const struct agg *a, int pid,
		     const struct agg_thread *t, const struct agg_span *s)
{
	const struct agg_frame *f = leaf_frame(a, s->leaf);
	const char *state = gs_state_name((enum gs_state)s->state);

	strbuf_addf(sb, ",\n{\"ph\": \"X\", \"cat\": \"state\", \"pid\": %d, \"tid\": %d, \"name\": \"%s\", \"ts\": ",
		    pid, (int)t->tid, state);
	add_us(sb, s->t0);
	strbuf_addstr(sb, ", \"dur\": ");
	add_us(sb, s->t1 > s->t0 ? s->t1 - s->t0 : 0);
	strbuf_addf(sb, ", \"args\": {\"holds_gil\": %s", s->holds_gil ? "true" : "false");
	if (f) {
		const char *func = agg_str(a, f->func), *file = agg_str(a, f->file);

		strbuf_addstr(sb, ", \"function\": ");
		strbuf_add_json_str(sb, func ? func : "");
		strbuf_addstr(sb, ", \"file\": ");
		strbuf_add_json_str(sb, file ? file : "");
		strbuf_addf(sb, ", \"line\": %d", (int)f->line);
	}
	strbuf_addstr(sb, "}}");
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

/* Who held the GIL when: each thread's holding spans, merged per thread. */
static int collect_holds(const struct agg *a, struct hold **out, size_t *nout)
{
	struct hold *h = NULL;
	size_t n = 0, cap = 0, i, j;

	for (i = 0; i < a->nthreads; i++) {
		const struct agg_thread *t = &a->threads[i];

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

static void add_hold(struct strbuf *sb, const struct agg *a, int pid, const struct hold *h,
		     struct strbuf *label)
{
	const struct agg_thread *t = &a->threads[h->thread];

	strbuf_reset(label);
	rtree_thread_label(label, a, t);
	strbuf_addf(sb, ",\n{\"ph\": \"X\", \"cat\": \"gil\", \"pid\": %d, \"tid\": %d, \"name\": ",
		    pid, CHROMETRACE_GIL_TID);
	strbuf_add_json_str(sb, strbuf_str(label));
	strbuf_addstr(sb, ", \"ts\": ");
	add_us(sb, h->t0);
	strbuf_addstr(sb, ", \"dur\": ");
	add_us(sb, h->t1 - h->t0);
	strbuf_addf(sb, ", \"args\": {\"tid\": %d}}", (int)t->tid);
}

/* The GIL track: holds in time order; one never starts before the previous
 * ended, and touching holds of the same thread are one. */
static void add_gil_track(struct strbuf *sb, const struct agg *a, int pid,
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
			add_hold(sb, a, pid, &cur, label);
		cur = next;
		have = 1;
	}
	if (have)
		add_hold(sb, a, pid, &cur, label);
}

int report_chrometrace(struct strbuf *sb, const struct agg *a,
		       const struct chrometrace_options *opt)
{
	static const struct chrometrace_options defaults;
	struct strbuf label = STRBUF_INIT;
	struct hold *holds = NULL;
	size_t nholds = 0, i, j;
	int pid, ret;

	if (!opt)
		opt = &defaults;
	pid = opt->pid ? opt->pid : 1;
	if (!opt->no_gil_track) {
		ret = collect_holds(a, &holds, &nholds);
		if (ret)
			return ret;
	}

	strbuf_addf(sb, "{\"displayTimeUnit\": \"ms\",\n\"otherData\": {\"exporter\": \"gilscope\", "
		    "\"samples\": %" PRIu64 ", \"spans_dropped\": %" PRIu64 "},\n\"traceEvents\": [\n",
		    a->samples, a->spans_dropped);
	strbuf_addf(sb, "{\"ph\": \"M\", \"pid\": %d, \"tid\": 0, \"name\": \"process_name\", "
		    "\"args\": {\"name\": ", pid);
	strbuf_add_json_str(sb, opt->process_name ? opt->process_name : "python");
	strbuf_addstr(sb, "}}");
	if (nholds)
		add_thread_meta(sb, pid, CHROMETRACE_GIL_TID, "GIL holder", 0);
	for (i = 0; i < a->nthreads; i++) {
		strbuf_reset(&label);
		rtree_thread_label(&label, a, &a->threads[i]);
		add_thread_meta(sb, pid, a->threads[i].tid, strbuf_str(&label), (int)i + 1);
	}
	add_gil_track(sb, a, pid, holds, nholds, &label);
	for (i = 0; i < a->nthreads; i++) {
		const struct agg_thread *t = &a->threads[i];

		for (j = 0; j < t->nspans; j++)
			add_span(sb, a, pid, t, &t->spans[j]);
	}
	strbuf_addstr(sb, "\n]}\n");
	ret = sb->failed || label.failed ? GS_ENOMEM : 0;
	free(holds);
	strbuf_release(&label);
	return ret;
}
