/*
 * test_swtrack.c - the context-switch records (src/target/swtrack.c), live:
 * a thread of this test blocked in read(2) on a pipe is in no record while
 * it stays blocked, and is in one (switched in, then out) once a byte wakes
 * it; the records' times are CLOCK_MONOTONIC, as the sampler compares them.
 * Where perf events are not allowed to this process the rings cannot open:
 * that must be GS_EPERM, and the test is skipped, except for root, which
 * must be able to open them.
 */
#include "unit.h"
#include "../../src/target/swtrack.h"
#include "../../src/util/clock.h"
#include "../../src/util/error.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct sleeper {
	int pipe[2];
	int ready[2];
	volatile pid_t tid;
};

static void *sleeper_main(void *arg)
{
	struct sleeper *s = arg;
	char c;

	s->tid = (pid_t)syscall(SYS_gettid);
	if (write(s->ready[1], "r", 1) != 1)
		return NULL;
	/* blocked until the test writes, then once more until it closes */
	while (read(s->pipe[0], &c, 1) == 1)
		;
	return NULL;
}

/* Drain everything, count the records of tid at or after t0. */
static size_t records_of(struct swtrack *t, struct sw_event *ev, size_t cap, pid_t tid,
			 uint64_t t0, int *lost, size_t *all)
{
	size_t n = 0, i, k = 0;

	(void)swtrack_drain(t, ev, cap, &n, lost);
	*all = n;
	for (i = 0; i < n; i++)
		if (ev[i].tid == tid && ev[i].pid == (int32_t)getpid() && ev[i].t_ns >= t0)
			k++;
	return k;
}

static void t_swtrack_live(struct unit *u)
{
	static struct sw_event ev[1 << 16];
	struct swtrack t;
	struct sleeper s;
	pthread_t th;
	size_t all;
	uint64_t t0, t1;
	int ret, lost;
	char c;

	ret = swtrack_open(&t);
	if (ret) {
		CHECK(u, ret == GS_EPERM || ret == GS_EUNSUPPORTED);
		CHECK(u, swtrack_strerror(ret)[0] != '\0');
		if (geteuid() == 0 && ret == GS_EPERM && getenv("GILSCOPE_UNIT_NO_PERF") == NULL)
			CHECK(u, !"root could not open the rings");
		unit_skip(u, "perf events are not allowed here");
		return;
	}
	if (!CHECK(u, pipe(s.pipe) == 0 && pipe(s.ready) == 0))
		return;
	s.tid = 0;
	if (!CHECK(u, pthread_create(&th, NULL, sleeper_main, &s) == 0))
		return;
	CHECK(u, read(s.ready[0], &c, 1) == 1);
	/* until it is in its read: its state in /proc says S */
	for (;;) {
		char path[96], buf[512];
		FILE *f;
		int sleeping = 0;

		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)s.tid);
		f = fopen(path, "r");
		if (f) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			char *p;

			buf[n] = '\0';
			p = strrchr(buf, ')');
			sleeping = p && p[1] == ' ' && p[2] == 'S';
			fclose(f);
		}
		if (sleeping)
			break;
		usleep(1000);
	}
	(void)records_of(&t, ev, sizeof(ev) / sizeof(ev[0]), s.tid, 0, &lost, &all);

	/* blocked: no record of it, however many others there are */
	t0 = gs_now_ns();
	usleep(50000);
	CHECK_EQ(u, records_of(&t, ev, sizeof(ev) / sizeof(ev[0]), s.tid, t0, &lost, &all), 0);
	CHECK(u, !lost);

	/* woken: switched in, and out again when it blocks once more */
	t0 = gs_now_ns();
	CHECK(u, write(s.pipe[1], "x", 1) == 1);
	usleep(50000);
	t1 = gs_now_ns();
	{
		size_t n = 0, i, k = 0;

		(void)swtrack_drain(&t, ev, sizeof(ev) / sizeof(ev[0]), &n, &lost);
		for (i = 0; i < n; i++) {
			if (ev[i].tid != s.tid)
				continue;
			k++;
			/* on the clock the sampler reads */
			CHECK(u, ev[i].t_ns >= t0 && ev[i].t_ns <= t1);
			CHECK_EQ(u, ev[i].pid, getpid());
		}
		CHECK(u, k >= 2);
		CHECK(u, !lost);
		CHECK(u, t.records > 0);
	}
	close(s.pipe[1]);
	pthread_join(th, NULL);
	close(s.pipe[0]);
	close(s.ready[0]);
	close(s.ready[1]);
	swtrack_close(&t);
	CHECK(u, t.rings == NULL);
}

/* Many switches in a row, drained in rounds: every record read whole,
 * across the rings' ends (or the round says some were lost). */
static void t_swtrack_busy(struct unit *u)
{
	static struct sw_event ev[1 << 16];
	struct swtrack t;
	size_t n, total = 0;
	int lost, round, ret;

	ret = swtrack_open(&t);
	if (ret) {
		unit_skip(u, "perf events are not allowed here");
		return;
	}
	for (round = 0; round < 20; round++) {
		int i;

		for (i = 0; i < 2000; i++)
			sched_yield();
		usleep(1000);
		n = 0;
		(void)swtrack_drain(&t, ev, sizeof(ev) / sizeof(ev[0]), &n, &lost);
		total += n;
		if (!lost) {
			size_t k;

			for (k = 0; k < n; k++)
				/* (-1: a task that was exiting) */
				if (!CHECK(u, ev[k].t_ns > 0 && ev[k].tid >= -1))
					break;
		}
	}
	CHECK(u, total > 0);
	swtrack_close(&t);
}

UNIT_SUITE(swtrack)
{
	UNIT_RUN(u, t_swtrack_live);
	UNIT_RUN(u, t_swtrack_busy);
}
