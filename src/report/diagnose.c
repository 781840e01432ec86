/*
 * diagnose.c - render the diagnosis.
 *
 * Text: verdict first (what, why, what to do), then the figures it rests
 * on, then per-thread state bars, then the hottest frames per state.
 */
#include "diagnose.h"

#include <stdio.h>
#include <string.h>

#define BAR 32

static double frac(uint64_t x, uint64_t of)
{
	return of ? (double)x / (double)of : 0;
}

static void add_ms(struct strbuf *sb, uint64_t ns)
{
	strbuf_addf(sb, "%.1f", (double)ns / 1e6);
}

static void bar(struct strbuf *sb, const struct agg_thread *t)
{
	int s, k, w = 0, n;

	strbuf_addch(sb, '[');
	for (s = 0; s < ST_COUNT; s++) {
		n = (int)(frac(t->states[s], t->samples) * BAR + 0.5);
		for (k = 0; k < n && w < BAR; k++, w++)
			strbuf_addch(sb, gs_state_info((enum gs_state)s)->letter);
	}
	for (; w < BAR; w++)
		strbuf_addch(sb, ' ');
	strbuf_addch(sb, ']');
}

static void frame_text(struct strbuf *sb, const struct agg *a, uint32_t id)
{
	const struct agg_frame *f = &a->frames[id];

	strbuf_addf(sb, "%s (%s:%d)", agg_str(a, f->func), agg_str(a, f->file), (int)f->line);
}

void report_diagnose_text(struct strbuf *sb, const struct diag_info *info,
			  const struct agg *a, const struct verdict *v)
{
	size_t i, j;
	int s;

	strbuf_addf(sb, "gilscope: process %d, Python %s%s, GIL %s, %.1f s, %llu samples at %.0f Hz\n",
		    info->pid, info->version, info->free_threaded ? " (free-threaded)" : "",
		    info->gil_enabled ? "enabled" : "disabled", a->duration_s,
		    (unsigned long long)a->samples, a->opt.rate_hz);
	if (info->target_exited)
		strbuf_addstr(sb, "note: the process exited during sampling; this is what was seen until then\n");
	if (info->target_execd)
		strbuf_addstr(sb, "note: the process replaced itself with another program (exec) during "
			      "sampling; this is what was seen until then\n");
	if (info->interrupted)
		strbuf_addstr(sb, "note: sampling was interrupted; this is what was seen until then\n");
	if (a->missed)
		strbuf_addf(sb, "note: fell behind: %llu of %llu samples missed, worst lag %.1f ms\n",
			    (unsigned long long)a->missed, (unsigned long long)a->requested,
			    (double)a->worst_lag_ns / 1e6);
	if (a->files_short)
		strbuf_addf(sb, "note: the open-file limit (%llu) kept the /proc files of up to %llu of "
			    "%llu threads from staying open: those cost an open and a close per "
			    "sample (raise it with ulimit -n)\n",
			    (unsigned long long)a->files_limit, (unsigned long long)a->files_short,
			    (unsigned long long)a->files_threads);
	if (a->torn)
		strbuf_addf(sb, "note: %llu of %llu thread samples (%.1f%%) caught a stack mid-change "
			    "even when read again (torn); their states count, their frames are "
			    "kept apart under [torn stack]\n",
			    (unsigned long long)a->torn, (unsigned long long)a->thread_samples,
			    100 * frac(a->torn, a->thread_samples));

	strbuf_addf(sb, "\nVerdict: %s\n  %s\n  Remedy: %s\n", verdict_kind_name(v->kind),
		    v->summary, v->advice);

	strbuf_addstr(sb, "\nEvidence:\n");
	if (a->gil_known)
		strbuf_addf(sb, "  GIL held %.0f%% of the time, contended %.0f%%", 100 * v->gil_held,
			    100 * v->gil_contended);
	else
		strbuf_addstr(sb, "  GIL: not in use");
	if (v->switches_per_s >= 0)
		strbuf_addf(sb, ", %.0f switches/s", v->switches_per_s);
	if (info->switch_interval_s > 0)
		strbuf_addf(sb, " (switch interval %.1f ms)", info->switch_interval_s * 1000);
	strbuf_addf(sb, "\n  busy threads: %d of %zu;", v->busy_threads, a->nthreads);
	for (s = 0; s < ST_COUNT; s++)
		if (v->share[s] >= 0.005)
			strbuf_addf(sb, " %s %.0f%%", gs_state_name((enum gs_state)s), 100 * v->share[s]);
	strbuf_addch(sb, '\n');

	strbuf_addstr(sb, "\nThreads (P python, C native holding GIL, N native, W GIL wait, I io, s sleep, l lock):\n");
	for (i = 0; i < a->nthreads && !a->threads[i].ns_tid; i++)
		;
	if (i < a->nthreads)
		strbuf_addstr(sb, "  (thread ids: this machine's/the target's PID namespace's)\n");
	for (i = 0; i < a->nthreads; i++) {
		const struct agg_thread *t = &a->threads[i];

		if (t->ns_tid) {
			char both[32];

			snprintf(both, sizeof(both), "%d/%d", (int)t->tid, (int)t->ns_tid);
			strbuf_addf(sb, "  %-7s %-16.16s ", both, agg_str(a, t->name));
		} else {
			strbuf_addf(sb, "  %-7d %-16.16s ", (int)t->tid, agg_str(a, t->name));
		}
		bar(sb, t);
		strbuf_addf(sb, " GIL %3.0f%%", 100 * frac(t->gil_held, t->samples));
		if (t->hold.count)
			strbuf_addf(sb, "  held p50/p90/max %.1f/%.1f/%.1f ms",
				    (double)agg_stretch_pct(&t->hold, 50) / 1e6,
				    (double)agg_stretch_pct(&t->hold, 90) / 1e6,
				    (double)t->hold.max / 1e6);
		if (t->wait.count)
			strbuf_addf(sb, "  waited p50/max %.1f/%.1f ms",
				    (double)agg_stretch_pct(&t->wait, 50) / 1e6,
				    (double)t->wait.max / 1e6);
		strbuf_addch(sb, '\n');
	}

	strbuf_addstr(sb, "\nHottest frames by state:\n");
	for (s = 0; s < ST_COUNT; s++) {
		if (!v->nhot[s])
			continue;
		strbuf_addf(sb, "  %s:\n", gs_state_name((enum gs_state)s));
		for (j = 0; j < v->nnative[s]; j++)
			strbuf_addf(sb, "    %5.1f%%  [C] %s\n",
				    100 * frac(a->frames[v->native[s][j]].self[s], a->thread_samples),
				    agg_str(a, a->frames[v->native[s][j]].func));
		for (j = 0; j < v->nhot[s]; j++) {
			strbuf_addf(sb, "    %5.1f%%  ", 100 * frac(a->frames[v->hot[s][j]].self[s],
								 a->thread_samples));
			frame_text(sb, a, v->hot[s][j]);
			strbuf_addch(sb, '\n');
		}
	}
}

static void json_stretch(struct strbuf *sb, const char *key, const struct agg_stretches *st)
{
	strbuf_addf(sb, ", \"%s\": {\"count\": %llu, \"p50\": ", key, (unsigned long long)st->count);
	add_ms(sb, agg_stretch_pct(st, 50));
	strbuf_addstr(sb, ", \"p90\": ");
	add_ms(sb, agg_stretch_pct(st, 90));
	strbuf_addstr(sb, ", \"max\": ");
	add_ms(sb, st->max);
	strbuf_addstr(sb, "}");
}

static void json_frame(struct strbuf *sb, const struct agg *a, uint32_t id, enum gs_state s)
{
	const struct agg_frame *f = &a->frames[id];

	strbuf_addstr(sb, "{\"function\": ");
	strbuf_add_json_str(sb, agg_str(a, f->func));
	strbuf_addstr(sb, ", \"file\": ");
	strbuf_add_json_str(sb, agg_str(a, f->file));
	strbuf_addf(sb, ", \"line\": %d, \"fraction\": %.4f}", (int)f->line,
		    frac(f->self[s], a->thread_samples));
}

static const char *const launch_end_names[] = {
	[DIAG_LAUNCH_NONE] = NULL, [DIAG_LAUNCH_EXITED] = "exited",
	[DIAG_LAUNCH_ENDED] = "ended", [DIAG_LAUNCH_LEFT] = "left_running",
	[DIAG_LAUNCH_NOT_ENDED] = "not_ended",
};

static void json_str_or_null(struct strbuf *sb, const char *s)
{
	if (s)
		strbuf_add_json_str(sb, s);
	else
		strbuf_addstr(sb, "null");
}

static void json_launch(struct strbuf *sb, const struct diag_info *info)
{
	const struct diag_launch *l = &info->launch;
	int i;

	strbuf_addstr(sb, ",\n \"launch\": ");
	if (!info->launched) {
		strbuf_addstr(sb, "null");
		return;
	}
	strbuf_addstr(sb, "{\"command\": ");
	json_str_or_null(sb, l->command);
	strbuf_addstr(sb, ", \"end\": ");
	json_str_or_null(sb, launch_end_names[l->end]);
	strbuf_addstr(sb, ", \"reason\": ");
	json_str_or_null(sb, l->reason);
	strbuf_addstr(sb, ", \"signals_sent\": [");
	for (i = 0; i < l->nsignals; i++) {
		strbuf_addstr(sb, i ? ", " : "");
		strbuf_add_json_str(sb, l->signals[i]);
	}
	strbuf_addstr(sb, "], \"exit_status\": ");
	if (l->exit_status >= 0)
		strbuf_addf(sb, "%d", l->exit_status);
	else
		strbuf_addstr(sb, "null");
	strbuf_addstr(sb, ", \"signal\": ");
	json_str_or_null(sb, l->signal);
	strbuf_addf(sb, ", \"other_processes_ended\": %d}", l->others);
}

void report_diagnose_json(struct strbuf *sb, const struct diag_info *info,
			  const struct agg *a, const struct verdict *v)
{
	size_t i, j;
	int s;

	strbuf_addf(sb, "{\"pid\": %d, \"python\": {\"version\": ", info->pid);
	strbuf_add_json_str(sb, info->version);
	strbuf_addf(sb, ", \"free_threaded\": %s, \"gil_enabled\": %s",
		    info->free_threaded ? "true" : "false", info->gil_enabled ? "true" : "false");
	if (info->switch_interval_s >= 0)
		strbuf_addf(sb, ", \"switch_interval_s\": %.6g}", info->switch_interval_s);
	else
		strbuf_addstr(sb, ", \"switch_interval_s\": null}");
	strbuf_addf(sb, ",\n \"samples\": %llu, \"duration_s\": %.3f, \"rate_hz\": %.6g",
		    (unsigned long long)a->samples, a->duration_s, a->opt.rate_hz);
	strbuf_addf(sb, ",\n \"sampling\": {\"requested\": %llu, \"taken\": %llu, \"missed\": %llu, "
		    "\"errors\": %llu, \"worst_lag_ms\": %.3f, \"target_exited\": %s, "
		    "\"target_execd\": %s, \"interrupted\": %s, \"thread_samples\": %llu, "
		    "\"torn\": %llu, \"rereads\": %llu, \"files_short\": %llu",
		    (unsigned long long)a->requested, (unsigned long long)a->taken,
		    (unsigned long long)a->missed, (unsigned long long)a->errors,
		    (double)a->worst_lag_ns / 1e6, info->target_exited ? "true" : "false",
		    info->target_execd ? "true" : "false", info->interrupted ? "true" : "false",
		    (unsigned long long)a->thread_samples, (unsigned long long)a->torn,
		    (unsigned long long)a->rereads, (unsigned long long)a->files_short);
	/* which checks of its memory failed, for bug reports */
	strbuf_addstr(sb, ", \"corrupt\": [");
	for (i = 0; i < a->nwhy; i++) {
		char at[320];

		snprintf(at, sizeof(at), "%s:%d", a->why[i]->file, a->why[i]->line);
		strbuf_addf(sb, "%s{\"at\": ", i ? ", " : "");
		strbuf_add_json_str(sb, at);
		strbuf_addstr(sb, ", \"function\": ");
		strbuf_add_json_str(sb, a->why[i]->func);
		strbuf_addstr(sb, ", \"why\": ");
		strbuf_add_json_str(sb, a->why[i]->why);
		strbuf_addf(sb, ", \"samples\": %llu}", (unsigned long long)a->why[i]->count);
	}
	strbuf_addstr(sb, "]}");
	json_launch(sb, info);
	strbuf_addf(sb, ",\n \"gil\": {\"held\": %.4f, \"contended\": %.4f, \"known_samples\": %llu",
		    v->gil_held, v->gil_contended, (unsigned long long)a->gil_known);
	if (v->switches_per_s >= 0)
		strbuf_addf(sb, ", \"switches_per_s\": %.1f}", v->switches_per_s);
	else
		strbuf_addstr(sb, ", \"switches_per_s\": null}");
	strbuf_addstr(sb, ",\n \"threads\": [");
	for (i = 0; i < a->nthreads; i++) {
		const struct agg_thread *t = &a->threads[i];
		uint64_t sum = 0;

		strbuf_addf(sb, "%s\n  {\"tid\": %d, ", i ? "," : "", (int)t->tid);
		if (t->ns_tid)
			strbuf_addf(sb, "\"ns_tid\": %d, ", (int)t->ns_tid);
		strbuf_addstr(sb, "\"name\": ");
		strbuf_add_json_str(sb, agg_str(a, t->name));
		strbuf_addf(sb, ", \"samples\": %llu, \"torn\": %llu, \"states\": {",
			    (unsigned long long)t->samples, (unsigned long long)t->torn);
		/* print fractions so that they sum to exactly 1: the last
		 * non-zero state takes the rounding remainder */
		for (s = 0; s < ST_COUNT; s++)
			sum += t->states[s];
		for (s = 0; s < ST_COUNT; s++)
			strbuf_addf(sb, "%s\"%s\": %.6f", s ? ", " : "", gs_state_name((enum gs_state)s),
				    frac(t->states[s], sum));
		strbuf_addf(sb, "}, \"gil_held\": %.6f, \"busy\": %.4f", frac(t->gil_held, t->samples),
			    verdict_busy_fraction(t));
		json_stretch(sb, "gil_hold_ms", &t->hold);
		json_stretch(sb, "gil_wait_ms", &t->wait);
		strbuf_addstr(sb, "}");
	}
	strbuf_addf(sb, "\n ],\n \"verdict\": {\"kind\": \"%s\", \"summary\": ", verdict_kind_name(v->kind));
	strbuf_add_json_str(sb, v->summary);
	strbuf_addstr(sb, ", \"advice\": ");
	strbuf_add_json_str(sb, v->advice);
	strbuf_addf(sb, ", \"busy_threads\": %d, \"shares\": {", v->busy_threads);
	for (s = 0; s < ST_COUNT; s++)
		strbuf_addf(sb, "%s\"%s\": %.4f", s ? ", " : "", gs_state_name((enum gs_state)s), v->share[s]);
	strbuf_addstr(sb, "}, \"hot\": {");
	for (s = 0; s < ST_COUNT; s++) {
		strbuf_addf(sb, "%s\"%s\": [", s ? ", " : "", gs_state_name((enum gs_state)s));
		for (j = 0; j < v->nhot[s]; j++) {
			strbuf_addstr(sb, j ? ", " : "");
			json_frame(sb, a, v->hot[s][j], (enum gs_state)s);
		}
		strbuf_addstr(sb, "]");
	}
	strbuf_addstr(sb, "}, \"native_calls\": {");
	for (s = 0; s < ST_COUNT; s++) {
		strbuf_addf(sb, "%s\"%s\": [", s ? ", " : "", gs_state_name((enum gs_state)s));
		for (j = 0; j < v->nnative[s]; j++) {
			const struct agg_frame *f = &a->frames[v->native[s][j]];

			strbuf_addstr(sb, j ? ", {\"function\": " : "{\"function\": ");
			strbuf_add_json_str(sb, agg_str(a, f->func));
			strbuf_addf(sb, ", \"fraction\": %.4f}", frac(f->self[s], a->thread_samples));
		}
		strbuf_addstr(sb, "]");
	}
	strbuf_addstr(sb, "}}}\n");
}
