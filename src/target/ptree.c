/* ptree.c - the process table and its trees; see ptree.h. */
#include "ptree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "../util/error.h"

void ptree_release(struct ptree *pt)
{
	free(pt->t);
	free(pt->pids);
	free(pt->in);
	memset(pt, 0, sizeof(*pt));
}

#define PTREE_MAX (1u << 22)	/* pid_max's own limit */

int ptree_read(struct ptree *pt)
{
	long n;
	size_t i;

	for (;;) {
		if (!pt->cap) {
			pt->cap = 1024;
		} else {
			n = procfs_list_pids(pt->pids, pt->cap);
			if (n >= 0)
				break;
			if (n != GS_ERANGE || pt->cap >= PTREE_MAX)
				return (int)n;
			pt->cap *= 2;
		}
		free(pt->t);
		free(pt->pids);
		free(pt->in);
		pt->t = calloc(pt->cap, sizeof(*pt->t));
		pt->pids = calloc(pt->cap, sizeof(*pt->pids));
		pt->in = calloc(pt->cap, 1);
		if (!pt->t || !pt->pids || !pt->in) {
			ptree_release(pt);
			return GS_ENOMEM;
		}
	}
	pt->n = 0;
	for (i = 0; i < (size_t)n; i++) {
		struct proc_stat st;

		if (procfs_read_stat(pt->pids[i], &st))
			continue;	/* gone since the listing */
		pt->t[pt->n].pid = pt->pids[i];
		pt->t[pt->n].ppid = st.ppid;
		pt->t[pt->n].pgrp = st.pgrp;
		pt->t[pt->n].state = st.state;
		pt->t[pt->n].start = st.starttime;
		pt->n++;
	}
	return 0;
}

/* (parent, index) pairs, sorted by parent: the children of a process are
 * one run of them */
struct edge {
	pid_t ppid;
	size_t i;
};

static int cmp_edge(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	if (x->ppid != y->ppid)
		return x->ppid < y->ppid ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

long ptree_mark(const struct ptree_proc *t, size_t n, const unsigned char *seed, pid_t self,
		unsigned char *in)
{
	struct edge *edges;
	size_t *queue, head = 0, tail = 0, i;

	memset(in, 0, n);
	if (!n)
		return 0;
	edges = malloc(n * sizeof(*edges));
	queue = malloc(n * sizeof(*queue));
	if (!edges || !queue) {
		free(edges);
		free(queue);
		return -1;
	}
	for (i = 0; i < n; i++) {
		edges[i].ppid = t[i].ppid;
		edges[i].i = i;
		if (seed[i] && t[i].pid != self) {
			in[i] = 1;
			queue[tail++] = i;
		}
	}
	qsort(edges, n, sizeof(*edges), cmp_edge);
	/* breadth first; each process enters the queue once, so a table
	 * that is not a tree (pids reused between reads) still ends */
	while (head < tail) {
		pid_t parent = t[queue[head++]].pid;
		size_t lo = 0, hi = n;

		while (lo < hi) {	/* the first edge with ppid >= parent */
			size_t mid = lo + (hi - lo) / 2;

			if (edges[mid].ppid < parent)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < n && edges[lo].ppid == parent; lo++) {
			size_t c = edges[lo].i;

			if (!in[c] && t[c].pid != self) {
				in[c] = 1;
				queue[tail++] = c;
			}
		}
	}
	free(edges);
	free(queue);
	return (long)tail;
}

long ptree_mark_tree(struct ptree *pt, pid_t root, pid_t self)
{
	unsigned char *seed;
	size_t i;
	long n;

	if (!pt->n)
		return 0;
	seed = calloc(pt->n, 1);
	if (!seed)
		return GS_ENOMEM;
	for (i = 0; i < pt->n; i++)
		seed[i] = pt->t[i].pid == root;
	n = ptree_mark(pt->t, pt->n, seed, self, pt->in);
	free(seed);
	return n < 0 ? GS_ENOMEM : n;
}

const struct ptree_proc *ptree_find(const struct ptree *pt, pid_t pid)
{
	size_t lo = 0, hi = pt->n;

	/* the listing is in pid order, and so is the table */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pt->t[mid].pid == pid)
			return &pt->t[mid];
		if (pt->t[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
