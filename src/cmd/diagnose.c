/*
 * diagnose.c - `gilscope diagnose`: sample a process, then say whether it is
 * GIL-bound, with the evidence and the remedy.
 */
#include "cmd.h"

#include <stdio.h>
#include <string.h>

#include "options.h"
#include "../analyze/verdict.h"
#include "../report/diagnose.h"
#include "../util/error.h"

static const char usage[] =
	"usage: gilscope diagnose (--pid PID | [--] command [args...]) [options]\n"
	"\n"
	"Sample every thread of a Python process and tell whether it is GIL-bound,\n"
	"I/O-bound, running native code, or idle, with the figures, the hottest\n"
	"frames in each state, and what to do about it.\n"
	"\n"
	"  -p, --pid PID        attach to a running process\n"
	"  -- command ...       launch the command, sample it until it exits\n"
	"  -d, --duration S     sample for S seconds (default: 5 when attaching,\n"
	"                       until exit when launching; Ctrl-C stops early)\n"
	"  -r, --rate HZ        samples per second (default 100)\n"
	"  -j, --json           JSON instead of text\n"
	"  -o, --output FILE    write the report to FILE instead of stdout\n"
	"      --no-progress    no progress line on stderr\n"
	LAUNCH_END_HELP;

int cmd_diagnose(int argc, char **argv)
{
	struct sample_opts o;
	struct strbuf sb = STRBUF_INIT;
	struct verdict v;
	struct run r;
	int status;

	memset(&o, 0, sizeof(o));
	o.run.rate_hz = 100;
	o.run.progress = -1;
	o.run.agg.mode = AGG_MODE_WALL;
	sample_opts_parse("diagnose", usage, argc, argv, &o);
	if (o.run.pid > 0 && !o.run.duration_s)
		o.run.duration_s = 5;

	status = run_session(&o.run, &r);
	if (status) {
		run_release(&r);
		return status;
	}
	verdict_decide(&r.agg, &v);
	if (o.json)
		report_diagnose_json(&sb, &r.info, &r.agg, &v);
	else
		report_diagnose_text(&sb, &r.info, &r.agg, &v);
	status = sb.failed ? GS_EXIT_ERROR : cmd_write_output(o.output, strbuf_str(&sb), sb.len);
	if (!status && r.info.launched)
		status = r.exit_status;
	strbuf_release(&sb);
	run_release(&r);
	return status;
}
