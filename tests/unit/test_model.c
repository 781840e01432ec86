/*
 * test_model.c - the interpreter model replayed over recorded memory.
 *
 * Each tests/corpus/snapshots/<version>.snap was recorded by
 * `gilscope snapshot` from tests/corpus/snapshot_target.py running under
 * that interpreter, with the stacks the live walk saw in <version>.snap.stacks.
 * Replaying must give exactly those stacks, and they must show what the
 * target does (known functions, the exec'd code, the non-ASCII name).
 * Corrupted copies of the memory must be rejected or cut short, never
 * crash or loop.
 */
#include "unit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cpython/model.h"
#include "../../src/cpython/offsets.h"
#include "../../src/target/reader.h"
#include "../../src/util/error.h"
#include "../../src/util/strbuf.h"

static const char *corpus_dir(void)
{
	const char *d = getenv("GILSCOPE_CORPUS");

	return d ? d : "tests/corpus/snapshots";
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto out;
	buf = malloc((size_t)n + 1);
	if (!buf)
		goto out;
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	*len = (size_t)n;
out:
	fclose(f);
	return buf;
}

/* Call fn with each snapshot of the corpus (name, bytes); the number seen,
 * or -1 when there is no corpus (the test is then skipped). */
typedef void (*snap_fn)(struct unit *u, const char *name, char *snap, size_t len, void *ctx);

static int each_snapshot(struct unit *u, snap_fn fn, void *ctx)
{
	DIR *d = opendir(corpus_dir());
	struct dirent *de;
	int n = 0;

	if (!d) {
		unit_skip(u, "no snapshot corpus");
		return -1;
	}
	while ((de = readdir(d))) {
		char path[1024];
		size_t slen = 0, nl = strlen(de->d_name);
		char *snap;

		if (nl < 6 || strcmp(de->d_name + nl - 5, ".snap"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", corpus_dir(), de->d_name);
		snap = slurp(path, &slen);
		if (CHECK(u, snap != NULL))
			fn(u, de->d_name, snap, slen, ctx);
		free(snap);
		n++;
	}
	closedir(d);
	CHECK(u, n >= 1);
	return n;
}

static const char *meta_get(void *ctx, const char *key)
{
	return reader_snapshot_meta((struct reader *)ctx, key);
}

/* Replay one snapshot (from bytes) and format its stacks. */
static int replay(const uint8_t *snap, size_t len, struct strbuf *out)
{
	struct reader *r = NULL;
	struct py_location loc;
	struct py_model m;
	int ret;

	ret = reader_snapshot_from_bytes(snap, len, &r);
	if (ret)
		return ret;
	ret = py_location_parse(meta_get, r, &loc);
	if (ret)
		goto out;
	ret = py_model_init(&m, r, &loc);
	if (!ret)
		ret = py_model_format_stacks(&m, out, NULL, 0);
	py_model_release(&m);
out:
	reader_free(r);
	return ret;
}

/* The .stacks file has tids from the live run; a replay without the task
 * list knows tids only where the interpreter records them (3.11+). */
static void strip_tids(char *s)
{
	char *p = s, *w = s;

	while (*p) {
		if (!strncmp(p, " tid ", 5) && (p == s || p[-1] != '\n')) {
			p += 5;
			while (*p && *p != '\n')
				p++;
			continue;
		}
		*w++ = *p++;
	}
	*w = '\0';
}

static void replay_one(struct unit *u, const char *name, char *snap, size_t slen, void *ctx)
{
	char path[1024];
	size_t elen = 0;
	char *expect;
	struct strbuf got = STRBUF_INIT;
	int ret;

	(void)ctx;
	snprintf(path, sizeof(path), "%s/%s.stacks", corpus_dir(), name);
	expect = slurp(path, &elen);
	if (!CHECK(u, expect != NULL))
		return;
	ret = replay((const uint8_t *)snap, slen, &got);
	if (!CHECK_EQ(u, ret, 0))
		printf("    in %s\n", name);
	strip_tids(expect);
	strip_tids(got.buf ? got.buf : expect);
	if (!CHECK_STREQ(u, strbuf_str(&got), expect))
		printf("    in %s\n", name);
	/* what the target does, independently of the recording */
	CHECK(u, strstr(expect, "  recurse ") != NULL);
	CHECK(u, strstr(expect, "  from_exec <string>:3\n") != NULL);
	CHECK(u, strstr(expect, "\xc3\xbc" "n" "\xc3\xaf" "code_f" "\xc3\xbc" "nction ") != NULL);
	CHECK(u, strstr(expect, "  lock_waiter ") != NULL);
	CHECK(u, strstr(expect, "gen_sleeper ") != NULL);
	/* 3.11+ give qualified names */
	if (strstr(name, "3.9.") != name && strstr(name, "3.10.") != name)
		CHECK(u, strstr(expect, "Worker.run_io ") != NULL);
	{
		/* recurse(40) plus its base case: 41 frames of recurse */
		const char *p = expect;
		int depth = 0;

		while ((p = strstr(p, "  recurse ")))
			depth++, p++;
		CHECK_EQ(u, depth, 41);
	}
	strbuf_release(&got);
	free(expect);
}

static void t_model_replay_all(struct unit *u)
{
	int n = each_snapshot(u, replay_one, NULL);

	if (n >= 0)
		printf("    replayed %d snapshots\n", n);
}

static void corrupt_one(struct unit *u, const char *name, char *snap, size_t slen, void *ctx)
{
	uint64_t *seed = ctx;
	size_t hdr;
	uint8_t *copy = malloc(slen);
	int i, k;

	(void)u;
	(void)name;
	/* leave magic + metadata alone: corrupt the memory regions */
	hdr = 8 + 4 + (size_t)((uint8_t)snap[8] | (uint8_t)snap[9] << 8) + 4;
	for (i = 0; i < 40 && copy; i++) {
		struct strbuf sb = STRBUF_INIT;

		memcpy(copy, snap, slen);
		for (k = 0; k < 1 + i * 4; k++) {
			size_t pos;

			*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
			pos = hdr + (size_t)(*seed >> 33) % (slen - hdr);
			/* pointer-ish garbage, zero, or all-ones */
			copy[pos] = (uint8_t)(k % 3 == 0 ? 0 : k % 3 == 1 ? 0xff : *seed >> 13);
		}
		replay(copy, slen, &sb);
		strbuf_release(&sb);
	}
	free(copy);
}

/* Flip bytes all over each snapshot's memory: every replay must end (the
 * walks are bounded) with a result or an error, never a crash. */
static void t_model_replay_corrupt(struct unit *u)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	each_snapshot(u, corrupt_one, &seed);
}

/* What the sampler does with each thread (src/sample/sampler.c): the
 * interpreter head in one batch, the thread state read alone and read
 * again in one batch with its links, the memory its last walk read and its
 * innermost code; then the stack from that window. Over every snapshot
 * the frames must be exactly those of the plain walk. */
static struct py_thread sp_threads[PY_MAX_THREADS];
static struct py_frame sp_plain[PY_MAX_DEPTH], sp_fast[PY_MAX_DEPTH];
static struct py_window sp_win;

static int same_frames(const struct py_frame *a, size_t na, const struct py_frame *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (a[i].code != b[i].code || a[i].line != b[i].line ||
		    a[i].opcode != b[i].opcode)
			return 0;
	return 1;
}

static int sampler_path(struct unit *u, const uint8_t *snap, size_t len, const char *name)
{
	struct reader *r = NULL;
	struct py_location loc;
	struct py_model m;
	struct py_head h;
	size_t n = 0, i, np, nf, pass;
	int ret, trunc, linked, checked = 0;

	if (!CHECK_EQ(u, reader_snapshot_from_bytes(snap, len, &r), 0))
		return 0;
	if (!CHECK_EQ(u, py_location_parse(meta_get, r, &loc), 0) ||
	    !CHECK_EQ(u, py_model_init(&m, r, &loc), 0)) {
		reader_free(r);
		return 0;
	}
	ret = py_model_threads(&m, sp_threads, PY_MAX_THREADS, &n, NULL, 0);
	CHECK_EQ(u, ret, 0);
	CHECK(u, n >= 2);
	ret = py_model_head(&m, &h);
	CHECK_EQ(u, ret, 0);
	CHECK_EQ(u, h.single, 1);
	CHECK(u, n && h.threads_head == sp_threads[0].tstate);
	for (pass = 0; pass < 2; pass++) {
		/* the second pass with the code objects cached and checked */
		py_model_begin_sample(&m, &h);
		for (i = 0; i < n; i++) {
			struct py_thread t, fresh;
			struct py_guess g;

			if (py_model_stack(&m, sp_threads[i].tstate, sp_plain, PY_MAX_DEPTH, &np,
					   &trunc))
				continue;	/* the recording need not hold every thread's */
			ret = py_model_thread_read(&m, sp_threads[i].tstate, sp_threads[i].interp, &t);
			if (!CHECK_EQ(u, ret, 0))
				continue;
			CHECK_EQ(u, py_model_thread_linked(&m, &t, h.threads_head), 1);
			ret = py_model_stack_top_w(&m, t.top, NULL, sp_fast, PY_MAX_DEPTH, &nf, &trunc);
			CHECK_EQ(u, ret, 0);
			if (!CHECK(u, same_frames(sp_plain, np, sp_fast, nf)))
				printf("    %s thread %zu: %zu frames, %zu from the top\n", name, i, np, nf);
			py_guess_make(&m.walked, sp_fast, nf, &g);
			ret = py_model_thread_reread(&m, &t, h.threads_head, &g, &fresh, &linked, &sp_win);
			CHECK_EQ(u, ret, 0);
			CHECK_EQ(u, linked, 1);
			CHECK_EQ(u, fresh.top, t.top);
			CHECK_EQ(u, fresh.tstate, t.tstate);
			ret = py_model_stack_top_w(&m, fresh.top, &sp_win, sp_fast, PY_MAX_DEPTH, &nf,
						   &trunc);
			CHECK_EQ(u, ret, 0);
			if (!CHECK(u, same_frames(sp_plain, np, sp_fast, nf)))
				printf("    %s thread %zu: %zu frames, %zu through the window\n", name, i,
				       np, nf);
			checked++;
		}
	}
	py_model_release(&m);
	reader_free(r);
	return checked;
}

static void sampler_path_one(struct unit *u, const char *name, char *snap, size_t slen,
			     void *ctx)
{
	int *threads = ctx, k = sampler_path(u, (const uint8_t *)snap, slen, name);

	/* every snapshot has threads with stacks to compare */
	if (!CHECK(u, k >= 4))
		printf("    %s: %d threads compared\n", name, k);
	*threads += k;
}

static void t_model_sampler_path(struct unit *u)
{
	int threads = 0, n = each_snapshot(u, sampler_path_one, &threads);

	if (n >= 0)
		printf("    %d snapshots, %d thread stacks read the sampler's way\n", n, threads);
}

UNIT_SUITE(model)
{
	UNIT_RUN(u, t_model_replay_all);
	UNIT_RUN(u, t_model_replay_corrupt);
	UNIT_RUN(u, t_model_sampler_path);
}
