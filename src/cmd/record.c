/*
 * record.c - `gilscope record`: sample a process and write a profile file:
 * a flame graph coloured by state, speedscope, a Chrome/Perfetto trace with
 * a GIL timeline, collapsed stacks, or JSON.
 */
#include "cmd.h"

#include <stdio.h>
#include <string.h>

#include "options.h"
#include "../analyze/verdict.h"
#include "../report/chrometrace.h"
#include "../report/collapsed.h"
#include "../report/diagnose.h"
#include "../report/flamegraph.h"
#include "../report/speedscope.h"
#include "../report/stacks_json.h"
#include "../util/error.h"

static const struct opt_cmd record_cmd = {
	.name = "record",
	.synopsis =
	"usage: gilscope record -o FILE (--pid PID | [--] command [args...]) [options]\n"
	"\n"
	"Sample a Python process and write a profile. Every stack ends in the\n"
	"thread's state ([waiting for the GIL], [blocked in I/O], ...), so the\n"
	"profile shows where threads wait as well as where they run. With a\n"
	"command instead of --pid (after --), launch it and sample it until it\n"
	"exits.\n",
	.epilog = "\n" LAUNCH_END_HELP,
	.operands = OPT_COMMAND,
};

enum fmt { F_FLAMEGRAPH, F_SPEEDSCOPE, F_CHROMETRACE, F_COLLAPSED, F_JSON };

static enum fmt parse_format(const char *s)
{
	if (!s || !strcmp(s, "flamegraph") || !strcmp(s, "svg"))
		return F_FLAMEGRAPH;
	if (!strcmp(s, "speedscope"))
		return F_SPEEDSCOPE;
	if (!strcmp(s, "chrometrace") || !strcmp(s, "perfetto") || !strcmp(s, "trace"))
		return F_CHROMETRACE;
	if (!strcmp(s, "collapsed") || !strcmp(s, "raw"))
		return F_COLLAPSED;
	if (!strcmp(s, "json"))
		return F_JSON;
	usage_error("record", "--format is flamegraph, speedscope, chrometrace, collapsed "
		    "or json, not '%s'", s);
}

int cmd_record(int argc, char **argv)
{
	struct sample_opts o;
	struct strbuf sb = STRBUF_INIT;
	struct run r;
	enum fmt fmt;
	int status, ret = 0;

	const struct opt opts[] = {
		SO_OUTPUT(&o, "where to write (written whole, then renamed)"),
		{ .name = "format", .letter = 'f', .kind = OPT_STRING, .dest = &o.format, .arg = "F",
		  .help = "flamegraph (default, interactive SVG), speedscope,\n"
			  "chrometrace (Perfetto / chrome://tracing, with a GIL\n"
			  "track), collapsed (flamegraph.pl input), json" },
		{ .name = "mode", .letter = 'm', .kind = OPT_CHOICE, .dest = &o.mode, .arg = "M",
		  .choices = sample_modes,
		  .help = "wall (every sample, default), cpu (on-CPU samples\n"
			  "only), gil (samples holding the GIL only)" },
		SO_PID(&o),
		SO_DURATION(&o, "sample for S seconds (default: until the process\n"
			    "exits or Ctrl-C)"),
		SO_RATE(&o),
		SO_NO_PROGRESS(&o),
		SO_PROGRESS(&o),
		SO_GRACE(&o),
		SO_KEEP_RUNNING(&o),
	};

	sample_opts_init(&o);
	o.run.agg.state_leaves = 1;
	sample_opts_parse(&record_cmd, opts, OPT_COUNT(opts), argc, argv, &o);
	if (!o.output)
		usage_error("record", "where to? give -o FILE");
	fmt = parse_format(o.format);
	o.run.agg.timeline = fmt == F_CHROMETRACE || fmt == F_JSON;

	status = run_session(&o.run, &r);
	if (status) {
		run_release(&r);
		return status;
	}
	switch (fmt) {
	case F_FLAMEGRAPH: {
		struct flamegraph_options fo = { 0 };
		char title[256];

		snprintf(title, sizeof(title), "gilscope: process %d, Python %s (%s mode)",
			 r.info.pid, r.info.version,
			 o.run.agg.mode == AGG_MODE_GIL ? "gil" :
			 o.run.agg.mode == AGG_MODE_CPU ? "cpu" : "wall");
		fo.title = title;
		ret = report_flamegraph(&sb, &r.agg, &fo);
		break;
	}
	case F_SPEEDSCOPE: {
		struct speedscope_options so = { 0 };

		ret = report_speedscope(&sb, &r.agg, &so);
		break;
	}
	case F_CHROMETRACE: {
		struct chrometrace_options co = { 0 };

		co.pid = r.info.pid;
		ret = report_chrometrace(&sb, &r.agg, &co);
		break;
	}
	case F_COLLAPSED: {
		struct collapsed_options co = { 0 };

		ret = report_collapsed(&sb, &r.agg, &co);
		break;
	}
	case F_JSON: {
		struct verdict v;
		struct jw w;

		verdict_decide(&r.agg, &v);
		jw_init(&w, &sb, 1);
		jw_obj(&w, NULL);
		report_diagnose_jw(&w, "diagnosis", &r.info, &r.agg, &v);
		report_stacks_jw(&w, "stacks", &r.agg);
		jw_end(&w);
		jw_finish(&w);
		break;
	}
	}
	if (ret || sb.failed) {
		fprintf(stderr, "gilscope: could not render the profile: %s\n",
			gs_strerror(ret ? ret : GS_ENOMEM));
		status = GS_EXIT_ERROR;
	} else {
		status = cmd_write_output(o.output, strbuf_str(&sb), sb.len);
		if (!status)
			fprintf(stderr, "gilscope: wrote %s (%llu samples%s)\n", o.output,
				(unsigned long long)r.agg.samples,
				r.info.target_exited ? ", the process exited" :
				r.info.target_execd ? ", the process exec'd another program" : "");
	}
	if (!status && r.info.launched)
		status = r.exit_status;
	strbuf_release(&sb);
	run_release(&r);
	return status;
}
