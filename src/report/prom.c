/* prom.c - the Prometheus text format of serve's metrics; see prom.h. */
#include "prom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/error.h"

/* A label value, escaped, cut to max bytes (not inside a UTF-8 sequence). */
static void add_value(struct strbuf *sb, const char *s, size_t max)
{
	size_t i = 0;

	strbuf_addch(sb, '"');
	while (s && s[i] && i < max) {
		size_t k = utf8_seq_len(s + i);

		if (!k || i + k > max)
			break;
		if (s[i] == '\\' || s[i] == '"')
			strbuf_addch(sb, '\\'), strbuf_addch(sb, s[i]);
		else if (s[i] == '\n')
			strbuf_addstr(sb, "\\n");
		else
			strbuf_add(sb, s + i, k);
		i += k;
	}
	strbuf_addch(sb, '"');
}

/* --- --top-stacks ------------------------------------------------------ */

struct cand {
	uint32_t node;
	uint8_t state;
	uint64_t count;
	size_t off;		/* its stack in the scratch text, while building */
	const char *s;		/* then a pointer */
};

struct cands {
	struct cand *v;
	size_t n, cap;
};

static int cand_add(struct cands *c, uint32_t node, int state, uint64_t count)
{
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		struct cand *nv = realloc(c->v, ncap * sizeof(*nv));

		if (!nv)
			return GS_ENOMEM;
		c->v = nv;
		c->cap = ncap;
	}
	c->v[c->n].node = node;
	c->v[c->n].state = (uint8_t)state;
	c->v[c->n++].count = count;
	return 0;
}

/* A stack's frames, not the thread or process it hangs from. */
static int in_stack(const struct agg *a, uint32_t node)
{
	uint32_t f;

	if (node == 0 || node >= a->nnodes)
		return 0;
	f = a->nodes[node].frame;
	return f < a->nframes && a->frames[f].kind != AGG_FRAME_THREAD &&
	       a->frames[f].kind != AGG_FRAME_PROCESS;
}

/* The samples that ended at node in state st: its own, not its children's. */
static uint64_t self_in(const struct agg *a, uint32_t node, int st)
{
	uint64_t v = a->nodes[node].state_total[st];
	uint32_t k;
	size_t guard = 0;

	for (k = a->nodes[node].child; k < a->nnodes && guard++ < a->nnodes;
	     k = a->nodes[k].sibling)
		v -= a->nodes[k].state_total[st] < v ? a->nodes[k].state_total[st] : v;
	return v;
}

/* Bytes of s that fit in max, not cutting a UTF-8 sequence. */
static size_t fit(const char *s, size_t len, size_t max)
{
	size_t i = 0, k;

	while (i < len && (k = utf8_seq_len(s + i)) && i + k <= max)
		i += k;
	return i;
}

/* name (len bytes) into buf before pos, a ';' in it made '_'; the new pos */
static size_t put(char *buf, size_t pos, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[pos - len + i] = name[i] == ';' ? '_' : name[i];
	return pos - len;
}

/* The functions from node out to its thread, outermost first, joined by
 * ';' (a ';' in a name made '_'); the innermost kept when it is too long,
 * "...;" standing for the outer frames cut. */
static void stack_label(struct strbuf *sb, const struct agg *a, uint32_t node)
{
	char buf[PROM_STACK_MAX + 1];
	size_t pos = PROM_STACK_MAX, depth = 0;
	int cut = 0;

	buf[PROM_STACK_MAX] = 0;
	for (; in_stack(a, node) && depth++ < a->nnodes; node = a->nodes[node].parent) {
		const char *name = agg_str(a, a->frames[a->nodes[node].frame].func);
		size_t len = name ? strlen(name) : 0, sep = pos < PROM_STACK_MAX;

		if (len + sep + 4 > pos) {	/* 4: room for "...;" */
			if (pos == PROM_STACK_MAX && name) {	/* the innermost, cut */
				len = fit(name, len, pos - 4);
				pos = put(buf, pos, name, len);
			}
			cut = 1;
			break;
		}
		if (sep)
			buf[--pos] = ';';
		pos = put(buf, pos, name, len);
	}
	if (cut && in_stack(a, node) && pos < PROM_STACK_MAX) {
		pos -= 4;
		memcpy(buf + pos, "...;", 4);
	}
	strbuf_add(sb, buf + pos, PROM_STACK_MAX - pos);
}

static int by_stack(const void *pa, const void *pb)
{
	const struct cand *x = pa, *y = pb;
	int r = strcmp(x->s, y->s);

	return r ? r : (x->state > y->state) - (x->state < y->state);
}

static int by_count(const void *pa, const void *pb)
{
	const struct cand *x = pa, *y = pb;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return by_stack(pa, pb);
}

int prom_top_stacks(const struct agg *a, size_t n, struct prom_stack *out)
{
	struct cands c = { NULL, 0, 0 };
	struct strbuf text = STRBUF_INIT;
	size_t i, k, w = 0;
	uint32_t node;
	int st, ret = 0;

	if (!n || !a->samples)
		return 0;
	for (node = 1; node < a->nnodes && !ret; node++) {
		if (!a->nodes[node].self || !in_stack(a, node))
			continue;
		for (st = 0; st < ST_COUNT && !ret; st++) {
			uint64_t v = self_in(a, node, st);

			if (v)
				ret = cand_add(&c, node, st, v);
		}
	}
	/* the samples of threads that stayed put, not yet in the tree */
	for (i = 0; i < a->nthreads && !ret; i++)
		if (a->threads[i].pend_n && in_stack(a, a->threads[i].pend_end) &&
		    a->threads[i].pend_state < ST_COUNT)
			ret = cand_add(&c, a->threads[i].pend_end, a->threads[i].pend_state,
				       a->threads[i].pend_n);
	for (i = 0; i < c.n && !ret; i++) {
		c.v[i].off = text.len;
		stack_label(&text, a, c.v[i].node);
		strbuf_addch(&text, 0);
	}
	if (ret || text.failed) {
		ret = GS_ENOMEM;
		goto out;
	}
	for (i = 0; i < c.n; i++)
		c.v[i].s = text.buf + c.v[i].off;
	/* one stack of several threads, or several nodes, counted together */
	if (c.n)
		qsort(c.v, c.n, sizeof(*c.v), by_stack);
	for (i = 0; i < c.n; i = k) {
		for (k = i + 1; k < c.n && !by_stack(&c.v[i], &c.v[k]); k++)
			c.v[i].count += c.v[k].count;
		c.v[w++] = c.v[i];
	}
	if (w)
		qsort(c.v, w, sizeof(*c.v), by_count);
	for (i = 0; i < w && i < n; i++) {
		size_t len = strlen(c.v[i].s);

		memcpy(out[i].stack, c.v[i].s, len + 1);
		out[i].state = (enum gs_state)c.v[i].state;
		out[i].threads = (double)c.v[i].count / (double)a->samples;
	}
	ret = (int)i;
out:
	free(c.v);
	strbuf_release(&text);
	return ret;
}

static void add_labels(struct strbuf *sb, const struct prom_proc *p)
{
	strbuf_addf(sb, "{pid=\"%d\",command=", p->pid);
	add_value(sb, p->command ? p->command : "", PROM_COMMAND_MAX);
	strbuf_addstr(sb, ",python=");
	add_value(sb, p->version ? p->version : "", 32);
	strbuf_addf(sb, ",free_threaded=\"%s\",gil_enabled=\"%s\"",
		    p->free_threaded ? "true" : "false", p->gil_enabled ? "true" : "false");
}

static void head(struct strbuf *sb, const char *name, const char *type, const char *help)
{
	strbuf_addf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample line: name{labels[,extra]} value. */
static void line(struct strbuf *sb, const char *name, const struct prom_proc *p,
		 const char *extra, double v)
{
	strbuf_addstr(sb, name);
	add_labels(sb, p);
	if (extra)
		strbuf_addf(sb, ",%s", extra);
	strbuf_addf(sb, "} %.9g\n", v);
}

enum { M_HELD, M_CONTENDED, M_SWITCHES, M_STATE_S, M_TNAME_S, M_THREADS, M_STACK, M_VERDICT,
       M_TAKEN, M_LOST, M_N };

static const struct {
	const char *name, *type, *help;
} metric[M_N] = {
	{ "gilscope_gil_held_ratio", "gauge",
	  "Share of the last window's samples in which some thread held the GIL." },
	{ "gilscope_gil_contended_ratio", "gauge",
	  "Share of the last window's samples in which some thread waited for the GIL." },
	{ "gilscope_gil_switches_per_second", "gauge",
	  "GIL hand-overs per second over the last window." },
	{ "gilscope_thread_state_seconds_total", "counter",
	  "Thread-seconds spent in each state since the process was first sampled." },
	{ "gilscope_thread_name_state_seconds_total", "counter",
	  "Thread-seconds in each state of the threads of one name (--thread-names)." },
	{ "gilscope_threads", "gauge", "Threads in each state at the latest sample." },
	{ "gilscope_stack_threads", "gauge",
	  "Threads in this stack and state on average over the last window, for the "
	  "--top-stacks heaviest of the process (a gauge: a stack's series lasts only "
	  "while it is in the top N)." },
	{ "gilscope_verdict_info", "gauge", "The verdict over the last window (value 1)." },
	{ "gilscope_target_samples_total", "counter", "Samples taken of this process." },
	{ "gilscope_target_samples_lost_total", "counter",
	  "Samples of this process lost to a torn or failed read." },
};

static void proc_metric(struct strbuf *sb, int m, const struct prom_proc *p)
{
	char extra[64];
	struct strbuf lb = STRBUF_INIT;
	size_t k;
	int st;

	switch (m) {
	case M_HELD:
		if (p->have_window)
			line(sb, metric[m].name, p, NULL, p->gil_held);
		break;
	case M_CONTENDED:
		if (p->have_window)
			line(sb, metric[m].name, p, NULL, p->gil_contended);
		break;
	case M_SWITCHES:
		if (p->have_window && p->switches_per_s >= 0)
			line(sb, metric[m].name, p, NULL, p->switches_per_s);
		break;
	case M_STATE_S:
	case M_THREADS:
		for (st = 0; st < ST_COUNT; st++) {
			snprintf(extra, sizeof(extra), "state=\"%s\"", gs_state_name((enum gs_state)st));
			line(sb, metric[m].name, p, extra,
			     m == M_STATE_S ? p->state_seconds[st] : (double)p->threads[st]);
		}
		break;
	case M_TNAME_S:
		for (k = 0; k < p->ntnames; k++) {
			for (st = 0; st < ST_COUNT; st++) {
				strbuf_reset(&lb);
				strbuf_addstr(&lb, "thread_name=");
				add_value(&lb, p->tnames[k].name, PROM_THREAD_NAME_LEN);
				strbuf_addf(&lb, ",state=\"%s\"", gs_state_name((enum gs_state)st));
				if (lb.failed)
					sb->failed = 1;
				else
					line(sb, metric[m].name, p, lb.buf, p->tnames[k].state_seconds[st]);
			}
		}
		strbuf_release(&lb);
		break;
	case M_STACK:
		for (k = 0; k < p->nstacks; k++) {
			strbuf_reset(&lb);
			strbuf_addstr(&lb, "stack=");
			add_value(&lb, p->stacks[k].stack, PROM_STACK_MAX);
			strbuf_addf(&lb, ",state=\"%s\"", gs_state_name(p->stacks[k].state));
			if (lb.failed)
				sb->failed = 1;
			else
				line(sb, metric[m].name, p, lb.buf, p->stacks[k].threads);
		}
		strbuf_release(&lb);
		break;
	case M_VERDICT:
		if (p->have_window && p->verdict) {
			snprintf(extra, sizeof(extra), "kind=\"%s\"", p->verdict);
			line(sb, metric[m].name, p, extra, 1);
		}
		break;
	case M_TAKEN:
		line(sb, metric[m].name, p, NULL, (double)p->taken);
		break;
	case M_LOST:
		line(sb, metric[m].name, p, NULL, (double)p->lost);
		break;
	}
}

void report_prom(struct strbuf *sb, const struct prom_proc *p, size_t n,
		 const struct prom_self *self)
{
	size_t i;
	int m;

	for (m = 0; m < M_N; m++) {
		head(sb, metric[m].name, metric[m].type, metric[m].help);
		for (i = 0; i < n; i++)
			proc_metric(sb, m, &p[i]);
	}
	head(sb, "gilscope_samples_total", "counter",
	     "Sampling deadlines at which some process was sampled.");
	strbuf_addf(sb, "gilscope_samples_total %llu\n", (unsigned long long)self->taken);
	head(sb, "gilscope_samples_missed_total", "counter",
	     "Sampling deadlines skipped because gilscope was late.");
	strbuf_addf(sb, "gilscope_samples_missed_total %llu\n", (unsigned long long)self->missed);
	head(sb, "gilscope_cpu_seconds_total", "counter", "CPU time gilscope itself used.");
	strbuf_addf(sb, "gilscope_cpu_seconds_total %.6f\n", self->cpu_seconds);
	head(sb, "gilscope_targets", "gauge", "Python processes sampled now.");
	strbuf_addf(sb, "gilscope_targets %zu\n", self->targets);
	head(sb, "gilscope_targets_unreadable", "gauge",
	     "Selected processes that could not be read (permission, unsupported version).");
	strbuf_addf(sb, "gilscope_targets_unreadable %zu\n", self->unreadable);
}
