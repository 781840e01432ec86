/*
 * dump.c - text and JSON renderings of one sample.
 *
 * The JSON field names are a contract (README "dump --json"); add fields,
 * never rename them.
 */
#include "dump.h"

#include <inttypes.h>

#include "diagnose.h"
#include "../util/jw.h"

static const char *frame_func(const struct py_frame *f)
{
	return f->code ? f->code->qualname : "<unknown>";
}

static const char *frame_file(const struct py_frame *f)
{
	return f->code ? f->code->filename : "<unknown>";
}

void report_dump_text(struct strbuf *sb, const struct dump_info *info,
		      const struct sample *smp)
{
	size_t i, j;

	strbuf_addf(sb, "Process %d", info->pid);
	if (info->ppid)
		strbuf_addf(sb, " (child of %d)", info->ppid);
	strbuf_addf(sb, ": Python %s%s", info->version,
		    info->free_threaded ? " (free-threaded build)" : "");
	strbuf_addf(sb, ", GIL %s", info->gil_enabled ? "enabled" : "disabled");
	if (info->switch_interval_s >= 0)
		strbuf_addf(sb, ", switch interval %.3g ms", info->switch_interval_s * 1000);
	strbuf_addch(sb, '\n');
	if (info->command)
		strbuf_addf(sb, "Command: %s\n", info->command);
	strbuf_addf(sb, "Executable: %s%s%s\n", info->executable,
		    info->libpython[0] ? "  libpython: " : "", info->libpython);
	if (smp->walk_err)
		strbuf_addstr(sb, "warning: the thread list could not be read whole "
			      "(the process changed while we read it)\n");
	for (i = 0; i < smp->nthreads; i++) {
		const struct thread_sample *t = &smp->threads[i];

		strbuf_addf(sb, "\nThread %d", (int)t->tid);
		if (t->ns_tid)
			strbuf_addf(sb, " (%d in its namespace)", (int)t->ns_tid);
		strbuf_addf(sb, " \"%s\": %s%s", t->name, gs_state_name(t->state),
			    t->holds_gil ? "  [holds GIL]" : "");
		if (t->detail && t->detail[0])
			strbuf_addf(sb, "  (%s)", t->detail);
		strbuf_addch(sb, '\n');
		if (t->callee[0])
			strbuf_addf(sb, "    [C] %s\n", t->callee);
		for (j = 0; j < t->nframes; j++) {
			const struct py_frame *f = &t->frames[j];

			strbuf_addf(sb, "    %s (%s:%d)\n", frame_func(f), frame_file(f), (int)f->line);
		}
		if (t->truncated)
			strbuf_addstr(sb, "    ... (stack truncated)\n");
		if (t->torn)
			strbuf_addf(sb, "    ... (torn stack: %s; read again, it still did not reach "
				    "the thread's entry frame: these are the frames read, not the "
				    "whole stack)\n", py_torn_reason(t->torn));
		else if (t->stack_err)
			strbuf_addstr(sb, "    ... (rest of the stack unreadable)\n");
		if (!t->nframes && !t->stack_err && !t->torn)
			strbuf_addstr(sb, "    (no Python frames)\n");
	}
}

void report_dump_jw(struct jw *w, const char *key, const struct dump_info *info,
		    const struct sample *smp)
{
	size_t i, j;

	jw_obj(w, key);
	jw_int(w, "pid", info->pid);
	if (info->ppid)
		jw_int(w, "ppid", info->ppid);
	if (info->command)
		jw_str(w, "command", info->command);
	jw_obj(w, "python");
	report_python_members(w, info->version, info->free_threaded, info->gil_enabled,
			      info->switch_interval_s);
	jw_uint(w, "gil_switches", info->switch_number);
	jw_str(w, "executable", info->executable);
	jw_str(w, "libpython", info->libpython[0] ? info->libpython : NULL);
	jw_end(w);
	jw_arr(w, "threads");
	for (i = 0; i < smp->nthreads; i++) {
		const struct thread_sample *t = &smp->threads[i];
		char kstate[2] = { t->kstate >= 0x20 && t->kstate < 0x7f ? t->kstate : '?', 0 };

		jw_obj(w, NULL);
		jw_int(w, "tid", t->tid);
		if (t->ns_tid)
			jw_int(w, "ns_tid", t->ns_tid);
		jw_str(w, "name", t->name);
		jw_str(w, "state", gs_state_name(t->state));
		jw_bool(w, "holds_gil", t->holds_gil);
		jw_str(w, "detail", t->detail ? t->detail : "");
		jw_str(w, "native_call", t->callee[0] ? t->callee : NULL);
		jw_str(w, "kernel_state", kstate);
		jw_bool(w, "truncated", t->truncated);
		/* complete: the walk reached the thread's entry frame */
		jw_bool(w, "complete", !t->truncated && !t->stack_err && !t->torn);
		jw_bool(w, "torn", t->torn);
		jw_str(w, "torn_reason", t->torn ? py_torn_reason(t->torn) : NULL);
		jw_arr(w, "frames");
		for (j = 0; j < t->nframes; j++) {
			const struct py_frame *f = &t->frames[j];

			jw_obj(w, NULL);
			jw_str(w, "function", frame_func(f));
			jw_str(w, "name", f->code ? f->code->name : "<unknown>");
			jw_str(w, "file", frame_file(f));
			jw_int(w, "line", f->line);
			jw_end(w);
		}
		jw_end(w);
		jw_end(w);
	}
	jw_end(w);
	jw_end(w);
}

void report_dump_json(struct strbuf *sb, const struct dump_info *info,
		      const struct sample *smp)
{
	struct jw w;

	jw_init(&w, sb, 2);
	report_dump_jw(&w, NULL, info, smp);
	jw_finish(&w);
}

void report_dump_others_text(struct strbuf *sb, const struct dump_other *o, size_t n)
{
	size_t i;

	if (!n)
		return;
	strbuf_addstr(sb, "\nOther processes of the tree, not read:\n");
	for (i = 0; i < n; i++)
		strbuf_addf(sb, "  %d (child of %d): %s  [%s]\n", o[i].pid, o[i].ppid,
			    o[i].command && o[i].command[0] ? o[i].command : "?", o[i].why);
}

void report_dump_others_jw(struct jw *w, const char *key, const struct dump_other *o,
			   size_t n)
{
	size_t i;

	jw_arr(w, key);
	for (i = 0; i < n; i++) {
		jw_obj(w, NULL);
		jw_int(w, "pid", o[i].pid);
		jw_int(w, "ppid", o[i].ppid);
		jw_str(w, "command", o[i].command);
		jw_str(w, "why", o[i].why);
		jw_end(w);
	}
	jw_end(w);
}
