/*
 * tproc.h - one process of a user's test suite (`gilscope ft-check`), run
 * in a process group of its own so that it, and whatever it started, can be
 * ended at once (a hung test, Ctrl-C). Its stdin is /dev/null, its stdout
 * and stderr go to a file; its environment is ours with some variables set
 * or removed (PYTHON_GIL). Two pipes let a wrapper of ours inside it say
 * "finished" (a byte on its fd 3) and wait for "go" (its fd 4), so that its
 * interpreter can be read from outside before it exits.
 *
 * Should gilscope die, the kernel kills the test process (PR_SET_PDEATHSIG).
 */
#ifndef GS_TPROC_H
#define GS_TPROC_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#define TPROC_DONE_FD 3	/* the child writes one byte here when finished */
#define TPROC_GO_FD 4	/* ... and then reads one byte here */
#define TPROC_ENV_MAX 8

struct tproc_env {
	/* "NAME=VALUE" to set, and names to remove, in the child */
	const char *set[TPROC_ENV_MAX];
	size_t nset;
	const char *unset[TPROC_ENV_MAX];
	size_t nunset;
};

struct tproc {
	pid_t pid;		/* also its process group's id */
	int done_r;		/* its fd 3, -1 once closed */
	int go_w;		/* its fd 4, -1 once closed */
	int reaped;
	int wstatus;		/* waitpid()'s status, once reaped */
};

/* Start argv (execvp) as described above, output to out_path (created or
 * truncated). Returns 0, or GS_ENOPROC when it could not be run (errno
 * text in *err_text), or GS_EGENERIC. */
int tproc_start(char *const argv[], const struct tproc_env *env, const char *out_path,
		struct tproc *t, char *err_text, size_t err_len);
/* Reap it if it has exited (non-blocking); 1 once reaped. */
int tproc_reap(struct tproc *t);
/* Has it said it finished? 1 yes, 0 not yet, -1 never will (the pipe
 * closed without a byte, or it is closed). Non-blocking. */
int tproc_done(struct tproc *t);
/* Let it go on (and exit) after tproc_done() said 1; closes both pipes. */
void tproc_go(struct tproc *t);
/* SIGKILL its whole process group and reap it (bounded wait); closes the
 * pipes. Idempotent. */
void tproc_kill(struct tproc *t);
/* Run argv to the end with out_path as its output, for at most timeout_ms
 * (then its group is killed), or until *stop (set by a signal handler)
 * turns non-zero. 0 and *wstatus; GS_ERANGE on time out; GS_EGENERIC
 * ("interrupted" in *err_text) when stopped; tproc_start()'s errors. */
int tproc_run(char *const argv[], const struct tproc_env *env, const char *out_path,
	      int timeout_ms, const volatile sig_atomic_t *stop, int *wstatus,
	      char *err_text, size_t err_len);

/* The first of names[] (n of them) that is an executable file in a
 * directory of $PATH, its path in out; 0, or -1 when none is. */
int tproc_which(const char *const *names, size_t n, char *out, size_t outlen);

/* Pure: the environment for a child, from `base` (NULL-terminated) with
 * env's changes; at most `max` entries (the NULL included) written to out.
 * Returns the count (without the NULL), or -1 when max is too small. */
long tproc_make_env(char *const *base, const struct tproc_env *env, const char **out,
		    size_t max);

#endif
