/*
 * ft_run.h - the session behind `gilscope ft-check`: ask the interpreter
 * what it is, collect the suite's tests, run each in processes of its own
 * (PYTHON_GIL=0 and, as the baseline, PYTHON_GIL=1; --repeat times each;
 * up to `jobs` at once), read from outside at the end of every run without
 * the GIL whether the GIL came back on and which extension modules need
 * it, and take a dump of a test that hangs before killing its process
 * group. Everything it started is ended before it returns, also when
 * interrupted (SIGINT, SIGTERM: the report is then partial).
 */
#ifndef GS_FT_RUN_H
#define GS_FT_RUN_H

#include <stddef.h>

#include "../report/ftcheck.h"

/* how the user's command is run */
enum ft_kind {
	FT_KIND_PYTEST,		/* pytest ...: collected, each test isolated */
	FT_KIND_UNITTEST,	/* python -m unittest ...: collected by a loader
				 * of ours, each test isolated */
	FT_KIND_MODULE,		/* python -m MODULE ...: the whole command */
	FT_KIND_SCRIPT,		/* python SCRIPT ...: the whole command */
	FT_KIND_OTHER,		/* anything else, run as it is */
};

struct ft_opts {
	const char *python;	/* the interpreter (path or a name on PATH) */
	const char *baseline;	/* the baseline's interpreter (a default build);
				 * NULL: `python` with PYTHON_GIL=1 */
	char **argv;		/* the user's command (after --) */
	int argc;
	int repeat;
	int jobs;
	double timeout_s;
	int progress;		/* progress lines on stderr */
	/* pytest: run the suite whole with pytest-forked's --forked (each
	 * test in a process pytest forks), once per run, instead of one
	 * process of ours per test */
	int forked;
	/* pytest: each test also run by this many threads at once
	 * (pytest-run-parallel's --parallel-threads), -n times per mode; 0 */
	int stress;
};

/* What the interpreter said of itself. */
struct ft_interp {
	char version[32];
	char executable[4096];
	int free_threaded;
	int has_pytest;
	int has_forked;		/* pytest-forked is installed */
	/* ... but a test that passes fails under --forked: why ("": it
	 * works, or is not installed) */
	char forked_fails[256];
	int has_run_parallel;	/* pytest-run-parallel is installed */
};

struct ft_session;

/* Make a session: its private temporary directory, the command's shape.
 * Returns NULL after printing why. */
struct ft_session *ft_session_new(const struct ft_opts *o);
/* Ask interpreter `python`; 0, or an exit status after printing why. */
int ft_probe(struct ft_session *ss, const char *python, struct ft_interp *out);
/* Read the extension modules of the interpreter's site-packages (as its
 * probe named them) and of $PYTHONPATH from their files, without loading
 * any: their ABI tag and whether they declare Py_mod_gil. */
void ft_scan(struct ft_session *ss);
/* Collect the tests (pytest) or make the one "test" of a whole command;
 * 0, or an exit status after printing why. */
int ft_collect(struct ft_session *ss);
/* Run everything, fill *rep (pointing into the session); 0, or an exit
 * status after printing why. rep->interrupted says whether it was cut
 * short. */
int ft_run(struct ft_session *ss, struct ft_report *rep);
/* End what is left, remove the temporary directory, free. */
void ft_session_free(struct ft_session *ss);

/* Pure: the shape of a command (argv[0] "pytest", "python -m pytest",
 * "python -m unittest", "python -m M", "python script.py", ...). *first is
 * set to the index of its first argument of its own (after "pytest",
 * "-m pytest", "-m unittest", "-m", the script stays at *first). */
enum ft_kind ft_command_kind(char **argv, int argc, int *first);
/* Pure: test ids from `pytest --collect-only -q` output: lines holding
 * "::" up to the first empty line. Each is a malloc'ed string in ids[];
 * returns the count (at most max), -1 on out of memory. */
long ft_parse_collected(const char *out, size_t len, char **ids, size_t max);
/* Pure: test ids from the unittest lister of ft-check's wrapper: one JSON
 * object a line, {"top": DIR} (the top directory of the loading, into
 * malloc'ed *top, NULL when absent) and {"id": ID}s (into ids[] as above). */
long ft_parse_listed(const char *out, size_t len, char **ids, size_t max, char **top);

#endif
