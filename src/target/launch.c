/*
 * launch.c - fork/exec a target program, reap it, and end it with what it
 * started; see launch.h.
 */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "ptree.h"
#include "../util/clock.h"
#include "../util/error.h"

/* What the launched child does before exec. */
struct child_setup {
	int keep_running;
	int err_fd;		/* becomes its stderr; -1: keep ours */
};

/* fork + execvp; the child first runs prepare(cs) (NULL: nothing).
 * 0 and *pid, or GS_ENOPROC after printing why, or GS_EGENERIC. */
static int fork_exec(char *const argv[], void (*prepare)(pid_t parent, const struct child_setup *),
		     const struct child_setup *cs, pid_t *pid)
{
	pid_t parent = getpid();
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
		if (prepare)
			prepare(parent, cs);
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

int launch_start(char *const argv[], pid_t *pid)
{
	return fork_exec(argv, NULL, NULL, pid);
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

int launch_poll_all(pid_t pid, int *wstatus)
{
	int st, found = 0;
	pid_t r;

	for (;;) {
		r = waitpid(-1, &st, WNOHANG);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (r == pid) {
			*wstatus = st;
			found = 1;
		}
	}
	return found;
}

int launch_wait_raw(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return 1 << 8;
	}
	return st;
}

int launch_wait(pid_t pid)
{
	return launch_exit_status(launch_wait_raw(pid));
}

/* --- the process table ------------------------------------------------------ */

static int in_list(pid_t p, const pid_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == p)
			return 1;
	return 0;
}

long launch_tree_mark(const struct ptree_proc *t, size_t n, pid_t root, pid_t self,
		      const pid_t *before, size_t nbefore, int before_unknown,
		      unsigned char *in)
{
	unsigned char *seed;
	size_t i;
	long ret;

	if (!n)
		return 0;
	seed = calloc(n, 1);
	if (!seed)
		return -1;
	/* the program, and orphans of its tree reparented to us */
	for (i = 0; i < n; i++)
		seed[i] = t[i].pid == root ||
			  (t[i].ppid == self && !before_unknown && !in_list(t[i].pid, before, nbefore));
	ret = ptree_mark(t, n, seed, self, in);
	free(seed);
	return ret;
}

/* Read /proc and mark the launched tree in tb->in. */
static int table_scan(struct ptree *tb, const struct launched *l)
{
	int ret = ptree_read(tb);

	if (ret)
		return ret;
	if (launch_tree_mark(tb->t, tb->n, l->pid, getpid(), l->before, l->nbefore,
			     l->before_unknown, tb->in) < 0)
		return GS_ENOMEM;
	return 0;
}

static int live(const struct ptree_proc *p)
{
	return p->state != 'Z' && p->state != 'X';
}

/* --- launching -------------------------------------------------------------- */

static void prepare_child(pid_t parent, const struct child_setup *cs)
{
	/* Should gilscope die without ending it, the program gets SIGTERM;
	 * if gilscope is already gone, do not start it at all. */
	if (!cs->keep_running &&
	    (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) || getppid() != parent))
		_exit(127);
	if (cs->err_fd >= 0 && dup2(cs->err_fd, 2) < 0)
		_exit(127);
}

/* --- its stderr, passed on ------------------------------------------------ */

struct launch_tee {
	pthread_t thread;
	pthread_mutex_t mu;
	int fd;			/* the pipe's read end */
	int eof;		/* the thread saw the pipe close, and has ended */
	char tail[LAUNCH_TAIL_MAX];
	size_t len;
};

static void write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* our stderr is gone: keep draining the pipe */
		p += w;
		n -= (size_t)w;
	}
}

static void *tee_main(void *arg)
{
	struct launch_tee *t = arg;
	char buf[4096];
	ssize_t n;
	size_t k;

	for (;;) {
		n = read(t->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		write_all(2, buf, (size_t)n);
		k = (size_t)n;
		pthread_mutex_lock(&t->mu);
		if (k >= LAUNCH_TAIL_MAX) {
			memcpy(t->tail, buf + k - LAUNCH_TAIL_MAX, LAUNCH_TAIL_MAX);
			t->len = LAUNCH_TAIL_MAX;
		} else {
			if (t->len + k > LAUNCH_TAIL_MAX) {
				size_t drop = t->len + k - LAUNCH_TAIL_MAX;

				memmove(t->tail, t->tail + drop, t->len - drop);
				t->len -= drop;
			}
			memcpy(t->tail + t->len, buf, k);
			t->len += k;
		}
		pthread_mutex_unlock(&t->mu);
	}
	pthread_mutex_lock(&t->mu);
	t->eof = 1;
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* A pipe for the child's stderr and the thread that reads it; *wfd is the
 * write end, for the child (close-on-exec here, dup2'd onto its fd 2).
 * NULL when any of it cannot be had: the child keeps our stderr. */
static struct launch_tee *tee_start(int *wfd)
{
	struct launch_tee *t = calloc(1, sizeof(*t));
	sigset_t all, old;
	int pfd[2], err;

	*wfd = -1;
	if (!t)
		return NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		free(t);
		return NULL;
	}
	t->fd = pfd[0];
	pthread_mutex_init(&t->mu, NULL);
	/* signals stay with the main thread (its sleeps end on them) */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&t->thread, NULL, tee_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pthread_mutex_destroy(&t->mu);
		close(pfd[0]);
		close(pfd[1]);
		free(t);
		return NULL;
	}
	*wfd = pfd[1];
	return t;
}

/* Wait up to ms for the thread to reach the pipe's end; 1 if it did. */
static int tee_drained(struct launch_tee *t, int ms)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int eof, i;

	for (i = 0;; i++) {
		pthread_mutex_lock(&t->mu);
		eof = t->eof;
		pthread_mutex_unlock(&t->mu);
		if (eof || i >= ms / 5)
			return eof;
		nanosleep(&ts, NULL);
	}
}

void launch_last_words(struct launched *l, int wait_ms, char *out, size_t outlen)
{
	struct launch_tee *t = l->tee;
	size_t end, start, i, n;

	if (!outlen)
		return;
	out[0] = '\0';
	if (!t)
		return;
	if (l->reaped)
		tee_drained(t, wait_ms);
	pthread_mutex_lock(&t->mu);
	end = t->len;
	while (end && (t->tail[end - 1] == '\n' || t->tail[end - 1] == '\r' ||
		       t->tail[end - 1] == ' '))
		end--;
	start = end;
	while (start && t->tail[start - 1] != '\n')
		start--;
	/* printable bytes only: it goes into one line of ours */
	for (i = start, n = 0; i < end && n + 1 < outlen; i++)
		out[n++] = (unsigned char)t->tail[i] < 0x20 ? ' ' : t->tail[i];
	out[n] = '\0';
	pthread_mutex_unlock(&t->mu);
}

void launch_release(struct launched *l)
{
	struct launch_tee *t = l->tee;

	if (!t)
		return;
	l->tee = NULL;
	if (tee_drained(t, 200)) {
		pthread_join(t->thread, NULL);
		pthread_mutex_destroy(&t->mu);
		close(t->fd);
		free(t);
		return;
	}
	/* something it started still holds the pipe: the thread stays, to
	 * pass on what comes, until we exit */
	pthread_detach(t->thread);
}

int launch_program(char *const argv[], int keep_running, struct launched *l)
{
	struct child_setup cs = { keep_running, -1 };
	struct ptree tb = { 0 };
	pid_t self = getpid();
	size_t i;
	int ret;

	memset(l, 0, sizeof(*l));
	/* the children we have now came with us through exec: not ours */
	ret = ptree_read(&tb);
	if (ret) {
		l->before_unknown = 1;
	} else {
		for (i = 0; i < tb.n; i++) {
			if (tb.t[i].ppid != self)
				continue;
			if (l->nbefore == LAUNCH_BEFORE_MAX) {
				l->before_unknown = 1;
				break;
			}
			l->before[l->nbefore++] = tb.t[i].pid;
		}
	}
	ptree_release(&tb);
	/* orphans of what we launch come to us, not to init (Linux 3.4+;
	 * without it they are out of reach once their parent is gone) */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (!keep_running)
		l->tee = tee_start(&cs.err_fd);
	ret = fork_exec(argv, prepare_child, &cs, &l->pid);
	if (cs.err_fd >= 0)
		close(cs.err_fd);
	if (ret)
		launch_release(l);
	return ret;
}

int launch_reap(struct launched *l)
{
	int st;
	pid_t r;

	for (;;) {
		r = waitpid(-1, &st, WNOHANG);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == ECHILD && !l->reaped) {
			/* someone else took it: we cannot say how it ended */
			l->reaped = 1;
			l->status = 1;
			l->wstatus = 1 << 8;
		}
		if (r <= 0)
			break;
		if (r == l->pid && !l->reaped) {
			l->reaped = 1;
			l->wstatus = st;
			l->status = launch_exit_status(st);
		}
	}
	return l->reaped;
}

/* --- ending ----------------------------------------------------------------- */

/*
 * Signal one process of the table. Between the table and now it may have
 * gone and its pid been reused: through a pidfd (Linux 5.3+) whose process
 * still has the start time we saw, the signal reaches the one we saw or
 * nobody.
 */
static void signal_proc(const struct ptree_proc *p, int sig)
{
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_send_signal)
	struct proc_stat st;
	int fd = (int)syscall(SYS_pidfd_open, p->pid, 0);

	if (fd >= 0) {
		if (!procfs_read_stat(p->pid, &st) && st.starttime == p->start)
			(void)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
		close(fd);
		return;
	}
	if (errno != ENOSYS)
		return;	/* ESRCH: gone */
#endif
	(void)kill(p->pid, sig);
}

struct pidset {
	pid_t *v;
	size_t n, cap;
};

/* Add p; 1 if it was new, 0 if there already, -1 out of memory. */
static int pidset_add(struct pidset *s, pid_t p)
{
	if (in_list(p, s->v, s->n))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		pid_t *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = p;
	return 1;
}

/* Wait until no process of the tree lives (blind: until the program is
 * reaped), the time is up, or hurry() rises. 1 when none lives. */
static int wait_gone(struct launched *l, struct ptree *tb, int *blind, uint64_t until,
		     const struct launch_end_opts *o, int hurry0)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	size_t i;

	for (;;) {
		int any = 0;

		/* while the program lives the tree does: /proc is read only
		 * once it is gone (a machine may have many processes) */
		any = !launch_reap(l);
		if (!any && !*blind && table_scan(tb, l))
			*blind = 1;
		for (i = 0; !any && !*blind && i < tb->n; i++)
			any = tb->in[i] && live(&tb->t[i]);
		if (!any)
			return 1;
		if (gs_now_ms() >= until || (o->hurry && o->hurry() != hurry0))
			return 0;
		nanosleep(&ts, NULL);
	}
}

static const int end_signals[3] = { SIGINT, SIGTERM, SIGKILL };

/* Send step's signal to every live process of the tree; 0 when none
 * lives, 1 when some do, or GS_ENOMEM. */
static int signal_tree(struct launched *l, struct ptree *tb, int blind, int step,
		       const struct launch_end_opts *o, struct launch_end *res,
		       struct pidset *others, struct pidset *killed)
{
	int sig = end_signals[step], any = 0;
	pid_t pgrp = getpgrp();
	size_t i;

	if (blind) {
		if (l->reaped)
			return 0;
		kill(l->pid, sig);
		if (sig != SIGKILL)
			kill(l->pid, SIGCONT);
		res->sent[res->nsent++] = sig;
		return 1;
	}
	for (i = 0; i < tb->n; i++) {
		const struct ptree_proc *p = &tb->t[i];
		int by_tty = step == 0 && o->tty_sigint && p->pgrp == pgrp;

		if (!tb->in[i] || !live(p))
			continue;
		any = 1;
		if (!by_tty) {
			signal_proc(p, sig);
			/* a stopped process acts on it only once it runs */
			if (sig != SIGKILL)
				signal_proc(p, SIGCONT);
		}
		if (p->pid == l->pid) {
			res->sent[res->nsent++] = sig;
			res->tty_sigint |= by_tty;
		} else if (pidset_add(others, p->pid) < 0 ||
			   (sig == SIGKILL && pidset_add(killed, p->pid) < 0)) {
			return GS_ENOMEM;
		}
	}
	return any;
}

int launch_end(struct launched *l, const struct launch_end_opts *o, struct launch_end *res)
{
	struct ptree tb = { 0 };
	struct pidset others = { 0 }, killed = { 0 };
	uint64_t t0 = gs_now_ms();
	int step, blind = 0, ret = 0;
	size_t i;

	memset(res, 0, sizeof(*res));
	for (step = 0; step < 3; step++) {
		int wait = step == 2 ? o->kill_wait_ms : o->grace_ms, hurry0, r;

		launch_reap(l);
		if (!blind && table_scan(&tb, l))
			blind = 1;	/* /proc unreadable: the program alone */
		r = signal_tree(l, &tb, blind, step, o, res, &others, &killed);
		if (r < 0) {
			ret = r;
			goto out;
		}
		if (!r)
			break;
		hurry0 = o->hurry ? o->hurry() : 0;
		if (wait_gone(l, &tb, &blind, gs_now_ms() + (uint64_t)(wait > 0 ? wait : 0), o, hurry0))
			break;
	}
	res->gone_before = !res->nsent;
	launch_reap(l);
	if (!blind && table_scan(&tb, l))
		blind = 1;
	if (blind) {
		res->left = !l->reaped;
	} else {
		for (i = 0; i < tb.n; i++)
			if (tb.in[i] && live(&tb.t[i]))
				res->left++;
	}
	if (res->left || !l->reaped)
		ret = GS_ERANGE;
out:
	res->others = (int)others.n;
	res->others_killed = (int)killed.n;
	res->seconds = (double)(gs_now_ms() - t0) / 1e3;
	free(others.v);
	free(killed.v);
	ptree_release(&tb);
	return ret;
}

const char *launch_signal_name(int sig)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = {
		{ SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" }, { SIGQUIT, "SIGQUIT" },
		{ SIGILL, "SIGILL" }, { SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" },
		{ SIGBUS, "SIGBUS" }, { SIGFPE, "SIGFPE" }, { SIGKILL, "SIGKILL" },
		{ SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
		{ SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" },
		{ SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" }, { SIGSYS, "SIGSYS" },
	};
	/* the others by number, constant strings: callers keep them */
	static const char *const numbered[] = {
		"signal 0", "signal 1", "signal 2", "signal 3", "signal 4", "signal 5",
		"signal 6", "signal 7", "signal 8", "signal 9", "signal 10",
		"signal 11", "signal 12", "signal 13", "signal 14", "signal 15",
		"signal 16", "signal 17", "signal 18", "signal 19", "signal 20",
		"signal 21", "signal 22", "signal 23", "signal 24", "signal 25",
		"signal 26", "signal 27", "signal 28", "signal 29", "signal 30",
		"signal 31", "signal 32", "signal 33", "signal 34", "signal 35",
		"signal 36", "signal 37", "signal 38", "signal 39", "signal 40",
		"signal 41", "signal 42", "signal 43", "signal 44", "signal 45",
		"signal 46", "signal 47", "signal 48", "signal 49", "signal 50",
		"signal 51", "signal 52", "signal 53", "signal 54", "signal 55",
		"signal 56", "signal 57", "signal 58", "signal 59", "signal 60",
		"signal 61", "signal 62", "signal 63", "signal 64",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sig == sig)
			return names[i].name;
	if (sig >= 0 && (size_t)sig < sizeof(numbered) / sizeof(numbered[0]))
		return numbered[sig];
	return "a signal out of range";
}
