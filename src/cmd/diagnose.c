/*
 * diagnose.c - `gilscope diagnose`: sample a process, then say whether it is
 * GIL-bound, with the evidence and the remedy.
 */
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "options.h"
#include "../analyze/program.h"
#include "../analyze/verdict.h"
#include "../report/diagnose.h"
#include "../report/program.h"
#include "../util/error.h"

static const struct opt_cmd diagnose_cmd = {
	.name = "diagnose",
	.synopsis =
	"usage: gilscope diagnose (--pid PID | [--] command [args...]) [options]\n"
	"\n"
	"Sample every thread of a Python process and tell whether it is GIL-bound,\n"
	"I/O-bound, running native code, or idle, with the figures, the hottest\n"
	"frames in each state, and what to do about it. With a command instead of\n"
	"--pid (after --), launch it and sample it until it exits. With\n"
	"--subprocesses, every Python process of its tree, and one verdict for\n"
	"the program.\n",
	.epilog = "\n" LAUNCH_END_HELP,
	.operands = OPT_COMMAND,
};

static int diagnose_tree(const struct sample_opts *o)
{
	struct run_tree *rt;
	struct tree_report *tr;
	struct strbuf sb = STRBUF_INIT;
	int status;

	if (run_tree_alloc(&rt, &tr))
		return GS_EXIT_ERROR;
	status = run_tree_session(&o->run, rt);
	if (status)
		goto out;
	run_tree_report(&o->run, rt, tr);
	if (o->json)
		report_program_json(&sb, &tr->dp);
	else
		report_program_text(&sb, &tr->dp);
	status = cmd_write_report(o->output, &sb);
	if (!status && rt->base.info.launched)
		status = rt->base.exit_status;
out:
	strbuf_release(&sb);
	run_tree_free(rt, tr);
	return status;
}

int cmd_diagnose(int argc, char **argv)
{
	struct sample_opts o;
	struct strbuf sb = STRBUF_INIT;
	struct verdict v;
	struct run r;
	int status;

	const struct opt opts[] = {
		SO_PID(&o),
		SO_DURATION(&o, "sample for S seconds (default: 5 when attaching,\n"
			    "until exit when launching; Ctrl-C stops early)"),
		SO_RATE(&o),
		SO_JSON(&o),
		SO_OUTPUT(&o, "write the report to FILE instead of stdout"),
		SO_NO_PROGRESS(&o),
		SO_PROGRESS(&o),
		SO_GRACE(&o),
		SO_KEEP_RUNNING(&o),
		SO_SUBPROCESSES(&o),
		SO_SWITCH_RECORDS(&o),
	};

	sample_opts_init(&o);
	sample_opts_parse(&diagnose_cmd, opts, OPT_COUNT(opts), argc, argv, &o);
	if (o.run.pid > 0 && !o.run.duration_s)
		o.run.duration_s = 5;
	if (o.run.subprocesses)
		return diagnose_tree(&o);

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
	status = cmd_write_report(o.output, &sb);
	if (!status && r.info.launched)
		status = r.exit_status;
	strbuf_release(&sb);
	run_release(&r);
	return status;
}
