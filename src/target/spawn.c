/*
 * spawn.c - start a helper interpreter on pipes, wait for it, end it.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launch.h"
#include "../util/clock.h"
#include "../util/error.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int spawn_start(char *const argv[], struct spawned *sp, char *err_text, size_t err_len)
{
	int in[2] = { -1, -1 }, ready[2] = { -1, -1 }, ex[2] = { -1, -1 };
	int err = 0;
	ssize_t n;
	pid_t p;

	memset(sp, 0, sizeof(*sp));
	sp->in_w = sp->ready_r = -1;
	if (err_len)
		err_text[0] = '\0';
	/* exec status pipe: close-on-exec, so EOF means exec worked */
	if (pipe2(in, O_CLOEXEC) || pipe2(ready, O_CLOEXEC) || pipe2(ex, O_CLOEXEC))
		goto fail;
	p = fork();
	if (p < 0)
		goto fail;
	if (p == 0) {
		/* fds 0, 1 and 3 of the child; dup2 clears close-on-exec */
		if (dup2(in[0], 0) < 0 || dup2(2, 1) < 0 || dup2(ready[1], SPAWN_READY_FD) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		err = errno;
		if (write(ex[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close_fd(&in[0]);
	close_fd(&ready[1]);
	close_fd(&ex[1]);
	do {
		n = read(ex[0], &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	close_fd(&ex[0]);
	sp->pid = p;
	sp->in_w = in[1];
	sp->ready_r = ready[0];
	if (n == (ssize_t)sizeof(err)) {
		spawn_finish(sp, 0);
		if (err_len)
			snprintf(err_text, err_len, "%s", strerror(err));
		return GS_ENOPROC;
	}
	return 0;
fail:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&ready[0]);
	close_fd(&ready[1]);
	close_fd(&ex[0]);
	close_fd(&ex[1]);
	if (err_len)
		snprintf(err_text, err_len, "%s", strerror(errno));
	return GS_EGENERIC;
}


static int try_reap(struct spawned *sp)
{
	int st;
	pid_t r;

	if (sp->reaped)
		return 1;
	do {
		r = waitpid(sp->pid, &st, WNOHANG);
	} while (r < 0 && errno == EINTR);
	if (r == sp->pid || (r < 0 && errno == ECHILD)) {
		sp->reaped = 1;
		sp->status = r == sp->pid ? launch_exit_status(st) : 1;
		return 1;
	}
	return 0;
}

int spawn_wait_ready(struct spawned *sp, int timeout_ms)
{
	uint64_t end = gs_now_ms() + (uint64_t)timeout_ms;
	struct pollfd pfd;
	char c;
	ssize_t n;
	int left, r;

	for (;;) {
		uint64_t now = gs_now_ms();

		if (now >= end)
			return GS_ERANGE;
		left = (int)(end - now);
		pfd.fd = sp->ready_r;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, left);
		if (r < 0 && errno == EINTR)
			return GS_ERANGE;	/* interrupted: give up waiting */
		if (r <= 0)
			continue;
		n = read(sp->ready_r, &c, 1);
		if (n == 1)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		/* EOF: it exited (or closed fd 3, which ours never does) */
		while (!try_reap(sp) && gs_now_ms() < end) {
			struct timespec ts = { 0, 2 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
		return GS_EEXITED;
	}
}

static int wait_exit(struct spawned *sp, int ms)
{
	uint64_t end = gs_now_ms() + (uint64_t)ms;
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	while (!try_reap(sp)) {
		if (gs_now_ms() >= end)
			return 0;
		nanosleep(&ts, NULL);
	}
	return 1;
}

int spawn_finish(struct spawned *sp, int grace_ms)
{
	close_fd(&sp->in_w);
	close_fd(&sp->ready_r);
	if (sp->pid <= 0 || sp->reaped)
		return sp->status;
	if (!wait_exit(sp, grace_ms)) {
		kill(sp->pid, SIGTERM);
		if (!wait_exit(sp, 2000)) {
			int st;
			pid_t r;

			kill(sp->pid, SIGKILL);
			do {
				r = waitpid(sp->pid, &st, 0);
			} while (r < 0 && errno == EINTR);
			sp->reaped = 1;
			sp->status = r == sp->pid ? launch_exit_status(st) : 1;
		}
	}
	return sp->status;
}
