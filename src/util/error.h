/*
 * error.h - gilscope's error codes and the exit codes they map to.
 *
 * Library code returns 0 or a negative gs_err; only src/cmd/ turns one into
 * a message and an exit status (see README "Exit codes").
 */
#ifndef GS_ERROR_H
#define GS_ERROR_H

#include <stddef.h>

enum gs_err {
	GS_OK = 0,
	GS_EGENERIC = -1,	/* something else went wrong (errno may say more) */
	GS_ENOPROC = -2,	/* no such process */
	GS_EPERM = -3,		/* not allowed to read the process */
	GS_ENOTPY = -4,		/* the process is not a Python interpreter */
	GS_EUNSUPPORTED = -5,	/* a Python we cannot read (version or build) */
	GS_EEXITED = -6,	/* the process went away while we looked at it */
	GS_EFAULT = -7,		/* a remote read failed: unmapped or torn */
	GS_ECORRUPT = -8,	/* remote data failed a sanity check */
	GS_ENOMEM = -9,		/* out of memory */
	GS_EIO = -10,		/* local I/O failed (output file, /proc read) */
	GS_ERANGE = -11,	/* a bound was hit (buffer, depth, count) */
	GS_EUSAGE = -12,	/* bad command-line usage */
	GS_EPROCNS = -13,	/* /proc shows another PID namespace than ours */
};

/* Exit statuses, documented in README.md. */
enum gs_exit {
	GS_EXIT_OK = 0,
	GS_EXIT_ERROR = 1,
	GS_EXIT_USAGE = 2,
	GS_EXIT_NOPROC = 3,
	GS_EXIT_PERM = 4,
	GS_EXIT_NOTPY = 5,
	GS_EXIT_UNSUPPORTED = 6,
	GS_EXIT_EXITED = 7,
	GS_EXIT_OUTPUT = 8,
	GS_EXIT_NOTREADY = 9,	/* ft-check: the verdict is not `ready` */
};

const char *gs_strerror(int err);
int gs_exit_code(int err);

/*
 * Why remote data failed a sanity check: where (file, line, function) and
 * a few words. Every GS_ECORRUPT is returned through GS_CORRUPT("why"),
 * which records the reason and returns GS_ECORRUPT; with GILSCOPE_TRACE=1
 * in the environment each one is also printed on stderr (git's
 * GIT_TRACE). The sampler counts the first reason of each sample
 * (gs_why_mark / gs_why_first) and reports the counts (diagnose --json
 * "sampling"."corrupt"); error messages quote the last one.
 */
struct gs_why {
	const char *file;	/* basename of the source file */
	int line;
	const char *func;
	const char *why;
	unsigned long long count;	/* samples whose first reason it was */
	char detail[192];	/* GS_CORRUPTF: the last text made (why points here) */
};

/* (the value is the constant, so the compiler knows it is an error) */
#define GS_CORRUPT(why) (gs_corrupt(__FILE__, __LINE__, __func__, (why)), GS_ECORRUPT)
void gs_corrupt(const char *file, int line, const char *func, const char *why);
/* The same with a text made from values: "thread_state.status=900 lies
 * outside thread_state (size 880)". */
#define GS_CORRUPTF(...) (gs_corruptf(__FILE__, __LINE__, __func__, __VA_ARGS__), GS_ECORRUPT)
void gs_corruptf(const char *file, int line, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The last reason recorded (NULL if none since the start). */
const struct gs_why *gs_why_last(void);
/* A mark to call before a unit of work (a sample); gs_why_first() then
 * gives the first reason recorded after the mark, or NULL. */
unsigned long gs_why_mark(void);
const struct gs_why *gs_why_first(unsigned long mark);
/* Count one sample against the reason (a gs_why_first() result). */
void gs_why_count(const struct gs_why *w);
/* The reasons counted so far, most first: up to n into out; how many. */
size_t gs_why_counts(const struct gs_why **out, size_t n);
/* "frames.c:212 walk_chain: frame owner out of range", into buf. */
void gs_why_format(const struct gs_why *w, char *buf, size_t len);

#endif
