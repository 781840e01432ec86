/*
 * launch.h - start a program for launch mode (`gilscope diagnose -- cmd ...`)
 * and collect its exit status. The child runs in our process group, so a
 * Ctrl-C reaches both, as with py-spy.
 */
#ifndef GS_LAUNCH_H
#define GS_LAUNCH_H

#include <sys/types.h>

/* fork + execvp(argv[0], argv). Returns 0 and the pid, or a gs_err; an exec
 * failure is reported by launch_wait as exit status 127. */
int launch_start(char *const argv[], pid_t *pid);
/* Has the child exited? Non-blocking; 1 and *status (shell-style: code, or
 * 128+signal) when it has, 0 when it still runs. */
int launch_poll(pid_t pid, int *status);
/* A waitpid() status as a shell would report it: the exit code, or
 * 128 + the signal that killed it. */
int launch_exit_status(int st);
/* Wait for the child and return its shell-style status. */
int launch_wait(pid_t pid);

#endif
