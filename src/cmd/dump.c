/*
 * dump.c - `gilscope dump`: every Python thread of a process, its state,
 * the GIL holder and its stack, at one instant.
 */
#include "cmd.h"
#include "opt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/dump.h"
#include "../sample/sampler.h"
#include "../util/error.h"

/* Re-reads of a thread whose stack read torn (see sampler.h). */
#define DUMP_TORN_REREADS 8

static const struct opt_cmd dump_cmd = {
	.name = "dump",
	.synopsis =
	"usage: gilscope dump --pid PID [--json]\n"
	"\n"
	"Show every Python thread of process PID at this instant: its state\n"
	"(python, native_gil, native, gil_wait, io, sleep, lock_wait, other),\n"
	"whether it holds the GIL, and its Python stack, innermost frame first.\n",
};

int cmd_dump(int argc, char **argv)
{
	struct strbuf sb = STRBUF_INIT;
	struct process proc;
	struct sampler s;
	const struct sample *smp;
	struct dump_info info;
	pid_t pid = -1;
	int json = 0, status, ret;
	const struct opt opts[] = {
		{ .name = "pid", .letter = 'p', .kind = OPT_PID, .dest = &pid, .arg = "PID",
		  .help = "the process to look at" },
		{ .name = "json", .letter = 'j', .kind = OPT_FLAG, .dest = &json, .ival = 1,
		  .help = "one JSON object instead of text" },
	};

	opt_parse(&dump_cmd, opts, OPT_COUNT(opts), argc, argv);

	status = cmd_attach(pid, &proc, &s);
	if (status)
		return status;
	/* one sample: a stack caught mid-change may be read again more
	 * often than at a sampling rate */
	s.torn_rereads = DUMP_TORN_REREADS;
	ret = sampler_take(&s, &smp);
	if (ret == GS_EEXITED || (ret && !smp)) {
		status = cmd_report_error(ret, pid, s.found.version);
		goto out;
	}
	memset(&info, 0, sizeof(info));
	info.pid = (int)pid;
	info.version = s.found.version;
	info.free_threaded = s.model.free_threaded;
	info.gil_enabled = smp->gil_enabled;
	info.switch_interval_s = smp->gil.known ? (double)smp->gil.interval_us / 1e6 : -1;
	info.switch_number = smp->gil.switch_number;
	info.executable = proc.exe;
	info.libpython = s.found.libpython;
	if (json)
		report_dump_json(&sb, &info, smp);
	else
		report_dump_text(&sb, &info, smp);
	if (sb.failed) {
		fprintf(stderr, "gilscope: out of memory\n");
		status = GS_EXIT_ERROR;
		goto out;
	}
	status = cmd_write_output(NULL, sb.buf, sb.len);
out:
	strbuf_release(&sb);
	sampler_release(&s);
	process_release(&proc);
	return status;
}
