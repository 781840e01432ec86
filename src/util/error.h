/*
 * error.h - gilscope's error codes and the exit codes they map to.
 *
 * Library code returns 0 or a negative gs_err; only src/cmd/ turns one into
 * a message and an exit status (see README "Exit codes").
 */
#ifndef GS_ERROR_H
#define GS_ERROR_H

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
};

const char *gs_strerror(int err);
int gs_exit_code(int err);

#endif
