/*
 * layouts.h - the per-version layout facts of CPython, as one table
 * (layouts.c): one row per (minor version, free-threaded build), looked
 * up once. Adding a version is adding its rows there.
 *
 * A row holds, for its build:
 *   - 3.9-3.12: every offset the walker uses (struct py_offsets);
 *   - 3.13+: where _Py_DebugOffsets keeps each field we read, and the
 *     facts it does not carry (struct py_layout_extra);
 *   - the objects read for names and attributes (struct obj_layout);
 *   - 3.13+: what the GIL report reads (struct gil_layout);
 *   - the C callables named in a native call (struct callable_layout).
 * The opcode tables are generated from each version's own headers and
 * stay in opcodes.c (tools/gen-*-opcodes.py writes them).
 *
 * Private to cpython/.
 */
#ifndef GS_LAYOUTS_H
#define GS_LAYOUTS_H

#include <stddef.h>
#include <stdint.h>

#include "offsets.h"

/* The fields of _Py_DebugOffsets we read (3.13+). */
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

/* Facts about a 3.13+ build that _Py_DebugOffsets does not carry. */
struct py_layout_extra {
	int ts_state_from_status;	/* tstate->state - tstate->_status */
	int owner_cstack, owner_interpreter;
	int owner_base, owner_generator;	/* see struct py_offsets */
	uint64_t code_tag_mask;		/* f_executable is a _PyStackRef */
	/* PyASCIIObject.state bit positions */
	uint8_t kind_shift, compact_bit, ascii_bit;
	/* PyCodeObject.co_stacksize and co_nlocalsplus */
	uint16_t co_stacksize, co_nlocalsplus;
};

/* How a dict's keys object is laid out. */
enum keys_kind {
	KEYS_SIZE,	/* 3.9-3.10: Py_ssize_t dk_size; {hash,key,value} entries only */
	KEYS_LOG2,	/* 3.11+: uint8 dk_log2_size, dk_log2_index_bytes, dk_kind;
			 * {hash,key,value} or, for str-only tables, {key,value} */
};

/* Where an instance of a type with Py_TPFLAGS_MANAGED_DICT keeps its
 * attributes (others use tp_dictoffset in every version). */
enum idict_kind {
	IDICT_DICTOFFSET,	/* 3.9-3.10: no managed dicts */
	IDICT_VALUES_PTR,	/* 3.11: values* at managed_values, dict* at managed_dict */
	IDICT_DICT_OR_VALUES,	/* 3.12: one word at managed_dict: a dict*, or
				 * values* - 1 (odd) */
	IDICT_INLINE,		/* 3.13+: dict* at managed_dict; without one, values
				 * inline at obj + tp_basicsize (Py_TPFLAGS_INLINE_VALUES) */
};

enum long_kind {
	LONG_OB_SIZE,	/* 3.9-3.11: ob_size = sign * number of digits */
	LONG_LV_TAG,	/* 3.12+: lv_tag = ndigits << 3 | sign (0 +, 1 zero, 2 -) */
};

/* The objects read for names and attributes (objects.c, dicts.c, attrs.c). */
struct obj_layout {
	uint16_t ob_type;	/* must agree with py_offsets.ob_type */
	/* PyTypeObject, PyHeapTypeObject */
	uint16_t tp_basicsize, tp_flags, tp_dictoffset, ht_cached_keys;
	uint64_t f_heaptype, f_managed_dict, f_inline_values;
	uint64_t f_long, f_unicode, f_dict;	/* Py_TPFLAGS_*_SUBCLASS */
	/* PyModuleObject */
	uint16_t md_dict;
	/* PyDictKeysObject */
	enum keys_kind keys;
	uint8_t dk_size;	/* dk_size (KEYS_SIZE) or dk_log2_size (KEYS_LOG2) */
	uint8_t dk_log2_index_bytes, dk_kind;	/* KEYS_LOG2 only */
	uint8_t dk_nentries, dk_indices;
	/* entries: [0] of DICT_KEYS_GENERAL tables, [1] of the others */
	uint8_t entry_size[2], entry_key[2], entry_value[2];
	/* PyDictValues: where values[] starts; capacity and valid bytes, -1 none */
	uint8_t values_values;
	int8_t values_capacity, values_valid;
	/* instance dicts, offsets relative to the object */
	enum idict_kind idict;
	int8_t managed_dict, managed_values;
	/* PyLongObject (30-bit digits in every supported build) */
	enum long_kind long_kind;
	uint8_t long_size, long_digit;	/* ob_size or lv_tag; ob_digit */
};

enum md_gil_kind {
	MD_GIL_NONE,	/* default build: no such field */
	MD_GIL_PTR,	/* void *md_gil: Py_MOD_GIL_USED (0) or _NOT_USED (1) */
	MD_GIL_BOOL,	/* bool md_requires_gil (3.15+) */
};

/* What the GIL report reads (gilinfo.c), 3.13+. */
struct gil_layout {
	uint16_t tuple_items;	/* PyTupleObject.ob_item (3.14+: after ob_hash) */
	uint8_t flags_len;	/* sys.flags visible fields (Py_SIZE) */
	uint8_t flags_ignore_env, flags_gil;	/* indices into ob_item */
	uint16_t md_dict;
	uint16_t md_ext;	/* md_def (3.13-3.14) / md_token (3.15): set for
				 * extension modules, NULL for Python ones */
	uint16_t md_gil;
	uint8_t md_gil_kind;
};

/* The C callables a native call is named from (callee.c), offsets from the
 * object's start. */
struct callable_layout {
	/* PyCFunctionObject: m_ml, m_self, m_module */
	uint16_t cf_ml, cf_self, cf_module;
	/* PyMethodDescrObject: d_type, d_method */
	uint16_t descr_type, descr_method;
};

struct py_layout {
	uint8_t minor, ft;
	uint32_t min_version;	/* oldest PY_VERSION_HEX with this layout (0 any) */
	/* 3.9-3.12: the offsets; NULL where _Py_DebugOffsets gives them */
	const struct py_offsets *fixed;
	/* 3.13+: sizeof(_Py_DebugOffsets) / 8 and the slot of each field
	 * (0: this version has no such field) */
	uint32_t do_nslots;
	uint16_t do_slot[DO_NFIELDS];
	struct py_layout_extra extra;
	struct obj_layout obj;
	int has_gil;		/* gil below is set (3.13+) */
	struct gil_layout gil;
	struct callable_layout call;
};

/* The row of version_hex (any release of its minor at or after the row's
 * min_version) and build, or NULL. */
const struct py_layout *py_layout_find(uint32_t version_hex, int ft);
/* Every row, in the table's order (minor, then default before ft). */
size_t py_layout_count(void);
const struct py_layout *py_layout_at(size_t i);

#endif
