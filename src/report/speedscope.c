/* speedscope.c - speedscope's JSON file format; see speedscope.h. */
#include "speedscope.h"

#include <inttypes.h>
#include <stdlib.h>

#include "rtree.h"
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
	size_t nsamples;
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

static void add_weight(struct ctx *c, uint64_t count)
{
	if (c->interval > 0)
		strbuf_addf(&c->weights, "%.9g", (double)count * c->interval);
	else
		strbuf_addf(&c->weights, "%" PRIu64, count);
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
	if (c->nsamples++) {
		strbuf_addstr(&c->samples, ", ");
		strbuf_addstr(&c->weights, ", ");
	}
	strbuf_addch(&c->samples, '[');
	for (i = 1; i < depth; i++)
		strbuf_addf(&c->samples, "%s%" PRIu32, i > 1 ? "," : "", frame_index(c, path[i]));
	strbuf_addch(&c->samples, ']');
	add_weight(c, count);
	c->count += count;
	return c->samples.failed || c->weights.failed ? GS_ENOMEM : 0;
}

/* Seconds between samples: the requested rate, else the measured mean. */
static double sample_interval(const struct agg *a)
{
	if (a->opt.rate_hz > 0)
		return 1.0 / a->opt.rate_hz;
	if (a->samples > 1 && a->t_last > a->t_first)
		return (double)(a->t_last - a->t_first) / 1e9 / (double)(a->samples - 1);
	return 0;
}

static void add_frame(struct strbuf *sb, const struct agg *a, uint32_t id)
{
	const struct agg_frame *f = &a->frames[id];
	const char *func = agg_str(a, f->func), *file = agg_str(a, f->file);

	strbuf_addstr(sb, "{\"name\": ");
	if (f->kind == AGG_FRAME_STATE && (!func || !func[0]))
		func = gs_state_info((enum gs_state)f->state)->label;
	strbuf_add_json_str(sb, func && func[0] ? func : "<unknown>");
	if (f->kind == AGG_FRAME_PYTHON && file && file[0]) {
		strbuf_addstr(sb, ", \"file\": ");
		strbuf_add_json_str(sb, file);
		if (f->line > 0)
			strbuf_addf(sb, ", \"line\": %d", (int)f->line);
	}
	strbuf_addch(sb, '}');
}

int report_speedscope(struct strbuf *sb, const struct agg *a,
		      const struct speedscope_options *opt)
{
	static const struct speedscope_options defaults;
	struct ctx c = { .a = a, .opt = opt ? opt : &defaults,
			 .samples = STRBUF_INIT, .weights = STRBUF_INIT };
	struct strbuf profiles = STRBUF_INIT, label = STRBUF_INIT;
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
	c.interval = c.opt->counts ? 0 : sample_interval(a);

	for (i = 0; i < a->nthreads; i++) {
		const struct agg_thread *t = &a->threads[i];

		if (t->root >= a->nnodes || !a->nodes[t->root].total)
			continue;
		strbuf_reset(&c.samples);
		strbuf_reset(&c.weights);
		c.nsamples = 0;
		c.count = 0;
		ret = rtree_walk(&rt, t->root, visit, &c);
		if (ret)
			goto out;
		if (c.count > most) {
			most = c.count;
			active = nprof;
		}
		strbuf_reset(&label);
		rtree_thread_label(&label, a, t);
		strbuf_addstr(&profiles, nprof++ ? ",\n  " : "\n  ");
		strbuf_addstr(&profiles, "{\"type\": \"sampled\", \"name\": ");
		strbuf_add_json_str(&profiles, strbuf_str(&label));
		strbuf_addf(&profiles, ", \"unit\": \"%s\", \"startValue\": 0, \"endValue\": ",
			    c.interval > 0 ? "seconds" : "none");
		if (c.interval > 0)
			strbuf_addf(&profiles, "%.9g", (double)c.count * c.interval);
		else
			strbuf_addf(&profiles, "%" PRIu64, c.count);
		strbuf_addstr(&profiles, ",\n   \"samples\": [");
		strbuf_addstr(&profiles, strbuf_str(&c.samples));
		strbuf_addstr(&profiles, "],\n   \"weights\": [");
		strbuf_addstr(&profiles, strbuf_str(&c.weights));
		strbuf_addstr(&profiles, "]}");
	}

	strbuf_addstr(sb, "{\"$schema\": \"" SPEEDSCOPE_SCHEMA "\",\n \"name\": ");
	strbuf_add_json_str(sb, c.opt->name ? c.opt->name : "gilscope");
	strbuf_addstr(sb, ",\n \"exporter\": ");
	strbuf_add_json_str(sb, c.opt->exporter ? c.opt->exporter : "gilscope");
	strbuf_addf(sb, ",\n \"activeProfileIndex\": %zu,\n \"shared\": {\"frames\": [", active);
	for (i = 0; i < c.nused; i++) {
		strbuf_addstr(sb, i ? ",\n  " : "\n  ");
		add_frame(sb, a, c.used[i]);
	}
	strbuf_addstr(sb, "]},\n \"profiles\": [");
	strbuf_addstr(sb, strbuf_str(&profiles));
	strbuf_addstr(sb, "]}\n");
	ret = sb->failed || profiles.failed || label.failed ? GS_ENOMEM : 0;
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
