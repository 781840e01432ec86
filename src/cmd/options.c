/*
 * options.c - parse the shared sampling options.
 */
#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "../util/error.h"

#define MAX_RATE 1000000.0

static double parse_num(const char *cmd, const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v = strtod(s, &end);

	if (!*s || *end || !(v >= lo && v <= hi))
		usage_error(cmd, "%s wants a number from %g to %g, not '%s'", opt, lo, hi, s);
	return v;
}

void sample_opts_parse(const char *cmd, const char *usage, int argc, char **argv,
		       struct sample_opts *o)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "mode", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "progress", no_argument, NULL, 'P' },
		{ "no-progress", no_argument, NULL, 'Q' },
		{ "keep-running", no_argument, NULL, 'K' },
		{ "grace", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->run.grace_s = -1;
	optind = 1;
	opterr = 0;	/* one line of our own instead of getopt's */
	/* "+" : stop at the first non-option, so `-- python app.py -x` and
	 * `python app.py -x` both leave the command's own options alone */
	while ((c = getopt_long(argc, argv, "+p:r:d:o:f:m:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->run.pid = cmd_parse_pid(optarg);
			if (o->run.pid < 0)
				usage_error(cmd, "--pid wants a process id, not '%s'", optarg);
			break;
		case 'r':
			o->run.rate_hz = parse_num(cmd, "--rate", optarg, 0.1, MAX_RATE);
			break;
		case 'd':
			o->run.duration_s = parse_num(cmd, "--duration", optarg, 0.001, 1e7);
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'f':
			o->format = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "wall"))
				o->run.agg.mode = AGG_MODE_WALL;
			else if (!strcmp(optarg, "cpu"))
				o->run.agg.mode = AGG_MODE_CPU;
			else if (!strcmp(optarg, "gil"))
				o->run.agg.mode = AGG_MODE_GIL;
			else
				usage_error(cmd, "--mode is wall, cpu or gil, not '%s'", optarg);
			break;
		case 'j':
			o->json = 1;
			break;
		case 'P':
			o->run.progress = 1;
			break;
		case 'Q':
			o->run.progress = 0;
			break;
		case 'K':
			o->run.keep_running = 1;
			break;
		case 'G':
			o->run.grace_s = parse_num(cmd, "--grace", optarg, 0, 3600);
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			usage_bad_option(cmd, argc, argv);
		}
	}
	if (optind < argc) {
		if (o->run.pid > 0)
			usage_error(cmd, "give either --pid or a command to run, not both");
		o->run.argv = argv + optind;
	}
	if (o->run.pid <= 0 && !o->run.argv)
		usage_error(cmd, "give --pid PID, or a command: gilscope %s -- python app.py", cmd);
	/* gilscope never ends a process it attached to */
	if (o->run.pid > 0 && (o->run.keep_running || o->run.grace_s >= 0))
		usage_error(cmd, "%s is for a command gilscope launches (-- command ...); "
			    "with --pid the process is never ended", o->run.keep_running ?
			    "--keep-running" : "--grace");
	if (o->run.keep_running && o->run.grace_s >= 0)
		usage_error(cmd, "--grace has no use with --keep-running: the program is not ended");
	o->run.agg.rate_hz = o->run.rate_hz;
}
