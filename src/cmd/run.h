/*
 * run.h - a sampling session shared by diagnose, record and top: attach to
 * a pid or launch a command, sample until done, fold into aggregates.
 */
#ifndef GS_RUN_H
#define GS_RUN_H

#include "../analyze/agg.h"
#include "../report/diagnose.h"
#include "../sample/loop.h"
#include "../sample/sampler.h"
#include "../target/process.h"

struct run_opts {
	pid_t pid;		/* attach to this, or */
	char **argv;		/* launch this (NULL-terminated) */
	double rate_hz;
	double duration_s;	/* 0: until the target exits or Ctrl-C */
	struct agg_options agg;
	int progress;		/* -1: when stderr is a terminal */
};

struct run {
	struct process proc;
	struct sampler s;
	struct agg agg;
	struct loop_stats st;
	struct diag_info info;
	int have_proc, have_sampler, have_agg;
};

/* Returns 0, or an exit status after printing the error. */
int run_session(const struct run_opts *o, struct run *r);
void run_release(struct run *r);
/* Parse the common options; returns the index of the first non-option.
 * Shared: -p/--pid, -r/--rate, -d/--duration, --mode, --json, -o, -f,
 * --progress/--no-progress, and "--" followed by a command. */

#endif
