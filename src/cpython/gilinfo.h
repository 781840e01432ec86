/*
 * gilinfo.h - why the GIL of a free-threaded interpreter (3.13t+) is on or
 * off, as far as the interpreter's memory tells:
 *
 *   - the GIL's `enabled` count: 0 off, INT_MAX on for good (PYTHON_GIL=1,
 *     -X gil=1, or an extension module that needs it), anything between
 *     on for the duration of an import (what sys._is_gil_enabled() reads);
 *   - sys.flags.gil: None when nothing forced it (the interpreter decides
 *     per imported module), 0 or 1 when PYTHON_GIL, -X gil or an embedding
 *     application's PyConfig.enable_gil did; sys._xoptions["gil"] tells -X
 *     from the rest;
 *   - the extension modules in sys.modules that did not declare
 *     Py_mod_gil = Py_MOD_GIL_NOT_USED (PyModuleObject.md_gil, 3.15:
 *     md_requires_gil). CPython keeps no record of *which* import turned the
 *     GIL on: it only warns once ("The global interpreter lock (GIL) has
 *     been enabled to load module ..."). Any module listed here is one that
 *     would have, and the first of them in import order is the one that did.
 *
 * py_gil_cause() combines that with the target's PYTHON_GIL (read by the
 * caller from its environment) into one answer. Pure, unit-tested.
 */
#ifndef GS_GILINFO_H
#define GS_GILINFO_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define PY_GIL_MODULES_MAX 32
#define PY_MODNAME_MAX 128

#define PY_GIL_COUNT_PERMANENT INT32_MAX

enum py_gil_flag {
	PY_GIL_FLAG_UNREAD = -2,	/* sys.flags could not be read */
	PY_GIL_FLAG_NONE = -1,		/* sys.flags.gil is None: not forced */
	PY_GIL_FLAG_OFF = 0,
	PY_GIL_FLAG_ON = 1,
};

struct py_gil_info {
	int free_threaded;
	int enabled;		/* on right now: what sys._is_gil_enabled() says */
	int32_t count;		/* free-threaded: the raw `enabled` count; -1 unread */
	int flag;		/* enum py_gil_flag */
	int ignore_environment;	/* sys.flags.ignore_environment (-E, -I); -1 unread */
	int xoption;		/* sys._xoptions["gil"]: 0 or 1; -1 absent; -2 unread */
	/* extension modules that did not declare they run without the GIL,
	 * in sys.modules order (free-threaded builds only) */
	char modules[PY_GIL_MODULES_MAX][PY_MODNAME_MAX];
	size_t nmodules;
	int modules_truncated;	/* more than PY_GIL_MODULES_MAX */
	int modules_err;	/* gs_err of the sys.modules walk, 0 if whole */
	int flags_err;		/* gs_err of reading sys.flags, 0 if read */
};

/*
 * Fill *gi for interpreter `interp` whose GIL `g` was just read with
 * py_model_gil(). On default builds only `enabled` (1) is set. Returns 0;
 * what could not be read is marked in *gi, not returned (best effort: an
 * unreadable sys.flags still leaves the GIL's own state).
 */
int py_model_gil_info(struct py_model *m, uint64_t interp, const struct py_gil *g,
		      struct py_gil_info *gi);

/*
 * The same for the main interpreter, in one call: its GIL as the sampler
 * last read it (`seen`, NULL or not known: read now, into *g) and what
 * *gi says of it. Returns 0, or the gs_err of finding the interpreter.
 */
int py_model_gil_report(struct py_model *m, const struct py_gil *seen, struct py_gil *g,
			struct py_gil_info *gi);

enum py_gil_cause {
	GIL_CAUSE_DEFAULT,	/* the build's default: on with a GIL build,
				 * off free-threaded with nothing asking for it */
	GIL_CAUSE_ENV,		/* PYTHON_GIL in the environment */
	GIL_CAUSE_XOPTION,	/* -X gil=N on the command line */
	GIL_CAUSE_CONFIG,	/* forced otherwise (an embedding application) */
	GIL_CAUSE_EXTENSION,	/* an extension module that needs it */
	GIL_CAUSE_IMPORT,	/* on for the time an extension module loads */
	GIL_CAUSE_UNKNOWN,
};

/*
 * Why the GIL is in the state gi->enabled says. env_python_gil is the
 * target's PYTHON_GIL ("0", "1", ...) or NULL when it has none.
 */
enum py_gil_cause py_gil_cause(const struct py_gil_info *gi, const char *env_python_gil);
/* "default", "PYTHON_GIL", "-X gil", "config", "extension", "import",
 * "unknown": the JSON names. */
const char *py_gil_cause_name(enum py_gil_cause c);

#endif
