/*
 * walk.c - the whole interpreter walk the snapshot fuzzers run; see walk.h.
 */
#include "walk.h"

#include <string.h>

#include "../../src/cpython/code.h"
#include "../../src/cpython/gilinfo.h"
#include "../../src/cpython/names.h"
#include "../../src/util/strbuf.h"

/* Static: the harness is single-threaded, and these are large. */
static struct py_thread threads[PY_MAX_THREADS];
static struct py_frame frames[PY_MAX_DEPTH];
static char names[PY_MAX_THREADS][PY_THREAD_NAME_MAX];
static struct py_window win;

/* Where glibc keeps the kernel tid in struct pthread on x86_64: the model
 * searches for it, so give it real candidates to find. */
#define GLIBC_TID_OFF 0x2d0

static void encode(struct strbuf *sb, const char *s)
{
	/* target strings end up in JSON and SVG output */
	strbuf_add_json_str(sb, s);
	strbuf_add_xml_str(sb, s);
}

static void walk_stacks(struct py_model *m, size_t n, struct strbuf *sb)
{
	size_t i, j, nf;
	int trunc, pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			if (py_model_stack(m, threads[i].tstate, frames, PY_MAX_DEPTH, &nf, &trunc))
				strbuf_addch(sb, '!');
			for (j = 0; j < nf; j++) {
				const struct py_code *c = frames[j].code;

				strbuf_addf(sb, "%d %d %d", (int)frames[j].line,
					    (int)frames[j].offset, (int)frames[j].opcode);
				encode(sb, c->name);
				encode(sb, c->qualname);
				encode(sb, c->filename);
			}
			if (nf && pass == 0) {
				struct py_callee_ref ref;
				char callee[96];

				if (!py_model_callee(m, &frames[0], callee, sizeof(callee), &ref)) {
					encode(sb, callee);
					strbuf_addf(sb, "%d", py_model_callee_still(m, &ref));
				}
			}
		}
		strbuf_reset(sb);
	}
}

/* The sampler's way (src/sample/sampler.c): the head in one batch, each
 * thread state read and read again in a batch with its links, the memory
 * its last walk read and its innermost code, then the stack from that. */
static void walk_fast(struct py_model *m, size_t n, struct strbuf *sb)
{
	struct py_head h;
	size_t i, j, nf;
	int trunc, linked;

	if (py_model_head(m, &h))
		return;
	py_model_begin_sample(m, &h);
	for (i = 0; i < n; i++) {
		struct py_thread t, fresh;
		struct py_stack_end end;
		struct py_guess g;

		if (py_model_thread_read(m, threads[i].tstate, h.interp, &t))
			continue;
		(void)py_model_thread_linked(m, &t, h.threads_head);
		(void)py_model_stack_top_w(m, t.top, NULL, frames, PY_MAX_DEPTH, &nf, &trunc);
		py_guess_make(&m->walked, frames, nf, &g);
		if (py_model_thread_reread(m, &t, h.threads_head, &g, &fresh, &linked, &win))
			continue;
		/* as the sampler does: with the thread's base, and how it ended */
		if (py_model_stack_thread(m, &fresh, &win, frames, PY_MAX_DEPTH, &nf, &trunc, &end))
			strbuf_addch(sb, '!');
		strbuf_addstr(sb, py_torn_reason(end.torn));
		for (j = 0; j < nf; j++) {
			strbuf_addf(sb, "%d %d", (int)frames[j].line, (int)frames[j].opcode);
			encode(sb, frames[j].code->qualname);
		}
	}
	strbuf_reset(sb);
}

void fuzz_walk(struct reader *r, const struct py_location *loc)
{
	struct strbuf sb = STRBUF_INIT;
	struct py_location loc2;
	struct py_model m;
	struct py_gil gil;
	struct py_gil_info gi;
	int32_t tids[64];
	uint64_t interp;
	size_t n = 0, ntids = 0, i;

	if (py_model_init(&m, r, loc))
		goto out;
	py_model_threads(&m, threads, PY_MAX_THREADS, &n, NULL, 0);
	if (!py_model_interp(&m, &interp) && !py_model_gil(&m, interp, &gil)) {
		py_model_gil_info(&m, interp, &gil, &gi);
		for (i = 0; i < gi.nmodules && i < PY_GIL_MODULES_MAX; i++)
			encode(&sb, gi.modules[i]);
	}
	walk_stacks(&m, n, &sb);
	walk_fast(&m, n, &sb);
	memset(names, 0, n * sizeof(names[0]));
	py_model_thread_names_all(&m, threads, n, names);
	for (i = 0; i < n; i++)
		encode(&sb, names[i]);
	code_cache_maybe_flush(m.codes);
	strbuf_reset(&sb);
	if (m.off.ts_native_thread_id != OFF_NONE) {
		py_model_format_stacks(&m, &sb, NULL, 0);
		goto out;
	}

	/* 3.9-3.10: tids the way the sampler has them, from the task list;
	 * the model must find glibc's tid field among them. */
	for (i = 0; i < n && ntids < 64; i++) {
		uint32_t v;

		if (!reader_read_u32(r, threads[i].pthread_id + GLIBC_TID_OFF, &v))
			tids[ntids++] = (int32_t)v;
	}
	py_model_release(&m);
	loc2 = *loc;
	loc2.pthread_tid_off = 0;
	if (py_model_init(&m, r, &loc2))
		goto out;
	py_model_threads(&m, threads, PY_MAX_THREADS, &n, tids, ntids);
	py_model_format_stacks(&m, &sb, tids, ntids);
out:
	py_model_release(&m);
	strbuf_release(&sb);
}

static const char *meta_get(void *ctx, const char *key)
{
	return reader_snapshot_meta((struct reader *)ctx, key);
}

void fuzz_walk_snapshot(const uint8_t *data, size_t size)
{
	struct reader *r = NULL;
	struct py_location loc;

	if (reader_snapshot_from_bytes(data, size, &r))
		return;
	if (!py_location_parse(meta_get, r, &loc))
		fuzz_walk(r, &loc);
	reader_free(r);
}
