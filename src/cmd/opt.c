/*
 * opt.c - parse a command's options by its table (see opt.h).
 */
#include "opt.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cmd.h"

#define OPT_MAX 32		/* options of one command, --help included */
#define HELP_COL 23		/* where the help text starts */

static const struct opt help_opt = {
	.name = "help", .letter = 'h', .kind = OPT_FLAG, .help = "this help",
};

static void set_value(const struct opt_cmd *c, const struct opt *o, const char *v)
{
	char *end;
	double d;
	long l;
	size_t i;
	pid_t pid;

	switch (o->kind) {
	case OPT_FLAG:
		*(int *)o->dest = o->ival;
		return;
	case OPT_STRING:
		if (!*v)
			usage_error(c->name, "--%s wants %s, not an empty string", o->name, o->arg);
		*(const char **)o->dest = v;
		return;
	case OPT_PID:
		pid = cmd_parse_pid(v);
		if (pid < 0)
			usage_error(c->name, "--%s wants a process id, not '%s'", o->name, v);
		*(pid_t *)o->dest = pid;
		return;
	case OPT_NUM:
		d = strtod(v, &end);
		if (!*v || *end || !(d >= o->lo && d <= o->hi))
			usage_error(c->name, "--%s wants a number from %g to %g, not '%s'", o->name,
				    o->lo, o->hi, v);
		*(double *)o->dest = d;
		return;
	case OPT_LONG:
		errno = 0;
		l = strtol(v, &end, 10);
		if (!*v || *end || errno || (double)l < o->lo || (double)l > o->hi)
			usage_error(c->name, "--%s wants a whole number from %.0f to %.0f, not '%s'",
				    o->name, o->lo, o->hi, v);
		*(long *)o->dest = l;
		return;
	case OPT_CHOICE:
		for (i = 0; o->choices[i]; i++) {
			if (!strcmp(v, o->choices[i])) {
				*(int *)o->dest = (int)i;
				return;
			}
		}
		{
			char list[256] = "";
			size_t len = 0;

			for (i = 0; o->choices[i] && len < sizeof(list); i++)
				len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
							i ? (o->choices[i + 1] ? ", " : " or ") : "",
							o->choices[i]);
			usage_error(c->name, "--%s is %s, not '%s'", o->name, list, v);
		}
	case OPT_CALL:
		o->call(o->ctx, v);
		return;
	}
}

int opt_parse(const struct opt_cmd *c, const struct opt *opts, size_t n, int argc, char **argv)
{
	struct option lo[OPT_MAX + 1];
	char shorts[2 * OPT_MAX + 2];
	size_t i, k = 0, m = 0;
	pid_t pid = 0;
	int ch;

	if (n >= OPT_MAX)
		usage_error(c->name, "too many options in the table (internal error)");
	/* "+": stop at the first operand, so that `-- python app.py -x` and
	 * `python app.py -x` both leave the command's own options alone */
	if (c->operands == OPT_COMMAND)
		shorts[k++] = '+';
	for (i = 0; i <= n; i++) {
		const struct opt *o = i < n ? &opts[i] : &help_opt;
		int has_arg = o->kind == OPT_FLAG ? no_argument : required_argument;

		lo[m].name = o->name;
		lo[m].has_arg = has_arg;
		lo[m].flag = NULL;
		lo[m].val = o->letter ? o->letter : 256 + (int)i;
		m++;
		if (o->letter) {
			shorts[k++] = o->letter;
			if (has_arg == required_argument)
				shorts[k++] = ':';
		}
	}
	shorts[k] = '\0';
	memset(&lo[m], 0, sizeof(lo[m]));

	optind = 1;
	opterr = 0;	/* one line of our own instead of getopt's */
	while ((ch = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		const struct opt *o = NULL;

		if (ch == 'h' || ch == 256 + (int)n) {
			opt_help(stdout, c, opts, n);
			exit(0);
		}
		for (i = 0; i < n && !o; i++)
			if ((opts[i].letter && ch == opts[i].letter) || ch == 256 + (int)i)
				o = &opts[i];
		if (!o)
			usage_bad_option(c->name, argc, argv);
		set_value(c, o, optarg);
	}
	if (!c->operands && optind < argc)
		usage_error(c->name, "unexpected argument '%s'", argv[optind]);
	for (i = 0; i < n; i++)
		if (opts[i].kind == OPT_PID && *(pid_t *)opts[i].dest > 0)
			pid = *(pid_t *)opts[i].dest;
	cmd_check_needs(pid > 0, optind < argc, (long)pid);
	return optind;
}

void opt_help(FILE *f, const struct opt_cmd *c, const struct opt *opts, size_t n)
{
	size_t i;

	fputs(c->synopsis, f);
	fputc('\n', f);
	for (i = 0; i <= n; i++) {
		const struct opt *o = i < n ? &opts[i] : &help_opt;
		const char *h = o->help, *nl;
		char left[64];
		int w;

		if (!h)
			continue;	/* kept out of the help (an alias) */
		if (o->letter)
			w = snprintf(left, sizeof(left), "  -%c, --%s%s%s", o->letter, o->name,
				     o->kind == OPT_FLAG ? "" : " ", o->kind == OPT_FLAG ? "" : o->arg);
		else
			w = snprintf(left, sizeof(left), "      --%s%s%s", o->name,
				     o->kind == OPT_FLAG ? "" : " ", o->kind == OPT_FLAG ? "" : o->arg);
		fputs(left, f);
		fprintf(f, "%*s", w < HELP_COL - 1 ? HELP_COL - w : 2, "");
		for (;;) {
			nl = strchr(h, '\n');
			if (!nl) {
				fprintf(f, "%s\n", h);
				break;
			}
			fprintf(f, "%.*s\n%*s", (int)(nl - h), h, HELP_COL, "");
			h = nl + 1;
		}
	}
	if (c->epilog)
		fputs(c->epilog, f);
}
