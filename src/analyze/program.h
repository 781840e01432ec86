/*
 * program.h - one verdict for a program made of several Python processes
 * (--subprocesses), from each process's own verdict: where the work is and
 * what limits it.
 */
#ifndef GS_PROGRAM_H
#define GS_PROGRAM_H

#include <stddef.h>

#include "verdict.h"

struct program_proc {
	int pid;
	const char *command;
	const struct agg *a;
	const struct verdict *v;
};

struct program_verdict {
	enum verdict_kind kind;
	char summary[1024];
	char advice[640];
	int processes;		/* Python processes sampled */
	int busy;		/* of them with a busy thread */
	int where;		/* the pid with the most busy samples, 0 if none */
};

void verdict_program(const struct program_proc *p, size_t n, struct program_verdict *out);

#endif
