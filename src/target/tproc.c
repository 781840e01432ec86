/*
 * tproc.c - a test process in its own process group; see tproc.h.
 */
#include "tproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../util/clock.h"
#include "../util/error.h"

#define ENV_CAP 4096		/* entries of the child's environment */
#define KILL_WAIT_MS 5000

extern char **environ;

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int name_is(const char *entry, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(entry, name, n) && entry[n] == '=';
}

static int listed(const char *entry, const char *const *names, size_t n, int with_value)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (with_value) {
			const char *eq = strchr(names[i], '=');

			if (eq && !strncmp(entry, names[i], (size_t)(eq - names[i]) + 1))
				return 1;
		} else if (name_is(entry, names[i])) {
			return 1;
		}
	}
	return 0;
}

long tproc_make_env(char *const *base, const struct tproc_env *env, const char **out,
		    size_t max)
{
	size_t n = 0, i;

	for (i = 0; base && base[i]; i++) {
		if (env && (listed(base[i], env->unset, env->nunset, 0) ||
			    listed(base[i], env->set, env->nset, 1)))
			continue;
		if (n + 1 >= max)
			return -1;
		out[n++] = base[i];
	}
	for (i = 0; env && i < env->nset; i++) {
		if (n + 1 >= max)
			return -1;
		out[n++] = env->set[i];
	}
	if (n >= max)
		return -1;
	out[n] = NULL;
	return (long)n;
}

int tproc_start(char *const argv[], const struct tproc_env *env, const char *out_path,
		struct tproc *t, char *err_text, size_t err_len)
{
	int done[2] = { -1, -1 }, go[2] = { -1, -1 }, ex[2] = { -1, -1 };
	const char **envp;
	pid_t parent = getpid(), p;
	int err = 0;
	ssize_t n;

	memset(t, 0, sizeof(*t));
	t->done_r = t->go_w = -1;
	if (err_len)
		err_text[0] = '\0';
	envp = calloc(ENV_CAP, sizeof(*envp));
	if (!envp)
		return GS_ENOMEM;
	if (tproc_make_env(environ, env, envp, ENV_CAP) < 0) {
		free(envp);
		if (err_len)
			snprintf(err_text, err_len, "the environment has too many variables");
		return GS_EGENERIC;
	}
	if (pipe2(done, O_CLOEXEC) || pipe2(go, O_CLOEXEC) || pipe2(ex, O_CLOEXEC))
		goto fail;
	p = fork();
	if (p < 0)
		goto fail;
	if (p == 0) {
		int fd;

		/* its own group: one kill(-pid) ends what it started too */
		setpgid(0, 0);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) || getppid() != parent)
			_exit(127);
		fd = open("/dev/null", O_RDONLY);
		if (fd < 0 || dup2(fd, 0) < 0)
			_exit(127);
		fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		/* dup2 clears close-on-exec on fds 3 and 4 only */
		if (dup2(done[1], TPROC_DONE_FD) < 0 || dup2(go[0], TPROC_GO_FD) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		execvpe(argv[0], argv, (char *const *)envp);
		err = errno;
		if (write(ex[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	/* the same in the parent, so no kill can come before the group exists */
	setpgid(p, p);
	free(envp);
	envp = NULL;
	close_fd(&done[1]);
	close_fd(&go[0]);
	close_fd(&ex[1]);
	do {
		n = read(ex[0], &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	close_fd(&ex[0]);
	t->pid = p;
	t->done_r = done[0];
	t->go_w = go[1];
	if (n == (ssize_t)sizeof(err)) {
		tproc_kill(t);
		if (err_len)
			snprintf(err_text, err_len, "%s", strerror(err));
		return GS_ENOPROC;
	}
	return 0;
fail:
	if (err_len)
		snprintf(err_text, err_len, "%s", strerror(errno));
	free(envp);
	close_fd(&done[0]);
	close_fd(&done[1]);
	close_fd(&go[0]);
	close_fd(&go[1]);
	close_fd(&ex[0]);
	close_fd(&ex[1]);
	return GS_EGENERIC;
}

int tproc_reap(struct tproc *t)
{
	siginfo_t si;
	int st, r;
	pid_t w;

	if (t->reaped || t->pid <= 0)
		return 1;
	/* see that it exited without reaping it, so that its pid still names
	 * its group: what it left running there is ended with it */
	memset(&si, 0, sizeof(si));
	do {
		r = waitid(P_PID, (id_t)t->pid, &si, WEXITED | WNOHANG | WNOWAIT);
	} while (r < 0 && errno == EINTR);
	if (r == 0 && si.si_pid != t->pid)
		return 0;
	if (r == 0)
		kill(-t->pid, SIGKILL);
	do {
		w = waitpid(t->pid, &st, r == 0 ? 0 : WNOHANG);
	} while (w < 0 && errno == EINTR);
	if (w == t->pid || (w < 0 && errno == ECHILD)) {
		t->reaped = 1;
		t->wstatus = w == t->pid ? st : 1 << 8;
		return 1;
	}
	return 0;
}

int tproc_done(struct tproc *t)
{
	struct pollfd pfd = { .fd = t->done_r, .events = POLLIN };
	char c;
	ssize_t n;

	if (t->done_r < 0)
		return -1;
	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	do {
		n = read(t->done_r, &c, 1);
	} while (n < 0 && errno == EINTR);
	if (n == 1)
		return 1;
	if (n < 0 && errno == EAGAIN)
		return 0;
	close_fd(&t->done_r);
	return -1;
}

void tproc_go(struct tproc *t)
{
	char c = 'g';

	if (t->go_w >= 0 && write(t->go_w, &c, 1) < 0) {
		/* it is gone already: nothing to let go */
	}
	close_fd(&t->go_w);
	close_fd(&t->done_r);
}

void tproc_kill(struct tproc *t)
{
	uint64_t end = gs_now_ms() + KILL_WAIT_MS;
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	close_fd(&t->go_w);
	close_fd(&t->done_r);
	if (t->pid <= 0)
		return;
	/* the group even when the leader is gone: what it started may not be */
	kill(-t->pid, SIGKILL);
	if (!t->reaped)
		kill(t->pid, SIGKILL);
	while (!tproc_reap(t) && gs_now_ms() < end)
		nanosleep(&ts, NULL);
}

int tproc_run(char *const argv[], const struct tproc_env *env, const char *out_path,
	      int timeout_ms, const volatile sig_atomic_t *stop, int *wstatus,
	      char *err_text, size_t err_len)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	struct tproc t;
	uint64_t end;
	int ret;

	ret = tproc_start(argv, env, out_path, &t, err_text, err_len);
	if (ret)
		return ret;
	/* nobody waits for it to say it finished: let it go on at once */
	close_fd(&t.go_w);
	close_fd(&t.done_r);
	end = gs_now_ms() + (uint64_t)timeout_ms;
	while (!tproc_reap(&t)) {
		if (stop && *stop) {
			tproc_kill(&t);
			if (err_len)
				snprintf(err_text, err_len, "interrupted");
			return GS_EGENERIC;
		}
		if (gs_now_ms() >= end) {
			tproc_kill(&t);
			return GS_ERANGE;
		}
		nanosleep(&ts, NULL);
	}
	*wstatus = t.wstatus;
	return 0;
}

int tproc_which(const char *const *names, size_t n, char *out, size_t outlen)
{
	const char *path = getenv("PATH");
	size_t i;

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (i = 0; i < n; i++) {
		const char *p = path;

		while (*p) {
			const char *colon = strchr(p, ':');
			size_t len = colon ? (size_t)(colon - p) : strlen(p);
			int w;

			w = snprintf(out, outlen, "%.*s/%s", len ? (int)len : 1, len ? p : ".",
				     names[i]);
			if (w > 0 && (size_t)w < outlen && !access(out, X_OK))
				return 0;
			p += len + (colon ? 1 : 0);
			if (!colon)
				break;
		}
	}
	if (outlen)
		out[0] = '\0';
	return -1;
}
