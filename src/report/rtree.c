/* rtree.c - display-order walk over the stack tree, frame labels; see rtree.h. */
#include "rtree.h"

#include <stdlib.h>
#include <string.h>

#include "../util/error.h"

/* What siblings are ordered by, gathered once so qsort needs no context. */
struct sort_key {
	uint32_t node, parent;
	int rank;		/* processes or thread roots, Python frames, state leaves */
	int64_t num;		/* pid for processes, tid for threads, state for state leaves */
	const char *func, *file;
	int32_t line;
};

static int cmp_key(const void *pa, const void *pb)
{
	const struct sort_key *a = pa, *b = pb;
	int c;

	if (a->parent != b->parent)
		return a->parent < b->parent ? -1 : 1;
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	if (a->num != b->num)
		return a->num < b->num ? -1 : 1;
	c = strcmp(a->func, b->func);
	if (c)
		return c;
	c = strcmp(a->file, b->file);
	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	/* same label under one parent should not happen; keep qsort total */
	return a->node < b->node ? -1 : a->node > b->node;
}

const struct agg_thread *rtree_thread_of(const struct agg *a, uint32_t node)
{
	size_t i;

	for (i = 0; i < a->nthreads; i++)
		if (a->threads[i].root == node)
			return &a->threads[i];
	return NULL;
}

/* agg_str() of an id, never NULL. */
static const char *str(const struct agg *a, uint32_t id)
{
	const char *s = agg_str(a, id);

	return s ? s : "";
}

static const struct agg_frame *node_frame(const struct agg *a, uint32_t node)
{
	uint32_t f;

	if (node >= a->nnodes)
		return NULL;
	f = a->nodes[node].frame;
	return f < a->nframes ? &a->frames[f] : NULL;
}

int rtree_init(struct rtree *rt, const struct agg *a)
{
	uint32_t n = a->nnodes, i, nk = 0;
	struct sort_key *keys = NULL;
	int ret = GS_ENOMEM;

	memset(rt, 0, sizeof(*rt));
	rt->a = a;
	rt->first = calloc((size_t)n + 1, sizeof(*rt->first));
	rt->kids = malloc(((size_t)n + 1) * sizeof(*rt->kids));
	keys = malloc(((size_t)n + 1) * sizeof(*keys));
	if (!rt->first || !rt->kids || !keys)
		goto out;
	for (i = 0; i < n; i++) {
		const struct agg_node *nd = &a->nodes[i];
		const struct agg_frame *f = node_frame(a, i);
		const struct agg_thread *t;
		struct sort_key *k;

		/* a node emptied by agg_restate() (its samples moved to a
		 * sibling leaf) is not drawn */
		if (nd->parent >= n || nd->parent == i || !nd->total)
			continue;
		k = &keys[nk++];
		memset(k, 0, sizeof(*k));
		k->node = i;
		k->parent = nd->parent;
		k->func = f ? str(a, f->func) : "";
		k->file = f ? str(a, f->file) : "";
		k->line = f ? f->line : 0;
		if (f && f->kind == AGG_FRAME_PROCESS) {
			k->rank = 0;
			k->num = f->line;
		} else if (f && f->kind == AGG_FRAME_THREAD) {
			k->rank = 0;
			t = rtree_thread_of(a, i);
			k->num = t ? t->tid : 0;
		} else if (f && f->kind == AGG_FRAME_STATE) {
			k->rank = 2;
			k->num = f->state;
		} else if (f && f->kind == AGG_FRAME_TORN) {
			k->rank = 3;	/* beside a thread's whole stacks, last */
		} else {
			k->rank = 1;
		}
	}
	qsort(keys, nk, sizeof(*keys), cmp_key);
	/* first[p] = number of kids of all parents before p */
	for (i = 0; i < nk; i++)
		rt->first[keys[i].parent + 1]++;
	for (i = 0; i < n; i++)
		rt->first[i + 1] += rt->first[i];
	for (i = 0; i < nk; i++)
		rt->kids[i] = keys[i].node;
	ret = 0;
out:
	free(keys);
	if (ret)
		rtree_release(rt);
	return ret;
}

void rtree_release(struct rtree *rt)
{
	free(rt->kids);
	free(rt->first);
	rt->kids = rt->first = NULL;
}

struct level {
	uint32_t node;
	uint32_t next;		/* index in kids of the next child to visit */
	uint64_t x;		/* x of that child */
};

int rtree_walk(const struct rtree *rt, uint32_t start, rtree_fn fn, void *ctx)
{
	const struct agg *a = rt->a;
	struct level *lv = NULL;
	uint32_t *path = NULL;
	size_t depth = 0, cap = 0;
	uint64_t x = 0;
	uint32_t node = start;
	int ret = 0, r;

	if (start >= a->nnodes)
		return 0;
	for (;;) {
		/* visit `node` at `x`, one level below the current top */
		if (depth == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct level *nlv = realloc(lv, ncap * sizeof(*lv));
			uint32_t *npath;

			if (!nlv) {
				ret = GS_ENOMEM;
				goto out;
			}
			lv = nlv;
			npath = realloc(path, ncap * sizeof(*path));
			if (!npath) {
				ret = GS_ENOMEM;
				goto out;
			}
			path = npath;
			cap = ncap;
		}
		path[depth] = node;
		lv[depth].node = node;
		lv[depth].next = rt->first[node];
		lv[depth].x = x;
		depth++;
		r = fn(ctx, path, depth, x);
		if (r < 0) {
			ret = r;
			goto out;
		}
		if (r == 1)
			lv[depth - 1].next = rt->first[node + 1];
		/* find the next node to visit: a child of the deepest open level */
		for (;;) {
			struct level *top;

			if (!depth)
				goto out;
			top = &lv[depth - 1];
			if (top->next < rt->first[top->node + 1]) {
				node = rt->kids[top->next++];
				x = top->x;
				top->x += a->nodes[node].total;
				break;
			}
			depth--;
		}
	}
out:
	free(lv);
	free(path);
	return ret;
}

void rtree_thread_label(struct strbuf *sb, const struct agg *a, const struct agg_thread *t)
{
	const char *name = str(a, t->name);

	if (name[0])
		strbuf_addf(sb, "%s (tid %d)", name, (int)t->tid);
	else
		strbuf_addf(sb, "thread (tid %d)", (int)t->tid);
}

void rtree_process_label(struct strbuf *sb, const struct agg *a, uint32_t node)
{
	const struct agg_frame *f = node_frame(a, node);
	const char *cmd = f ? str(a, f->func) : "";

	strbuf_addf(sb, "pid %d", f ? (int)f->line : 0);
	if (cmd[0])
		strbuf_addf(sb, ": %s", cmd);
}

void rtree_label(struct strbuf *sb, const struct agg *a, uint32_t node)
{
	const struct agg_frame *f = node_frame(a, node);
	const struct agg_thread *t;
	const char *func, *file;

	if (node == 0) {
		strbuf_addstr(sb, "all");
		return;
	}
	if (!f) {
		strbuf_addstr(sb, "[unknown]");
		return;
	}
	func = str(a, f->func);
	file = str(a, f->file);
	switch (f->kind) {
	case AGG_FRAME_THREAD:
		t = rtree_thread_of(a, node);
		if (t)
			rtree_thread_label(sb, a, t);
		else
			strbuf_addstr(sb, func);
		break;
	case AGG_FRAME_PROCESS:
		rtree_process_label(sb, a, node);
		break;
	case AGG_FRAME_STATE:
		strbuf_addstr(sb, func[0] ? func : gs_state_info((enum gs_state)f->state)->label);
		break;
	default:
		strbuf_addstr(sb, func[0] ? func : "<unknown>");
		if (file[0]) {
			strbuf_addf(sb, " (%s", file);
			if (f->line > 0)
				strbuf_addf(sb, ":%d", (int)f->line);
			strbuf_addch(sb, ')');
		}
		break;
	}
}
