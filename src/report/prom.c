/* prom.c - the Prometheus text format of serve's metrics; see prom.h. */
#include "prom.h"

#include <stdio.h>
#include <string.h>

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

enum { M_HELD, M_CONTENDED, M_SWITCHES, M_STATE_S, M_TNAME_S, M_THREADS, M_VERDICT, M_TAKEN, M_LOST, M_N };

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
