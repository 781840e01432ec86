/*
 * stacks_json.h - the stack tree as JSON: one entry per distinct stack with
 * its per-state sample counts (record --format json).
 */
#ifndef GS_REPORT_STACKS_JSON_H
#define GS_REPORT_STACKS_JSON_H

#include "../analyze/agg.h"
#include "../util/jw.h"
#include "../util/strbuf.h"

/* Appends the stacks as one JSON document: an array, and a newline. */
void report_stacks_json(struct strbuf *sb, const struct agg *a);
/* The same array as member `key` of a document being written. */
void report_stacks_jw(struct jw *w, const char *key, const struct agg *a);

#endif
