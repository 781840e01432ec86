/*
 * gilinfo.c - the GIL's own count, sys.flags.gil, sys._xoptions["gil"] and
 * the modules that need the GIL, read from a free-threaded interpreter.
 *
 * Layout facts the debug offsets do not carry (tuple items, the sys.flags
 * field order, PyModuleObject) are the build's row of layouts.c. Every object is type-checked by its tp_name before it is
 * trusted.
 */
#include "gilinfo.h"

#include <stdio.h>
#include <string.h>

#include "model_internal.h"
#include "objects.h"
#include "../util/error.h"

#define TYPE_NAME_MAX 32

static const struct gil_layout *layout_of(const struct py_model *m)
{
	const struct py_layout *l = model_layout(m);

	return l && l->has_gil && l->obj.ob_type == m->off.ob_type ? &l->gil : NULL;
}

/* The object's type and whether its tp_name is `want`: 1 yes, 0 no, or a
 * gs_err. */
static int type_is(struct py_model *m, uint64_t obj, const char *want, uint64_t *type)
{
	char name[TYPE_NAME_MAX];
	uint64_t tp_name;
	size_t wlen = strlen(want);
	int ret;

	*type = 0;
	if (!valid_ptr(obj) || wlen + 1 > sizeof(name))
		return GS_CORRUPT("!valid_ptr(obj) || wlen + 1 > sizeof(name)");
	ret = reader_read_u64(m->r, obj + m->off.ob_type, type);
	if (ret)
		return ret;
	if (!valid_ptr(*type))
		return GS_CORRUPT("!valid_ptr(*type)");
	ret = reader_read_u64(m->r, *type + m->off.tp_name, &tp_name);
	if (ret)
		return ret;
	if (!tp_name)
		return GS_CORRUPT("!tp_name");
	ret = reader_read(m->r, tp_name, name, wlen + 1);
	if (ret)
		return ret;
	return !memcmp(name, want, wlen + 1);
}

/* An int or None item of a tuple: 0/1/..., -1 for None. */
static int small_int_or_none(struct py_model *m, uint64_t obj, int *out)
{
	uint64_t type, v;
	int ret;

	ret = type_is(m, obj, "NoneType", &type);
	if (ret < 0)
		return ret;
	if (ret) {
		*out = -1;
		return 0;
	}
	ret = py_model_long_u64(m, obj, &v);	/* checks it is an int */
	if (ret)
		return ret;
	if (v > 1000)
		return GS_CORRUPT("v > 1000");
	*out = (int)v;
	return 0;
}

static int read_flags(struct py_model *m, const struct gil_layout *L, uint64_t sysdict,
		      struct py_gil_info *gi)
{
	uint64_t flags, type, size, item, xopts, xgil;
	char val[8];
	int ret, v;

	ret = py_model_dict_get(m, sysdict, "flags", &flags);
	if (ret)
		return ret;
	if (!flags)
		return GS_CORRUPT("!flags");
	ret = type_is(m, flags, "sys.flags", &type);
	if (ret <= 0)
		return ret ? ret : GS_ECORRUPT;
	ret = reader_read_u64(m->r, flags + m->off.var_ob_size, &size);
	if (ret)
		return ret;
	if (size != L->flags_len)
		return GS_CORRUPT("size != L->flags_len");
	/* gil is past the visible fields; the struct sequence keeps it after
	 * them in the same ob_item array */
	ret = reader_read_u64(m->r, flags + L->tuple_items + 8u * L->flags_gil, &item);
	if (!ret)
		ret = small_int_or_none(m, item, &v);
	if (ret)
		return ret;
	if (v > 1)
		return GS_CORRUPT("v > 1");
	gi->flag = v;
	ret = reader_read_u64(m->r, flags + L->tuple_items + 8u * L->flags_ignore_env, &item);
	if (!ret && !small_int_or_none(m, item, &v) && v >= 0)
		gi->ignore_environment = v != 0;

	gi->xoption = -2;
	if (py_model_dict_get(m, sysdict, "_xoptions", &xopts) || !xopts)
		return 0;
	if (py_model_dict_get(m, xopts, "gil", &xgil))
		return 0;
	if (!xgil) {
		gi->xoption = -1;
		return 0;
	}
	if (!py_model_read_str(m, xgil, val, sizeof(val)) && (!strcmp(val, "0") || !strcmp(val, "1")))
		gi->xoption = val[0] - '0';
	return 0;
}

struct modwalk {
	struct py_model *m;
	const struct gil_layout *L;
	struct py_gil_info *gi;
	uint64_t module_type;	/* `module`'s type, once seen */
};

static int check_module(void *arg, uint64_t key, uint64_t value)
{
	struct modwalk *w = arg;
	const struct gil_layout *L = w->L;
	struct py_gil_info *gi = w->gi;
	uint8_t buf[128];
	uint64_t ext, type;
	int needs;

	if (!valid_ptr(value) || (size_t)L->md_gil + 8 > sizeof(buf) ||
	    (size_t)L->md_ext + 8 > sizeof(buf))
		return 0;
	if (w->module_type) {
		if (reader_read_u64(w->m->r, value + w->m->off.ob_type, &type) ||
		    type != w->module_type)
			return 0;	/* not a plain module (None, a subclass...) */
	} else if (type_is(w->m, value, "module", &type) == 1) {
		w->module_type = type;
	} else {
		return 0;
	}
	if (reader_read(w->m->r, value, buf, L->md_gil > L->md_ext ? L->md_gil + 8u : L->md_ext + 8u))
		return 0;
	memcpy(&ext, buf + L->md_ext, sizeof(ext));
	if (!ext)
		return 0;	/* a Python module: never checked for the GIL */
	if (L->md_gil_kind == MD_GIL_PTR) {
		uint64_t p;

		memcpy(&p, buf + L->md_gil, sizeof(p));
		if (p > 1)
			return 0;	/* neither USED nor NOT_USED: not what we think */
		needs = p == 0;
	} else {
		if (buf[L->md_gil] > 1)
			return 0;
		needs = buf[L->md_gil] == 1;
	}
	if (!needs)
		return 0;
	if (gi->nmodules == PY_GIL_MODULES_MAX) {
		gi->modules_truncated = 1;
		return 1;
	}
	if (py_model_read_str(w->m, key, gi->modules[gi->nmodules], PY_MODNAME_MAX))
		snprintf(gi->modules[gi->nmodules], PY_MODNAME_MAX, "?");
	gi->nmodules++;
	return 0;
}

int py_model_gil_info(struct py_model *m, uint64_t interp, const struct py_gil *g,
		      struct py_gil_info *gi)
{
	const struct gil_layout *L;
	struct modwalk w;
	uint64_t modules, sysmod, sysdict, type;
	int32_t count;
	int ret;

	memset(gi, 0, sizeof(*gi));
	gi->free_threaded = m->free_threaded;
	gi->count = -1;
	gi->flag = PY_GIL_FLAG_UNREAD;
	gi->ignore_environment = -1;
	gi->xoption = -2;
	gi->enabled = g->known ? g->enabled : !m->free_threaded;
	if (!m->free_threaded) {
		gi->enabled = 1;
		gi->flag = PY_GIL_FLAG_ON;
		return 0;
	}
	if (g->known && m->off.gil_enabled != OFF_NONE &&
	    !reader_read_i32(m->r, g->addr + m->off.gil_enabled, &count) && count >= 0) {
		gi->count = count;
		gi->enabled = count != 0;
	}

	L = layout_of(m);
	if (!L) {
		gi->flags_err = gi->modules_err = GS_EUNSUPPORTED;
		return 0;
	}
	ret = reader_read_u64(m->r, interp + m->off.is_modules, &modules);
	if (!ret && !valid_ptr(modules))
		ret = GS_ECORRUPT;
	if (!ret)
		ret = py_model_dict_get(m, modules, "sys", &sysmod);
	if (!ret && !sysmod)
		ret = GS_ECORRUPT;
	if (!ret) {
		ret = type_is(m, sysmod, "module", &type);
		ret = ret < 0 ? ret : ret ? 0 : GS_ECORRUPT;
	}
	if (!ret)
		ret = reader_read_u64(m->r, sysmod + L->md_dict, &sysdict);
	if (!ret)
		ret = read_flags(m, L, sysdict, gi);
	gi->flags_err = ret;
	if (ret)
		gi->flag = PY_GIL_FLAG_UNREAD;
	if (!valid_ptr(modules)) {
		gi->modules_err = GS_ECORRUPT;
		return 0;
	}
	w.m = m;
	w.L = L;
	w.gi = gi;
	w.module_type = 0;
	gi->modules_err = py_model_dict_foreach(m, modules, check_module, &w);
	return 0;
}

/* Who forced sys.flags.gil to 0 or 1. */
int py_model_gil_report(struct py_model *m, const struct py_gil *seen, struct py_gil *g,
			struct py_gil_info *gi)
{
	uint64_t interp = 0;
	int ret;

	memset(g, 0, sizeof(*g));
	memset(gi, 0, sizeof(*gi));
	if (seen && seen->known)
		*g = *seen;
	ret = py_model_interp(m, &interp);
	if (ret)
		return ret;
	if (!g->known)
		(void)py_model_gil(m, interp, g);
	return py_model_gil_info(m, interp, g, gi);
}

static enum py_gil_cause forced_by(const struct py_gil_info *gi, const char *env)
{
	if (gi->xoption >= 0)
		return GIL_CAUSE_XOPTION;
	if (env && gi->ignore_environment != 1)
		return GIL_CAUSE_ENV;
	/* -X gil was not given (xoption -1), or we could not tell (-2) */
	return gi->xoption == -1 ? GIL_CAUSE_CONFIG : GIL_CAUSE_UNKNOWN;
}

enum py_gil_cause py_gil_cause(const struct py_gil_info *gi, const char *env)
{
	int env_on = env && !strcmp(env, "1") && gi->ignore_environment != 1;
	int env_off = env && !strcmp(env, "0") && gi->ignore_environment != 1;

	if (!gi->free_threaded)
		return GIL_CAUSE_DEFAULT;
	if (gi->count < 0)
		return GIL_CAUSE_UNKNOWN;
	if (gi->count > 0 && gi->count < PY_GIL_COUNT_PERMANENT)
		return GIL_CAUSE_IMPORT;
	if (gi->count == 0) {
		if (gi->flag == PY_GIL_FLAG_NONE)
			return GIL_CAUSE_DEFAULT;
		if (gi->flag == PY_GIL_FLAG_OFF)
			return forced_by(gi, env);
		if (gi->flag == PY_GIL_FLAG_UNREAD)
			return env_off ? GIL_CAUSE_ENV : GIL_CAUSE_UNKNOWN;
		return GIL_CAUSE_UNKNOWN;	/* forced on, yet off: torn */
	}
	/* on for good */
	if (gi->flag == PY_GIL_FLAG_ON)
		return forced_by(gi, env);
	if (gi->flag == PY_GIL_FLAG_NONE)
		return GIL_CAUSE_EXTENSION;
	if (gi->flag == PY_GIL_FLAG_UNREAD) {
		if (env_on)
			return GIL_CAUSE_ENV;
		if (gi->nmodules)
			return GIL_CAUSE_EXTENSION;
	}
	return GIL_CAUSE_UNKNOWN;
}

const char *py_gil_cause_name(enum py_gil_cause c)
{
	switch (c) {
	case GIL_CAUSE_DEFAULT: return "default";
	case GIL_CAUSE_ENV: return "PYTHON_GIL";
	case GIL_CAUSE_XOPTION: return "-X gil";
	case GIL_CAUSE_CONFIG: return "config";
	case GIL_CAUSE_EXTENSION: return "extension";
	case GIL_CAUSE_IMPORT: return "import";
	case GIL_CAUSE_UNKNOWN: break;
	}
	return "unknown";
}
