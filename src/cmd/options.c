/*
 * options.c - the sampling options diagnose and record share.
 */
#include "options.h"

#include <string.h>

#include "cmd.h"

const char *const switch_record_modes[] = {
	[LOOP_SW_AUTO] = "auto", [LOOP_SW_ALWAYS] = "always", [LOOP_SW_NEVER] = "never", NULL,
};

const char *const sample_modes[] = {
	[AGG_MODE_WALL] = "wall", [AGG_MODE_CPU] = "cpu", [AGG_MODE_GIL] = "gil", NULL,
};

void sample_opts_init(struct sample_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->run.rate_hz = 100;
	o->run.progress = -1;
	o->run.grace_s = -1;
	o->mode = AGG_MODE_WALL;
}

void sample_opts_parse(const struct opt_cmd *c, const struct opt *opts, size_t n, int argc,
		       char **argv, struct sample_opts *o)
{
	const char *cmd = c->name;
	int i = opt_parse(c, opts, n, argc, argv);

	if (i < argc)
		o->run.argv = argv + i;
	/* gilscope never ends a process it attached to */
	if (o->run.pid > 0 && (o->run.keep_running || o->run.grace_s >= 0))
		usage_error(cmd, "%s is for a command gilscope launches (-- command ...); "
			    "with --pid the process is never ended", o->run.keep_running ?
			    "--keep-running" : "--grace");
	if (o->run.keep_running && o->run.grace_s >= 0)
		usage_error(cmd, "--grace has no use with --keep-running: the program is not ended");
	o->run.agg.mode = (enum agg_mode)o->mode;
	o->run.agg.rate_hz = o->run.rate_hz;
}
