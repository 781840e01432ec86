/*
 * chrometrace.h - the per-thread state timelines as Chrome Trace Event
 * JSON ({"traceEvents": [...], "displayTimeUnit": "ms"}), which Perfetto
 * (ui.perfetto.dev) and chrome://tracing load.
 *
 * Events:
 *  - "M" metadata: process_name, and thread_name + thread_sort_index for
 *    each thread and for the GIL track;
 *  - "X" complete events, cat "state", one per agg_span: name = the state,
 *    ts/dur in microseconds since the first sample, args {holds_gil, and
 *    function/file/line of the innermost Python frame when known};
 *  - "X" events, cat "gil", on the pseudo-thread CHROMETRACE_GIL_TID named
 *    "GIL holder": while some thread held the GIL, named after that thread
 *    (args {tid}). Consecutive spans of one holder are merged; a span that
 *    would overlap the previous holder's starts where that one ends, so the
 *    track never nests.
 * Needs agg_options.timeline; without it only the metadata is written.
 *
 * Threads fed with their process (agg_thread_in.pid: record --subprocesses)
 * are written under that pid, each process with its process_name (its
 * command line) and a GIL track of its own; the others under opt->pid.
 */
#ifndef GS_REPORT_CHROMETRACE_H
#define GS_REPORT_CHROMETRACE_H

#include "../analyze/agg.h"
#include "../util/strbuf.h"

/* Linux tids are below 2^22 (PID_MAX_LIMIT): this one is never a thread's. */
#define CHROMETRACE_GIL_TID 2147483647

struct chrometrace_options {
	int pid;			/* the target's pid; 0: 1 */
	const char *process_name;	/* NULL: "python" */
	int no_gil_track;
};

/* Appends to sb. Returns 0, or GS_ENOMEM. `opt` may be NULL (defaults). */
int report_chrometrace(struct strbuf *sb, const struct agg *a,
		       const struct chrometrace_options *opt);

#endif
