/*
 * stacks_json.c - every tree node with samples ending at it becomes one
 * entry: {"tid", "thread", "frames": [outermost first], "count", "states"}.
 */
#include "stacks_json.h"

#include <stdlib.h>

static void frame_json(struct strbuf *sb, const struct agg *a, const struct agg_frame *f)
{
	static const char *const kinds[] = { "python", "thread", "state", "native", "torn" };

	strbuf_addstr(sb, "{\"function\": ");
	strbuf_add_json_str(sb, agg_str(a, f->func));
	strbuf_addstr(sb, ", \"file\": ");
	strbuf_add_json_str(sb, agg_str(a, f->file));
	strbuf_addf(sb, ", \"line\": %d, \"kind\": \"%s\"}", (int)f->line,
		    f->kind < 5 ? kinds[f->kind] : "python");
}

void report_stacks_json(struct strbuf *sb, const struct agg *a)
{
	uint32_t *path = malloc(sizeof(*path) * 8192);
	uint32_t i, n, j;
	int first = 1, s;

	strbuf_addch(sb, '[');
	for (i = 1; path && i < a->nnodes; i++) {
		const struct agg_node *node = &a->nodes[i];
		uint32_t p, thread_node = AGG_NONE;

		if (!node->self)
			continue;
		/* walk up to the thread root */
		for (n = 0, p = i; p != 0 && p != AGG_NONE && n < 8192; p = a->nodes[p].parent)
			path[n++] = p;
		if (!n)
			continue;
		thread_node = path[n - 1];
		strbuf_addstr(sb, first ? "\n  " : ",\n  ");
		first = 0;
		strbuf_addf(sb, "{\"tid\": %d, \"thread\": ", (int)a->frames[a->nodes[thread_node].frame].line);
		strbuf_add_json_str(sb, agg_str(a, a->frames[a->nodes[thread_node].frame].func));
		strbuf_addstr(sb, ", \"frames\": [");
		for (j = n - 1; j-- > 0;) {
			frame_json(sb, a, &a->frames[a->nodes[path[j]].frame]);
			if (j)
				strbuf_addstr(sb, ", ");
		}
		strbuf_addf(sb, "], \"count\": %llu, \"states\": {", (unsigned long long)node->self);
		/* a leaf's own samples: its state totals minus its children's */
		for (s = 0; s < ST_COUNT; s++) {
			uint64_t c = node->state_total[s];
			uint32_t ch;

			for (ch = node->child; ch != AGG_NONE; ch = a->nodes[ch].sibling)
				c -= a->nodes[ch].state_total[s];
			strbuf_addf(sb, "%s\"%s\": %llu", s ? ", " : "", gs_state_name((enum gs_state)s),
				    (unsigned long long)c);
		}
		strbuf_addstr(sb, "}}");
	}
	strbuf_addstr(sb, "\n]");
	free(path);
}
