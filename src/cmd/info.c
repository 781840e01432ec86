/*
 * info.c - `gilscope info`: what the source document checks by hand
 * (sys.version, sys.flags.gil_enabled, PYTHON_GIL), read from outside: the
 * version and build, whether the GIL is on right now and why, the switch
 * interval, threads, paths and the runtime's address.
 *
 * --python PY starts PY itself, idle on a pipe, looks at it and ends it:
 * "what would this interpreter (with these imports) do about the GIL?".
 */
#include "cmd.h"
#include "opt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cpython/gilinfo.h"
#include "../report/info.h"
#include "../sample/sampler.h"
#include "../target/environ.h"
#include "../target/procfs.h"
#include "../target/spawn.h"
#include "../util/error.h"

#define MAX_IMPORTS 64
#define READY_TIMEOUT_MS 30000
#define FINISH_GRACE_MS 5000
#define ENV_VALUE_MAX 64

static const struct opt_cmd info_cmd = {
	.name = "info",
	.synopsis =
	"usage: gilscope info (--pid PID | --python PY [--import MODULE]...) [--json]\n"
	"\n"
	"What a Python process is and what its GIL is doing: version and build\n"
	"(free-threaded or not), whether the GIL is enabled right now (what\n"
	"sys._is_gil_enabled() would say) and what turned it on or off\n"
	"(the build, PYTHON_GIL, -X gil, or an extension module that needs it),\n"
	"the switch interval, threads, executable, libpython and runtime address.\n",
};

/* The helper's program: imports come from its argv, never from this text. */
static const char helper_code[] =
	"import importlib, os, sys\n"
	"for name in sys.argv[1:]:\n"
	"    importlib.import_module(name)\n"
	"os.write(3, b'r')\n"
	"os.close(3)\n"
	"sys.stdin.read()\n";

/* PYTHON_GIL of the target, made printable. */
static void env_value(const char *v, size_t len, char *out, size_t outlen)
{
	size_t i, n = len < outlen - 1 ? len : outlen - 1;

	for (i = 0; i < n; i++)
		out[i] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
	out[n] = '\0';
}

static int inspect(pid_t pid, int launched, int json)
{
	struct strbuf sb = STRBUF_INIT;
	struct py_gil_info gi;
	struct info_data d;
	struct process proc;
	struct sampler s;
	struct py_gil gil;
	const struct sample *smp = NULL;
	char env_buf[ENV_VALUE_MAX];
	char *env = NULL;
	size_t envlen = 0;
	pid_t *tids = NULL;
	int status, ret;
	long n;

	status = cmd_attach(pid, &proc, &s);
	if (status)
		return status;
	memset(&d, 0, sizeof(d));
	d.pid = (int)pid;
	d.launched = launched;
	d.executable = proc.exe;
	d.libpython = s.found.libpython;
	d.runtime_addr = s.found.loc.runtime_addr;
	d.version = s.model.version[0] ? s.model.version : s.found.version;
	d.threads = d.os_threads = -1;
	d.switch_interval_s = -1;

	ret = sampler_take(&s, &smp);
	if (ret == GS_EEXITED || (ret && !smp)) {
		status = cmd_report_error(ret, pid, s.found.version);
		goto out;
	}
	if (!smp->walk_err)
		d.threads = (long)smp->nthreads;
	ret = py_model_gil_report(&s.model, &smp->gil, &gil, &gi);
	if (ret) {
		status = cmd_report_error(ret, pid, s.found.version);
		goto out;
	}
	if (gil.known)
		d.switch_interval_s = (double)gil.interval_us / 1e6;
	d.gil = &gi;

	tids = malloc(sizeof(*tids) * PY_MAX_THREADS * 4);
	if (tids) {
		n = procfs_list_tasks(pid, tids, PY_MAX_THREADS * 4);
		if (n >= 0)
			d.os_threads = n;
	}
	ret = environ_read(pid, &env, &envlen);
	if (!ret || ret == GS_ERANGE) {
		const char *v;
		size_t vlen;

		d.env_read = 1;
		if (environ_get(env, envlen, "PYTHON_GIL", &v, &vlen)) {
			env_value(v, vlen, env_buf, sizeof(env_buf));
			d.env_python_gil = env_buf;
		}
	}
	d.cause = py_gil_cause(&gi, d.env_read ? d.env_python_gil : NULL);

	if (json)
		report_info_json(&sb, &d);
	else
		report_info_text(&sb, &d);
	status = cmd_write_report(NULL, &sb);
out:
	free(env);
	free(tids);
	strbuf_release(&sb);
	sampler_release(&s);
	process_release(&proc);
	return status;
}

static int launch_and_inspect(const char *python, char **imports, size_t nimports, int json)
{
	char *argv[MAX_IMPORTS + 4];
	char err[256];
	struct spawned sp;
	size_t i;
	int ret, status, child;

	argv[0] = (char *)python;
	argv[1] = (char *)"-c";
	argv[2] = (char *)helper_code;
	for (i = 0; i < nimports; i++)
		argv[3 + i] = imports[i];
	argv[3 + nimports] = NULL;

	ret = spawn_start(argv, &sp, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "gilscope: cannot run %s: %s\n", python, err);
		return GS_EXIT_NOPROC;
	}
	ret = spawn_wait_ready(&sp, READY_TIMEOUT_MS);
	if (ret == GS_EEXITED) {
		fprintf(stderr, "gilscope: %s exited (status %d) before it was ready%s\n", python,
			sp.status, nimports ? " (did an --import fail? its error is above)" : "");
		spawn_finish(&sp, 0);
		return GS_EXIT_EXITED;
	}
	if (ret) {
		fprintf(stderr, "gilscope: %s did not get ready within %d s; ending it\n", python,
			READY_TIMEOUT_MS / 1000);
		spawn_finish(&sp, 0);
		return GS_EXIT_ERROR;
	}
	status = inspect(sp.pid, 1, json);
	child = spawn_finish(&sp, FINISH_GRACE_MS);
	if (child && !status)
		fprintf(stderr, "gilscope: note: %s ended with status %d\n", python, child);
	return status;
}

struct imports {
	char *v[MAX_IMPORTS];
	size_t n;
};

static void add_import(void *ctx, const char *name)
{
	struct imports *im = ctx;

	if (im->n == MAX_IMPORTS)
		usage_error("info", "at most %d --import options", MAX_IMPORTS);
	if (!*name || name[0] == '-')
		usage_error("info", "--import wants a module name, not '%s'", name);
	im->v[im->n++] = (char *)name;
}

int cmd_info(int argc, char **argv)
{
	struct imports im = { { NULL }, 0 };
	const char *python = NULL;
	pid_t pid = -1;
	int json = 0;
	const struct opt opts[] = {
		{ .name = "pid", .letter = 'p', .kind = OPT_PID, .dest = &pid, .arg = "PID",
		  .help = "look at a running process" },
		{ .name = "python", .kind = OPT_STRING, .dest = &python, .arg = "PY",
		  .help = "start interpreter PY (idle), look at it, end it" },
		{ .name = "import", .kind = OPT_CALL, .call = add_import, .ctx = &im, .arg = "MODULE",
		  .help = "with --python: import MODULE first (repeatable), to\n"
			  "see whether it turns the GIL back on" },
		{ .name = "json", .letter = 'j', .kind = OPT_FLAG, .dest = &json, .ival = 1,
		  .help = "one JSON object instead of text" },
	};

	opt_parse(&info_cmd, opts, OPT_COUNT(opts), argc, argv);
	if ((pid > 0) == !!python)
		usage_error("info", "give one of --pid PID or --python PY");
	if (im.n && !python)
		usage_error("info", "--import goes with --python");
	if (python)
		return launch_and_inspect(python, im.v, im.n, json);
	return inspect(pid, 0, json);
}
