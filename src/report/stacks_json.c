/*
 * stacks_json.c - every tree node with samples ending at it becomes one
 * entry: {"tid", "thread", "frames": [outermost first], "count", "states"},
 * with "pid" and "process" (its command line) first for a thread fed with
 * its process (record --subprocesses).
 */
#include "stacks_json.h"

#include <stdlib.h>

static void frame_json(struct jw *w, const struct agg *a, const struct agg_frame *f)
{
	static const char *const kinds[] = { "python", "thread", "state", "native", "torn",
					     "process" };

	jw_obj(w, NULL);
	jw_str(w, "function", agg_str(a, f->func));
	jw_str(w, "file", agg_str(a, f->file));
	jw_int(w, "line", f->line);
	jw_str(w, "kind", f->kind < 6 ? kinds[f->kind] : "python");
	jw_end(w);
}

void report_stacks_jw(struct jw *w, const char *key, const struct agg *a)
{
	uint32_t *path = malloc(sizeof(*path) * 8192);
	uint32_t i, n, j;
	int s;

	if (!path)
		w->sb->failed = 1;
	jw_arr(w, key);
	for (i = 1; path && i < a->nnodes; i++) {
		const struct agg_node *node = &a->nodes[i];
		const struct agg_frame *thread, *proc = NULL;
		uint32_t p;

		if (!node->self)
			continue;
		/* walk up to the thread root */
		for (n = 0, p = i; p != 0 && p != AGG_NONE && n < 8192; p = a->nodes[p].parent)
			path[n++] = p;
		if (!n)
			continue;
		thread = &a->frames[a->nodes[path[n - 1]].frame];
		if (thread->kind == AGG_FRAME_PROCESS) {
			/* root -> process -> thread -> frames */
			proc = thread;
			if (n < 2)
				continue;	/* a process node has no samples of its own */
			thread = &a->frames[a->nodes[path[--n - 1]].frame];
		}
		jw_obj(w, NULL);
		if (proc) {
			jw_int(w, "pid", proc->line);
			jw_str(w, "process", agg_str(a, proc->func));
		}
		jw_int(w, "tid", thread->line);
		jw_str(w, "thread", agg_str(a, thread->func));
		jw_arr(w, "frames");
		for (j = n - 1; j-- > 0;)
			frame_json(w, a, &a->frames[a->nodes[path[j]].frame]);
		jw_end(w);
		jw_uint(w, "count", node->self);
		/* a leaf's own samples: its state totals minus its children's */
		jw_obj(w, "states");
		for (s = 0; s < ST_COUNT; s++) {
			uint64_t c = node->state_total[s];
			uint32_t ch;

			for (ch = node->child; ch != AGG_NONE; ch = a->nodes[ch].sibling)
				c -= a->nodes[ch].state_total[s];
			jw_uint(w, gs_state_name((enum gs_state)s), c);
		}
		jw_end(w);
		jw_end(w);
	}
	jw_end(w);
	free(path);
}

void report_stacks_json(struct strbuf *sb, const struct agg *a)
{
	struct jw w;

	jw_init(&w, sb, 1);
	report_stacks_jw(&w, NULL, a);
	jw_finish(&w);
}
