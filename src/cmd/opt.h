/*
 * opt.h - a command's options as one declarative table: long name, short
 * letter, kind, destination, argument name and help. The table drives
 * getopt_long(3) and the option lines of --help alike, so what a command
 * accepts and what it says it accepts cannot drift apart. A bad option or
 * value is one line on stderr and exit 2 (README "Exit codes").
 */
#ifndef GS_OPT_H
#define GS_OPT_H

#include <stddef.h>
#include <stdio.h>

enum opt_kind {
	OPT_FLAG,	/* no value: *(int *)dest = ival */
	OPT_STRING,	/* *(const char **)dest = the value (non-empty) */
	OPT_PID,	/* *(pid_t *)dest: a positive process id */
	OPT_NUM,	/* *(double *)dest: a number in [lo, hi] */
	OPT_LONG,	/* *(long *)dest: a whole number in [lo, hi] */
	OPT_CHOICE,	/* *(int *)dest = index of the value in choices[] */
	OPT_CALL,	/* call(ctx, value): a value only the command can parse */
};

struct opt {
	const char *name;	/* long name, without "--" */
	char letter;		/* short option, 0 for none */
	enum opt_kind kind;
	void *dest;
	const char *arg;	/* the value's name in --help: "PID", "HZ" */
	const char *help;	/* may hold '\n' for continuation lines */
	double lo, hi;		/* OPT_NUM, OPT_LONG */
	int ival;		/* OPT_FLAG */
	const char *const *choices;	/* OPT_CHOICE: NULL-terminated */
	void (*call)(void *ctx, const char *value);	/* OPT_CALL */
	void *ctx;
};

struct opt_cmd {
	const char *name;	/* "diagnose": in messages */
	const char *synopsis;	/* "usage: ..." and the description, '\n'-ended */
	const char *epilog;	/* after the option lines; may be NULL */
	/* what may come besides options: nothing (one is an error), a
	 * command to launch (parsing stops at its first word: its own
	 * options are its own), or operands among the options */
	enum { OPT_NO_OPERANDS, OPT_COMMAND, OPT_OPERANDS } operands;
};

/*
 * Parse argv (argv[0] is the command's name) by the table; --help/-h is
 * always there, prints the help on stdout and exits 0. Returns the index
 * of the first operand (argc if none).
 */
int opt_parse(const struct opt_cmd *c, const struct opt *opts, size_t n, int argc, char **argv);
/* The help: synopsis, one line (or more) per option, epilog. */
void opt_help(FILE *f, const struct opt_cmd *c, const struct opt *opts, size_t n);

#define OPT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#endif
