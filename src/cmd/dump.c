/*
 * dump.c - `gilscope dump`: every Python thread of a process, its state,
 * the GIL holder and its stack, at one instant.
 */
#include "cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/dump.h"
#include "../sample/sampler.h"
#include "../util/error.h"

/* Re-reads of a thread whose stack read torn (see sampler.h). */
#define DUMP_TORN_REREADS 8

static const char usage[] =
	"usage: gilscope dump --pid PID [--json]\n"
	"\n"
	"Show every Python thread of process PID at this instant: its state\n"
	"(python, native_gil, native, gil_wait, io, sleep, lock_wait, other),\n"
	"whether it holds the GIL, and its Python stack, innermost frame first.\n"
	"\n"
	"  -p, --pid PID    the process to look at\n"
	"  -j, --json       one JSON object instead of text\n"
	"  -h, --help       this help\n";

int cmd_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct strbuf sb = STRBUF_INIT;
	struct process proc;
	struct sampler s;
	const struct sample *smp;
	struct dump_info info;
	pid_t pid = -1;
	int json = 0, c, status, ret;

	optind = 1;
	opterr = 0;	/* one line of our own instead of getopt's */
	while ((c = getopt_long(argc, argv, "p:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pid = cmd_parse_pid(optarg);
			if (pid < 0)
				usage_error("dump", "--pid wants a process id, not '%s'", optarg);
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			usage_bad_option("dump", argc, argv);
		}
	}
	if (optind < argc)
		usage_error("dump", "unexpected argument '%s'", argv[optind]);
	if (pid < 0)
		usage_error("dump", "which process? give --pid PID");

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
