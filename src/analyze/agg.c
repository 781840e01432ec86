/*
 * agg.c - folding samples into aggregates; see agg.h.
 *
 * Three interning tables (strings, frames, tree edges) use open addressing
 * with power-of-two capacities kept at most half full, so adding a sample
 * of a known stack costs a few hash probes per frame and no allocation.
 */
#include "agg.h"

#include <stdlib.h>
#include <string.h>

#include "../util/error.h"

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#define HASH_SEED 0xcbf29ce484222325ull

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

/* Grow an array of `size`-byte items to hold at least n+1. */
static int grow(void **arr, uint32_t *cap, size_t n, size_t size, uint32_t max)
{
	uint32_t nc;
	void *p;

	if (n < *cap)
		return 0;
	if (n >= max)
		return GS_ERANGE;
	nc = *cap ? *cap * 2 : 64;
	if (nc > max)
		nc = max;
	p = realloc(*arr, (size_t)nc * size);
	if (!p)
		return GS_ENOMEM;
	*arr = p;
	*cap = nc;
	return 0;
}

/* ---- strings ---- */

static int strhash_rebuild(struct agg *a, uint32_t cap)
{
	uint32_t *h = calloc(cap, sizeof(*h));
	uint32_t i;

	if (!h)
		return GS_ENOMEM;
	for (i = 0; i < a->nstr; i++) {
		const char *s = a->strdata + a->stroff[i];
		uint32_t j = (uint32_t)mix(hash_bytes(s, strlen(s), HASH_SEED)) & (cap - 1);

		while (h[j])
			j = (j + 1) & (cap - 1);
		h[j] = i + 1;
	}
	free(a->strhash);
	a->strhash = h;
	a->strhash_cap = cap;
	return 0;
}

static uint32_t intern(struct agg *a, const char *s)
{
	size_t len;
	uint64_t hv;
	uint32_t j, id;

	if (!s)
		s = "";
	len = strlen(s);
	if ((a->nstr + 1) * 2 > a->strhash_cap &&
	    strhash_rebuild(a, a->strhash_cap ? a->strhash_cap * 2 : 1024))
		return AGG_NONE;
	hv = mix(hash_bytes(s, len, HASH_SEED));
	for (j = (uint32_t)hv & (a->strhash_cap - 1); a->strhash[j];
	     j = (j + 1) & (a->strhash_cap - 1)) {
		id = a->strhash[j] - 1;
		if (!strcmp(a->strdata + a->stroff[id], s))
			return id;
	}
	if (grow((void **)&a->stroff, &a->capstr, a->nstr, sizeof(*a->stroff), 1u << 24))
		return AGG_NONE;
	if (a->strlen_used + len + 1 > a->strcap) {
		size_t nc = a->strcap ? a->strcap : 4096;
		char *p;

		while (nc < a->strlen_used + len + 1)
			nc *= 2;
		if (nc > (1u << 31))
			return AGG_NONE;
		p = realloc(a->strdata, nc);
		if (!p)
			return AGG_NONE;
		a->strdata = p;
		a->strcap = nc;
	}
	memcpy(a->strdata + a->strlen_used, s, len + 1);
	id = a->nstr++;
	a->stroff[id] = (uint32_t)a->strlen_used;
	a->strlen_used += len + 1;
	a->strhash[j] = id + 1;
	return id;
}

const char *agg_str(const struct agg *a, uint32_t id)
{
	return id < a->nstr ? a->strdata + a->stroff[id] : "";
}

double agg_sample_interval(const struct agg *a)
{
	if (a->opt.rate_hz > 0)
		return 1.0 / a->opt.rate_hz;
	if (a->samples > 1 && a->t_last > a->t_first)
		return (double)(a->t_last - a->t_first) / 1e9 / (double)(a->samples - 1);
	return 0;
}

/* ---- frames ---- */

static uint64_t frame_key(uint32_t func, uint32_t file, int32_t line, uint8_t kind, uint8_t st)
{
	uint64_t h = mix(((uint64_t)func << 32) | file);

	return mix(h ^ ((uint64_t)(uint32_t)line << 16) ^ ((uint64_t)kind << 8) ^ st);
}

static int framehash_rebuild(struct agg *a, uint32_t cap)
{
	uint32_t *h = calloc(cap, sizeof(*h));
	uint32_t i;

	if (!h)
		return GS_ENOMEM;
	for (i = 0; i < a->nframes; i++) {
		const struct agg_frame *f = &a->frames[i];
		uint32_t j = (uint32_t)frame_key(f->func, f->file, f->line, f->kind, f->state) & (cap - 1);

		while (h[j])
			j = (j + 1) & (cap - 1);
		h[j] = i + 1;
	}
	free(a->framehash);
	a->framehash = h;
	a->framehash_cap = cap;
	return 0;
}

static uint32_t frame_id(struct agg *a, uint32_t func, uint32_t file, int32_t line,
			 uint8_t kind, uint8_t st)
{
	uint32_t j, id;
	struct agg_frame *f;

	if (func == AGG_NONE || file == AGG_NONE)
		return AGG_NONE;
	if ((a->nframes + 1) * 2 > a->framehash_cap &&
	    framehash_rebuild(a, a->framehash_cap ? a->framehash_cap * 2 : 1024))
		return AGG_NONE;
	for (j = (uint32_t)frame_key(func, file, line, kind, st) & (a->framehash_cap - 1);
	     a->framehash[j]; j = (j + 1) & (a->framehash_cap - 1)) {
		f = &a->frames[a->framehash[j] - 1];
		if (f->func == func && f->file == file && f->line == line &&
		    f->kind == kind && f->state == st)
			return a->framehash[j] - 1;
	}
	if (grow((void **)&a->frames, &a->capframes, a->nframes, sizeof(*a->frames), 1u << 24))
		return AGG_NONE;
	id = a->nframes++;
	f = &a->frames[id];
	memset(f, 0, sizeof(*f));
	f->func = func;
	f->file = file;
	f->line = line;
	f->kind = kind;
	f->state = st;
	a->framehash[j] = id + 1;
	return id;
}

/* ---- tree: an edge table (parent, frame) -> child ---- */

struct edge_table {
	uint32_t *slot;	/* node id + 1 */
	uint32_t cap;
};

static struct edge_table *edges_of(struct agg *a)
{
	/* kept in the padding-free space after the node array's owner */
	return (struct edge_table *)a->edge_table;
}

static int edges_rebuild(struct agg *a, uint32_t cap)
{
	struct edge_table *e = edges_of(a);
	uint32_t *s = calloc(cap, sizeof(*s));
	uint32_t i;

	if (!s)
		return GS_ENOMEM;
	for (i = 1; i < a->nnodes; i++) {
		const struct agg_node *n = &a->nodes[i];
		uint32_t j = (uint32_t)mix(((uint64_t)n->parent << 32) | n->frame) & (cap - 1);

		while (s[j])
			j = (j + 1) & (cap - 1);
		s[j] = i + 1;
	}
	free(e->slot);
	e->slot = s;
	e->cap = cap;
	return 0;
}

static uint32_t child_of(struct agg *a, uint32_t parent, uint32_t frame)
{
	struct edge_table *e = edges_of(a);
	struct agg_node *n;
	uint32_t j, id;

	if (frame == AGG_NONE)
		return AGG_NONE;
	if ((a->nnodes + 1) * 2 > e->cap && edges_rebuild(a, e->cap ? e->cap * 2 : 1024))
		return AGG_NONE;
	for (j = (uint32_t)mix(((uint64_t)parent << 32) | frame) & (e->cap - 1); e->slot[j];
	     j = (j + 1) & (e->cap - 1)) {
		n = &a->nodes[e->slot[j] - 1];
		if (n->parent == parent && n->frame == frame)
			return e->slot[j] - 1;
	}
	if (a->nnodes >= AGG_MAX_NODES ||
	    grow((void **)&a->nodes, &a->capnodes, a->nnodes, sizeof(*a->nodes), AGG_MAX_NODES))
		return AGG_NONE;
	id = a->nnodes++;
	n = &a->nodes[id];
	memset(n, 0, sizeof(*n));
	n->frame = frame;
	n->parent = parent;
	n->child = AGG_NONE;
	n->sibling = a->nodes[parent].child;
	a->nodes[parent].child = id;
	e->slot[j] = id + 1;
	return id;
}

/* ---- threads ---- */

/* The tree node of a process: a child of the root. */
static uint32_t process_node(struct agg *a, int32_t pid, const char *command)
{
	uint32_t n0 = a->nnodes, node;

	node = child_of(a, 0, frame_id(a, intern(a, command), intern(a, ""), pid,
					AGG_FRAME_PROCESS, 0));
	if (node != AGG_NONE && a->nnodes > n0)
		a->nprocesses++;
	return node;
}

static struct agg_thread *thread_of(struct agg *a, const struct agg_thread_in *in)
{
	struct agg_thread *t;
	int32_t tid = in->tid, pid = in->pid;
	const char *name = in->name;
	uint32_t nm, parent = 0;
	size_t i;

	for (i = a->last_thread; i < a->nthreads; i++)
		if (a->threads[i].tid == tid && a->threads[i].pid == pid)
			goto found;
	for (i = 0; i < a->last_thread && i < a->nthreads; i++)
		if (a->threads[i].tid == tid && a->threads[i].pid == pid)
			goto found;
	if (a->nthreads >= 65536)
		return NULL;
	if (a->nthreads == a->capthreads) {
		size_t nc = a->capthreads ? a->capthreads * 2 : 16;
		struct agg_thread *p = realloc(a->threads, nc * sizeof(*p));

		if (!p)
			return NULL;
		a->threads = p;
		a->capthreads = nc;
	}
	i = a->nthreads++;
	t = &a->threads[i];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->pid = pid;
	t->proc = AGG_NONE;
	if (pid) {
		t->proc = process_node(a, pid, in->process);
		parent = t->proc;
	}
	t->name = intern(a, name);
	t->root = parent == AGG_NONE ? AGG_NONE :
		child_of(a, parent, frame_id(a, t->name, intern(a, ""), tid, AGG_FRAME_THREAD, 0));
	a->last_thread = i + 1;
	return t;
found:
	t = &a->threads[i];
	a->last_thread = i + 1;
	if (name && *name && strcmp(agg_str(a, t->name), name)) {
		nm = intern(a, name);
		if (nm != AGG_NONE)
			t->name = nm;	/* renamed; the tree keeps the first name */
	}
	return t;
}

/* ---- stretches ---- */

static void stretch_add(struct agg_stretches *s, uint64_t ns)
{
	s->count++;
	s->sum += ns;
	if (ns > s->max)
		s->max = ns;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		uint64_t *p;

		if (nc > AGG_MAX_STRETCHES)
			return;		/* count/sum/max still exact */
		p = realloc(s->v, nc * sizeof(*p));
		if (!p)
			return;
		s->v = p;
		s->cap = nc;
	}
	s->v[s->n++] = ns;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

uint64_t agg_stretch_pct(const struct agg_stretches *s, double p)
{
	size_t i;

	if (!s->n)
		return 0;
	if (p <= 0)
		return s->v[0];
	if (p >= 100)
		return s->max;
	i = (size_t)(p / 100.0 * (double)(s->n - 1) + 0.5);
	return s->v[i < s->n ? i : s->n - 1];
}

/* ---- public ---- */

int agg_init(struct agg *a, const struct agg_options *opt)
{
	memset(a, 0, sizeof(*a));
	a->opt = *opt;
	if (a->opt.rate_hz <= 0)
		a->opt.rate_hz = 100;
	a->edge_table = calloc(1, sizeof(struct edge_table));
	if (!a->edge_table)
		return GS_ENOMEM;
	if (grow((void **)&a->nodes, &a->capnodes, 0, sizeof(*a->nodes), AGG_MAX_NODES))
		return GS_ENOMEM;
	memset(&a->nodes[0], 0, sizeof(a->nodes[0]));
	a->nodes[0].frame = AGG_NONE;
	a->nodes[0].parent = AGG_NONE;
	a->nodes[0].child = AGG_NONE;
	a->nodes[0].sibling = AGG_NONE;
	a->nnodes = 1;
	intern(a, "");
	return 0;
}

void agg_release(struct agg *a)
{
	size_t i;

	for (i = 0; i < a->nthreads; i++) {
		free(a->threads[i].hold.v);
		free(a->threads[i].wait.v);
		free(a->threads[i].spans);
	}
	if (a->edge_table)
		free(edges_of(a)->slot);
	free(a->edge_table);
	free(a->threads);
	free(a->nodes);
	free(a->frames);
	free(a->framehash);
	free(a->strdata);
	free(a->stroff);
	free(a->strhash);
	free(a->feed_frames);
	memset(a, 0, sizeof(*a));
}

void agg_begin_sample(struct agg *a, uint64_t t_ns, int gil_known, int gil_enabled,
		      uint64_t switch_number)
{
	if (!a->samples)
		a->t_first = t_ns;
	a->samples++;
	a->t_last = t_ns;
	a->cur_t = t_ns - a->t_first;
	a->cur_gil_known = gil_known;
	a->cur_any_hold = 0;
	a->cur_any_wait = 0;
	a->gil_enabled = gil_enabled;
	if (gil_known && gil_enabled) {
		if (!a->have_switch) {
			a->switch_first = switch_number;
			a->have_switch = 1;
		}
		a->switch_last = switch_number;
	}
}

static int mode_keeps(const struct agg *a, const struct agg_thread_in *t)
{
	switch (a->opt.mode) {
	case AGG_MODE_CPU:
		return !!(gs_state_info(t->state)->flags & GS_ON_CPU);
	case AGG_MODE_GIL:
		return t->holds_gil;
	case AGG_MODE_WALL:
		break;
	}
	return 1;
}

static void add_span(struct agg *a, struct agg_thread *t, const struct agg_thread_in *in,
		     uint32_t leaf)
{
	uint64_t step = (uint64_t)(1e9 / a->opt.rate_hz);
	struct agg_span *s = t->nspans ? &t->spans[t->nspans - 1] : NULL;

	if (s && s->state == in->state && s->holds_gil == !!in->holds_gil && s->leaf == leaf &&
	    s->t1 + 2 * step >= a->cur_t) {
		s->t1 = a->cur_t + step;
		return;
	}
	if (s && s->t1 > a->cur_t)
		s->t1 = a->cur_t;	/* the next span starts here */
	if (a->total_spans >= AGG_MAX_SPANS) {
		a->spans_dropped++;
		return;
	}
	if (t->nspans == t->capspans) {
		size_t nc = t->capspans ? t->capspans * 2 : 64;
		struct agg_span *p = realloc(t->spans, nc * sizeof(*p));

		if (!p) {
			a->spans_dropped++;
			return;
		}
		t->spans = p;
		t->capspans = nc;
	}
	s = &t->spans[t->nspans++];
	a->total_spans++;
	s->t0 = a->cur_t;
	s->t1 = a->cur_t + step;
	s->state = (uint8_t)in->state;
	s->holds_gil = !!in->holds_gil;
	s->leaf = leaf;
}

/* One more sample through `node`: its totals, by state. */
static void node_count(struct agg *a, uint32_t node, enum gs_state st)
{
	a->nodes[node].total++;
	a->nodes[node].state_total[st]++;
}

/* Count a thread's pending samples (agg_thread.pend_n) in the tree: at
 * their leaf and at every node above it, up to (not) the root, which
 * counted them as they came. */
static void pending_flush(struct agg *a, struct agg_thread *t)
{
	uint64_t n = t->pend_n;
	uint32_t node;
	size_t depth = 0;

	t->pend_n = 0;
	if (!n || t->pend_end >= a->nnodes)
		return;
	a->nodes[t->pend_end].self += n;
	for (node = t->pend_end; node != 0 && node < a->nnodes && depth++ < a->nnodes;
	     node = a->nodes[node].parent) {
		a->nodes[node].total += n;
		a->nodes[node].state_total[t->pend_state] += n;
	}
}

/* The "[torn stack]" child of a thread's root, counted: a torn stack lacks
 * its outer frames, and hung from the root it would stand as a tower of
 * its own beside the thread's real stacks. */
static uint32_t torn_node(struct agg *a, uint32_t root, enum gs_state st)
{
	uint32_t tf = a->torn_frame, node;

	if (!tf) {
		tf = frame_id(a, intern(a, AGG_TORN_LABEL), intern(a, ""), 0, AGG_FRAME_TORN, 0);
		if (tf == AGG_NONE)
			return AGG_NONE;
		a->torn_frame = tf + 1;
	} else {
		tf--;
	}
	node = child_of(a, root, tf);
	if (node != AGG_NONE)
		node_count(a, node, st);
	return node;
}

/* Where a sample of stack leaf `node` in `state` ends: on to the C
 * callable (AGG_NONE: none) and the state's leaf (record's stacks). */
static uint32_t leaf_for(struct agg *a, uint32_t node, uint32_t native, enum gs_state state)
{
	uint32_t next;

	if (native != AGG_NONE) {
		next = child_of(a, node, native);
		if (next != AGG_NONE)
			node = next;
	}
	if (a->opt.state_leaves && state != ST_PYTHON) {
		uint32_t sf = a->state_frame[state];

		if (!sf) {
			sf = frame_id(a, intern(a, gs_state_info(state)->label), intern(a, ""), 0,
				      AGG_FRAME_STATE, (uint8_t)state);
			if (sf == AGG_NONE)
				return node;
			a->state_frame[state] = sf + 1;
		} else {
			sf--;
		}
		next = child_of(a, node, sf);
		if (next != AGG_NONE)
			node = next;
	}
	return node;
}

int agg_add_thread(struct agg *a, const struct agg_thread_in *in)
{
	struct agg_thread *t = thread_of(a, in);
	uint32_t node, leaf = AGG_NONE, empty = 0, native = AGG_NONE;
	int same;
	size_t i;

	if (!t)
		return GS_ENOMEM;
	if (in->ns_tid)
		t->ns_tid = in->ns_tid;
	if ((unsigned)in->state >= ST_COUNT)
		return GS_CORRUPT("(unsigned)in->state >= ST_COUNT");
	a->thread_samples++;
	if (!t->samples)
		t->first_ns = a->cur_t;
	t->samples++;
	t->last_ns = a->cur_t;
	t->states[in->state]++;
	if (in->torn) {
		t->torn++;
		a->torn++;
	}
	if (in->holds_gil) {
		t->gil_held++;
		a->cur_any_hold = 1;
	}
	if (in->state == ST_GIL_WAIT)
		a->cur_any_wait = 1;

	/* stretches of holding and of waiting, closed when they end */
	if (in->holds_gil && !t->holding) {
		t->holding = 1;
		t->hold_since = a->cur_t;
	} else if (!in->holds_gil && t->holding) {
		t->holding = 0;
		stretch_add(&t->hold, a->cur_t - t->hold_since);
	}
	if (in->state == ST_GIL_WAIT && !t->waiting) {
		t->waiting = 1;
		t->wait_since = a->cur_t;
	} else if (in->state != ST_GIL_WAIT && t->waiting) {
		t->waiting = 0;
		stretch_add(&t->wait, a->cur_t - t->wait_since);
	}

	/* the same stack as last time: its frames are interned already */
	same = in->stack_key && in->stack_key == t->key;
	if (!same) {
		t->key = in->stack_key;
		t->key_leaf_ok = 0;
		t->key_hot = AGG_NONE;
		if (in->nframes) {
			const struct agg_frame_in *f = &in->frames[0];

			t->key_hot = frame_id(a, intern(a, f->func), intern(a, f->file), f->line,
					      AGG_FRAME_PYTHON, 0);
		}
	}
	/* hot frames: the innermost Python frame, in whatever state */
	if (t->key_hot != AGG_NONE)
		a->frames[t->key_hot].self[in->state]++;

	if (in->callee && in->callee[0]) {
		native = frame_id(a, intern(a, in->callee), empty, 0, AGG_FRAME_NATIVE, 0);
		if (native != AGG_NONE)
			a->frames[native].self[in->state]++;
	}

	/* the stack tree, outermost first, if this sample counts in the mode */
	if (mode_keeps(a, in) && t->root != AGG_NONE) {
		node_count(a, 0, in->state);
		if (t->key_leaf_ok) {
			/* the same stack as last time: counted later, at once */
			uint32_t end = leaf_for(a, t->key_leaf, native, in->state);

			if (t->pend_n && (t->pend_end != end || t->pend_state != in->state))
				pending_flush(a, t);
			t->pend_end = end;
			t->pend_state = (uint8_t)in->state;
			t->pend_n++;
			leaf = end;
		} else {
			if (t->proc != AGG_NONE)
				node_count(a, t->proc, in->state);
			node = t->root;
			node_count(a, node, in->state);
			if (in->torn)
				node = torn_node(a, node, in->state);
			for (i = in->nframes; i-- > 0 && node != AGG_NONE;) {
				const struct agg_frame_in *f = &in->frames[i];
				uint32_t next = child_of(a, node, frame_id(a, intern(a, f->func),
									   intern(a, f->file), f->line,
									   AGG_FRAME_PYTHON, 0));

				if (next == AGG_NONE) {
					a->nodes_dropped++;
					break;
				}
				node = next;
				node_count(a, node, in->state);
			}
			if (node != AGG_NONE && in->stack_key && (i == (size_t)-1)) {
				t->key_leaf = node;
				t->key_leaf_ok = 1;
			}
			if (node != AGG_NONE) {
				uint32_t end = leaf_for(a, node, native, in->state), k;

				for (k = end; k != node; k = a->nodes[k].parent)
					node_count(a, k, in->state);
				node = end;
			}
			if (node != AGG_NONE)
				a->nodes[node].self++;
			leaf = node;
		}
	}
	if (a->opt.timeline)
		add_span(a, t, in, leaf);
	return 0;
}

/*
 * The thread's last n samples, all with the stack it was last seen with,
 * counted in state `from` with no C callable, were in `to` (with the C
 * callable `callee`, or none): the sampler learns some things only later
 * (that a GIL hold was C code, that a thread on CPU without the GIL stayed
 * there). Moves their counts in the thread's states, its GIL-wait
 * stretches, the hot frames, the stack tree and the timeline. The
 * process-wide GIL figures stay as counted. `from_ns` is when the first
 * of them was taken.
 */
int agg_restate(struct agg *a, int32_t pid, int32_t tid, uint64_t n, uint64_t from_ns,
		enum gs_state from, enum gs_state to, const char *callee)
{
	struct agg_thread *t = NULL;
	uint32_t node, old_leaf, new_leaf, native = AGG_NONE;
	uint64_t since;
	size_t i;

	if (!n || (unsigned)from >= ST_COUNT || (unsigned)to >= ST_COUNT || from == to)
		return 0;
	for (i = 0; i < a->nthreads; i++) {
		if (a->threads[i].tid == tid && a->threads[i].pid == pid) {
			t = &a->threads[i];
			break;
		}
	}
	if (!t || t->states[from] < n)
		return GS_CORRUPT("!t || t->states[from] < n");
	pending_flush(a, t);
	since = from_ns > a->t_first ? from_ns - a->t_first : 0;
	t->states[from] -= n;
	t->states[to] += n;
	if (from == ST_GIL_WAIT && t->waiting) {
		/* the wait ended where these samples began, or never was */
		if (t->wait_since < since)
			stretch_add(&t->wait, since - t->wait_since);
		t->waiting = 0;
	}
	if (t->key_hot != AGG_NONE && a->frames[t->key_hot].self[from] >= n) {
		a->frames[t->key_hot].self[from] -= n;
		a->frames[t->key_hot].self[to] += n;
	}
	if (callee && callee[0]) {
		native = frame_id(a, intern(a, callee), intern(a, ""), 0, AGG_FRAME_NATIVE, 0);
		if (native != AGG_NONE)
			a->frames[native].self[to] += n;
	}
	if (!t->key_leaf_ok || t->key_leaf == AGG_NONE)
		return 0;	/* the stack was not in the tree */
	old_leaf = leaf_for(a, t->key_leaf, AGG_NONE, from);
	if (a->nodes[old_leaf].self < n || a->nodes[old_leaf].state_total[from] < n)
		return 0;
	new_leaf = leaf_for(a, t->key_leaf, native, to);
	for (node = old_leaf; node != t->key_leaf; node = a->nodes[node].parent) {
		a->nodes[node].total -= n;
		a->nodes[node].state_total[from] -= n;
	}
	for (node = t->key_leaf;; node = a->nodes[node].parent) {
		a->nodes[node].state_total[from] -= n;
		a->nodes[node].state_total[to] += n;
		if (node == 0 || a->nodes[node].parent == AGG_NONE)
			break;
	}
	for (node = new_leaf; node != t->key_leaf; node = a->nodes[node].parent) {
		a->nodes[node].total += n;
		a->nodes[node].state_total[to] += n;
	}
	a->nodes[old_leaf].self -= n;
	a->nodes[new_leaf].self += n;
	if (a->opt.timeline && t->nspans) {
		struct agg_span *sp = &t->spans[t->nspans - 1];

		if (sp->state == from && sp->leaf == old_leaf && sp->t1 > since) {
			if (sp->t0 >= since) {
				sp->state = (uint8_t)to;
				sp->leaf = new_leaf;
			} else {
				struct agg_thread_in in = { 0 };
				uint64_t t1 = sp->t1, cur = a->cur_t;

				in.state = to;
				in.holds_gil = sp->holds_gil;
				a->cur_t = since;
				add_span(a, t, &in, new_leaf);
				if (t->nspans && t->spans[t->nspans - 1].t0 == since)
					t->spans[t->nspans - 1].t1 = t1;
				a->cur_t = cur;
			}
		}
	}
	return 0;
}

void agg_end_sample(struct agg *a)
{
	if (a->cur_gil_known && a->gil_enabled) {
		a->gil_known++;
		a->gil_held += a->cur_any_hold;
		a->gil_contended += a->cur_any_wait;
	}
}

void agg_finish(struct agg *a)
{
	uint64_t end = a->t_last - a->t_first + (uint64_t)(1e9 / a->opt.rate_hz);
	size_t i;

	for (i = 0; i < a->nthreads; i++) {
		struct agg_thread *t = &a->threads[i];

		pending_flush(a, t);
		if (t->holding)
			stretch_add(&t->hold, t->last_ns + (end - (a->t_last - a->t_first)) - t->hold_since);
		if (t->waiting)
			stretch_add(&t->wait, t->last_ns + (end - (a->t_last - a->t_first)) - t->wait_since);
		t->holding = t->waiting = 0;
		if (t->hold.n)
			qsort(t->hold.v, t->hold.n, sizeof(*t->hold.v), cmp_u64);
		if (t->wait.n)
			qsort(t->wait.v, t->wait.n, sizeof(*t->wait.v), cmp_u64);
	}
	if (!a->duration_s && a->samples)
		a->duration_s = (double)end / 1e9;
}

static size_t hot_of_kind(const struct agg *a, enum gs_state state, uint32_t *out, size_t n,
			  uint8_t kind)
{
	size_t k = 0, pos;
	uint32_t i;

	if (!n || (unsigned)state >= ST_COUNT)
		return 0;
	for (i = 0; i < a->nframes; i++) {
		const struct agg_frame *f = &a->frames[i];
		uint64_t c = f->self[state];

		if (f->kind != kind || !c)
			continue;
		if (k < n)
			pos = k++;
		else if (c <= a->frames[out[n - 1]].self[state])
			continue;
		else
			pos = n - 1;
		while (pos > 0 && a->frames[out[pos - 1]].self[state] < c) {
			out[pos] = out[pos - 1];
			pos--;
		}
		out[pos] = i;
	}
	return k;
}

size_t agg_hot_frames(const struct agg *a, enum gs_state state, uint32_t *out, size_t n)
{
	return hot_of_kind(a, state, out, n, AGG_FRAME_PYTHON);
}

size_t agg_hot_native(const struct agg *a, enum gs_state state, uint32_t *out, size_t n)
{
	return hot_of_kind(a, state, out, n, AGG_FRAME_NATIVE);
}
