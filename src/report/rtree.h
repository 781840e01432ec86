/*
 * rtree.h - what the stack-tree renderers (flame graph, speedscope,
 * collapsed stacks) share: a walk over agg's stack tree in a stable display
 * order, and the labels frames are shown with.
 *
 * The walk follows the nodes' parent links only, so it terminates on any
 * tree agg can build, and it keeps its own stack (no recursion), so stack
 * depth is bounded by memory, not by the C stack.
 *
 * Ownership: struct rtree borrows the agg (which must outlive it) and owns
 * its index arrays; rtree_release() frees them.
 */
#ifndef GS_REPORT_RTREE_H
#define GS_REPORT_RTREE_H

#include <stddef.h>
#include <stdint.h>

#include "../analyze/agg.h"
#include "../util/strbuf.h"

struct rtree {
	const struct agg *a;
	uint32_t *kids;		/* child ids grouped by parent, display order */
	uint32_t *first;	/* [nnodes + 1]: node n's kids are kids[first[n] .. first[n+1]) */
};

/* Display order: processes by pid, thread roots by tid, Python frames by function, file and
 * line, state leaves after the Python frames, by state. */
int rtree_init(struct rtree *rt, const struct agg *a);
void rtree_release(struct rtree *rt);

/*
 * Visits `start` and everything under it, parents before children.
 * path[0 .. depth-1] leads from `start` to the visited node path[depth-1];
 * x is the number of samples left of it within `start` (the sum of the
 * totals of the earlier siblings of it and of its ancestors).
 * fn returns 0 to go on, 1 to skip the node's children, or a negative
 * gs_err to stop the walk, which then returns that value.
 */
typedef int (*rtree_fn)(void *ctx, const uint32_t *path, size_t depth, uint64_t x);
int rtree_walk(const struct rtree *rt, uint32_t start, rtree_fn fn, void *ctx);

/* The thread whose root is `node`, or NULL. */
const struct agg_thread *rtree_thread_of(const struct agg *a, uint32_t node);

/*
 * Appends the raw (unescaped) label of a node: "func (file:line)" for a
 * Python frame ("func (file)" without a line, "func" without a file),
 * "name (tid N)" for a thread root, "pid N: command" for a process, the
 * state's label for a state leaf, "all" for node 0.
 */
void rtree_label(struct strbuf *sb, const struct agg *a, uint32_t node);
/* A thread's label alone: "name (tid N)". */
void rtree_thread_label(struct strbuf *sb, const struct agg *a, const struct agg_thread *t);
/* A process node's label: "pid N: command" ("pid N" without a command). */
void rtree_process_label(struct strbuf *sb, const struct agg *a, uint32_t node);

#endif
