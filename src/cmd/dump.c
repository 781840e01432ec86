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
#include "../sample/group.h"
#include "../sample/sampler.h"
#include "../util/error.h"

/* Re-reads of a thread whose stack read torn (see sampler.h). */
#define DUMP_TORN_REREADS 8

static const struct opt_cmd dump_cmd = {
	.name = "dump",
	.synopsis =
	"usage: gilscope dump --pid PID [--subprocesses] [--json]\n"
	"\n"
	"Show every Python thread of process PID at this instant: its state\n"
	"(python, native_gil, native, gil_wait, io, sleep, lock_wait, other),\n"
	"whether it holds the GIL, and its Python stack, innermost frame first.\n"
	"With --subprocesses, the same for every Python process among PID's\n"
	"descendants (PID itself may be a shell or a launcher), process by process.\n",
};

/* dump --subprocesses: every Python process of the tree of `pid`. */
static int dump_tree(pid_t pid, int json)
{
	struct strbuf sb = STRBUF_INIT;
	struct dump_other *others;
	struct group g;
	struct jw w;
	size_t i, nothers = 0, nread = 0;
	int status = 0, ret;

	if (!process_alive(pid))
		return cmd_report_error(GS_ENOPROC, pid, NULL);
	group_init(&g, pid);
	g.torn_rereads = DUMP_TORN_REREADS;
	ret = group_scan(&g);
	others = calloc(g.n ? g.n : 1, sizeof(*others));
	if (ret || !others) {
		fprintf(stderr, "gilscope: could not read the process table: %s\n",
			gs_strerror(ret ? ret : GS_ENOMEM));
		status = GS_EXIT_ERROR;
		goto out;
	}
	if (json) {
		jw_init(&w, &sb, 1);
		jw_obj(&w, NULL);
		jw_int(&w, "pid", pid);
		jw_arr(&w, "processes");
	}
	for (i = 0; i < g.n; i++) {
		struct group_member *m = g.m[i];
		const struct sample *smp = NULL;
		struct dump_info info;

		if (m->sampled) {
			cmd_note_reader(&m->proc);
			ret = sampler_take(&m->s, &smp);
			if (ret == GS_EEXITED || (ret && !smp))
				m->err = ret == GS_ECORRUPT || ret == GS_EFAULT ? ret : GS_EEXITED;
		}
		if (!smp) {
			cmd_tree_other(&others[nothers++], m);
			continue;
		}
		cmd_dump_info(&info, m->pid, &m->proc, &m->s, smp);
		info.ppid = m->pid == pid ? 0 : m->ppid;
		info.command = m->cmdline;
		if (json) {
			report_dump_jw(&w, NULL, &info, smp);
		} else {
			if (nread)
				strbuf_addch(&sb, '\n');
			report_dump_text(&sb, &info, smp);
		}
		nread++;
	}
	if (json) {
		jw_end(&w);
		report_dump_others_jw(&w, "others", others, nothers);
		jw_end(&w);
		jw_finish(&w);
	} else {
		report_dump_others_text(&sb, others, nothers);
	}
	if (!nread) {
		fprintf(stderr, "gilscope: no Python process in the tree of process %d "
			"(it and its %zu descendants; run 'gilscope dump --pid %d' for what "
			"the process itself is)\n", (int)pid, g.n ? g.n - 1 : 0, (int)pid);
		status = GS_EXIT_NOTPY;
		goto out;
	}
	status = cmd_write_report(NULL, &sb);
out:
	free(others);
	strbuf_release(&sb);
	group_release(&g);
	return status;
}

int cmd_dump(int argc, char **argv)
{
	struct strbuf sb = STRBUF_INIT;
	struct process proc;
	struct sampler s;
	const struct sample *smp;
	struct dump_info info;
	pid_t pid = -1;
	int json = 0, tree = 0, status, ret;
	const struct opt opts[] = {
		{ .name = "pid", .letter = 'p', .kind = OPT_PID, .dest = &pid, .arg = "PID",
		  .help = "the process to look at" },
		{ .name = "subprocesses", .letter = 's', .kind = OPT_FLAG, .dest = &tree, .ival = 1,
		  .help = "every Python process among its descendants too" },
		{ .name = "json", .letter = 'j', .kind = OPT_FLAG, .dest = &json, .ival = 1,
		  .help = "one JSON object instead of text" },
	};

	opt_parse(&dump_cmd, opts, OPT_COUNT(opts), argc, argv);
	if (tree)
		return dump_tree(pid, json);

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
	cmd_dump_info(&info, pid, &proc, &s, smp);
	if (json)
		report_dump_json(&sb, &info, smp);
	else
		report_dump_text(&sb, &info, smp);
	status = cmd_write_report(NULL, &sb);
out:
	strbuf_release(&sb);
	sampler_release(&s);
	process_release(&proc);
	return status;
}
