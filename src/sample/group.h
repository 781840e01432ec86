/*
 * group.h - a process and its descendants, sampled as one program
 * (--subprocesses): each Python process among them has its own process
 * handle and sampler (its own model); the others (a shell, a launcher, a
 * program in another language) are kept as members that are not sampled,
 * so the tree shows how the Python ones came to be.
 *
 * A scan reads the process table once: descendants that appeared since are
 * attached, those that exited are marked gone (their samplers are kept
 * until the group is released, for the reports), a member that was not
 * Python is tried again once it has exec'd another program.
 */
#ifndef GS_GROUP_H
#define GS_GROUP_H

#include <limits.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sampler.h"
#include "../target/process.h"
#include "../target/ptree.h"

/* processes kept in one group, live or gone */
#define GROUP_MAX 512
/* a process that was not (yet) readable as Python is tried again at this
 * many scans after it was found: an interpreter maps its runtime and
 * builds it in its first moments */
#define GROUP_RETRIES 10
#define GROUP_CMDLINE_MAX 256

struct group_member {
	pid_t pid, ppid;
	uint64_t start;		/* start time (ticks): tells a reused pid */
	char cmdline[GROUP_CMDLINE_MAX];	/* printable, arguments joined by ' ' */
	char exe[PATH_MAX];	/* what it ran when last tried */
	int sampled;		/* has a process handle and a sampler */
	int err;		/* why it is not sampled (GS_ENOTPY, ...), or 0 */
	int gone;		/* exited (or its pid was reused) since found */
	int tries;		/* attempts to read it (a young process may not
				 * have its runtime yet) */
	/* while sampled: samples taken, lost, and the loop's deadline count
	 * when it was first sampled */
	uint64_t taken, errors, first_requested;
	int seen;		/* sampled at least once */
	struct process proc;
	struct sampler s;
};

/*
 * Instead of a tree, a selection (serve): the processes of the whole table
 * that are one of pids[], or whose command line (as group_member.cmdline
 * shows it) matches re, or, with `all`, whose executable's name contains
 * "python". A process is judged when first seen; forgetting a member that
 * is not sampled has it judged again. The caller keeps sel alive.
 */
struct group_select {
	const pid_t *pids;
	size_t npids;
	const regex_t *re;
	int all;
};

struct group {
	pid_t root, self;	/* root 0: a selection (sel) */
	const struct group_select *sel;
	uint64_t rescan_ns;	/* between scans in loop_run_group; 0: LOOP_RESCAN_NS */
	int torn_rereads;	/* for each new sampler; 0: the sampler's default */
	struct group_member *m[GROUP_MAX];
	size_t n;
	size_t dropped;		/* descendants not kept: past GROUP_MAX */
	struct ptree pt;
};

void group_init(struct group *g, pid_t root);
/* A group of the processes `sel` selects, as they come and go; it has no
 * end of its own (loop_run_group runs until stopped). */
void group_init_select(struct group *g, const struct group_select *sel);
void group_release(struct group *g);

/* Find the root's descendants (and the root) as they are now: see above.
 * Returns 0 or a gs_err (the process table could not be read). */
int group_scan(struct group *g);

/* Forget member i, gone (its sampler too): a view that runs for hours
 * (top) keeps room for the processes still to come. Members past i move
 * down by one, as a caller's arrays indexed like g->m must. */
void group_forget(struct group *g, size_t i);

/* How many members are sampled and not gone. */
size_t group_live(const struct group *g);

#endif
