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

static const char usage[] =
	"usage: gilscope record -o FILE (--pid PID | [--] command [args...]) [options]\n"
	"\n"
	"Sample a Python process and write a profile. Every stack ends in the\n"
	"thread's state ([waiting for the GIL], [blocked in I/O], ...), so the\n"
	"profile shows where threads wait as well as where they run.\n"
	"\n"
	"  -o, --output FILE    where to write (written whole, then renamed)\n"
	"  -f, --format F       flamegraph (default, interactive SVG), speedscope,\n"
	"                       chrometrace (Perfetto / chrome://tracing, with a GIL\n"
	"                       track), collapsed (flamegraph.pl input), json\n"
	"  -m, --mode M         wall (every sample, default), cpu (on-CPU samples\n"
	"                       only), gil (samples holding the GIL only)\n"
	"  -p, --pid PID        attach to a running process\n"
	"  -- command ...       launch the command, sample it until it exits\n"
	"  -d, --duration S     sample for S seconds (default: until the process\n"
	"                       exits or Ctrl-C)\n"
	"  -r, --rate HZ        samples per second (default 100)\n"
	"      --no-progress    no progress line on stderr\n"
	LAUNCH_END_HELP;

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

	memset(&o, 0, sizeof(o));
	o.run.rate_hz = 100;
	o.run.progress = -1;
	o.run.agg.mode = AGG_MODE_WALL;
	o.run.agg.state_leaves = 1;
	sample_opts_parse("record", usage, argc, argv, &o);
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

		verdict_decide(&r.agg, &v);
		strbuf_addstr(&sb, "{\"diagnosis\": ");
		report_diagnose_json(&sb, &r.info, &r.agg, &v);
		strbuf_addstr(&sb, ", \"stacks\": ");
		report_stacks_json(&sb, &r.agg);
		strbuf_addstr(&sb, "}\n");
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
