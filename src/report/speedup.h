/*
 * speedup.h - the speedup report (`gilscope speedup`): for each thread
 * count, how much faster the threaded run was than one thread, and why,
 * from the samples of the threaded window. Text or JSON (schema:
 * tests/schema/speedup.schema.json).
 *
 * The report is plain data filled by the command (src/cmd/speedup_run.c);
 * the renderers only read it.
 */
#ifndef GS_REPORT_SPEEDUP_H
#define GS_REPORT_SPEEDUP_H

#include <stdint.h>

#include "../analyze/verdict.h"
#include "../util/strbuf.h"

#define SPEEDUP_MAX_COUNTS 32
/* a run whose threads spent this share of their time runnable but without
 * a CPU, beyond what their own number makes unavoidable, gets a note: its
 * timing says more about other processes than about the function */
#define SPEEDUP_NOISY_WAIT 0.10
/* fewer samples than this in a threaded run: its state shares are rough */
#define SPEEDUP_FEW_SAMPLES 20
#define SPEEDUP_WHERE_MAX 320

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

/* The one-line "why" of a threaded run, e.g. "1.02x at 4 threads: 74% of
 * thread time waiting for the GIL, held mostly by compute() at work.py:12:
 * CPU-bound Python, use ProcessPoolExecutor or a free-threaded build". */
/* How much of p's CPU wait other processes caused: the wait beyond
 * 1 - cpus / n, which n busy threads on `cpus` CPUs would cause alone. */
double speedup_excess_wait(const struct speedup_report *r, int n, double cpu_wait);

void speedup_explain(struct strbuf *sb, const struct speedup_report *r,
		     const struct speedup_point *p);

void report_speedup_text(struct strbuf *sb, const struct speedup_report *r);
void report_speedup_json(struct strbuf *sb, const struct speedup_report *r);

#endif
