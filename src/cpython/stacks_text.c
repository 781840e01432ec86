/*
 * stacks_text.c - every thread's stack as canonical text
 * (py_model_format_stacks): what `gilscope snapshot` writes beside a
 * snapshot and what a replay of it must reproduce. Above the walks
 * (threads.c, frames.c), which know nothing of it.
 */
#include "model.h"

#include <stdlib.h>

#include "model_internal.h"
#include "../util/error.h"
#include "../util/strbuf.h"

int py_model_format_stacks(struct py_model *m, struct strbuf *sb,
			   const int32_t *tids, size_t ntids)
{
	struct py_stack_end end;
	struct py_thread *th;
	struct py_frame *fr;
	size_t n = 0, i, j, nf;
	int ret, trunc, sret;

	th = calloc(PY_MAX_THREADS, sizeof(*th));
	fr = calloc(PY_MAX_DEPTH, sizeof(*fr));
	if (!th || !fr) {
		ret = GS_ENOMEM;
		goto out;
	}
	ret = py_model_threads(m, th, PY_MAX_THREADS, &n, tids, ntids);
	for (i = 0; i < n; i++) {
		strbuf_addf(sb, "thread %zu tid %d\n", i, (int)th[i].tid);
		sret = stack_of_tstate(m, th[i].tstate, fr, PY_MAX_DEPTH, &nf, &trunc, &end);
		for (j = 0; j < nf; j++)
			strbuf_addf(sb, "  %s %s:%d\n", fr[j].code->qualname,
				    fr[j].code->filename, (int)fr[j].line);
		if (sret || trunc)
			strbuf_addf(sb, "  <incomplete: %s>\n", trunc ? "truncated" : gs_strerror(sret));
		else if (end.torn)
			strbuf_addf(sb, "  <incomplete: torn: %s>\n", py_torn_reason(end.torn));
	}
out:
	free(th);
	free(fr);
	return ret;
}
