/*
 * ft_check.c - `gilscope ft-check`: is this test suite ready for a
 * free-threaded interpreter? The source document's last workflow: run the
 * suite on python3.13t+ with PYTHON_GIL=0 set explicitly, each test in a
 * process of its own, before trusting any benchmark; see ft_run.h for the
 * session, analyze/ftcheck.h for the classes and the verdict.
 */
#include "cmd.h"
#include "opt.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ft_run.h"
#include "../report/ftcheck.h"
#include "../target/tproc.h"
#include "../util/error.h"

#define EXIT_INTERRUPTED 130	/* as ft_run.c */

static const struct opt_cmd ft_cmd = {
	.name = "ft-check",
	.synopsis =
	"usage: gilscope ft-check [--python PY] [options] -- pytest [pytest args...]\n"
	"       gilscope ft-check [--python PY] [options] -- python -m MODULE | SCRIPT ...\n"
	"\n"
	"Is this test suite ready for a free-threaded Python? Runs it on a\n"
	"free-threaded interpreter (--python, or python3.15t/3.14t/3.13t on PATH),\n"
	"each pytest test in a process of its own, --repeat times without the GIL\n"
	"(PYTHON_GIL=0) and as many with it (PYTHON_GIL=1, the baseline), and says\n"
	"which tests fail, flake, crash or hang only without the GIL, and whether an\n"
	"extension module turned the GIL back on (read from outside each run).\n"
	"A command other than pytest is run whole, as one test.\n",
	.epilog =
	"\nVerdicts: ready (exit 0), gil-reenabled, unsafe, failing, not-free-threaded,\n"
	"incomplete (exit 9; 130 when interrupted: the partial report is written).\n"
	"Progress goes to stderr; the report to stdout.\n",
	.operands = OPT_COMMAND,
};

static const char *const ft_names[] = { "python3.15t", "python3.14t", "python3.13t" };

int cmd_ft_check(int argc, char **argv)
{
	struct ft_opts o;
	struct ft_interp in;
	struct ft_report rep;
	struct ft_session *ss = NULL;
	struct strbuf sb = STRBUF_INIT, xml = STRBUF_INIT;
	char found[PATH_MAX];
	const char *junit = NULL;
	long repeat = 3, jobs = 0, stress = 0;
	double timeout_s = 60;
	int json = 0, quiet = 0, first, status, isolation = 0;
	static const char *const isolations[] = { "auto", "gilscope", "forked", NULL };
	const struct opt opts[] = {
		{ .name = "python", .kind = OPT_STRING, .dest = &o.python, .arg = "PY",
		  .help = "the free-threaded interpreter (default: python3.15t,\n"
			  "3.14t or 3.13t, the first found on PATH)" },
		{ .name = "baseline-python", .kind = OPT_STRING, .dest = &o.baseline, .arg = "PY",
		  .help = "run the baseline (with the GIL) on PY, a default\n"
			  "build, instead of PYTHON_GIL=1 on the same one" },
		{ .name = "repeat", .letter = 'n', .kind = OPT_LONG, .dest = &repeat, .arg = "N",
		  .help = "runs of each test in each mode (default 3)", .lo = 1, .hi = 1000 },
		{ .name = "jobs", .letter = 'J', .kind = OPT_LONG, .dest = &jobs, .arg = "N",
		  .help = "test processes at once (default: the CPUs)", .lo = 1, .hi = 256 },
		{ .name = "timeout", .letter = 't', .kind = OPT_NUM, .dest = &timeout_s, .arg = "S",
		  .help = "seconds a run may take before it counts as a hang\n"
			  "(default 60)", .lo = 0.1, .hi = 86400 },
		{ .name = "stress", .kind = OPT_LONG, .dest = &stress, .arg = "N",
		  .help = "pytest: also run each test by N threads at once\n"
			  "(needs pytest-run-parallel), -n times per mode", .lo = 2, .hi = 256 },
		{ .name = "isolation", .kind = OPT_CHOICE, .dest = &isolation, .arg = "HOW",
		  .choices = isolations,
		  .help = "pytest: gilscope (a process of ours per test),\n"
			  "forked (the suite with pytest-forked's --forked),\n"
			  "auto (default: forked when pytest-forked is installed)" },
		{ .name = "json", .letter = 'j', .kind = OPT_FLAG, .dest = &json, .ival = 1,
		  .help = "one JSON object instead of text" },
		{ .name = "junit-xml", .kind = OPT_STRING, .dest = &junit, .arg = "FILE",
		  .help = "also write each test's class as JUnit XML" },
		{ .name = "quiet", .letter = 'q', .kind = OPT_FLAG, .dest = &quiet, .ival = 1,
		  .help = "no progress lines on stderr" },
	};

	memset(&o, 0, sizeof(o));
	first = opt_parse(&ft_cmd, opts, OPT_COUNT(opts), argc, argv);
	if (first >= argc)
		usage_error("ft-check", "give the test command after --: gilscope ft-check -- "
			    "pytest tests/");
	if (!o.python) {
		if (tproc_which(ft_names, sizeof(ft_names) / sizeof(ft_names[0]), found,
				sizeof(found))) {
			fprintf(stderr, "gilscope: no free-threaded interpreter on PATH (python3.15t, "
				"python3.14t, python3.13t): install one (python.org's free-threaded "
				"option, `uv python install 3.14t`, `pyenv install 3.14t`) or give "
				"--python PY\n");
			return GS_EXIT_NOPROC;
		}
		o.python = found;
	}
	o.argv = argv + first;
	o.argc = argc - first;
	o.repeat = (int)repeat;
	o.jobs = (int)jobs;
	o.timeout_s = timeout_s;
	o.progress = !quiet;

	ss = ft_session_new(&o);
	if (!ss)
		return GS_EXIT_ERROR;
	status = ft_probe(ss, o.python, &in);
	if (status)
		goto out;
	if (o.baseline && in.free_threaded) {
		struct ft_interp base;

		status = ft_probe(ss, o.baseline, &base);
		if (status)
			goto out;
		if (ft_command_kind(o.argv, o.argc, &first) == FT_KIND_PYTEST && !base.has_pytest) {
			fprintf(stderr, "gilscope: pytest is not installed for %s: install it there "
				"(%s -m pip install pytest) and run again\n", o.baseline, o.baseline);
			status = GS_EXIT_ERROR;
			goto out;
		}
	}
	if (!in.free_threaded) {
		memset(&rep, 0, sizeof(rep));
		rep.verdict = FTV_NOT_FREE_THREADED;
		rep.repeat = o.repeat;
		rep.timeout_s = o.timeout_s;
	} else {
		if (ft_command_kind(o.argv, o.argc, &first) == FT_KIND_PYTEST && !in.has_pytest) {
			fprintf(stderr, "gilscope: pytest is not installed for %s: install it there "
				"(%s -m pip install pytest) and run again\n", o.python, o.python);
			status = GS_EXIT_ERROR;
			goto out;
		}
		if (ft_command_kind(o.argv, o.argc, &first) == FT_KIND_PYTEST && isolation != 1) {
			if (isolation == 2 && !in.has_forked) {
				fprintf(stderr, "gilscope: pytest-forked is not installed for %s: "
					"install it there (%s -m pip install pytest-forked) or "
					"leave out --isolation forked\n", o.python, o.python);
				status = GS_EXIT_ERROR;
				goto out;
			}
			if (isolation == 2 && in.forked_fails[0]) {
				fprintf(stderr, "gilscope: pytest-forked does not work for %s (%s): "
					"a test that passes fails under --forked; install versions "
					"that work together or leave out --isolation forked\n",
					o.python, in.forked_fails);
				status = GS_EXIT_ERROR;
				goto out;
			}
			if (in.has_forked && in.forked_fails[0])
				fprintf(stderr, "gilscope: pytest-forked is installed but does not "
					"work here (%s): isolating each test itself\n",
					in.forked_fails);
			if (isolation == 2 && stress)
				fprintf(stderr, "gilscope: --stress runs each test in a process of "
					"gilscope's own, not with --forked\n");
			/* the runs under stress are gilscope's own */
			o.forked = in.has_forked && !in.forked_fails[0] && !stress;
		}
		if (stress && ft_command_kind(o.argv, o.argc, &first) != FT_KIND_PYTEST) {
			fprintf(stderr, "gilscope: --stress runs pytest tests only: running without "
				"it\n");
		} else if (stress && !in.has_run_parallel) {
			fprintf(stderr, "gilscope: --stress needs pytest-run-parallel for %s: install "
				"it there (%s -m pip install pytest-run-parallel); running without "
				"stress\n", o.python, o.python);
		} else {
			o.stress = (int)stress;
		}
		ft_scan(ss);
		status = ft_collect(ss);
		if (status)
			goto out;
		status = ft_run(ss, &rep);
		if (status)
			goto out;
	}
	rep.python = o.python;
	rep.executable = in.executable[0] ? in.executable : NULL;
	rep.version = in.version;
	rep.free_threaded = in.free_threaded;
	if (!rep.command)
		rep.command = "";

	if (json)
		report_ftcheck_json(&sb, &rep);
	else
		report_ftcheck_text(&sb, &rep);
	if (junit) {
		report_ftcheck_junit(&xml, &rep);
		status = cmd_write_report(junit, &xml);
		if (status)
			goto out;
	}
	status = cmd_write_report(NULL, &sb);
	if (!status)
		status = rep.interrupted ? EXIT_INTERRUPTED :
			 rep.verdict == FTV_READY ? 0 : GS_EXIT_NOTREADY;
out:
	strbuf_release(&sb);
	strbuf_release(&xml);
	ft_session_free(ss);
	return status;
}
