/*
 * debug_offsets.c - read CPython 3.13+'s _Py_DebugOffsets.
 *
 * Since 3.13, _PyRuntime begins with a table of the offsets a debugger
 * needs ("xdebugpy", version, free_threaded, then one uint64 per field).
 * The table's own layout changes between minor versions: the slot of each
 * field we use, and the few layout facts the table does not carry, are the
 * version's row of layouts.c.
 *
 * Every value is hostile input: each must be below a sane bound, aligned
 * where it holds a pointer, and consistent with its neighbours, or the
 * whole table is rejected.
 */
#include "layouts.h"
#include "linetable.h"

#include <string.h>

#include "../util/error.h"

#define MAX_STRUCT (1u << 20)	/* no struct we read is anywhere near 1 MiB */

static uint64_t slot(const uint8_t *buf, uint16_t s)
{
	uint64_t v;

	memcpy(&v, buf + (size_t)s * 8, sizeof(v));
	return v;
}

/* An offset inside a struct of `size` bytes with `width` bytes to read. */
static int in_struct(uint64_t off, uint64_t size, uint64_t width)
{
	return size && size <= MAX_STRUCT && off <= size && width <= size - off;
}

/* A field of _Py_DebugOffsets we read, the size field of its struct, how
 * many bytes we read there (8: a pointer, which must be aligned; 5: the
 * 4-byte tstate->state next to _status), and its name in CPython's
 * struct for messages. */
struct do_check {
	uint8_t field, size, width;
	const char *name, *owner;
};

static const struct do_check checks[] = {
	{ DO_rt_interpreters_head, DO_rt_size, 8, "runtime_state.interpreters_head", "runtime_state" },
	{ DO_is_next, DO_is_size, 8, "interpreter_state.next", "interpreter_state" },
	{ DO_is_threads_head, DO_is_size, 8, "interpreter_state.threads_head", "interpreter_state" },
	{ DO_is_modules, DO_is_size, 8, "interpreter_state.imports_modules", "interpreter_state" },
	{ DO_is_ceval_gil, DO_is_size, 8, "interpreter_state.ceval_gil", "interpreter_state" },
	{ DO_ts_prev, DO_ts_size, 8, "thread_state.prev", "thread_state" },
	{ DO_ts_next, DO_ts_size, 8, "thread_state.next", "thread_state" },
	{ DO_ts_interp, DO_ts_size, 8, "thread_state.interp", "thread_state" },
	{ DO_ts_current_frame, DO_ts_size, 8, "thread_state.current_frame", "thread_state" },
	{ DO_ts_thread_id, DO_ts_size, 8, "thread_state.thread_id", "thread_state" },
	{ DO_ts_native_thread_id, DO_ts_size, 8, "thread_state.native_thread_id", "thread_state" },
	{ DO_ts_status, DO_ts_size, 4, "thread_state.status", "thread_state" },
	{ DO_ts_status, DO_ts_size, 5, "thread_state.status (its state field)", "thread_state" },
	{ DO_fr_previous, DO_fr_size, 8, "interpreter_frame.previous", "interpreter_frame" },
	{ DO_fr_executable, DO_fr_size, 8, "interpreter_frame.executable", "interpreter_frame" },
	{ DO_fr_instr_ptr, DO_fr_size, 8, "interpreter_frame.instr_ptr", "interpreter_frame" },
	{ DO_fr_owner, DO_fr_size, 1, "interpreter_frame.owner", "interpreter_frame" },
	{ DO_co_filename, DO_co_size, 8, "code_object.filename", "code_object" },
	{ DO_co_name, DO_co_size, 8, "code_object.name", "code_object" },
	{ DO_co_qualname, DO_co_size, 8, "code_object.qualname", "code_object" },
	{ DO_co_linetable, DO_co_size, 8, "code_object.linetable", "code_object" },
	{ DO_co_firstlineno, DO_co_size, 4, "code_object.firstlineno", "code_object" },
	{ DO_co_code_adaptive, DO_co_size, 0, "code_object.co_code_adaptive", "code_object" },
	{ DO_uni_state, DO_uni_size, 4, "unicode_object.state", "unicode_object" },
	{ DO_uni_length, DO_uni_size, 8, "unicode_object.length", "unicode_object" },
	{ DO_uni_ascii_size, DO_uni_size, 0, "unicode_object.asciiobject_size", "unicode_object" },
};

int py_offsets_from_debug(const uint8_t *buf, size_t len, struct py_offsets *out)
{
	const struct py_layout *L;
	const struct py_layout_extra *x;
	uint64_t version, ft, v[DO_NFIELDS];
	uint64_t rt_size, is_size, ts_size, fr_size, co_size;
	uint64_t gil_locked, gil_holder, gil_base, shift;
	size_t i;
	int f;

	if (len < 24 || memcmp(buf, "xdebugpy", 8))
		return GS_CORRUPT("len < 24 || memcmp(buf, \"xdebugpy\", 8)");
	memcpy(&version, buf + 8, sizeof(version));
	if ((version >> 24) != 3)
		return GS_CORRUPT("(version >> 24) != 3");
	/* the default build's row says where free_threaded is; the build's
	 * own row, the rest */
	L = py_layout_find((uint32_t)version, 0);
	if (!L || L->fixed || version > UINT32_MAX)
		return GS_EUNSUPPORTED;
	if (len < (size_t)L->do_nslots * 8)
		return GS_CORRUPT("_Py_DebugOffsets: shorter than this version's");
	ft = slot(buf, L->do_slot[DO_free_threaded]);
	if (ft > 1)
		return GS_CORRUPTF("_Py_DebugOffsets: free_threaded=%llu is no boolean",
				   (unsigned long long)ft);
	if (ft) {
		L = py_layout_find((uint32_t)version, 1);
		if (!L || L->fixed)
			return GS_EUNSUPPORTED;
		if (len < (size_t)L->do_nslots * 8)
			return GS_CORRUPT("_Py_DebugOffsets: shorter than this version's");
	}
	x = &L->extra;
	for (f = 0; f < DO_NFIELDS; f++)
		v[f] = L->do_slot[f] ? slot(buf, L->do_slot[f]) : 0;

	rt_size = v[DO_rt_size];
	is_size = v[DO_is_size];
	ts_size = v[DO_ts_size];
	fr_size = v[DO_fr_size];
	co_size = v[DO_co_size];
	/* every field we read lies inside its struct, pointers aligned: the
	 * first that does not is named, as CPython's own validation does */
	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		const struct do_check *c = &checks[i];
		uint64_t off = v[c->field] + (c->field == DO_ts_status && c->width == 5 ?
					      (uint64_t)x->ts_state_from_status : 0);
		uint64_t size = v[c->size];
		uint64_t width = c->width == 5 ? 4 : c->width;

		if (!in_struct(off, size, width))
			return GS_CORRUPTF("_Py_DebugOffsets: %s=%llu lies outside %s (size %llu)",
					   c->name, (unsigned long long)off, c->owner,
					   (unsigned long long)size);
		if (c->width == 8 && (off & 7))
			return GS_CORRUPTF("_Py_DebugOffsets: %s=%llu is not pointer-aligned",
					   c->name, (unsigned long long)off);
	}
	if (v[DO_ob_type] & 7)
		return GS_CORRUPTF("_Py_DebugOffsets: pyobject.ob_type=%llu is not pointer-aligned",
				   (unsigned long long)v[DO_ob_type]);
	/* object header: ob_type is 8 (default) or 24 (free-threaded) bytes in */
	if (v[DO_ob_type] != (ft ? 24 : 8) || v[DO_tp_name] > 4096 ||
	    v[DO_bytes_ob_size] > 64 || v[DO_bytes_ob_sval] > 128 ||
	    v[DO_bytes_ob_size] < v[DO_ob_type] || v[DO_uni_length] < v[DO_ob_type] ||
	    v[DO_uni_ascii_size] > 256 || v[DO_uni_state] < v[DO_uni_length])
		return GS_CORRUPT("v[DO_ob_type] != (ft ? 24 : 8) || v[DO_tp_name] > 4096 || v[DO_bytes_...");
	/* length and state are fields of PyASCIIObject: str_read takes them
	 * out of the header it read, which is no longer than that */
	if (v[DO_uni_length] + 8 > v[DO_uni_ascii_size] ||
	    v[DO_uni_state] + 4 > v[DO_uni_ascii_size])
		return GS_CORRUPT("v[DO_uni_length] + 8 > v[DO_uni_ascii_size] || v[DO_uni_state] + 4 > ...");
	/* The GIL: locked and holder are given relative to the interpreter; we
	 * want them relative to the GIL struct, and we check that they sit
	 * where this version's layout (interval, last_holder, locked,
	 * switch_number, cond, mutex) puts them, so the fields the table does
	 * not name (interval, switch_number, the futexes) can be trusted too. */
	gil_base = v[DO_is_gil_state];
	gil_locked = v[DO_is_gil_locked];
	gil_holder = v[DO_is_gil_holder];
	if (gil_locked < gil_base || gil_holder < gil_base ||
	    !in_struct(gil_locked, is_size, 4) || !in_struct(gil_holder, is_size, 8))
		return GS_CORRUPT("gil_locked < gil_base || gil_holder < gil_base || !in_struct(gil_lock...");
	shift = gil_holder - gil_base - 8;	/* 8 on free-threaded: `enabled` first */
	if (shift != (ft ? 8u : 0u) || gil_locked - gil_base != 16 + shift)
		return GS_CORRUPT("shift != (ft ? 8u : 0u) || gil_locked - gil_base != 16 + shift");

	memset(out, 0, sizeof(*out));
	out->version_hex = (uint32_t)version;
	out->free_threaded = (int)ft;
	out->rt_interpreters_head = (uint32_t)v[DO_rt_interpreters_head];
	out->rt_gil = OFF_NONE;
	out->rt_size = (uint32_t)rt_size;
	out->is_next = (uint32_t)v[DO_is_next];
	out->is_threads_head = (uint32_t)v[DO_is_threads_head];
	out->is_gil_ptr = (uint32_t)v[DO_is_ceval_gil];
	out->is_modules = (uint32_t)v[DO_is_modules];
	out->is_code_gen = OFF_NONE;
	if (L->do_slot[DO_is_code_gen]) {
		if (!in_struct(v[DO_is_code_gen], is_size, 8) || (v[DO_is_code_gen] & 7))
			return GS_CORRUPT("!in_struct(v[DO_is_code_gen], is_size, 8) || (v[DO_is_code_gen] & 7)");
		out->is_code_gen = (uint32_t)v[DO_is_code_gen];
	}
	out->is_size = (uint32_t)is_size;
	out->ts_prev = (uint32_t)v[DO_ts_prev];
	out->ts_next = (uint32_t)v[DO_ts_next];
	out->ts_interp = (uint32_t)v[DO_ts_interp];
	out->ts_frame = (uint32_t)v[DO_ts_current_frame];
	out->ts_cframe = OFF_NONE;
	out->cframe_current_frame = OFF_NONE;
	out->ts_root_cframe = OFF_NONE;
	out->ts_base_frame = OFF_NONE;
	if (L->do_slot[DO_ts_base_frame]) {
		if (!in_struct(v[DO_ts_base_frame], ts_size, 8) || (v[DO_ts_base_frame] & 7))
			return GS_CORRUPT("!in_struct(v[DO_ts_base_frame], ts_size, 8) || (v[DO_ts_base_frame] & 7)");
		out->ts_base_frame = (uint32_t)v[DO_ts_base_frame];
	}
	out->ts_thread_id = (uint32_t)v[DO_ts_thread_id];
	out->ts_native_thread_id = (uint32_t)v[DO_ts_native_thread_id];
	out->ts_state = (uint32_t)(v[DO_ts_status] + (uint64_t)x->ts_state_from_status);
	out->ts_size = (uint32_t)ts_size;
	out->frame_kind = FRAMES_INTERP;
	out->instr_kind = INSTR_NEXT_PTR;
	out->fr_back = (uint32_t)v[DO_fr_previous];
	out->fr_code = (uint32_t)v[DO_fr_executable];
	out->fr_instr = (uint32_t)v[DO_fr_instr_ptr];
	out->fr_owner = (uint32_t)v[DO_fr_owner];
	out->fr_tlbc_index = OFF_NONE;
	out->co_tlbc = OFF_NONE;
	if (ft && L->do_slot[DO_fr_tlbc_index] && L->do_slot[DO_co_tlbc]) {
		if (!in_struct(v[DO_fr_tlbc_index], fr_size, 4) ||
		    !in_struct(v[DO_co_tlbc], co_size, 8) || (v[DO_co_tlbc] & 7))
			return GS_CORRUPT("!in_struct(v[DO_fr_tlbc_index], fr_size, 4) || !in_struct(v[DO_co_tlb...");
		out->fr_tlbc_index = (uint32_t)v[DO_fr_tlbc_index];
		out->co_tlbc = (uint32_t)v[DO_co_tlbc];
	}
	if (!in_struct(v[DO_fr_localsplus], fr_size, 0) || (v[DO_fr_localsplus] & 7))
		return GS_CORRUPT("!in_struct(v[DO_fr_localsplus], fr_size, 0) || (v[DO_fr_localsplus] & 7)");
	out->fr_localsplus = (uint32_t)v[DO_fr_localsplus];
	out->fr_stackpointer = OFF_NONE;
	if (L->do_slot[DO_fr_stackpointer]) {
		if (!in_struct(v[DO_fr_stackpointer], fr_size, 8) || (v[DO_fr_stackpointer] & 7))
			return GS_CORRUPT("!in_struct(v[DO_fr_stackpointer], fr_size, 8) || (v[DO_fr_stackpointe...");
		out->fr_stackpointer = (uint32_t)v[DO_fr_stackpointer];
	}
	out->fr_valuestack = OFF_NONE;
	out->co_stacksize = x->co_stacksize;
	out->co_nlocalsplus = x->co_nlocalsplus;
	if (!in_struct(out->co_nlocalsplus, co_size + 64, 4))
		return GS_CORRUPT("!in_struct(out->co_nlocalsplus, co_size + 64, 4)");
	out->fr_size = (uint32_t)fr_size;
	out->fr_code_tag_mask = x->code_tag_mask;
	out->owner_cstack = x->owner_cstack;
	out->owner_interpreter = x->owner_interpreter;
	out->owner_base = x->owner_base;
	out->owner_generator = x->owner_generator;
	out->fr_refcnt = OFF_NONE;	/* frames are no objects since 3.11 */
	out->fr_is_entry = OFF_NONE;	/* entry frames have owners of their own */
	out->co_filename = (uint32_t)v[DO_co_filename];
	out->co_name = (uint32_t)v[DO_co_name];
	out->co_qualname = (uint32_t)v[DO_co_qualname];
	out->co_firstlineno = (uint32_t)v[DO_co_firstlineno];
	out->co_linetable = (uint32_t)v[DO_co_linetable];
	out->co_code_adaptive = (uint32_t)v[DO_co_code_adaptive];
	out->co_code = OFF_NONE;
	out->co_flags = OFF_NONE;	/* frame owners tell a generator's frame */
	out->co_gen_flags = 0;
	out->co_size = 0;
	{
		uint32_t m = out->co_filename;
		uint32_t fields[] = { out->co_name, out->co_qualname, out->co_linetable,
				      out->co_firstlineno, out->co_tlbc, (uint32_t)v[DO_ob_type],
				      out->co_stacksize, out->co_nlocalsplus };
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (fields[i] != OFF_NONE && fields[i] > m)
				m = fields[i];
		out->co_size = m + 8;
	}
	out->linetable_kind = LINETABLE_LOCATIONS;
	out->ob_type = (uint32_t)v[DO_ob_type];
	out->tp_name = (uint32_t)v[DO_tp_name];
	out->var_ob_size = (uint32_t)v[DO_bytes_ob_size];
	out->bytes_sval = (uint32_t)v[DO_bytes_ob_sval];
	out->uni_length = (uint32_t)v[DO_uni_length];
	out->uni_state = (uint32_t)v[DO_uni_state];
	out->uni_ascii_size = (uint32_t)v[DO_uni_ascii_size];
	/* PyCompactUnicodeObject: ASCII header + utf8_length + utf8 pointer */
	out->uni_compact_size = out->uni_ascii_size + 16;
	out->uni_kind_shift = x->kind_shift;
	out->uni_compact_bit = x->compact_bit;
	out->uni_ascii_bit = x->ascii_bit;
	out->gil_enabled = ft ? 0 : OFF_NONE;
	out->gil_interval = (uint32_t)shift;
	out->gil_last_holder = (uint32_t)(8 + shift);
	out->gil_locked = (uint32_t)(16 + shift);
	out->gil_switch_number = (uint32_t)(24 + shift);
	out->gil_size = (uint32_t)(208 + shift);
	out->dict_ma_used = 16 + (ft ? 16 : 0);
	out->dict_ma_keys = (uint32_t)v[DO_dict_ma_keys];
	out->dict_ma_values = (uint32_t)v[DO_dict_ma_values];
	return 0;
}
