/*
 * ptree.h - the process table of /proc and the trees in it: what a launched
 * program started (launch.c ends them all) and the descendants of a process
 * (--subprocesses samples the Python ones).
 *
 * A table is read in one pass over /proc; processes come and go during it,
 * and pids may be reused between two reads, so nothing here assumes the
 * table is a tree: every walk is bounded by its size.
 */
#ifndef GS_PTREE_H
#define GS_PTREE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One process in a process table. */
struct ptree_proc {
	pid_t pid, ppid, pgrp;
	char state;
	uint64_t start;		/* start time, clock ticks after boot */
};

struct ptree {
	struct ptree_proc *t;
	size_t n, cap;
	pid_t *pids;		/* scratch of the listing */
	unsigned char *in;	/* per process: marked (ptree_mark) */
};

/* Every process in /proc, with parent, group, state and start time, into
 * pt (kept for the next read). 0 or a gs_err. */
int ptree_read(struct ptree *pt);
void ptree_release(struct ptree *pt);

/*
 * Pure: mark in in[] the processes of a table of n processes with distinct
 * pids that are seeds (seed[i] set) or descendants of one, except `self`
 * and what descends from it through it. Returns how many; -1 if out of
 * memory.
 */
long ptree_mark(const struct ptree_proc *t, size_t n, const unsigned char *seed, pid_t self,
		unsigned char *in);

/* Mark in pt->in `root` and every process that descends from it (as
 * ptree_mark() does, `self` left out). Returns how many, or GS_ENOMEM. */
long ptree_mark_tree(struct ptree *pt, pid_t root, pid_t self);

/* The process `pid` in pt, or NULL (the table is in pid order, as /proc
 * lists it). */
const struct ptree_proc *ptree_find(const struct ptree *pt, pid_t pid);

#endif
