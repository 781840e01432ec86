/*
 * run.h - a sampling session shared by diagnose, record and top: attach to
 * a pid or launch a command, sample until done, fold into aggregates.
 */
#ifndef GS_RUN_H
#define GS_RUN_H

#include "../analyze/agg.h"
#include "../analyze/program.h"
#include "../report/diagnose.h"
#include "../report/program.h"
#include "../sample/group.h"
#include "../sample/loop.h"
#include "../sample/sampler.h"
#include "../target/launch.h"
#include "../target/process.h"

struct run_opts {
	pid_t pid;		/* attach to this, or */
	char **argv;		/* launch this (NULL-terminated) */
	double rate_hz;
	double duration_s;	/* 0: until the target exits or Ctrl-C */
	struct agg_options agg;
	int progress;		/* -1: when stderr is a terminal */
	/* launch mode: what happens to the program once sampling is over
	 * (duration, Ctrl-C) while it still runs */
	int keep_running;	/* leave it running */
	int subprocesses;	/* the whole tree (run_tree_session) */
	int switch_records;	/* LOOP_SW_* (sample/loop.h) */
	int tree_all;		/* the tree: also fold every process into one
				 * aggregate (run_tree.all), each one's stacks
				 * under its process (record) */
	double grace_s;		/* < 0: the default (RUN_GRACE_S) */
};

#define RUN_GRACE_S 2.0		/* after SIGINT, and again after SIGTERM */
/* a launched program that fails within this long of its start gets no report:
 * what was seen is the interpreter starting up, not the program */
#define RUN_FAILED_AT_ONCE_S 1.0

struct run {
	struct process proc;
	struct sampler s;
	struct agg agg;
	struct loop_stats st;
	struct diag_info info;
	struct launched child;	/* launch mode */
	/* launch mode: the exit status once the report is written: the
	 * program's own when it ended by itself, 0 when gilscope ended it or
	 * left it running, 1 when it could not be ended */
	int exit_status;
	int have_proc, have_sampler, have_agg;
	uint64_t launched_ms;	/* launch mode: when it was started (gs_now_ms) */
};

/*
 * --subprocesses: the process (or the program launched) and its
 * descendants, each Python one with its own aggregate (agg[i] for g.m[i],
 * NULL when it was never sampled) and facts (info[i]); the launch, the
 * loop's figures and the exit status are base's.
 */
struct run_tree {
	struct run base;
	struct group g;
	struct agg_options agg_opts;
	struct agg *agg[GROUP_MAX];
	struct diag_info info[GROUP_MAX];
	size_t nsampled;	/* members with an aggregate */
	/* run_opts.tree_all: every process's samples, the stacks of each
	 * under its process (pid, command line); its `samples` are the
	 * instants at which some process was sampled */
	struct agg *all;
};

/* What a tree's sampling became: one report per process (the Python ones
 * sampled), the processes not read, and the program's verdict; dp refers
 * to the rest, and to rt. */
struct tree_report {
	struct diag_proc procs[GROUP_MAX];
	struct program_proc pp[GROUP_MAX];
	struct verdict v[GROUP_MAX];
	struct dump_other others[GROUP_MAX];
	struct program_verdict pv;
	struct diag_program dp;
};

/* Returns 0, or an exit status after printing the error. In launch mode
 * the program is over (or left running, as asked) when it returns, and
 * one line on stderr has said how it ended if gilscope ended it. */
int run_session(const struct run_opts *o, struct run *r);
void run_release(struct run *r);
int run_tree_session(const struct run_opts *o, struct run_tree *rt);
void run_tree_release(struct run_tree *rt);
/* Both, allocated (they are large): 0, or an exit status once one line
 * said why not. run_tree_free() releases the session and frees both. */
int run_tree_alloc(struct run_tree **rt, struct tree_report **tr);
void run_tree_free(struct run_tree *rt, struct tree_report *tr);
/* Fill tr from a finished tree session (verdicts included). */
void run_tree_report(const struct run_opts *o, const struct run_tree *rt,
		     struct tree_report *tr);
/* Parse the common options; returns the index of the first non-option.
 * Shared: -p/--pid, -r/--rate, -d/--duration, --mode, --json, -o, -f,
 * --progress/--no-progress, and "--" followed by a command. */

#endif
