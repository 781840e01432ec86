/*
 * offsets.h - what gilscope knows about one CPython version's memory layout.
 *
 * The walker (threads, frames, code objects, strings, the GIL) reads target
 * memory only through the offsets in struct py_offsets, never through
 * version tests. They come from one of two places:
 *   - the version's row of layouts.c for 3.9-3.12 (measured with
 *     offsetof() against each version's own headers), or
 *   - the target's _Py_DebugOffsets for 3.13 and later (debug_offsets.c),
 *     validated field by field before use, plus the few layout facts the
 *     debug offsets do not carry (struct py_layout_extra, layouts.h).
 *
 * OFF_NONE marks a field this version does not have.
 */
#ifndef GS_OFFSETS_H
#define GS_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#define OFF_NONE UINT32_MAX

/* How a frame says where it is in its code. */
enum py_instr_kind {
	INSTR_LASTI_BYTES,	/* 3.9: int f_lasti, byte offset of last instr */
	INSTR_LASTI_UNITS,	/* 3.10: int f_lasti, index of last code unit */
	INSTR_PREV_PTR,		/* 3.11-3.12: prev_instr, pointer to last instr */
	INSTR_NEXT_PTR,		/* 3.13+: instr_ptr, pointer to current instr */
};

enum py_frame_kind {
	FRAMES_OBJECTS,		/* 3.9-3.10: PyFrameObject chain via f_back */
	FRAMES_INTERP,		/* 3.11+: _PyInterpreterFrame chain via previous */
};

struct py_offsets {
	uint32_t version_hex;	/* PY_VERSION_HEX of the target */
	int free_threaded;	/* Py_GIL_DISABLED build */

	/* _PyRuntimeState */
	uint32_t rt_interpreters_head;
	uint32_t rt_gil;	/* inline _gil_runtime_state (3.9-3.11) */
	uint32_t rt_size;	/* sizeof(_PyRuntimeState), for read bounds */

	/* PyInterpreterState */
	uint32_t is_next;
	uint32_t is_threads_head;
	uint32_t is_gil_ptr;	/* struct _gil_runtime_state * (3.12+) */
	uint32_t is_modules;	/* sys.modules dict */
	uint32_t is_code_gen;	/* uint64 bumped when a code object dies (3.14+) */
	uint32_t is_size;

	/* PyThreadState */
	uint32_t ts_prev;
	uint32_t ts_next;
	uint32_t ts_interp;
	uint32_t ts_frame;	/* frame (3.9-3.10) / current_frame (3.13+) */
	uint32_t ts_cframe;	/* _PyCFrame * (3.11-3.12) */
	uint32_t cframe_current_frame;
	uint32_t ts_root_cframe;	/* the thread state's own _PyCFrame (3.11-3.12):
					 * the only one without a current frame */
	uint32_t ts_thread_id;	/* pthread_t */
	uint32_t ts_native_thread_id;
	uint32_t ts_state;	/* 3.13+: _Py_THREAD_DETACHED/ATTACHED/SUSPENDED */
	uint32_t ts_base_frame;	/* 3.15+: the frame every whole chain ends at */
	uint32_t ts_size;

	/* frames */
	enum py_frame_kind frame_kind;
	enum py_instr_kind instr_kind;
	uint32_t fr_back;	/* f_back / previous */
	uint32_t fr_code;	/* f_code / f_executable */
	uint32_t fr_instr;	/* f_lasti / prev_instr / instr_ptr */
	uint32_t fr_owner;	/* char owner (3.11+) */
	uint32_t fr_tlbc_index;	/* int32 index into co_tlbc (3.14t+) */
	uint32_t fr_localsplus;	/* locals, then the value stack (3.11+) */
	uint32_t fr_stackpointer; /* saved top of the value stack (3.14+) */
	uint32_t fr_valuestack;	/* PyObject **f_valuestack (3.9-3.10) */
	uint32_t fr_size;	/* bytes to read to cover the fields above */
	uint64_t fr_code_tag_mask; /* low tag bits of a _PyStackRef (3.14+) */
	int owner_cstack;	/* owner value of C-stack shim frames, -1 none */
	int owner_interpreter;	/* owner value of interpreter shim frames, -1 none */
	/* How a walk knows it reached the thread's entry frame (a read that
	 * ran into a frame being unlinked ends elsewhere; see frames.c): */
	int owner_base;		/* owner of the frame a whole chain ends at: the
				 * thread's (3.11), a C-stack entry frame (3.12-13),
				 * an interpreter entry frame (3.14+); -1 none */
	int owner_generator;	/* owner of a generator's frame, -1 none */
	uint32_t fr_is_entry;	/* bool is_entry (3.11): the first frame of an
				 * eval call, as a thread's outermost one is */
	uint32_t fr_refcnt;	/* ob_refcnt of a frame object (3.9-3.10): 0 once
				 * it was freed (to a free list, or as a zombie) */

	/* PyCodeObject */
	uint32_t co_filename;
	uint32_t co_name;
	uint32_t co_qualname;
	uint32_t co_firstlineno;
	uint32_t co_linetable;	/* co_lnotab (3.9) / co_linetable */
	uint32_t co_code_adaptive; /* first code unit (3.11+) */
	uint32_t co_code;	/* bytes object with the code (3.9-3.10) */
	uint32_t co_tlbc;	/* _PyCodeArray * of thread-local bytecode (3.14t+) */
	uint32_t co_stacksize;	/* int */
	uint32_t co_nlocalsplus; /* int (3.11+) */
	uint32_t co_flags;	/* int, where co_gen_flags is used */
	uint32_t co_gen_flags;	/* CO_GENERATOR|CO_COROUTINE|CO_ASYNC_GENERATOR:
				 * code that runs in a frame its caller can lose
				 * (3.9-3.10; 0 where owner_base tells instead) */
	uint32_t co_size;	/* bytes to read to cover the fields above */
	int linetable_kind;	/* enum linetable_kind */

	/* objects */
	uint32_t ob_type;
	uint32_t tp_name;
	uint32_t var_ob_size;	/* PyVarObject.ob_size */
	uint32_t bytes_sval;

	/* str: compact objects only (everything the interpreter makes for code
	 * and names is compact) */
	uint32_t uni_length;
	uint32_t uni_state;
	uint32_t uni_ascii_size;	/* data of compact ASCII strings */
	uint32_t uni_compact_size;	/* data of other compact strings */
	uint8_t uni_kind_shift;		/* bit position of the 3-bit kind */
	uint8_t uni_compact_bit;
	uint8_t uni_ascii_bit;

	/* struct _gil_runtime_state, relative to its start */
	uint32_t gil_interval;	/* unsigned long, microseconds */
	uint32_t gil_last_holder;
	uint32_t gil_locked;
	uint32_t gil_switch_number;
	uint32_t gil_enabled;	/* int, free-threaded builds only */
	uint32_t gil_size;	/* futexes inside [gil, gil+size) are the GIL's */

	/* dict internals, for threading names (objects.c, dicts.c) */
	uint32_t dict_ma_used;
	uint32_t dict_ma_keys;
	uint32_t dict_ma_values;
};

/* The built-in table for version `version_hex` (3.9-3.12) or NULL. */
const struct py_offsets *py_offsets_table(uint32_t version_hex);

/* Debug offsets (3.13+): fill *out from the raw bytes of the target's
 * _Py_DebugOffsets (the start of _PyRuntime). Returns 0, GS_EUNSUPPORTED for
 * a version we have no layout of, or GS_ECORRUPT if a value fails its check.
 * Pure: takes bytes, so it is unit-tested and fuzzed. */
#define PY_DEBUG_OFFSETS_MAX 2048
int py_offsets_from_debug(const uint8_t *buf, size_t len, struct py_offsets *out);
/* The minors _Py_DebugOffsets layouts are known for, lowest first, and
 * the oldest release of each that has it (0: any): for messages. */
size_t py_debug_layouts(uint8_t *minors, uint32_t *min_versions, size_t max);


/* Format version_hex as Python does ("3.13.0", "3.15.0rc1"). */
void py_version_str(uint32_t version_hex, char *out, size_t outlen);

#endif
