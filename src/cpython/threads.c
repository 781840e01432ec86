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

#include <stdlib.h>
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

/* Is tid in the task list (sorted)? A binary search: with ten thousand
 * threads, find_tid_offset() asks some 30,000 times. */
static int tid_known(const int32_t *sorted, size_t ntids, int32_t tid)
{
	size_t lo = 0, hi = ntids;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sorted[mid] == tid)
			return 1;
		if (sorted[mid] < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* The task list, sorted, into the model's scratch; NULL when it cannot be
 * (out of memory: then no native id is found, as without a list). */
static const int32_t *sorted_tids(struct py_model *m, const int32_t *tids, size_t ntids)
{
	if (ntids > m->tids_cap) {
		int32_t *p = realloc(m->tids_sorted, ntids * sizeof(*p));

		if (!p)
			return NULL;
		m->tids_sorted = p;
		m->tids_cap = ntids;
	}
	memcpy(m->tids_sorted, tids, ntids * sizeof(*tids));
	qsort(m->tids_sorted, ntids, sizeof(*tids), cmp_i32);
	return m->tids_sorted;
}

/*
 * 3.9-3.10 keep only pthread_t (the address of glibc's struct pthread).
 * Find the tid field: an int32 equal to one of the process's tids, at the
 * same offset in every thread's struct pthread. The candidate offset is
 * kept once at least one thread confirmed it. `tids` is sorted.
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

static size_t seen_slot(uint64_t tstate, size_t cap)
{
	return (size_t)((tstate * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

/* Room in the seen set for `max` thread states (at most half full). */
static int seen_reset(struct py_model *m, size_t max)
{
	size_t cap = 64;

	while (cap < 2 * max)
		cap *= 2;
	if (cap > m->seen_cap) {
		uint32_t *p = realloc(m->seen, cap * sizeof(*p));

		if (!p)
			return GS_ENOMEM;
		m->seen = p;
		m->seen_cap = cap;
	}
	memset(m->seen, 0, m->seen_cap * sizeof(*m->seen));
	return 0;
}

/* Was tstate walked already (out[0..count))? If not, it is out[count]
 * from now on. */
static int seen_add(struct py_model *m, const struct py_thread *out, size_t count,
		    uint64_t tstate)
{
	size_t j;

	for (j = seen_slot(tstate, m->seen_cap); m->seen[j]; j = (j + 1) & (m->seen_cap - 1))
		if (out[m->seen[j] - 1].tstate == tstate)
			return 1;
	m->seen[j] = (uint32_t)count + 1;
	return 0;
}

/* Read the hinted thread states ahead (m->ahead, span bytes each; each
 * one's iov says whether it came). Returns how many were read ahead: 0
 * when there is no room for them (the walk then reads one by one). */
static size_t read_ahead(struct py_model *m, const uint64_t *hint, size_t nhint,
			 uint32_t span)
{
	size_t i;

	if (!hint || !nhint)
		return 0;
	if (nhint > PY_MAX_THREADS)
		nhint = PY_MAX_THREADS;
	if (nhint > m->ahead_cap) {
		uint8_t *b = realloc(m->ahead, nhint * span);
		struct reader_iov *v;

		if (!b)
			return 0;
		m->ahead = b;
		v = realloc(m->ahead_iov, nhint * sizeof(*v));
		if (!v)
			return 0;
		m->ahead_iov = v;
		m->ahead_cap = nhint;
	}
	for (i = 0; i < nhint; i++) {
		m->ahead_iov[i].addr = hint[i];
		m->ahead_iov[i].buf = m->ahead + i * span;
		m->ahead_iov[i].len = valid_ptr(hint[i]) ? span : 0;
	}
	(void)reader_readv(m->r, m->ahead_iov, nhint);
	return nhint;
}

int py_model_threads(struct py_model *m, struct py_thread *out, size_t max, size_t *n,
		     const int32_t *tids, size_t ntids)
{
	return py_model_threads_hint(m, out, max, n, tids, ntids, NULL, 0);
}

int py_model_threads_hint(struct py_model *m, struct py_thread *out, size_t max, size_t *n,
			  const int32_t *tids, size_t ntids, const uint64_t *hint,
			  size_t nhint)
{
	const struct py_offsets *o = &m->off;
	uint8_t ts_buf[4096];
	uint64_t interp, tstate;
	size_t count = 0, ninterp = 0, i, hj = 0;
	uint32_t ts_read;
	int ret = 0;

	*n = 0;
	ret = py_model_interp(m, &interp);
	if (ret)
		return ret;
	ts_read = tstate_span(o);
	if (ts_read > sizeof(ts_buf))
		return GS_CORRUPT("ts_read > sizeof(ts)");
	if (max > UINT32_MAX / 4)
		max = UINT32_MAX / 4;
	ret = seen_reset(m, max);
	if (ret)
		return ret;
	nhint = read_ahead(m, hint, nhint, ts_read);

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
			const uint8_t *ts = ts_buf;
			struct py_thread *t;

			if (!valid_ptr(tstate) || count >= max || nthis >= PY_MAX_THREADS) {
				ret = count >= max ? GS_ERANGE :
				      GS_CORRUPT("a thread-state link is no valid address, or the list is too long");
				break;
			}
			/* (marked seen before it is read: a thread state that
			 * does not read ends the walk anyway) */
			if (seen_add(m, out, count, tstate)) {
				ret = GS_CORRUPT("the thread-state list loops");
				break;
			}
			out[count].tstate = tstate;
			/* read ahead? (the list as it was, or one thread fewer) */
			if (hj + 1 < nhint && m->ahead_iov[hj].addr != tstate &&
			    m->ahead_iov[hj + 1].addr == tstate)
				hj++;
			if (hj < nhint && m->ahead_iov[hj].addr == tstate) {
				if (!m->ahead_iov[hj].err && m->ahead_iov[hj].len)
					ts = m->ahead + hj * ts_read;
				hj++;
			}
			if (ts == ts_buf) {
				ret = reader_read(m->r, tstate, ts_buf, ts_read);
				if (ret)
					break;
			}
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
	if (o->ts_native_thread_id == OFF_NONE && count && tids &&
	    (tids = sorted_tids(m, tids, ntids)) != NULL) {
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
