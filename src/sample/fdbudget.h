/*
 * fdbudget.h - how many /proc files the sampler may keep open, and when to
 * ask for a higher open-file limit.
 *
 * A thread's schedstat is read at every sample, its syscall and stat only
 * when it ran; a file kept open costs one pread per read, one opened each
 * time costs an open and a close besides, several times the pread in the
 * kernel. So every thread's schedstat is kept open first, and the syscall
 * and stat files of the threads that run with what is left. The open-file
 * limit is the process's own: its soft value is raised towards the hard
 * one when the files need it. Pure logic: the caller does the system calls.
 */
#ifndef GS_FDBUDGET_H
#define GS_FDBUDGET_H

#include <stddef.h>
#include <stdint.h>

/* descriptors left for everything else (output, ELF files, maps, the
 * task directory, a launched program's pipes) */
#define FD_RESERVE 128
/* the soft limit asked for at most (a kernel's nr_open is often 1<<20;
 * this many files is beyond any thread count we walk) */
#define FD_SOFT_MAX 65536

struct fd_budget {
	uint64_t soft, hard;	/* RLIMIT_NOFILE, as last read */
	size_t held;		/* descriptors held for thread files */
	int stuck;		/* raising the soft limit failed: do not ask again */
};

/* Descriptors that may be held for thread files under soft limit `soft`. */
size_t fd_budget_room(uint64_t soft);

/* May n more be held, keeping `reserve` of the room free (for the
 * schedstat files of threads that have none yet)? 1 yes, 0 no. */
int fd_budget_fits(const struct fd_budget *b, size_t n, size_t reserve);

/* The soft limit to ask for so that n more (and `reserve`) fit: 0 when
 * they fit already or no higher limit can be had (the hard limit, or a
 * failed attempt). Asks in steps of 1024, so that a growing thread count
 * costs few setrlimit calls. */
uint64_t fd_budget_ask(const struct fd_budget *b, size_t n, size_t reserve);

#endif
