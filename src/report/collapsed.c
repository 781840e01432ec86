/* collapsed.c - flamegraph.pl collapsed stacks; see collapsed.h. */
#include "collapsed.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rtree.h"
#include "../util/error.h"

struct line {
	size_t off, len;	/* in the scratch buffer while building */
	const char *s;		/* then a pointer, for sorting */
	uint64_t count;
};

struct ctx {
	const struct agg *a;
	const struct rtree *rt;
	const struct collapsed_options *opt;
	struct strbuf text, label;
	struct line *lines;
	size_t nlines, cap;
};

static int is_state(const struct agg *a, uint32_t node)
{
	uint32_t f = a->nodes[node].frame;

	return f < a->nframes && a->frames[f].kind == AGG_FRAME_STATE;
}

static int is_thread(const struct agg *a, uint32_t node)
{
	uint32_t f = a->nodes[node].frame;

	return f < a->nframes && a->frames[f].kind == AGG_FRAME_THREAD;
}

/* Appends a label made safe for the format: see collapsed.h. */
static void add_clean(struct strbuf *sb, const char *s)
{
	while (*s) {
		unsigned char c = (unsigned char)*s;
		size_t n;

		if (c == ';') {
			strbuf_addch(sb, '_');
			s++;
		} else if (c < 0x20 || c == 0x7f) {
			strbuf_addch(sb, ' ');
			s++;
		} else if ((n = utf8_seq_len(s))) {
			strbuf_add(sb, s, n);
			s += n;
		} else {
			strbuf_addstr(sb, "\xef\xbf\xbd");
			s++;
		}
	}
}

static int visit(void *vctx, const uint32_t *path, size_t depth, uint64_t x)
{
	struct ctx *c = vctx;
	const struct agg *a = c->a;
	uint32_t node = path[depth - 1], k;
	uint64_t count;
	struct line *ln;
	size_t i, nlabels = 0;

	(void)x;
	if (depth == 1)
		return 0;	/* the "all" root is not part of any stack */
	if (c->opt->no_state_leaves && is_state(a, node))
		return 1;	/* counted with its parent */
	count = a->nodes[node].self;
	if (c->opt->no_state_leaves)
		for (k = c->rt->first[node]; k < c->rt->first[node + 1]; k++)
			if (is_state(a, c->rt->kids[k]))
				count += a->nodes[c->rt->kids[k]].total;
	if (!count)
		return 0;

	if (c->nlines == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		struct line *nl = realloc(c->lines, ncap * sizeof(*nl));

		if (!nl)
			return GS_ENOMEM;
		c->lines = nl;
		c->cap = ncap;
	}
	ln = &c->lines[c->nlines++];
	ln->off = c->text.len;
	ln->count = count;
	for (i = 1; i < depth; i++) {
		if (c->opt->no_threads && is_thread(a, path[i]))
			continue;
		if (nlabels++)
			strbuf_addch(&c->text, ';');
		strbuf_reset(&c->label);
		rtree_label(&c->label, a, path[i]);
		add_clean(&c->text, strbuf_str(&c->label));
	}
	if (!nlabels)
		strbuf_addstr(&c->text, "[no Python frames]");
	ln->len = c->text.len - ln->off;
	return c->text.failed || c->label.failed ? GS_ENOMEM : 0;
}

static int cmp_line(const void *pa, const void *pb)
{
	const struct line *a = pa, *b = pb;
	size_t n = a->len < b->len ? a->len : b->len;
	int r = memcmp(a->s, b->s, n);

	if (r)
		return r;
	return a->len < b->len ? -1 : a->len > b->len;
}

int report_collapsed(struct strbuf *sb, const struct agg *a, const struct collapsed_options *opt)
{
	static const struct collapsed_options defaults;
	struct ctx c = { .a = a, .opt = opt ? opt : &defaults,
			 .text = STRBUF_INIT, .label = STRBUF_INIT };
	struct rtree rt;
	size_t i;
	int ret;

	ret = rtree_init(&rt, a);
	if (ret)
		return ret;
	c.rt = &rt;
	ret = rtree_walk(&rt, 0, visit, &c);
	if (ret)
		goto out;
	for (i = 0; i < c.nlines; i++)
		c.lines[i].s = strbuf_str(&c.text) + c.lines[i].off;
	if (c.nlines)
		qsort(c.lines, c.nlines, sizeof(*c.lines), cmp_line);
	for (i = 0; i < c.nlines; i++) {
		uint64_t count = c.lines[i].count;

		while (i + 1 < c.nlines && !cmp_line(&c.lines[i], &c.lines[i + 1]))
			count += c.lines[++i].count;
		strbuf_add(sb, c.lines[i].s, c.lines[i].len);
		strbuf_addf(sb, " %" PRIu64 "\n", count);
	}
	if (sb->failed)
		ret = GS_ENOMEM;
out:
	free(c.lines);
	strbuf_release(&c.text);
	strbuf_release(&c.label);
	rtree_release(&rt);
	return ret;
}
