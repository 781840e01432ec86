/*
 * launch.c - fork/exec a target program and reap it.
 */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util/error.h"

int launch_start(char *const argv[], pid_t *pid)
{
	int pfd[2];
	pid_t p;
	int err = 0;
	ssize_t n;

	/* a close-on-exec pipe tells us whether exec worked */
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return GS_EGENERIC;
	p = fork();
	if (p < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return GS_EGENERIC;
	}
	if (p == 0) {
		close(pfd[0]);
		execvp(argv[0], argv);
		err = errno;
		if (write(pfd[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pfd[1]);
	do {
		n = read(pfd[0], &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == (ssize_t)sizeof(err)) {
		waitpid(p, NULL, 0);
		fprintf(stderr, "gilscope: cannot run %s: %s\n", argv[0], strerror(err));
		return GS_ENOPROC;
	}
	*pid = p;
	return 0;
}

int launch_exit_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

int launch_poll(pid_t pid, int *status)
{
	int st;
	pid_t r = waitpid(pid, &st, WNOHANG);

	if (r == pid) {
		*status = launch_exit_status(st);
		return 1;
	}
	return 0;
}

int launch_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return 1;
	}
	return launch_exit_status(st);
}
