/*
 * names.h - threading.Thread names, read from the target's memory, and the
 * object reading they need: str-keyed dict lookups, int values, instance
 * attributes.
 *
 * The path is sys.modules["threading"]._active[ident]._name, where ident
 * is the thread's pthread_t (PyThreadState.thread_id, which is what
 * threading.get_ident() returns). It costs a scan of sys.modules and of the
 * threading module's globals (one small read per key), so it is meant for
 * once per dump, or for when the set of threads changes, not for every
 * sample.
 *
 * Nothing here allocates except py_model_thread_names_all (one array of n
 * idents). Every dict walk is bounded by PY_NAMES_DICT_MAX entries.
 */
#ifndef GS_NAMES_H
#define GS_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define PY_THREAD_NAME_MAX 128	/* bytes, UTF-8, NUL included */
#define PY_NAMES_DICT_MAX 65536	/* entries scanned per dict at most */

/*
 * For each i with idents[i] != 0, the threading name of the thread whose
 * pthread_t is idents[i] in interpreter `interp`, as UTF-8 (cut at a
 * character boundary), or "" when it has none (not started through
 * threading, threading not imported, or its Thread object unreadable).
 * Entries with idents[i] == 0 are left untouched.
 *
 * Returns 0 when the walk to threading._active succeeded or threading is
 * not imported; a gs_err if it could not be done (GS_EUNSUPPORTED for a
 * version we have no layout for, GS_EFAULT / GS_ECORRUPT for unreadable or
 * inconsistent memory, GS_ERANGE when a dict is larger than we scan).
 */
int py_model_thread_names(struct py_model *m, uint64_t interp, const uint64_t *idents,
			  size_t n, char (*names)[PY_THREAD_NAME_MAX]);

/* The same for threads as py_model_threads() returns them (any mix of
 * interpreters): names[i] for th[i]. */
int py_model_thread_names_all(struct py_model *m, const struct py_thread *th, size_t n,
			      char (*names)[PY_THREAD_NAME_MAX]);

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
