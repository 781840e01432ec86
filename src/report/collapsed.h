/*
 * collapsed.h - the stack tree as flamegraph.pl's "collapsed stacks": one
 * line per distinct stack, "outer;...;inner COUNT", outermost first.
 *
 * Frames read "func (file:line)"; a thread root reads "name (tid N)".
 * Semicolons in names become '_', control characters (newlines, tabs) a
 * space and invalid UTF-8 U+FFFD, so every line parses back. Lines are
 * sorted bytewise and identical stacks merged; the counts always add up
 * to the samples in the tree. A sample with no frame left to show (a thread
 * root left out, nothing under it) reads "[no Python frames]".
 */
#ifndef GS_REPORT_COLLAPSED_H
#define GS_REPORT_COLLAPSED_H

#include "../analyze/agg.h"
#include "../util/strbuf.h"

struct collapsed_options {
	int no_threads;		/* leave the thread roots out: all threads merge */
	int no_state_leaves;	/* leave [state] leaves out: their samples count for the frame above */
};

/* Appends to sb. Returns 0, or GS_ENOMEM. `opt` may be NULL (defaults). */
int report_collapsed(struct strbuf *sb, const struct agg *a, const struct collapsed_options *opt);

#endif
