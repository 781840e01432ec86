/*
 * objects.h - reading Python objects from the target's memory: str-keyed
 * dict lookups and walks, instance attributes, int values.
 *
 * The layouts of dict tables, instance dicts and int objects changed in
 * nearly every version from 3.9 to 3.15; objects.c holds them. Keys are
 * compared by decoding them as str, not by hash (the target's hash seed is
 * not ours). Nothing here allocates. Every dict walk is bounded by
 * PY_NAMES_DICT_MAX entries.
 */
#ifndef GS_OBJECTS_H
#define GS_OBJECTS_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define PY_NAMES_DICT_MAX 65536	/* entries scanned per dict at most */

/* The value stored under the str key `key` (ASCII, at most 63 bytes) in the
 * dict at `dict`; 0 with *value = 0 when there is no such key. */
int py_model_dict_get(struct py_model *m, uint64_t dict, const char *key, uint64_t *value);

/* Instance attribute `name` (as for py_model_dict_get) from the object's
 * __dict__, whichever way this version stores it; 0 with *value = 0 when
 * the object has no such attribute or no __dict__. */
int py_model_attr(struct py_model *m, uint64_t obj, const char *name, uint64_t *value);

/* The value of a non-negative int object that fits 64 bits. */
int py_model_long_u64(struct py_model *m, uint64_t addr, uint64_t *out);

/* Call fn(arg, key, value) for each entry of the dict at `dict`, in order,
 * until it returns non-zero. Returns 0 when every entry was seen or fn
 * stopped the walk, GS_ERANGE past PY_NAMES_DICT_MAX entries, or a gs_err.
 * key and value are target addresses, not yet checked beyond non-zero. */
int py_model_dict_foreach(struct py_model *m, uint64_t dict,
			  int (*fn)(void *arg, uint64_t key, uint64_t value), void *arg);

#endif
