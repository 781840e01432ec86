/*
 * speedup.c - `gilscope speedup`: time a function on one thread and on T
 * threads (the source document's "quick way to measure GIL contention"),
 * and say from samples of each threaded run why it scaled or did not.
 */
#include "cmd.h"
#include "opt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "speedup_run.h"
#include "../report/speedup.h"
#include "../util/error.h"

#define MAX_THREADS 1024
#define MAX_CALLS 1000000000L

static const struct opt_cmd speedup_cmd = {
	.name = "speedup",
	.synopsis =
	"usage: gilscope speedup TARGET [options]\n"
	"\n"
	"Do threads make this function faster, and if not, why? Runs it CALLS\n"
	"times in one thread (the baseline), then, for each thread count T, in T\n"
	"threads that each make CALLS calls at once. For each T it reports the\n"
	"speedup (baseline x T / threaded time), the efficiency (speedup / T),\n"
	"and, from sampling the threaded run, what the threads spent their time\n"
	"on and the verdict (GIL-bound Python, native code releasing the GIL, ...).\n"
	"\n"
	"TARGET is module:function (imported with the current directory first on\n"
	"sys.path) or path/to/file.py:function; the function takes no arguments.\n",
	.operands = OPT_OPERANDS,
};

static long parse_long(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi)
		usage_error("speedup", "%s wants a whole number from %ld to %ld, not '%s'", opt,
			    lo, hi, s);
	return v;
}

static void parse_counts(void *ctx, const char *list)
{
	struct speedup_opts *o = ctx;
	char buf[512], *tok, *save = NULL;

	if (strlen(list) >= sizeof(buf))
		usage_error("speedup", "--threads: list too long");
	memcpy(buf, list, strlen(list) + 1);
	o->ncounts = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->ncounts == SPEEDUP_MAX_COUNTS)
			usage_error("speedup", "--threads: at most %d counts", SPEEDUP_MAX_COUNTS);
		o->counts[o->ncounts++] = (int)parse_long("--threads", tok, 1, MAX_THREADS);
	}
	if (!o->ncounts)
		usage_error("speedup", "--threads wants counts like 1,2,4,8, not '%s'", list);
}

int cmd_speedup(int argc, char **argv)
{
	struct speedup_opts o;
	struct speedup_report *rep;
	struct strbuf sb = STRBUF_INIT;
	const char *output = NULL, *colon;
	int json = 0, status, i;
	const struct opt opts[] = {
		{ .name = "python", .kind = OPT_STRING, .dest = &o.python, .arg = "PY",
		  .help = "the interpreter to use (default: python3 from PATH)" },
		{ .name = "threads", .letter = 't', .kind = OPT_CALL, .call = parse_counts, .ctx = &o,
		  .arg = "LIST", .help = "thread counts, comma-separated (default: 1,2,4,8)" },
		{ .name = "calls", .letter = 'n', .kind = OPT_LONG, .dest = &o.calls, .arg = "N",
		  .lo = 1, .hi = MAX_CALLS,
		  .help = "calls per thread, and in the baseline (default: as\n"
			  "many as make the baseline last about 0.5 s)" },
		{ .name = "processes", .kind = OPT_FLAG, .dest = &o.processes, .ival = 1,
		  .help = "also run each count on a ProcessPoolExecutor" },
		{ .name = "rate", .letter = 'r', .kind = OPT_NUM, .dest = &o.rate_hz, .arg = "HZ",
		  .lo = 1, .hi = 10000, .help = "samples per second (default 100)" },
		{ .name = "json", .letter = 'j', .kind = OPT_FLAG, .dest = &json, .ival = 1,
		  .help = "JSON instead of text" },
		{ .name = "output", .letter = 'o', .kind = OPT_STRING, .dest = &output, .arg = "FILE",
		  .help = "write the report to FILE instead of stdout" },
		{ .name = "no-progress", .kind = OPT_FLAG, .dest = &o.progress, .ival = 0,
		  .help = "no phase lines on stderr" },
		{ .name = "progress", .kind = OPT_FLAG, .dest = &o.progress, .ival = 1,
		  .help = "phase lines on stderr (default: when stderr is a\nterminal)" },
	};

	memset(&o, 0, sizeof(o));
	o.python = "python3";
	o.rate_hz = 100;
	o.progress = -1;
	o.counts[0] = 1, o.counts[1] = 2, o.counts[2] = 4, o.counts[3] = 8;
	o.ncounts = 4;
	i = opt_parse(&speedup_cmd, opts, OPT_COUNT(opts), argc, argv);
	if (i >= argc)
		usage_error("speedup", "which function? give TARGET as module:function or "
			    "path/to/file.py:function");
	if (i + 1 < argc)
		usage_error("speedup", "unexpected argument '%s' (the function takes no arguments)",
			    argv[i + 1]);
	o.target = argv[i];
	colon = strrchr(o.target, ':');
	if (!colon || colon == o.target || !colon[1])
		usage_error("speedup", "TARGET is module:function or path/to/file.py:function, "
			    "not '%s'", o.target);
	if (o.progress < 0)
		o.progress = isatty(2);

	rep = calloc(1, sizeof(*rep));
	if (!rep) {
		fprintf(stderr, "gilscope: out of memory\n");
		return GS_EXIT_ERROR;
	}
	status = speedup_run(&o, rep);
	if (!status) {
		if (json)
			report_speedup_json(&sb, rep);
		else
			report_speedup_text(&sb, rep);
		status = cmd_write_report(output, &sb);
	}
	strbuf_release(&sb);
	free(rep);
	return status;
}
