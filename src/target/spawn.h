/*
 * spawn.h - a helper child for `gilscope info --python PY`: started with a
 * pipe on its stdin (it idles reading it) and a readiness pipe on fd 3; its
 * stdout goes to our stderr so that nothing it prints mixes with our
 * output. Ended by closing its stdin, so it exits by itself; signals only if
 * it does not.
 */
#ifndef GS_SPAWN_H
#define GS_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#define SPAWN_READY_FD 3	/* the child writes one byte here when ready */

struct spawned {
	pid_t pid;
	int in_w;	/* its stdin, -1 once closed */
	int ready_r;	/* its fd 3 */
	int reaped;
	int status;	/* shell-style, once reaped */
};

/* fork + execvp(argv[0], argv). Returns 0, or GS_ENOPROC when it could not
 * be run (errno text in *err_text), or GS_EGENERIC. */
int spawn_start(char *const argv[], struct spawned *sp, char *err_text, size_t err_len);

/* Wait up to timeout_ms for the readiness byte. 0 when it came; GS_EEXITED
 * when the child exited first (sp->status says how); GS_ERANGE on time out. */
int spawn_wait_ready(struct spawned *sp, int timeout_ms);

/* Close its stdin and wait up to grace_ms for it to exit, then SIGTERM,
 * then SIGKILL. Returns its shell-style status. Idempotent. */
int spawn_finish(struct spawned *sp, int grace_ms);

#endif
