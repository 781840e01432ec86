/*
 * gil.c - the GIL, and the head read that starts every sample.
 *
 * Owns reading the GIL's state (locked, last holder, switch number and
 * interval, and on free-threaded builds whether it is enabled) from the
 * runtime (3.9-3.11) or through the interpreter's pointer (3.12+), and
 * py_model_head(): the main interpreter, its thread list head, its code
 * generation and the GIL in one batched read, with the GIL looked for
 * where it was last time.
 */
#include "model_internal.h"

#include <string.h>

#include "../util/error.h"

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
			return GS_CORRUPT("!valid_ptr(addr)");
	}
	if (o->gil_switch_number + 8 > sizeof(buf))
		return GS_CORRUPT("o->gil_switch_number + 8 > sizeof(buf)");
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
		return GS_CORRUPT("o->gil_switch_number + 8 > sizeof(gbuf)");
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
		return GS_CORRUPT("!valid_ptr(head)");
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
