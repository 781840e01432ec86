/*
 * layouts.c - the memory layouts of every CPython build gilscope reads
 * (x86_64 and aarch64 LP64 Linux), one row per minor version and build:
 * see layouts.h.
 *
 * Every number was measured: the 3.9-3.12 offsets with offsetof()/sizeof()
 * compiled against each version's own installed headers (Include/ and
 * Include/internal/ with Py_BUILD_CORE, tools/offsets-probe.c); the slots
 * of _Py_DebugOffsets with tools/debug-offsets-probe.c; the object layouts
 * with tools/names-probe.c; the GIL report's against each version's headers
 * (Include/cpython/tupleobject.h, Python/sysmodule.c flags_fields,
 * Include/internal/pycore_moduleobject.h) and live interpreters. Layouts do
 * not change within a minor series, but for 3.15's early betas.
 */
#include "layouts.h"
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

/* The objects read for names and attributes. */
/* Type flags, the same in every version: Py_TPFLAGS_HEAPTYPE, LONG/UNICODE/DICT_SUBCLASS. */
#define TPFLAGS .f_heaptype = 1u << 9, .f_long = 1u << 24, .f_unicode = 1u << 28, \
	.f_dict = 1u << 29
/* 3.11+ keys: dk_log2_size 8, dk_log2_index_bytes 9, dk_kind 10 (0 general),
 * dk_nentries 24, dk_indices 32 (the free-threaded dk_mutex fits in the
 * padding); entries {hash,key,value} 24 bytes, {key,value} 16 bytes. */
#define KEYS_311 .keys = KEYS_LOG2, .dk_size = 8, .dk_log2_index_bytes = 9, .dk_kind = 10, \
	.dk_nentries = 24, .dk_indices = 32, \
	.entry_size = { 24, 16 }, .entry_key = { 8, 0 }, .entry_value = { 16, 8 }
/* 3.13+ PyDictValues: capacity, size, embedded, valid (bytes), then values[] */
#define VALUES_313 .values_values = 8, .values_capacity = 0, .values_valid = 3
/* Default builds: 16-byte object header. */
#define OBJ_DEFAULT .ob_type = 8, .tp_basicsize = 32, .tp_flags = 168, .tp_dictoffset = 288, \
	.md_dict = 16
/* Free-threaded builds: 32-byte object header, every field 16 further. */
#define OBJ_FT .ob_type = 24, .tp_basicsize = 48, .tp_flags = 184, .tp_dictoffset = 304, \
	.md_dict = 32

/* PyCFunctionObject and PyMethodDescrObject, after the object header
 * (16 bytes, 32 in free-threaded builds). */
#define CALLABLES(h) .call = { .cf_ml = (h), .cf_self = (h) + 8, .cf_module = (h) + 16, \
	.descr_type = (h), .descr_method = (h) + 24 }

/* Where _Py_DebugOffsets keeps each field, per minor version. */
#define DO_313 .do_nslots = 73, .do_slot = { \
	[DO_version] = 1, [DO_free_threaded] = 2, \
	[DO_rt_size] = 3, [DO_rt_interpreters_head] = 5, \
	[DO_is_size] = 6, [DO_is_next] = 8, [DO_is_threads_head] = 9, \
	[DO_is_modules] = 11, [DO_is_ceval_gil] = 14, [DO_is_gil_state] = 15, \
	[DO_is_gil_enabled] = 16, [DO_is_gil_locked] = 17, \
	[DO_is_gil_holder] = 18, \
	[DO_ts_size] = 19, [DO_ts_prev] = 20, [DO_ts_next] = 21, [DO_ts_interp] = 22, \
	[DO_ts_current_frame] = 23, [DO_ts_thread_id] = 24, \
	[DO_ts_native_thread_id] = 25, [DO_ts_status] = 27, \
	[DO_fr_size] = 28, [DO_fr_previous] = 29, [DO_fr_executable] = 30, \
	[DO_fr_instr_ptr] = 31, [DO_fr_owner] = 33, [DO_fr_localsplus] = 32, \
	[DO_co_size] = 34, [DO_co_filename] = 35, [DO_co_name] = 36, \
	[DO_co_qualname] = 37, [DO_co_linetable] = 38, \
	[DO_co_firstlineno] = 39, [DO_co_code_adaptive] = 43, \
	[DO_ob_type] = 45, [DO_tp_name] = 47, \
	[DO_dict_ma_keys] = 57, [DO_dict_ma_values] = 58, \
	[DO_bytes_ob_size] = 65, [DO_bytes_ob_sval] = 66, \
	[DO_uni_size] = 67, [DO_uni_state] = 68, [DO_uni_length] = 69, \
	[DO_uni_ascii_size] = 70, }

#define DO_314 .do_nslots = 95, .do_slot = { \
	[DO_version] = 1, [DO_free_threaded] = 2, \
	[DO_rt_size] = 3, [DO_rt_interpreters_head] = 5, \
	[DO_is_size] = 6, [DO_is_next] = 8, [DO_is_threads_head] = 9, \
	[DO_is_modules] = 12, [DO_is_ceval_gil] = 15, [DO_is_gil_state] = 16, \
	[DO_is_gil_enabled] = 17, [DO_is_gil_locked] = 18, \
	[DO_is_gil_holder] = 19, [DO_is_code_gen] = 20, \
	[DO_ts_size] = 22, [DO_ts_prev] = 23, [DO_ts_next] = 24, [DO_ts_interp] = 25, \
	[DO_ts_current_frame] = 26, [DO_ts_thread_id] = 27, \
	[DO_ts_native_thread_id] = 28, [DO_ts_status] = 30, \
	[DO_fr_size] = 31, [DO_fr_previous] = 32, [DO_fr_executable] = 33, \
	[DO_fr_instr_ptr] = 34, [DO_fr_owner] = 36, [DO_fr_tlbc_index] = 38, \
	[DO_fr_localsplus] = 35, [DO_fr_stackpointer] = 37, \
	[DO_co_size] = 39, [DO_co_filename] = 40, [DO_co_name] = 41, \
	[DO_co_qualname] = 42, [DO_co_linetable] = 43, \
	[DO_co_firstlineno] = 44, [DO_co_code_adaptive] = 48, [DO_co_tlbc] = 49, \
	[DO_ob_type] = 51, [DO_tp_name] = 53, \
	[DO_dict_ma_keys] = 67, [DO_dict_ma_values] = 68, \
	[DO_bytes_ob_size] = 75, [DO_bytes_ob_sval] = 76, \
	[DO_uni_size] = 77, [DO_uni_state] = 78, [DO_uni_length] = 79, \
	[DO_uni_ascii_size] = 80, }

/* 3.15.0b4 and later: the table changed through the early betas */
#define DO_315 .do_nslots = 111, .do_slot = { \
	[DO_version] = 1, [DO_free_threaded] = 2, \
	[DO_rt_size] = 3, [DO_rt_interpreters_head] = 5, \
	[DO_is_size] = 6, [DO_is_next] = 8, [DO_is_threads_head] = 9, \
	[DO_is_modules] = 12, [DO_is_ceval_gil] = 15, [DO_is_gil_state] = 16, \
	[DO_is_gil_enabled] = 17, [DO_is_gil_locked] = 18, \
	[DO_is_gil_holder] = 19, [DO_is_code_gen] = 20, \
	[DO_ts_size] = 22, [DO_ts_prev] = 23, [DO_ts_next] = 24, [DO_ts_interp] = 25, \
	[DO_ts_current_frame] = 26, [DO_ts_base_frame] = 27, [DO_ts_thread_id] = 30, \
	[DO_ts_native_thread_id] = 31, [DO_ts_status] = 33, \
	[DO_fr_size] = 39, [DO_fr_previous] = 40, [DO_fr_executable] = 41, \
	[DO_fr_instr_ptr] = 42, [DO_fr_owner] = 44, [DO_fr_tlbc_index] = 46, \
	[DO_fr_localsplus] = 43, [DO_fr_stackpointer] = 45, \
	[DO_co_size] = 47, [DO_co_filename] = 48, [DO_co_name] = 49, \
	[DO_co_qualname] = 50, [DO_co_linetable] = 51, \
	[DO_co_firstlineno] = 52, [DO_co_code_adaptive] = 56, [DO_co_tlbc] = 57, \
	[DO_ob_type] = 59, [DO_tp_name] = 61, \
	[DO_dict_ma_keys] = 79, [DO_dict_ma_values] = 80, \
	[DO_bytes_ob_size] = 87, [DO_bytes_ob_sval] = 88, \
	[DO_uni_size] = 89, [DO_uni_state] = 90, [DO_uni_length] = 91, \
	[DO_uni_ascii_size] = 92, }

/* PyASCIIObject.state bits and PyCodeObject sizes: default builds, then
 * free-threaded ones, where `interned` became a whole byte (3.14+) and the
 * object header is 16 bytes longer */
#define STR_CODE_DEFAULT .kind_shift = 2, .compact_bit = 5, .ascii_bit = 6, \
	.co_stacksize = 64, .co_nlocalsplus = 72
#define STR_CODE_313T .kind_shift = 2, .compact_bit = 5, .ascii_bit = 6, \
	.co_stacksize = 80, .co_nlocalsplus = 88
#define STR_CODE_FT .kind_shift = 8, .compact_bit = 11, .ascii_bit = 12, \
	.co_stacksize = 80, .co_nlocalsplus = 88

/* 3.13: every chain ends at the C-stack entry frame of the thread's
 * outermost eval call */
#define EXTRA_313(str) .extra = { .ts_state_from_status = 8, .owner_cstack = 3, \
	.owner_interpreter = -1, .owner_base = 3, .owner_generator = 1, .code_tag_mask = 0, str }
/* 3.14: the entry frame of every eval call is the interpreter's now
 * (CSTACK is left unused) */
#define EXTRA_314(str) .extra = { .ts_state_from_status = 12, .owner_cstack = 4, \
	.owner_interpreter = 3, .owner_base = 3, .owner_generator = 1, .code_tag_mask = 7, str }
/* 3.15: no C-stack shim frames any more; the base frame that ends every
 * thread's chain is owned by the interpreter */
#define EXTRA_315(str) .extra = { .ts_state_from_status = 16, .owner_cstack = -1, \
	.owner_interpreter = 3, .owner_base = 3, .owner_generator = 1, .code_tag_mask = 7, str }

/* The GIL report: tuple items, sys.flags (length, -E and gil indices),
 * PyModuleObject md_dict, md_def/md_token, md_gil/md_requires_gil. */
#define GIL(items_, dict_, ext_, gil_, kind_) .has_gil = 1, .gil = { .tuple_items = (items_), \
	.flags_len = 18, .flags_ignore_env = 7, .flags_gil = 18, .md_dict = (dict_), \
	.md_ext = (ext_), .md_gil = (gil_), .md_gil_kind = (kind_) }

static const struct py_layout rows[] = {
	{
		.minor = 9, .ft = 0, .fixed = &py39,
		CALLABLES(16),
		.obj = {
			OBJ_DEFAULT, .ht_cached_keys = 864, TPFLAGS,
			.keys = KEYS_SIZE, .dk_size = 8, .dk_nentries = 32, .dk_indices = 40,
			.entry_size = { 24, 24 }, .entry_key = { 8, 8 }, .entry_value = { 16, 16 },
			.values_values = 0, .values_capacity = -1, .values_valid = -1,
			.idict = IDICT_DICTOFFSET,
			.long_kind = LONG_OB_SIZE, .long_size = 16, .long_digit = 24,
		},
	},
	{
		.minor = 10, .ft = 0, .fixed = &py310,
		CALLABLES(16),
		.obj = {
			OBJ_DEFAULT, .ht_cached_keys = 872, TPFLAGS,
			.keys = KEYS_SIZE, .dk_size = 8, .dk_nentries = 32, .dk_indices = 40,
			.entry_size = { 24, 24 }, .entry_key = { 8, 8 }, .entry_value = { 16, 16 },
			.values_values = 0, .values_capacity = -1, .values_valid = -1,
			.idict = IDICT_DICTOFFSET,
			.long_kind = LONG_OB_SIZE, .long_size = 16, .long_digit = 24,
		},
	},
	{
		.minor = 11, .ft = 0, .fixed = &py311,
		CALLABLES(16),
		.obj = {
			OBJ_DEFAULT, .ht_cached_keys = 872, TPFLAGS,
			.f_managed_dict = 1u << 4, KEYS_311,
			.values_values = 0, .values_capacity = -1, .values_valid = -1,
			.idict = IDICT_VALUES_PTR, .managed_dict = -24, .managed_values = -32,
			.long_kind = LONG_OB_SIZE, .long_size = 16, .long_digit = 24,
		},
	},
	{
		.minor = 12, .ft = 0, .fixed = &py312,
		CALLABLES(16),
		.obj = {
			OBJ_DEFAULT, .ht_cached_keys = 880, TPFLAGS,
			.f_managed_dict = 1u << 4, KEYS_311,
			.values_values = 0, .values_capacity = -1, .values_valid = -1,
			.idict = IDICT_DICT_OR_VALUES, .managed_dict = -24,
			.long_kind = LONG_LV_TAG, .long_size = 16, .long_digit = 24,
		},
	},
	{
		.minor = 13, .ft = 0, DO_313,
		EXTRA_313(STR_CODE_DEFAULT), CALLABLES(16),
		GIL(24, 16, 0, 0, MD_GIL_NONE),
		.obj = {
			OBJ_DEFAULT, .ht_cached_keys = 880, TPFLAGS,
			.f_managed_dict = 1u << 4, .f_inline_values = 1u << 2, KEYS_311, VALUES_313,
			.idict = IDICT_INLINE, .managed_dict = -24,
			.long_kind = LONG_LV_TAG, .long_size = 16, .long_digit = 24,
		},
	},
	{
		.minor = 13, .ft = 1, DO_313,
		EXTRA_313(STR_CODE_313T), CALLABLES(32),
		GIL(40, 32, 40, 72, MD_GIL_PTR),
		.obj = {
			OBJ_FT, .ht_cached_keys = 896, TPFLAGS,
			.f_managed_dict = 1u << 4, .f_inline_values = 1u << 2, KEYS_311, VALUES_313,
			.idict = IDICT_INLINE, .managed_dict = -8,	/* no GC header before it */
			.long_kind = LONG_LV_TAG, .long_size = 32, .long_digit = 40,
		},
	},
	{
		.minor = 14, .ft = 0, DO_314,
		EXTRA_314(STR_CODE_DEFAULT), CALLABLES(16),
		GIL(32, 16, 0, 0, MD_GIL_NONE),
		.obj = {
			OBJ_DEFAULT, .ht_cached_keys = 880, TPFLAGS,
			.f_managed_dict = 1u << 4, .f_inline_values = 1u << 2, KEYS_311, VALUES_313,
			.idict = IDICT_INLINE, .managed_dict = -24,
			.long_kind = LONG_LV_TAG, .long_size = 16, .long_digit = 24,
		},
	},
	{
		.minor = 14, .ft = 1, DO_314,
		EXTRA_314(STR_CODE_FT), CALLABLES(32),
		GIL(48, 32, 40, 72, MD_GIL_PTR),
		.obj = {
			OBJ_FT, .ht_cached_keys = 896, TPFLAGS,
			.f_managed_dict = 1u << 4, .f_inline_values = 1u << 2, KEYS_311, VALUES_313,
			.idict = IDICT_INLINE, .managed_dict = -8,
			.long_kind = LONG_LV_TAG, .long_size = 32, .long_digit = 40,
		},
	},
	{
		.minor = 15, .ft = 0, .min_version = 0x030f00b4, DO_315,
		EXTRA_315(STR_CODE_DEFAULT), CALLABLES(16),
		GIL(32, 16, 0, 0, MD_GIL_NONE),
		.obj = {
			OBJ_DEFAULT, .ht_cached_keys = 888, TPFLAGS,
			.f_managed_dict = 1u << 4, .f_inline_values = 1u << 2, KEYS_311, VALUES_313,
			.idict = IDICT_INLINE, .managed_dict = -24,
			.long_kind = LONG_LV_TAG, .long_size = 16, .long_digit = 24,
		},
	},
	{
		.minor = 15, .ft = 1, .min_version = 0x030f00b4, DO_315,
		/* md_token_is_def @64, md_requires_gil @65, md_token @104 */
		EXTRA_315(STR_CODE_FT), CALLABLES(32),
		GIL(48, 32, 104, 65, MD_GIL_BOOL),
		.obj = {
			OBJ_FT, .ht_cached_keys = 904, TPFLAGS,
			.f_managed_dict = 1u << 4, .f_inline_values = 1u << 2, KEYS_311, VALUES_313,
			.idict = IDICT_INLINE, .managed_dict = -8,
			.long_kind = LONG_LV_TAG, .long_size = 32, .long_digit = 40,
		},
	},
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

const struct py_layout *py_layout_find(uint32_t version_hex, int ft)
{
	const struct py_layout *found = NULL;
	size_t i;

	if ((version_hex >> 24) != 3)
		return NULL;
	for (i = 0; i < NROWS; i++)
		if (rows[i].minor == ((version_hex >> 16) & 0xff) && rows[i].ft == !!ft &&
		    version_hex >= rows[i].min_version)
			found = &rows[i];
	return found;
}

size_t py_layout_count(void)
{
	return NROWS;
}

const struct py_layout *py_layout_at(size_t i)
{
	return i < NROWS ? &rows[i] : NULL;
}

const struct py_offsets *py_offsets_table(uint32_t version_hex)
{
	const struct py_layout *l = py_layout_find(version_hex, 0);

	return l ? l->fixed : NULL;
}

size_t py_debug_layouts(uint8_t *minors, uint32_t *min_versions, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < NROWS && n < max; i++) {
		if (rows[i].fixed || rows[i].ft)
			continue;
		minors[n] = rows[i].minor;
		min_versions[n++] = rows[i].min_version;
	}
	return n;
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
