/*
 * swtrack.h - which threads were switched onto or off a CPU, for all of
 * them at once: the kernel's context-switch records (perf_event_open(2),
 * one ring per CPU, read without a system call).
 *
 * The sampler's question for a thread blocked since its last read is "did
 * it run since?". Asked through each thread's /proc schedstat, that is one
 * read(2) per thread per sample: with thousands of threads, most of a
 * sample's cost. The rings answer it for every thread in one pass over
 * the switches that happened, which on most programs are far fewer than
 * the threads. It needs perf events for every CPU (root, CAP_PERFMON, or
 * kernel.perf_event_paranoid <= 0); without, swtrack_open says so and the
 * caller keeps asking schedstat.
 *
 * The records are the whole machine's (a CPU ring cannot be limited to one
 * process without a cgroup of its own): every context switch on the
 * machine costs the kernel one record (tens of nanoseconds) while the
 * rings are open. The caller opens them only when it has many threads to
 * sample.
 */
#ifndef GS_SWTRACK_H
#define GS_SWTRACK_H

#include <stddef.h>
#include <stdint.h>

/* One task switched onto or off a CPU at t_ns (CLOCK_MONOTONIC). pid and
 * tid as this process's /proc knows them (-1: a task that was exiting). */
struct sw_event {
	int32_t pid, tid;
	uint64_t t_ns;
};

struct sw_ring;

struct swtrack {
	struct sw_ring *rings;	/* one per online CPU */
	size_t nrings;
	size_t ring_bytes;	/* the data part of each (a power of two) */
	int online_fd;		/* /sys/devices/system/cpu/online, or -1 */
	char online[256];	/* its contents when the rings were opened */
	unsigned char *scratch;	/* a record that wraps the ring's end */
	uint64_t records, lost;	/* read so far; lost by the kernel (full ring) */
};

/* Open a ring on every online CPU. 0, or a negative gs_err with nothing
 * left open: GS_EPERM (perf events not allowed here), GS_EUNSUPPORTED
 * (no perf events, or some CPUs offline), GS_ENOMEM. */
int swtrack_open(struct swtrack *t);
void swtrack_close(struct swtrack *t);
/* What an error of swtrack_open or swtrack_drain means here, in a few words. */
const char *swtrack_strerror(int err);

/*
 * Append to ev[*n..cap) the switches recorded since the last call and
 * consume them. Sets *lost when any may be missing: records the kernel
 * dropped (a ring was full), more than `cap`, or a CPU that came online
 * since swtrack_open (its switches are not recorded: the caller should stop
 * trusting the rings). Returns 0, or GS_EUNSUPPORTED when the set of
 * online CPUs changed.
 */
int swtrack_drain(struct swtrack *t, struct sw_event *ev, size_t cap, size_t *n, int *lost);

#endif
