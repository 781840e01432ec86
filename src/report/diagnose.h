/*
 * diagnose.h - the diagnosis report, as text a person reads in ten seconds
 * or as JSON (schema: tests/schema/diagnose.schema.json).
 */
#ifndef GS_REPORT_DIAGNOSE_H
#define GS_REPORT_DIAGNOSE_H

#include "../analyze/agg.h"
#include "../analyze/verdict.h"
#include "../util/jw.h"
#include "../util/strbuf.h"

/* Launch mode: how the program gilscope started ended (README "Launch
 * mode"). */
enum diag_launch_end {
	DIAG_LAUNCH_NONE,	/* not launched, or not known yet */
	DIAG_LAUNCH_EXITED,	/* it ended by itself */
	DIAG_LAUNCH_ENDED,	/* gilscope ended it (duration over, interrupted) */
	DIAG_LAUNCH_LEFT,	/* --keep-running: left running */
	DIAG_LAUNCH_NOT_ENDED,	/* still there after SIGKILL */
};

struct diag_launch {
	enum diag_launch_end end;
	const char *command;	/* argv[0] */
	const char *reason;	/* why gilscope ended it: "duration", "interrupted" */
	const char *signals[3];	/* sent to it, in order (a Ctrl-C's SIGINT too) */
	int nsignals;
	int exit_status;	/* shell-style (code, or 128 + signal); -1 unknown */
	const char *signal;	/* the signal it died of, NULL if it exited */
	int others;		/* other processes it started that were ended */
};

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
	struct diag_launch launch;	/* when launched */
};

void report_diagnose_text(struct strbuf *sb, const struct diag_info *info,
			  const struct agg *a, const struct verdict *v);
/* The members of a report's "python" object every report shares. */
void report_python_members(struct jw *w, const char *version, int free_threaded,
			   int gil_enabled, double switch_interval_s);

/* "launch": how a launched program ended (null when attached). */
void report_launch_jw(struct jw *w, const struct diag_info *info);

/* The diagnosis as one JSON document (with a final newline). */
void report_diagnose_json(struct strbuf *sb, const struct diag_info *info,
			  const struct agg *a, const struct verdict *v);
/* The same object as a member `key` of a document being written (NULL
 * inside an array or at the top). */
void report_diagnose_jw(struct jw *w, const char *key, const struct diag_info *info,
			const struct agg *a, const struct verdict *v);

#endif
