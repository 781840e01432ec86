/*
 * record.c - `gilscope record`: sample a process and write a profile file:
 * a flame graph coloured by state, speedscope, a Chrome/Perfetto trace with
 * a GIL timeline, collapsed stacks, pprof, or JSON.
 */
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "options.h"
#include "../analyze/verdict.h"
#include "../report/chrometrace.h"
#include "../report/collapsed.h"
#include "../report/diagnose.h"
#include "../report/flamegraph.h"
#include "../report/pprof.h"
#include "../report/program.h"
#include "../report/speedscope.h"
#include "../report/stacks_json.h"
#include "../util/clock.h"
#include "../util/error.h"

static const struct opt_cmd record_cmd = {
	.name = "record",
	.synopsis =
	"usage: gilscope record -o FILE (--pid PID | [--] command [args...]) [options]\n"
	"\n"
	"Sample a Python process and write a profile. Every stack ends in the\n"
	"thread's state ([waiting for the GIL], [blocked in I/O], ...; in pprof\n"
	"a label), so the profile shows where threads wait as well as where\n"
	"they run. With a command instead of --pid (after --), launch it and\n"
	"sample it until it exits. With --subprocesses, every Python process\n"
	"of its tree, each stack under its process (pid and command line) in\n"
	"every format (in pprof, labels pid and process).\n",
	.epilog = "\n" LAUNCH_END_HELP,
	.operands = OPT_COMMAND,
};

enum fmt { F_FLAMEGRAPH, F_SPEEDSCOPE, F_CHROMETRACE, F_COLLAPSED, F_PPROF, F_JSON };

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
	if (!strcmp(s, "pprof"))
		return F_PPROF;
	if (!strcmp(s, "json"))
		return F_JSON;
	usage_error("record", "--format is flamegraph, speedscope, chrometrace, collapsed, "
		    "pprof or json, not '%s'", s);
}

/* What a profile is made of: one process (r), or a tree (tr, rt). */
struct source {
	const struct agg *a;
	const struct run *r;		/* one process */
	const struct run_tree *rt;	/* or a tree (--subprocesses) */
	const struct tree_report *tr;
};

static const char *mode_name(enum agg_mode m)
{
	return m == AGG_MODE_GIL ? "gil" : m == AGG_MODE_CPU ? "cpu" : "wall";
}

/* The wall-clock time of a CLOCK_MONOTONIC instant (ns since the epoch),
 * or 0 when it cannot be told. */
static uint64_t wall_time_of(uint64_t mono_ns)
{
	struct timespec ts;
	uint64_t now, mono = gs_now_ns();

	if (!mono_ns || mono_ns > mono || clock_gettime(CLOCK_REALTIME, &ts))
		return 0;
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return now > mono - mono_ns ? now - (mono - mono_ns) : 0;
}

static int render(struct strbuf *sb, enum fmt fmt, const struct sample_opts *o,
		  const struct source *src)
{
	const struct agg *a = src->a;
	int ret = 0;

	switch (fmt) {
	case F_FLAMEGRAPH: {
		struct flamegraph_options fo = { 0 };
		char title[256];

		if (src->rt)
			snprintf(title, sizeof(title), "gilscope: the tree of process %d, %zu Python "
				 "process%s (%s mode)", src->rt->base.info.pid, src->tr->dp.nprocs,
				 src->tr->dp.nprocs == 1 ? "" : "es", mode_name(o->run.agg.mode));
		else
			snprintf(title, sizeof(title), "gilscope: process %d, Python %s (%s mode)",
				 src->r->info.pid, src->r->info.version, mode_name(o->run.agg.mode));
		fo.title = title;
		ret = report_flamegraph(sb, a, &fo);
		break;
	}
	case F_SPEEDSCOPE: {
		struct speedscope_options so = { 0 };

		ret = report_speedscope(sb, a, &so);
		break;
	}
	case F_CHROMETRACE: {
		struct chrometrace_options co = { 0 };

		/* a tree's threads carry their own process's pid */
		co.pid = src->rt ? src->rt->base.info.pid : src->r->info.pid;
		ret = report_chrometrace(sb, a, &co);
		break;
	}
	case F_COLLAPSED: {
		struct collapsed_options co = { 0 };

		ret = report_collapsed(sb, a, &co);
		break;
	}
	case F_PPROF: {
		struct pprof_options po = { 0 };

		po.time_nanos = wall_time_of(a->t_first);
		ret = report_pprof(sb, a, &po);
		break;
	}
	case F_JSON: {
		struct verdict v;
		struct jw w;

		jw_init(&w, sb, 1);
		jw_obj(&w, NULL);
		if (src->rt) {
			report_program_jw(&w, "diagnosis", &src->tr->dp);
		} else {
			verdict_decide(a, &v);
			report_diagnose_jw(&w, "diagnosis", &src->r->info, a, &v);
		}
		report_stacks_jw(&w, "stacks", a);
		jw_end(&w);
		jw_finish(&w);
		break;
	}
	}
	return ret;
}

/* Render and write; returns the exit status. */
static int write_profile(enum fmt fmt, const struct sample_opts *o, const struct source *src,
			 const struct diag_info *info)
{
	struct strbuf sb = STRBUF_INIT;
	int ret, status;

	ret = render(&sb, fmt, o, src);
	if (ret || sb.failed) {
		fprintf(stderr, "gilscope: could not render the profile: %s\n",
			gs_strerror(ret ? ret : GS_ENOMEM));
		status = GS_EXIT_ERROR;
	} else {
		status = cmd_write_output(o->output, strbuf_str(&sb), sb.len);
		if (!status && src->rt)
			fprintf(stderr, "gilscope: wrote %s (%llu samples of %zu Python process%s)\n",
				o->output, (unsigned long long)src->a->samples, src->tr->dp.nprocs,
				src->tr->dp.nprocs == 1 ? "" : "es");
		else if (!status)
			fprintf(stderr, "gilscope: wrote %s (%llu samples%s)\n", o->output,
				(unsigned long long)src->a->samples,
				info->target_exited ? ", the process exited" :
				info->target_execd ? ", the process exec'd another program" : "");
	}
	strbuf_release(&sb);
	return status;
}

/* record --subprocesses: every Python process of the tree in one profile,
 * each one's stacks under its process. */
static int record_tree(enum fmt fmt, struct sample_opts *o)
{
	struct run_tree *rt;
	struct tree_report *tr;
	struct source src = { 0 };
	int status;

	if (run_tree_alloc(&rt, &tr))
		return GS_EXIT_ERROR;
	o->run.tree_all = 1;
	status = run_tree_session(&o->run, rt);
	if (status)
		goto out;
	run_tree_report(&o->run, rt, tr);
	src.a = rt->all;
	src.rt = rt;
	src.tr = tr;
	status = write_profile(fmt, o, &src, &rt->base.info);
	if (!status && rt->base.info.launched)
		status = rt->base.exit_status;
out:
	run_tree_free(rt, tr);
	return status;
}

int cmd_record(int argc, char **argv)
{
	struct sample_opts o;
	struct source src = { 0 };
	struct run r;
	enum fmt fmt;
	int status;

	const struct opt opts[] = {
		SO_OUTPUT(&o, "where to write (written whole, then renamed)"),
		{ .name = "format", .letter = 'f', .kind = OPT_STRING, .dest = &o.format, .arg = "F",
		  .help = "flamegraph (default, interactive SVG), speedscope,\n"
			  "chrometrace (Perfetto / chrome://tracing, with a GIL\n"
			  "track), collapsed (flamegraph.pl input), pprof\n"
			  "(gzip'd profile.proto for go tool pprof, Pyroscope,\n"
			  "Parca; labels thread, thread_name, state, holds_gil),\n"
			  "json" },
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
		SO_SWITCH_RECORDS(&o),
		{ .name = "subprocesses", .letter = 's', .kind = OPT_FLAG,
		  .dest = &o.run.subprocesses, .ival = 1,
		  .help = "every Python process of the tree too (the process\n"
			  "and its descendants, as they come and go), each\n"
			  "one's stacks under its process (pid: command)" },
	};

	sample_opts_init(&o);
	o.run.agg.state_leaves = 1;
	sample_opts_parse(&record_cmd, opts, OPT_COUNT(opts), argc, argv, &o);
	if (!o.output)
		usage_error("record", "where to? give -o FILE");
	fmt = parse_format(o.format);
	o.run.agg.timeline = fmt == F_CHROMETRACE || fmt == F_JSON;
	if (o.run.subprocesses)
		return record_tree(fmt, &o);

	status = run_session(&o.run, &r);
	if (status) {
		run_release(&r);
		return status;
	}
	src.a = &r.agg;
	src.r = &r;
	status = write_profile(fmt, &o, &src, &r.info);
	if (!status && r.info.launched)
		status = r.exit_status;
	run_release(&r);
	return status;
}
