/*
 * feed.c - the bridge from a struct sample (pointers into the sampler's
 * buffers and code cache, valid for one sample) to the aggregates, which
 * copy what they keep. The frames handed over are translated in the
 * aggregator's own scratch (a->feed_frames), so that several aggregators
 * can be fed at once.
 */
#include "feed.h"

#include <stdlib.h>

#include "../util/error.h"

int agg_add_sample(struct agg *a, const struct sample *smp)
{
	return agg_add_sample_of(a, smp, 0, NULL);
}

int agg_add_sample_of(struct agg *a, const struct sample *smp, int32_t pid, const char *process)
{
	struct agg_frame_in *frames;
	size_t i, j;
	int ret = 0;

	if (!a->feed_frames)
		a->feed_frames = calloc(PY_MAX_DEPTH, sizeof(*a->feed_frames));
	if (!a->feed_frames)
		return GS_ENOMEM;
	frames = a->feed_frames;
	agg_begin_sample(a, smp->t_ns, smp->gil.known, smp->gil_enabled, smp->gil.switch_number);
	for (i = 0; i < smp->nthreads; i++) {
		const struct thread_sample *t = &smp->threads[i];
		struct agg_thread_in in;
		size_t n = t->nframes < PY_MAX_DEPTH ? t->nframes : PY_MAX_DEPTH;

		for (j = 0; j < n; j++) {
			const struct py_frame *f = &t->frames[j];

			frames[j].func = f->code ? f->code->qualname : "<unknown>";
			frames[j].file = f->code ? f->code->filename : "";
			frames[j].line = f->line;
		}
		in.tid = t->tid;
		in.ns_tid = t->ns_tid;
		in.name = t->name;
		in.state = t->state;
		in.holds_gil = t->holds_gil;
		in.frames = frames;
		in.nframes = n;
		in.callee = t->callee;
		in.stack_key = t->stack_key;
		in.torn = t->torn != PY_WHOLE;
		in.pid = pid;
		in.process = process;
		if (t->restate_n)
			(void)agg_restate(a, pid, t->tid, t->restate_n, t->restate_from_ns,
					  t->restate_from, t->state, t->callee);
		ret = agg_add_thread(a, &in);
		if (ret)
			break;
	}
	agg_end_sample(a);
	return ret;
}
