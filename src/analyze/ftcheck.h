/*
 * ftcheck.h - `gilscope ft-check`: what became of each test of a suite run
 * in isolated processes on a free-threaded interpreter, without the GIL
 * (PYTHON_GIL=0) and, as a baseline, with it (PYTHON_GIL=1); the class of
 * each test and the verdict on the whole. Pure: the session (cmd/ft_run.c)
 * fills the counts, this decides; unit-tested in tests/unit/test_ftcheck.c.
 */
#ifndef GS_FTCHECK_H
#define GS_FTCHECK_H

#include <stddef.h>

/* the two ways every test runs */
enum ft_mode { FT_NOGIL = 0, FT_GIL = 1, FT_MODES };

/* what one run of a test did */
enum ft_outcome { FT_RUN_PASS, FT_RUN_FAIL, FT_RUN_CRASH, FT_RUN_HANG };

struct ft_counts {
	int pass, fail, crash, hang;
};

enum ft_class {
	FTC_PASS,		/* passed every run, with and without the GIL */
	FTC_FAILS_EVERYWHERE,	/* failed with the GIL too: not a free-threading problem */
	FTC_FAILS_WITHOUT_GIL,	/* failed every run without the GIL, passed with it */
	FTC_FLAKY_WITHOUT_GIL,	/* passed and failed across runs without the GIL only */
	FTC_CRASH,		/* a run was killed by a signal */
	FTC_HANG,		/* a run outlived the per-test timeout */
	FTC_NOT_RUN,		/* not every run happened (interrupted) */
	FTC_COUNT
};

enum ft_verdict {
	FTV_READY,		/* clean without the GIL, and the GIL stayed off */
	FTV_GIL_REENABLED,	/* clean, but an extension module turned the GIL on */
	FTV_UNSAFE,		/* tests fail, flake, crash or hang without the GIL */
	FTV_FAILING,		/* the suite fails with the GIL too: fix that first */
	FTV_NOT_FREE_THREADED,	/* the interpreter has a GIL it cannot turn off */
	FTV_INCOMPLETE,		/* interrupted before any verdict could be had */
};

void ft_count(struct ft_counts *c, enum ft_outcome o);
int ft_counts_total(const struct ft_counts *c);

/* The class of a test from its runs without and with the GIL, each
 * expected `repeat` times. */
enum ft_class ft_classify(const struct ft_counts *nogil, const struct ft_counts *gil, int repeat);

/* Where a test's trouble is: FT_TROUBLE_NONE (it passed every run),
 * FT_TROUBLE_NOGIL (it failed, crashed or hung only without the GIL: a
 * free-threading problem), FT_TROUBLE_EVERYWHERE (with the GIL too). */
enum ft_trouble { FT_TROUBLE_NONE, FT_TROUBLE_NOGIL, FT_TROUBLE_EVERYWHERE };
enum ft_trouble ft_trouble(const struct ft_counts *nogil, const struct ft_counts *gil);

/* How many tests had trouble where, and how many were not run whole. */
struct ft_tally {
	size_t nogil_only, everywhere, not_run, tests;
};

/* The verdict; gil_reenabled: a run without the GIL had it back on, or
 * loaded extension modules that need it. */
enum ft_verdict ft_decide(int free_threaded, const struct ft_tally *t, int gil_reenabled,
			  int interrupted);

/* The module a test's output says could not be found: the name in its
 * first "No module named 'NAME'" (ModuleNotFoundError), its last dotted
 * part into out (NUL-ended, cut at len - 1). 1 found, 0 not. */
int ft_missing_module(const char *text, char *out, size_t len);

/* "pass", "fails-everywhere", ...; "ready", "gil-reenabled", ...: the
 * names of the JSON report and the JUnit file. */
const char *ft_class_name(enum ft_class c);
const char *ft_verdict_name(enum ft_verdict v);

#endif
