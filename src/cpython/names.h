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

/* Where a read of names done a slice at a time stands. */
struct py_names_cursor {
	size_t interp;		/* interpreters done (in the order th names them) */
	size_t entry;		/* entries of the current one's _active read */
	int done;
};

/*
 * py_model_thread_names_all a slice at a time, so that thousands of names
 * need not be read between two samples: reads on from `cur` (all zero for
 * a new read) until everything is read (cur->done) or gs_now_ns() reaches
 * `until` (0: no limit), stopping between two entries of _active. th and
 * names must stay the same from the first slice of a read to its last; a
 * thread that starts or ends in between may leave some unnamed until the
 * next read.
 */
int py_model_thread_names_step(struct py_model *m, const struct py_thread *th, size_t n,
			       char (*names)[PY_THREAD_NAME_MAX], struct py_names_cursor *cur,
			       uint64_t until);

#endif
