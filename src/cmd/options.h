/*
 * options.h - the sampling options diagnose, record and top share, parsed
 * the way py-spy users expect: -p/--pid, -r/--rate, -d/--duration,
 * -o/--output, -f/--format, --mode, --json, and `-- command args...`.
 */
#ifndef GS_OPTIONS_H
#define GS_OPTIONS_H

#include "run.h"

struct sample_opts {
	struct run_opts run;
	const char *output;	/* -o */
	const char *format;	/* -f */
	int json;
	int help;
};

/* The end of a launched program, in diagnose's and record's --help. */
#define LAUNCH_END_HELP \
	"\n" \
	"A launched command that is still running when the duration is over, or\n" \
	"when gilscope is interrupted (Ctrl-C, SIGTERM), is ended once sampling\n" \
	"stops, with the processes it started: SIGINT, then SIGTERM after the\n" \
	"grace period, then SIGKILL after another; one line on stderr says how it\n" \
	"ended, the report is written, and gilscope exits 0. A program that ends\n" \
	"by itself passes its exit status through.\n" \
	"      --grace S        the grace period, in seconds (default 2)\n" \
	"      --keep-running   leave the program running instead (its pid is\n" \
	"                       printed) and return once the report is written\n"

/* Parses argv (argv[0] is the command name); exits with a usage error on
 * bad input. `defaults` gives the starting values. */
void sample_opts_parse(const char *cmd, const char *usage, int argc, char **argv,
		       struct sample_opts *o);

#endif
