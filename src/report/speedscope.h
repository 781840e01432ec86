/*
 * speedscope.h - the stack tree in speedscope's file format
 * (https://www.speedscope.app/file-format-schema.json; a copy is kept in
 * tests/schema/speedscope.schema.json): one "sampled" profile per thread,
 * named "name (tid N)", or "pid N: command / name (tid N)" for a thread fed
 * with its process (record --subprocesses).
 *
 * Each tree node with self samples gives one sample, the path from the
 * thread's root to it (outermost first; the thread root itself is the
 * profile, not a frame), weighted by its self count times the sampling
 * interval in seconds, or by the count itself (unit "none") when the
 * interval is unknown or `counts` is asked for. A profile's endValue is the
 * sum of its weights. The thread with the most samples is the active
 * profile.
 */
#ifndef GS_REPORT_SPEEDSCOPE_H
#define GS_REPORT_SPEEDSCOPE_H

#include "../analyze/agg.h"
#include "../util/strbuf.h"

struct speedscope_options {
	const char *name;	/* the file's "name"; NULL: "gilscope" */
	const char *exporter;	/* NULL: "gilscope" */
	int counts;		/* weights are sample counts (unit "none") */
	int no_state_leaves;	/* leave [state] leaves out (kept when they are the whole stack) */
};

/* Appends to sb. Returns 0, or GS_ENOMEM. `opt` may be NULL (defaults). */
int report_speedscope(struct strbuf *sb, const struct agg *a,
		      const struct speedscope_options *opt);

#endif
