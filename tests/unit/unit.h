/*
 * unit.h - a very small unit-test harness.
 *
 * A test file defines functions `static void t_something(struct unit *u)` and
 * one suite function registered with UNIT_SUITE(name); the Makefile collects
 * the UNIT_SUITE lines into the runner. Checks never return early on failure:
 * a failed check is counted and reported with file:line, and the test goes on.
 * unit_run() runs one test; unit_skip() marks the current test skipped.
 */
#ifndef GS_UNIT_H
#define GS_UNIT_H

#include <stddef.h>
#include <stdint.h>

struct unit {
	int passed, failed, skipped;
	int cur_failed, cur_skipped;
	const char *cur;
	const char *filter;
};

typedef void (*unit_fn)(struct unit *u);

void unit_run(struct unit *u, const char *name, unit_fn fn);
int unit_check(struct unit *u, int ok, const char *expr, const char *file, int line);
int unit_check_eq_u64(struct unit *u, uint64_t a, uint64_t b, const char *ea,
		      const char *eb, const char *file, int line);
int unit_check_streq(struct unit *u, const char *a, const char *b, const char *ea,
		     const char *eb, const char *file, int line);
void unit_skip(struct unit *u, const char *why);

#define CHECK(u, cond) unit_check((u), !!(cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ(u, a, b) \
	unit_check_eq_u64((u), (uint64_t)(a), (uint64_t)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_STREQ(u, a, b) unit_check_streq((u), (a), (b), #a, #b, __FILE__, __LINE__)
#define UNIT_RUN(u, fn) unit_run((u), #fn, fn)
/* Declares the suite entry point `void suite_<name>(struct unit *u)`. */
#define UNIT_SUITE(name) void suite_##name(struct unit *u)

#endif
