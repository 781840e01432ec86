/*
 * sysload.h - how much CPU *other* processes used during a measurement.
 *
 * A wall-clock timing (gilscope speedup) means little if something else
 * kept the CPUs busy meanwhile. A mark records the machine's busy time
 * (/proc/stat), the target process's CPU time (/proc/PID/stat, all its
 * threads) and our own (getrusage); two marks give the share of the
 * machine that neither the target nor gilscope used.
 */
#ifndef GS_SYSLOAD_H
#define GS_SYSLOAD_H

#include <stdint.h>
#include <sys/types.h>

/* /proc/stat counts in clock ticks (10 ms): shorter windows say nothing */
#define SYSLOAD_MIN_S 0.2

struct sysload_mark {
	int ok;			/* every figure below was read */
	uint64_t t_ns;		/* CLOCK_MONOTONIC */
	uint64_t busy_ticks;	/* all CPUs, clock ticks, not idle or iowait */
	uint64_t target_ticks;	/* the target's utime + stime */
	uint64_t self_ns;	/* our own user + system time */
};

/* Parse the aggregate "cpu" line at the start of /proc/stat: the ticks
 * spent neither idle nor in iowait. Returns 0 or GS_ECORRUPT. */
int sysload_parse_proc_stat(const char *buf, size_t len, uint64_t *busy_ticks);

/* Take a mark (m->ok says whether it worked; never fails otherwise). */
void sysload_mark(pid_t target, struct sysload_mark *m);

/* Share (0..1) of all online CPUs' time between a and b that went to
 * processes other than the target and us; -1 when unknown or when the
 * marks are less than SYSLOAD_MIN_S apart. */
double sysload_others(const struct sysload_mark *a, const struct sysload_mark *b);

#endif
