/*
 * loop.c - the sampling loop.
 *
 * Time is cut into cells of one period, the first starting when the first
 * sample ended (it reads every thread whole: attaching, not sampling late).
 * Each cell's sample is due at a random moment within it (stratified
 * sampling): samples exactly one period apart can stay in one phase of a
 * program's own cycle for seconds (threads handing the GIL on every 5 ms,
 * sampled every 10 ms, find the same holder again and again), while a
 * moment drawn uniformly within each cell makes every sample an unbiased
 * look at its cell whatever the program's rhythm, at the same mean rate.
 * We sleep until that moment with clock_nanosleep(TIMER_ABSTIME), so time
 * spent sampling does not drift the rate. A cell whose whole period passed
 * while we were busy is skipped (counted as missed) rather than made up
 * by a burst, which would bias the samples towards the moment after a
 * stall.
 */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "group.h"
#include "../target/swtrack.h"
#include "../target/launch.h"
#include "../util/clock.h"
#include "../util/error.h"

/* how many SIGINT/SIGTERM came (saturating), and what the first was */
static volatile sig_atomic_t stop_flag, first_sig, first_from_tty;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!stop_flag) {
		first_sig = sig;
		/* the terminal's Ctrl-C comes from the kernel, to the whole
		 * foreground process group; kill(2) says SI_USER */
		first_from_tty = si && si->si_code == SI_KERNEL;
	}
	if (stop_flag < 1000)
		stop_flag++;
}

void loop_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int loop_stop_requested(void)
{
	return stop_flag;
}

int loop_stop_signal(int *from_terminal)
{
	if (from_terminal)
		*from_terminal = stop_flag && first_from_tty;
	return stop_flag ? first_sig : 0;
}


/* Below this, waiting is cheaper on the CPU than a sleep and the wake-up
 * that ends it (tens of microseconds on a busy machine, often more). */
#define SPIN_NS 20000ull

static void sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000ull), (long)(t % 1000000000ull) };
	uint64_t now = gs_now_ns();

	if (now >= t)
		return;
	if (t - now < SPIN_NS) {
		while (gs_now_ns() < t && !stop_flag)
			;
		return;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		if (stop_flag)
			return;
}

/* struct sched_attr of sched_setattr(2), which glibc does not declare */
struct gs_sched_attr {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
};

#define SLICE_NS 100000ull	/* asked for; the kernel clamps it to its range */

/* Ask for short time slices (Linux 6.12+; ignored before): a sampler
 * that wakes up then runs at once, instead of after the rest of another
 * task's slice. It changes when we run, not how much. */
static void short_slices(void)
{
#ifdef SYS_sched_setattr
	struct gs_sched_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.sched_policy = 0;	/* SCHED_OTHER, as we are */
	a.sched_nice = getpriority(PRIO_PROCESS, 0);
	a.sched_runtime = SLICE_NS;
	(void)syscall(SYS_sched_setattr, 0, &a, 0);
#endif
}

static void progress(const struct loop_stats *st, double elapsed, int final)
{
	if (st->missed)
		/* behind: say by how much, as the final report will */
		fprintf(stderr, "\rgilscope: %.1f s, %llu of %llu samples (%.0f/s), behind: "
			"%.0f%% missed, worst lag %.1f ms%s", elapsed,
			(unsigned long long)st->taken, (unsigned long long)st->requested,
			elapsed > 0 ? (double)st->taken / elapsed : 0.0,
			st->requested ? 100.0 * (double)st->missed / (double)st->requested : 0.0,
			(double)st->worst_lag_ns / 1e6, final ? "\n" : "   ");
	else
		fprintf(stderr, "\rgilscope: %.1f s, %llu samples (%.0f/s)%s", elapsed,
			(unsigned long long)st->taken,
			elapsed > 0 ? (double)st->taken / elapsed : 0.0, final ? "\n" : "   ");
}

/* from a tick: the target is gone (st->target_* say how) */
#define TICK_GONE 0x40000000

/* xorshift64*: the moment of each cell's sample; nothing to do with
 * security, only with not being in step with the target. */
static uint64_t dither_next(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545F4914F6CDD1Dull;
}

/* A moment in [0, period): where in its cell a sample is due. */
static uint64_t dither(uint64_t *x, uint64_t period)
{
	return period > 1 ? (dither_next(x) >> 11) % period : 0;
}

/*
 * The deadlines, for one process or a tree of them: `tick` takes one
 * sample (of everything sampled) and returns 0 to go on, TICK_GONE when
 * the target is gone, or anything else from the caller's callback, which
 * ends the loop and is returned.
 */
static int run_deadlines(const struct loop_opts *o, int (*tick)(void *tctx, struct loop_stats *st),
			 void *tctx, struct loop_stats *st, int *reaped)
{
	uint64_t period = (uint64_t)(1e9 / (o->rate_hz > 0 ? o->rate_hz : 100));
	uint64_t start = gs_now_ns(), cell = start, due = start, end = 0, last_progress = start;
	uint64_t rng = (start ^ ((uint64_t)getpid() << 32)) | 1;
	int ret = 0;

	memset(st, 0, sizeof(*st));
	/* When the target keeps every core busy, a sampler at normal priority
	 * only gets to run when some target thread blocks, and its samples
	 * then lean towards those moments. Running a little ahead of the
	 * target (where we may: root or CAP_SYS_NICE) keeps the deadlines
	 * honest. It changes only our own priority, never the target's. */
	if (getpriority(PRIO_PROCESS, 0) > -5)
		(void)setpriority(PRIO_PROCESS, 0, -5);
	/* Wake up on time: the default 50 us timer slack is half a period
	 * at 10 kHz. */
	(void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	short_slices();
	if (o->duration_s > 0)
		end = start + (uint64_t)(o->duration_s * 1e9);
	for (;;) {
		uint64_t t;
		int r;

		if (stop_flag) {
			st->interrupted = 1;
			break;
		}
		if (o->child && launch_poll_all(o->child, &st->child_wstatus)) {
			st->child_status = launch_exit_status(st->child_wstatus);
			st->target_exited = 1;
			*reaped = 1;
			break;
		}
		t = gs_now_ns();
		if (end && t >= end)
			break;
		st->requested++;
		if (t > due && t - due > st->worst_lag_ns)
			st->worst_lag_ns = t - due;
		r = tick(tctx, st);
		if (r) {
			ret = r == TICK_GONE ? 0 : r;
			break;
		}
		t = gs_now_ns();
		if (o->progress && t - last_progress > 250000000ull) {
			progress(st, (double)(t - start) / 1e9, 0);
			last_progress = t;
		}
		if (st->requested == 1)
			/* The first sample reads every thread whole, names and
			 * all: that is attaching (tens of milliseconds with
			 * thousands of threads), not falling behind. The
			 * cells start when it ends. */
			cell = t;
		else
			cell += period;
		if (t > cell && t - cell >= period) {
			/* This whole cell passed while we sampled: skip (and
			 * count) the cells we cannot make, and sample in the
			 * one we are in. Sleeping until a later one would cost
			 * a wake-up on a busy machine, often far longer than
			 * the period. */
			uint64_t behind = (t - cell) / period;

			st->missed += behind;
			st->requested += behind;
			cell += behind * period;
		}
		due = cell + dither(&rng, period);
		if (end && due > end)
			due = end;
		if (o->wait) {
			if (o->wait(o->wait_ctx, due > t ? due : t))
				break;
		} else if (due > t) {
			sleep_until(due);
		}
	}
	st->elapsed_s = (double)(gs_now_ns() - start) / 1e9;
	return ret;
}

/* After the loop: a child seen gone by the sampler is reaped here, so that
 * its exit status is known: at once if it is a zombie, else after it has
 * had a moment to finish exiting; never blocking, since a child that
 * lives on is the caller's to deal with. */
static void reap_child(const struct loop_opts *o, struct loop_stats *st, int reaped)
{
	if (o->progress)
		progress(st, st->elapsed_s, 1);
	if (o->child && !reaped && (st->target_exited || !process_alive(o->child))) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		int i;

		for (i = 0; i < 200 && !reaped && !stop_flag; i++) {
			reaped = launch_poll_all(o->child, &st->child_wstatus);
			if (!reaped)
				nanosleep(&ts, NULL);
		}
		if (reaped) {
			st->child_status = launch_exit_status(st->child_wstatus);
			st->target_exited = 1;
		}
	}
	st->child_reaped = reaped;
}

/*
 * Context-switch records (target/swtrack.h), read once per deadline for
 * every sampler: with many threads, they spare each sample one schedstat
 * read per thread that did not run. Opened once the samples hold
 * LOOP_SW_THREADS threads or more (below, the reads are cheap and the
 * records, which are the whole machine's, not worth their cost), or at
 * once, or never, as the caller says; if they cannot be opened (no permission, no perf
 * events) or stop being whole (a CPU came online), the samplers ask
 * schedstat as before.
 */
#define LOOP_SW_THREADS 256
#define LOOP_SW_EVENTS 65536

struct sw_feed {
	int state;		/* 0: not tried, 1: on, -1: off */
	struct swtrack t;
	struct sw_event *ev;
	size_t nev;		/* this deadline's */
	int lost;
	uint64_t now;		/* when they were read */
};

static void sw_start(struct sw_feed *f, const struct loop_opts *o, size_t nthreads,
		     struct loop_stats *st)
{
	int ret;

	if (f->state || o->switch_records == LOOP_SW_NEVER ||
	    (o->switch_records == LOOP_SW_AUTO && nthreads < LOOP_SW_THREADS))
		return;
	f->state = -1;
	f->ev = malloc(LOOP_SW_EVENTS * sizeof(*f->ev));
	ret = f->ev ? swtrack_open(&f->t) : GS_ENOMEM;
	if (ret) {
		free(f->ev);
		f->ev = NULL;
		st->switch_records_err = ret;
		return;
	}
	f->state = 1;
	st->switch_records = 1;
}

static void sw_stop(struct sw_feed *f)
{
	if (f->state == 1)
		swtrack_close(&f->t);
	free(f->ev);
	f->ev = NULL;
}

/* Before a deadline's samples: the switches since the last. */
static void sw_read(struct sw_feed *f, struct loop_stats *st)
{
	int ret;

	if (f->state != 1)
		return;
	f->nev = 0;
	f->now = gs_now_ns();
	ret = swtrack_drain(&f->t, f->ev, LOOP_SW_EVENTS, &f->nev, &f->lost);
	if (ret) {
		swtrack_close(&f->t);
		f->state = -1;
		st->switch_records_err = ret;
		return;
	}
	if (f->lost)
		st->switch_records_lost++;
}

/* How long a sample may spend reading threading names (sampler.h,
 * names_slice_ns): a quarter of the period, so that thousands of them are
 * read over many samples, none of which misses its deadline for it. */
static uint64_t names_slice(const struct loop_opts *o)
{
	uint64_t period = (uint64_t)(1e9 / (o->rate_hz > 0 ? o->rate_hz : 100));

	return period / 4 > 100000 ? period / 4 : 100000;
}

/* ... and to each sampler, before its sample */
static void sw_give(const struct sw_feed *f, struct sampler *s)
{
	if (f->state == 1)
		sampler_switches(s, f->ev, f->nev, f->lost, f->now);
	else
		sampler_switches_off(s);
}

struct one {
	struct sampler *s;
	loop_fn fn;
	void *ctx;
	const struct loop_opts *o;
	struct sw_feed sw;
};

static int tick_one(void *tctx, struct loop_stats *st)
{
	struct one *one = tctx;
	const struct sample *smp = NULL;
	int r;

	sw_read(&one->sw, st);
	sw_give(&one->sw, one->s);
	one->s->names_slice_ns = names_slice(one->o);
	r = sampler_take(one->s, &smp);

	if (r == GS_EEXITED) {
		if (one->s->execd)
			st->target_execd = 1;	/* alive, another program */
		else
			st->target_exited = 1;
		return TICK_GONE;
	}
	if (r && !smp) {
		st->errors++;
		return 0;
	}
	st->taken++;
	sw_start(&one->sw, one->o, smp->nthreads, st);
	return one->fn(one->ctx, smp);
}

int loop_run(struct sampler *s, const struct loop_opts *o, loop_fn fn, void *ctx,
	     struct loop_stats *st)
{
	struct one one = { s, fn, ctx, o, { 0 } };
	int reaped = 0, ret;

	ret = run_deadlines(o, tick_one, &one, st, &reaped);
	sw_stop(&one.sw);
	reap_child(o, st, reaped);
	return ret;
}

struct tree {
	struct group *g;
	loop_group_fn fn;
	void *ctx;
	uint64_t last_scan;
	const struct loop_opts *o;
	struct sw_feed sw;
};

static int tick_tree(void *tctx, struct loop_stats *st)
{
	struct tree *tr = tctx;
	struct group *g = tr->g;
	uint64_t now = gs_now_ns();
	size_t i, nthreads = 0;
	int any = 0, ret;

	if (!tr->last_scan || now - tr->last_scan >= (g->rescan_ns ? g->rescan_ns : LOOP_RESCAN_NS)) {
		(void)group_scan(g);	/* a failed scan keeps what is known */
		tr->last_scan = now;
	}
	sw_read(&tr->sw, st);
	for (i = 0; i < g->n; i++) {
		struct group_member *m = g->m[i];
		const struct sample *smp = NULL;
		int r;

		if (!m->sampled || m->gone)
			continue;
		if (!m->seen) {
			m->seen = 1;
			m->first_requested = st->requested - 1;
		}
		sw_give(&tr->sw, &m->s);
		m->s.names_slice_ns = names_slice(tr->o);
		r = sampler_take(&m->s, &smp);
		if (r == GS_EEXITED) {
			m->gone = 1;	/* exited, or exec'd another program */
			continue;
		}
		if (r && !smp) {
			m->errors++;
			continue;
		}
		m->taken++;
		any = 1;
		nthreads += smp->nthreads;
		ret = tr->fn(tr->ctx, i, smp);
		if (ret)
			return ret;
	}
	if (any)
		st->taken++;
	sw_start(&tr->sw, tr->o, nthreads, st);
	if (!any && group_live(g))
		st->errors++;
	if (g->root > 0 && !group_live(g) && !process_alive(g->root)) {
		st->target_exited = 1;
		return TICK_GONE;
	}
	return 0;
}

int loop_run_group(struct group *g, const struct loop_opts *o, loop_group_fn fn, void *ctx,
		   struct loop_stats *st)
{
	struct tree tr = { g, fn, ctx, 0, o, { 0 } };
	int reaped = 0, ret;

	/* the first scan attaches to every process of the tree, which takes
	 * a while (each one's runtime is located in its ELF files): before
	 * the clock of the duration starts, not in its first deadline */
	(void)group_scan(g);
	tr.last_scan = gs_now_ns();
	ret = run_deadlines(o, tick_tree, &tr, st, &reaped);
	sw_stop(&tr.sw);
	reap_child(o, st, reaped);
	return ret;
}
