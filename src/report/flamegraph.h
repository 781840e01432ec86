/*
 * flamegraph.h - the stack tree as a self-contained interactive SVG flame
 * graph: "all" at the bottom, one root per thread above it (with several
 * processes, one per process between them: "pid N: command"), Python frames
 * above those, width by samples.
 *
 * Each rectangle is coloured by its dominant state (the state most of its
 * samples were in); a state leaf such as "[waiting for GIL]" by its own
 * state. A legend gives each state's colour and share of all samples.
 * Hovering shows function, file:line, samples, share and the per-state
 * breakdown (also in each frame's <title> tooltip); a click zooms to a
 * frame, "Reset Zoom" goes back; "Search" (or Ctrl-F) highlights frames
 * matching a regular expression and shows the share of samples they cover.
 * The script (flamegraph.js, embedded at build time) is inline (CDATA); no
 * network access, no external files.
 *
 * Frames narrower than min_width pixels are left out, with what is under
 * them, to keep big profiles small; their samples still count in the
 * widths and percentages of the frames below them.
 *
 * All text is XML-escaped, and invalid UTF-8 becomes U+FFFD, so any name
 * gives a well-formed document.
 */
#ifndef GS_REPORT_FLAMEGRAPH_H
#define GS_REPORT_FLAMEGRAPH_H

#include "../analyze/agg.h"
#include "../util/strbuf.h"

struct flamegraph_options {
	const char *title;	/* NULL: "gilscope flame graph" */
	const char *subtitle;	/* NULL: the totals (samples, threads, duration, GIL) */
	int width;		/* pixels; 0: 1200 */
	double min_width;	/* pixels; 0: 0.1; < 0: keep every frame */
	int no_state_leaves;	/* leave [state] leaves out */
};

/* Appends to sb. Returns 0, or GS_ENOMEM. `opt` may be NULL (defaults). */
int report_flamegraph(struct strbuf *sb, const struct agg *a,
		      const struct flamegraph_options *opt);

/* The script's source, embedded at build time (flamegraph_js.c). */
extern const unsigned char flamegraph_js[];
extern const size_t flamegraph_js_len;

#endif
