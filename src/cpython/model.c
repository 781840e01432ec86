/*
 * model.c - walking CPython's runtime from outside: interpreters, thread
 * states, the GIL, frames. Every pointer read here is target data: checked
 * for alignment and non-zero before use; every list walk is bounded and
 * cycle-checked; a failed read ends that walk with what was gathered.
 */
#include "model.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "code.h"
#include "linetable.h"
#include "opcodes.h"
#include "../util/error.h"
#include "../util/strbuf.h"

/* glibc's struct pthread keeps the kernel tid 0x2d0 bytes in on x86_64;
 * we search for it instead of trusting that (PTHREAD_SCAN bytes). */
#define PTHREAD_SCAN 2048

static uint64_t rd64(const uint8_t *b, uint32_t off)
{
	uint64_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

static int32_t rd32(const uint8_t *b, uint32_t off)
{
	int32_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

static int valid_ptr(uint64_t p)
{
	/* user-space, non-null, 8-aligned (every object we follow is) */
	return p >= 4096 && !(p & 7) && p < (1ull << 56);
}

static const uint8_t no_call_ops[256];

int py_model_init(struct py_model *m, struct reader *r, const struct py_location *loc)
{
	static uint8_t maps[8][256];	/* per minor 9..16; const after fill */
	uint8_t dbg[PY_DEBUG_OFFSETS_MAX];
	const struct py_offsets *t;
	uint32_t v = loc->version_hex;
	int ret;

	memset(m, 0, sizeof(*m));
	m->r = r;
	m->loc = *loc;
	if (!valid_ptr(loc->runtime_addr))
		return GS_ENOTPY;

	if (!v || v >= 0x030d0000) {
		/* 3.13+: the runtime describes itself. The table is smaller than
		 * PY_DEBUG_OFFSETS_MAX; read what we can. */
		size_t len = sizeof(dbg);

		ret = reader_read(r, loc->runtime_addr, dbg, len);
		while (ret == GS_EFAULT && len > 256) {
			len /= 2;
			ret = reader_read(r, loc->runtime_addr, dbg, len);
		}
		if (ret)
			return ret;
		ret = py_offsets_from_debug(dbg, len, &m->off);
		if (ret == GS_ECORRUPT && (!v || memcmp(dbg, "xdebugpy", 8)))
			return v ? GS_ECORRUPT : GS_EUNSUPPORTED;
		if (ret == GS_EUNSUPPORTED) {
			uint64_t dv;

			memcpy(&dv, dbg + 8, sizeof(dv));
			m->off.version_hex = (uint32_t)dv;
		}
		if (ret)
			return ret;
		if (v && (v >> 16) != (m->off.version_hex >> 16))
			return GS_ECORRUPT;
	} else {
		t = py_offsets_table(v);
		if (!t)
			return GS_EUNSUPPORTED;
		m->off = *t;
		m->off.version_hex = v;
		m->off.free_threaded = 0;
	}
	m->free_threaded = m->off.free_threaded;
	py_version_str(m->off.version_hex, m->version, sizeof(m->version));

	{
		unsigned minor = (m->off.version_hex >> 16) & 0xff;

		m->call_ops = no_call_ops;
		if (minor >= 9 && minor < 17 && !py_call_opcodes(m->off.version_hex, maps[minor - 9]))
			m->call_ops = maps[minor - 9];
	}
	m->codes = code_cache_new();
	if (!m->codes)
		return GS_ENOMEM;
	m->tid_off = loc->pthread_tid_off;
	return 0;
}

void py_model_release(struct py_model *m)
{
	code_cache_free(m->codes);
	m->codes = NULL;
}

int py_model_interp(struct py_model *m, uint64_t *interp)
{
	int ret;

	ret = reader_read_u64(m->r, m->loc.runtime_addr + m->off.rt_interpreters_head, interp);
	if (ret)
		return ret;
	if (!valid_ptr(*interp))
		return GS_ECORRUPT;
	m->interp_main = *interp;
	return 0;
}

static int tid_known(const int32_t *tids, size_t ntids, int32_t tid)
{
	size_t i;

	for (i = 0; i < ntids; i++)
		if (tids[i] == tid)
			return 1;
	return 0;
}

/*
 * 3.9-3.10 keep only pthread_t (the address of glibc's struct pthread).
 * Find the tid field: an int32 equal to one of the process's tids, at the
 * same offset in every thread's struct pthread. The candidate offset is
 * kept once at least one thread confirmed it.
 */
static void find_tid_offset(struct py_model *m, const struct py_thread *th, size_t n,
			    const int32_t *tids, size_t ntids)
{
	uint8_t buf[PTHREAD_SCAN];
	uint32_t votes[PTHREAD_SCAN / 4] = { 0 };
	size_t i, off, best = 0;

	for (i = 0; i < n && i < 64; i++) {
		if (!valid_ptr(th[i].pthread_id) ||
		    reader_read(m->r, th[i].pthread_id, buf, sizeof(buf)))
			continue;
		for (off = 0; off + 4 <= sizeof(buf); off += 4) {
			int32_t v = rd32(buf, (uint32_t)off);

			if (v > 0 && tid_known(tids, ntids, v))
				votes[off / 4]++;
		}
	}
	for (off = 0; off < PTHREAD_SCAN / 4; off++)
		if (votes[off] > votes[best] ||
		    (votes[off] == votes[best] && votes[off] && off * 4 == 0x2d0))
			best = off;
	if (votes[best])
		m->tid_off = best * 4;
}

int py_model_threads(struct py_model *m, struct py_thread *out, size_t max, size_t *n,
		     const int32_t *tids, size_t ntids)
{
	const struct py_offsets *o = &m->off;
	uint8_t ts[4096];
	uint64_t interp, tstate;
	size_t count = 0, ninterp = 0, i;
	uint32_t ts_read;
	int ret = 0;

	*n = 0;
	ret = py_model_interp(m, &interp);
	if (ret)
		return ret;
	/* bytes of a thread state we need: up to the furthest field we use */
	ts_read = o->ts_next;
	if (o->ts_interp > ts_read) ts_read = o->ts_interp;
	if (o->ts_frame != OFF_NONE && o->ts_frame > ts_read) ts_read = o->ts_frame;
	if (o->ts_cframe != OFF_NONE && o->ts_cframe > ts_read) ts_read = o->ts_cframe;
	if (o->ts_thread_id > ts_read) ts_read = o->ts_thread_id;
	if (o->ts_native_thread_id != OFF_NONE && o->ts_native_thread_id > ts_read)
		ts_read = o->ts_native_thread_id;
	if (o->ts_state != OFF_NONE && o->ts_state > ts_read) ts_read = o->ts_state;
	ts_read += 8;
	if (ts_read > sizeof(ts))
		return GS_ECORRUPT;

	while (interp && ninterp++ < PY_MAX_INTERPRETERS) {
		uint64_t next_interp;
		size_t nthis = 0;

		if (!valid_ptr(interp)) {
			ret = GS_ECORRUPT;
			break;
		}
		ret = reader_read_u64(m->r, interp + o->is_threads_head, &tstate);
		if (ret)
			break;
		while (tstate) {
			struct py_thread *t;
			int dup = 0;

			if (!valid_ptr(tstate) || count >= max || nthis >= PY_MAX_THREADS) {
				ret = count >= max ? GS_ERANGE : GS_ECORRUPT;
				break;
			}
			for (i = 0; i < count; i++)
				if (out[i].tstate == tstate)
					dup = 1;
			if (dup) {
				ret = GS_ECORRUPT;	/* the list loops */
				break;
			}
			ret = reader_read(m->r, tstate, ts, ts_read);
			if (ret)
				break;
			if (rd64(ts, o->ts_interp) != interp) {
				ret = GS_ECORRUPT;	/* not a thread state of ours */
				break;
			}
			t = &out[count];
			memset(t, 0, sizeof(*t));
			t->tstate = tstate;
			t->interp = interp;
			t->pthread_id = rd64(ts, o->ts_thread_id);
			t->status = o->ts_state != OFF_NONE ? rd32(ts, o->ts_state) : -1;
			if (o->ts_native_thread_id != OFF_NONE)
				t->tid = (int32_t)rd64(ts, o->ts_native_thread_id);
			t->is_main = interp == m->interp_main;
			count++;
			nthis++;
			tstate = rd64(ts, o->ts_next);
		}
		if (ret)
			break;
		ret = reader_read_u64(m->r, interp + o->is_next, &next_interp);
		if (ret)
			break;
		interp = next_interp;
	}
	if (o->ts_native_thread_id == OFF_NONE && count && tids) {
		if (!m->tid_off)
			find_tid_offset(m, out, count, tids, ntids);
		for (i = 0; i < count && m->tid_off; i++) {
			uint32_t v;

			if (valid_ptr(out[i].pthread_id) &&
			    !reader_read_u32(m->r, out[i].pthread_id + m->tid_off, &v) &&
			    tid_known(tids, ntids, (int32_t)v))
				out[i].tid = (int32_t)v;
		}
	}
	*n = count;
	return ret;
}

int py_model_gil(struct py_model *m, uint64_t interp, struct py_gil *g)
{
	const struct py_offsets *o = &m->off;
	uint8_t buf[256];
	uint64_t addr;
	int ret;

	memset(g, 0, sizeof(*g));
	if (o->rt_gil != OFF_NONE) {
		addr = m->loc.runtime_addr + o->rt_gil;
	} else {
		ret = reader_read_u64(m->r, interp + o->is_gil_ptr, &addr);
		if (ret)
			return ret;
		if (!valid_ptr(addr))
			return GS_ECORRUPT;
	}
	if (o->gil_switch_number + 8 > sizeof(buf))
		return GS_ECORRUPT;
	ret = reader_read(m->r, addr, buf, o->gil_switch_number + 8);
	if (ret)
		return ret;
	g->known = 1;
	g->addr = addr;
	g->size = o->gil_size;
	g->locked = rd32(buf, o->gil_locked) != 0;
	g->holder = rd64(buf, o->gil_last_holder);
	g->switch_number = rd64(buf, o->gil_switch_number);
	g->interval_us = rd64(buf, o->gil_interval);
	g->enabled = o->gil_enabled == OFF_NONE ? 1 : rd32(buf, o->gil_enabled) > 0;
	return 0;
}

int py_model_is_call_opcode(const struct py_model *m, int opcode)
{
	return opcode >= 0 && opcode < 256 && m->call_ops[opcode];
}

int py_model_read_str(struct py_model *m, uint64_t addr, char *out, size_t outlen)
{
	return str_read(m, addr, out, outlen);
}

/* Where the frame's code units start: co_code_adaptive, or on free-threaded
 * 3.14+ the thread-local copy the frame executes (co_tlbc->entries[i]). */
static uint64_t frame_code_start(struct py_model *m, const struct py_code *c,
				 const uint8_t *fr)
{
	const struct py_offsets *o = &m->off;
	int32_t idx;
	uint64_t arr, size, entry;

	if (o->fr_tlbc_index == OFF_NONE || o->co_tlbc == OFF_NONE)
		return c->code_start;
	idx = rd32(fr, o->fr_tlbc_index);
	if (idx <= 0)
		return c->code_start;
	if (reader_read_u64(m->r, c->addr + o->co_tlbc, &arr) || !valid_ptr(arr) ||
	    reader_read_u64(m->r, arr, &size) || (uint64_t)idx >= size || size > 4096 ||
	    reader_read_u64(m->r, arr + 8 + 8 * (uint64_t)idx, &entry) || !valid_ptr(entry))
		return c->code_start;
	return entry;
}

static void frame_position(struct py_model *m, const struct py_code *c, const uint8_t *fr,
			   struct py_frame *f, int want_opcode)
{
	const struct py_offsets *o = &m->off;
	struct linetable_pos pos;
	int64_t off = -1;
	uint64_t start = 0;

	switch (o->instr_kind) {
	case INSTR_LASTI_BYTES:
		off = rd32(fr, o->fr_instr);
		break;
	case INSTR_LASTI_UNITS:
		off = (int64_t)rd32(fr, o->fr_instr) * 2;
		break;
	case INSTR_PREV_PTR:
	case INSTR_NEXT_PTR:
		start = frame_code_start(m, c, fr);
		off = (int64_t)(rd64(fr, o->fr_instr) - start);
		break;
	}
	f->line = -1;
	f->offset = -1;
	f->opcode = -1;
	if (off < 0 || off > (1 << 26))
		return;
	f->offset = (int32_t)off;
	if (c->linetable_len &&
	    !linetable_lookup((enum linetable_kind)o->linetable_kind, c->linetable,
			      c->linetable_len, c->firstlineno, (uint32_t)off, &pos))
		f->line = pos.line;
	if (!want_opcode)
		return;
	if (start) {
		uint8_t op[2];

		f->instr = start + (uint64_t)off;
		if (!reader_read(m->r, f->instr, op, 2)) {
			f->opcode = op[0];
			f->oparg = op[1];
		}
	} else if (o->co_code != OFF_NONE) {
		uint64_t bytes;
		uint8_t op[2];

		if (!reader_read_u64(m->r, c->addr + o->co_code, &bytes) && valid_ptr(bytes) &&
		    !reader_read(m->r, bytes + o->bytes_sval + (uint64_t)off, op, 2)) {
			f->opcode = op[0];
			f->oparg = op[1];
		}
	}
}

/* The number of frames before the first one that repeats an earlier one.
 * Only called once a loop was found, so quadratic is fine. */
static size_t loop_start(const struct py_frame *frames, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++)
		for (j = 0; j < i; j++)
			if (frames[i].addr == frames[j].addr)
				return i;
	return n;
}

int py_model_stack(struct py_model *m, uint64_t tstate, struct py_frame *frames,
		   size_t max, size_t *n, int *truncated)
{
	const struct py_offsets *o = &m->off;
	uint8_t fr[512];
	uint64_t frame, prev = 0, mark = 0;
	size_t count = 0, steps = 0, lap = 0, power = 1;
	int ret = 0;

	*n = 0;
	*truncated = 0;
	if (o->fr_size > sizeof(fr))
		return GS_ECORRUPT;
	if (o->ts_cframe != OFF_NONE) {
		uint64_t cframe;

		ret = reader_read_u64(m->r, tstate + o->ts_cframe, &cframe);
		if (ret)
			return ret;
		if (!cframe)
			return 0;
		if (!valid_ptr(cframe))
			return GS_ECORRUPT;
		ret = reader_read_u64(m->r, cframe + o->cframe_current_frame, &frame);
	} else {
		ret = reader_read_u64(m->r, tstate + o->ts_frame, &frame);
	}
	if (ret)
		return ret;

	/* Bounded: at most PY_MAX_DEPTH steps whatever the chain looks like.
	 * A loop in the chain (torn or hostile memory) is found within a few
	 * laps of it by Brent's method (`mark` is a frame seen before; it
	 * moves to the current one each time `lap` reaches the doubling
	 * `power`), and makes the walk fail with the frames before the loop. */
	while (frame) {
		const struct py_code *c = NULL;
		struct py_frame *f;
		uint64_t code;

		if (steps++ >= PY_MAX_DEPTH || count >= max) {
			*truncated = 1;
			break;
		}
		if (!valid_ptr(frame) || frame == prev) {
			ret = GS_ECORRUPT;
			break;
		}
		if (frame == mark) {
			count = loop_start(frames, count);
			ret = GS_ECORRUPT;
			break;
		}
		if (++lap == power) {
			mark = frame;
			power *= 2;
			lap = 0;
		}
		ret = reader_read(m->r, frame, fr, o->fr_size);
		if (ret)
			break;
		prev = frame;
		if (o->fr_owner != OFF_NONE) {
			int owner = fr[o->fr_owner];

			if (owner == o->owner_cstack || owner == o->owner_interpreter) {
				frame = rd64(fr, o->fr_back);
				continue;
			}
		}
		code = rd64(fr, o->fr_code) & ~o->fr_code_tag_mask;
		ret = code_get(m, code, &c);
		if (ret == GS_ECORRUPT && o->frame_kind == FRAMES_INTERP) {
			/* 3.13+: f_executable may be something else than code
			 * (shim frames); not a Python frame, go on. */
			ret = 0;
			frame = rd64(fr, o->fr_back);
			continue;
		}
		if (ret)
			break;
		f = &frames[count];
		memset(f, 0, sizeof(*f));
		f->code = c;
		f->addr = frame;
		frame_position(m, c, fr, f, count == 0);
		/* 3.11-3.12: a frame whose first instruction has not run yet is
		 * still being set up; CPython hides it too. */
		if (o->instr_kind == INSTR_PREV_PTR && f->offset < 0) {
			frame = rd64(fr, o->fr_back);
			continue;
		}
		if (f->line < 0)
			f->line = c->firstlineno;
		count++;
		frame = rd64(fr, o->fr_back);
	}
	*n = count;
	return ret;
}

void py_location_format(const struct py_location *loc, char *out, size_t outlen)
{
	snprintf(out, outlen,
		 "runtime=0x%" PRIx64 "\nversion=0x%" PRIx32 "\nfree_threaded=%d\n"
		 "code_type=0x%" PRIx64 "\npthread_tid_off=0x%" PRIx64 "\n",
		 loc->runtime_addr, loc->version_hex, loc->free_threaded,
		 loc->code_type, loc->pthread_tid_off);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s)
		return GS_ECORRUPT;
	*v = strtoull(s, &end, 0);
	return *end ? GS_ECORRUPT : 0;
}

int py_location_parse(const char *(*get)(void *ctx, const char *key), void *ctx,
		      struct py_location *loc)
{
	uint64_t v;
	const char *ft;

	memset(loc, 0, sizeof(*loc));
	if (parse_u64(get(ctx, "runtime"), &loc->runtime_addr))
		return GS_ECORRUPT;
	if (parse_u64(get(ctx, "version"), &v) || v > UINT32_MAX)
		return GS_ECORRUPT;
	loc->version_hex = (uint32_t)v;
	ft = get(ctx, "free_threaded");
	loc->free_threaded = ft && !strcmp(ft, "1") ? 1 : ft && !strcmp(ft, "0") ? 0 : -1;
	if (parse_u64(get(ctx, "code_type"), &loc->code_type))
		loc->code_type = 0;
	if (parse_u64(get(ctx, "pthread_tid_off"), &loc->pthread_tid_off))
		loc->pthread_tid_off = 0;
	return 0;
}

int py_model_format_stacks(struct py_model *m, struct strbuf *sb,
			   const int32_t *tids, size_t ntids)
{
	struct py_thread *th;
	struct py_frame *fr;
	size_t n = 0, i, j, nf;
	int ret, trunc, sret;

	th = calloc(PY_MAX_THREADS, sizeof(*th));
	fr = calloc(PY_MAX_DEPTH, sizeof(*fr));
	if (!th || !fr) {
		ret = GS_ENOMEM;
		goto out;
	}
	ret = py_model_threads(m, th, PY_MAX_THREADS, &n, tids, ntids);
	for (i = 0; i < n; i++) {
		strbuf_addf(sb, "thread %zu tid %d\n", i, (int)th[i].tid);
		sret = py_model_stack(m, th[i].tstate, fr, PY_MAX_DEPTH, &nf, &trunc);
		for (j = 0; j < nf; j++)
			strbuf_addf(sb, "  %s %s:%d\n", fr[j].code->qualname,
				    fr[j].code->filename, (int)fr[j].line);
		if (sret || trunc)
			strbuf_addf(sb, "  <incomplete: %s>\n", trunc ? "truncated" : gs_strerror(sret));
	}
out:
	free(th);
	free(fr);
	return ret;
}
