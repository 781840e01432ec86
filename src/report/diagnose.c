/*
 * diagnose.c - render the diagnosis.
 *
 * Text: verdict first (what, why, what to do), then the figures it rests
 * on, then per-thread state bars, then the hottest frames per state.
 */
#include "diagnose.h"

#include "../target/swtrack.h"
#include "../util/jw.h"

#include <stdio.h>
#include <string.h>

#define BAR 32

static double frac(uint64_t x, uint64_t of)
{
	return of ? (double)x / (double)of : 0;
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
	if (a->switch_records_err)
		strbuf_addf(sb, "note: the kernel's context-switch records could not be read (%s): "
			    "every thread that may have run was asked /proc, which costs more with "
			    "many threads (run as root or with CAP_PERFMON, or set "
			    "kernel.perf_event_paranoid to 0)\n",
			    swtrack_strerror(a->switch_records_err));
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

static void json_stretch(struct jw *w, const char *key, const struct agg_stretches *st)
{
	jw_obj(w, key);
	jw_uint(w, "count", st->count);
	jw_fixed(w, "p50", (double)agg_stretch_pct(st, 50) / 1e6, 1);
	jw_fixed(w, "p90", (double)agg_stretch_pct(st, 90) / 1e6, 1);
	jw_fixed(w, "max", (double)st->max / 1e6, 1);
	jw_end(w);
}

static void json_frame(struct jw *w, const struct agg *a, uint32_t id, enum gs_state s)
{
	const struct agg_frame *f = &a->frames[id];

	jw_obj(w, NULL);
	jw_str(w, "function", agg_str(a, f->func));
	jw_str(w, "file", agg_str(a, f->file));
	jw_int(w, "line", f->line);
	jw_fixed(w, "fraction", frac(f->self[s], a->thread_samples), 4);
	jw_end(w);
}

static const char *const launch_end_names[] = {
	[DIAG_LAUNCH_NONE] = NULL, [DIAG_LAUNCH_EXITED] = "exited",
	[DIAG_LAUNCH_ENDED] = "ended", [DIAG_LAUNCH_LEFT] = "left_running",
	[DIAG_LAUNCH_NOT_ENDED] = "not_ended",
};

void report_launch_jw(struct jw *w, const struct diag_info *info)
{
	const struct diag_launch *l = &info->launch;
	int i;

	if (!info->launched) {
		jw_null(w, "launch");
		return;
	}
	jw_obj(w, "launch");
	jw_str(w, "command", l->command);
	jw_str(w, "end", launch_end_names[l->end]);
	jw_str(w, "reason", l->reason);
	jw_arr(w, "signals_sent");
	for (i = 0; i < l->nsignals; i++)
		jw_str(w, NULL, l->signals[i]);
	jw_end(w);
	if (l->exit_status >= 0)
		jw_int(w, "exit_status", l->exit_status);
	else
		jw_null(w, "exit_status");
	jw_str(w, "signal", l->signal);
	jw_int(w, "other_processes_ended", l->others);
	jw_end(w);
}

static void json_sampling(struct jw *w, const struct diag_info *info, const struct agg *a)
{
	size_t i;

	jw_obj(w, "sampling");
	jw_uint(w, "requested", a->requested);
	jw_uint(w, "taken", a->taken);
	jw_uint(w, "missed", a->missed);
	jw_uint(w, "errors", a->errors);
	jw_fixed(w, "worst_lag_ms", (double)a->worst_lag_ns / 1e6, 3);
	jw_bool(w, "target_exited", info->target_exited);
	jw_bool(w, "target_execd", info->target_execd);
	jw_bool(w, "interrupted", info->interrupted);
	jw_uint(w, "thread_samples", a->thread_samples);
	jw_uint(w, "torn", a->torn);
	jw_uint(w, "rereads", a->rereads);
	jw_uint(w, "files_short", a->files_short);
	jw_bool(w, "switch_records", a->switch_records);
	if (a->switch_records_err)
		jw_str(w, "switch_records_unavailable",
		       swtrack_strerror(a->switch_records_err));
	else
		jw_null(w, "switch_records_unavailable");
	jw_uint(w, "quiet_by_records", a->quiet_by_records);
	jw_uint(w, "switch_records_lost", a->switch_records_lost);
	jw_uint(w, "names_sliced", a->names_sliced);
	/* when, on CLOCK_MONOTONIC (the target's time.monotonic()): to line
	 * the figures up with the program's own clocks and logs */
	jw_uint(w, "first_sample_monotonic_ns", a->samples ? a->t_first : 0);
	jw_uint(w, "last_sample_monotonic_ns", a->samples ? a->t_last : 0);
	/* which checks of its memory failed, for bug reports */
	jw_arr(w, "corrupt");
	for (i = 0; i < a->nwhy; i++) {
		char at[320];

		snprintf(at, sizeof(at), "%s:%d", a->why[i]->file, a->why[i]->line);
		jw_obj(w, NULL);
		jw_str(w, "at", at);
		jw_str(w, "function", a->why[i]->func);
		jw_str(w, "why", a->why[i]->why);
		jw_uint(w, "samples", a->why[i]->count);
		jw_end(w);
	}
	jw_end(w);
	jw_end(w);
}

static void json_thread(struct jw *w, const struct agg *a, const struct agg_thread *t)
{
	uint64_t sum = 0;
	int s;

	jw_obj(w, NULL);
	jw_int(w, "tid", t->tid);
	if (t->ns_tid)
		jw_int(w, "ns_tid", t->ns_tid);
	jw_str(w, "name", agg_str(a, t->name));
	jw_uint(w, "samples", t->samples);
	jw_uint(w, "torn", t->torn);
	/* fractions of the thread's own samples, by state */
	for (s = 0; s < ST_COUNT; s++)
		sum += t->states[s];
	jw_obj(w, "states");
	for (s = 0; s < ST_COUNT; s++)
		jw_fixed(w, gs_state_name((enum gs_state)s), frac(t->states[s], sum), 6);
	jw_end(w);
	jw_fixed(w, "gil_held", frac(t->gil_held, t->samples), 6);
	jw_fixed(w, "busy", verdict_busy_fraction(t), 4);
	json_stretch(w, "gil_hold_ms", &t->hold);
	json_stretch(w, "gil_wait_ms", &t->wait);
	jw_end(w);
}

static void json_verdict(struct jw *w, const struct agg *a, const struct verdict *v)
{
	size_t j;
	int s;

	jw_obj(w, "verdict");
	jw_str(w, "kind", verdict_kind_name(v->kind));
	jw_str(w, "summary", v->summary);
	jw_str(w, "advice", v->advice);
	jw_int(w, "busy_threads", v->busy_threads);
	jw_obj(w, "shares");
	for (s = 0; s < ST_COUNT; s++)
		jw_fixed(w, gs_state_name((enum gs_state)s), v->share[s], 4);
	jw_end(w);
	jw_obj(w, "hot");
	for (s = 0; s < ST_COUNT; s++) {
		jw_arr(w, gs_state_name((enum gs_state)s));
		for (j = 0; j < v->nhot[s]; j++)
			json_frame(w, a, v->hot[s][j], (enum gs_state)s);
		jw_end(w);
	}
	jw_end(w);
	jw_obj(w, "native_calls");
	for (s = 0; s < ST_COUNT; s++) {
		jw_arr(w, gs_state_name((enum gs_state)s));
		for (j = 0; j < v->nnative[s]; j++) {
			const struct agg_frame *f = &a->frames[v->native[s][j]];

			jw_obj(w, NULL);
			jw_str(w, "function", agg_str(a, f->func));
			jw_fixed(w, "fraction", frac(f->self[s], a->thread_samples), 4);
			jw_end(w);
		}
		jw_end(w);
	}
	jw_end(w);
	jw_end(w);
}

void report_python_members(struct jw *w, const char *version, int free_threaded,
			   int gil_enabled, double switch_interval_s)
{
	jw_str(w, "version", version);
	jw_bool(w, "free_threaded", free_threaded);
	jw_bool(w, "gil_enabled", gil_enabled);
	if (switch_interval_s >= 0)
		jw_sig(w, "switch_interval_s", switch_interval_s, 6);
	else
		jw_null(w, "switch_interval_s");
}

void report_diagnose_jw(struct jw *w, const char *key, const struct diag_info *info,
			const struct agg *a, const struct verdict *v)
{
	size_t i;

	jw_obj(w, key);
	jw_int(w, "pid", info->pid);
	jw_obj(w, "python");
	report_python_members(w, info->version, info->free_threaded, info->gil_enabled,
			      info->switch_interval_s);
	jw_end(w);
	jw_uint(w, "samples", a->samples);
	jw_fixed(w, "duration_s", a->duration_s, 3);
	jw_sig(w, "rate_hz", a->opt.rate_hz, 6);
	json_sampling(w, info, a);
	report_launch_jw(w, info);
	jw_obj(w, "gil");
	jw_fixed(w, "held", v->gil_held, 4);
	jw_fixed(w, "contended", v->gil_contended, 4);
	jw_uint(w, "known_samples", a->gil_known);
	if (v->switches_per_s >= 0)
		jw_fixed(w, "switches_per_s", v->switches_per_s, 1);
	else
		jw_null(w, "switches_per_s");
	jw_end(w);
	jw_arr(w, "threads");
	for (i = 0; i < a->nthreads; i++)
		json_thread(w, a, &a->threads[i]);
	jw_end(w);
	json_verdict(w, a, v);
	jw_end(w);
}

void report_diagnose_json(struct strbuf *sb, const struct diag_info *info,
			  const struct agg *a, const struct verdict *v)
{
	struct jw w;

	jw_init(&w, sb, 2);
	report_diagnose_jw(&w, NULL, info, a, v);
	jw_finish(&w);
}
