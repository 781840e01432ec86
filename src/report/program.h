/*
 * program.h - render a process tree's diagnosis (diagnose --subprocesses):
 * the program's verdict, a table of its processes, then each process's own
 * report.
 */
#ifndef GS_REPORT_PROGRAM_H
#define GS_REPORT_PROGRAM_H

#include "diagnose.h"
#include "dump.h"
#include "../analyze/program.h"
#include "../util/jw.h"
#include "../util/strbuf.h"

/* One Python process of the tree, sampled. */
struct diag_proc {
	int ppid;
	const char *command;
	const struct diag_info *info;
	const struct agg *a;
	const struct verdict *v;
};

struct diag_program {
	const struct diag_info *root;	/* pid, launch, interrupted */
	double duration_s, rate_hz;
	uint64_t requested, taken, missed, worst_lag_ns;
	const struct diag_proc *procs;
	size_t nprocs;
	const struct dump_other *others;	/* processes of the tree not sampled */
	size_t nothers;
	const struct program_verdict *pv;
	size_t dropped;		/* processes of the tree past GROUP_MAX: not sampled */
};

void report_program_text(struct strbuf *sb, const struct diag_program *p);
void report_program_json(struct strbuf *sb, const struct diag_program *p);
/* The same object as a member `key` of a document being written (NULL
 * inside an array or at the top). */
void report_program_jw(struct jw *w, const char *key, const struct diag_program *p);

#endif
