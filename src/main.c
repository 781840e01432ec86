/*
 * main.c - gilscope's command table and dispatcher.
 *
 * One entry per command; each command lives in src/cmd/<name>.c, parses
 * its own options and returns the process exit status.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "util/error.h"

/* from the VERSION file, by the Makefile */
#ifndef GILSCOPE_VERSION
#error "GILSCOPE_VERSION is set by the Makefile from VERSION"
#endif

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	unsigned flags;		/* enum cmd_flags: checked once its options are parsed */
	const char *help;
};

#define PID CMD_NEEDS_PID
#define LAUNCH CMD_MAY_LAUNCH
#define TTY CMD_NEEDS_TTY

static const struct command commands[] = {
	{ "diagnose", cmd_diagnose, PID | LAUNCH,
	  "sample a process and say whether it is GIL-bound, and why" },
	{ "record", cmd_record, PID | LAUNCH,
	  "sample a process and write a flame graph, trace or profile" },
	{ "dump", cmd_dump, PID, "show every thread's state, GIL holder and stack now" },
	{ "top", cmd_top, PID | TTY, "a live view of every thread's state, the GIL and the verdict" },
	/* --pid, or --python to start one: info checks which itself */
	{ "info", cmd_info, 0, "version, build, and whether the GIL is on right now, and why" },
	/* starts its own interpreter */
	{ "speedup", cmd_speedup, 0,
	  "time a function on 1 and on N threads, and say why it scales or not" },
	/* starts the user's test suite itself */
	{ "ft-check", cmd_ft_check, 0,
	  "run a test suite on a free-threaded Python: is it ready without the GIL?" },
	/* --pid, --match or --all: serve checks which itself */
	{ "serve", cmd_serve, 0,
	  "export GIL and thread-state metrics of Python processes to Prometheus" },
	{ "snapshot", cmd_snapshot, PID,
	  "record the memory one walk reads (for tests and bug reports)" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: gilscope <command> [options]\n\n"
		"Is this Python program GIL-bound, or does it just feel slow?\n\n"
		"commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\ngilscope <command> --help tells more. Exit codes: README.md.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return GS_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("gilscope %s\n", GILSCOPE_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name)) {
			cmd_begin(commands[i].name, commands[i].flags);
			return commands[i].fn(argc - 1, argv + 1);
		}
	fprintf(stderr, "gilscope: unknown command '%s' (gilscope --help lists them)\n", argv[1]);
	return GS_EXIT_USAGE;
}
