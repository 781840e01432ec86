/*
 * common.c - what the commands share: error messages with advice, attach,
 * writing output files safely.
 */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../cpython/model.h"
#include "../report/dump.h"
#include "../sample/group.h"
#include "../sample/sampler.h"
#include "../target/access.h"
#include "../target/process.h"
#include "../util/afile.h"
#include "../util/error.h"

static const char *cur_name = "gilscope";
static unsigned cur_flags;

void cmd_begin(const char *name, unsigned flags)
{
	cur_name = name;
	cur_flags = flags;
}

void cmd_check_needs(int have_pid, int have_command, long pid)
{
	if (cur_flags & CMD_MAY_LAUNCH) {
		if (have_pid && have_command)
			usage_error(cur_name, "give either --pid or a command to run, not both");
		if (!have_pid && !have_command)
			usage_error(cur_name, "give --pid PID, or a command: gilscope %s -- python "
				    "app.py", cur_name);
	} else if ((cur_flags & CMD_NEEDS_PID) && !have_pid) {
		usage_error(cur_name, "which process? give --pid PID");
	}
	if ((cur_flags & CMD_NEEDS_TTY) && (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))) {
		fprintf(stderr, "gilscope %s: %s is not a terminal; %s is a live view for one. For "
			"a report use `gilscope diagnose --pid %ld` (add --json for a program), or "
			"`gilscope dump --pid %ld` for one instant\n", cur_name,
			isatty(STDOUT_FILENO) ? "standard input" : "standard output", cur_name,
			pid, pid);
		exit(GS_EXIT_USAGE);
	}
}

void usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gilscope %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see gilscope %s --help)\n", cmd);
	exit(GS_EXIT_USAGE);
}

void usage_bad_option(const char *cmd, int argc, char **argv)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";

	if (!strncmp(arg, "--", 2) || !optopt || optopt == '?')
		usage_error(cmd, "option '%s' is unknown or needs a value", arg);
	if (optopt)
		usage_error(cmd, "option -%c is unknown or needs a value", optopt);
	usage_error(cmd, "option '%s' is unknown or needs a value", arg);
}

pid_t cmd_parse_pid(const char *s)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > 0x3fffffff)
		return -1;
	return (pid_t)v;
}

int cmd_report_error(int err, pid_t pid, const char *version)
{
	struct access_facts facts;
	char hint[768];

	switch (err) {
	case GS_ENOPROC:
		access_facts_read(0, &facts);
		access_noproc_text(&facts, pid, hint, sizeof(hint));
		fprintf(stderr, "gilscope: %s\n", hint);
		break;
	case GS_EPERM:
		access_facts_read(pid, &facts);
		access_perm_text(&facts, pid, hint, sizeof(hint));
		fprintf(stderr, "gilscope: %s\n", hint);
		break;
	case GS_EPROCNS:
		(void)access_check_procfs(&facts);
		access_procfs_text(&facts, hint, sizeof(hint));
		fprintf(stderr, "gilscope: %s\n", hint);
		break;
	case GS_ENOTPY:
		fprintf(stderr, "gilscope: process %d is not a Python process: no mapped "
			"file defines CPython's _PyRuntime (is it a wrapper script or a "
			"launcher? give the pid of the python process itself)\n", (int)pid);
		break;
	case GS_EUNSUPPORTED: {
		char supported[160];

		py_supported_str(supported, sizeof(supported));
		fprintf(stderr, "gilscope: process %d runs Python %s, which gilscope cannot "
			"read: supported are %s\n", (int)pid,
			version && *version ? version : "(unknown version)", supported);
		break;
	}
	case GS_EEXITED:
		fprintf(stderr, "gilscope: process %d exited while gilscope was reading it\n",
			(int)pid);
		break;
	case GS_ECORRUPT:
	case GS_EFAULT: {
		const struct gs_why *w = err == GS_ECORRUPT ? gs_why_last() : NULL;
		char why[256] = "";

		if (w) {
			why[0] = ':';
			why[1] = ' ';
			gs_why_format(w, why + 2, sizeof(why) - 2);
		}
		fprintf(stderr, "gilscope: process %d: the interpreter's memory did not make "
			"sense (%s%s); it may be starting up or shutting down, try again "
			"(GILSCOPE_TRACE=1 shows every check that failed)\n", (int)pid,
			gs_strerror(err), why);
		break;
	}
	default:
		fprintf(stderr, "gilscope: process %d: %s\n", (int)pid, gs_strerror(err));
		break;
	}
	return gs_exit_code(err);
}

void cmd_note_reader(const struct process *proc)
{
	char note[512];
	int e = reader_live_refused(proc->reader);

	if (!e)
		return;
	access_vm_readv_text(e, note, sizeof(note));
	fprintf(stderr, "gilscope: note: %s\n", note);
}

void cmd_dump_info(struct dump_info *info, pid_t pid, const struct process *proc,
		   const struct sampler *s, const struct sample *smp)
{
	memset(info, 0, sizeof(*info));
	info->pid = (int)pid;
	info->version = s->found.version;
	info->free_threaded = s->model.free_threaded;
	info->gil_enabled = smp->gil_enabled;
	info->switch_interval_s = smp->gil.known ? (double)smp->gil.interval_us / 1e6 : -1;
	info->switch_number = smp->gil.switch_number;
	info->executable = proc->exe;
	info->libpython = s->found.libpython;
}

int cmd_attach(pid_t pid, struct process *proc, struct sampler *s)
{
	int ret;

	ret = process_attach(pid, proc);
	if (ret)
		return cmd_report_error(ret, pid, NULL);
	ret = sampler_init(s, proc);
	if (ret) {
		int status;

		if (ret != GS_ENOPROC && !process_alive(pid))
			ret = GS_EEXITED;
		status = cmd_report_error(ret, pid, s->found.version);
		process_release(proc);
		return status;
	}
	cmd_note_reader(proc);
	return 0;
}

int cmd_make_tmpdir(const char *what, char *dir, size_t len)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	n = snprintf(dir, len, "%s/gilscope-%s-XXXXXX", tmp, what);
	if (n < 0 || (size_t)n >= len || !mkdtemp(dir)) {
		fprintf(stderr, "gilscope: cannot create a temporary directory in %s: %s "
			"(point TMPDIR at a writable directory)\n", tmp,
			n < 0 || (size_t)n >= len ? "path too long" : strerror(errno));
		dir[0] = '\0';
		return GS_EXIT_ERROR;
	}
	return 0;
}

/* write(2) all of buf, through EINTR. */
static int write_all_fd(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int cmd_output_target(const char *path, char *real, size_t reallen, int *direct,
		      mode_t *mode)
{
	struct stat st, lst;
	mode_t um = umask(0);

	umask(um);
	*direct = 0;
	*mode = 0666 & ~um;
	if (snprintf(real, reallen, "%s", path) >= (int)reallen) {
		fprintf(stderr, "gilscope: output path too long: %s\n", path);
		return GS_EXIT_OUTPUT;
	}
	if (stat(path, &st) < 0)
		return 0;	/* a new file (or a dangling link, replaced) */
	if (S_ISDIR(st.st_mode)) {
		fprintf(stderr, "gilscope: cannot write %s: it is a directory (give a file "
			"name with -o)\n", path);
		return GS_EXIT_OUTPUT;
	}
	if (!S_ISREG(st.st_mode)) {
		/* a device, FIFO or socket: rename would replace the node itself */
		*direct = 1;
		return 0;
	}
	*mode = st.st_mode & 07777;
	if (!lstat(path, &lst) && S_ISLNK(lst.st_mode)) {
		/* replace the file the link names, not the link (-o /dev/stdout
		 * with stdout redirected to a file lands here) */
		char *r = realpath(path, NULL);

		if (!r || strlen(r) >= reallen) {
			free(r);
			*direct = 1;	/* a deleted file behind /proc/self/fd/N */
			return 0;
		}
		memcpy(real, r, strlen(r) + 1);
		free(r);
	}
	return 0;
}

int cmd_write_output(const char *path, const char *buf, size_t len)
{
	struct gs_afile af;
	char real[GS_AFILE_PATH_MAX];
	mode_t mode;
	int fd, direct, status, e;

	if (!path || !strcmp(path, "-")) {
		if (fwrite(buf, 1, len, stdout) != len || fflush(stdout)) {
			fprintf(stderr, "gilscope: writing to standard output failed: %s\n",
				strerror(errno));
			return GS_EXIT_OUTPUT;
		}
		return 0;
	}
	status = cmd_output_target(path, real, sizeof(real), &direct, &mode);
	if (status)
		return status;
	if (direct) {
		fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 || write_all_fd(fd, buf, len) || close(fd)) {
			e = errno;
			if (fd >= 0)
				close(fd);
			fprintf(stderr, "gilscope: writing %s failed: %s\n", path, strerror(e));
			return GS_EXIT_OUTPUT;
		}
		return 0;
	}
	e = gs_afile_open(&af, real, mode);
	if (e) {
		fprintf(stderr, "gilscope: cannot write %s: %s (choose a writable directory with "
			"-o)\n", path, strerror(e));
		return GS_EXIT_OUTPUT;
	}
	if (fwrite(buf, 1, len, af.f) != len) {
		e = errno;
		gs_afile_abort(&af);
		fprintf(stderr, "gilscope: writing %s failed: %s; nothing was written\n", path,
			strerror(e));
		return GS_EXIT_OUTPUT;
	}
	e = gs_afile_commit(&af);
	if (e) {
		fprintf(stderr, "gilscope: writing %s failed: %s; nothing was written\n", path,
			strerror(e));
		return GS_EXIT_OUTPUT;
	}
	return 0;
}

/* Why a process of a tree was not read, in a few words. */
static const char *not_read(int err)
{
	switch (err) {
	case GS_ENOTPY: return "not Python";
	case GS_EPERM: return "not allowed to read it";
	case GS_EUNSUPPORTED: return "a Python gilscope cannot read";
	case GS_ENOPROC:
	case GS_EEXITED: return "exited";
	default: return gs_strerror(err);
	}
}

void cmd_tree_other(struct dump_other *o, const struct group_member *m)
{
	o->pid = m->pid;
	o->ppid = m->ppid;
	o->command = m->cmdline;
	o->why = not_read(m->err);
}

int cmd_write_report(const char *path, struct strbuf *sb)
{
	if (sb->failed) {
		fprintf(stderr, "gilscope: out of memory while making the report; nothing was "
			"written\n");
		return GS_EXIT_ERROR;
	}
	return cmd_write_output(path, strbuf_str(sb), sb->len);
}
