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
	pid_t child;		/* launch mode: reap this child (and any other
				 * child of ours that ended), 0 otherwise */
	/* Between samples, instead of sleeping: wait until `until`
	 * (gs_now_ns(), util/clock.h) doing the caller's own work (a live view
	 * reads keys and redraws); a non-zero return ends the loop. NULL:
	 * sleep. */
	int (*wait)(void *ctx, uint64_t until);
	void *wait_ctx;
	/* when to read context-switch records (loop.c): LOOP_SW_AUTO with
	 * many threads, LOOP_SW_ALWAYS, LOOP_SW_NEVER (every thread that may
	 * have run is asked its /proc schedstat) */
	int switch_records;
};

enum { LOOP_SW_AUTO, LOOP_SW_ALWAYS, LOOP_SW_NEVER };

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
	int child_wstatus;	/* ... and as waitpid() gave it */
	int child_reaped;	/* ... and it has been collected */
	int interrupted;	/* stopped by a signal */
	/* the context-switch records were read (target/swtrack.h); or why
	 * not, when they were wanted (a gs_err); deadlines where some were
	 * lost (each such sample asked schedstat instead) */
	int switch_records;
	int switch_records_err;
	uint64_t switch_records_lost;
};

typedef int (*loop_fn)(void *ctx, const struct sample *smp);

/* Install SIGINT/SIGTERM handlers that make the loop stop cleanly. */
void loop_install_signals(void);
/* How many SIGINT/SIGTERM have come since (0: none; it saturates). */
int loop_stop_requested(void);
/* The first of them (0 if none), and whether it came from the terminal
 * (Ctrl-C: the kernel sends it to the whole foreground process group). */
int loop_stop_signal(int *from_terminal);

/* Run until done (or until o->wait says so); returns 0 or a gs_err from
 * the callback. *st is kept up to date as it runs. */
int loop_run(struct sampler *s, const struct loop_opts *o, loop_fn fn, void *ctx,
	     struct loop_stats *st);

struct group;

/* Each sample of one process of a tree: `member` indexes g->m. */
typedef int (*loop_group_fn)(void *ctx, size_t member, const struct sample *smp);

/*
 * A process tree (sample/group.h), --subprocesses: at each deadline every
 * live Python member is sampled, and the tree is scanned again every
 * LOOP_RESCAN_NS for processes that started or ended. st counts deadlines
 * (taken: those where some member was sampled); each member counts its
 * own samples. Ends as loop_run() does, or once the root and every member
 * are gone.
 */
#define LOOP_RESCAN_NS 200000000ull
int loop_run_group(struct group *g, const struct loop_opts *o, loop_group_fn fn, void *ctx,
		   struct loop_stats *st);

#endif
