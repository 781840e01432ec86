/*
 * speedup_run.c - the session behind `gilscope speedup`.
 *
 * The harness (speedup_harness.py, protocol described there) is written to
 * a private temporary directory and started with the user's interpreter;
 * TARGET and the counts reach it as argv only. Then:
 *   "ready"     attach the sampler to the harness pid, answer go
 *   "baseline"  note the single-thread time
 *   "threads" start
 *               open a sampling window, answer go; the window closes when
 *               the harness speaks again ("threads" with the seconds), so
 *               the samples cover exactly the threaded phase; fold them
 *               into states and a verdict; answer go
 *   "processes" note the pool times
 *   "done"      reap the harness
 * An "error" message at any point becomes one line on stderr.
 */

#include "speedup_run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "../analyze/agg.h"
#include "../analyze/feed.h"
#include "../analyze/verdict.h"
#include "../sample/loop.h"
#include "../sample/sampler.h"
#include "../target/launch.h"
#include "../target/process.h"
#include "../util/error.h"
#include "../util/jmsg.h"

#define MSG_MAX 65536
#define WINDOW_END 1		/* from on_sample: the harness spoke */
#define EXIT_INTERRUPTED 130

struct session {
	const struct speedup_opts *o;
	struct speedup_report *rep;
	char dir[PATH_MAX];	/* "" when not created */
	char path[PATH_MAX];	/* the harness file, "" when not created */
	int ev, ctl;		/* our pipe ends: events in, control out */
	pid_t child;		/* 0 before the harness runs */
	int reaped, status;
	pid_t pid;		/* the harness's pid as it reported it */
	struct process proc;
	struct sampler s;
	int attached;
	char buf[MSG_MAX];	/* events read, not yet parsed */
	size_t blen;
	int eof;
};

static void note(const struct session *ss, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(const struct session *ss, const char *fmt, ...)
{
	va_list ap;

	if (!ss->o->progress)
		return;
	fputs("gilscope: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int cpu_count(void)
{
	cpu_set_t set;
	long n;

	if (!sched_getaffinity(0, sizeof(set), &set) && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* --- the harness file and process ------------------------------------- */

static int write_harness(struct session *ss)
{
	const unsigned char *p = speedup_harness_py;
	size_t left = speedup_harness_py_len;
	int fd, n;

	if (cmd_make_tmpdir("speedup", ss->dir, sizeof(ss->dir)))
		return GS_EXIT_ERROR;
	/* mkdtemp made the directory 0700, so nobody else can put or change
	 * code there; a fixed name keeps frames in the report readable */
	n = snprintf(ss->path, sizeof(ss->path), "%.*s/speedup_harness.py",
		     (int)(sizeof(ss->path) - 32), ss->dir);
	fd = n > 0 && (size_t)n < sizeof(ss->path) ?
	     open(ss->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600) : -1;
	if (fd < 0) {
		fprintf(stderr, "gilscope: cannot create the speedup harness in %s: %s\n",
			ss->dir, strerror(errno));
		ss->path[0] = '\0';
		return GS_EXIT_ERROR;
	}
	while (left) {
		ssize_t w = write(fd, p, left);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "gilscope: cannot write the speedup harness to %s: %s\n",
				ss->path, w < 0 ? strerror(errno) : "short write");
			close(fd);
			return GS_EXIT_ERROR;
		}
		p += w;
		left -= (size_t)w;
	}
	if (close(fd)) {
		fprintf(stderr, "gilscope: cannot write the speedup harness to %s: %s\n",
			ss->path, strerror(errno));
		return GS_EXIT_ERROR;
	}
	return 0;
}

static int start_harness(struct session *ss)
{
	char evs[16], ctls[16], calls[32], counts[SPEEDUP_MAX_COUNTS * 12];
	char *argv[9];
	int evp[2], ctlp[2], ret;
	size_t i, len = 0;

	counts[0] = '\0';
	for (i = 0; i < ss->o->ncounts; i++)
		len += (size_t)snprintf(counts + len, sizeof(counts) - len, "%s%d", i ? "," : "",
					ss->o->counts[i]);
	snprintf(calls, sizeof(calls), "%ld", ss->o->calls);
	/* ours close on exec; the harness's ends are made inheritable */
	if (pipe2(evp, O_CLOEXEC))
		goto pipe_failed;
	if (pipe2(ctlp, O_CLOEXEC)) {
		close(evp[0]);
		close(evp[1]);
		goto pipe_failed;
	}
	if (fcntl(evp[1], F_SETFD, 0) || fcntl(ctlp[0], F_SETFD, 0)) {
		close(evp[0]);
		close(evp[1]);
		close(ctlp[0]);
		close(ctlp[1]);
		goto pipe_failed;
	}
	snprintf(evs, sizeof(evs), "%d", evp[1]);
	snprintf(ctls, sizeof(ctls), "%d", ctlp[0]);
	argv[0] = (char *)ss->o->python;
	argv[1] = ss->path;
	argv[2] = evs;
	argv[3] = ctls;
	argv[4] = (char *)ss->o->target;
	argv[5] = counts;
	argv[6] = calls;
	argv[7] = ss->o->processes ? "1" : "0";
	argv[8] = NULL;
	ret = launch_start(argv, &ss->child);
	close(evp[1]);
	close(ctlp[0]);
	ss->ev = evp[0];
	ss->ctl = ctlp[1];
	if (ret) {
		ss->child = 0;	/* launch_start said why */
		return GS_EXIT_ERROR;
	}
	return 0;
pipe_failed:
	fprintf(stderr, "gilscope: cannot create a pipe: %s\n", strerror(errno));
	return GS_EXIT_ERROR;
}

/* --- messages ------------------------------------------------------------ */

/* The next message: 0 and an object in *msg (the caller releases it);
 * GS_EEXITED when the harness ended without one; GS_ECORRUPT for a line
 * that is not a JSON object; GS_EGENERIC when we were interrupted. */
static int next_msg(struct session *ss, json_t **msg)
{
	for (;;) {
		char *nl = memchr(ss->buf, '\n', ss->blen);
		struct pollfd pfd;
		ssize_t n;
		int r;

		if (nl) {
			size_t len = (size_t)(nl - ss->buf);

			*msg = jmsg_parse(ss->buf, len);
			memmove(ss->buf, nl + 1, ss->blen - len - 1);
			ss->blen -= len + 1;
			return *msg ? 0 : GS_CORRUPT("a line from the harness that is no JSON object");
		}
		if (ss->blen == sizeof(ss->buf))
			return GS_CORRUPT("ss->blen == sizeof(ss->buf)");
		if (ss->eof)
			return GS_EEXITED;
		if (loop_stop_requested())
			return GS_EGENERIC;
		pfd.fd = ss->ev;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, 250);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return GS_EIO;
		}
		if (!r) {
			/* The harness may have died while the process pool's
			 * workers still hold the pipe open: no EOF then. */
			if (ss->reaped)
				ss->eof = 1;
			else if (launch_poll(ss->child, &ss->status))
				ss->reaped = 1;
			continue;
		}
		n = read(ss->ev, ss->buf + ss->blen, sizeof(ss->buf) - ss->blen);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return GS_EIO;
		}
		if (!n)
			ss->eof = 1;
		ss->blen += (size_t)n;
	}
}

/* One line, whatever the harness sent: control characters become '?'. */
static void print_line(const char *prefix, const char *s)
{
	fputs(prefix, stderr);
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, stderr);
	fputc('\n', stderr);
}

static int harness_ended(struct session *ss)
{
	if (!ss->reaped) {
		ss->status = launch_wait(ss->child);
		ss->reaped = 1;
	}
	if (loop_stop_requested() || ss->status == EXIT_INTERRUPTED) {
		fprintf(stderr, "gilscope: interrupted\n");
		return EXIT_INTERRUPTED;
	}
	fprintf(stderr, "gilscope: %s stopped (exit status %d) before the speedup run was over; "
		"what it printed is above (the harness needs Python 3.6 or later)\n",
		ss->o->python, ss->status);
	return GS_EXIT_ERROR;
}

/* Read the next message and check that it is `phase`; an "error" message
 * is printed as the one line it is. Returns 0 or an exit status. */
static int expect(struct session *ss, const char *phase, json_t **msg)
{
	const char *p;
	int ret = next_msg(ss, msg);

	if (ret == GS_EGENERIC && loop_stop_requested()) {
		fprintf(stderr, "gilscope: interrupted\n");
		return EXIT_INTERRUPTED;
	}
	if (ret == GS_EEXITED)
		return harness_ended(ss);
	if (ret) {
		fprintf(stderr, "gilscope: the speedup harness sent a message gilscope cannot "
			"read (%s)\n", gs_strerror(ret));
		return GS_EXIT_ERROR;
	}
	p = jmsg_str(*msg, "phase");
	if (p && !strcmp(p, "error")) {
		const char *m = jmsg_str(*msg, "message");

		print_line("gilscope: ", m ? m : "the speedup harness failed");
		json_decref(*msg);
		*msg = NULL;
		return GS_EXIT_ERROR;
	}
	if (!p || strcmp(p, phase)) {
		fprintf(stderr, "gilscope: the speedup harness said \"%.40s\" where \"%s\" was "
			"due\n", p ? p : "?", phase);
		json_decref(*msg);
		*msg = NULL;
		return GS_EXIT_ERROR;
	}
	return 0;
}

static int send_go(struct session *ss)
{
	static const char go[] = "go\n";
	ssize_t w;

	do {
		w = write(ss->ctl, go, sizeof(go) - 1);
	} while (w < 0 && errno == EINTR);
	return w == (ssize_t)(sizeof(go) - 1) ? 0 : GS_EIO;
}

/* A positive count from a message, at most max; 0 when absent or bad. */
static long msg_count(const json_t *msg, const char *key, long max)
{
	double d;

	if (!jmsg_num(msg, key, &d) || !(d >= 1 && d <= (double)max) || d != (double)(long)d)
		return 0;
	return (long)d;
}

static int msg_seconds(const json_t *msg, double *out)
{
	double d;

	if (!jmsg_num(msg, "seconds", &d) || !(d >= 0 && d < 1e9))
		return GS_CORRUPT("a message whose seconds are missing or out of range");
	*out = d;
	return 0;
}

/* cpu_wait_s over n threads' time, as a share; -1 when absent. */
static double msg_cpu_wait(const json_t *msg, int n, double seconds)
{
	double d;

	if (!jmsg_num(msg, "cpu_wait_s", &d) || !(d >= 0) || seconds <= 0 || n <= 0)
		return -1;
	d /= n * seconds;
	return d > 1 ? 1 : d;
}

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* --- sampling the threaded window ---------------------------------------- */

struct window {
	struct agg *agg;
	const struct session *ss;
};

static int on_window_sample(void *ctx, const struct sample *smp)
{
	struct window *w = ctx;
	struct pollfd pfd = { w->ss->ev, POLLIN, 0 };
	int ret = agg_add_sample(w->agg, smp);

	if (ret)
		return ret;
	/* anything from the harness (the end of the phase, an error, EOF)
	 * closes the window */
	if (poll(&pfd, 1, 0) > 0)
		return WINDOW_END;
	return 0;
}

/* The window is over: its figures, and what its samples say. */
static void fold_window(struct session *ss, struct agg *agg, const struct loop_stats *st,
			const json_t *tids, struct speedup_point *p)
{
	int32_t ids[SPEEDUP_MAX_TIDS];
	size_t i, n = 0;

	agg->requested = st->requested;
	agg->taken = st->taken;
	agg->missed = st->missed;
	agg->errors = st->errors;
	agg->worst_lag_ns = st->worst_lag_ns;
	agg_finish(agg);
	for (i = 0; json_is_array(tids) && i < json_array_size(tids) && n < SPEEDUP_MAX_TIDS; i++) {
		const json_t *t = json_array_get(tids, i);
		double d = json_is_number(t) ? json_number_value(t) : 0;

		if (d >= 1 && d <= 0x3fffffff)
			ids[n++] = (int32_t)d;
	}
	speedup_fold(agg, ids, n, ss->pid, p);
}

static void set_times(const struct speedup_report *rep, struct speedup_point *p, double seconds)
{
	p->seconds = seconds;
	p->speedup = seconds > 0 ? rep->baseline_s * p->n / seconds : 0;
	p->efficiency = p->n ? p->speedup / p->n : 0;
}

/* One thread count: the "start" message is in hand. */
static int threaded_phase(struct session *ss, int n, const json_t *start)
{
	struct speedup_point *p = &ss->rep->threads[ss->rep->nthreads];
	struct agg agg;
	struct agg_options ao;
	struct loop_opts lo;
	struct loop_stats st;
	struct window w;
	json_t *end = NULL;
	double seconds;
	int ret, windowed = 0;

	memset(p, 0, sizeof(*p));
	memset(&st, 0, sizeof(st));
	p->n = n;
	p->cpu_wait = -1;
	note(ss, "%d thread%s...", n, n == 1 ? "" : "s");
	if (ss->attached) {
		memset(&ao, 0, sizeof(ao));
		ao.mode = AGG_MODE_WALL;
		ao.rate_hz = ss->o->rate_hz;
		if (agg_init(&agg, &ao)) {
			fprintf(stderr, "gilscope: out of memory\n");
			return GS_EXIT_ERROR;
		}
		agg.free_threaded = ss->s.model.free_threaded;
		windowed = 1;
	}
	if (send_go(ss)) {
		ret = 0;	/* the harness is gone: expect() says how */
		goto read_end;
	}
	if (windowed) {
		memset(&lo, 0, sizeof(lo));
		lo.rate_hz = ss->o->rate_hz;
		lo.child = ss->child;
		w.agg = &agg;
		w.ss = ss;
		ret = loop_run(&ss->s, &lo, on_window_sample, &w, &st);
		if (st.child_reaped) {	/* the loop collected the harness */
			ss->reaped = 1;
			ss->status = st.child_status;
		}
		if (ret < 0) {
			fprintf(stderr, "gilscope: sampling the harness failed: %s\n", gs_strerror(ret));
			agg_release(&agg);
			return GS_EXIT_ERROR;
		}
	}
read_end:
	ret = expect(ss, "threads", &end);
	if (ret)
		goto out;
	if (msg_count(end, "n", INT_MAX) != n || jmsg_true(end, "start") ||
	    msg_seconds(end, &seconds)) {
		json_decref(end);
		fprintf(stderr, "gilscope: the speedup harness ended the %d-thread run with a "
			"message gilscope cannot read\n", n);
		ret = GS_EXIT_ERROR;
		goto out;
	}
	p->cpu_wait = msg_cpu_wait(end, n, seconds);
	json_decref(end);
	set_times(ss->rep, p, seconds);
	if (windowed)
		fold_window(ss, &agg, &st, json_object_get(start, "tids"), p);
	ss->rep->nthreads++;
	note(ss, "%d thread%s: %.3f s, %.2fx", n, n == 1 ? "" : "s", seconds, p->speedup);
	/* the harness waits for this before the next phase */
	send_go(ss);
out:
	if (windowed)
		agg_release(&agg);
	return ret;
}

/* --- the session ------------------------------------------------------------- */

static void python_facts(struct speedup_report *rep, const json_t *ready)
{
	const json_t *py = json_object_get(ready, "python");

	copy_str(rep->version, sizeof(rep->version), jmsg_str(py, "version"));
	copy_str(rep->implementation, sizeof(rep->implementation),
		 jmsg_str(py, "implementation"));
	copy_str(rep->executable, sizeof(rep->executable), jmsg_str(py, "executable"));
	rep->free_threaded = jmsg_true(py, "free_threaded");
	rep->gil_enabled = jmsg_true(py, "gil_enabled");
}

static void attach(struct session *ss)
{
	int ret;

	if (ss->pid <= 0) {
		fprintf(stderr, "gilscope: the speedup harness did not say its pid\n");
		goto timing_only;
	}
	ret = cmd_attach(ss->pid, &ss->proc, &ss->s);
	if (!ret) {
		ss->attached = 1;
		ss->rep->sampled = 1;
		return;
	}
timing_only:
	fprintf(stderr, "gilscope: measuring the speedup without sampling: no states or "
		"verdicts\n");
}

static int session_run(struct session *ss)
{
	struct speedup_report *rep = ss->rep;
	struct sigaction sa;
	json_t *msg = NULL;
	size_t i;
	long pid;
	int ret;

	ret = write_harness(ss);
	if (ret)
		return ret;
	ret = start_harness(ss);
	if (ret)
		return ret;
	/* a harness that dies must not kill us when we answer it */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	ret = expect(ss, "ready", &msg);
	if (ret)
		return ret;
	python_facts(rep, msg);
	rep->calls = msg_count(msg, "calls", 1000000000L);
	if (!jmsg_num(msg, "call_s", &rep->call_s))
		rep->call_s = 0;
	pid = msg_count(msg, "pid", INT_MAX);
	ss->pid = (pid_t)pid;
	json_decref(msg);
	if (!rep->calls) {
		fprintf(stderr, "gilscope: the speedup harness did not say how many calls it makes\n");
		return GS_EXIT_ERROR;
	}
	note(ss, "%s on Python %s: %ld call%s per thread", ss->o->target, rep->version,
	     rep->calls, rep->calls == 1 ? "" : "s");
	attach(ss);
	send_go(ss);

	ret = expect(ss, "baseline", &msg);
	if (ret)
		return ret;
	ret = msg_seconds(msg, &rep->baseline_s);
	if (!ret)
		rep->baseline_cpu_wait = msg_cpu_wait(msg, 1, rep->baseline_s);
	json_decref(msg);
	if (ret) {
		fprintf(stderr, "gilscope: the speedup harness sent a baseline without a time\n");
		return GS_EXIT_ERROR;
	}
	note(ss, "baseline: %.3f s", rep->baseline_s);

	for (i = 0; i < ss->o->ncounts; i++) {
		int n = ss->o->counts[i];

		ret = expect(ss, "threads", &msg);
		if (ret)
			return ret;
		if (msg_count(msg, "n", INT_MAX) != n || !jmsg_true(msg, "start")) {
			json_decref(msg);
			fprintf(stderr, "gilscope: the speedup harness did not start the %d-thread "
				"run as expected\n", n);
			return GS_EXIT_ERROR;
		}
		ret = threaded_phase(ss, n, msg);
		json_decref(msg);
		if (ret)
			return ret;
	}
	for (i = 0; ss->o->processes && i < ss->o->ncounts; i++) {
		struct speedup_point *p = &rep->procs[rep->nprocs];
		double seconds;

		note(ss, "process pool of %d...", ss->o->counts[i]);
		ret = expect(ss, "processes", &msg);
		if (ret)
			return ret;
		if (msg_count(msg, "n", INT_MAX) != ss->o->counts[i] ||
		    msg_seconds(msg, &seconds)) {
			json_decref(msg);
			fprintf(stderr, "gilscope: the speedup harness sent a process pool time "
				"gilscope cannot read\n");
			return GS_EXIT_ERROR;
		}
		json_decref(msg);
		memset(p, 0, sizeof(*p));
		p->n = ss->o->counts[i];
		p->cpu_wait = -1;	/* not measured in the pool's workers */
		set_times(rep, p, seconds);
		rep->nprocs++;
	}
	ret = expect(ss, "done", &msg);
	if (ret)
		return ret;
	json_decref(msg);
	if (!ss->reaped) {
		ss->status = launch_wait(ss->child);
		ss->reaped = 1;
	}
	return 0;
}

int speedup_run(const struct speedup_opts *o, struct speedup_report *rep)
{
	struct session *ss = calloc(1, sizeof(*ss));
	int ret;

	if (!ss) {
		fprintf(stderr, "gilscope: out of memory\n");
		return GS_EXIT_ERROR;
	}
	ss->o = o;
	ss->rep = rep;
	ss->ev = ss->ctl = -1;
	rep->target = o->target;
	rep->rate_hz = o->rate_hz;
	rep->processes = o->processes;
	rep->cpus = cpu_count();
	rep->baseline_cpu_wait = -1;
	loop_install_signals();

	ret = session_run(ss);

	if (ss->ctl >= 0)
		close(ss->ctl);	/* a harness waiting for go now sees EOF and leaves */
	if (ss->ev >= 0)
		close(ss->ev);
	if (ss->child > 0 && !ss->reaped) {
		/* our own helper, stopped early: do not wait for its work */
		if (ret)
			kill(ss->child, SIGTERM);
		launch_wait(ss->child);
	}
	if (ss->attached) {
		sampler_release(&ss->s);
		process_release(&ss->proc);
	}
	if (ss->path[0])
		unlink(ss->path);
	if (ss->dir[0])
		rmdir(ss->dir);
	free(ss);
	return ret;
}
