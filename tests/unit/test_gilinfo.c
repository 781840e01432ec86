/* test_gilinfo.c - why the GIL is on or off: py_gil_cause() over the
 * combinations the interpreter can be in. */
#include "unit.h"
#include "../../src/cpython/gilinfo.h"

#include <string.h>

static struct py_gil_info ft(int32_t count, int flag, int xoption, int ignore_env)
{
	struct py_gil_info g;

	memset(&g, 0, sizeof(g));
	g.free_threaded = 1;
	g.count = count;
	g.enabled = count > 0;
	g.flag = flag;
	g.xoption = xoption;
	g.ignore_environment = ignore_env;
	return g;
}

#define CAUSE(u, g, env, want) CHECK_STREQ(u, py_gil_cause_name(py_gil_cause(&(g), env)), want)

static void t_cause(struct unit *u)
{
	struct py_gil_info g;
	const int32_t on = PY_GIL_COUNT_PERMANENT;

	memset(&g, 0, sizeof(g));
	g.enabled = 1;
	CAUSE(u, g, NULL, "default");		/* a GIL build */
	CAUSE(u, g, "1", "default");

	g = ft(0, PY_GIL_FLAG_NONE, -1, 0);
	CAUSE(u, g, NULL, "default");		/* free-threaded, nothing asked */
	g = ft(0, PY_GIL_FLAG_OFF, -1, 0);
	CAUSE(u, g, "0", "PYTHON_GIL");
	g = ft(on, PY_GIL_FLAG_ON, -1, 0);
	CAUSE(u, g, "1", "PYTHON_GIL");
	/* -X gil beats the environment, as in CPython's config */
	g = ft(on, PY_GIL_FLAG_ON, 1, 0);
	CAUSE(u, g, "0", "-X gil");
	g = ft(0, PY_GIL_FLAG_OFF, 0, 0);
	CAUSE(u, g, "1", "-X gil");
	/* -E: the environment did not count */
	g = ft(on, PY_GIL_FLAG_ON, -1, 1);
	CAUSE(u, g, "1", "config");
	g = ft(0, PY_GIL_FLAG_NONE, -1, 1);
	CAUSE(u, g, "1", "default");
	/* forced with no -X and no PYTHON_GIL: an embedder's PyConfig */
	g = ft(on, PY_GIL_FLAG_ON, -1, 0);
	CAUSE(u, g, NULL, "config");
	/* ... unless _xoptions could not be read */
	g = ft(on, PY_GIL_FLAG_ON, -2, 0);
	CAUSE(u, g, NULL, "unknown");
	/* not forced, on for good: an extension module */
	g = ft(on, PY_GIL_FLAG_NONE, -1, 0);
	CAUSE(u, g, NULL, "extension");
	/* on while an import is deciding */
	g = ft(1, PY_GIL_FLAG_NONE, -1, 0);
	CAUSE(u, g, NULL, "import");
	g = ft(3, PY_GIL_FLAG_NONE, -1, 0);
	CAUSE(u, g, NULL, "import");
	/* the count unread */
	g = ft(-1, PY_GIL_FLAG_NONE, -1, 0);
	CAUSE(u, g, NULL, "unknown");
	/* sys.flags unreadable: fall back on what is known */
	g = ft(on, PY_GIL_FLAG_UNREAD, -2, -1);
	CAUSE(u, g, "1", "PYTHON_GIL");
	CAUSE(u, g, NULL, "unknown");
	g.nmodules = 1;
	CAUSE(u, g, NULL, "extension");
	g = ft(0, PY_GIL_FLAG_UNREAD, -2, -1);
	CAUSE(u, g, "0", "PYTHON_GIL");
	CAUSE(u, g, NULL, "unknown");
	/* inconsistent (torn) */
	g = ft(0, PY_GIL_FLAG_ON, -1, 0);
	CAUSE(u, g, "1", "unknown");
}

UNIT_SUITE(gilinfo)
{
	UNIT_RUN(u, t_cause);
}
