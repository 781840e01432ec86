/*
 * verdict.h - from aggregates to a diagnosis (DESIGN.md section 2): the
 * dominant pattern of the busy threads, the remedy, and the evidence.
 */
#ifndef GS_VERDICT_H
#define GS_VERDICT_H

#include "agg.h"

#define VERDICT_HOT 3

enum verdict_kind {
	V_IDLE,
	V_IO_BOUND,
	V_NATIVE_RELEASED,
	V_GIL_BOUND_PYTHON,
	V_GIL_BOUND_NATIVE,
	V_CPU_SINGLE,
	V_PARALLEL,
	V_MIXED,
};

struct verdict {
	enum verdict_kind kind;
	char summary[640];
	char advice[512];
	/* evidence */
	int busy_threads;
	double share[ST_COUNT];		/* over the busy threads' samples */
	double gil_held, gil_contended;	/* fractions of sample instants */
	double switches_per_s;		/* -1 when unknown */
	uint32_t hot[ST_COUNT][VERDICT_HOT];	/* frame ids */
	size_t nhot[ST_COUNT];
	uint32_t native[ST_COUNT][VERDICT_HOT];	/* C callables, frame ids */
	size_t nnative[ST_COUNT];
};

/* Fraction of a thread's samples spent in states that mean "working or
 * waiting to work" (not sleeping or parked on a lock). */
double verdict_busy_fraction(const struct agg_thread *t);

const char *verdict_kind_name(enum verdict_kind k);
void verdict_decide(const struct agg *a, struct verdict *v);

#endif
