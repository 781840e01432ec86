/*
 * prefetch.c - reading ahead, so that a sample costs few system calls.
 *
 * Owns the guess of where a thread's next stack walk will go (the memory
 * ranges and code objects its last walk used), the batched re-read of a
 * thread state together with that memory into a struct py_window, and the
 * batched check of the code objects a walk found (pass 2 of frames.c's
 * walk). The header scratch both batches read into is the model's
 * (m->hdrs), so two models can work at once.
 */
#include "model_internal.h"

#include <string.h>

#include "code.h"
#include "../util/error.h"

_Static_assert(PY_GUESS_CODES <= PY_CODE_BATCH, "the guess's code checks fit the scratch");

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
	uint8_t ts[4096];
	uint64_t next = 0;
	struct reader_iov iov[5 + PY_RANGES + PY_GUESS_CODES];
	uint32_t n = tstate_span(o);
	size_t k = 0, i, i_prev = 0, i_tid = 0, i_win, n_win, i_code[2] = { 0, 0 }, at = 0, i_hdr,
	       nhdr = 0;
	int32_t tid = 0;

	*linked = 0;
	if (w) {
		w->r.n = 0;
		w->clo[0] = w->chi[0] = w->clo[1] = w->chi[1] = 0;
	}
	if (!valid_ptr(old->tstate) || n > sizeof(ts))
		return GS_CORRUPT("!valid_ptr(old->tstate) || n > sizeof(ts)");
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
	for (i = 0; w && g && i < PY_GUESS_CODES && o->co_size <= PY_CODE_HDR_MAX; i++) {
		const struct py_code *c = g->check[i];

		if (!c || code_checked(m, c->addr))
			continue;
		iov[k++] = (struct reader_iov){ c->addr, m->hdrs[nhdr++], o->co_size, 0 };
	}
	(void)reader_readv(m->r, iov, k);
	if (iov[0].err)
		return iov[0].err;
	if (rd64(ts, o->ts_interp) != old->interp)
		return GS_CORRUPT("rd64(ts, o->ts_interp) != old->interp");
	tstate_fill(m, ts, old->tstate, old->interp, out);
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

/*
 * Pass 2: check, in one batched read, the code objects of the chain that
 * were not checked in this validation epoch, and read the innermost
 * frame's instruction with them. Only a prefetch: pass 3 looks every code
 * object up again and decides.
 */
void codes_prefetch(struct py_model *m, size_t nraw, int want_op, uint8_t *op, int *have_op,
		    const struct py_window *w)
{
	const struct py_offsets *o = &m->off;
	struct reader_iov iov[PY_CODE_BATCH + 1];
	uint64_t addr[PY_CODE_BATCH];
	size_t i = 0, j, k, n;

	*have_op = 0;
	if (o->co_size > PY_CODE_HDR_MAX)
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
		for (; i < nraw && n < PY_CODE_BATCH; i++) {
			uint64_t c = m->raw[i].code;

			if (!c || (c & 7) || code_checked(m, c))
				continue;
			for (j = 0; j < n && addr[j] != c; j++)
				;
			if (j < n)
				continue;
			addr[n] = c;
			iov[k++] = (struct reader_iov){ c, m->hdrs[n], o->co_size, 0 };
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
