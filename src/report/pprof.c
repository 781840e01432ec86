/* pprof.c - the stack tree as a gzip'd pprof profile.proto; see pprof.h. */
#include "pprof.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "rtree.h"
#include "../util/error.h"
#include "../util/pb.h"

/* profile.proto's field numbers (github.com/google/pprof, proto/profile.proto) */
enum {
	PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6, PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS = 10, PROFILE_PERIOD_TYPE = 11, PROFILE_PERIOD = 12,
	VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT = 2,
	SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3,
	LABEL_KEY = 1, LABEL_STR = 2, LABEL_NUM = 3,
	LOCATION_ID = 1, LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1, LINE_LINE = 2,
	FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_FILENAME = 4,
};

/* The string table starts with these; the agg's strings follow as used. */
enum {
	S_EMPTY, S_SAMPLES, S_COUNT, S_WALL, S_NANOSECONDS, S_THREAD, S_THREAD_NAME,
	S_STATE, S_HOLDS_GIL, S_PID, S_PROCESS, S_TRUE, S_FALSE, S_TORN,
	S_STATE_NAME,			/* ST_COUNT names */
	S_STATE_LABEL = S_STATE_NAME + ST_COUNT,	/* ST_COUNT leaf labels */
	S_FIXED = S_STATE_LABEL + ST_COUNT,
};

struct ctx {
	const struct agg *a;
	const struct rtree *rt;
	const struct agg_thread *t;
	struct strbuf *out;
	uint32_t *strmap;	/* agg string id -> string table index (0: not yet) */
	uint32_t *strused;	/* string table index - S_FIXED -> agg string id */
	uint32_t nstrused;
	uint32_t *fn;		/* agg frame id -> its Function's id */
	uint8_t *loc_used;	/* agg frame id -> a sample refers to it */
	uint8_t state_loc_used[ST_COUNT];	/* the [state] location of an empty stack */
	uint64_t *locs;		/* a sample's location ids, leaf first */
	uint64_t period;	/* ns; 0: unknown */
	uint32_t proc_name;	/* string index of the thread's process's command */
	int32_t pid;
};

static uint32_t str_index(struct ctx *c, uint32_t id)
{
	const char *s = agg_str(c->a, id);

	if (id >= c->a->nstr || !s[0])
		return S_EMPTY;
	if (!c->strmap[id]) {
		c->strused[c->nstrused] = id;
		c->strmap[id] = S_FIXED + c->nstrused++;
	}
	return c->strmap[id];
}

static int is_state(const struct agg *a, uint32_t node)
{
	uint32_t f = a->nodes[node].frame;

	return f < a->nframes && a->frames[f].kind == AGG_FRAME_STATE;
}

static void label_str(struct strbuf *sb, uint32_t key, uint32_t val)
{
	size_t m = pb_open(sb, SAMPLE_LABEL);

	pb_uint(sb, LABEL_KEY, key);
	pb_uint(sb, LABEL_STR, val);
	pb_close(sb, m);
}

static void label_num(struct strbuf *sb, uint32_t key, int64_t val)
{
	size_t m = pb_open(sb, SAMPLE_LABEL);

	pb_uint(sb, LABEL_KEY, key);
	pb_int(sb, LABEL_NUM, val);
	pb_close(sb, m);
}

/* The id of the location (and function) standing for a state, for a stack
 * with no frame: past the ids of the agg's frames. */
static uint64_t state_loc_id(const struct ctx *c, enum gs_state st)
{
	return (uint64_t)c->a->nframes + 1 + (uint64_t)st;
}

static void add_sample(struct ctx *c, size_t nlocs, enum gs_state st, uint64_t count)
{
	struct strbuf *sb = c->out;
	int gil = (st == ST_PYTHON || st == ST_NATIVE_GIL) && c->t->gil_held > 0;
	size_t m = pb_open(sb, PROFILE_SAMPLE), p, i;

	p = pb_open(sb, SAMPLE_LOCATION_ID);
	for (i = 0; i < nlocs; i++)
		pb_varint(sb, c->locs[i]);
	if (!nlocs) {
		c->state_loc_used[st] = 1;
		pb_varint(sb, state_loc_id(c, st));
	}
	pb_close(sb, p);
	p = pb_open(sb, SAMPLE_VALUE);
	pb_varint(sb, count);
	pb_varint(sb, count * c->period);
	pb_close(sb, p);
	label_num(sb, S_THREAD, c->t->tid);
	label_str(sb, S_THREAD_NAME, str_index(c, c->t->name));
	label_str(sb, S_STATE, S_STATE_NAME + st);
	label_str(sb, S_HOLDS_GIL, gil ? S_TRUE : S_FALSE);
	if (c->pid) {
		label_num(sb, S_PID, c->pid);
		label_str(sb, S_PROCESS, c->proc_name);
	}
	pb_close(sb, m);
}

/* A node's samples by state that end exactly there: its state totals less
 * its children's. One pprof sample per state with any. */
static int visit(void *vctx, const uint32_t *path, size_t depth, uint64_t x)
{
	struct ctx *c = vctx;
	const struct agg *a = c->a;
	const struct rtree *rt = c->rt;
	uint32_t node = path[depth - 1], k, f;
	uint64_t self[ST_COUNT];
	size_t i, nlocs = 0, top = depth;
	int s, any = 0;

	(void)x;
	if (!a->nodes[node].self)
		return 0;
	for (s = 0; s < ST_COUNT; s++) {
		uint64_t below = 0;

		for (k = rt->first[node]; k < rt->first[node + 1]; k++)
			below += a->nodes[rt->kids[k]].state_total[s];
		self[s] = a->nodes[node].state_total[s] > below ?
			  a->nodes[node].state_total[s] - below : 0;
		any |= self[s] > 0;
	}
	if (!any)
		return 0;
	/* the [state] leaf is a label (path[0] is the thread's root) */
	if (is_state(a, node))
		top = depth - 1;
	for (i = top; i-- > 1;) {
		f = a->nodes[path[i]].frame;
		if (f >= a->nframes)
			continue;
		c->loc_used[f] |= 1;
		c->locs[nlocs++] = (uint64_t)f + 1;
	}
	for (s = 0; s < ST_COUNT; s++)
		if (self[s])
			add_sample(c, nlocs, (enum gs_state)s, self[s]);
	return c->out->failed ? GS_ENOMEM : 0;
}

/* Functions: frames grouped by (name, file); each group's id is its first
 * frame's id + 1. */
static int by_name_file(const void *pa, const void *pb, void *va)
{
	const struct agg *a = va;
	const struct agg_frame *x = &a->frames[*(const uint32_t *)pa];
	const struct agg_frame *y = &a->frames[*(const uint32_t *)pb];

	if (x->func != y->func)
		return x->func < y->func ? -1 : 1;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->kind != y->kind ? (x->kind < y->kind ? -1 : 1) :
	       x->state != y->state ? (x->state < y->state ? -1 : 1) : 0;
}

static int group_functions(struct ctx *c)
{
	const struct agg *a = c->a;
	uint32_t *order, i, first = 0;

	order = malloc(((size_t)a->nframes + 1) * sizeof(*order));
	if (!order)
		return GS_ENOMEM;
	for (i = 0; i < a->nframes; i++)
		order[i] = i;
	qsort_r(order, a->nframes, sizeof(*order), by_name_file, (void *)a);
	for (i = 0; i < a->nframes; i++) {
		if (!i || by_name_file(&order[first], &order[i], (void *)a))
			first = i;
		c->fn[order[i]] = order[first] + 1;
	}
	free(order);
	return 0;
}

/* A frame's function name; the torn-stack marker by its label. */
static uint32_t frame_name(struct ctx *c, const struct agg_frame *f)
{
	uint32_t s = str_index(c, f->func);

	if (s == S_EMPTY && f->kind == AGG_FRAME_TORN)
		return S_TORN;
	return s;
}

static void add_functions_and_locations(struct ctx *c)
{
	const struct agg *a = c->a;
	struct strbuf *sb = c->out;
	uint8_t *fn_done = c->loc_used;	/* bit 1: the location, bit 2: the function */
	uint32_t i, g, name;
	size_t m, l;

	for (i = 0; i < a->nframes; i++) {
		const struct agg_frame *f = &a->frames[i];

		if (!(fn_done[i] & 1))
			continue;
		m = pb_open(sb, PROFILE_LOCATION);
		pb_uint(sb, LOCATION_ID, (uint64_t)i + 1);
		l = pb_open(sb, LOCATION_LINE);
		pb_uint(sb, LINE_FUNCTION_ID, c->fn[i]);
		if (f->kind == AGG_FRAME_PYTHON && f->line > 0)
			pb_int(sb, LINE_LINE, f->line);
		pb_close(sb, l);
		pb_close(sb, m);
		g = c->fn[i] - 1;
		if (fn_done[g] & 2)
			continue;
		fn_done[g] |= 2;
		name = frame_name(c, &a->frames[g]);
		m = pb_open(sb, PROFILE_FUNCTION);
		pb_uint(sb, FUNCTION_ID, c->fn[i]);
		pb_uint(sb, FUNCTION_NAME, name);
		pb_uint(sb, FUNCTION_FILENAME, str_index(c, a->frames[g].file));
		pb_close(sb, m);
	}
}

/* A location and function per state that stood for an empty stack. */
static void add_state_locations(struct ctx *c)
{
	struct strbuf *sb = c->out;
	size_t m, l;
	int s;

	for (s = 0; s < ST_COUNT; s++) {
		uint64_t id = state_loc_id(c, (enum gs_state)s);

		if (!c->state_loc_used[s])
			continue;
		m = pb_open(sb, PROFILE_LOCATION);
		pb_uint(sb, LOCATION_ID, id);
		l = pb_open(sb, LOCATION_LINE);
		pb_uint(sb, LINE_FUNCTION_ID, id);
		pb_close(sb, l);
		pb_close(sb, m);
		m = pb_open(sb, PROFILE_FUNCTION);
		pb_uint(sb, FUNCTION_ID, id);
		pb_uint(sb, FUNCTION_NAME, S_STATE_LABEL + (uint32_t)s);
		pb_close(sb, m);
	}
}

static void add_value_type(struct strbuf *sb, uint32_t field, uint32_t type, uint32_t unit)
{
	size_t m = pb_open(sb, field);

	pb_uint(sb, VALUE_TYPE_TYPE, type);
	pb_uint(sb, VALUE_TYPE_UNIT, unit);
	pb_close(sb, m);
}

static void add_strings(struct ctx *c)
{
	static const char *const fixed[S_STATE_NAME] = {
		[S_EMPTY] = "", [S_SAMPLES] = "samples", [S_COUNT] = "count",
		[S_WALL] = "wall", [S_NANOSECONDS] = "nanoseconds", [S_THREAD] = "thread",
		[S_THREAD_NAME] = "thread_name", [S_STATE] = "state",
		[S_HOLDS_GIL] = "holds_gil", [S_PID] = "pid", [S_PROCESS] = "process",
		[S_TRUE] = "true", [S_FALSE] = "false", [S_TORN] = AGG_TORN_LABEL,
	};
	uint32_t i;
	int s;

	for (i = 0; i < S_STATE_NAME; i++)
		pb_str(c->out, PROFILE_STRING_TABLE, fixed[i]);
	for (s = 0; s < ST_COUNT; s++)
		pb_str(c->out, PROFILE_STRING_TABLE, gs_state_name((enum gs_state)s));
	for (s = 0; s < ST_COUNT; s++)
		pb_str(c->out, PROFILE_STRING_TABLE, gs_state_info((enum gs_state)s)->label);
	for (i = 0; i < c->nstrused; i++)
		pb_str(c->out, PROFILE_STRING_TABLE, agg_str(c->a, c->strused[i]));
}

/* gzip (RFC 1952) of in, appended to out. */
static int gzip_append(struct strbuf *out, const struct strbuf *in)
{
	z_stream z;
	uLong bound;
	unsigned char *buf = NULL;
	int ret;

	if (in->len > UINT_MAX / 2)
		return GS_ERANGE;
	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip header and trailer, not zlib's */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return GS_ENOMEM;
	/* deflateBound() covers the whole output, header included: one call */
	bound = deflateBound(&z, (uLong)in->len);
	ret = GS_ERANGE;
	if (bound > UINT_MAX)
		goto out;
	ret = GS_ENOMEM;
	buf = malloc(bound);
	if (!buf)
		goto out;
	z.next_in = (Bytef *)in->buf;
	z.avail_in = (uInt)in->len;
	z.next_out = buf;
	z.avail_out = (uInt)bound;
	ret = GS_EGENERIC;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		goto out;
	strbuf_add(out, buf, z.total_out);
	ret = out->failed ? GS_ENOMEM : 0;
out:
	deflateEnd(&z);
	free(buf);
	return ret;
}

int report_pprof(struct strbuf *sb, const struct agg *a, const struct pprof_options *opt)
{
	static const struct pprof_options defaults;
	struct strbuf pb = STRBUF_INIT;
	struct ctx c = { .a = a, .out = &pb };
	struct rtree rt;
	double interval = agg_sample_interval(a);
	size_t i, maxdepth;
	int ret;

	if (!opt)
		opt = &defaults;
	ret = rtree_init(&rt, a);
	if (ret)
		return ret;
	c.rt = &rt;
	/* a stack is no deeper than the tree has nodes */
	maxdepth = (size_t)a->nnodes + 1;
	ret = GS_ENOMEM;
	c.strmap = calloc((size_t)a->nstr + 1, sizeof(*c.strmap));
	c.strused = malloc(((size_t)a->nstr + 1) * sizeof(*c.strused));
	c.fn = malloc(((size_t)a->nframes + 1) * sizeof(*c.fn));
	c.loc_used = calloc((size_t)a->nframes + 1, 1);
	c.locs = malloc(maxdepth * sizeof(*c.locs));
	if (!c.strmap || !c.strused || !c.fn || !c.loc_used || !c.locs)
		goto out;
	ret = group_functions(&c);
	if (ret)
		goto out;
	c.period = interval > 0 ? (uint64_t)(interval * 1e9 + 0.5) : 0;

	add_value_type(&pb, PROFILE_SAMPLE_TYPE, S_SAMPLES, S_COUNT);
	add_value_type(&pb, PROFILE_SAMPLE_TYPE, S_WALL, S_NANOSECONDS);
	for (i = 0; i < a->nthreads; i++) {
		const struct agg_thread *t = &a->threads[i];

		if (t->root >= a->nnodes || !a->nodes[t->root].total)
			continue;
		c.t = t;
		c.pid = 0;
		if (t->proc != AGG_NONE && t->proc < a->nnodes &&
		    a->nodes[t->proc].frame < a->nframes) {
			const struct agg_frame *pf = &a->frames[a->nodes[t->proc].frame];

			c.pid = pf->line;
			c.proc_name = str_index(&c, pf->func);
		}
		ret = rtree_walk(&rt, t->root, visit, &c);
		if (ret)
			goto out;
	}
	add_functions_and_locations(&c);
	add_state_locations(&c);
	add_strings(&c);
	if (opt->time_nanos)
		pb_int(&pb, PROFILE_TIME_NANOS, (int64_t)opt->time_nanos);
	if (a->t_last > a->t_first)
		pb_int(&pb, PROFILE_DURATION_NANOS, (int64_t)(a->t_last - a->t_first + c.period));
	add_value_type(&pb, PROFILE_PERIOD_TYPE, S_WALL, S_NANOSECONDS);
	pb_int(&pb, PROFILE_PERIOD, (int64_t)c.period);
	ret = GS_ENOMEM;
	if (pb.failed)
		goto out;
	if (opt->raw) {
		strbuf_add(sb, pb.buf, pb.len);
		ret = sb->failed ? GS_ENOMEM : 0;
	} else {
		ret = gzip_append(sb, &pb);
	}
out:
	free(c.strmap);
	free(c.strused);
	free(c.fn);
	free(c.loc_used);
	free(c.locs);
	strbuf_release(&pb);
	rtree_release(&rt);
	return ret;
}
