/*
 * model_internal.h - what the files of the interpreter model share and
 * nobody outside cpython/ needs.
 *
 * The model is one struct (model.h) and one file per concern: model.c
 * (set-up, teardown, the sample epoch, opcode facts, saved locations),
 * threads.c (thread lists and thread states), gil.c (the GIL and the head
 * read of a sample), prefetch.c (reading ahead: guesses, windows, batched
 * code checks), frames.c (the stack walk and whether it was torn) and
 * lines.c (a frame's offset, line and opcode). Object reading (dicts,
 * attributes, ints) is objects.c and dicts.c, thread names thread_names.c.
 *
 * The three byte accessors below are inline in this header, against the
 * usual rule, because the frame walk calls them for every field of every
 * frame; everything else here is declared only.
 */
#ifndef GS_MODEL_INTERNAL_H
#define GS_MODEL_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "layouts.h"
#include "model.h"

static inline uint64_t rd64(const uint8_t *b, uint32_t off)
{
	uint64_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

static inline int32_t rd32(const uint8_t *b, uint32_t off)
{
	int32_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

static inline int valid_ptr(uint64_t p)
{
	/* user-space, non-null, 8-aligned (every object we follow is) */
	return p >= 4096 && !(p & 7) && p < (1ull << 56);
}

/* threads.c: bytes of a thread state the model reads (up to the furthest
 * field it uses), and a struct py_thread from those bytes. */
uint32_t tstate_span(const struct py_offsets *o);
void tstate_fill(const struct py_model *m, const uint8_t *ts, uint64_t tstate,
		 uint64_t interp, struct py_thread *t);

/* prefetch.c: pass 2 of the stack walk. Check, in batched reads, the code
 * objects of the m->raw[0..nraw) not checked in this validation epoch,
 * and (want_op) read the innermost frame's two instruction bytes into op,
 * from w's code units when they hold them; *have_op says whether it did. */
void codes_prefetch(struct py_model *m, size_t nraw, int want_op, uint8_t *op, int *have_op,
		    const struct py_window *w);

/* lines.c: line, offset and (want_opcode) opcode of frame f, whose code
 * object is c, from its raw facts. op, if not NULL: the two bytes at the
 * instruction, already read. */
void frame_position(struct py_model *m, const struct py_code *c, const struct py_raw_frame *rf,
		    struct py_frame *f, int want_opcode, const uint8_t *op);

/* frames.c: py_model_stack(), and how the walk ended. */
int stack_of_tstate(struct py_model *m, uint64_t tstate, struct py_frame *frames, size_t max,
		    size_t *n, int *truncated, struct py_stack_end *end);

/* The build's row of layouts.c (a model set up by hand in a test may
 * leave it to be looked up). */
static inline const struct py_layout *model_layout(const struct py_model *m)
{
	return m->layout ? m->layout : py_layout_find(m->off.version_hex, m->free_threaded);
}

#endif
