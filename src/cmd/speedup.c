/*
 * speedup.c - `gilscope speedup`: time a function on one thread and on T
 * threads (the source document's "quick way to measure GIL contention"),
 * and say from samples of each threaded run why it scaled or did not.
 */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "speedup_run.h"
#include "../report/speedup.h"
#include "../util/error.h"

#define MAX_THREADS 1024
#define MAX_CALLS 1000000000L

static const char usage[] =
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
	"sys.path) or path/to/file.py:function; the function takes no arguments.\n"
	"\n"
	"      --python PY      the interpreter to use (default: python3 from PATH)\n"
	"  -t, --threads LIST   thread counts, comma-separated (default: 1,2,4,8)\n"
	"  -n, --calls N        calls per thread, and in the baseline (default: as\n"
	"                       many as make the baseline last about 0.5 s)\n"
	"      --processes      also run each count on a ProcessPoolExecutor\n"
	"  -r, --rate HZ        samples per second (default 100)\n"
	"  -j, --json           JSON instead of text\n"
	"  -o, --output FILE    write the report to FILE instead of stdout\n"
	"      --no-progress    no phase lines on stderr\n"
	"  -h, --help           this help\n";

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

static void parse_counts(const char *list, struct speedup_opts *o)
{
	char buf[512], *tok, *save = NULL;

	if (strlen(list) >= sizeof(buf))
		usage_error("speedup", "--threads: list too long");
	strcpy(buf, list);
	o->ncounts = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->ncounts == SPEEDUP_MAX_COUNTS)
			usage_error("speedup", "--threads: at most %d counts", SPEEDUP_MAX_COUNTS);
		o->counts[o->ncounts++] = (int)parse_long("--threads", tok, 1, MAX_THREADS);
	}
	if (!o->ncounts)
		usage_error("speedup", "--threads wants counts like 1,2,4,8, not '%s'", list);
}

static double parse_rate(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (!*s || *end || !(v >= 1 && v <= 10000))
		usage_error("speedup", "--rate wants a number from 1 to 10000, not '%s'", s);
	return v;
}

int cmd_speedup(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "python", required_argument, NULL, 'P' },
		{ "threads", required_argument, NULL, 't' },
		{ "calls", required_argument, NULL, 'n' },
		{ "processes", no_argument, NULL, 'X' },
		{ "rate", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "progress", no_argument, NULL, 'G' },
		{ "no-progress", no_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct speedup_opts o;
	struct speedup_report *rep;
	struct strbuf sb = STRBUF_INIT;
	const char *output = NULL, *colon;
	int json = 0, c, status;

	memset(&o, 0, sizeof(o));
	o.python = "python3";
	o.rate_hz = 100;
	o.progress = -1;
	o.counts[0] = 1, o.counts[1] = 2, o.counts[2] = 4, o.counts[3] = 8;
	o.ncounts = 4;
	optind = 1;
	opterr = 0;	/* one line of our own instead of getopt's */
	while ((c = getopt_long(argc, argv, "t:n:r:jo:h", opts, NULL)) != -1) {
		switch (c) {
		case 'P':
			if (!*optarg)
				usage_error("speedup", "--python wants an interpreter");
			o.python = optarg;
			break;
		case 't':
			parse_counts(optarg, &o);
			break;
		case 'n':
			o.calls = parse_long("--calls", optarg, 1, MAX_CALLS);
			break;
		case 'X':
			o.processes = 1;
			break;
		case 'r':
			o.rate_hz = parse_rate(optarg);
			break;
		case 'j':
			json = 1;
			break;
		case 'o':
			output = optarg;
			break;
		case 'G':
			o.progress = 1;
			break;
		case 'Q':
			o.progress = 0;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			usage_bad_option("speedup", argc, argv);
		}
	}
	if (optind >= argc)
		usage_error("speedup", "which function? give TARGET as module:function or "
			    "path/to/file.py:function");
	if (optind + 1 < argc)
		usage_error("speedup", "unexpected argument '%s' (the function takes no arguments)",
			    argv[optind + 1]);
	o.target = argv[optind];
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
		if (sb.failed) {
			fprintf(stderr, "gilscope: out of memory\n");
			status = GS_EXIT_ERROR;
		} else {
			status = cmd_write_output(output, strbuf_str(&sb), sb.len);
		}
	}
	strbuf_release(&sb);
	free(rep);
	return status;
}
