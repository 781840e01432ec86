/*
 * stacks_json.h - the stack tree as JSON: one entry per distinct stack with
 * its per-state sample counts (record --format json).
 */
#ifndef GS_REPORT_STACKS_JSON_H
#define GS_REPORT_STACKS_JSON_H

#include "../analyze/agg.h"
#include "../util/strbuf.h"

/* Appends a JSON array (no trailing newline). */
void report_stacks_json(struct strbuf *sb, const struct agg *a);

#endif
