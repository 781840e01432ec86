/*
 * clock.h - the one clock gilscope measures intervals with:
 * CLOCK_MONOTONIC (never steps; the tests' time.monotonic / perf_counter).
 */
#ifndef GS_CLOCK_H
#define GS_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t gs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t gs_now_ms(void)
{
	return gs_now_ns() / 1000000ull;
}

#endif
