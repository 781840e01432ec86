/*
 * tables.c - memory layouts of CPython 3.9-3.12 (x86_64 and aarch64 LP64
 * Linux builds; 3.13+ describe themselves through _Py_DebugOffsets).
 *
 * Every number here was measured with offsetof()/sizeof() compiled against
 * that version's own installed headers (Include/ and Include/internal/ with
 * Py_BUILD_CORE), see tools/offsets-probe.c. Layouts do not change within a
 * minor series.
 */
#include "model.h"
#include "offsets.h"
#include "linetable.h"

#include <stdio.h>

/* Shared by 3.9-3.13 default builds: PyASCIIObject.state starts with
 * interned:2, then kind:3, compact:1, ascii:1. */
#define UNICODE_STATE_BITS .uni_kind_shift = 2, .uni_compact_bit = 5, .uni_ascii_bit = 6

/* struct _gil_runtime_state: interval, last_holder, locked, switch_number,
 * cond (48), mutex (40), switch_cond, switch_mutex; the same in 3.9-3.12. */
#define GIL_LAYOUT .gil_interval = 0, .gil_last_holder = 8, .gil_locked = 16, \
	.gil_switch_number = 24, .gil_enabled = OFF_NONE, .gil_size = 208

/* co_flags of generator, coroutine and async generator code (CO_GENERATOR,
 * CO_COROUTINE, CO_ASYNC_GENERATOR): the same bits in every version. */
#define CO_GEN_FLAGS (0x20 | 0x80 | 0x200)

#define OBJECT_LAYOUT .ob_type = 8, .tp_name = 24, .var_ob_size = 16, .bytes_sval = 32, \
	.uni_length = 16, .uni_state = 32

static const struct py_offsets py39 = {
	.version_hex = 0x03090000,
	.rt_interpreters_head = 32, .rt_gil = 352, .rt_size = 1024,
	.is_next = 0, .is_threads_head = 8, .is_gil_ptr = OFF_NONE,
	.is_code_gen = OFF_NONE, .is_modules = 856, .is_size = 1024,
	.ts_prev = 0, .ts_next = 8, .ts_interp = 16, .ts_frame = 24, .ts_cframe = OFF_NONE,
	.cframe_current_frame = OFF_NONE, .ts_root_cframe = OFF_NONE, .ts_thread_id = 176,
	.ts_native_thread_id = OFF_NONE, .ts_state = OFF_NONE, .ts_base_frame = OFF_NONE,
	.ts_size = 264,
	.frame_kind = FRAMES_OBJECTS, .instr_kind = INSTR_LASTI_BYTES,
	.fr_back = 24, .fr_code = 32, .fr_instr = 104, .fr_owner = OFF_NONE, .fr_tlbc_index = OFF_NONE,
	.fr_localsplus = OFF_NONE, .fr_stackpointer = OFF_NONE, .fr_valuestack = 64,
	.fr_size = 112, .fr_code_tag_mask = 0, .owner_cstack = -1, .owner_interpreter = -1,
	.owner_base = -1, .owner_generator = -1, .fr_is_entry = OFF_NONE, .fr_refcnt = 0,
	.co_filename = 104, .co_name = 112, .co_qualname = OFF_NONE,
	.co_firstlineno = 40, .co_linetable = 120, .co_code_adaptive = OFF_NONE, .co_code = 48,
	.co_stacksize = 32, .co_nlocalsplus = OFF_NONE, .co_flags = 36, .co_gen_flags = CO_GEN_FLAGS,
	.co_tlbc = OFF_NONE, .co_size = 128, .linetable_kind = LINETABLE_LNOTAB,
	OBJECT_LAYOUT, .uni_ascii_size = 48, .uni_compact_size = 72,
	UNICODE_STATE_BITS, GIL_LAYOUT,
	.dict_ma_used = 16, .dict_ma_keys = 32, .dict_ma_values = 40,
};

static const struct py_offsets py310 = {
	.version_hex = 0x030a0000,
	.rt_interpreters_head = 32, .rt_gil = 352, .rt_size = 1024,
	.is_next = 0, .is_threads_head = 8, .is_gil_ptr = OFF_NONE,
	.is_code_gen = OFF_NONE, .is_modules = 856, .is_size = 1024,
	.ts_prev = 0, .ts_next = 8, .ts_interp = 16, .ts_frame = 24, .ts_cframe = OFF_NONE,
	.cframe_current_frame = OFF_NONE, .ts_root_cframe = OFF_NONE, .ts_thread_id = 176,
	.ts_native_thread_id = OFF_NONE, .ts_state = OFF_NONE, .ts_base_frame = OFF_NONE,
	.ts_size = 280,
	.frame_kind = FRAMES_OBJECTS, .instr_kind = INSTR_LASTI_UNITS,
	.fr_back = 24, .fr_code = 32, .fr_instr = 96, .fr_owner = OFF_NONE, .fr_tlbc_index = OFF_NONE,
	.fr_localsplus = OFF_NONE, .fr_stackpointer = OFF_NONE, .fr_valuestack = 64,
	.fr_size = 104, .fr_code_tag_mask = 0, .owner_cstack = -1, .owner_interpreter = -1,
	.owner_base = -1, .owner_generator = -1, .fr_is_entry = OFF_NONE, .fr_refcnt = 0,
	.co_filename = 104, .co_name = 112, .co_qualname = OFF_NONE,
	.co_firstlineno = 40, .co_linetable = 120, .co_code_adaptive = OFF_NONE, .co_code = 48,
	.co_stacksize = 32, .co_nlocalsplus = OFF_NONE, .co_flags = 36, .co_gen_flags = CO_GEN_FLAGS,
	.co_tlbc = OFF_NONE, .co_size = 128, .linetable_kind = LINETABLE_310,
	OBJECT_LAYOUT, .uni_ascii_size = 48, .uni_compact_size = 72,
	UNICODE_STATE_BITS, GIL_LAYOUT,
	.dict_ma_used = 16, .dict_ma_keys = 32, .dict_ma_values = 40,
};

static const struct py_offsets py311 = {
	.version_hex = 0x030b0000,
	.rt_interpreters_head = 40, .rt_gil = 360, .rt_size = 1024,
	.is_next = 0, .is_threads_head = 16, .is_gil_ptr = OFF_NONE,
	.is_code_gen = OFF_NONE, .is_modules = 888, .is_size = 1024,
	.ts_prev = 0, .ts_next = 8, .ts_interp = 16, .ts_frame = OFF_NONE, .ts_cframe = 56,
	.cframe_current_frame = 8, .ts_root_cframe = 336, .ts_thread_id = 152,
	.ts_native_thread_id = 160, .ts_state = OFF_NONE, .ts_base_frame = OFF_NONE,
	.ts_size = 360,
	.frame_kind = FRAMES_INTERP, .instr_kind = INSTR_PREV_PTR,
	.fr_back = 48, .fr_code = 32, .fr_instr = 56, .fr_owner = 69, .fr_tlbc_index = OFF_NONE,
	.fr_localsplus = 72, .fr_stackpointer = OFF_NONE, .fr_valuestack = OFF_NONE,
	.fr_size = 72, .fr_code_tag_mask = 0, .owner_cstack = -1, .owner_interpreter = -1,
	.owner_base = 0, .owner_generator = 1, .fr_is_entry = 68, .fr_refcnt = OFF_NONE,
	.co_filename = 112, .co_name = 120, .co_qualname = 128,
	.co_firstlineno = 72, .co_linetable = 136, .co_code_adaptive = 184, .co_code = OFF_NONE,
	.co_stacksize = 68, .co_nlocalsplus = 76, .co_flags = OFF_NONE, .co_gen_flags = 0,
	.co_tlbc = OFF_NONE, .co_size = 144, .linetable_kind = LINETABLE_LOCATIONS,
	OBJECT_LAYOUT, .uni_ascii_size = 48, .uni_compact_size = 72,
	UNICODE_STATE_BITS, GIL_LAYOUT,
	.dict_ma_used = 16, .dict_ma_keys = 32, .dict_ma_values = 40,
};

static const struct py_offsets py312 = {
	.version_hex = 0x030c0000,
	.rt_interpreters_head = 40, .rt_gil = OFF_NONE, .rt_size = 1024,
	.is_next = 0, .is_threads_head = 72, .is_gil_ptr = 384,
	.is_code_gen = OFF_NONE, .is_modules = 944, .is_size = 1024,
	.ts_prev = 0, .ts_next = 8, .ts_interp = 16, .ts_frame = OFF_NONE, .ts_cframe = 56,
	.cframe_current_frame = 0, .ts_root_cframe = 272, .ts_thread_id = 136,
	.ts_native_thread_id = 144, .ts_state = OFF_NONE, .ts_base_frame = OFF_NONE,
	.ts_size = 288,
	.frame_kind = FRAMES_INTERP, .instr_kind = INSTR_PREV_PTR,
	.fr_back = 8, .fr_code = 0, .fr_instr = 56, .fr_owner = 70, .fr_tlbc_index = OFF_NONE,
	.fr_localsplus = 72, .fr_stackpointer = OFF_NONE, .fr_valuestack = OFF_NONE,
	.fr_size = 72, .fr_code_tag_mask = 0, .owner_cstack = 3, .owner_interpreter = -1,
	.owner_base = 3, .owner_generator = 1, .fr_is_entry = OFF_NONE, .fr_refcnt = OFF_NONE,
	.co_filename = 112, .co_name = 120, .co_qualname = 128,
	.co_firstlineno = 68, .co_linetable = 136, .co_code_adaptive = 192, .co_code = OFF_NONE,
	.co_stacksize = 64, .co_nlocalsplus = 72, .co_flags = OFF_NONE, .co_gen_flags = 0,
	.co_tlbc = OFF_NONE, .co_size = 144, .linetable_kind = LINETABLE_LOCATIONS,
	OBJECT_LAYOUT, .uni_ascii_size = 40, .uni_compact_size = 56,
	UNICODE_STATE_BITS, GIL_LAYOUT,
	.dict_ma_used = 16, .dict_ma_keys = 32, .dict_ma_values = 40,
};

const struct py_offsets *py_offsets_table(uint32_t version_hex)
{
	switch (version_hex >> 16) {
	case 0x0309: return &py39;
	case 0x030a: return &py310;
	case 0x030b: return &py311;
	case 0x030c: return &py312;
	default: return NULL;
	}
}

void py_version_str(uint32_t v, char *out, size_t outlen)
{
	unsigned major = v >> 24, minor = (v >> 16) & 0xff, micro = (v >> 8) & 0xff;
	unsigned level = (v >> 4) & 0xf, serial = v & 0xf;
	const char *lv = level == 0xa ? "a" : level == 0xb ? "b" : level == 0xc ? "rc" : "";

	if (level == 0xf || !*lv)
		snprintf(out, outlen, "%u.%u.%u", major, minor, micro);
	else
		snprintf(out, outlen, "%u.%u.%u%s%u", major, minor, micro, lv, serial);
}

void py_supported_str(char *out, size_t outlen)
{
	uint8_t minors[16];
	uint32_t mins[16];
	size_t n = py_debug_layouts(minors, mins, 16), i, len;
	unsigned lo = 0, hi = 0, m;
	char v[32];

	/* the oldest minor with a table here, the newest with debug offsets */
	for (m = 0; m < 64 && !lo; m++)
		if (py_offsets_table(0x03000000u | m << 16))
			lo = m;
	for (i = 0; i < n; i++)
		if (minors[i] > hi)
			hi = minors[i];
	len = (size_t)snprintf(out, outlen, "CPython 3.%u to 3.%u", lo, hi);
	for (i = 0; i < n && len < outlen; i++) {
		if (!mins[i])
			continue;
		py_version_str(mins[i], v, sizeof(v));
		len += (size_t)snprintf(out + len, outlen - len, " (3.%u from %s)", minors[i], v);
	}
	if (len < outlen)
		snprintf(out + len, outlen - len, ", default and free-threaded builds");
}
