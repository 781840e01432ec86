/*
 * objects_internal.h - what objects.c, dicts.c and thread_names.c share:
 * one lookup's context (with the build's layouts of the objects they
 * read: dict tables, instance dicts, ints, type flags; layouts.h), and the
 * readers themselves. Private to cpython/; the public calls are in objects.h.
 */
#ifndef GS_OBJECTS_INTERNAL_H
#define GS_OBJECTS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "model_internal.h"
#include "objects.h"

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
