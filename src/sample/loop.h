/*
 * loop.h - the sampling loop: samples at a fixed rate on absolute deadlines
 * (CLOCK_MONOTONIC), never bursts to catch up, and counts what it missed.
 * It ends at the duration, on SIGINT/SIGTERM (loop_stop_requested), or when
 * the target exits; each sample goes to a callback.
 */
#ifndef GS_LOOP_H
#define GS_LOOP_H

#include <stdint.h>
#include <sys/types.h>

#include "sampler.h"

struct loop_opts {
	double rate_hz;		/* samples per second */
	double duration_s;	/* 0: until the target exits or we are stopped */
	int progress;		/* print progress to stderr */
	pid_t child;		/* launch mode: reap this child, 0 otherwise */
};

struct loop_stats {
	uint64_t requested;	/* deadlines that passed */
	uint64_t taken;		/* samples taken */
	uint64_t missed;	/* deadlines skipped because we were late */
	uint64_t errors;	/* samples lost to a torn read */
	uint64_t worst_lag_ns;	/* latest start after a deadline */
	double elapsed_s;
	int target_exited;
	int target_execd;	/* the process exec'd another program */
	int child_status;	/* launch mode: the child's shell-style status */
	int child_reaped;	/* ... and it has been collected */
	int interrupted;	/* stopped by a signal */
};

typedef int (*loop_fn)(void *ctx, const struct sample *smp);

/* Install SIGINT/SIGTERM handlers that make the loop stop cleanly. */
void loop_install_signals(void);
int loop_stop_requested(void);

/* Run until done; returns 0 or a gs_err from the callback. */
int loop_run(struct sampler *s, const struct loop_opts *o, loop_fn fn, void *ctx,
	     struct loop_stats *st);

#endif
