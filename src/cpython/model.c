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
static const struct py_op_info no_op_info[256];

int py_model_init(struct py_model *m, struct reader *r, const struct py_location *loc)
{
	static uint8_t maps[8][256];	/* per minor 9..16; const after fill */
	static struct py_op_info op_maps[8][256];
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
		m->op_info = no_op_info;
		if (minor >= 9 && minor < 17 &&
		    !py_operator_opcodes(m->off.version_hex, op_maps[minor - 9]))
			m->op_info = op_maps[minor - 9];
	}
	m->codes = code_cache_new();
	m->raw = calloc(PY_MAX_DEPTH, sizeof(*m->raw));
	if (!m->codes || !m->raw)
		return GS_ENOMEM;
	m->tid_off = loc->pthread_tid_off;
	return 0;
}

void py_model_release(struct py_model *m)
{
	code_cache_free(m->codes);
	m->codes = NULL;
	free(m->raw);
	m->raw = NULL;
	free(m->lines);
	m->lines = NULL;
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

/* Bytes of a thread state we need: up to the furthest field we use. */
static uint32_t ts_span(const struct py_offsets *o)
{
	uint32_t r = o->ts_next;

	if (o->ts_prev > r) r = o->ts_prev;
	if (o->ts_interp > r) r = o->ts_interp;
	if (o->ts_frame != OFF_NONE && o->ts_frame > r) r = o->ts_frame;
	if (o->ts_cframe != OFF_NONE && o->ts_cframe > r) r = o->ts_cframe;
	if (o->ts_thread_id > r) r = o->ts_thread_id;
	if (o->ts_native_thread_id != OFF_NONE && o->ts_native_thread_id > r)
		r = o->ts_native_thread_id;
	if (o->ts_state != OFF_NONE && o->ts_state > r) r = o->ts_state;
	if (o->ts_base_frame != OFF_NONE && o->ts_base_frame > r) r = o->ts_base_frame;
	return r + 8;
}

/* A thread state's fields from its bytes. */
static void thread_fill(const struct py_model *m, const uint8_t *ts, uint64_t tstate,
			uint64_t interp, struct py_thread *t)
{
	const struct py_offsets *o = &m->off;

	memset(t, 0, sizeof(*t));
	t->tstate = tstate;
	t->interp = interp;
	t->prev = rd64(ts, o->ts_prev);
	t->next = rd64(ts, o->ts_next);
	t->top = rd64(ts, o->ts_cframe != OFF_NONE ? o->ts_cframe : o->ts_frame);
	t->pthread_id = rd64(ts, o->ts_thread_id);
	t->status = o->ts_state != OFF_NONE ? rd32(ts, o->ts_state) : -1;
	t->base = o->ts_base_frame != OFF_NONE ? rd64(ts, o->ts_base_frame) : 0;
	if (o->ts_native_thread_id != OFF_NONE)
		t->tid = (int32_t)rd64(ts, o->ts_native_thread_id);
	t->is_main = interp == m->interp_main;
}

int py_model_thread_read(struct py_model *m, uint64_t tstate, uint64_t interp,
			 struct py_thread *out)
{
	const struct py_offsets *o = &m->off;
	uint8_t ts[4096];
	uint32_t n = ts_span(o);
	int ret;

	if (!valid_ptr(tstate) || n > sizeof(ts))
		return GS_ECORRUPT;
	ret = reader_read(m->r, tstate, ts, n);
	if (ret)
		return ret;
	if (rd64(ts, o->ts_interp) != interp)
		return GS_ECORRUPT;
	thread_fill(m, ts, tstate, interp, out);
	return 0;
}

int py_model_thread_linked(struct py_model *m, const struct py_thread *t, uint64_t head)
{
	uint64_t next;
	int ret;

	if (!t->prev)
		return head == t->tstate;
	if (!valid_ptr(t->prev))
		return 0;
	ret = reader_read_u64(m->r, t->prev + m->off.ts_next, &next);
	if (ret)
		return ret;
	return next == t->tstate;
}

#define GUESS_PAGE 4096u
#define GUESS_SLACK 1024u

/* Where the thread's stack walk will likely go, from where the last one
 * went: the same memory, the first range (the innermost frame's) widened
 * to whole pages, as the stack may have grown within them; and the code of
 * the innermost two frames. */
void py_guess_make(const struct py_ranges *last, const struct py_frame *frames, size_t nframes,
		   struct py_guess *g)
{
	uint64_t lo, hi;
	size_t i, j, n;

	memset(g, 0, sizeof(*g));
	g->r = *last;
	if (g->r.n) {
		/* the outer end stays; the inner one may move, by a few frames
		 * usually (further only within the page: the next one may not
		 * be there) */
		lo = g->r.lo[0];
		hi = g->r.hi[0] + GUESS_SLACK;
		if (hi > (((g->r.hi[0] - 1) & ~(uint64_t)(GUESS_PAGE - 1)) + GUESS_PAGE))
			hi = ((g->r.hi[0] - 1) & ~(uint64_t)(GUESS_PAGE - 1)) + GUESS_PAGE;
		if (hi - lo <= PY_WINDOW_MAX)
			g->r.hi[0] = hi;
	}
	if (nframes)
		g->code[0] = frames[0].code;
	if (nframes > 1)
		g->code[1] = frames[1].code;
	for (i = 0, n = 0; i < nframes && n < PY_GUESS_CODES; i++) {
		for (j = 0; j < n && g->check[j] != frames[i].code; j++)
			;
		if (j == n)
			g->check[n++] = frames[i].code;
	}
}

void py_ranges_add(struct py_ranges *r, const struct py_ranges *more)
{
	size_t i, j;

	for (i = 0; i < more->n && r->n < PY_RANGES; i++) {
		for (j = 0; j < r->n; j++)
			if (more->lo[i] >= r->lo[j] && more->hi[i] <= r->hi[j])
				break;
		if (j == r->n) {
			r->lo[r->n] = more->lo[i];
			r->hi[r->n] = more->hi[i];
			r->n++;
		}
	}
}

int py_model_thread_reread(struct py_model *m, const struct py_thread *old, uint64_t head,
			   const struct py_guess *g, struct py_thread *out, int *linked,
			   struct py_window *w)
{
	const struct py_offsets *o = &m->off;
	static uint8_t hdr[PY_GUESS_CODES][512];
	uint8_t ts[4096];
	uint64_t next = 0;
	struct reader_iov iov[5 + PY_RANGES + PY_GUESS_CODES];
	uint32_t n = ts_span(o);
	size_t k = 0, i, i_prev = 0, i_tid = 0, i_win, n_win, i_code[2] = { 0, 0 }, at = 0, i_hdr,
	       nhdr = 0;
	int32_t tid = 0;

	*linked = 0;
	if (w) {
		w->r.n = 0;
		w->clo[0] = w->chi[0] = w->clo[1] = w->chi[1] = 0;
	}
	if (!valid_ptr(old->tstate) || n > sizeof(ts))
		return GS_ECORRUPT;
	/* First the thread state and right after it the frames, so that the
	 * frames are those of the current frame read (a running thread moves
	 * on while we read); the rest does not change that fast. */
	iov[k++] = (struct reader_iov){ old->tstate, ts, n, 0 };
	i_win = k;
	for (i = 0; w && g && i < g->r.n && i < PY_RANGES; i++) {
		uint64_t len = g->r.hi[i] - g->r.lo[i];

		if (!valid_ptr(g->r.lo[i]) || g->r.hi[i] <= g->r.lo[i] ||
		    len > (i ? PY_RANGE_MAX : PY_WINDOW_MAX))
			continue;
		iov[k++] = (struct reader_iov){ g->r.lo[i], w->buf + at, len, 0 };
		at += i ? PY_RANGE_MAX : PY_WINDOW_MAX;
	}
	n_win = k - i_win;
	for (i = 0; w && g && i < 2; i++) {
		const struct py_code *c = g->code[i];

		if (!c || !c->code_start || !c->code_bytes || (i && c == g->code[0]))
			continue;
		i_code[i] = k;
		iov[k++] = (struct reader_iov){ c->code_start, w->cbuf[i],
						c->code_bytes < PY_CODE_WINDOW_MAX ?
						c->code_bytes : PY_CODE_WINDOW_MAX, 0 };
	}
	if (old->prev && valid_ptr(old->prev)) {
		i_prev = k;
		iov[k++] = (struct reader_iov){ old->prev + o->ts_next, &next, 8, 0 };
	}
	if (o->ts_native_thread_id == OFF_NONE && m->tid_off && valid_ptr(old->pthread_id)) {
		/* 3.9-3.10: the native id is in glibc's struct pthread */
		i_tid = k;
		iov[k++] = (struct reader_iov){ old->pthread_id + m->tid_off, &tid, 4, 0 };
	}
	/* code objects to check this epoch */
	i_hdr = k;
	for (i = 0; w && g && i < PY_GUESS_CODES && o->co_size <= sizeof(hdr[0]); i++) {
		const struct py_code *c = g->check[i];

		if (!c || code_checked(m, c->addr))
			continue;
		iov[k++] = (struct reader_iov){ c->addr, hdr[nhdr++], o->co_size, 0 };
	}
	(void)reader_readv(m->r, iov, k);
	if (iov[0].err)
		return iov[0].err;
	if (rd64(ts, o->ts_interp) != old->interp)
		return GS_ECORRUPT;
	thread_fill(m, ts, old->tstate, old->interp, out);
	if (i_tid && !iov[i_tid].err && out->pthread_id == old->pthread_id && tid > 0)
		out->tid = tid;
	if (!old->prev)
		*linked = head == old->tstate;
	else if (i_prev)
		*linked = iov[i_prev].err ? iov[i_prev].err : next == old->tstate;
	for (i = 0; i < 2; i++) {
		if (i_code[i] && !iov[i_code[i]].err) {
			w->clo[i] = iov[i_code[i]].addr;
			w->chi[i] = w->clo[i] + iov[i_code[i]].len;
		}
	}
	for (i = i_hdr; i < i_hdr + nhdr; i++) {
		const struct py_code *c;

		if (!iov[i].err)
			(void)code_get_hdr(m, iov[i].addr, iov[i].buf, &c);
	}
	for (i = i_win; i < i_win + n_win; i++) {
		if (iov[i].err)
			continue;
		w->r.lo[w->r.n] = iov[i].addr;
		w->r.hi[w->r.n] = iov[i].addr + iov[i].len;
		w->at[w->r.n] = (uint32_t)((uint8_t *)iov[i].buf - w->buf);
		w->r.n++;
	}
	return 0;
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
	ts_read = ts_span(o);
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
			thread_fill(m, ts, tstate, interp, t);
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

/* The GIL's fields from its bytes. */
static void gil_fill(const struct py_offsets *o, const uint8_t *buf, uint64_t addr,
		     struct py_gil *g)
{
	memset(g, 0, sizeof(*g));
	g->known = 1;
	g->addr = addr;
	g->size = o->gil_size;
	g->locked = rd32(buf, o->gil_locked) != 0;
	g->holder = rd64(buf, o->gil_last_holder);
	g->switch_number = rd64(buf, o->gil_switch_number);
	g->interval_us = rd64(buf, o->gil_interval);
	g->enabled = o->gil_enabled == OFF_NONE ? 1 : rd32(buf, o->gil_enabled) > 0;
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
	gil_fill(o, buf, addr, g);
	return 0;
}

/*
 * One batch: the interpreter list head, the cached main interpreter's next,
 * threads head and code generation (one piece of it: they are close
 * together), its GIL pointer, and the GIL where it was last time. When the
 * batch shows that something it assumed moved (another interpreter,
 * another GIL struct), the parts that depend on it are read again the
 * plain way.
 */
int py_model_head(struct py_model *m, struct py_head *h)
{
	const struct py_offsets *o = &m->off;
	uint64_t head = 0, next = 1, thead = 0, cgen = 0, gptr = 0;
	uint8_t gbuf[256], span[1024];
	uint32_t lo, hi;
	struct reader_iov iov[4];
	size_t n = 0, i_span = 0, i_gptr = 0, i_gil = 0;
	uint64_t interp = m->interp_main, gil_addr = 0;
	int ret, cgen_ok = 0;

	memset(h, 0, sizeof(*h));
	if (o->gil_switch_number + 8 > sizeof(gbuf))
		return GS_ECORRUPT;
	lo = o->is_next < o->is_threads_head ? o->is_next : o->is_threads_head;
	hi = (o->is_next > o->is_threads_head ? o->is_next : o->is_threads_head) + 8;
	if (o->is_code_gen != OFF_NONE) {
		lo = o->is_code_gen < lo ? o->is_code_gen : lo;
		hi = o->is_code_gen + 8 > hi ? o->is_code_gen + 8 : hi;
	}
	if (o->rt_gil != OFF_NONE)
		gil_addr = m->loc.runtime_addr + o->rt_gil;
	else
		gil_addr = m->gil_ptr;
	iov[n++] = (struct reader_iov){ m->loc.runtime_addr + o->rt_interpreters_head, &head, 8, 0 };
	if (valid_ptr(interp) && hi - lo <= sizeof(span)) {
		i_span = n;
		iov[n++] = (struct reader_iov){ interp + lo, span, hi - lo, 0 };
		if (o->rt_gil == OFF_NONE) {
			i_gptr = n;
			iov[n++] = (struct reader_iov){ interp + o->is_gil_ptr, &gptr, 8, 0 };
		}
	}
	if (gil_addr && i_span) {
		i_gil = n;
		iov[n++] = (struct reader_iov){ gil_addr, gbuf, o->gil_switch_number + 8, 0 };
	}
	(void)reader_readv(m->r, iov, n);
	if (iov[0].err)
		return iov[0].err;
	if (!valid_ptr(head))
		return GS_ECORRUPT;
	if (head == interp && i_span && !iov[i_span].err) {
		memcpy(&next, span + (o->is_next - lo), 8);
		memcpy(&thead, span + (o->is_threads_head - lo), 8);
		if (o->is_code_gen != OFF_NONE) {
			memcpy(&cgen, span + (o->is_code_gen - lo), 8);
			cgen_ok = 1;
		}
	} else {
		/* first sample, or the interpreter moved: the plain way */
		interp = head;
		ret = reader_read_u64(m->r, interp + o->is_next, &next);
		if (!ret)
			ret = reader_read_u64(m->r, interp + o->is_threads_head, &thead);
		if (ret)
			return ret;
		cgen_ok = o->is_code_gen != OFF_NONE &&
			  !reader_read_u64(m->r, interp + o->is_code_gen, &cgen);
		i_gil = 0;
	}
	m->interp_main = interp;
	h->interp = interp;
	h->single = next == 0;
	h->threads_head = thead;
	h->code_gen_known = cgen_ok;
	h->code_gen = cgen;
	/* the GIL: where the batch read it, if that is still where it is */
	if (i_gil && !iov[i_gil].err &&
	    (o->rt_gil != OFF_NONE || (i_gptr && !iov[i_gptr].err && gptr == gil_addr))) {
		gil_fill(o, gbuf, gil_addr, &h->gil);
		return 0;
	}
	if (!py_model_gil(m, interp, &h->gil) && o->rt_gil == OFF_NONE)
		m->gil_ptr = h->gil.addr;
	return 0;
}

void py_model_begin_sample(struct py_model *m, const struct py_head *h)
{
	if (h && h->single && h->code_gen_known && m->code_gen_seen &&
	    h->code_gen == m->code_gen && m->code_epoch)
		return;
	m->code_epoch++;
	if (!m->code_epoch)
		m->code_epoch = 1;
	m->code_gen_seen = h && h->single && h->code_gen_known;
	m->code_gen = h ? h->code_gen : 0;
}

int py_model_is_operator(const struct py_model *m, int opcode)
{
	return opcode >= 0 && opcode < 256 && m->op_info && m->op_info[opcode].is_op;
}

int py_model_operator_no_handoff(const struct py_model *m, int opcode)
{
	return py_model_is_operator(m, opcode) && m->op_info[opcode].no_handoff;
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
static uint64_t frame_code_start(struct py_model *m, const struct py_code *c, int32_t idx)
{
	const struct py_offsets *o = &m->off;
	uint64_t arr, size, entry;

	if (o->fr_tlbc_index == OFF_NONE || o->co_tlbc == OFF_NONE)
		return c->code_start;
	if (idx <= 0)
		return c->code_start;
	if (reader_read_u64(m->r, c->addr + o->co_tlbc, &arr) || !valid_ptr(arr) ||
	    reader_read_u64(m->r, arr, &size) || (uint64_t)idx >= size || size > 4096 ||
	    reader_read_u64(m->r, arr + 8 + 8 * (uint64_t)idx, &entry) || !valid_ptr(entry))
		return c->code_start;
	return entry;
}

#define LINE_MEMO 1024	/* entries, a power of two */

struct py_line_memo {
	const struct py_code *c;
	uint32_t off;
	int32_t line;
};

/* The line of offset `off` in c, -1 if unknown. Decoding a line table
 * walks it from the start, and the same (code, offset) pairs come back
 * sample after sample (every frame but the innermost sits on a call), so
 * the answers are kept, for as long as the code cache does not change. */
static int32_t line_of(struct py_model *m, const struct py_code *c, uint32_t off)
{
	const struct py_offsets *o = &m->off;
	struct linetable_pos pos;
	struct py_line_memo *e;
	uint64_t gen = code_cache_gen(m->codes);
	int32_t line = -1;

	if (!m->lines)
		m->lines = calloc(LINE_MEMO, sizeof(*m->lines));
	if (m->lines && m->lines_gen != gen) {
		memset(m->lines, 0, LINE_MEMO * sizeof(*m->lines));
		m->lines_gen = gen;
	}
	e = m->lines ? &m->lines[(((uintptr_t)c >> 4) ^ (off * 2654435761u)) & (LINE_MEMO - 1)] : NULL;
	if (e && e->c == c && e->off == off)
		return e->line;
	if (c->linetable_len &&
	    !linetable_lookup((enum linetable_kind)o->linetable_kind, c->linetable,
			      c->linetable_len, c->firstlineno, off, &pos))
		line = pos.line;
	if (e) {
		e->c = c;
		e->off = off;
		e->line = line;
	}
	return line;
}

/* Line, offset and (want_opcode) opcode of a frame from its raw facts.
 * op >= 0: the two bytes at the instruction, already read. */
static void frame_position(struct py_model *m, const struct py_code *c,
			   const struct py_raw_frame *rf, struct py_frame *f, int want_opcode,
			   const uint8_t *op)
{
	const struct py_offsets *o = &m->off;
	int64_t off = -1;
	uint64_t start = 0;

	switch (o->instr_kind) {
	case INSTR_LASTI_BYTES:
		off = (int32_t)rf->instr;
		break;
	case INSTR_LASTI_UNITS:
		off = (int64_t)(int32_t)rf->instr * 2;
		break;
	case INSTR_PREV_PTR:
	case INSTR_NEXT_PTR:
		start = frame_code_start(m, c, rf->tlbc);
		off = (int64_t)(rf->instr - start);
		break;
	}
	f->line = -1;
	f->offset = -1;
	f->opcode = -1;
	if (off < 0 || off > (1 << 26))
		return;
	f->offset = (int32_t)off;
	f->line = line_of(m, c, (uint32_t)off);
	if (!want_opcode)
		return;
	if (start) {
		uint8_t b[2];

		f->instr = start + (uint64_t)off;
		if (op && f->instr == rf->instr) {
			f->opcode = op[0];
			f->oparg = op[1];
		} else if (!reader_read(m->r, f->instr, b, 2)) {
			f->opcode = b[0];
			f->oparg = b[1];
		}
	} else if (o->co_code != OFF_NONE) {
		uint64_t bytes;
		uint8_t b[2];

		if (!reader_read_u64(m->r, c->addr + o->co_code, &bytes) && valid_ptr(bytes) &&
		    !reader_read(m->r, bytes + o->bytes_sval + (uint64_t)off, b, 2)) {
			f->opcode = b[0];
			f->oparg = b[1];
		}
	}
}

/* The number of raw frames before the first one that repeats an earlier
 * one. Only called once a loop was found, so quadratic is fine. */
static size_t loop_start(const struct py_raw_frame *raw, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++)
		for (j = 0; j < i; j++)
			if (raw[i].addr == raw[j].addr)
				return i;
	return n;
}

#define PAGE 4096u

/* Note that a frame [lo, hi) was read from the memory behind *slot: the
 * range r->lo/hi[*slot] grows to cover it (a new range the first time;
 * none when r is full). */
static void ranges_use(struct py_ranges *r, int *slot, uint64_t lo, uint64_t hi)
{
	if (*slot < 0) {
		if (r->n >= PY_RANGES)
			return;
		*slot = (int)r->n++;
		r->lo[*slot] = lo;
		r->hi[*slot] = hi;
		return;
	}
	if (lo < r->lo[*slot])
		r->lo[*slot] = lo;
	if (hi > r->hi[*slot])
		r->hi[*slot] = hi;
}
/* Frames of 3.11+ live next to each other in the thread's data stack (the
 * outer ones below), so the page under a frame usually holds its callers
 * too: one read of [page start, frame end) instead of one per frame. */
#define WIN_MAX (2 * PAGE + 512)

/* What pass 1 saw of the end of the chain, for chain_torn(). */
struct chain_end {
	uint64_t last;		/* the last frame read, shims included */
	int owner;		/* its owner, -1 where frames have none */
	int entry;		/* its is_entry flag, 1 where frames have none */
	int dead;		/* some frame object of the chain was freed */
};

/*
 * Pass 1: follow the chain from `frame`, keeping what each frame says
 * (code, instruction) and skipping the interpreter's shim frames. Bounded:
 * at most PY_MAX_DEPTH steps whatever the chain looks like. A loop in the
 * chain (torn or hostile memory) is found within a few laps of it by
 * Brent's method (`mark` is a frame seen before; it moves to the current
 * one each time `lap` reaches the doubling `power`), and ends the walk
 * with GS_ECORRUPT and the frames before the loop.
 */
static int chain_read(struct py_model *m, uint64_t frame, const struct py_window *given,
		      size_t *nraw, int *more, struct chain_end *ce)
{
	const struct py_offsets *o = &m->off;
	uint8_t win[WIN_MAX];
	uint64_t wlo = 0, whi = 0, prev = 0, mark = 0;
	size_t count = 0, steps = 0, lap = 0, power = 1;
	int ret = 0, windows = o->frame_kind == FRAMES_INTERP;
	int gslot[PY_RANGES], wslot = -1;
	size_t j;

	for (j = 0; j < PY_RANGES; j++)
		gslot[j] = -1;
	*more = 0;
	m->walked.n = 0;
	memset(ce, 0, sizeof(*ce));
	ce->owner = -1;
	while (frame) {
		struct py_raw_frame *rf;
		const uint8_t *fr;

		if (steps++ >= PY_MAX_DEPTH) {
			*more = 1;
			break;
		}
		if (!valid_ptr(frame) || frame == prev || frame + o->fr_size < frame) {
			ret = GS_ECORRUPT;
			break;
		}
		if (frame == mark) {
			count = loop_start(m->raw, count);
			ret = GS_ECORRUPT;
			break;
		}
		if (++lap == power) {
			mark = frame;
			power *= 2;
			lap = 0;
		}
		fr = NULL;
		for (j = 0; given && j < given->r.n; j++) {
			if (frame >= given->r.lo[j] && frame + o->fr_size <= given->r.hi[j]) {
				/* in the memory the caller read ahead */
				fr = given->buf + given->at[j] + (frame - given->r.lo[j]);
				ranges_use(&m->walked, &gslot[j], frame, frame + o->fr_size);
				break;
			}
		}
		if (!fr) {
			if (frame < wlo || frame + o->fr_size > whi) {
				uint64_t lo = windows ? frame & ~(uint64_t)(PAGE - 1) : frame;
				uint64_t hi = frame + o->fr_size;

				ret = reader_read(m->r, lo, win, hi - lo);
				if (ret == GS_EFAULT && lo != frame) {
					/* a recorded snapshot holds the frame only */
					lo = frame;
					ret = reader_read(m->r, lo, win, hi - lo);
				}
				if (ret)
					break;
				wlo = lo;
				whi = hi;
				wslot = -1;
			}
			fr = win + (frame - wlo);
			ranges_use(&m->walked, &wslot, frame, frame + o->fr_size);
		}
		prev = frame;
		ce->last = frame;
		ce->owner = o->fr_owner != OFF_NONE ? fr[o->fr_owner] : -1;
		ce->entry = o->fr_is_entry != OFF_NONE ? fr[o->fr_is_entry] != 0 : 1;
		/* a live frame object is referenced at least by whoever runs
		 * it; 0 is one on a free list (or a code object's zombie) */
		if (o->fr_refcnt != OFF_NONE && (int64_t)rd64(fr, o->fr_refcnt) <= 0)
			ce->dead = 1;
		if (o->fr_owner != OFF_NONE) {
			int owner = fr[o->fr_owner];

			if (owner == o->owner_cstack || owner == o->owner_interpreter) {
				frame = rd64(fr, o->fr_back);
				continue;
			}
		}
		rf = &m->raw[count++];
		rf->addr = frame;
		rf->code = rd64(fr, o->fr_code) & ~o->fr_code_tag_mask;
		if (o->instr_kind == INSTR_LASTI_BYTES || o->instr_kind == INSTR_LASTI_UNITS)
			rf->instr = (uint64_t)(uint32_t)rd32(fr, o->fr_instr);
		else
			rf->instr = rd64(fr, o->fr_instr);
		rf->tlbc = o->fr_tlbc_index != OFF_NONE ? rd32(fr, o->fr_tlbc_index) : 0;
		frame = rd64(fr, o->fr_back);
	}
	*nraw = count;
	return ret;
}

#define CODE_BATCH 64

/*
 * Pass 2: check, in one batched read, the code objects of the chain that
 * were not checked in this validation epoch, and read the innermost
 * frame's instruction with them. Only a prefetch: pass 3 looks every code
 * object up again and decides.
 */
static void codes_prefetch(struct py_model *m, size_t nraw, int want_op, uint8_t *op,
			   int *have_op, const struct py_window *w)
{
	const struct py_offsets *o = &m->off;
	static uint8_t hdr[CODE_BATCH][512];
	struct reader_iov iov[CODE_BATCH + 1];
	uint64_t addr[CODE_BATCH];
	size_t i = 0, j, k, n;

	*have_op = 0;
	if (o->co_size > sizeof(hdr[0]))
		return;
	if (want_op && nraw && w) {
		/* the instruction may be in code units read ahead */
		uint64_t at = m->raw[0].instr;

		for (j = 0; j < 2; j++) {
			if (at >= w->clo[j] && at + 2 <= w->chi[j] && at + 2 > at) {
				memcpy(op, w->cbuf[j] + (at - w->clo[j]), 2);
				*have_op = 1;
				want_op = 0;
				break;
			}
		}
	}
	while (i < nraw || want_op) {
		n = 0;
		k = 0;
		if (want_op && nraw && o->instr_kind != INSTR_LASTI_BYTES &&
		    o->instr_kind != INSTR_LASTI_UNITS) {
			iov[k++] = (struct reader_iov){ m->raw[0].instr, op, 2, 0 };
		}
		for (; i < nraw && n < CODE_BATCH; i++) {
			uint64_t c = m->raw[i].code;

			if (!c || (c & 7) || code_checked(m, c))
				continue;
			for (j = 0; j < n && addr[j] != c; j++)
				;
			if (j < n)
				continue;
			addr[n] = c;
			iov[k++] = (struct reader_iov){ c, hdr[n], o->co_size, 0 };
			n++;
		}
		if (!k)
			break;
		(void)reader_readv(m->r, iov, k);
		j = 0;
		if (want_op && iov[0].buf == op) {
			*have_op = !iov[0].err;
			j = 1;
		}
		want_op = 0;
		for (; j < k; j++) {
			const struct py_code *c;

			if (!iov[j].err)
				(void)code_get_hdr(m, iov[j].addr, iov[j].buf, &c);
		}
	}
}

const char *py_torn_reason(enum py_torn t)
{
	static const char *const why[PY_TORN_COUNT] = {
		[PY_WHOLE] = "whole",
		[PY_TORN_YIELDED] = "a generator or coroutine yielded while it was read",
		[PY_TORN_NOT_ENTRY] = "the chain ended at a frame that starts no thread",
		[PY_TORN_DEAD_FRAME] = "a frame was freed while it was read",
		[PY_TORN_NOT_BASE] = "the chain ended elsewhere than the thread's base frame",
		[PY_TORN_UNREADABLE] = "a link led to memory that held no frame",
		[PY_TORN_CFRAME] = "an eval call was entered or left while it was read",
	};

	return (unsigned)t < PY_TORN_COUNT ? why[t] : "torn";
}

/*
 * Did a walk that followed the chain to its end (a NULL link) end at the
 * thread's entry frame? What an entry frame looks like is the version's
 * data (offsets.h):
 *  - 3.15+: the thread state says where its chain ends (base_frame);
 *  - 3.11+: frames have owners, and the outermost one of a thread is its
 *    own and the first of an eval call (3.11: is_entry), a C-stack entry
 *    frame (3.12-3.13) or an interpreter entry frame (3.14+); a
 *    generator's frame has a NULL link once it yielded;
 *  - 3.9-3.10: the outermost frame object must not be a generator's or a
 *    coroutine's (a yield clears its f_back), and no frame on the way may
 *    have been freed (its f_back then leads anywhere).
 * `outer` is the code of the outermost frame, NULL if unknown.
 */
static enum py_torn chain_torn(const struct py_model *m, const struct chain_end *ce,
			       uint64_t base, const struct py_code *outer)
{
	const struct py_offsets *o = &m->off;

	if (!ce->last)
		return PY_WHOLE;	/* no frames: nothing to tear */
	if (ce->dead)
		return PY_TORN_DEAD_FRAME;
	if (o->fr_owner != OFF_NONE && o->owner_base >= 0 && ce->owner != o->owner_base)
		return ce->owner == o->owner_generator ? PY_TORN_YIELDED : PY_TORN_NOT_ENTRY;
	if (!ce->entry)
		return PY_TORN_NOT_ENTRY;
	if (o->ts_base_frame != OFF_NONE && base && ce->last != base)
		return PY_TORN_NOT_BASE;
	if (o->co_gen_flags && (!outer || (outer->flags & (int32_t)o->co_gen_flags)))
		return outer ? PY_TORN_YIELDED : PY_TORN_UNREADABLE;
	return PY_WHOLE;
}

/* The walk behind py_model_stack_top_w() and py_model_stack_thread(). */
static int stack_walk(struct py_model *m, uint64_t tstate, uint64_t top, uint64_t base,
		      const struct py_window *w, struct py_frame *frames, size_t max,
		      size_t *n, int *truncated, struct py_stack_end *end)
{
	const struct py_offsets *o = &m->off;
	const struct py_code *outer = NULL;
	struct chain_end ce;
	uint64_t frame = top;
	size_t nraw = 0, count = 0, i;
	uint8_t op[2];
	int ret = 0, wret, more, have_op;

	*n = 0;
	*truncated = 0;
	end->torn = PY_WHOLE;
	end->last = 0;
	if (o->fr_size > 512)
		return GS_ECORRUPT;
	if (o->ts_cframe != OFF_NONE) {
		if (!top)
			return 0;
		if (!valid_ptr(top)) {
			end->torn = PY_TORN_UNREADABLE;
			return GS_ECORRUPT;
		}
		ret = reader_read_u64(m->r, top + o->cframe_current_frame, &frame);
		if (ret) {
			end->torn = PY_TORN_UNREADABLE;
			return ret;
		}
		/* Records of eval calls live on the C stack: one is made the
		 * thread's before its frame is set, and its memory is reused
		 * once its call returns. Only the thread state's own record
		 * stands for a thread without frames. */
		if (!frame && tstate && o->ts_root_cframe != OFF_NONE &&
		    top != tstate + o->ts_root_cframe)
			end->torn = PY_TORN_CFRAME;
	}
	if (!frame)
		return 0;
	wret = chain_read(m, frame, w, &nraw, &more, &ce);
	codes_prefetch(m, nraw, max > 0, op, &have_op, w);

	/* Pass 3: the frames, with their code objects. */
	for (i = 0; i < nraw; i++) {
		const struct py_raw_frame *rf = &m->raw[i];
		const struct py_code *c = NULL;
		struct py_frame *f;

		if (count >= max) {
			*truncated = 1;
			break;
		}
		ret = code_get(m, rf->code, &c);
		if (ret == GS_ECORRUPT && o->frame_kind == FRAMES_INTERP) {
			/* 3.13+: f_executable may be something else than code
			 * (shim frames); not a Python frame, go on. */
			ret = 0;
			continue;
		}
		if (ret)
			break;
		if (i + 1 == nraw)
			outer = c;
		f = &frames[count];
		memset(f, 0, sizeof(*f));
		f->code = c;
		f->addr = rf->addr;
		frame_position(m, c, rf, f, count == 0, count == 0 && i == 0 && have_op ? op : NULL);
		/* 3.11-3.12: a frame whose first instruction has not run yet is
		 * still being set up; CPython hides it too. */
		if (o->instr_kind == INSTR_PREV_PTR && f->offset < 0)
			continue;
		if (f->line < 0)
			f->line = c->firstlineno;
		count++;
	}
	if (i == nraw && more && count >= max)
		*truncated = 1;
	else if (i == nraw && more)
		*truncated = 1;
	*n = count;
	if (!ret)
		ret = wret;
	if (ret == GS_EFAULT || ret == GS_ECORRUPT)
		end->torn = PY_TORN_UNREADABLE;	/* on a live target, mostly a torn read */
	else if (!ret && !*truncated && !more && i == nraw) {
		end->torn = chain_torn(m, &ce, base, outer);
		end->last = ce.last;
	}
	return ret;
}

int py_model_stack_top(struct py_model *m, uint64_t top, struct py_frame *frames,
		       size_t max, size_t *n, int *truncated)
{
	return py_model_stack_top_w(m, top, NULL, frames, max, n, truncated);
}

int py_model_stack_top_w(struct py_model *m, uint64_t top, const struct py_window *w,
			 struct py_frame *frames, size_t max, size_t *n, int *truncated)
{
	struct py_stack_end end;

	return stack_walk(m, 0, top, 0, w, frames, max, n, truncated, &end);
}

int py_model_stack_thread(struct py_model *m, const struct py_thread *t,
			  const struct py_window *w, struct py_frame *frames, size_t max,
			  size_t *n, int *truncated, struct py_stack_end *end)
{
	return stack_walk(m, t->tstate, t->top, t->base, w, frames, max, n, truncated, end);
}

/* py_model_stack(), and how the walk ended. */
static int stack_of(struct py_model *m, uint64_t tstate, struct py_frame *frames, size_t max,
		    size_t *n, int *truncated, struct py_stack_end *end)
{
	const struct py_offsets *o = &m->off;
	uint64_t top, base = 0;
	int ret;

	*n = 0;
	*truncated = 0;
	end->torn = PY_WHOLE;
	end->last = 0;
	ret = reader_read_u64(m->r, tstate + (o->ts_cframe != OFF_NONE ? o->ts_cframe : o->ts_frame),
			      &top);
	if (!ret && o->ts_base_frame != OFF_NONE)
		ret = reader_read_u64(m->r, tstate + o->ts_base_frame, &base);
	if (ret)
		return ret;
	return stack_walk(m, tstate, top, base, NULL, frames, max, n, truncated, end);
}

int py_model_stack(struct py_model *m, uint64_t tstate, struct py_frame *frames,
		   size_t max, size_t *n, int *truncated)
{
	struct py_stack_end end;

	return stack_of(m, tstate, frames, max, n, truncated, &end);
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
	struct py_stack_end end;
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
		sret = stack_of(m, th[i].tstate, fr, PY_MAX_DEPTH, &nf, &trunc, &end);
		for (j = 0; j < nf; j++)
			strbuf_addf(sb, "  %s %s:%d\n", fr[j].code->qualname,
				    fr[j].code->filename, (int)fr[j].line);
		if (sret || trunc)
			strbuf_addf(sb, "  <incomplete: %s>\n", trunc ? "truncated" : gs_strerror(sret));
		else if (end.torn)
			strbuf_addf(sb, "  <incomplete: torn: %s>\n", py_torn_reason(end.torn));
	}
out:
	free(th);
	free(fr);
	return ret;
}
