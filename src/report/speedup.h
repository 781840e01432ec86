/*
 * speedup.h - the speedup report (`gilscope speedup`): for each thread
 * count, how much faster the threaded run was than one thread, and why,
 * from the samples of the threaded window. Text or JSON (schema:
 * tests/schema/speedup.schema.json).
 *
 * The report is plain data (analyze/speedup.h) filled by the command
 * (src/cmd/speedup_run.c) and analyze/speedup.c; the renderers only read it.
 */
#ifndef GS_REPORT_SPEEDUP_H
#define GS_REPORT_SPEEDUP_H

#include <stdint.h>

#include "../analyze/speedup.h"
#include "../util/strbuf.h"

/* The one-line "why" of a threaded run, e.g. "1.02x at 4 threads: 74% of
 * thread time waiting for the GIL, held mostly by compute() at work.py:12:
 * CPU-bound Python, use ProcessPoolExecutor or a free-threaded build". */
void speedup_explain(struct strbuf *sb, const struct speedup_report *r,
		     const struct speedup_point *p);

void report_speedup_text(struct strbuf *sb, const struct speedup_report *r);
void report_speedup_json(struct strbuf *sb, const struct speedup_report *r);

#endif
