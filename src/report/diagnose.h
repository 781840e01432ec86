/*
 * diagnose.h - the diagnosis report, as text a person reads in ten seconds
 * or as JSON (schema: tests/schema/diagnose.schema.json).
 */
#ifndef GS_REPORT_DIAGNOSE_H
#define GS_REPORT_DIAGNOSE_H

#include "../analyze/agg.h"
#include "../analyze/verdict.h"
#include "../util/strbuf.h"

struct diag_info {
	int pid;
	const char *version;
	int free_threaded;
	int gil_enabled;
	double switch_interval_s;	/* < 0 unknown */
	int target_exited;
	int target_execd;	/* it exec'd another program: sampling stopped */
	int interrupted;
	int launched;
	int child_status;
};

void report_diagnose_text(struct strbuf *sb, const struct diag_info *info,
			  const struct agg *a, const struct verdict *v);
void report_diagnose_json(struct strbuf *sb, const struct diag_info *info,
			  const struct agg *a, const struct verdict *v);

#endif
