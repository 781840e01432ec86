/*
 * speedup.h - what `gilscope speedup` found, as plain data: for each thread
 * count, the timed run and what its samples say (worker threads' states,
 * the verdict, the hottest code per state). Filled by the command
 * (src/cmd/speedup_run.c, which runs the harness and samples it) and by
 * speedup_fold() here; rendered by report/speedup.c.
 */
#ifndef GS_ANALYZE_SPEEDUP_H
#define GS_ANALYZE_SPEEDUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agg.h"
#include "verdict.h"

#define SPEEDUP_MAX_COUNTS 32
/* a run whose threads spent this share of their time runnable but without
 * a CPU, beyond what their own number makes unavoidable, gets a note: its
 * timing says more about other processes than about the function */
#define SPEEDUP_NOISY_WAIT 0.10
/* fewer samples than this in a threaded run: its state shares are rough */
#define SPEEDUP_FEW_SAMPLES 20
#define SPEEDUP_WHERE_MAX 320
/* worker threads of one run whose ids the harness may list (speedup's
 * --threads goes up to 1024) */
#define SPEEDUP_MAX_TIDS 1024

/* One timed run: n threads (or n pool workers) each making `calls` calls. */
struct speedup_point {
	int n;
	double seconds;
	double speedup;		/* baseline * n / seconds */
	double efficiency;	/* speedup / n */
	double cpu_wait;	/* share of thread time runnable but without a CPU
				 * (the kernel's run delay), -1 unknown */
	/* from sampling the window; threaded runs only, when `sampled` */
	int sampled;
	uint64_t samples;		/* sample instants in the window */
	double states[ST_COUNT];	/* shares of the worker threads' samples */
	double gil_held, gil_contended;	/* fractions of sample instants */
	enum verdict_kind kind;
	char summary[640];
	char advice[512];
	/* the hottest code seen in each state, e.g. "compute() at work.py:12"
	 * or "sha256, called from digest() at work.py:20"; "" when none */
	char where[ST_COUNT][SPEEDUP_WHERE_MAX];
};

struct speedup_report {
	const char *target;
	char version[32];
	char implementation[32];
	char executable[512];
	int free_threaded;
	int gil_enabled;
	int cpus;			/* CPUs gilscope may run on */
	long calls;			/* per thread (and in the baseline) */
	double call_s;			/* one call, as measured before the baseline */
	double baseline_s;
	double baseline_cpu_wait;	/* as cpu_wait, -1 unknown */
	double rate_hz;
	int sampled;			/* threaded runs carry states and verdicts */
	struct speedup_point threads[SPEEDUP_MAX_COUNTS];
	size_t nthreads;
	int processes;			/* --processes was given */
	struct speedup_point procs[SPEEDUP_MAX_COUNTS];
	size_t nprocs;
};

/* How much of p's CPU wait other processes caused: the wait beyond
 * 1 - cpus / n, which n busy threads on `cpus` CPUs would cause alone. */
double speedup_excess_wait(const struct speedup_report *r, int n, double cpu_wait);

/*
 * A threaded run's samples, aggregated and finished (agg_finish), into p:
 * the worker threads' state shares (the ntids native ids the harness
 * listed; with none, every thread but main_tid), GIL figures, the verdict
 * and the hottest code in each state.
 */
void speedup_fold(const struct agg *agg, const int32_t *tids, size_t ntids, pid_t main_tid,
		  struct speedup_point *p);

#endif
