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

/* Parses argv (argv[0] is the command name); exits with a usage error on
 * bad input. `defaults` gives the starting values. */
void sample_opts_parse(const char *cmd, const char *usage, int argc, char **argv,
		       struct sample_opts *o);

#endif
