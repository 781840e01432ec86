/* speedscope.c - speedscope's JSON file format; see speedscope.h. */
#include "speedscope.h"

#include <inttypes.h>
#include <stdlib.h>

#include "rtree.h"
#include "../util/jw.h"
#include "../util/error.h"

#define SPEEDSCOPE_SCHEMA "https://www.speedscope.app/file-format-schema.json"

struct ctx {
	const struct agg *a;
	const struct rtree *rt;
	const struct speedscope_options *opt;
	uint32_t *index;	/* agg frame id -> speedscope frame index, or AGG_NONE */
	uint32_t nused;
	uint32_t *used;		/* speedscope frame index -> agg frame id */
	struct strbuf samples, weights;
	struct jw sw, ww;	/* the thread's samples and weights, written apart */
	uint64_t count;		/* samples in this profile */
	double interval;	/* seconds per sample; 0: weights are counts */
};

static int is_state(const struct agg *a, uint32_t node)
{
	uint32_t f = a->nodes[node].frame;

	return f < a->nframes && a->frames[f].kind == AGG_FRAME_STATE;
}

static uint32_t frame_index(struct ctx *c, uint32_t node)
{
	uint32_t f = c->a->nodes[node].frame;

	if (f >= c->a->nframes)
		return 0;	/* cannot happen in a tree agg built; stay in range */
	if (c->index[f] == AGG_NONE) {
		c->index[f] = c->nused;
		c->used[c->nused++] = f;
	}
	return c->index[f];
}

static void add_weight(struct jw *w, const char *key, double interval, uint64_t count)
{
	if (interval > 0)
		jw_sig(w, key, (double)count * interval, 9);
	else
		jw_uint(w, key, count);
}

static int visit(void *vctx, const uint32_t *path, size_t depth, uint64_t x)
{
	struct ctx *c = vctx;
	const struct agg *a = c->a;
	const struct rtree *rt = c->rt;
	uint32_t node = path[depth - 1], k;
	uint64_t count;
	size_t i;

	(void)x;
	/* a state leaf right under the thread root is the whole stack: keep it */
	if (c->opt->no_state_leaves && depth > 2 && is_state(a, node))
		return 1;
	count = a->nodes[node].self;
	if (c->opt->no_state_leaves && depth > 1)
		for (k = rt->first[node]; k < rt->first[node + 1]; k++)
			if (is_state(a, rt->kids[k]))
				count += a->nodes[rt->kids[k]].total;
	if (!count)
		return 0;
	jw_arr(&c->sw, NULL);
	for (i = 1; i < depth; i++)
		jw_uint(&c->sw, NULL, frame_index(c, path[i]));
	jw_end(&c->sw);
	add_weight(&c->ww, NULL, c->interval, count);
	c->count += count;
	return c->samples.failed || c->weights.failed ? GS_ENOMEM : 0;
}

static void add_frame(struct jw *w, const struct agg *a, uint32_t id)
{
	const struct agg_frame *f = &a->frames[id];
	const char *func = agg_str(a, f->func), *file = agg_str(a, f->file);

	jw_obj(w, NULL);
	if (f->kind == AGG_FRAME_STATE && (!func || !func[0]))
		func = gs_state_info((enum gs_state)f->state)->label;
	jw_str(w, "name", func && func[0] ? func : "<unknown>");
	if (f->kind == AGG_FRAME_PYTHON && file && file[0]) {
		jw_str(w, "file", file);
		if (f->line > 0)
			jw_int(w, "line", f->line);
	}
	jw_end(w);
}

int report_speedscope(struct strbuf *sb, const struct agg *a,
		      const struct speedscope_options *opt)
{
	static const struct speedscope_options defaults;
	struct ctx c = { .a = a, .opt = opt ? opt : &defaults,
			 .samples = STRBUF_INIT, .weights = STRBUF_INIT };
	struct strbuf profiles = STRBUF_INIT, label = STRBUF_INIT;
	struct jw pw, w;
	struct rtree rt;
	size_t i, nprof = 0, active = 0;
	uint64_t most = 0;
	int ret;

	ret = rtree_init(&rt, a);
	if (ret)
		return ret;
	c.rt = &rt;
	ret = GS_ENOMEM;
	c.index = malloc(((size_t)a->nframes + 1) * sizeof(*c.index));
	c.used = malloc(((size_t)a->nframes + 1) * sizeof(*c.used));
	if (!c.index || !c.used)
		goto out;
	for (i = 0; i < a->nframes; i++)
		c.index[i] = AGG_NONE;
	c.interval = c.opt->counts ? 0 : agg_sample_interval(a);

	/* The frames come first in the file but are known only once every
	 * thread's samples were walked: the profiles are written apart. */
	jw_init(&pw, &profiles, 1);
	jw_arr(&pw, NULL);
	for (i = 0; i < a->nthreads; i++) {
		const struct agg_thread *t = &a->threads[i];

		if (t->root >= a->nnodes || !a->nodes[t->root].total)
			continue;
		strbuf_reset(&c.samples);
		strbuf_reset(&c.weights);
		jw_init(&c.sw, &c.samples, -1);
		jw_init(&c.ww, &c.weights, -1);
		jw_arr(&c.sw, NULL);
		jw_arr(&c.ww, NULL);
		c.count = 0;
		ret = rtree_walk(&rt, t->root, visit, &c);
		if (ret)
			goto out;
		jw_end(&c.sw);
		jw_end(&c.ww);
		if (jw_close(&c.sw) || jw_close(&c.ww)) {
			ret = GS_ENOMEM;
			goto out;
		}
		if (c.count > most) {
			most = c.count;
			active = nprof;
		}
		nprof++;
		strbuf_reset(&label);
		if (t->proc != AGG_NONE && t->proc < a->nnodes) {
			rtree_process_label(&label, a, t->proc);
			strbuf_addstr(&label, " / ");
		}
		rtree_thread_label(&label, a, t);
		jw_obj(&pw, NULL);
		jw_str(&pw, "type", "sampled");
		jw_str(&pw, "name", strbuf_str(&label));
		jw_str(&pw, "unit", c.interval > 0 ? "seconds" : "none");
		jw_int(&pw, "startValue", 0);
		add_weight(&pw, "endValue", c.interval, c.count);
		jw_raw(&pw, "samples", &c.samples);
		jw_raw(&pw, "weights", &c.weights);
		jw_end(&pw);
	}
	jw_end(&pw);
	ret = GS_ENOMEM;
	if (jw_close(&pw) || label.failed)
		goto out;

	jw_init(&w, sb, 1);
	jw_obj(&w, NULL);
	jw_str(&w, "$schema", SPEEDSCOPE_SCHEMA);
	jw_str(&w, "name", c.opt->name ? c.opt->name : "gilscope");
	jw_str(&w, "exporter", c.opt->exporter ? c.opt->exporter : "gilscope");
	jw_uint(&w, "activeProfileIndex", active);
	jw_obj(&w, "shared");
	jw_arr(&w, "frames");
	for (i = 0; i < c.nused; i++)
		add_frame(&w, a, c.used[i]);
	jw_end(&w);
	jw_end(&w);
	jw_raw(&w, "profiles", &profiles);
	jw_end(&w);
	ret = jw_finish(&w) ? GS_ENOMEM : 0;
out:
	free(c.index);
	free(c.used);
	strbuf_release(&c.samples);
	strbuf_release(&c.weights);
	strbuf_release(&profiles);
	strbuf_release(&label);
	rtree_release(&rt);
	return ret;
}
