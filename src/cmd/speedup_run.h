/*
 * speedup_run.h - the session behind `gilscope speedup`: run the embedded
 * Python harness (speedup_harness.py) on the user's function, follow its
 * phases over a pipe, and sample each threaded phase of the harness
 * process with gilscope's own sampler.
 */
#ifndef GS_SPEEDUP_RUN_H
#define GS_SPEEDUP_RUN_H

#include <stddef.h>

#include "../report/speedup.h"

struct speedup_opts {
	const char *target;	/* module:function or path/to/file.py:function */
	const char *python;	/* interpreter to run (execvp: PATH is searched) */
	int counts[SPEEDUP_MAX_COUNTS];	/* thread counts, in order */
	size_t ncounts;
	long calls;		/* per thread; 0: chosen by the harness (~0.5 s) */
	int processes;		/* also time a ProcessPoolExecutor */
	double rate_hz;
	int progress;		/* phase lines on stderr */
};

/* The harness source, embedded at build time (speedup_harness.c). */
extern const unsigned char speedup_harness_py[];
extern const size_t speedup_harness_py_len;

/* Fills *rep (which the caller zeroed). Returns 0, or an exit status after
 * printing one line that says what went wrong. */
int speedup_run(const struct speedup_opts *o, struct speedup_report *rep);

#endif
