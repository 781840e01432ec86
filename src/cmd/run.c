/*
 * run.c - the sampling session behind diagnose and record.
 *
 * Launch mode: the program runs until it ends by itself, or until the
 * duration is over or gilscope is interrupted; then gilscope ends it
 * (SIGINT, SIGTERM after the grace period, SIGKILL after another), with
 * what it started, unless --keep-running. README "Launch mode".
 */
#include "run.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "../analyze/feed.h"
#include "../util/clock.h"
#include "../util/error.h"

#define KILL_WAIT_MS 2000	/* SIGKILL takes effect at once, short of D state */

static int on_sample(void *ctx, const struct sample *smp)
{
	return agg_add_sample((struct agg *)ctx, smp);
}


/* Launch mode: the runtime appears once the dynamic loader has mapped
 * libpython; poll for it while the child lives (up to 10 s), or until we
 * are interrupted (GS_EGENERIC then). */
static int attach_launched(struct run *r)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int ret = GS_ENOTPY, i;

	for (i = 0; i < 2000; i++) {
		if (launch_reap(&r->child))
			return GS_EEXITED;
		if (loop_stop_requested())
			return GS_EGENERIC;
		ret = process_attach(r->child.pid, &r->proc);
		if (!ret) {
			ret = sampler_init(&r->s, &r->proc);
			if (!ret) {
				cmd_note_reader(&r->proc);
				return 0;
			}
			process_release(&r->proc);
		}
		if (ret != GS_ENOTPY && ret != GS_EFAULT && ret != GS_ECORRUPT)
			return ret;
		nanosleep(&ts, NULL);
	}
	return ret;
}

/* "python3 app.py": the program and, when it is an interpreter given a
 * script, the script, as a user would name what they launched. */
static void program_name(char *buf, size_t len, char **argv)
{
	const char *a0 = strrchr(argv[0], '/'), *a1;

	a0 = a0 ? a0 + 1 : argv[0];
	if (argv[1] && argv[1][0] != '-') {
		a1 = strrchr(argv[1], '/');
		snprintf(buf, len, "%s %s", a0, a1 ? a1 + 1 : argv[1]);
	} else {
		snprintf(buf, len, "%s", a0);
	}
}

/* Wait for the program to end by itself, until end (0: no limit) or a
 * stop signal. 1 when it ended. */
static int wait_program(struct run *r, uint64_t end)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (;;) {
		if (launch_reap(&r->child))
			return 1;
		if (loop_stop_requested() || (end && gs_now_ms() >= end))
			return 0;
		nanosleep(&ts, NULL);
	}
}

static int hurry(void)
{
	return loop_stop_requested();
}

/* It ended by itself: its status passes through. */
static void program_exited(struct run *r)
{
	struct diag_launch *dl = &r->info.launch;

	dl->end = DIAG_LAUNCH_EXITED;
	dl->exit_status = r->child.status;
	dl->signal = WIFSIGNALED(r->child.wstatus) ? launch_signal_name(WTERMSIG(r->child.wstatus))
						   : NULL;
	r->info.child_status = r->child.status;
	r->exit_status = r->child.status;
}

/* How a waitpid() status reads: "interrupted (SIGINT), exit status 130". */
static void how_ended(char *buf, size_t len, int wstatus)
{
	if (WIFSIGNALED(wstatus)) {
		int sig = WTERMSIG(wstatus);
		const char *what = sig == SIGINT ? "interrupted" : sig == SIGTERM ? "terminated" :
				   sig == SIGKILL ? "killed" : "killed by a signal";

		snprintf(buf, len, "%s (%s), exit status %d", what, launch_signal_name(sig),
			 128 + sig);
	} else {
		snprintf(buf, len, "exited with status %d", launch_exit_status(wstatus));
	}
}

/*
 * The program still runs and sampling is over: end it (or leave it
 * running), say so in one line, and fill r->info.launch. `why` says
 * when: "after the 5 s duration", "on Ctrl-C".
 */
static void end_program(const struct run_opts *o, struct run *r, const char *reason,
			const char *why)
{
	struct diag_launch *dl = &r->info.launch;
	struct launch_end_opts eo;
	struct launch_end res;
	char name[256], how[128], also[128] = "";
	double grace = o->grace_s >= 0 ? o->grace_s : RUN_GRACE_S;
	int i, ret, tty = 0;

	program_name(name, sizeof(name), o->argv);
	dl->reason = reason;
	if (o->keep_running) {
		if (r->child.reaped)
			return;	/* it ended by itself: nothing is left */
		dl->end = DIAG_LAUNCH_LEFT;
		dl->exit_status = -1;
		fprintf(stderr, "gilscope: left %s running (pid %d) %s\n", name,
			(int)r->child.pid, why);
		r->exit_status = 0;
		return;
	}
	memset(&eo, 0, sizeof(eo));
	eo.grace_ms = (int)(grace * 1000 + 0.5);
	eo.kill_wait_ms = KILL_WAIT_MS;
	eo.tty_sigint = loop_stop_signal(&tty) == SIGINT && tty;
	eo.hurry = hurry;
	ret = launch_end(&r->child, &eo, &res);
	for (i = 0; i < res.nsent; i++)
		dl->signals[dl->nsignals++] = launch_signal_name(res.sent[i]);
	dl->others = res.others;
	if (res.others)
		snprintf(also, sizeof(also), "; also ended %d process%s it started%s", res.others,
			 res.others == 1 ? "" : "es",
			 res.others_killed ? " (some with SIGKILL)" : "");
	if (ret || !r->child.reaped) {
		dl->end = DIAG_LAUNCH_NOT_ENDED;
		dl->exit_status = -1;
		fprintf(stderr, "gilscope: could not end %s (pid %d) %s: %d process%s of it still "
			"there %.1f s after SIGKILL (stuck in the kernel?)\n", name,
			(int)r->child.pid, why, res.left ? res.left : 1,
			res.left > 1 ? "es" : "", (double)KILL_WAIT_MS / 1000);
		r->exit_status = GS_EXIT_ERROR;
		return;
	}
	how_ended(how, sizeof(how), r->child.wstatus);
	dl->exit_status = r->child.status;
	dl->signal = WIFSIGNALED(r->child.wstatus) ? launch_signal_name(WTERMSIG(r->child.wstatus))
						   : NULL;
	r->info.child_status = r->child.status;
	r->exit_status = 0;	/* we ended it: its status is not ours to pass on */
	if (res.gone_before) {
		dl->end = DIAG_LAUNCH_EXITED;
		r->exit_status = 0;
		fprintf(stderr, "gilscope: %s (pid %d) had already ended %s: %s%s\n", name,
			(int)r->child.pid, why, how, also);
		return;
	}
	dl->end = DIAG_LAUNCH_ENDED;
	if (res.nsent >= 3)
		fprintf(stderr, "gilscope: ended %s (pid %d) %s: %s, as neither SIGINT nor SIGTERM "
			"ended it within %g s%s\n", name, (int)r->child.pid, why, how, grace, also);
	else if (res.nsent == 2)
		fprintf(stderr, "gilscope: ended %s (pid %d) %s: %s, as SIGINT did not end it "
			"within %g s%s\n", name, (int)r->child.pid, why, how, grace, also);
	else
		fprintf(stderr, "gilscope: ended %s (pid %d) %s: %s%s%s\n", name, (int)r->child.pid,
			why, how, WIFEXITED(r->child.wstatus) ? " after SIGINT" : "", also);
}

/* Why sampling stopped, for end_program: "on Ctrl-C", "on SIGTERM". */
static void stop_reason(char *buf, size_t len)
{
	int tty = 0, sig = loop_stop_signal(&tty);

	if (sig == SIGINT && tty)
		snprintf(buf, len, "on Ctrl-C");
	else
		snprintf(buf, len, "on %s", launch_signal_name(sig));
}

/* Start the program of o->argv; r->info records it. 0, or an exit status
 * (it could not be started: the line was printed). */
static int start_program(const struct run_opts *o, struct run *r)
{
	r->launched_ms = gs_now_ms();
	if (launch_program(o->argv, o->keep_running, &r->child))
		return GS_EXIT_NOPROC;
	r->info.launched = 1;
	r->info.launch.command = o->argv[0];
	r->info.launch.exit_status = -1;
	return 0;
}

/* Launch, and attach once the runtime is there. 0, or an exit status
 * (the program has then been dealt with). */
static int launch_and_attach(const struct run_opts *o, struct run *r)
{
	char name[256], why[64], last[LAUNCH_TAIL_MAX];
	int ret, status;

	status = start_program(o, r);
	if (status)
		return status;
	ret = attach_launched(r);
	if (!ret)
		return 0;
	if (ret == GS_EEXITED) {
		program_exited(r);
		launch_last_words(&r->child, 200, last, sizeof(last));
		fprintf(stderr, "gilscope: %s exited (status %d) before its Python runtime could be "
			"found%s%s\n", o->argv[0], r->child.status, last[0] ? "; it printed: " : "",
			last);
		return r->child.status ? r->child.status : GS_EXIT_EXITED;
	}
	program_name(name, sizeof(name), o->argv);
	if (ret == GS_EGENERIC && loop_stop_requested()) {
		stop_reason(why, sizeof(why));
		fprintf(stderr, "gilscope: interrupted before %s could be sampled: no report\n",
			name);
		end_program(o, r, "interrupted", why);
		return GS_EXIT_ERROR;
	}
	status = cmd_report_error(ret, r->child.pid, r->s.found.version);
	if (o->keep_running) {
		end_program(o, r, NULL, "without sampling it");
		return status;
	}
	if (!o->duration_s) {
		/* no time limit: it runs as it would have without us */
		fprintf(stderr, "gilscope: letting %s run to its end without sampling (Ctrl-C "
			"ends it)\n", name);
		if (wait_program(r, 0)) {
			program_exited(r);
			return status;
		}
		stop_reason(why, sizeof(why));
		end_program(o, r, "interrupted", why);
		return status;
	}
	/* a time limit, and nothing to sample in it: end it now */
	end_program(o, r, "not_sampled", "as it cannot be sampled");
	return status;
}

/* After sampling, in launch mode: the program ended, or is ended, or left. */
static void finish_program(const struct run_opts *o, struct run *r)
{
	char why[64];

	if (r->st.child_reaped) {
		r->child.reaped = 1;
		r->child.wstatus = r->st.child_wstatus;
		r->child.status = r->st.child_status;
		program_exited(r);
		if (!loop_stop_requested())
			return;
		/* a Ctrl-C reached it too: what it started is still ours to
		 * end, and the interrupt, not its status, is what ended the run */
		r->exit_status = 0;
		if (o->keep_running)
			return;
	} else if ((r->st.target_execd || r->st.target_exited) && !loop_stop_requested() &&
		   !o->keep_running) {
		/* sampling stopped early: after an exec, the same process runs
		 * another program, still the one the user launched; or it is on
		 * its way out. It runs to its end, or to the end of the duration */
		uint64_t end = 0;
		char name[256];

		program_name(name, sizeof(name), o->argv);
		if (o->duration_s > 0) {
			double left = o->duration_s - r->st.elapsed_s;

			end = gs_now_ms() + (uint64_t)(left > 0 ? left * 1000 : 0);
		}
		if (r->st.target_execd && end)
			fprintf(stderr, "gilscope: %s (pid %d) exec'd another program: sampling "
				"stopped; it runs until the %g s duration is over\n", name,
				(int)r->child.pid, o->duration_s);
		else if (r->st.target_execd)
			fprintf(stderr, "gilscope: %s (pid %d) exec'd another program: sampling "
				"stopped; waiting for it to exit (Ctrl-C ends it)\n", name,
				(int)r->child.pid);
		if (wait_program(r, end)) {
			program_exited(r);
			return;
		}
	}
	if (loop_stop_requested()) {
		stop_reason(why, sizeof(why));
		end_program(o, r, "interrupted", why);
	} else {
		snprintf(why, sizeof(why), "after the %g s duration", o->duration_s);
		end_program(o, r, "duration", why);
	}
}

/*
 * It ended by itself with an error within its first second (a script that
 * is not there, an import that fails): what was sampled is the interpreter
 * starting up, and a verdict on it would mislead. Say how it ended and
 * what it printed last, and return its status; 0 otherwise.
 */
static int failed_at_once(const struct run_opts *o, struct run *r)
{
	char name[256], how[128], last[LAUNCH_TAIL_MAX];
	double lived = (double)(gs_now_ms() - r->launched_ms) / 1000;

	/* its whole life, not the sampling: a program that exec'd another
	 * one ran on after sampling stopped */
	if (r->info.launch.end != DIAG_LAUNCH_EXITED || !r->child.reaped || !r->child.status ||
	    loop_stop_requested() || r->st.target_execd || lived >= RUN_FAILED_AT_ONCE_S)
		return 0;
	program_name(name, sizeof(name), o->argv);
	how_ended(how, sizeof(how), r->child.wstatus);
	launch_last_words(&r->child, 200, last, sizeof(last));
	fprintf(stderr, "gilscope: %s (pid %d) %s after %.2f s, before there was anything to "
		"diagnose: no report%s%s\n", name, (int)r->child.pid, how, lived,
		last[0] ? "; it printed: " : "", last);
	return r->child.status;
}

int run_session(const struct run_opts *o, struct run *r)
{
	struct loop_opts lo;
	pid_t pid = o->pid;
	int ret;

	memset(r, 0, sizeof(*r));
	loop_install_signals();
	if (o->argv) {
		ret = launch_and_attach(o, r);
		if (ret)
			return ret;
		pid = r->child.pid;
	} else {
		ret = cmd_attach(pid, &r->proc, &r->s);
		if (ret)
			return ret;
	}
	r->have_proc = r->have_sampler = 1;
	ret = agg_init(&r->agg, &o->agg);
	if (ret) {
		fprintf(stderr, "gilscope: out of memory\n");
		if (o->argv)
			end_program(o, r, "error", "after an error");
		return GS_EXIT_ERROR;
	}
	r->have_agg = 1;
	r->agg.free_threaded = r->s.model.free_threaded;

	memset(&lo, 0, sizeof(lo));
	lo.rate_hz = o->rate_hz;
	lo.duration_s = o->duration_s;
	lo.progress = o->progress < 0 ? isatty(2) : o->progress;
	lo.switch_records = o->switch_records;
	lo.child = r->info.launched ? pid : 0;
	ret = loop_run(&r->s, &lo, on_sample, &r->agg, &r->st);
	if (ret) {
		fprintf(stderr, "gilscope: %s\n", gs_strerror(ret));
		if (o->argv && !r->st.child_reaped)
			end_program(o, r, "error", "after an error");
		return GS_EXIT_ERROR;
	}
	r->agg.requested = r->st.requested;
	r->agg.taken = r->st.taken;
	r->agg.missed = r->st.missed;
	r->agg.errors = r->st.errors;
	r->agg.rereads = r->s.n_rereads;
	r->agg.files_short = r->s.files_short;
	r->agg.files_threads = r->s.files_threads;
	r->agg.files_limit = r->s.files_limit;
	r->agg.switch_records = r->st.switch_records;
	r->agg.switch_records_err = r->st.switch_records_err;
	r->agg.switch_records_lost = r->st.switch_records_lost;
	r->agg.quiet_by_records = r->s.n_sw_quiet;
	r->agg.names_sliced = r->s.n_names_sliced;
	r->agg.nwhy = gs_why_counts(r->agg.why, AGG_WHY_MAX);
	r->agg.worst_lag_ns = r->st.worst_lag_ns;
	agg_finish(&r->agg);

	r->info.pid = (int)pid;
	r->info.version = r->s.found.version;
	r->info.free_threaded = r->s.model.free_threaded;
	r->info.gil_enabled = r->agg.samples ? r->agg.gil_enabled : !r->s.model.free_threaded;
	r->info.switch_interval_s = r->s.cur.gil.known ? (double)r->s.cur.gil.interval_us / 1e6 : -1;
	r->info.target_exited = r->st.target_exited;
	r->info.target_execd = r->st.target_execd;
	r->info.interrupted = r->st.interrupted;
	r->info.child_status = r->st.child_status;
	if (r->info.launched) {
		finish_program(o, r);
		return failed_at_once(o, r);
	}
	return 0;
}

void run_release(struct run *r)
{
	launch_release(&r->child);
	if (r->have_agg)
		agg_release(&r->agg);
	if (r->have_sampler)
		sampler_release(&r->s);
	if (r->have_proc)
		process_release(&r->proc);
	memset(r, 0, sizeof(*r));
}

/* --- a process tree (--subprocesses) ----------------------------------------- */

static int on_tree_sample(void *ctx, size_t i, const struct sample *smp)
{
	struct run_tree *rt = ctx;
	struct agg *a = rt->agg[i];

	if (!a) {
		a = calloc(1, sizeof(*a));
		if (!a)
			return GS_ENOMEM;
		if (agg_init(a, &rt->agg_opts)) {
			free(a);
			return GS_ENOMEM;
		}
		a->free_threaded = rt->g.m[i]->s.model.free_threaded;
		rt->agg[i] = a;
		rt->nsampled++;
	}
	if (rt->all) {
		int ret = agg_add_sample_of(rt->all, smp, (int32_t)rt->g.m[i]->pid,
					    rt->g.m[i]->cmdline);

		if (ret)
			return ret;
	}
	return agg_add_sample(a, smp);
}

/* The program's aggregate (run_opts.tree_all) once sampling is over. */
static void finish_all(struct run_tree *rt)
{
	const struct loop_stats *st = &rt->base.st;
	struct agg *a = rt->all;
	size_t i;

	a->requested = st->requested;
	a->taken = st->taken;
	a->missed = st->missed;
	a->worst_lag_ns = st->worst_lag_ns;
	for (i = 0; i < rt->g.n; i++) {
		if (!rt->agg[i])
			continue;
		a->errors += rt->g.m[i]->errors;
		a->rereads += rt->g.m[i]->s.n_rereads;
	}
	a->nwhy = gs_why_counts(a->why, AGG_WHY_MAX);
	agg_finish(a);
	a->samples = st->taken;
}

/* A member's figures once sampling is over. */
static void finish_member(struct run_tree *rt, size_t i)
{
	struct group_member *m = rt->g.m[i];
	struct agg *a = rt->agg[i];
	const struct loop_stats *st = &rt->base.st;
	struct diag_info *d = &rt->info[i];

	a->requested = st->requested - m->first_requested;
	a->taken = m->taken;
	a->errors = m->errors;
	a->missed = st->missed < a->requested ? st->missed : 0;
	a->rereads = m->s.n_rereads;
	a->files_short = m->s.files_short;
	a->files_threads = m->s.files_threads;
	a->files_limit = m->s.files_limit;
	a->switch_records = st->switch_records;
	a->switch_records_err = st->switch_records_err;
	a->switch_records_lost = st->switch_records_lost;
	a->quiet_by_records = m->s.n_sw_quiet;
	a->names_sliced = m->s.n_names_sliced;
	a->worst_lag_ns = st->worst_lag_ns;
	agg_finish(a);
	d->pid = (int)m->pid;
	d->version = m->s.found.version;
	d->free_threaded = m->s.model.free_threaded;
	d->gil_enabled = a->samples ? a->gil_enabled : !m->s.model.free_threaded;
	d->switch_interval_s = m->s.cur.gil.known ? (double)m->s.cur.gil.interval_us / 1e6 : -1;
	d->target_exited = m->gone && !m->s.execd;
	d->target_execd = m->gone && m->s.execd;
	d->interrupted = st->interrupted;
}

int run_tree_session(const struct run_opts *o, struct run_tree *rt)
{
	struct run *r = &rt->base;
	struct loop_opts lo;
	pid_t pid = o->pid;
	size_t i;
	int ret;

	memset(rt, 0, sizeof(*rt));
	loop_install_signals();
	if (o->argv) {
		ret = start_program(o, r);
		if (ret)
			return ret;
		pid = r->child.pid;
	} else if (!process_alive(pid)) {
		return cmd_report_error(GS_ENOPROC, pid, NULL);
	}
	group_init(&rt->g, pid);
	rt->agg_opts = o->agg;
	if (o->tree_all) {
		rt->all = calloc(1, sizeof(*rt->all));
		if (!rt->all || agg_init(rt->all, &o->agg)) {
			free(rt->all);
			rt->all = NULL;
			fprintf(stderr, "gilscope: out of memory\n");
			if (o->argv)
				end_program(o, r, "error", "after an error");
			return GS_EXIT_ERROR;
		}
	}
	memset(&lo, 0, sizeof(lo));
	lo.rate_hz = o->rate_hz;
	lo.duration_s = o->duration_s;
	lo.progress = o->progress < 0 ? isatty(2) : o->progress;
	lo.switch_records = o->switch_records;
	lo.child = r->info.launched ? pid : 0;
	ret = loop_run_group(&rt->g, &lo, on_tree_sample, rt, &r->st);
	if (ret) {
		fprintf(stderr, "gilscope: %s\n", gs_strerror(ret));
		if (o->argv && !r->st.child_reaped)
			end_program(o, r, "error", "after an error");
		return GS_EXIT_ERROR;
	}
	for (i = 0; i < rt->g.n; i++)
		if (rt->agg[i])
			finish_member(rt, i);
	if (rt->all)
		finish_all(rt);
	r->info.pid = (int)pid;
	r->info.target_exited = r->st.target_exited;
	r->info.interrupted = r->st.interrupted;
	if (r->info.launched) {
		finish_program(o, r);
		ret = failed_at_once(o, r);
		if (ret)
			return ret;
	}
	if (!rt->nsampled) {
		fprintf(stderr, "gilscope: no Python process in the tree of process %d was sampled "
			"in %.1f s (%zu process%s seen in it; give the pid of a Python process or of "
			"a parent of one)\n", (int)pid, r->st.elapsed_s, rt->g.n,
			rt->g.n == 1 ? "" : "es");
		return GS_EXIT_NOTPY;
	}
	return 0;
}

int run_tree_alloc(struct run_tree **rt, struct tree_report **tr)
{
	*rt = calloc(1, sizeof(**rt));
	*tr = calloc(1, sizeof(**tr));
	if (*rt && *tr)
		return 0;
	free(*rt);
	free(*tr);
	*rt = NULL;
	*tr = NULL;
	fprintf(stderr, "gilscope: out of memory\n");
	return GS_EXIT_ERROR;
}

void run_tree_free(struct run_tree *rt, struct tree_report *tr)
{
	if (rt)
		run_tree_release(rt);
	free(rt);
	free(tr);
}

void run_tree_release(struct run_tree *rt)
{
	size_t i;

	for (i = 0; i < GROUP_MAX; i++) {
		if (rt->agg[i]) {
			agg_release(rt->agg[i]);
			free(rt->agg[i]);
		}
	}
	if (rt->all) {
		agg_release(rt->all);
		free(rt->all);
	}
	group_release(&rt->g);
	launch_release(&rt->base.child);
}

void run_tree_report(const struct run_opts *o, const struct run_tree *rt,
		     struct tree_report *tr)
{
	struct diag_program *dp = &tr->dp;
	size_t i, n = 0, nothers = 0;

	for (i = 0; i < rt->g.n; i++) {
		const struct group_member *m = rt->g.m[i];

		if (!rt->agg[i]) {
			if (m->sampled)
				continue;	/* Python, but gone before its first sample */
			cmd_tree_other(&tr->others[nothers++], m);
			continue;
		}
		verdict_decide(rt->agg[i], &tr->v[n]);
		tr->procs[n].ppid = m->ppid;
		tr->procs[n].command = m->cmdline;
		tr->procs[n].info = &rt->info[i];
		tr->procs[n].a = rt->agg[i];
		tr->procs[n].v = &tr->v[n];
		tr->pp[n].pid = m->pid;
		tr->pp[n].command = m->cmdline;
		tr->pp[n].a = rt->agg[i];
		tr->pp[n].v = &tr->v[n];
		n++;
	}
	verdict_program(tr->pp, n, &tr->pv);
	memset(dp, 0, sizeof(*dp));
	dp->root = &rt->base.info;
	dp->duration_s = rt->base.st.elapsed_s;
	dp->rate_hz = o->rate_hz;
	dp->requested = rt->base.st.requested;
	dp->taken = rt->base.st.taken;
	dp->missed = rt->base.st.missed;
	dp->worst_lag_ns = rt->base.st.worst_lag_ns;
	dp->procs = tr->procs;
	dp->nprocs = n;
	dp->others = tr->others;
	dp->nothers = nothers;
	dp->pv = &tr->pv;
	dp->dropped = rt->g.dropped;
}
