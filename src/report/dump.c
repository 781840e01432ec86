/*
 * dump.c - text and JSON renderings of one sample.
 *
 * The JSON field names are a contract (README "dump --json"); add fields,
 * never rename them.
 */
#include "dump.h"

#include <inttypes.h>

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

	strbuf_addf(sb, "Process %d: Python %s%s", info->pid, info->version,
		    info->free_threaded ? " (free-threaded build)" : "");
	strbuf_addf(sb, ", GIL %s", info->gil_enabled ? "enabled" : "disabled");
	if (info->switch_interval_s >= 0)
		strbuf_addf(sb, ", switch interval %.3g ms", info->switch_interval_s * 1000);
	strbuf_addch(sb, '\n');
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

void report_dump_json(struct strbuf *sb, const struct dump_info *info,
		      const struct sample *smp)
{
	size_t i, j;

	strbuf_addf(sb, "{\"pid\": %d, \"python\": {\"version\": ", info->pid);
	strbuf_add_json_str(sb, info->version);
	strbuf_addf(sb, ", \"free_threaded\": %s, \"gil_enabled\": %s",
		    info->free_threaded ? "true" : "false", info->gil_enabled ? "true" : "false");
	if (info->switch_interval_s >= 0)
		strbuf_addf(sb, ", \"switch_interval_s\": %.6g", info->switch_interval_s);
	else
		strbuf_addstr(sb, ", \"switch_interval_s\": null");
	strbuf_addf(sb, ", \"gil_switches\": %" PRIu64 ", \"executable\": ", info->switch_number);
	strbuf_add_json_str(sb, info->executable);
	strbuf_addstr(sb, ", \"libpython\": ");
	if (info->libpython[0])
		strbuf_add_json_str(sb, info->libpython);
	else
		strbuf_addstr(sb, "null");
	strbuf_addstr(sb, "}, \"threads\": [");
	for (i = 0; i < smp->nthreads; i++) {
		const struct thread_sample *t = &smp->threads[i];

		strbuf_addf(sb, "%s\n  {\"tid\": %d, ", i ? "," : "", (int)t->tid);
		if (t->ns_tid)
			strbuf_addf(sb, "\"ns_tid\": %d, ", (int)t->ns_tid);
		strbuf_addstr(sb, "\"name\": ");
		strbuf_add_json_str(sb, t->name);
		strbuf_addf(sb, ", \"state\": \"%s\", \"holds_gil\": %s, \"detail\": ",
			    gs_state_name(t->state), t->holds_gil ? "true" : "false");
		strbuf_add_json_str(sb, t->detail ? t->detail : "");
		strbuf_addstr(sb, ", \"native_call\": ");
		if (t->callee[0])
			strbuf_add_json_str(sb, t->callee);
		else
			strbuf_addstr(sb, "null");
		/* complete: the walk reached the thread's entry frame */
		strbuf_addf(sb, ", \"kernel_state\": \"%c\", \"truncated\": %s, \"complete\": %s, "
			    "\"torn\": %s, \"torn_reason\": ",
			    t->kstate >= 0x20 && t->kstate < 0x7f ? t->kstate : '?',
			    t->truncated ? "true" : "false",
			    !t->truncated && !t->stack_err && !t->torn ? "true" : "false",
			    t->torn ? "true" : "false");
		if (t->torn)
			strbuf_add_json_str(sb, py_torn_reason(t->torn));
		else
			strbuf_addstr(sb, "null");
		strbuf_addstr(sb, ", \"frames\": [");
		for (j = 0; j < t->nframes; j++) {
			const struct py_frame *f = &t->frames[j];

			strbuf_addstr(sb, j ? ", " : "");
			strbuf_addstr(sb, "{\"function\": ");
			strbuf_add_json_str(sb, frame_func(f));
			strbuf_addstr(sb, ", \"name\": ");
			strbuf_add_json_str(sb, f->code ? f->code->name : "<unknown>");
			strbuf_addstr(sb, ", \"file\": ");
			strbuf_add_json_str(sb, frame_file(f));
			strbuf_addf(sb, ", \"line\": %d}", (int)f->line);
		}
		strbuf_addstr(sb, "]}");
	}
	strbuf_addf(sb, "%s]}\n", smp->nthreads ? "\n" : "");
}
