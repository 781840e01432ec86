/*
 * objects_internal.h - what objects.c, dicts.c and thread_names.c share:
 * the per-version layouts of the objects they read (dict tables, instance
 * dicts, ints, type flags), one lookup's context, and the readers
 * themselves. Private to cpython/; the public calls are in objects.h.
 */
#ifndef GS_OBJECTS_INTERNAL_H
#define GS_OBJECTS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "model_internal.h"
#include "objects.h"

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

/* One build's layouts of the objects read here: the table in objects.c. */
struct obj_layout {
	uint8_t minor, ft;
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

#define KEY_MAX 64		/* longest key we look up, NUL included */
#define TYPE_CACHE 8
#define MAX_BASICSIZE (1u << 16)	/* no instance we read is larger */

/* One lookup's state: the layout, and the tp_flags of types seen so far
 * (str, int, dict, Thread...: a handful, read once each). */
struct objctx {
	struct py_model *m;
	const struct obj_layout *L;
	struct {
		uint64_t type, flags;
	} types[TYPE_CACHE];
	unsigned ntypes;
};

/* A keys table and, for a split table, the values that go with it. */
struct dict_tab {
	uint64_t keys;		/* PyDictKeysObject */
	uint64_t values;	/* &values[0] of a split table, 0 if combined */
	uint64_t nvalues;	/* how many values[] there are; UINT64_MAX unknown */
};

/* Called for each live entry of a table: 1 stops the scan, 0 goes on. */
typedef int (*dict_entry_fn)(struct objctx *c, uint64_t key, uint64_t value, void *arg);

/* objects.c: the layouts for m's version, checked against m->off. */
int objctx_init(struct objctx *c, struct py_model *m);
/* A pointer at addr: 0, or one that passes valid_ptr(). */
int obj_read_ptr(struct objctx *c, uint64_t addr, uint64_t *out);
/* 1 if the object's type has `flag` (a *_SUBCLASS bit), 0 if not, or a gs_err. */
int obj_is_a(struct objctx *c, uint64_t obj, uint64_t flag);
/* obj's type and that type's tp_flags (cached per lookup). */
int obj_type_flags(struct objctx *c, uint64_t obj, uint64_t *type, uint64_t *flags);
/* 1 if the object at addr is a str equal to `want` (ASCII), 0 if not. */
int obj_str_is(struct objctx *c, uint64_t addr, const char *want, size_t wlen);
/* As py_model_attr() and py_model_long_u64(). */
int obj_attr_get(struct objctx *c, uint64_t obj, const char *name, uint64_t *value);
int obj_long_u64(struct objctx *c, uint64_t addr, uint64_t *out);

/* dicts.c: walk a keys table's live entries in order (1: fn stopped it). */
int dict_tab_scan(struct objctx *c, const struct dict_tab *t, dict_entry_fn fn, void *arg);
/* The keys table (and split values) of the dict object at dict. */
int dict_tab_of(struct objctx *c, uint64_t dict, struct dict_tab *t);
/* As py_model_dict_get(). */
int dict_get(struct objctx *c, uint64_t dict, const char *key, uint64_t *value);
/* `name` in split values at `values`, keyed by the heap type's cached keys;
 * need_valid: values inline in the object, which say whether they still
 * hold its attributes. */
int dict_values_get(struct objctx *c, uint64_t type, uint64_t flags, uint64_t values,
		    int need_valid, const char *name, uint64_t *value);

#endif
