/*
 * frames.c - walking a thread's chain of frames.
 *
 * Owns the stack walk in three passes: pass 1 follows the chain (bounded,
 * loop-checked, shim frames skipped, memory read ahead used where it
 * holds the frame, what was read noted in m->walked for the next guess);
 * pass 2 checks the chain's code objects in one batch (prefetch.c); pass 3
 * looks up each frame's code object and position (lines.c). It also
 * decides whether a walk reached the thread's entry frame or was torn, and
 * why.
 */
#include "model_internal.h"

#include <string.h>

#include "code.h"
#include "../util/error.h"

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
			ret = GS_CORRUPT("a frame link is no valid address, or points to itself");
			break;
		}
		if (frame == mark) {
			count = loop_start(m->raw, count);
			ret = GS_CORRUPT("the frame chain loops");
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
		return GS_CORRUPT("o->fr_size > 512");
	if (o->ts_cframe != OFF_NONE) {
		if (!top)
			return 0;
		if (!valid_ptr(top)) {
			end->torn = PY_TORN_UNREADABLE;
			return GS_CORRUPT("the cframe pointer is not a valid address");
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

int py_thread_same(const struct py_thread *a, const struct py_thread *b)
{
	return a->tstate == b->tstate && a->tid == b->tid && a->pthread_id == b->pthread_id &&
	       a->interp == b->interp;
}

int py_model_read_thread(struct py_model *m, const struct py_thread *known, uint64_t head,
			 const struct py_guess *g, struct py_frame *frames, size_t max,
			 struct py_thread_read *r)
{
	int ret;

	memset(r, 0, sizeof(*r));
	ret = py_model_thread_reread(m, known, head, g, &r->t, &r->linked, m->win);
	if (ret)
		return ret;
	r->same = py_thread_same(&r->t, known);
	if (r->same)
		r->err = py_model_stack_thread(m, &r->t, m->win, frames, max, &r->n,
					       &r->truncated, &r->end);
	return 0;
}

/* py_model_stack(), and how the walk ended. */
int stack_of_tstate(struct py_model *m, uint64_t tstate, struct py_frame *frames, size_t max,
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

	return stack_of_tstate(m, tstate, frames, max, n, truncated, &end);
}
