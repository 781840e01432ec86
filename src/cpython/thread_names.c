/*
 * thread_names.c - threading.Thread names, read from the target's memory.
 *
 *   interp->modules (sys.modules, a dict) -> "threading" (a module)
 *   -> md_dict -> "_active" (a dict: int ident -> Thread)
 *   -> the Thread's "_name" (a str, in its instance dict)
 *
 * The dict, attribute and int reading it takes is objects.c's and
 * dicts.c's; this file is the path above and matching idents to threads.
 */
#include "objects_internal.h"
#include "names.h"

#include <stdlib.h>
#include <string.h>

#include "code.h"
#include "../util/error.h"

struct find_idents {
	const uint64_t *idents;
	size_t n, want, found;
	char (*names)[PY_THREAD_NAME_MAX];
};

static int match_ident(struct objctx *c, uint64_t key, uint64_t value, void *arg)
{
	struct find_idents *f = arg;
	uint64_t ident, name = 0;
	size_t i;
	int got = 0;

	if (obj_long_u64(c, key, &ident) || !ident)
		return 0;
	for (i = 0; i < f->n; i++) {
		if (f->idents[i] != ident || f->names[i][0])
			continue;
		if (!got) {
			/* an unreadable Thread costs its own name only */
			if (obj_attr_get(c, value, "_name", &name) || !name ||
			    obj_is_a(c, name, c->L->f_unicode) != 1)
				return 0;
			got = 1;
		}
		if (str_read(c->m, name, f->names[i], PY_THREAD_NAME_MAX))
			f->names[i][0] = '\0';
		else
			f->found++;
	}
	return f->found >= f->want;
}

int py_model_thread_names(struct py_model *m, uint64_t interp, const uint64_t *idents,
			  size_t n, char (*names)[PY_THREAD_NAME_MAX])
{
	struct find_idents f = { idents, n, 0, 0, names };
	struct objctx c;
	struct dict_tab t;
	uint64_t modules, mod, md, active;
	size_t i;
	int ret;

	for (i = 0; i < n; i++)
		if (idents[i]) {
			names[i][0] = '\0';
			f.want++;
		}
	ret = objctx_init(&c, m);
	if (ret || !f.want)
		return ret;
	if (!valid_ptr(interp))
		return GS_CORRUPT("!valid_ptr(interp)");
	ret = obj_read_ptr(&c, interp + m->off.is_modules, &modules);
	if (ret || !modules)
		return ret;	/* no sys.modules (yet, or any more): no names */
	ret = dict_get(&c, modules, "threading", &mod);
	if (ret || !mod)
		return ret;
	ret = obj_read_ptr(&c, mod + c.L->md_dict, &md);
	if (ret || !md)
		return ret;
	ret = dict_get(&c, md, "_active", &active);
	if (ret || !active)
		return ret;
	ret = dict_tab_of(&c, active, &t);
	if (!ret)
		ret = dict_tab_scan(&c, &t, match_ident, &f);
	return ret == 1 ? 0 : ret;
}

int py_model_thread_names_all(struct py_model *m, const struct py_thread *th, size_t n,
			      char (*names)[PY_THREAD_NAME_MAX])
{
	uint64_t done[PY_MAX_INTERPRETERS];
	uint64_t *idents;
	size_t ndone = 0, i, j, k;
	int ret = 0, r;

	for (i = 0; i < n; i++)
		names[i][0] = '\0';
	if (!n)
		return 0;
	idents = calloc(n, sizeof(*idents));
	if (!idents)
		return GS_ENOMEM;
	for (i = 0; i < n; i++) {
		for (k = 0; k < ndone; k++)
			if (done[k] == th[i].interp)
				break;
		if (k < ndone)
			continue;
		if (ndone == PY_MAX_INTERPRETERS)
			break;
		done[ndone++] = th[i].interp;
		for (j = 0; j < n; j++)
			idents[j] = th[j].interp == th[i].interp ? th[j].pthread_id : 0;
		r = py_model_thread_names(m, th[i].interp, idents, n, names);
		if (r && !ret)
			ret = r;
	}
	free(idents);
	return ret;
}
