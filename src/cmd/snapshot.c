/*
 * snapshot.c - `gilscope snapshot`: record the target memory one full walk
 * reads (runtime, thread states, frames, code objects, strings) into a
 * snapshot file that the offline reader replays. For tests, fuzzing seed
 * corpora and bug reports: the file holds pieces of the target's memory,
 * so treat it as you would a core dump.
 *
 * Next to FILE it writes FILE.stacks, the canonical text of what the model
 * saw (py_model_format_stacks), which a replay must reproduce.
 */
#include "cmd.h"
#include "opt.h"

#include <stdio.h>
#include <string.h>

#include "../cpython/model.h"
#include "../sample/sampler.h"
#include "../target/procfs.h"
#include "../util/error.h"
#include "../util/strbuf.h"

static const struct opt_cmd snapshot_cmd = {
	.name = "snapshot",
	.synopsis =
	"usage: gilscope snapshot --pid PID -o FILE\n"
	"\n"
	"Record the memory gilscope reads from process PID in one walk of all\n"
	"its threads into FILE (replayable offline), and the stacks it saw into\n"
	"FILE.stacks. The file contains pieces of the process's memory.\n",
};

int cmd_snapshot(int argc, char **argv)
{
	struct strbuf sb = STRBUF_INIT, path = STRBUF_INIT;
	struct process proc;
	struct sampler s;
	struct reader *inner, *rec = NULL;
	char meta[1024];
	const char *out = NULL;
	pid_t pid = -1;
	pid_t tids[PY_MAX_THREADS];
	long ntids;
	int status, ret;
	const struct opt opts[] = {
		{ .name = "pid", .letter = 'p', .kind = OPT_PID, .dest = &pid, .arg = "PID",
		  .help = "the process to read" },
		{ .name = "output", .letter = 'o', .kind = OPT_STRING, .dest = &out, .arg = "FILE",
		  .help = "the snapshot file (FILE.stacks beside it)" },
	};

	opt_parse(&snapshot_cmd, opts, OPT_COUNT(opts), argc, argv);
	if (!out)
		usage_error("snapshot", "where to? give -o FILE");

	ret = process_attach(pid, &proc);
	if (ret)
		return cmd_report_error(ret, pid, NULL);
	cmd_note_reader(&proc);
	inner = proc.reader;
	ret = reader_recorder_new(inner, &rec);
	if (ret) {
		status = cmd_report_error(ret, pid, NULL);
		process_release(&proc);
		return status;
	}
	proc.reader = rec;
	ret = sampler_init(&s, &proc);
	if (ret) {
		status = cmd_report_error(ret, pid, s.found.version);
		goto out_proc;
	}
	/* One whole sample first, so that the recording also holds what the
	 * sampler reads besides the stacks (the GIL, threading names, the C
	 * callables of native frames): replay tests and fuzzers walk it all. */
	{
		const struct sample *smp;

		(void)sampler_take(&s, &smp);
	}
	ntids = procfs_list_tasks(pid, tids, PY_MAX_THREADS);
	ret = py_model_format_stacks(&s.model, &sb, (const int32_t *)tids,
				     ntids > 0 ? (size_t)ntids : 0);
	if (ret && !sb.len) {
		status = cmd_report_error(ret, pid, s.found.version);
		goto out;
	}
	/* the tid offset found while walking, so a replay needs no search */
	{
		struct py_location loc;

		py_model_replay_location(&s.model, &loc);
		py_location_format(&loc, meta, sizeof(meta));
	}
	{
		char real[4096];
		mode_t mode;
		int direct;

		status = cmd_output_target(out, real, sizeof(real), &direct, &mode);
		if (status)
			goto out;
		if (direct) {
			fprintf(stderr, "gilscope: cannot write %s: a snapshot goes to a regular "
				"file (it is replaced only once complete)\n", out);
			status = GS_EXIT_OUTPUT;
			goto out;
		}
		/* written whole to a temporary file, then renamed onto `real` */
		ret = reader_recorder_save(rec, meta, real);
	}
	if (ret) {
		fprintf(stderr, "gilscope: cannot write %s: %s\n", out, gs_strerror(ret));
		status = GS_EXIT_OUTPUT;
		goto out;
	}
	strbuf_addf(&path, "%s.stacks", out);
	status = cmd_write_output(strbuf_str(&path), sb.buf ? sb.buf : "", sb.len);
	if (!status)
		fprintf(stderr, "gilscope: wrote %s (%llu reads) and %s\n", out,
			(unsigned long long)rec->nreads, strbuf_str(&path));
out:
	sampler_release(&s);
out_proc:
	proc.reader = inner;
	reader_free(rec);
	process_release(&proc);
	strbuf_release(&sb);
	strbuf_release(&path);
	return status;
}
