/*
 * threads.c - the interpreters' thread lists and the thread states in them.
 *
 * Owns the walk of every interpreter's list of thread states (bounded,
 * cycle-checked), the reading of one thread state into a struct py_thread
 * (links, top frame, ids, 3.13+ state, 3.15+ base frame), the check that a
 * thread state is still linked where it was read, and, for 3.9-3.10 which
 * keep only pthread_t, finding the native tid in glibc's struct pthread.
 * The batched re-read of a thread state together with its stack's memory
 * is prefetch.c's.
 */
#include "model_internal.h"

#include <string.h>

#include "../util/error.h"

/* glibc's struct pthread keeps the kernel tid 0x2d0 bytes in on x86_64;
 * we search for it instead of trusting that (PTHREAD_SCAN bytes). */
#define PTHREAD_SCAN 2048

int py_model_interp(struct py_model *m, uint64_t *interp)
{
	int ret;

	ret = reader_read_u64(m->r, m->loc.runtime_addr + m->off.rt_interpreters_head, interp);
	if (ret)
		return ret;
	if (!valid_ptr(*interp))
		return GS_CORRUPT("!valid_ptr(*interp)");
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
uint32_t tstate_span(const struct py_offsets *o)
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
void tstate_fill(const struct py_model *m, const uint8_t *ts, uint64_t tstate,
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
	uint32_t n = tstate_span(o);
	int ret;

	if (!valid_ptr(tstate) || n > sizeof(ts))
		return GS_CORRUPT("!valid_ptr(tstate) || n > sizeof(ts)");
	ret = reader_read(m->r, tstate, ts, n);
	if (ret)
		return ret;
	if (rd64(ts, o->ts_interp) != interp)
		return GS_CORRUPT("rd64(ts, o->ts_interp) != interp");
	tstate_fill(m, ts, tstate, interp, out);
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
	ts_read = tstate_span(o);
	if (ts_read > sizeof(ts))
		return GS_CORRUPT("ts_read > sizeof(ts)");

	while (interp && ninterp++ < PY_MAX_INTERPRETERS) {
		uint64_t next_interp;
		size_t nthis = 0;

		if (!valid_ptr(interp)) {
			ret = GS_CORRUPT("an interpreter link is no valid address");
			break;
		}
		ret = reader_read_u64(m->r, interp + o->is_threads_head, &tstate);
		if (ret)
			break;
		while (tstate) {
			struct py_thread *t;
			int dup = 0;

			if (!valid_ptr(tstate) || count >= max || nthis >= PY_MAX_THREADS) {
				ret = count >= max ? GS_ERANGE :
				      GS_CORRUPT("a thread-state link is no valid address, or the list is too long");
				break;
			}
			for (i = 0; i < count; i++)
				if (out[i].tstate == tstate)
					dup = 1;
			if (dup) {
				ret = GS_CORRUPT("the thread-state list loops");
				break;
			}
			ret = reader_read(m->r, tstate, ts, ts_read);
			if (ret)
				break;
			if (rd64(ts, o->ts_interp) != interp) {
				ret = GS_CORRUPT("a thread state of another interpreter");
				break;
			}
			t = &out[count];
			tstate_fill(m, ts, tstate, interp, t);
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
