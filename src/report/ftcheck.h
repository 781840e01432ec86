/*
 * ftcheck.h - render `gilscope ft-check`: text a person reads in a minute,
 * JSON (schema: tests/schema/ft-check.schema.json) and JUnit XML (one
 * testcase per test, its class in the message, for CI systems). The JSON
 * field names are a contract: add fields, never rename them.
 */
#ifndef GS_REPORT_FTCHECK_H
#define GS_REPORT_FTCHECK_H

#include <stddef.h>

#include "../analyze/ftcheck.h"
#include "../cpython/extscan.h"
#include "../util/strbuf.h"

/* A run without the GIL in which it came back, read while the run ran. */
struct ft_flip {
	double seconds;		/* seen at, after its process started (fork) */
	double not_before;	/* ... and seen off still at (0: not read before) */
	const char *module;	/* the first module in sys.modules that needs
				 * the GIL: the one that turned it on; NULL */
	int enabled;		/* really on; 0: PYTHON_GIL=0 kept it off, the
				 * module would have turned it on */
};

struct ft_test_result {
	const char *id;			/* pytest's node id, or the command */
	enum ft_class cls;
	struct ft_counts runs[FT_MODES];
	const char *signal_name;	/* the first signal that killed a run; NULL */
	int signal_mode;		/* enum ft_mode of that run */
	int hang_mode;			/* enum ft_mode of the first run that hung */
	double max_seconds;		/* its longest run */
	const char *tail;		/* the end of the output of the first run
					 * that did not pass; NULL */
	int tail_mode;
	const char *dump_text;		/* hang: its threads when it was killed */
	const struct strbuf *dump_json;	/* the same, one JSON object; NULL */
	int gil_read_runs;		/* runs without the GIL read at their end */
	int gil_on_runs;		/* ... of them, with the GIL back on */
	int gil_needed_runs;		/* ... with extension modules loaded that
					 * need it (under PYTHON_GIL=0 the GIL stays
					 * off, and they run without it) */
	char **gil_modules;		/* the first such run's extension modules
					 * that need the GIL, in import order */
	size_t ngil_modules;
	const struct ft_counts *stress;	/* [FT_MODES]: its runs under stress
					 * (counted in runs too); NULL: none */
	int under_stress;		/* passed alone; failed only under stress
					 * without the GIL (its class says how) */
	const struct ft_flip *gil_flips;	/* in the order seen */
	size_t ngil_flips;
};

/* An extension module that turned the GIL back on in some test. */
struct ft_module {
	const char *name;
	const char *first_test;
	int tests;
	const struct ft_ext *file;	/* its file in the scan, by name; NULL */
};

/* An extension module found in site-packages (or on PYTHONPATH). */
struct ft_ext {
	const char *path;
	struct ext_info info;
	/* the distribution whose RECORD lists it; NULL when none does */
	const char *dist_name, *dist_version;
};

/* Ready to be loaded by a free-threaded interpreter without turning the GIL
 * on: built for its ABI and declaring Py_mod_gil (or deciding at run
 * time). An untagged file counts by its declaration alone. */
int ft_ext_ready(const struct ext_info *x);

/* Why the verdict is what it is, module by module: an extension module
 * the tests needed that is not ready for the free-threaded build. */
enum ft_why {
	FT_WHY_NO_PY_MOD_GIL,	/* loaded, and does not declare Py_mod_gil */
	FT_WHY_DEFAULT_ABI,	/* installed only for a default build: a test
				 * could not import it */
};

struct ft_reason {
	const char *module;
	enum ft_why why;
	const char *test;		/* the first test it concerns */
	const struct ft_ext *file;	/* its file in the scan; NULL */
};

struct ft_report {
	const char *python;		/* as given or found */
	const char *executable;		/* sys.executable; may be NULL */
	const char *version;		/* "3.14.0"; may be NULL */
	int free_threaded;		/* Py_GIL_DISABLED */
	const char *command;		/* the user's command, for display */
	const char *baseline;		/* the baseline's interpreter; NULL: the
					 * same one with PYTHON_GIL=1 */
	int per_test;			/* pytest: each test isolated; else the whole command */
	const char *isolation;		/* "gilscope" (a process of ours per test),
					 * "pytest-forked" (the suite run whole with
					 * --forked), "none" (not pytest) */
	int repeat, jobs;
	int stress;			/* threads of the runs under stress; 0 */
	double timeout_s;
	const struct ft_test_result *tests;
	size_t ntests;
	size_t by_class[FTC_COUNT];
	const struct ft_module *modules;
	size_t nmodules;
	int gil_read_runs, gil_on_runs, gil_needed_runs;	/* over all tests */
	/* the extension modules of the environment, read without loading them */
	const char *const *ext_dirs;
	size_t next_dirs;
	const struct ft_ext *exts;
	size_t nexts;
	int exts_truncated;
	enum ft_verdict verdict;
	const struct ft_reason *reasons;
	size_t nreasons;
	int interrupted;
	double seconds;
	long runs_done, runs_total;
	long watch_reads;		/* reads of running test processes */
	double watch_seconds;		/* ... the time they took */
};

void report_ftcheck_text(struct strbuf *sb, const struct ft_report *r);
void report_ftcheck_json(struct strbuf *sb, const struct ft_report *r);
void report_ftcheck_junit(struct strbuf *sb, const struct ft_report *r);

#endif
