/*
 * test_hostile.c - real interpreters' memory (tests/corpus/snapshots),
 * corrupted on purpose at chosen addresses: cycles in the thread list and
 * the frame chain, absurd lengths and counts, pointers into unmapped memory,
 * forged _Py_DebugOffsets. The addresses are found by walking the intact
 * snapshot with the model first.
 *
 * What must hold (DESIGN.md section 4): every walk ends, within a bounded
 * number of reads and bounded memory; the damaged thread is reported as
 * unreadable (an error or a truncated stack) and the others are read as if
 * nothing had happened.
 */
#include "unit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../../src/cpython/code.h"
#include "../../src/cpython/model.h"
#include "../../src/cpython/names.h"
#include "../../src/cpython/offsets.h"
#include "../../src/target/reader.h"
#include "../../src/util/error.h"

/* A walk of a 40-frame stack takes a few hundred reads; a runaway one would
 * take millions. */
#define MAX_READS 200000
/* CPU seconds of this process (not wall time: a busy machine must not fail
 * the test, a runaway walk must) */
#define MAX_SECONDS 5.0
#define MAX_RSS_GROWTH_KB (256 * 1024)
#define UNMAPPED 0x7e0000000000ull	/* no snapshot has memory there */

static struct py_thread th[PY_MAX_THREADS];
static struct py_frame fr[PY_MAX_DEPTH];
static char names[PY_MAX_THREADS][PY_THREAD_NAME_MAX];

/* ---- a snapshot file in memory, patchable by address ------------------- */

struct hsnap {
	char name[256];
	uint8_t *orig, *buf;	/* the file, and the copy being damaged */
	size_t len;
	struct {
		uint64_t addr, len;
		size_t data;
	} reg[4096];
	size_t nreg;
};

static const char *corpus_dir(void)
{
	const char *d = getenv("GILSCOPE_CORPUS");

	return d ? d : "tests/corpus/snapshots";
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static int hs_load(struct hsnap *h, const char *name)
{
	char path[1024];
	size_t pos, i, n;
	FILE *f;
	long sz;

	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s", corpus_dir(), name);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) || (sz = ftell(f)) <= 16 || fseek(f, 0, SEEK_SET) ||
	    !(h->orig = malloc((size_t)sz)) || !(h->buf = malloc((size_t)sz)) ||
	    fread(h->orig, 1, (size_t)sz, f) != (size_t)sz) {
		fclose(f);
		return -1;
	}
	fclose(f);
	h->len = (size_t)sz;
	memcpy(h->buf, h->orig, h->len);
	pos = 12 + (size_t)le(h->orig + 8, 4);
	n = (size_t)le(h->orig + pos, 4);
	pos += 4;
	for (i = 0; i < n && h->nreg < 4096; i++) {
		h->reg[h->nreg].addr = le(h->orig + pos, 8);
		h->reg[h->nreg].len = le(h->orig + pos + 8, 8);
		h->reg[h->nreg].data = pos + 16;
		pos += 16 + (size_t)h->reg[h->nreg].len;
		h->nreg++;
	}
	return pos == h->len ? 0 : -1;
}

static void hs_free(struct hsnap *h)
{
	free(h->orig);
	free(h->buf);
	h->orig = h->buf = NULL;
}

static void hs_reset(struct hsnap *h)
{
	memcpy(h->buf, h->orig, h->len);
}

/* Where in the file the n bytes at addr are, or NULL. */
static uint8_t *hs_at(struct hsnap *h, uint64_t addr, size_t n)
{
	size_t i;

	for (i = 0; i < h->nreg; i++)
		if (addr >= h->reg[i].addr && addr - h->reg[i].addr + n <= h->reg[i].len)
			return h->buf + h->reg[i].data + (addr - h->reg[i].addr);
	return NULL;
}

static int hs_put(struct hsnap *h, uint64_t addr, uint64_t v, int n)
{
	uint8_t *p = hs_at(h, addr, (size_t)n);
	int i;

	if (!p)
		return -1;
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return 0;
}

static uint64_t hs_get(struct hsnap *h, uint64_t addr, int n)
{
	uint8_t *p = hs_at(h, addr, (size_t)n);

	return p ? le(p, n) : 0;
}

/* ---- replaying it --------------------------------------------------------- */

struct replay {
	struct reader *r;
	struct py_model m;
	int init;		/* py_model_init's result */
	struct timespec t0;
	long rss0;
};

static const char *meta_get(void *ctx, const char *key)
{
	return reader_snapshot_meta((struct reader *)ctx, key);
}

static long rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int rp_open(struct replay *rp, struct hsnap *h)
{
	struct py_location loc;

	memset(rp, 0, sizeof(*rp));
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &rp->t0);
	rp->rss0 = rss_kb();
	if (reader_snapshot_from_bytes(h->buf, h->len, &rp->r))
		return -1;
	if (py_location_parse(meta_get, rp->r, &loc))
		return -1;
	rp->init = py_model_init(&rp->m, rp->r, &loc);
	return 0;
}

/* The bounds every hostile walk must keep; then release. */
static void rp_close(struct unit *u, struct replay *rp, const char *what)
{
	struct timespec t1;
	double dt;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	dt = (double)(t1.tv_sec - rp->t0.tv_sec) + (double)(t1.tv_nsec - rp->t0.tv_nsec) / 1e9;
	if (rp->r) {
		if (!CHECK(u, rp->r->nreads < MAX_READS))
			printf("    %s: %llu reads\n", what, (unsigned long long)rp->r->nreads);
	}
	if (!CHECK(u, dt < MAX_SECONDS))
		printf("    %s: %.2f CPU s\n", what, dt);
	if (!CHECK(u, rss_kb() - rp->rss0 < MAX_RSS_GROWTH_KB))
		printf("    %s: max RSS grew by %ld KiB\n", what, rss_kb() - rp->rss0);
	py_model_release(&rp->m);
	reader_free(rp->r);
	rp->r = NULL;
}

/* Everything a sample does, for its bounds (results ignored). */
static void walk_all(struct replay *rp)
{
	size_t n = 0, nf, i;
	uint64_t interp;
	struct py_gil g;
	int trunc;

	if (rp->init)
		return;
	py_model_threads(&rp->m, th, PY_MAX_THREADS, &n, NULL, 0);
	for (i = 0; i < n; i++) {
		char callee[96];

		if (!py_model_stack(&rp->m, th[i].tstate, fr, PY_MAX_DEPTH, &nf, &trunc) && nf)
			py_model_callee(&rp->m, &fr[0], callee, sizeof(callee), NULL);
	}
	if (!py_model_interp(&rp->m, &interp))
		py_model_gil(&rp->m, interp, &g);
	py_model_thread_names_all(&rp->m, th, n, names);
}

/* The intact snapshot: its threads, and the stack of each. */
struct baseline {
	size_t n;
	struct py_thread th[64];
	size_t nframes[64];
	uint64_t frame_addr[64][64];
	int32_t line[64][64];
	size_t deep;		/* the thread with the most frames */
};

static int baseline_of(struct hsnap *h, struct baseline *b)
{
	struct replay rp;
	size_t i, j;
	int trunc;

	memset(b, 0, sizeof(*b));
	hs_reset(h);
	if (rp_open(&rp, h) || rp.init ||
	    py_model_threads(&rp.m, th, PY_MAX_THREADS, &b->n, NULL, 0) || b->n < 2 || b->n > 64) {
		py_model_release(&rp.m);
		reader_free(rp.r);
		return -1;
	}
	memcpy(b->th, th, b->n * sizeof(th[0]));
	for (i = 0; i < b->n; i++) {
		if (py_model_stack(&rp.m, th[i].tstate, fr, PY_MAX_DEPTH, &b->nframes[i], &trunc))
			b->nframes[i] = 0;
		if (b->nframes[i] > 64)
			b->nframes[i] = 64;
		for (j = 0; j < b->nframes[i]; j++) {
			b->frame_addr[i][j] = fr[j].addr;
			b->line[i][j] = fr[j].line;
		}
		if (b->nframes[i] > b->nframes[b->deep])
			b->deep = i;
	}
	py_model_release(&rp.m);
	reader_free(rp.r);
	return 0;
}

/* Thread i's stack now equals the baseline's. */
static int same_stack(struct replay *rp, const struct baseline *b, size_t i)
{
	size_t nf, j;
	int trunc;

	if (py_model_stack(&rp->m, b->th[i].tstate, fr, PY_MAX_DEPTH, &nf, &trunc) || trunc ||
	    nf != b->nframes[i])
		return 0;
	for (j = 0; j < nf && j < 64; j++)
		if (fr[j].addr != b->frame_addr[i][j] || fr[j].line != b->line[i][j])
			return 0;
	return 1;
}

/* Every other thread than `skip` reads as in the baseline. */
static int others_intact(struct replay *rp, const struct baseline *b, size_t skip)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (i != skip && !same_stack(rp, b, i))
			return 0;
	return 1;
}

/* Run fn on every snapshot of the corpus. */
static void each_snapshot(struct unit *u, void (*fn)(struct unit *u, struct hsnap *h))
{
	static struct hsnap h;
	struct dirent **ents;
	int n, i, done = 0;

	n = scandir(corpus_dir(), &ents, NULL, alphasort);
	if (n < 0) {
		unit_skip(u, "no snapshot corpus");
		return;
	}
	for (i = 0; i < n; i++) {
		size_t nl = strlen(ents[i]->d_name);

		if (nl > 5 && !strcmp(ents[i]->d_name + nl - 5, ".snap")) {
			if (CHECK(u, !hs_load(&h, ents[i]->d_name))) {
				fn(u, &h);
				done++;
			}
			hs_free(&h);
		}
		free(ents[i]);
	}
	free(ents);
	CHECK(u, done > 0);
}

#define NOTE(u, h, cond) \
	(CHECK((u), cond) ? 1 : (printf("    in %s\n", (h)->name), 0))

/* ---- thread list ------------------------------------------------------------ */

static void thread_cycles(struct unit *u, struct hsnap *h)
{
	const struct py_offsets *o;
	struct baseline b;
	struct replay rp;
	size_t n, k;
	int ret;

	if (!NOTE(u, h, !baseline_of(h, &b)))
		return;
	/* the offsets, from a model of the intact memory */
	rp_open(&rp, h);
	o = &rp.m.off;

	/* the last thread state leads back to the first: every thread once */
	hs_put(h, b.th[b.n - 1].tstate + o->ts_next, b.th[0].tstate, 8);
	{
		struct replay r2;

		rp_open(&r2, h);
		ret = py_model_threads(&r2.m, th, PY_MAX_THREADS, &n, NULL, 0);
		NOTE(u, h, ret == GS_ECORRUPT);
		NOTE(u, h, n == b.n);
		NOTE(u, h, others_intact(&r2, &b, b.n));
		walk_all(&r2);
		rp_close(u, &r2, h->name);
	}
	/* thread k points to itself: the threads up to it are kept */
	for (k = 0; k < b.n; k++) {
		struct replay r2;

		hs_reset(h);
		hs_put(h, b.th[k].tstate + o->ts_next, b.th[k].tstate, 8);
		rp_open(&r2, h);
		ret = py_model_threads(&r2.m, th, PY_MAX_THREADS, &n, NULL, 0);
		NOTE(u, h, ret == GS_ECORRUPT);
		NOTE(u, h, n == k + 1);
		NOTE(u, h, k + 1 < b.n || others_intact(&r2, &b, b.n));
		rp_close(u, &r2, h->name);
	}
	/* thread 1 leads into unmapped memory: thread 0 and 1 are kept */
	hs_reset(h);
	hs_put(h, b.th[1].tstate + o->ts_next, UNMAPPED, 8);
	{
		struct replay r2;

		rp_open(&r2, h);
		ret = py_model_threads(&r2.m, th, PY_MAX_THREADS, &n, NULL, 0);
		NOTE(u, h, ret == GS_EFAULT);
		NOTE(u, h, n == 2);
		walk_all(&r2);
		rp_close(u, &r2, h->name);
	}
	/* ... or to a misaligned or kernel address */
	hs_reset(h);
	hs_put(h, b.th[1].tstate + o->ts_next, b.th[0].tstate + 1, 8);
	{
		struct replay r2;

		rp_open(&r2, h);
		ret = py_model_threads(&r2.m, th, PY_MAX_THREADS, &n, NULL, 0);
		NOTE(u, h, ret == GS_ECORRUPT && n == 2);
		rp_close(u, &r2, h->name);
	}
	hs_reset(h);
	rp_close(u, &rp, h->name);
}

static void t_hostile_thread_list(struct unit *u)
{
	each_snapshot(u, thread_cycles);
}

/* ---- frame chain -------------------------------------------------------------- */

static void frame_cycles(struct unit *u, struct hsnap *h)
{
	const struct py_offsets *o;
	struct baseline b;
	struct replay rp;
	size_t d, nf, j;
	int trunc, ret;

	if (!NOTE(u, h, !baseline_of(h, &b)))
		return;
	d = b.deep;
	if (!NOTE(u, h, b.nframes[d] >= 20))
		return;
	rp_open(&rp, h);
	o = &rp.m.off;

	/* frame 9 leads back to frame 3: a cycle of seven */
	hs_put(h, b.frame_addr[d][9] + o->fr_back, b.frame_addr[d][3], 8);
	{
		struct replay r2;

		rp_open(&r2, h);
		ret = py_model_stack(&r2.m, b.th[d].tstate, fr, PY_MAX_DEPTH, &nf, &trunc);
		/* unreadable, with the frames before the loop closes */
		NOTE(u, h, ret == GS_ECORRUPT);
		NOTE(u, h, !trunc);
		NOTE(u, h, nf == 10);
		for (j = 0; j < nf && j < 10; j++)
			NOTE(u, h, fr[j].addr == b.frame_addr[d][j]);
		NOTE(u, h, others_intact(&r2, &b, d));
		walk_all(&r2);
		rp_close(u, &r2, h->name);
	}
	/* a frame that is its own caller */
	hs_reset(h);
	hs_put(h, b.frame_addr[d][4] + o->fr_back, b.frame_addr[d][4], 8);
	{
		struct replay r2;

		rp_open(&r2, h);
		ret = py_model_stack(&r2.m, b.th[d].tstate, fr, PY_MAX_DEPTH, &nf, &trunc);
		NOTE(u, h, ret == GS_ECORRUPT && !trunc && nf == 5);
		NOTE(u, h, others_intact(&r2, &b, d));
		rp_close(u, &r2, h->name);
	}
	/* the outermost frame leads back to the innermost: the whole stack */
	hs_reset(h);
	hs_put(h, b.frame_addr[d][b.nframes[d] - 1] + o->fr_back, b.frame_addr[d][0], 8);
	{
		struct replay r2;

		rp_open(&r2, h);
		ret = py_model_stack(&r2.m, b.th[d].tstate, fr, PY_MAX_DEPTH, &nf, &trunc);
		NOTE(u, h, ret == GS_ECORRUPT && !trunc && nf == b.nframes[d]);
		rp_close(u, &r2, h->name);
	}
	/* a caller in unmapped memory: the frames up to there, and an error */
	hs_reset(h);
	hs_put(h, b.frame_addr[d][6] + o->fr_back, UNMAPPED, 8);
	{
		struct replay r2;

		rp_open(&r2, h);
		ret = py_model_stack(&r2.m, b.th[d].tstate, fr, PY_MAX_DEPTH, &nf, &trunc);
		NOTE(u, h, ret == GS_EFAULT && nf == 7);
		NOTE(u, h, others_intact(&r2, &b, d));
		rp_close(u, &r2, h->name);
	}
	/* the thread's first frame pointer itself into unmapped memory */
	hs_reset(h);
	{
		struct replay r2;
		uint64_t at = o->ts_cframe != OFF_NONE ?
			hs_get(h, b.th[d].tstate + o->ts_cframe, 8) + o->cframe_current_frame :
			b.th[d].tstate + o->ts_frame;

		NOTE(u, h, !hs_put(h, at, UNMAPPED, 8));
		rp_open(&r2, h);
		ret = py_model_stack(&r2.m, b.th[d].tstate, fr, PY_MAX_DEPTH, &nf, &trunc);
		NOTE(u, h, ret == GS_EFAULT && nf == 0);
		NOTE(u, h, others_intact(&r2, &b, d));
		walk_all(&r2);
		rp_close(u, &r2, h->name);
	}
	hs_reset(h);
	rp_close(u, &rp, h->name);
}

static void t_hostile_frame_chain(struct unit *u)
{
	each_snapshot(u, frame_cycles);
}

/* ---- torn chains ------------------------------------------------------------ */

/*
 * What a reader that does not stop the target runs into: a generator that
 * yields while its frame is read cuts the link to its caller; a function
 * that returns frees its frame or hands it to the next call. The walk must
 * say that such a chain does not reach the thread's entry frame, whatever
 * the frames it did read look like.
 */

/* Thread t's stack through py_model_stack_thread(), as the sampler reads it. */
static int walk_end(struct replay *rp, const struct py_thread *t0, size_t *nf,
		    struct py_stack_end *end)
{
	struct py_thread t;
	int trunc, ret;

	*nf = 0;
	ret = py_model_thread_read(&rp->m, t0->tstate, t0->interp, &t);
	if (ret)
		return ret;
	return py_model_stack_thread(&rp->m, &t, NULL, fr, PY_MAX_DEPTH, nf, &trunc, end);
}

static void torn_chains(struct unit *u, struct hsnap *h)
{
	const struct py_offsets *o;
	struct py_stack_end end;
	struct baseline b;
	struct replay rp, r2;
	uint64_t last_deep = 0;
	size_t i, j, d, g = SIZE_MAX, gj = 0, nf;
	int ret;

	if (!NOTE(u, h, !baseline_of(h, &b)))
		return;
	d = b.deep;
	rp_open(&rp, h);
	o = &rp.m.off;
	/* intact memory: every thread's chain ends at its entry frame (3.15+:
	 * the one its thread state names) */
	for (i = 0; i < b.n; i++) {
		ret = walk_end(&rp, &b.th[i], &nf, &end);
		NOTE(u, h, ret == 0 && end.torn == PY_WHOLE && nf == b.nframes[i]);
		NOTE(u, h, !nf || end.last);
		if (o->ts_base_frame != OFF_NONE && nf)
			NOTE(u, h, end.last && end.last == b.th[i].base);
		if (i == d)
			last_deep = end.last;
		for (j = 0; j < nf && j < 64; j++)
			if (!strcmp(fr[j].code->name, "gen_sleeper")) {
				g = i;
				gj = j;
			}
	}
	if (!NOTE(u, h, g != SIZE_MAX && b.nframes[d] >= 20 && last_deep))
		goto out;

	/* the generator yielded between the read of its frame and of its link */
	hs_put(h, b.frame_addr[g][gj] + o->fr_back, 0, 8);
	rp_open(&r2, h);
	ret = walk_end(&r2, &b.th[g], &nf, &end);
	NOTE(u, h, ret == 0 && nf == gj + 1 && end.torn == PY_TORN_YIELDED);
	NOTE(u, h, end.last == b.frame_addr[g][gj]);
	NOTE(u, h, others_intact(&r2, &b, g));
	rp_close(u, &r2, h->name);

	/* a frame in the middle of a recursion ends the chain: a frame that
	 * stands first in no eval call (3.11+); 3.9-3.10 cannot tell it from
	 * the outermost frame of a thread, only that it is not where the
	 * chain ended before (the sampler keeps that) */
	hs_reset(h);
	hs_put(h, b.frame_addr[d][5] + o->fr_back, 0, 8);
	rp_open(&r2, h);
	ret = walk_end(&r2, &b.th[d], &nf, &end);
	NOTE(u, h, ret == 0 && nf == 6);
	if (o->owner_base >= 0)
		NOTE(u, h, end.torn == PY_TORN_NOT_ENTRY);
	else
		NOTE(u, h, end.torn == PY_WHOLE && end.last == b.frame_addr[d][5] &&
			   end.last != last_deep);
	rp_close(u, &r2, h->name);

	/* 3.9-3.10: a frame object on the way had been freed (and its f_back
	 * left pointing where it did) */
	if (o->fr_refcnt != OFF_NONE) {
		hs_reset(h);
		hs_put(h, b.frame_addr[d][5] + o->fr_refcnt, 0, 8);
		rp_open(&r2, h);
		ret = walk_end(&r2, &b.th[d], &nf, &end);
		NOTE(u, h, ret == 0 && nf == b.nframes[d] && end.torn == PY_TORN_DEAD_FRAME);
		rp_close(u, &r2, h->name);
	}

	/* 3.15+: the chain ends at an entry frame, but not at this thread's */
	if (o->ts_base_frame != OFF_NONE) {
		hs_reset(h);
		NOTE(u, h, !hs_put(h, b.th[d].tstate + o->ts_base_frame, last_deep + 4096, 8));
		rp_open(&r2, h);
		ret = walk_end(&r2, &b.th[d], &nf, &end);
		NOTE(u, h, ret == 0 && nf == b.nframes[d] && end.torn == PY_TORN_NOT_BASE);
		rp_close(u, &r2, h->name);
	}

	/* 3.11-3.12: the record of an eval call on the C stack is the
	 * thread's, but has no frame (yet, or any more) */
	if (o->ts_root_cframe != OFF_NONE) {
		uint64_t top = hs_get(h, b.th[d].tstate + o->ts_cframe, 8);

		hs_reset(h);
		NOTE(u, h, top && top != b.th[d].tstate + o->ts_root_cframe);
		NOTE(u, h, !hs_put(h, top + o->cframe_current_frame, 0, 8));
		rp_open(&r2, h);
		ret = walk_end(&r2, &b.th[d], &nf, &end);
		NOTE(u, h, ret == 0 && nf == 0 && end.torn == PY_TORN_CFRAME);
		rp_close(u, &r2, h->name);
	}

	/* a link into memory that holds nothing: torn as far as we can tell */
	hs_reset(h);
	hs_put(h, b.frame_addr[d][6] + o->fr_back, UNMAPPED, 8);
	rp_open(&r2, h);
	ret = walk_end(&r2, &b.th[d], &nf, &end);
	NOTE(u, h, ret == GS_EFAULT && nf == 7 && end.torn == PY_TORN_UNREADABLE);
	rp_close(u, &r2, h->name);
	hs_reset(h);
out:
	rp_close(u, &rp, h->name);
}

static void t_hostile_torn_chains(struct unit *u)
{
	each_snapshot(u, torn_chains);
}

/* ---- absurd lengths and counts ----------------------------------------------- */

static void absurd_sizes(struct unit *u, struct hsnap *h)
{
	static const int64_t lengths[] = {
		(int64_t)1 << 40, ((int64_t)1 << 40) + 1, (int64_t)1 << 62, INT64_MAX, -1,
		INT64_MIN, PY_STR_MAX + 1, 1 << 20,
	};
	const struct py_offsets *o;
	const struct py_code *c;
	struct baseline b;
	struct replay rp;
	uint64_t code, name, table;
	size_t d, nf, k, j;
	int trunc, ret;

	if (!NOTE(u, h, !baseline_of(h, &b)))
		return;
	d = b.deep;
	rp_open(&rp, h);
	o = &rp.m.off;
	if (!NOTE(u, h, !py_model_stack(&rp.m, b.th[d].tstate, fr, PY_MAX_DEPTH, &nf, &trunc) &&
		  nf > 2))
		goto out;
	/* a code object only this thread runs */
	for (k = 0; k < nf && strcmp(fr[k].code->name, "recurse"); k++)
		;
	if (!NOTE(u, h, k < nf))
		goto out;
	c = fr[k].code;
	code = c->addr;
	name = c->p_name;
	table = c->p_linetable;

	/* the function name's length */
	for (k = 0; k < sizeof(lengths) / sizeof(lengths[0]); k++) {
		struct replay r2;

		hs_reset(h);
		NOTE(u, h, !hs_put(h, name + o->uni_length, (uint64_t)lengths[k], 8));
		rp_open(&r2, h);
		ret = py_model_stack(&r2.m, b.th[d].tstate, fr, PY_MAX_DEPTH, &nf, &trunc);
		/* the frame is dropped, the walk stopped, or the name cut */
		for (j = 0; j < nf; j++)
			NOTE(u, h, strlen(fr[j].code->name) <= 4 * PY_STR_MAX);
		NOTE(u, h, nf <= b.nframes[d]);
		NOTE(u, h, others_intact(&r2, &b, d));
		walk_all(&r2);
		rp_close(u, &r2, h->name);
	}
	/* the line table's ob_size: the lines fall back to co_firstlineno */
	for (k = 0; k < sizeof(lengths) / sizeof(lengths[0]); k++) {
		struct replay r2;

		hs_reset(h);
		NOTE(u, h, !hs_put(h, table + o->var_ob_size, (uint64_t)lengths[k], 8));
		rp_open(&r2, h);
		ret = py_model_stack(&r2.m, b.th[d].tstate, fr, PY_MAX_DEPTH, &nf, &trunc);
		NOTE(u, h, !ret && nf == b.nframes[d]);
		for (j = 0; j < nf; j++)
			if (fr[j].code->addr == code && lengths[k] != PY_STR_MAX + 1)
				NOTE(u, h, fr[j].line == fr[j].code->firstlineno &&
					   fr[j].code->linetable_len == 0);
		walk_all(&r2);
		rp_close(u, &r2, h->name);
	}
	/* the code object's name pointer into unmapped memory, or to itself */
	for (k = 0; k < 2; k++) {
		struct replay r2;

		hs_reset(h);
		NOTE(u, h, !hs_put(h, code + o->co_name, k ? code : UNMAPPED, 8));
		rp_open(&r2, h);
		ret = py_model_stack(&r2.m, b.th[d].tstate, fr, PY_MAX_DEPTH, &nf, &trunc);
		/* unreadable name: no such frame; the object itself read as a
		 * str: whatever it says, within bounds */
		for (j = 0; j < nf; j++)
			NOTE(u, h, k ? strlen(fr[j].code->name) <= 4 * PY_STR_MAX :
				       fr[j].code->addr != code);
		NOTE(u, h, others_intact(&r2, &b, d));
		walk_all(&r2);
		rp_close(u, &r2, h->name);
	}
out:
	hs_reset(h);
	rp_close(u, &rp, h->name);
}

static void t_hostile_sizes(struct unit *u)
{
	each_snapshot(u, absurd_sizes);
}

/* sys.modules claims 2^31 entries (and other impossible tables): the names
 * walk gives up within its bounds, the stacks do not notice. */
static void huge_dict(struct unit *u, struct hsnap *h)
{
	const struct py_offsets *o;
	struct baseline b;
	struct replay rp;
	uint64_t interp, modules, keys;
	unsigned minor;
	int k, ret;

	if (!NOTE(u, h, !baseline_of(h, &b)))
		return;
	rp_open(&rp, h);
	o = &rp.m.off;
	minor = (o->version_hex >> 16) & 0xff;
	if (!NOTE(u, h, !py_model_interp(&rp.m, &interp)))
		goto out;
	modules = hs_get(h, interp + o->is_modules, 8);
	keys = hs_get(h, modules + o->dict_ma_keys, 8);
	if (!NOTE(u, h, modules && keys))
		goto out;
	for (k = 0; k < 4; k++) {
		struct replay r2;
		size_t i;

		hs_reset(h);
		if (minor <= 10) {
			/* dk_size at 8, dk_nentries at 32 */
			static const uint64_t sizes[] = { 1ull << 31, 1ull << 31, 1ull << 62, 3 };

			hs_put(h, keys + 8, sizes[k], 8);
			hs_put(h, keys + 32, k == 1 ? UINT64_MAX : 1ull << 31, 8);
		} else {
			/* dk_log2_size 8, dk_log2_index_bytes 9, dk_kind 10, dk_nentries 24 */
			static const uint8_t lg[] = { 31, 31, 255, 2 };

			hs_put(h, keys + 8, lg[k], 1);
			hs_put(h, keys + 9, lg[k] + 2u, 1);
			hs_put(h, keys + 24, k == 1 ? UINT64_MAX : 1ull << 31, 8);
		}
		rp_open(&r2, h);
		memset(names, 'x', sizeof(names[0]) * b.n);
		ret = py_model_thread_names_all(&r2.m, b.th, b.n, names);
		NOTE(u, h, ret != 0);
		for (i = 0; i < b.n; i++)
			NOTE(u, h, names[i][0] == '\0');
		NOTE(u, h, others_intact(&r2, &b, b.n));
		rp_close(u, &r2, h->name);
	}
out:
	hs_reset(h);
	rp_close(u, &rp, h->name);
}

static void t_hostile_dict(struct unit *u)
{
	each_snapshot(u, huge_dict);
}

/* ---- forged _Py_DebugOffsets --------------------------------------------------- */

/* A reader that serves another one's memory with a few bytes replaced:
 * forging one table entry costs no copy of the whole snapshot. */
struct overlay {
	struct reader r;
	struct reader *inner;
	uint64_t addr;
	uint8_t bytes[PY_DEBUG_OFFSETS_MAX];
	size_t len;
};

static int overlay_read(struct reader *r, uint64_t addr, void *buf, size_t len)
{
	struct overlay *ov = (struct overlay *)r;
	uint64_t lo, hi;
	int ret = reader_read(ov->inner, addr, buf, len);

	if (ret)
		return ret;
	lo = addr > ov->addr ? addr : ov->addr;
	hi = addr + len < ov->addr + ov->len ? addr + len : ov->addr + ov->len;
	if (lo < hi)
		memcpy((uint8_t *)buf + (lo - addr), ov->bytes + (lo - ov->addr), (size_t)(hi - lo));
	return 0;
}

static void overlay_free(struct reader *r)
{
	(void)r;
}

static const struct reader_ops overlay_ops = { overlay_read, overlay_free, NULL };

/*
 * Every 8-byte slot of the table (3.13+ snapshots), set to each of a list of
 * values no real interpreter has: the model either refuses the table or
 * walks within its bounds. Under ASan (build-asan/unit-tests) this also
 * proves no accepted table makes it read outside its own buffers.
 */
static void forged_offsets(struct unit *u, struct hsnap *h)
{
	static const uint64_t bad[] = {
		UINT64_MAX, 1ull << 32, (1ull << 20) + 8, 4096, 1000, 129, 7, 0,
	};
	static struct overlay ov;
	struct replay rp;
	size_t slot, k, nbad = sizeof(bad) / sizeof(bad[0]);

	/* the same binary as -gil0: the same table */
	if (strstr(h->name, "-gil1"))
		return;
	hs_reset(h);
	if (rp_open(&rp, h) || rp.init || rp.m.off.version_hex < 0x030d0000) {
		rp_close(u, &rp, h->name);
		return;
	}
	memset(&ov, 0, sizeof(ov));
	ov.r.ops = &overlay_ops;
	ov.inner = rp.r;
	ov.addr = rp.m.loc.runtime_addr;
	ov.len = sizeof(ov.bytes);
	while (ov.len >= 256 && reader_read(rp.r, ov.addr, ov.bytes, ov.len))
		ov.len /= 2;
	for (slot = 1; slot < ov.len / 8 && slot < 128; slot++) {
		uint64_t orig;

		memcpy(&orig, ov.bytes + slot * 8, 8);
		for (k = 0; k < nbad + 2; k++) {
			uint64_t v = k < nbad ? bad[k] : k == nbad ? orig + 1 : orig + 8;
			struct replay r2;

			memset(&r2, 0, sizeof(r2));
			memcpy(ov.bytes + slot * 8, &v, 8);
			clock_gettime(CLOCK_MONOTONIC, &r2.t0);
			r2.rss0 = rss_kb();
			ov.r.nreads = 0;
			r2.init = py_model_init(&r2.m, &ov.r, &rp.m.loc);
			walk_all(&r2);
			if (!CHECK(u, ov.r.nreads < MAX_READS))
				printf("    %s: slot %zu = 0x%llx: %llu reads\n", h->name, slot,
				       (unsigned long long)v, (unsigned long long)ov.r.nreads);
			r2.r = NULL;	/* not ours to free */
			rp_close(u, &r2, h->name);
		}
		memcpy(ov.bytes + slot * 8, &orig, 8);
	}
	rp.r->nreads = 0;	/* counted per case above */
	rp_close(u, &rp, h->name);
}

static void t_hostile_debug_offsets(struct unit *u)
{
	each_snapshot(u, forged_offsets);
}

/*
 * Regression (found by fuzz_debug_offsets): a table whose str fields lie
 * past PyASCIIObject (but inside the str size it gives) was accepted, and
 * str_read picked the length and state out of its 128-byte header buffer at
 * those offsets: a stack read out of bounds. Such a table is refused now.
 */
static void forged_str_offsets(struct unit *u, struct hsnap *h)
{
	static const struct {
		unsigned minor;
		uint16_t uni_size, uni_state, uni_length;
	} slots[] = {
		{ 13, 67, 68, 69 }, { 14, 77, 78, 79 }, { 15, 89, 90, 91 },
	};
	struct replay rp;
	uint64_t rt, size;
	unsigned minor;
	size_t i;

	hs_reset(h);
	rp_open(&rp, h);
	rt = rp.m.loc.runtime_addr;
	minor = (rp.m.off.version_hex >> 16) & 0xff;
	NOTE(u, h, rp.init == 0);
	rp_close(u, &rp, h->name);
	for (i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		struct replay r2;

		if (slots[i].minor != minor)
			continue;
		size = hs_get(h, rt + slots[i].uni_size * 8u, 8);
		/* state at the end of a big str struct, length just before it */
		hs_put(h, rt + slots[i].uni_size * 8u, 1000, 8);
		hs_put(h, rt + slots[i].uni_state * 8u, 996, 8);
		hs_put(h, rt + slots[i].uni_length * 8u, 984, 8);
		rp_open(&r2, h);
		NOTE(u, h, r2.init == GS_ECORRUPT);
		walk_all(&r2);
		rp_close(u, &r2, h->name);
		/* the state field alone past the ASCII header */
		hs_reset(h);
		hs_put(h, rt + slots[i].uni_state * 8u, size - 4, 8);
		rp_open(&r2, h);
		NOTE(u, h, r2.init == GS_ECORRUPT || size - 4 <= 32);
		walk_all(&r2);
		rp_close(u, &r2, h->name);
	}
	hs_reset(h);
}

static void t_hostile_debug_offsets_str(struct unit *u)
{
	each_snapshot(u, forged_str_offsets);
}

/* ---- the code cache's memory ----------------------------------------------------- */

/*
 * Synthetic memory for 3.12: any address in [CODES, CODES + 4 GiB) holds a
 * code object whose name, qualname and file name are 1000-character strs
 * and whose line table claims LINETABLE_MAX bytes, all readable: the most a
 * code object can make the cache keep. The cache must stay within
 * CODE_CACHE_BYTES however many of them the stacks name.
 */
#define CODES 0x100000000000ull
#define STR 0x200000000000ull
#define TABLE 0x300000000000ull

struct synth {
	struct reader r;
	const struct py_offsets *o;
};

static uint8_t synth_byte(const struct synth *s, uint64_t a)
{
	const struct py_offsets *o = s->o;
	uint64_t off, v;

	if (a >= CODES && a < CODES + (1ull << 32)) {
		off = (a - CODES) % 512;
		if (off >= o->co_name && off < o->co_name + 8u)
			v = STR, off -= o->co_name;
		else if (off >= o->co_filename && off < o->co_filename + 8u)
			v = STR, off -= o->co_filename;
		else if (off >= o->co_qualname && off < o->co_qualname + 8u)
			v = STR, off -= o->co_qualname;
		else if (off >= o->co_linetable && off < o->co_linetable + 8u)
			v = TABLE, off -= o->co_linetable;
		else if (off == o->co_firstlineno)
			return 1;
		else
			return 0;
		return (uint8_t)(v >> (8 * off));
	}
	if (a >= STR && a < STR + 4096) {
		off = a - STR;
		if (off >= o->uni_length && off < o->uni_length + 8u)
			return (uint8_t)((uint64_t)1000 >> (8 * (off - o->uni_length)));
		if (off >= o->uni_state && off < o->uni_state + 4u) {
			v = 1ull << o->uni_compact_bit | 1ull << o->uni_ascii_bit |
			    1ull << o->uni_kind_shift;
			return (uint8_t)(v >> (8 * (off - o->uni_state)));
		}
		return off >= o->uni_ascii_size ? 'a' : 0;
	}
	if (a >= TABLE && a < TABLE + (1u << 20)) {
		off = a - TABLE;
		if (off >= o->var_ob_size && off < o->var_ob_size + 8u)
			return (uint8_t)((uint64_t)LINETABLE_MAX >> (8 * (off - o->var_ob_size)));
		return 0x80;
	}
	return 0;
}

static int synth_read(struct reader *r, uint64_t addr, void *buf, size_t len)
{
	const struct synth *s = (const struct synth *)r;
	uint8_t *p = buf;
	size_t i;

	if (!((addr >= CODES && addr < CODES + (1ull << 32)) ||
	      (addr >= STR && addr < STR + 4096) || (addr >= TABLE && addr < TABLE + (1u << 20))))
		return GS_EFAULT;
	for (i = 0; i < len; i++)
		p[i] = synth_byte(s, addr + i);
	return 0;
}

static void synth_free(struct reader *r)
{
	(void)r;
}

static const struct reader_ops synth_ops = { .read = synth_read, .free = synth_free };

static void t_hostile_code_cache_bytes(struct unit *u)
{
	struct synth s = { .r = { .ops = &synth_ops } };
	struct py_location loc = { .runtime_addr = CODES, .version_hex = 0x030c01f0,
				   .free_threaded = 0 };
	const struct py_code *c;
	struct py_model m;
	size_t k, ok = 0, tables = 0;
	int ret = 0;

	s.o = py_offsets_table(loc.version_hex);
	if (!CHECK(u, s.o != NULL) || !CHECK_EQ(u, py_model_init(&m, &s.r, &loc), 0))
		return;
	for (k = 0; k < 2000; k++) {
		ret = code_get(&m, CODES + 512 * k, &c);
		if (ret)
			break;
		CHECK_EQ(u, strlen(c->name), 1000);
		ok++;
		tables += c->linetable_len == LINETABLE_MAX;
	}
	/* 256 KiB tables: the budget holds about 250 of them; later code
	 * objects are kept without their lines, until even their names do
	 * not fit: then they are refused */
	CHECK_EQ(u, ret, GS_ERANGE);
	CHECK(u, tables >= 200 && ok > tables);
	CHECK(u, tables * (size_t)LINETABLE_MAX + ok * 3003 <= CODE_CACHE_BYTES);
	/* a flush between samples makes room again */
	code_cache_maybe_flush(m.codes);
	CHECK_EQ(u, code_cache_size(m.codes), 0);
	CHECK_EQ(u, code_get(&m, CODES + 512 * 4000, &c), 0);
	py_model_release(&m);
}

/*
 * The sampler keeps a callee's name while the stack slot it was found in
 * still holds the same object (py_model_callee_still): true while the slot
 * is unchanged, false once it holds anything else (tag bits aside), an
 * absurd pointer, or lies in unmapped memory; and, where the frame's saved
 * stack pointer was read with it (3.14+), false once that changed: it was
 * stale, the instruction had not saved its own yet. Slots: each thread
 * state's first word in every snapshot (memory the snapshot holds); the
 * "stack pointer": the thread state's second word.
 */
static int still_after_sp(struct unit *u, struct hsnap *h, uint64_t slot, uint64_t put,
			  uint64_t obj, uint64_t sp_put)
{
	struct py_callee_ref ref = { slot, obj, 0, 0 };
	struct replay rp;
	int ret = -1;

	hs_reset(h);
	if (slot > 8) {
		ref.sp_at = slot + 8;
		ref.sp = hs_get(h, slot + 8, 8);
	}
	if (put)
		hs_put(h, slot, put, 8);
	if (sp_put)
		hs_put(h, slot + 8, sp_put, 8);
	if (!rp_open(&rp, h) && !rp.init)
		ret = py_model_callee_still(&rp.m, &ref);
	rp_close(u, &rp, "callee");
	hs_reset(h);
	return ret;
}

static int still_after(struct unit *u, struct hsnap *h, uint64_t slot, uint64_t put,
		       uint64_t obj)
{
	return still_after_sp(u, h, slot, put, obj, 0);
}

/* py_model_native_name keeps a known name while its slot still holds the
 * object, looks again (here: a frame without code, so "") once it does
 * not, and names nothing at a site that runs no C code. */
static void native_name_kept(struct unit *u, struct hsnap *h, uint64_t slot, uint64_t obj)
{
	struct py_site call = { 1, 0, 0, 0 }, none = { 0, 1, 0, 0 };
	struct py_callee_ref ref = { slot, obj, 0, 0 };
	struct py_frame f;
	struct replay rp;
	char out[32];

	memset(&f, 0, sizeof(f));
	f.opcode = -1;
	hs_reset(h);
	if (rp_open(&rp, h) || rp.init) {
		rp_close(u, &rp, "callee");
		return;
	}
	snprintf(out, sizeof(out), "kept");
	NOTE(u, h, py_model_native_name(&rp.m, &f, &call, 1, 1, &ref, out, sizeof(out)) == 0);
	NOTE(u, h, !strcmp(out, "kept"));
	NOTE(u, h, py_model_native_name(&rp.m, &f, &none, 0, 0, &ref, out, sizeof(out)) == 0);
	NOTE(u, h, !strcmp(out, "kept"));
	ref.obj = obj + 16;
	NOTE(u, h, py_model_native_name(&rp.m, &f, &call, 1, 0, &ref, out, sizeof(out)) == 0);
	NOTE(u, h, !strcmp(out, "kept"));	/* not asked to check */
	NOTE(u, h, py_model_native_name(&rp.m, &f, &call, 1, 1, &ref, out, sizeof(out)) == 1);
	NOTE(u, h, out[0] == '\0');
	rp_close(u, &rp, "callee");
}

static void callee_slots(struct unit *u, struct hsnap *h)
{
	uint64_t slots[8], vals[8];
	struct replay rp;
	size_t n = 0, i;

	if (rp_open(&rp, h) || rp.init) {
		rp_close(u, &rp, "callee");
		return;
	}
	py_model_threads(&rp.m, th, PY_MAX_THREADS, &n, NULL, 0);
	NOTE(u, h, n > 0);
	for (i = 0; i < n && i < 8; i++) {
		slots[i] = th[i].tstate;
		vals[i] = hs_get(h, slots[i], 8) & ~rp.m.off.fr_code_tag_mask;
	}
	rp_close(u, &rp, "callee");
	if (n)
		native_name_kept(u, h, slots[0], vals[0]);
	for (i = 0; i < n && i < 8; i++) {
		NOTE(u, h, still_after(u, h, slots[i], 0, vals[i]) == 1);
		NOTE(u, h, still_after(u, h, slots[i], vals[i] + 16, vals[i]) == 0);
		NOTE(u, h, still_after(u, h, slots[i], 0xdead000000000000ull, vals[i]) == 0);
		NOTE(u, h, still_after_sp(u, h, slots[i], 0, vals[i],
					  hs_get(h, slots[i] + 8, 8) + 8) == 0);
	}
	NOTE(u, h, still_after(u, h, 8, 0, 0) == 0);	/* unmapped */
	NOTE(u, h, still_after(u, h, 0, 0, 0) == 0);	/* none found */
}

static void t_hostile_callee_still(struct unit *u)
{
	each_snapshot(u, callee_slots);
}

/*
 * 3.14+ name an operator's receiver by the stack pointer the frame saved.
 * Release builds never clear it, so at an instruction's start it is the one
 * an earlier instruction left: one too low for the operands points into the
 * frame's locals (a cell was named "cell.__matmul__" flat out on 3.14t),
 * one past the stack's end at whatever follows the frame. Both must give
 * the bare special method; a stack pointer with room for the operands must
 * name the receiver's type. Objects put in the slots: the frame's code
 * object (type "code"), so the name says where it was read.
 */
/* A forged object at fake->obj whose type is named "foo.fake", put in the
 * operand slots at `at`, with the frame's saved stack pointer set to sp. */
struct fake_operand {
	uint64_t sp_field, obj;
	uint32_t ob_type, tp_name;
};

static int operator_name(struct unit *u, struct hsnap *h, const struct py_frame *f,
			 const struct fake_operand *k, uint64_t sp, uint64_t at, char *out,
			 size_t outlen)
{
	struct replay rp;
	int ret = -2;

	hs_reset(h);
	if (!hs_put(h, k->sp_field, sp, 8) && !hs_put(h, at, k->obj, 8) &&
	    !hs_put(h, at + 8, k->obj, 8) && !hs_put(h, k->obj + k->ob_type, k->obj + 128, 8) &&
	    !hs_put(h, k->obj + 128 + k->tp_name, k->obj + 256, 8) &&
	    !hs_put(h, k->obj + 256, 0x656b61662e6f6f66ull, 8) && !hs_put(h, k->obj + 264, 0, 8) &&
	    !rp_open(&rp, h) && !rp.init)
		ret = py_model_operator(&rp.m, f, out, outlen, NULL);
	rp_close(u, &rp, "operator");
	hs_reset(h);
	return ret;
}

static void operator_sp(struct unit *u, struct hsnap *h)
{
	static struct py_frame frames[64];
	struct py_frame f;
	struct replay rp;
	const char *dunder = NULL;
	char want[128], got[128];
	uint64_t base = 0;
	size_t n = 0, nf = 0, i;
	struct fake_operand k;
	int trunc, op, arg;

	if (rp_open(&rp, h) || rp.init || rp.m.off.fr_stackpointer == OFF_NONE ||
	    rp.m.off.fr_localsplus == OFF_NONE) {
		rp_close(u, &rp, "operator");
		return;		/* before 3.14: no saved stack pointer */
	}
	memset(&f, 0, sizeof(f));
	/* an operator without a fixed type, whose receiver is 2 slots down */
	for (op = 0; op < 256 && !dunder; op++)
		for (arg = 0; arg < 32 && py_model_is_operator(&rp.m, op) && !dunder; arg++)
			if (!rp.m.op_info[op].type[0] &&
			    py_operator_receiver_depth(&rp.m.op_info[op], arg) == 2 &&
			    py_operator_dunder(&rp.m.op_info[op], arg) &&
			    !py_operator_reflects(&rp.m.op_info[op], arg)) {
				dunder = py_operator_dunder(&rp.m.op_info[op], arg);
				f.opcode = (int16_t)op;
				f.oparg = (int16_t)arg;
			}
	py_model_threads(&rp.m, th, PY_MAX_THREADS, &n, NULL, 0);
	/* a frame with room for two operands, its stack in the snapshot */
	for (i = 0; i < n && !base; i++) {
		if (py_model_stack(&rp.m, th[i].tstate, frames, 64, &nf, &trunc))
			continue;
		for (size_t j = 0; j < nf && !base; j++) {
			const struct py_code *c = frames[j].code;
			uint64_t b;

			if (!c || c->stacksize < 2 || c->nlocalsplus < 2)
				continue;
			b = frames[j].addr + rp.m.off.fr_localsplus + 8 * (uint64_t)c->nlocalsplus;
			if (hs_at(h, b - 16, 32) &&
			    hs_at(h, frames[j].addr + rp.m.off.fr_stackpointer, 8)) {
				f.code = c;
				f.addr = frames[j].addr;
				base = b;
			}
		}
	}
	if (!NOTE(u, h, dunder && base)) {
		rp_close(u, &rp, "operator");
		return;
	}
	/* the model keeps its code objects: keep this one past release */
	{
		static struct py_code code;

		code = *f.code;
		f.code = &code;
	}
	/* the forged operand lives in another thread's state (the model's
	 * start reads none of it) */
	k.sp_field = f.addr + rp.m.off.fr_stackpointer;
	k.obj = 0;
	for (i = 0; i < n && !k.obj; i++)
		if (hs_at(h, th[i].tstate, 272) && !(f.addr >= th[i].tstate && f.addr < th[i].tstate + 272))
			k.obj = th[i].tstate;
	k.ob_type = rp.m.off.ob_type;
	k.tp_name = rp.m.off.tp_name;
	rp_close(u, &rp, "operator");
	if (!NOTE(u, h, k.obj && k.ob_type < 128 && k.tp_name < 128))
		return;
	snprintf(want, sizeof(want), "foo.fake.%s", dunder);
	/* room for both operands: the receiver's type */
	if (!NOTE(u, h, operator_name(u, h, &f, &k, base + 16, base, got, sizeof(got)) == 0 &&
			!strcmp(got, want)))
		printf("    got %s, want %s\n", got, want);
	/* stale, too low: the operands would be the frame's last locals */
	NOTE(u, h, operator_name(u, h, &f, &k, base, base - 16, got, sizeof(got)) == 0 &&
		   !strcmp(got, dunder));
	NOTE(u, h, operator_name(u, h, &f, &k, base + 8, base - 8, got, sizeof(got)) == 0 &&
		   !strcmp(got, dunder));
	/* past the stack's end */
	NOTE(u, h, operator_name(u, h, &f, &k, base + 8 * (uint64_t)f.code->stacksize + 8,
				 base, got, sizeof(got)) == 0 && !strcmp(got, dunder));
}

static void t_hostile_operator_sp(struct unit *u)
{
	each_snapshot(u, operator_sp);
}

UNIT_SUITE(hostile)
{
	UNIT_RUN(u, t_hostile_callee_still);
	UNIT_RUN(u, t_hostile_operator_sp);
	UNIT_RUN(u, t_hostile_thread_list);
	UNIT_RUN(u, t_hostile_frame_chain);
	UNIT_RUN(u, t_hostile_torn_chains);
	UNIT_RUN(u, t_hostile_sizes);
	UNIT_RUN(u, t_hostile_dict);
	UNIT_RUN(u, t_hostile_debug_offsets);
	UNIT_RUN(u, t_hostile_debug_offsets_str);
	UNIT_RUN(u, t_hostile_code_cache_bytes);
}
