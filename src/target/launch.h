/*
 * launch.h - start a program for launch mode (`gilscope diagnose -- cmd ...`),
 * collect its exit status, and end it and everything it started.
 *
 * The child runs in our process group, so that a Ctrl-C in the terminal
 * reaches both (as with py-spy) and it can read the terminal. What it
 * starts stays ours to end: gilscope makes itself the "child subreaper" of
 * what it launches (prctl(2)), so that a process whose parent dies is
 * reparented to us instead of init, and launch_end() finds the whole tree
 * in /proc, even the parts that left our process group.
 */
#ifndef GS_LAUNCH_H
#define GS_LAUNCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ptree.h"

/* fork + execvp(argv[0], argv) (speedup's harness). Returns 0 and the pid,
 * or GS_ENOPROC after printing why it could not be run. */
int launch_start(char *const argv[], pid_t *pid);
/* Has the child exited? Non-blocking; 1 and *status (shell-style: code, or
 * 128+signal) when it has, 0 when it still runs. */
int launch_poll(pid_t pid, int *status);
/* The same, reaping any other child of ours that has exited on the way
 * (orphans of the launched tree, reparented to us); *wstatus is
 * waitpid()'s status. */
int launch_poll_all(pid_t pid, int *wstatus);
/* A waitpid() status as a shell would report it: the exit code, or
 * 128 + the signal that killed it. */
int launch_exit_status(int st);
/* Wait for the child and return its shell-style status. */
int launch_wait(pid_t pid);
/* The same, as waitpid()'s status (1 << 8, "exit status 1", when it
 * cannot be had). */
int launch_wait_raw(pid_t pid);

#define LAUNCH_BEFORE_MAX 32
#define LAUNCH_TAIL_MAX 2048

/*
 * The program's stderr, passed on to ours as it comes, its last
 * LAUNCH_TAIL_MAX bytes kept: what it printed last, for the one line that
 * says it failed (a program that fails at once leaves nothing to
 * diagnose). A thread copies it; its state is behind the mutex.
 */
struct launch_tee;

/* A program launched for sampling, and what belongs to it. */
struct launched {
	pid_t pid;
	int reaped;
	int status;		/* shell-style, once reaped */
	int wstatus;		/* waitpid()'s status, once reaped */
	/* children we had before launching (they can survive the exec that
	 * started gilscope): not ours to end, nor what they start */
	pid_t before[LAUNCH_BEFORE_MAX];
	size_t nbefore;
	int before_unknown;	/* too many to list: adopt no orphan */
	struct launch_tee *tee;	/* its stderr (NULL: left as it was) */
};

/* Start argv for sampling: fork + execvp in our process group, with us as
 * its subreaper. Unless keep_running, the kernel sends it SIGTERM should
 * gilscope die without ending it (PR_SET_PDEATHSIG), and its stderr comes
 * through us (struct launch_tee; with keep_running it must outlive us, so
 * it is left as it is). Returns 0, or GS_ENOPROC after printing why it
 * could not be run, or GS_EGENERIC. */
int launch_program(char *const argv[], int keep_running, struct launched *l);
/* Reap what of ours has exited; 1 once the program itself has been. */
int launch_reap(struct launched *l);
/*
 * The last line the program wrote to stderr, up to outlen-1 bytes (empty
 * if none, or if its stderr was not passed through us). Once it has
 * exited, waits up to wait_ms for what it wrote before that to come
 * through (what it started may keep the pipe open).
 */
void launch_last_words(struct launched *l, int wait_ms, char *out, size_t outlen);
/* Stop passing its stderr on (what is still in the pipe is copied first,
 * unless something it started keeps it open) and free what it needs. */
void launch_release(struct launched *l);

/* What launch_end did. */
struct launch_end {
	int sent[3];		/* signals the program was sent, in order */
	int nsent;
	int tty_sigint;		/* the first SIGINT came from the terminal */
	int gone_before;	/* it had exited before anything was sent */
	int others;		/* other processes of its tree that were ended */
	int others_killed;	/* ... of them, how many needed SIGKILL */
	int left;		/* processes of its tree still there at the end */
	double seconds;		/* how long it took */
};

struct launch_end_opts {
	int grace_ms;		/* after SIGINT, and again after SIGTERM */
	int kill_wait_ms;	/* how long SIGKILL may take to show */
	/* the terminal has sent SIGINT to our process group (Ctrl-C): who
	 * is in it got it already and is not sent a second one */
	int tty_sigint;
	/* called while waiting: a rise in what it returns (a second Ctrl-C)
	 * cuts the current grace period short; may be NULL */
	int (*hurry)(void);
};

/*
 * End the program and every process of its tree: SIGINT, then SIGTERM
 * after grace_ms, then SIGKILL after grace_ms more, each step only for
 * those still there, and reap them. Returns 0 when all are gone,
 * GS_ERANGE when some are still there after SIGKILL (res->left), or
 * another negative gs_err (/proc could not be listed: then only the
 * program itself was signalled).
 */
int launch_end(struct launched *l, const struct launch_end_opts *o, struct launch_end *res);

/*
 * Pure: mark in in[] the processes of the launched tree in a table of n
 * processes with distinct pids: `root`, children of `self` that are not
 * in before[] (orphans reparented to us; none when before_unknown), and
 * all their descendants. Returns how many; -1 if out of memory.
 */
long launch_tree_mark(const struct ptree_proc *t, size_t n, pid_t root, pid_t self,
		      const pid_t *before, size_t nbefore, int before_unknown,
		      unsigned char *in);

/* "SIGINT", "SIGKILL", ...; "signal N" for one without a name here
 * (constant strings, kept as long as the caller likes). */
const char *launch_signal_name(int sig);

#endif
