/*
 * lines.c - where a frame is: its instruction offset, its line and, for the
 * innermost frame, its opcode.
 *
 * Owns turning a frame's raw instruction (an index, or a pointer into the
 * code units, which on free-threaded 3.14+ may be the thread's own copy of
 * them) into an offset, the memo of (code, offset) -> line that spares
 * decoding a line table again for the frames that stay put sample after
 * sample, and reading the opcode and oparg at the innermost instruction.
 */
#include "model_internal.h"

#include <stdlib.h>
#include <string.h>

#include "code.h"
#include "linetable.h"

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
void frame_position(struct py_model *m, const struct py_code *c, const struct py_raw_frame *rf,
		    struct py_frame *f, int want_opcode, const uint8_t *op)
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
