/* program.c - a process tree's diagnosis; see program.h. */
#include "program.h"

#include <stdio.h>

#include "../sample/group.h"

static double gil_held(const struct diag_proc *d)
{
	return d->a->gil_known ? (double)d->a->gil_held / (double)d->a->gil_known : -1;
}

void report_program_text(struct strbuf *sb, const struct diag_program *p)
{
	const struct program_verdict *pv = p->pv;
	size_t i, exited = 0;

	for (i = 0; i < p->nprocs; i++)
		exited += p->procs[i].info->target_exited || p->procs[i].info->target_execd;
	strbuf_addf(sb, "gilscope: the tree of process %d: %zu Python process%s", p->root->pid,
		    p->nprocs, p->nprocs == 1 ? "" : "es");
	if (exited)
		strbuf_addf(sb, " (%zu ended during sampling)", exited);
	strbuf_addf(sb, ", %.1f s at %.0f Hz\n", p->duration_s, p->rate_hz);
	if (p->root->interrupted)
		strbuf_addstr(sb, "note: sampling was interrupted; this is what was seen until then\n");
	if (p->dropped)
		strbuf_addf(sb, "note: the tree had more processes than gilscope keeps (%d): %zu "
			    "were not sampled\n", GROUP_MAX, p->dropped);
	if (p->missed)
		strbuf_addf(sb, "note: fell behind: %llu of %llu samples missed, worst lag %.1f ms\n",
			    (unsigned long long)p->missed, (unsigned long long)p->requested,
			    (double)p->worst_lag_ns / 1e6);
	strbuf_addf(sb, "\nVerdict for the program: %s\n  %s\n  Remedy: %s\n",
		    verdict_kind_name(pv->kind), pv->summary, pv->advice);
	strbuf_addstr(sb, "\nProcesses:\n      PID     PPID  verdict            busy  GIL held  "
		      "samples  command\n");
	for (i = 0; i < p->nprocs; i++) {
		const struct diag_proc *d = &p->procs[i];
		double held = gil_held(d);

		strbuf_addf(sb, "  %7d  %7d  %-17s  %4d  ", d->info->pid, d->ppid,
			    verdict_kind_name(d->v->kind), d->v->busy_threads);
		if (held >= 0)
			strbuf_addf(sb, "%7.0f%%", 100 * held);
		else
			strbuf_addstr(sb, "       -");
		strbuf_addf(sb, "  %7llu  %s%s\n", (unsigned long long)d->a->samples,
			    d->command && d->command[0] ? d->command : "?",
			    d->info->target_exited || d->info->target_execd ? "  (ended)" : "");
	}
	for (i = 0; i < p->nothers; i++)
		strbuf_addf(sb, "  %7d  %7d  (%s)  %s\n", p->others[i].pid, p->others[i].ppid,
			    p->others[i].why, p->others[i].command && p->others[i].command[0] ?
			    p->others[i].command : "?");
	for (i = 0; i < p->nprocs; i++) {
		const struct diag_proc *d = &p->procs[i];

		strbuf_addf(sb, "\n==== process %d (child of %d): %s\n", d->info->pid, d->ppid,
			    d->command && d->command[0] ? d->command : "?");
		report_diagnose_text(sb, d->info, d->a, d->v);
	}
}

void report_program_json(struct strbuf *sb, const struct diag_program *p)
{
	struct jw w;

	jw_init(&w, sb, 2);
	report_program_jw(&w, NULL, p);
	jw_finish(&w);
}

void report_program_jw(struct jw *w, const char *key, const struct diag_program *p)
{
	const struct program_verdict *pv = p->pv;
	size_t i;

	jw_obj(w, key);
	jw_int(w, "pid", p->root->pid);
	jw_bool(w, "subprocesses", 1);
	jw_fixed(w, "duration_s", p->duration_s, 3);
	jw_sig(w, "rate_hz", p->rate_hz, 6);
	jw_obj(w, "sampling");
	jw_uint(w, "requested", p->requested);
	jw_uint(w, "taken", p->taken);
	jw_uint(w, "missed", p->missed);
	jw_fixed(w, "worst_lag_ms", (double)p->worst_lag_ns / 1e6, 3);
	jw_bool(w, "interrupted", p->root->interrupted);
	jw_uint(w, "processes_not_kept", p->dropped);
	jw_end(w);
	report_launch_jw(w, p->root);
	jw_obj(w, "program");
	jw_str(w, "kind", verdict_kind_name(pv->kind));
	jw_str(w, "summary", pv->summary);
	jw_str(w, "advice", pv->advice);
	jw_int(w, "processes", pv->processes);
	jw_int(w, "busy_processes", pv->busy);
	if (pv->where)
		jw_int(w, "where", pv->where);
	else
		jw_null(w, "where");
	jw_end(w);
	jw_arr(w, "processes");
	for (i = 0; i < p->nprocs; i++) {
		const struct diag_proc *d = &p->procs[i];

		jw_obj(w, NULL);
		jw_int(w, "pid", d->info->pid);
		jw_int(w, "ppid", d->ppid);
		jw_str(w, "command", d->command);
		jw_bool(w, "ended", d->info->target_exited || d->info->target_execd);
		report_diagnose_jw(w, "diagnosis", d->info, d->a, d->v);
		jw_end(w);
	}
	jw_end(w);
	report_dump_others_jw(w, "others", p->others, p->nothers);
	jw_end(w);
}
