/*
 * ft_run.c - the session behind `gilscope ft-check`; see ft_run.h.
 *
 * Every process of the user's runs is started by the wrapper below (one
 * `-c` program of ours, the user's code untouched): it runs pytest, the
 * module or the script, then says "finished" on its fd 3 and waits for
 * "go" on its fd 4, so that the interpreter can be read from outside
 * (whether the GIL is on, which modules need it) before it exits. A test
 * that crashes never says so; its signal says it all.
 */
#include "ft_run.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "../cpython/dist.h"
#include "../cpython/extscan.h"
#include "../cpython/gilinfo.h"
#include "../report/dump.h"
#include "../sample/sampler.h"
#include "../target/dirscan.h"
#include "../target/elfsym.h"
#include "../target/launch.h"
#include "../target/process.h"
#include "../target/tproc.h"
#include "../util/clock.h"
#include "../util/error.h"
#include "../util/jmsg.h"
#include "../util/jw.h"

#define MAX_TESTS 100000
#define MAX_ARGS 256		/* of the user's command */
#define MAX_JOBS 256
#define PROBE_TIMEOUT_MS 60000
#define COLLECT_TIMEOUT_MS 600000
#define OUT_MAX (16u << 20)	/* bytes of collect output read */
#define TAIL_BYTES 3000
#define CRASH_BYTES 32768
#define CRASH_LINES 10
#define TICK_MS 20
#define PROGRESS_TTY_MS 500
#define PROGRESS_MS 5000
#define DUMP_TORN_REREADS 8
#define EXIT_INTERRUPTED 130
#define FT_DIRS_MAX 16		/* site-packages and PYTHONPATH directories scanned */
#define FT_EXTS_MAX 20000	/* extension modules listed */
#define RECORD_MAX (16u << 20)	/* bytes of one RECORD file */
#define RECORD_ROWS 1000000
/* a run without the GIL is read from outside while it runs: first after
 * WATCH_FIRST_MS, then at twice the previous gap, at most WATCH_MAX_MS */
#define WATCH_FIRST_MS 2
#define WATCH_MAX_MS 20

static const char wrapper_code[] =
	"import os, sys\n"
	"def _gilscope_done():\n"
	"    try:\n"
	"        os.write(3, b'd')\n"
	"        os.read(4, 1)\n"
	"    except OSError:\n"
	"        pass\n"
	"kind, args = sys.argv[1], sys.argv[2:]\n"
	"try:\n"
	"    if kind == 'probe':\n"
	"        import importlib.util, json, platform, site, sysconfig\n"
	"        def forked_fails():\n"
	"            # pytest-forked installed: does a test that passes pass\n"
	"            # under --forked? (1.7.5 under pytest 9: none does)\n"
	"            if not (importlib.util.find_spec('pytest_forked') and importlib.util.find_spec('pytest')):\n"
	"                return None\n"
	"            import subprocess, tempfile, importlib.metadata as md\n"
	"            with tempfile.TemporaryDirectory() as d:\n"
	"                with open(os.path.join(d, 'test_gilscope_forked.py'), 'w') as f:\n"
	"                    f.write('def test_passes():\\n    pass\\n')\n"
	"                try:\n"
	"                    r = subprocess.run([sys.executable, '-m', 'pytest', '-q', '--forked', '-p',\n"
	"                        'no:cacheprovider', d], cwd=d, capture_output=True, text=True,\n"
	"                        timeout=30, stdin=subprocess.DEVNULL)\n"
	"                except (OSError, subprocess.SubprocessError) as e:\n"
	"                    return 'pytest-forked could not be tried: %s' % e\n"
	"            if r.returncode == 0:\n"
	"                return None\n"
	"            lines = [l for l in (r.stdout + r.stderr).splitlines() if 'EXITED' in l or 'rror' in l]\n"
	"            return 'pytest-forked %s with pytest %s: %s' % (md.version('pytest-forked'),\n"
	"                md.version('pytest'), (lines or ['exit status %d' % r.returncode])[0].strip()[:160])\n"
	"        paths = sysconfig.get_paths()\n"
	"        dirs = site.getsitepackages() + [paths['platlib'], paths['purelib']]\n"
	"        print(json.dumps({'version': platform.python_version(),\n"
	"            'ft': bool(sysconfig.get_config_var('Py_GIL_DISABLED')),\n"
	"            'executable': sys.executable,\n"
	"            'site': list(dict.fromkeys(os.path.realpath(d) for d in dirs)),\n"
	"            'pytest': importlib.util.find_spec('pytest') is not None,\n"
	"            'forked': importlib.util.find_spec('pytest_forked') is not None,\n"
	"            'run_parallel': importlib.util.find_spec('pytest_run_parallel') is not None,\n"
	"            'forked_fails': forked_fails()}))\n"
	"    elif kind == 'pytest':\n"
	"        sys.argv = ['pytest'] + args\n"
	"        import pytest\n"
	"        raise SystemExit(int(pytest.main(args)))\n"
	"    elif kind == 'pytestlog':\n"
	"        import json, re\n"
	"        import pytest\n"
	"        out = open(args[0], 'w', buffering=1)\n"
	"        class GilscopeLog:\n"
	"            bad = {}\n"
	"            def pytest_runtest_logstart(self, nodeid, location):\n"
	"                out.write(json.dumps({'start': nodeid}) + '\\n')\n"
	"            def pytest_runtest_logreport(self, report):\n"
	"                b = self.bad.setdefault(report.nodeid, [0, 0])\n"
	"                if report.failed:\n"
	"                    b[0] = 1\n"
	"                    m = re.search(r'CRASHED with signal (\\d+)', str(report.longrepr))\n"
	"                    b[1] = int(m.group(1)) if m else b[1]\n"
	"            def pytest_runtest_logfinish(self, nodeid, location):\n"
	"                b = self.bad.pop(nodeid, [0, 0])\n"
	"                out.write(json.dumps({'id': nodeid, 'failed': b[0] == 1, 'signal': b[1]}) + '\\n')\n"
	"        sys.argv = ['pytest'] + args[1:]\n"
	"        raise SystemExit(int(pytest.main(args[1:], plugins=[GilscopeLog()])))\n"
	"    elif kind == 'unittestlist':\n"
	"        import json, unittest\n"
	"        out = open(args[0], 'w')\n"
	"        def walk(s):\n"
	"            for t in s:\n"
	"                if isinstance(t, unittest.TestSuite):\n"
	"                    yield from walk(t)\n"
	"                else:\n"
	"                    yield t\n"
	"        class Lister(unittest.TestProgram):\n"
	"            def runTests(self):\n"
	"                # discovery's top: -t, else the start directory (-s)\n"
	"                top = getattr(self, 'top', None) or getattr(self, 'start', None)\n"
	"                top = os.path.abspath(top) if top else os.getcwd()\n"
	"                out.write(json.dumps({'top': top}) + '\\n')\n"
	"                for t in walk(self.test):\n"
	"                    out.write(json.dumps({'id': t.id()}) + '\\n')\n"
	"                out.close()\n"
	"        sys.argv = ['python -m unittest'] + args[1:]\n"
	"        Lister(module=None, argv=sys.argv, exit=False)\n"
	"    elif kind == 'unittestrun':\n"
	"        import unittest\n"
	"        sys.path.insert(0, args[0])\n"
	"        sys.argv = ['python -m unittest', args[1]]\n"
	"        unittest.main(module=None, argv=sys.argv)\n"
	"    elif kind == 'module':\n"
	"        import runpy\n"
	"        sys.argv = args[:]\n"
	"        runpy.run_module(args[0], run_name='__main__', alter_sys=True)\n"
	"    else:\n"
	"        import runpy\n"
	"        sys.argv = args[:]\n"
	"        sys.path[0] = os.path.dirname(os.path.abspath(args[0]))\n"
	"        runpy.run_path(args[0], run_name='__main__')\n"
	"finally:\n"
	"    if kind != 'probe':\n"
	"        _gilscope_done()\n";

struct test {
	char *id;
	struct ft_counts runs[FT_MODES];	/* all its runs, under stress too */
	struct ft_counts stress[FT_MODES];	/* ... those under stress */
	int signal, signal_mode, hang_mode;
	double max_seconds;
	char *tail;
	int tail_mode;
	struct strbuf dump_text, dump_json;
	int dump_mode;		/* of the run dumped, when dump_text is set */
	int gil_read, gil_on, gil_needed;
	char **mods;
	size_t nmods;
	struct ft_flip *flips;	/* one per run in which the GIL came back */
	size_t nflips;
};

struct slot {
	int busy;
	struct tproc t;
	size_t test;
	int mode;
	int stress;		/* run by o->stress threads at once */
	uint64_t start_ms;
	int read;		/* its end was read (or there is nothing to read) */
	char out[PATH_MAX];
	/* a run without the GIL, watched while it runs */
	struct process proc;
	struct sampler s;
	int live;		/* proc and s are attached */
	int watch;		/* still to be read until the GIL comes back */
	uint64_t start_ns;	/* just before its fork */
	char log[PATH_MAX];	/* --forked: what the tests of its run did */
	uint64_t next_ns;	/* its next read */
	uint64_t off_ns;	/* the start of the last read that saw the GIL off; 0 */
	unsigned gap_ms;
};

struct ft_session {
	const struct ft_opts *o;
	enum ft_kind kind;
	int first;		/* index of the command's own arguments */
	char dir[PATH_MAX];
	struct test *tests;
	size_t ntests;
	struct slot *slots;
	int nslots;
	char *argv[MAX_ARGS + 16];
	struct ft_test_result *res;
	struct ft_module *mods;
	size_t nmods;
	char cmdline[1024];
	struct sigaction old_int, old_term;
	char *dirs[FT_DIRS_MAX];	/* where extension modules are looked for */
	size_t ndirs;
	struct ft_ext *exts;
	size_t nexts;
	int exts_truncated;
	size_t *by_path;	/* indices of exts sorted by path */
	struct ft_reason *reasons;
	size_t nreasons;
	char **strs;		/* distribution names and versions we own */
	size_t nstrs, capstrs;
	char *ut_top;		/* unittest: the top directory of its loading */
	long watch_reads;	/* reads of running processes, and their time */
	uint64_t watch_ns;
};

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* --- pure parts ------------------------------------------------------- */

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int is_python_name(const char *p)
{
	const char *b = base_name(p);

	return !strncmp(b, "python", 6);
}

enum ft_kind ft_command_kind(char **argv, int argc, int *first)
{
	const char *b;

	*first = 1;
	if (argc < 1)
		return FT_KIND_OTHER;
	b = base_name(argv[0]);
	if (!strcmp(b, "pytest") || !strcmp(b, "py.test"))
		return FT_KIND_PYTEST;
	if (!is_python_name(argv[0]) || argc < 2)
		return FT_KIND_OTHER;
	if (!strcmp(argv[1], "-m") && argc >= 3) {
		if (!strcmp(argv[2], "pytest") || !strcmp(argv[2], "py.test")) {
			*first = 3;
			return FT_KIND_PYTEST;
		}
		if (!strcmp(argv[2], "unittest")) {
			*first = 3;
			return FT_KIND_UNITTEST;
		}
		*first = 2;
		return FT_KIND_MODULE;
	}
	if (argv[1][0] != '-') {
		*first = 1;
		return FT_KIND_SCRIPT;
	}
	return FT_KIND_OTHER;
}

long ft_parse_collected(const char *out, size_t len, char **ids, size_t max)
{
	const char *p = out, *end = out + len;
	size_t n = 0;

	while (p < end && n < max) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (l && p[l - 1] == '\r')
			l--;
		if (!l && n)
			break;	/* the summary follows */
		if (l && l < 4096 && p[0] != ' ' && memmem(p, l, "::", 2)) {
			ids[n] = strndup(p, l);
			if (!ids[n])
				return -1;
			n++;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return (long)n;
}

long ft_parse_listed(const char *out, size_t len, char **ids, size_t max, char **top)
{
	const char *p = out, *end = out + len;
	size_t n = 0;

	*top = NULL;
	while (p < end && n < max) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_t *msg = l ? jmsg_parse(p, l) : NULL;

		if (msg && jmsg_str(msg, "top") && !*top)
			*top = strdup(jmsg_str(msg, "top"));
		if (msg && jmsg_str(msg, "id") && *jmsg_str(msg, "id")) {
			ids[n] = strdup(jmsg_str(msg, "id"));
			if (!ids[n]) {
				json_decref(msg);
				return -1;
			}
			n++;
		}
		json_decref(msg);
		if (!nl)
			break;
		p = nl + 1;
	}
	return (long)n;
}

/* --- the session ------------------------------------------------------ */

static int cpu_count(void)
{
	cpu_set_t set;

	if (!sched_getaffinity(0, sizeof(set), &set) && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	return 1;
}

struct ft_session *ft_session_new(const struct ft_opts *o)
{
	struct ft_session *ss = calloc(1, sizeof(*ss));
	struct sigaction sa;
	size_t len = 0;
	int i, n;

	if (!ss) {
		fprintf(stderr, "gilscope: out of memory\n");
		return NULL;
	}
	ss->o = o;
	if (o->argc > MAX_ARGS) {
		fprintf(stderr, "gilscope ft-check: at most %d arguments in the command\n", MAX_ARGS);
		free(ss);
		return NULL;
	}
	ss->kind = ft_command_kind(o->argv, o->argc, &ss->first);
	for (i = 0; i < o->argc && len + 2 < sizeof(ss->cmdline); i++) {
		n = snprintf(ss->cmdline + len, sizeof(ss->cmdline) - len, "%s%s", i ? " " : "",
			     o->argv[i]);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	/* Ctrl-C (SIGINT; SIGTERM alike) ends the runs and gives the report
	 * so far; the test processes are in groups of their own, so the
	 * terminal's SIGINT reaches only us and we end them. No SA_RESTART:
	 * a wait returns at once. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	stop_signal = 0;
	sigaction(SIGINT, &sa, &ss->old_int);
	sigaction(SIGTERM, &sa, &ss->old_term);
	if (cmd_make_tmpdir("ft", ss->dir, sizeof(ss->dir))) {
		ft_session_free(ss);
		return NULL;
	}
	return ss;
}

/* dir/name into out; 0 or -1 when too long. */
static int path_in(const struct ft_session *ss, const char *name, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", ss->dir, name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* At most max bytes of a file, its first ones or (tail) its last ones;
 * malloc'ed, NUL-ended; *len the bytes read, *cut whether some were left
 * out before them. */
static char *read_part(const char *path, size_t max, int tail, size_t *len, int *cut)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size = 0;
	size_t n;

	*len = 0;
	*cut = 0;
	if (!f)
		return NULL;
	if (tail && (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 ||
		     fseek(f, size > (long)max ? size - (long)max : 0, SEEK_SET)))
		goto out;
	buf = malloc(max + 1);
	if (!buf)
		goto out;
	n = fread(buf, 1, max, f);
	buf[n] = '\0';
	*len = n;
	*cut = tail && size > (long)max;
out:
	fclose(f);
	return buf;
}

static char *read_file(const char *path, size_t max, size_t *len)
{
	int cut;

	return read_part(path, max, 0, len, &cut);
}

/* The last `max` bytes of a file, from a line start when one is near. */
static char *read_tail(const char *path, size_t max)
{
	size_t len;
	int cut;
	char *buf = read_part(path, max, 1, &len, &cut), *s;

	s = buf && cut ? strchr(buf, '\n') : NULL;
	if (s)
		memmove(buf, s + 1, strlen(s + 1) + 1);
	return buf;
}

/* What a crashed run said last: from faulthandler's "Fatal Python error"
 * on (its Python stacks, innermost first), without its C stack ("Binary
 * file ..." lines), at most CRASH_LINES lines; else the plain tail. */
static char *crash_text(const char *path)
{
	char *buf = read_tail(path, CRASH_BYTES), *p, *w;
	int lines = 0;

	if (!buf)
		return NULL;
	p = strstr(buf, "Fatal Python error");
	if (!p) {
		size_t len = strlen(buf);

		if (len > TAIL_BYTES)
			memmove(buf, buf + len - TAIL_BYTES, TAIL_BYTES + 1);
		return buf;
	}
	w = buf;
	while (*p && lines < CRASH_LINES) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);

		if (!strstr(p, "Binary file") || (nl && strstr(p, "Binary file") > nl)) {
			memmove(w, p, len);
			w += len;
			lines++;
		}
		p += len;
	}
	*w = '\0';
	return buf;
}

/* The argv of one run: the wrapper, then what it is to run. */
static void make_argv(struct ft_session *ss, const char *python, const char *kind,
		      char **extra, int nextra, const char *test_id)
{
	const struct ft_opts *o = ss->o;
	int n = 0, i;

	if (ss->kind == FT_KIND_OTHER) {
		/* as it is; "python ..." runs on the interpreter being checked */
		for (i = 0; i < o->argc; i++)
			ss->argv[n++] = o->argv[i];
		if (is_python_name(o->argv[0]))
			ss->argv[0] = (char *)python;
		ss->argv[n] = NULL;
		return;
	}
	ss->argv[n++] = (char *)python;
	ss->argv[n++] = (char *)"-c";
	ss->argv[n++] = (char *)wrapper_code;
	ss->argv[n++] = (char *)kind;
	for (i = 0; i < nextra; i++)
		ss->argv[n++] = extra[i];
	if (ss->kind == FT_KIND_PYTEST) {
		for (i = ss->first; i < o->argc; i++) {
			struct stat st;

			/* a test's run names the test, not the paths the
			 * suite was collected from */
			if (test_id && o->argv[i][0] != '-' &&
			    (strstr(o->argv[i], "::") || !stat(o->argv[i], &st)))
				continue;
			ss->argv[n++] = o->argv[i];
		}
		if (test_id)
			ss->argv[n++] = (char *)test_id;
	} else if (ss->kind == FT_KIND_UNITTEST && test_id) {
		/* one test by its id, from the top directory of the loading */
		ss->argv[n++] = (char *)test_id;
	} else {
		for (i = ss->first; i < o->argc; i++)
			ss->argv[n++] = o->argv[i];
	}
	ss->argv[n] = NULL;
}

static void env_for(struct tproc_env *env, int mode, const char *baseline)
{
	memset(env, 0, sizeof(*env));
	if (mode < 0 || (mode == FT_GIL && baseline)) {
		/* ask the build what it is, with nothing forcing it; a
		 * default build's baseline has its GIL anyway */
		env->unset[env->nunset++] = "PYTHON_GIL";
		if (mode >= 0)
			env->set[env->nset++] = "PYTHONDONTWRITEBYTECODE=1";
		return;
	}
	/* set explicitly, never left to the build's default */
	env->set[env->nset++] = mode == FT_NOGIL ? "PYTHON_GIL=0" : "PYTHON_GIL=1";
	env->set[env->nset++] = "PYTHONDONTWRITEBYTECODE=1";
}

/* A directory to look for extension modules in, once. */
static void add_dir(struct ft_session *ss, const char *dir)
{
	size_t i;

	if (!*dir || ss->ndirs == FT_DIRS_MAX)
		return;
	for (i = 0; i < ss->ndirs; i++)
		if (!strcmp(ss->dirs[i], dir))
			return;
	ss->dirs[ss->ndirs] = strdup(dir);
	if (ss->dirs[ss->ndirs])
		ss->ndirs++;
}

int ft_probe(struct ft_session *ss, const char *python, struct ft_interp *out)
{
	struct tproc_env env;
	char path[PATH_MAX], err[256];
	char *argv[6], *buf;
	json_t *msg;
	size_t len;
	int ret, st;

	memset(out, 0, sizeof(*out));
	if (path_in(ss, "probe.out", path, sizeof(path)))
		return GS_EXIT_ERROR;
	argv[0] = (char *)python;
	argv[1] = (char *)"-I";
	argv[2] = (char *)"-c";
	argv[3] = (char *)wrapper_code;
	argv[4] = (char *)"probe";
	argv[5] = NULL;
	env_for(&env, -1, NULL);
	ret = tproc_run(argv, &env, path, PROBE_TIMEOUT_MS, &stop_signal, &st, err, sizeof(err));
	if (stop_signal) {
		fprintf(stderr, "gilscope: interrupted\n");
		return EXIT_INTERRUPTED;
	}
	if (ret == GS_ENOPROC) {
		fprintf(stderr, "gilscope: cannot run %s: %s (give an interpreter with --python)\n",
			python, err);
		return GS_EXIT_NOPROC;
	}
	if (ret) {
		fprintf(stderr, "gilscope: %s did not answer what it is within %d s\n",
			python, PROBE_TIMEOUT_MS / 1000);
		return GS_EXIT_ERROR;
	}
	buf = read_file(path, 65536, &len);
	msg = buf && st == 0 ? jmsg_parse(buf, len && buf[len - 1] == '\n' ? len - 1 : len) : NULL;
	if (!msg || !jmsg_str(msg, "version")) {
		fprintf(stderr, "gilscope: %s is not a Python 3 interpreter gilscope can ask "
			"(exit status %d): %.200s\n", python, launch_exit_status(st),
			buf ? buf : "");
		json_decref(msg);
		free(buf);
		return GS_EXIT_NOTPY;
	}
	snprintf(out->version, sizeof(out->version), "%s", jmsg_str(msg, "version"));
	snprintf(out->executable, sizeof(out->executable), "%s",
		 jmsg_str(msg, "executable") ? jmsg_str(msg, "executable") : "");
	out->free_threaded = jmsg_true(msg, "ft");
	out->has_pytest = jmsg_true(msg, "pytest");
	out->has_forked = jmsg_true(msg, "forked");
	out->has_run_parallel = jmsg_true(msg, "run_parallel");
	snprintf(out->forked_fails, sizeof(out->forked_fails), "%s",
		 jmsg_str(msg, "forked_fails") ? jmsg_str(msg, "forked_fails") : "");
	if (python == ss->o->python) {
		json_t *site = json_object_get(msg, "site"), *d;
		size_t i;

		json_array_foreach(site, i, d) {
			if (json_is_string(d))
				add_dir(ss, json_string_value(d));
		}
	}
	json_decref(msg);
	free(buf);
	return 0;
}

static int add_test(struct ft_session *ss, char *id)
{
	struct test *t;

	if (!id)
		return -1;
	t = &ss->tests[ss->ntests++];
	memset(t, 0, sizeof(*t));
	t->id = id;	/* the strbufs are zeroed: STRBUF_INIT */
	return 0;
}

int ft_collect(struct ft_session *ss)
{
	char path[PATH_MAX], err[256];
	char *extra[4] = { (char *)"--collect-only", (char *)"-q", (char *)"-p",
			   (char *)"no:cacheprovider" };
	struct tproc_env env;
	char **ids = NULL, *buf = NULL, list[PATH_MAX];
	int pytest = ss->kind == FT_KIND_PYTEST;
	size_t len, i;
	long n;
	int ret, st, status = GS_EXIT_ERROR;

	if (!pytest && ss->kind != FT_KIND_UNITTEST) {
		/* one "test": the whole command */
		ss->tests = calloc(1, sizeof(*ss->tests));
		if (!ss->tests || add_test(ss, strdup(ss->cmdline)))
			return GS_EXIT_ERROR;
		return 0;
	}
	if (path_in(ss, "collect.out", path, sizeof(path)) ||
	    path_in(ss, "collect.list", list, sizeof(list)))
		return GS_EXIT_ERROR;
	if (pytest)
		make_argv(ss, ss->o->python, "pytest", extra, 4, NULL);
	else
		make_argv(ss, ss->o->python, "unittestlist", (char *[]){ list }, 1, NULL);
	env_for(&env, FT_NOGIL, NULL);
	ret = tproc_run(ss->argv, &env, path, COLLECT_TIMEOUT_MS, &stop_signal, &st, err,
			sizeof(err));
	if (stop_signal) {
		fprintf(stderr, "gilscope: interrupted while collecting the tests\n");
		return EXIT_INTERRUPTED;
	}
	if (ret) {
		fprintf(stderr, "gilscope: collecting the tests with %s failed: %s\n",
			ss->o->python, ret == GS_ERANGE ? "it took too long" : err);
		return GS_EXIT_ERROR;
	}
	buf = read_file(pytest ? path : list, OUT_MAX, &len);
	if (!buf || (st != 0 && (!pytest || launch_exit_status(st) != 5))) {
		char *tail = read_tail(path, 1500);

		fprintf(stderr, "gilscope: collecting the tests failed (%s exit status %d); its "
			"output ends:\n%s\n", pytest ? "pytest --collect-only" :
			"unittest's loading", launch_exit_status(st), tail ? tail : "");
		free(tail);
		goto out;
	}
	ids = calloc(MAX_TESTS, sizeof(*ids));
	n = !ids ? -1 : pytest ? ft_parse_collected(buf, len, ids, MAX_TESTS) :
	    ft_parse_listed(buf, len, ids, MAX_TESTS, &ss->ut_top);
	if (n <= 0 || (!pytest && !ss->ut_top)) {
		fprintf(stderr, "gilscope: %s no tests from '%s' (run it alone to see why)\n",
			pytest ? "pytest collected" : "unittest found", ss->cmdline);
		goto out;
	}
	ss->tests = calloc((size_t)n, sizeof(*ss->tests));
	if (!ss->tests)
		goto out;
	for (i = 0; i < (size_t)n; i++) {
		add_test(ss, ids[i]);
		ids[i] = NULL;
	}
	status = 0;
out:
	if (ids)
		for (i = 0; i < MAX_TESTS && ids[i]; i++)
			free(ids[i]);
	free(ids);
	free(buf);
	return status;
}

/* --- the extension modules of the environment --------------------------- */

static int on_so(void *arg, const char *path)
{
	struct ft_session *ss = arg;
	struct ft_ext *x;
	struct elfsym *e;
	int ret;

	if (ss->nexts == FT_EXTS_MAX) {
		ss->exts_truncated = 1;
		return 1;
	}
	x = &ss->exts[ss->nexts];
	memset(x, 0, sizeof(*x));
	if (elfsym_open_file(path, &e))
		return 0;	/* not an ELF file we can read: not a module */
	ret = ext_scan(e, &x->info);
	elfsym_free(e);
	if (ret != 1)
		return 0;
	ext_tag_from_name(path, &x->info);
	x->path = strdup(path);
	if (x->path)
		ss->nexts++;
	return 0;
}

/* --- which distribution installed each module ---------------------------- */

static const struct ft_session *sort_ss;	/* qsort has no context argument */

static int cmp_path(const void *a, const void *b)
{
	return strcmp(sort_ss->exts[*(const size_t *)a].path, sort_ss->exts[*(const size_t *)b].path);
}

/* A string the session keeps until it is freed; NULL when out of memory. */
static const char *keep(struct ft_session *ss, const char *s)
{
	char *d;

	if (ss->nstrs == ss->capstrs) {
		size_t cap = ss->capstrs ? 2 * ss->capstrs : 64;
		char **n = realloc(ss->strs, cap * sizeof(*n));

		if (!n)
			return NULL;
		ss->strs = n;
		ss->capstrs = cap;
	}
	d = strdup(s);
	if (d)
		ss->strs[ss->nstrs++] = d;
	return d;
}

struct record_walk {
	struct ft_session *ss;
	const char *dir;
	const char *name, *version;	/* kept */
};

static int on_row(void *arg, const char *path, size_t plen)
{
	struct record_walk *rw = arg;
	struct ft_session *ss = rw->ss;
	char full[PATH_MAX];
	size_t lo = 0, hi = ss->nexts;
	int n;

	if (plen < 3 || memcmp(path + plen - 3, ".so", 3))
		return 0;
	n = snprintf(full, sizeof(full), "%s/%.*s", rw->dir, (int)plen, path);
	if (n < 0 || (size_t)n >= sizeof(full))
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct ft_ext *x = &ss->exts[ss->by_path[mid]];
		int c = strcmp(x->path, full);

		if (!c) {
			x->dist_name = rw->name;
			x->dist_version = rw->version;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int on_dist(void *arg, const char *dirname)
{
	struct record_walk *rw = arg;
	char name[DIST_NAME_MAX], version[DIST_VERSION_MAX], path[PATH_MAX];
	size_t len;
	char *buf;
	int n;

	if (dist_from_dirname(dirname, name, sizeof(name), version, sizeof(version)))
		return 0;
	n = snprintf(path, sizeof(path), "%s/%s/RECORD", rw->dir, dirname);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	buf = read_file(path, RECORD_MAX, &len);
	if (!buf)
		return 0;
	rw->name = keep(rw->ss, name);
	rw->version = keep(rw->ss, version);
	if (rw->name && rw->version)
		dist_record_paths(buf, len, RECORD_ROWS, on_row, rw);
	free(buf);
	return 0;
}

static void find_dists(struct ft_session *ss)
{
	struct record_walk rw;
	size_t i;

	if (!ss->nexts)
		return;
	ss->by_path = malloc(ss->nexts * sizeof(*ss->by_path));
	if (!ss->by_path)
		return;
	for (i = 0; i < ss->nexts; i++)
		ss->by_path[i] = i;
	sort_ss = ss;
	qsort(ss->by_path, ss->nexts, sizeof(*ss->by_path), cmp_path);
	sort_ss = NULL;
	for (i = 0; i < ss->ndirs; i++) {
		memset(&rw, 0, sizeof(rw));
		rw.ss = ss;
		rw.dir = ss->dirs[i];
		(void)dirscan_subdirs(ss->dirs[i], ".dist-info", on_dist, &rw);
	}
}

void ft_scan(struct ft_session *ss)
{
	const char *pp = getenv("PYTHONPATH");
	size_t i;
	int trunc;

	/* what the test processes can import besides site-packages */
	while (pp && *pp) {
		const char *colon = strchr(pp, ':');
		size_t len = colon ? (size_t)(colon - pp) : strlen(pp);
		char dir[PATH_MAX], real[PATH_MAX];

		if (len && len < sizeof(dir)) {
			memcpy(dir, pp, len);
			dir[len] = '\0';
			if (realpath(dir, real))
				add_dir(ss, real);
		}
		pp += len + (colon ? 1 : 0);
	}
	ss->exts = calloc(FT_EXTS_MAX, sizeof(*ss->exts));
	if (!ss->exts)
		return;
	for (i = 0; i < ss->ndirs && !stop_signal; i++) {
		if (!dirscan(ss->dirs[i], ".so", on_so, ss, &trunc) && trunc)
			ss->exts_truncated = 1;
	}
	find_dists(ss);
}

/* --- reading a test process from outside ------------------------------ */

/* The GIL of a run without it, at its end. */
static void read_gil(struct test *t, struct sampler *s)
{
	struct py_gil_info gi;
	struct py_gil gil;
	size_t i;

	if (py_model_gil_report(&s->model, NULL, &gil, &gi) || gi.count < 0)
		return;
	t->gil_read++;
	t->gil_on += gi.enabled;
	/* under PYTHON_GIL=0 such modules leave the GIL off, yet they run
	 * without the GIL they did not declare safe to lose */
	t->gil_needed += gi.nmodules > 0;
	if (!t->mods && gi.nmodules) {
		t->mods = calloc(gi.nmodules, sizeof(*t->mods));
		for (i = 0; t->mods && i < gi.nmodules; i++) {
			t->mods[i] = strdup(gi.modules[i]);
			if (t->mods[i])
				t->nmods++;
		}
	}
}

/* A hung test's threads, as `gilscope dump` shows them. */
static void take_dump(struct test *t, pid_t pid, struct process *proc, struct sampler *s)
{
	const struct sample *smp = NULL;
	struct dump_info info;
	struct jw w;
	int ret;

	s->torn_rereads = DUMP_TORN_REREADS;
	ret = sampler_take(s, &smp);
	if (!smp || ret == GS_EEXITED)
		return;
	cmd_dump_info(&info, pid, proc, s, smp);
	strbuf_reset(&t->dump_text);
	strbuf_reset(&t->dump_json);
	report_dump_text(&t->dump_text, &info, smp);
	jw_init(&w, &t->dump_json, 0);
	report_dump_jw(&w, NULL, &info, smp);
	if (jw_close(&w))
		strbuf_reset(&t->dump_json);
}

/* Attach to a slot's process, once; 0 or -1 (not yet a Python we can
 * read: it is still starting, or gone). */
static int slot_attach(struct slot *sl)
{
	if (sl->live)
		return 0;
	if (process_attach(sl->t.pid, &sl->proc))
		return -1;
	if (sampler_init(&sl->s, &sl->proc)) {
		process_release(&sl->proc);
		return -1;
	}
	sl->live = 1;
	return 0;
}

static void slot_detach(struct slot *sl)
{
	if (sl->live) {
		sampler_release(&sl->s);
		process_release(&sl->proc);
	}
	sl->live = 0;
	sl->watch = 0;
}

/* Read a test process from outside: its GIL at its end, or (dump) its
 * threads when it hangs. One that cannot be read is told in the report by
 * what is missing, not by a message here. */
static void look_at(struct test *t, struct slot *sl, int dump)
{
	if (slot_attach(sl))
		return;
	if (dump)
		take_dump(t, sl->t.pid, &sl->proc, &sl->s);
	else
		read_gil(t, &sl->s);
}

/* The GIL came back in a run (under PYTHON_GIL=0: an extension module
 * that would have turned it on was loaded), seen at now_ns. */
static void add_flip(struct ft_session *ss, struct slot *sl, const struct py_gil_info *gi,
		     uint64_t now_ns)
{
	struct test *t = &ss->tests[sl->test];
	struct ft_flip *f;

	size_t max = (size_t)ss->o->repeat * (ss->o->stress ? 2 : 1);

	if (!t->flips)
		t->flips = calloc(max, sizeof(*t->flips));
	if (!t->flips || t->nflips >= max)
		return;
	f = &t->flips[t->nflips++];
	f->seconds = (double)(now_ns - sl->start_ns) / 1e9;
	f->not_before = sl->off_ns ? (double)(sl->off_ns - sl->start_ns) / 1e9 : 0;
	f->enabled = gi->enabled;
	f->module = gi->nmodules ? strdup(gi->modules[0]) : NULL;
}

/* A run without the GIL while it runs: did the GIL come back (or, under
 * PYTHON_GIL=0, would it have: a module that needs it is in sys.modules)?
 * The first module in sys.modules that needs it is the one that did it.
 * Read until the answer is yes, at gaps growing to WATCH_MAX_MS; once
 * more (force) when the run says it finished, before it is let go. */
static void watch_slot(struct ft_session *ss, struct slot *sl, uint64_t now, int force)
{
	struct py_gil_info gi;
	struct py_gil gil;
	uint64_t t0, t1;

	if (!sl->watch || (!force && now < sl->next_ns))
		return;
	sl->gap_ms = sl->gap_ms ? sl->gap_ms * 2 : WATCH_FIRST_MS;
	if (sl->gap_ms > WATCH_MAX_MS)
		sl->gap_ms = WATCH_MAX_MS;
	t0 = gs_now_ns();
	if (slot_attach(sl) || py_model_gil_report(&sl->s.model, NULL, &gil, &gi) ||
	    gi.count < 0) {
		t1 = gs_now_ns();
		goto out;
	}
	t1 = gs_now_ns();
	if (gi.nmodules || (gi.enabled && gi.count == PY_GIL_COUNT_PERMANENT)) {
		add_flip(ss, sl, &gi, t1);
		sl->watch = 0;
	} else {
		sl->off_ns = t0;
	}
out:
	ss->watch_reads++;
	ss->watch_ns += t1 - t0;
	sl->next_ns = t1 + (uint64_t)sl->gap_ms * 1000000u;
}

/* --- the pool --------------------------------------------------------- */

static int start_run(struct ft_session *ss, struct slot *sl, size_t test, int mode, int stress)
{
	const char *python = mode == FT_GIL && ss->o->baseline ? ss->o->baseline : ss->o->python;
	char threads[48];
	struct tproc_env env;
	char err[256];
	int ret;

	snprintf(threads, sizeof(threads), "--parallel-threads=%d", ss->o->stress);

	if (ss->kind == FT_KIND_UNITTEST)
		make_argv(ss, python, "unittestrun", (char *[]){ ss->ut_top }, 1,
			  ss->tests[test].id);
	else if (ss->o->forked)
		/* the whole suite, each test forked by pytest-forked; what
		 * each did, in the log (the wrapper's plugin) */
		make_argv(ss, python, "pytestlog",
			  (char *[]){ sl->log, (char *)"-p", (char *)"no:cacheprovider",
				      (char *)"-q", (char *)"--forked" }, 5, NULL);
	else
		make_argv(ss, python, ss->kind == FT_KIND_PYTEST ? "pytest" :
			  ss->kind == FT_KIND_MODULE ? "module" : "script",
			  (char *[]){ (char *)"-p", (char *)"no:cacheprovider", (char *)"-q",
				      threads },
			  ss->kind != FT_KIND_PYTEST ? 0 : stress ? 4 : 3, ss->tests[test].id);
	env_for(&env, mode, ss->o->baseline);
	sl->start_ns = gs_now_ns();
	ret = tproc_start(ss->argv, &env, sl->out, &sl->t, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "gilscope: cannot run %s: %s\n", ss->argv[0], err);
		return GS_EXIT_NOPROC;
	}
	sl->busy = 1;
	sl->test = test;
	sl->mode = mode;
	sl->stress = stress;
	sl->start_ms = gs_now_ms();
	/* only a run without the GIL is read; the others are let go at once */
	sl->read = mode != FT_NOGIL || ss->kind == FT_KIND_OTHER || ss->o->forked;
	sl->live = 0;
	/* --forked: the tests run in children pytest forks, not read */
	sl->watch = mode == FT_NOGIL && !ss->o->forked;
	sl->next_ns = sl->start_ns;
	sl->off_ns = 0;
	sl->gap_ms = 0;
	return 0;
}

static void end_run(struct ft_session *ss, struct slot *sl, enum ft_outcome o)
{
	struct test *t = &ss->tests[sl->test];
	double secs = (double)(gs_now_ms() - sl->start_ms) / 1000.0;

	ft_count(&t->runs[sl->mode], o);
	if (sl->stress)
		ft_count(&t->stress[sl->mode], o);
	if (secs > t->max_seconds)
		t->max_seconds = secs;
	if (o == FT_RUN_CRASH && !t->signal) {
		t->signal = WTERMSIG(sl->t.wstatus);
		t->signal_mode = sl->mode;
	}
	if (o == FT_RUN_HANG && t->runs[FT_NOGIL].hang + t->runs[FT_GIL].hang == 1)
		t->hang_mode = sl->mode;
	/* keep the output of the first run that did not pass (one without
	 * the GIL rather than one with it) */
	if (o != FT_RUN_PASS && (!t->tail || (t->tail_mode == FT_GIL && sl->mode == FT_NOGIL))) {
		free(t->tail);
		t->tail = o == FT_RUN_CRASH ? crash_text(sl->out) : read_tail(sl->out, TAIL_BYTES);
		t->tail_mode = sl->mode;
	}
	slot_detach(sl);
	sl->busy = 0;
}

/* The test of a --forked run with this id: the next one in collection
 * order, else searched for. */
static struct test *test_by_id(struct ft_session *ss, const char *id, size_t *hint)
{
	size_t i;

	for (i = 0; i < ss->ntests; i++) {
		size_t k = (*hint + i) % ss->ntests;

		if (!strcmp(ss->tests[k].id, id)) {
			*hint = k + 1;
			return &ss->tests[k];
		}
	}
	return NULL;
}

/* A --forked run ended (hung: killed at its time limit): count each test
 * it finished, from its log; the one it started and did not finish hung,
 * or crashed with pytest itself (its signal). */
static void end_suite_run(struct ft_session *ss, struct slot *sl, int hung)
{
	size_t len, hint = 0;
	char *buf = read_file(sl->log, OUT_MAX, &len), *p, *nl;
	struct test *open_t = NULL;
	int st = sl->t.wstatus;

	for (p = buf; p && *p; p = nl ? nl + 1 : p + strlen(p)) {
		json_t *msg;
		struct test *t;
		double sig = 0;
		enum ft_outcome o;

		nl = strchr(p, '\n');
		msg = jmsg_parse(p, nl ? (size_t)(nl - p) : strlen(p));
		if (!msg)
			continue;
		if (jmsg_str(msg, "start")) {
			open_t = test_by_id(ss, jmsg_str(msg, "start"), &hint);
		} else if (jmsg_str(msg, "id") && (t = test_by_id(ss, jmsg_str(msg, "id"), &hint))) {
			(void)jmsg_num(msg, "signal", &sig);
			o = sig > 0 && sig < 65 ? FT_RUN_CRASH : jmsg_true(msg, "failed") ?
			    FT_RUN_FAIL : FT_RUN_PASS;
			ft_count(&t->runs[sl->mode], o);
			if (o == FT_RUN_CRASH && !t->signal) {
				t->signal = (int)sig;
				t->signal_mode = sl->mode;
			}
			if (o != FT_RUN_PASS && (!t->tail || (t->tail_mode == FT_GIL &&
							      sl->mode == FT_NOGIL))) {
				free(t->tail);
				t->tail = read_tail(sl->out, TAIL_BYTES);
				t->tail_mode = sl->mode;
			}
			if (t == open_t)
				open_t = NULL;
		}
		json_decref(msg);
	}
	free(buf);
	if (open_t && (hung || WIFSIGNALED(st))) {
		ft_count(&open_t->runs[sl->mode], hung ? FT_RUN_HANG : FT_RUN_CRASH);
		if (hung && open_t->runs[FT_NOGIL].hang + open_t->runs[FT_GIL].hang == 1)
			open_t->hang_mode = sl->mode;
		if (!hung && !open_t->signal) {
			open_t->signal = WTERMSIG(st);
			open_t->signal_mode = sl->mode;
		}
	}
	slot_detach(sl);
	sl->busy = 0;
}

/* A --forked run: the whole suite, timed out after the per-test timeout
 * times the tests. */
static void poll_suite(struct ft_session *ss, struct slot *sl, long timeout_ms)
{
	if (tproc_done(&sl->t) == 1)
		tproc_go(&sl->t);
	if (tproc_reap(&sl->t)) {
		end_suite_run(ss, sl, 0);
		return;
	}
	if ((double)(gs_now_ms() - sl->start_ms) > (double)timeout_ms * (double)ss->ntests) {
		tproc_kill(&sl->t);
		end_suite_run(ss, sl, 1);
	}
}

static void poll_slot(struct ft_session *ss, struct slot *sl, long timeout_ms)
{
	struct test *t = &ss->tests[sl->test];
	int d;

	if (ss->o->forked) {
		poll_suite(ss, sl, timeout_ms);
		return;
	}
	d = tproc_done(&sl->t);
	if (d == 1) {
		/* a module imported since the last read is seen now */
		watch_slot(ss, sl, gs_now_ns(), 1);
		if (!sl->read)
			look_at(t, sl, 0);
		sl->read = 1;
		tproc_go(&sl->t);
	}
	if (tproc_reap(&sl->t)) {
		int st = sl->t.wstatus;

		end_run(ss, sl, WIFSIGNALED(st) ? FT_RUN_CRASH :
			WIFEXITED(st) && WEXITSTATUS(st) == 0 ? FT_RUN_PASS : FT_RUN_FAIL);
		return;
	}
	if ((long)(gs_now_ms() - sl->start_ms) > timeout_ms) {
		/* one dump per test: of a run without the GIL when there is one */
		if (!t->dump_text.len || (t->dump_mode == FT_GIL && sl->mode == FT_NOGIL)) {
			look_at(t, sl, 1);
			t->dump_mode = sl->mode;
		}
		tproc_kill(&sl->t);
		end_run(ss, sl, FT_RUN_HANG);
	}
}

static void progress(struct ft_session *ss, long done, long total, uint64_t t0, int final)
{
	static uint64_t last;
	uint64_t now = gs_now_ms();
	int tty = isatty(STDERR_FILENO);
	double el = (double)(now - t0) / 1000.0;
	size_t i, bad = 0;

	if (!ss->o->progress)
		return;
	if (!final && now - last < (tty ? PROGRESS_TTY_MS : PROGRESS_MS))
		return;
	last = now;
	for (i = 0; i < ss->ntests; i++)
		if (ss->tests[i].runs[0].fail + ss->tests[i].runs[0].crash +
		    ss->tests[i].runs[0].hang + ss->tests[i].runs[1].fail +
		    ss->tests[i].runs[1].crash + ss->tests[i].runs[1].hang)
			bad++;
	fprintf(stderr, "%sgilscope: ft-check: %ld/%ld runs, %zu test%s not passing so far, "
		"%.0f s", tty ? "\r" : "", done, total, bad, bad == 1 ? "" : "s", el);
	if (done && done < total)
		fprintf(stderr, ", about %.0f s left", el * (double)(total - done) / (double)done);
	fprintf(stderr, "%s", tty && !final ? "   " : "\n");
}

static int run_pool(struct ft_session *ss, long total, long *done)
{
	const struct ft_opts *o = ss->o;
	long next = 0, timeout_ms = (long)(o->timeout_s * 1000.0);
	uint64_t t0 = gs_now_ms();
	struct pollfd pfd[MAX_JOBS];
	uint64_t now;
	int i, running, ret, wait_ms;

	for (;;) {
		running = 0;
		for (i = 0; i < ss->nslots; i++) {
			struct slot *sl = &ss->slots[i];

			if (!sl->busy && next < total && !stop_signal) {
				/* run r of test k in mode m (under stress or
				 * not): the repeats of one test spread over the
				 * session */
				long sub = FT_MODES * (ss->o->stress ? 2 : 1);
				long per = (long)(ss->o->forked ? 1 : ss->ntests) * sub;
				size_t k = (size_t)((next % per) / sub);
				int m = (int)(next % sub % FT_MODES);

				ret = start_run(ss, sl, k, m, (int)(next % sub / FT_MODES));
				if (ret)
					return ret;
				next++;
			}
			running += sl->busy;
		}
		if (!running || stop_signal)
			break;
		wait_ms = TICK_MS;
		now = gs_now_ns();
		for (i = 0; i < ss->nslots; i++) {
			struct slot *sl = &ss->slots[i];

			pfd[i].fd = sl->busy ? sl->t.done_r : -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
			if (sl->busy && sl->watch) {
				uint64_t due = sl->next_ns > now ? sl->next_ns - now : 0;
				int ms = (int)((due + 999999u) / 1000000u);

				if (ms < wait_ms)
					wait_ms = ms;
			}
		}
		(void)poll(pfd, (nfds_t)ss->nslots, wait_ms);
		now = gs_now_ns();
		for (i = 0; i < ss->nslots; i++) {
			if (!ss->slots[i].busy)
				continue;
			watch_slot(ss, &ss->slots[i], now, 0);
			poll_slot(ss, &ss->slots[i], timeout_ms);
			if (!ss->slots[i].busy)
				(*done)++;
		}
		progress(ss, *done, total, t0, 0);
	}
	progress(ss, *done, total, t0, 1);
	return 0;
}

static void add_module(struct ft_session *ss, const char *name, const char *test)
{
	size_t i;

	for (i = 0; i < ss->nmods; i++) {
		if (!strcmp(ss->mods[i].name, name)) {
			ss->mods[i].tests++;
			return;
		}
	}
	ss->mods[ss->nmods].name = name;
	ss->mods[ss->nmods].first_test = test;
	ss->mods[ss->nmods].tests = 1;
	ss->mods[ss->nmods].file = NULL;
	/* its file, by the module's last name ("pkg.sub._ext" -> "_ext") */
	{
		const char *dot = strrchr(name, '.');
		const char *last = dot ? dot + 1 : name;

		for (i = 0; i < ss->nexts && !ss->mods[ss->nmods].file; i++)
			if (!strcmp(ss->exts[i].info.module, last))
				ss->mods[ss->nmods].file = &ss->exts[i];
	}
	ss->nmods++;
}

/* A test's class. Under stress, one that passed alone in every run and
 * failed only under stress without the GIL is classed by its stress runs
 * (*under_stress set); any other by all its runs. */
static enum ft_class classify(const struct test *t, const struct ft_opts *o, int *under_stress)
{
	struct ft_counts alone[FT_MODES];
	enum ft_class c;
	int m;

	*under_stress = 0;
	if (!o->stress)
		return ft_classify(&t->runs[FT_NOGIL], &t->runs[FT_GIL], o->repeat);
	for (m = 0; m < FT_MODES; m++) {
		alone[m].pass = t->runs[m].pass - t->stress[m].pass;
		alone[m].fail = t->runs[m].fail - t->stress[m].fail;
		alone[m].crash = t->runs[m].crash - t->stress[m].crash;
		alone[m].hang = t->runs[m].hang - t->stress[m].hang;
	}
	c = ft_classify(&t->stress[FT_NOGIL], &t->stress[FT_GIL], o->repeat);
	if (ft_classify(&alone[FT_NOGIL], &alone[FT_GIL], o->repeat) == FTC_PASS &&
	    (c == FTC_FAILS_WITHOUT_GIL || c == FTC_FLAKY_WITHOUT_GIL)) {
		*under_stress = 1;
		return c;
	}
	return ft_classify(&t->runs[FT_NOGIL], &t->runs[FT_GIL], 2 * o->repeat);
}

/* The verdict's reasons: each module that needed the GIL in a run, and
 * each module a test that did not pass could not find ("No module named")
 * while the scan found it installed for a default build only. */
static void find_reasons(struct ft_session *ss)
{
	size_t i, k, cap = ss->nmods + ss->ntests;

	ss->reasons = calloc(cap ? cap : 1, sizeof(*ss->reasons));
	if (!ss->reasons)
		return;
	for (i = 0; i < ss->nmods; i++) {
		struct ft_reason *r = &ss->reasons[ss->nreasons++];

		r->module = ss->mods[i].name;
		r->why = FT_WHY_NO_PY_MOD_GIL;
		r->test = ss->mods[i].first_test;
		r->file = ss->mods[i].file;
	}
	for (i = 0; i < ss->ntests; i++) {
		const struct ft_test_result *t = &ss->res[i];
		char name[EXT_NAME_MAX];
		const struct ft_ext *x = NULL;

		if (t->cls == FTC_PASS || !ft_missing_module(t->tail, name, sizeof(name)))
			continue;
		for (k = 0; k < ss->nexts && !x; k++)
			if (!strcmp(ss->exts[k].info.module, name) && ss->exts[k].info.ft_abi == 0)
				x = &ss->exts[k];
		for (k = 0; x && k < ss->nreasons; k++)
			if (ss->reasons[k].file == x)
				x = NULL;	/* named already */
		if (!x)
			continue;
		ss->reasons[ss->nreasons].module = x->info.module;
		ss->reasons[ss->nreasons].why = FT_WHY_DEFAULT_ABI;
		ss->reasons[ss->nreasons].test = t->id;
		ss->reasons[ss->nreasons].file = x;
		ss->nreasons++;
	}
}

int ft_run(struct ft_session *ss, struct ft_report *rep)
{
	const struct ft_opts *o = ss->o;
	struct ft_tally tally = { 0, 0, 0, 0 };
	uint64_t t0 = gs_now_ms();
	long total, done = 0;
	size_t i, nmods = 0;
	int ret, k;

	ss->nslots = o->jobs > 0 ? o->jobs : cpu_count();
	if (ss->nslots > MAX_JOBS)
		ss->nslots = MAX_JOBS;
	ss->slots = calloc((size_t)ss->nslots, sizeof(*ss->slots));
	ss->res = calloc(ss->ntests, sizeof(*ss->res));
	if (!ss->slots || !ss->res) {
		fprintf(stderr, "gilscope: out of memory\n");
		return GS_EXIT_ERROR;
	}
	for (k = 0; k < ss->nslots; k++) {
		char name[32];

		snprintf(name, sizeof(name), "run-%d.out", k);
		if (path_in(ss, name, ss->slots[k].out, sizeof(ss->slots[k].out)))
			return GS_EXIT_ERROR;
		snprintf(name, sizeof(name), "run-%d.log", k);
		if (path_in(ss, name, ss->slots[k].log, sizeof(ss->slots[k].log)))
			return GS_EXIT_ERROR;
	}
	/* --forked: a run is the whole suite */
	total = (long)(o->forked ? 1 : ss->ntests) * o->repeat * FT_MODES * (o->stress ? 2 : 1);
	ret = run_pool(ss, total, &done);
	/* interrupted (or a run could not start): end what still runs */
	for (k = 0; k < ss->nslots; k++) {
		if (ss->slots[k].busy) {
			tproc_kill(&ss->slots[k].t);
			slot_detach(&ss->slots[k]);
			ss->slots[k].busy = 0;
		}
	}
	if (ret)
		return ret;

	memset(rep, 0, sizeof(*rep));
	rep->interrupted = stop_signal != 0;
	rep->runs_done = done;
	rep->runs_total = total;
	rep->seconds = (double)(gs_now_ms() - t0) / 1000.0;
	rep->per_test = ss->kind == FT_KIND_PYTEST || ss->kind == FT_KIND_UNITTEST;
	rep->stress = o->stress;
	rep->isolation = !rep->per_test ? "none" : o->forked ? "pytest-forked" : "gilscope";
	rep->command = ss->cmdline;
	rep->baseline = o->baseline;
	rep->repeat = o->repeat;
	rep->jobs = ss->nslots;
	rep->timeout_s = o->timeout_s;
	for (i = 0; i < ss->ntests; i++)
		nmods += ss->tests[i].nmods;
	ss->mods = calloc(nmods ? nmods : 1, sizeof(*ss->mods));
	if (!ss->mods)
		return GS_EXIT_ERROR;
	for (i = 0; i < ss->ntests; i++) {
		struct test *t = &ss->tests[i];
		struct ft_test_result *r = &ss->res[i];
		size_t m;

		r->id = t->id;
		memcpy(r->runs, t->runs, sizeof(r->runs));
		r->cls = classify(t, o, &r->under_stress);
		r->stress = o->stress ? t->stress : NULL;
		r->signal_name = t->signal ? launch_signal_name(t->signal) : NULL;
		r->signal_mode = t->signal_mode;
		r->hang_mode = t->dump_text.len ? t->dump_mode : t->hang_mode;
		r->max_seconds = t->max_seconds;
		r->tail = t->tail;
		r->tail_mode = t->tail_mode;
		r->dump_text = t->dump_text.len ? strbuf_str(&t->dump_text) : NULL;
		r->dump_json = t->dump_json.len ? &t->dump_json : NULL;
		r->gil_read_runs = t->gil_read;
		r->gil_on_runs = t->gil_on;
		r->gil_needed_runs = t->gil_needed;
		r->gil_modules = t->mods;
		r->ngil_modules = t->nmods;
		r->gil_flips = t->flips;
		r->ngil_flips = t->nflips;
		rep->by_class[r->cls]++;
		switch (ft_trouble(&t->runs[FT_NOGIL], &t->runs[FT_GIL])) {
		case FT_TROUBLE_NOGIL: tally.nogil_only++; break;
		case FT_TROUBLE_EVERYWHERE: tally.everywhere++; break;
		case FT_TROUBLE_NONE: break;
		}
		tally.not_run += r->cls == FTC_NOT_RUN;
		rep->gil_read_runs += t->gil_read;
		rep->gil_on_runs += t->gil_on;
		rep->gil_needed_runs += t->gil_needed;
		/* the first module of each test is the one that turned it on
		 * there; the others would have */
		for (m = 0; m < t->nmods; m++)
			add_module(ss, t->mods[m], t->id);
	}
	tally.tests = ss->ntests;
	rep->verdict = ft_decide(1, &tally, rep->gil_on_runs + rep->gil_needed_runs > 0,
				 rep->interrupted);
	rep->tests = ss->res;
	rep->ntests = ss->ntests;
	rep->ext_dirs = (const char *const *)ss->dirs;
	rep->next_dirs = ss->ndirs;
	rep->exts = ss->exts;
	rep->nexts = ss->nexts;
	rep->exts_truncated = ss->exts_truncated;
	rep->modules = ss->mods;
	rep->nmodules = ss->nmods;
	find_reasons(ss);
	rep->reasons = ss->reasons;
	rep->nreasons = ss->nreasons;
	rep->watch_reads = ss->watch_reads;
	rep->watch_seconds = (double)ss->watch_ns / 1e9;
	return 0;
}

void ft_session_free(struct ft_session *ss)
{
	char path[PATH_MAX];
	size_t i, k;
	int s;

	if (!ss)
		return;
	for (s = 0; ss->slots && s < ss->nslots; s++) {
		if (ss->slots[s].busy)
			tproc_kill(&ss->slots[s].t);
		slot_detach(&ss->slots[s]);
		unlink(ss->slots[s].out);
		unlink(ss->slots[s].log);
	}
	if (ss->dir[0]) {
		if (!path_in(ss, "probe.out", path, sizeof(path)))
			unlink(path);
		if (!path_in(ss, "collect.out", path, sizeof(path)))
			unlink(path);
		if (!path_in(ss, "collect.list", path, sizeof(path)))
			unlink(path);
		rmdir(ss->dir);
	}
	sigaction(SIGINT, &ss->old_int, NULL);
	sigaction(SIGTERM, &ss->old_term, NULL);
	for (i = 0; i < ss->ntests; i++) {
		struct test *t = &ss->tests[i];

		free(t->id);
		free(t->tail);
		strbuf_release(&t->dump_text);
		strbuf_release(&t->dump_json);
		for (k = 0; k < t->nmods; k++)
			free(t->mods[k]);
		free(t->mods);
		for (k = 0; k < t->nflips; k++)
			free((char *)t->flips[k].module);
		free(t->flips);
	}
	for (i = 0; i < ss->ndirs; i++)
		free(ss->dirs[i]);
	for (i = 0; i < ss->nexts; i++)
		free((char *)ss->exts[i].path);
	free(ss->exts);
	free(ss->by_path);
	free(ss->reasons);
	for (i = 0; i < ss->nstrs; i++)
		free(ss->strs[i]);
	free(ss->strs);
	free(ss->ut_top);
	free(ss->tests);
	free(ss->slots);
	free(ss->res);
	free(ss->mods);
	free(ss);
}
