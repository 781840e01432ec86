/*
 * names.h - threading.Thread names, read from the target's memory.
 *
 * The path is sys.modules["threading"]._active[ident]._name, where ident
 * is the thread's pthread_t (PyThreadState.thread_id, which is what
 * threading.get_ident() returns). It costs a scan of sys.modules and of the
 * threading module's globals (one small read per key), so it is meant for
 * once per dump, or for when the set of threads changes, not for every
 * sample. The object reading it rests on is objects.h's.
 *
 * Nothing here allocates except py_model_thread_names_all (one array of n
 * idents). Every dict walk is bounded by PY_NAMES_DICT_MAX entries.
 */
#ifndef GS_NAMES_H
#define GS_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "objects.h"

#define PY_THREAD_NAME_MAX 128	/* bytes, UTF-8, NUL included */

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

#endif
