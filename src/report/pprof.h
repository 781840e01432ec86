/*
 * pprof.h - the stack tree as a pprof profile (profile.proto of
 * github.com/google/pprof, gzip'd as pprof files are on disk), for
 * `go tool pprof`, Grafana Pyroscope, Parca and the like.
 *
 * Two sample types: "samples"/"count" and "wall"/"nanoseconds" (count
 * times the sampling period; the default, being last). One Location per
 * distinct frame (one Line each: function and line), one Function per
 * distinct (name, file). Stacks are leaf first, without the thread root and
 * the process node (they are labels) and without the [state] leaf (the
 * state is a label). A stack left with no frame (a thread with no Python
 * frame) gets one location named by its state's label ("[sleeping]" ...),
 * past the frames' ids. A torn stack keeps its "[torn stack]" marker as its
 * outermost location; a native callable is the leaf, as in the other
 * formats.
 *
 * Granularity: one pprof sample per (thread, stack, state), its values the
 * samples gilscope counted there, labelled
 *   thread (num: tid), thread_name, state (gilscope's state name),
 *   holds_gil ("true"/"false"), and for a thread fed with its process
 *   (record --subprocesses) pid (num) and process (its command line).
 * The stack tree keeps counts per state, not per GIL holding: holds_gil is
 * derived from the state, which on a build with the GIL is exact (python
 * and native_gil are the holder's states, and only the holder's); a thread
 * that never held the GIL (free-threaded, GIL off) is "false" throughout.
 */
#ifndef GS_REPORT_PPROF_H
#define GS_REPORT_PPROF_H

#include <stdint.h>

#include "../analyze/agg.h"
#include "../util/strbuf.h"

struct pprof_options {
	/* wall-clock time of the first sample, ns since the epoch (0: unknown) */
	uint64_t time_nanos;
	int raw;	/* the bare protobuf, not gzip'd (tests) */
};

/* Appends the profile (binary) to sb. Returns 0, GS_ENOMEM, GS_ERANGE
 * (a profile past 4 GiB), or GS_EGENERIC when zlib fails otherwise. `opt` may be NULL (defaults). */
int report_pprof(struct strbuf *sb, const struct agg *a, const struct pprof_options *opt);

#endif
