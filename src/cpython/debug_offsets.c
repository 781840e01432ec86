/*
 * debug_offsets.c - read CPython 3.13+'s _Py_DebugOffsets.
 *
 * Since 3.13, _PyRuntime begins with a table of the offsets a debugger
 * needs ("xdebugpy", version, free_threaded, then one uint64 per field).
 * The table's own layout changes between minor versions, so we keep, per
 * minor version, the slot of each field we use (measured against the
 * version's headers with tools/debug-offsets-probe.c), plus the few layout
 * facts the table does not carry (struct py_layout_extra).
 *
 * Every value is hostile input: each must be below a sane bound, aligned
 * where it holds a pointer, and consistent with its neighbours, or the
 * whole table is rejected.
 */
#include "offsets.h"
#include "linetable.h"

#include <string.h>

#include "../util/error.h"

enum do_field {
	DO_version, DO_free_threaded,
	DO_rt_size, DO_rt_interpreters_head,
	DO_is_size, DO_is_next, DO_is_threads_head, DO_is_modules, DO_is_ceval_gil,
	DO_is_gil_state, DO_is_gil_enabled, DO_is_gil_locked, DO_is_gil_holder, DO_is_code_gen,
	DO_ts_size, DO_ts_prev, DO_ts_next, DO_ts_interp, DO_ts_current_frame, DO_ts_thread_id,
	DO_ts_native_thread_id, DO_ts_status, DO_ts_base_frame,
	DO_fr_size, DO_fr_previous, DO_fr_executable, DO_fr_instr_ptr, DO_fr_owner,
	DO_fr_localsplus, DO_fr_stackpointer,
	DO_fr_tlbc_index,
	DO_co_size, DO_co_filename, DO_co_name, DO_co_qualname, DO_co_linetable,
	DO_co_firstlineno, DO_co_code_adaptive, DO_co_tlbc,
	DO_ob_type, DO_tp_name, DO_dict_ma_keys, DO_dict_ma_values,
	DO_bytes_ob_size, DO_bytes_ob_sval,
	DO_uni_size, DO_uni_state, DO_uni_length, DO_uni_ascii_size,
	DO_NFIELDS
};

/* Facts about a version that _Py_DebugOffsets does not carry. */
struct py_layout_extra {
	int ts_state_from_status;	/* tstate->state - tstate->_status */
	int owner_cstack, owner_interpreter;
	int owner_base, owner_generator;	/* see struct py_offsets */
	uint64_t code_tag_mask;		/* f_executable is a _PyStackRef */
	/* PyASCIIObject.state bit positions, default and free-threaded build */
	uint8_t kind_shift[2], compact_bit[2], ascii_bit[2];
	/* PyCodeObject.co_stacksize and co_nlocalsplus (default, ft) */
	uint16_t co_stacksize[2], co_nlocalsplus[2];
};

struct do_layout {
	uint32_t minor;
	uint32_t min_version;	/* oldest PY_VERSION_HEX with this layout */
	uint32_t nslots;		/* sizeof(_Py_DebugOffsets) / 8 */
	uint16_t slot[DO_NFIELDS];	/* 0 = the version has no such field */
	struct py_layout_extra extra;
};

static const struct do_layout layouts[] = {
	{
		.minor = 13, .nslots = 73,
		.slot = {
			[DO_version] = 1, [DO_free_threaded] = 2,
			[DO_rt_size] = 3, [DO_rt_interpreters_head] = 5,
			[DO_is_size] = 6, [DO_is_next] = 8, [DO_is_threads_head] = 9,
			[DO_is_modules] = 11, [DO_is_ceval_gil] = 14, [DO_is_gil_state] = 15,
			[DO_is_gil_enabled] = 16, [DO_is_gil_locked] = 17,
			[DO_is_gil_holder] = 18,
			[DO_ts_size] = 19, [DO_ts_prev] = 20, [DO_ts_next] = 21, [DO_ts_interp] = 22,
			[DO_ts_current_frame] = 23, [DO_ts_thread_id] = 24,
			[DO_ts_native_thread_id] = 25, [DO_ts_status] = 27,
			[DO_fr_size] = 28, [DO_fr_previous] = 29, [DO_fr_executable] = 30,
			[DO_fr_instr_ptr] = 31, [DO_fr_owner] = 33, [DO_fr_localsplus] = 32,
			[DO_co_size] = 34, [DO_co_filename] = 35, [DO_co_name] = 36,
			[DO_co_qualname] = 37, [DO_co_linetable] = 38,
			[DO_co_firstlineno] = 39, [DO_co_code_adaptive] = 43,
			[DO_ob_type] = 45, [DO_tp_name] = 47,
			[DO_dict_ma_keys] = 57, [DO_dict_ma_values] = 58,
			[DO_bytes_ob_size] = 65, [DO_bytes_ob_sval] = 66,
			[DO_uni_size] = 67, [DO_uni_state] = 68, [DO_uni_length] = 69,
			[DO_uni_ascii_size] = 70,
		},
		.extra = {
			.ts_state_from_status = 8, .owner_cstack = 3, .owner_interpreter = -1,
			/* every chain ends at the C-stack entry frame of the
			 * thread's outermost eval call */
			.owner_base = 3, .owner_generator = 1,
			.code_tag_mask = 0,
			.kind_shift = { 2, 2 }, .compact_bit = { 5, 5 }, .ascii_bit = { 6, 6 },
			.co_stacksize = { 64, 80 }, .co_nlocalsplus = { 72, 88 },
		},
	},
	{
		.minor = 14, .nslots = 95,
		.slot = {
			[DO_version] = 1, [DO_free_threaded] = 2,
			[DO_rt_size] = 3, [DO_rt_interpreters_head] = 5,
			[DO_is_size] = 6, [DO_is_next] = 8, [DO_is_threads_head] = 9,
			[DO_is_modules] = 12, [DO_is_ceval_gil] = 15, [DO_is_gil_state] = 16,
			[DO_is_gil_enabled] = 17, [DO_is_gil_locked] = 18,
			[DO_is_gil_holder] = 19, [DO_is_code_gen] = 20,
			[DO_ts_size] = 22, [DO_ts_prev] = 23, [DO_ts_next] = 24, [DO_ts_interp] = 25,
			[DO_ts_current_frame] = 26, [DO_ts_thread_id] = 27,
			[DO_ts_native_thread_id] = 28, [DO_ts_status] = 30,
			[DO_fr_size] = 31, [DO_fr_previous] = 32, [DO_fr_executable] = 33,
			[DO_fr_instr_ptr] = 34, [DO_fr_owner] = 36, [DO_fr_tlbc_index] = 38,
			[DO_fr_localsplus] = 35, [DO_fr_stackpointer] = 37,
			[DO_co_size] = 39, [DO_co_filename] = 40, [DO_co_name] = 41,
			[DO_co_qualname] = 42, [DO_co_linetable] = 43,
			[DO_co_firstlineno] = 44, [DO_co_code_adaptive] = 48, [DO_co_tlbc] = 49,
			[DO_ob_type] = 51, [DO_tp_name] = 53,
			[DO_dict_ma_keys] = 67, [DO_dict_ma_values] = 68,
			[DO_bytes_ob_size] = 75, [DO_bytes_ob_sval] = 76,
			[DO_uni_size] = 77, [DO_uni_state] = 78, [DO_uni_length] = 79,
			[DO_uni_ascii_size] = 80,
		},
		.extra = {
			.ts_state_from_status = 12, .owner_cstack = 4, .owner_interpreter = 3,
			/* the entry frame of every eval call is the
			 * interpreter's now (CSTACK is left unused) */
			.owner_base = 3, .owner_generator = 1,
			.code_tag_mask = 7,
			/* free-threaded: `interned` became a whole byte */
			.kind_shift = { 2, 8 }, .compact_bit = { 5, 11 }, .ascii_bit = { 6, 12 },
			.co_stacksize = { 64, 80 }, .co_nlocalsplus = { 72, 88 },
		},
	},
	{
		/* 3.15.0b4 and later: the table changed through the early betas */
		.minor = 15, .min_version = 0x030f00b4, .nslots = 111,
		.slot = {
			[DO_version] = 1, [DO_free_threaded] = 2,
			[DO_rt_size] = 3, [DO_rt_interpreters_head] = 5,
			[DO_is_size] = 6, [DO_is_next] = 8, [DO_is_threads_head] = 9,
			[DO_is_modules] = 12, [DO_is_ceval_gil] = 15, [DO_is_gil_state] = 16,
			[DO_is_gil_enabled] = 17, [DO_is_gil_locked] = 18,
			[DO_is_gil_holder] = 19, [DO_is_code_gen] = 20,
			[DO_ts_size] = 22, [DO_ts_prev] = 23, [DO_ts_next] = 24, [DO_ts_interp] = 25,
			[DO_ts_current_frame] = 26, [DO_ts_base_frame] = 27, [DO_ts_thread_id] = 30,
			[DO_ts_native_thread_id] = 31, [DO_ts_status] = 33,
			[DO_fr_size] = 39, [DO_fr_previous] = 40, [DO_fr_executable] = 41,
			[DO_fr_instr_ptr] = 42, [DO_fr_owner] = 44, [DO_fr_tlbc_index] = 46,
			[DO_fr_localsplus] = 43, [DO_fr_stackpointer] = 45,
			[DO_co_size] = 47, [DO_co_filename] = 48, [DO_co_name] = 49,
			[DO_co_qualname] = 50, [DO_co_linetable] = 51,
			[DO_co_firstlineno] = 52, [DO_co_code_adaptive] = 56, [DO_co_tlbc] = 57,
			[DO_ob_type] = 59, [DO_tp_name] = 61,
			[DO_dict_ma_keys] = 79, [DO_dict_ma_values] = 80,
			[DO_bytes_ob_size] = 87, [DO_bytes_ob_sval] = 88,
			[DO_uni_size] = 89, [DO_uni_state] = 90, [DO_uni_length] = 91,
			[DO_uni_ascii_size] = 92,
		},
		.extra = {
			/* no C-stack shim frames any more; the base frame that
			 * ends every thread's chain is owned by the interpreter */
			.ts_state_from_status = 16, .owner_cstack = -1, .owner_interpreter = 3,
			.owner_base = 3, .owner_generator = 1,
			.code_tag_mask = 7,
			.kind_shift = { 2, 8 }, .compact_bit = { 5, 11 }, .ascii_bit = { 6, 12 },
			.co_stacksize = { 64, 80 }, .co_nlocalsplus = { 72, 88 },
		},
	},
};

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
	const struct do_layout *L = NULL;
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
	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].minor == ((version >> 16) & 0xff) &&
		    version >= layouts[i].min_version)
			L = &layouts[i];
	if (!L)
		return GS_EUNSUPPORTED;
	if (len < (size_t)L->nslots * 8)
		return GS_CORRUPT("len < (size_t)L->nslots * 8");
	x = &L->extra;
	for (f = 0; f < DO_NFIELDS; f++)
		v[f] = L->slot[f] ? slot(buf, L->slot[f]) : 0;
	ft = v[DO_free_threaded];
	if (ft > 1)
		return GS_CORRUPT("ft > 1");

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
	if (L->slot[DO_is_code_gen]) {
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
	if (L->slot[DO_ts_base_frame]) {
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
	if (ft && L->slot[DO_fr_tlbc_index] && L->slot[DO_co_tlbc]) {
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
	if (L->slot[DO_fr_stackpointer]) {
		if (!in_struct(v[DO_fr_stackpointer], fr_size, 8) || (v[DO_fr_stackpointer] & 7))
			return GS_CORRUPT("!in_struct(v[DO_fr_stackpointer], fr_size, 8) || (v[DO_fr_stackpointe...");
		out->fr_stackpointer = (uint32_t)v[DO_fr_stackpointer];
	}
	out->fr_valuestack = OFF_NONE;
	out->co_stacksize = x->co_stacksize[ft];
	out->co_nlocalsplus = x->co_nlocalsplus[ft];
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
	out->uni_kind_shift = x->kind_shift[ft];
	out->uni_compact_bit = x->compact_bit[ft];
	out->uni_ascii_bit = x->ascii_bit[ft];
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

size_t py_debug_layouts(uint8_t *minors, uint32_t *min_versions, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]) && n < max; i++) {
		minors[n] = layouts[i].minor;
		min_versions[n++] = layouts[i].min_version;
	}
	return n;
}
