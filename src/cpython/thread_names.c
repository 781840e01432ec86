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
#include "../util/clock.h"
#include "../util/error.h"

/* The idents wanted, sorted with where each goes (several threads may
 * share one: a reused pthread_t), so that each entry of _active costs a
 * binary search, not a scan of every thread. */
struct ident_at {
	uint64_t ident;
	size_t i;
};

struct find_idents {
	const struct ident_at *sorted;
	size_t n, want, found;
	char (*names)[PY_THREAD_NAME_MAX];
	/* a read a slice at a time: entries of _active to pass over (read
	 * by an earlier slice), entries seen, when to stop (0: never), and
	 * whether it stopped for that */
	size_t skip, seen;
	uint64_t until;
	int stopped;
};

static int ident_cmp(const void *a, const void *b)
{
	const struct ident_at *x = a, *y = b;

	if (x->ident != y->ident)
		return (x->ident > y->ident) - (x->ident < y->ident);
	return (x->i > y->i) - (x->i < y->i);
}

/* The first of the sorted entries with this ident (n when none). */
static size_t ident_first(const struct ident_at *s, size_t n, uint64_t ident)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s[mid].ident < ident)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && s[lo].ident == ident ? lo : n;
}

static int match_ident(struct objctx *c, uint64_t key, uint64_t value, void *arg)
{
	struct find_idents *f = arg;
	uint64_t ident, name = 0;
	size_t k, i;
	int got = 0;

	if (f->seen++ < f->skip)
		return 0;
	/* (one entry at least a slice, so that every read ends) */
	if (f->until && f->seen > f->skip + 1 && gs_now_ns() >= f->until) {
		f->seen--;	/* this one is the next slice's */
		f->stopped = 1;
		return 1;
	}
	if (obj_long_u64(c, key, &ident) || !ident)
		return 0;
	for (k = ident_first(f->sorted, f->n, ident); k < f->n && f->sorted[k].ident == ident;
	     k++) {
		i = f->sorted[k].i;
		if (f->names[i][0])
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

/* The names of one interpreter's threads, from entry *entry of its
 * _active on (0: a new read, names cleared), until `until` (0: no limit);
 * *entry is where the next slice goes on, *more whether there is one. */
static int names_from(struct py_model *m, uint64_t interp, const uint64_t *idents, size_t n,
		      char (*names)[PY_THREAD_NAME_MAX], size_t *entry, uint64_t until, int *more)
{
	struct find_idents f = { NULL, 0, 0, 0, names, *entry, 0, until, 0 };
	struct ident_at *sorted = NULL;
	struct objctx c;
	struct dict_tab t;
	uint64_t modules, mod, md, active;
	size_t i;
	int ret;

	*more = 0;
	for (i = 0; i < n; i++)
		if (idents[i]) {
			if (!*entry)
				names[i][0] = '\0';
			else if (names[i][0])
				f.found++;	/* by an earlier slice */
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
	sorted = malloc(f.want * sizeof(*sorted));
	if (!sorted)
		return GS_ENOMEM;
	for (i = 0; i < n; i++)
		if (idents[i]) {
			sorted[f.n].ident = idents[i];
			sorted[f.n++].i = i;
		}
	qsort(sorted, f.n, sizeof(*sorted), ident_cmp);
	f.sorted = sorted;
	ret = dict_tab_of(&c, active, &t);
	if (!ret && f.found < f.want)
		ret = dict_tab_scan(&c, &t, match_ident, &f);
	free(sorted);
	*entry = f.seen;
	*more = f.stopped;
	return ret == 1 ? 0 : ret;
}

int py_model_thread_names(struct py_model *m, uint64_t interp, const uint64_t *idents,
			  size_t n, char (*names)[PY_THREAD_NAME_MAX])
{
	size_t entry = 0;
	int more;

	return names_from(m, interp, idents, n, names, &entry, 0, &more);
}

int py_model_thread_names_step(struct py_model *m, const struct py_thread *th, size_t n,
			       char (*names)[PY_THREAD_NAME_MAX], struct py_names_cursor *cur,
			       uint64_t until)
{
	uint64_t interps[PY_MAX_INTERPRETERS];
	uint64_t *idents;
	size_t ninterp = 0, i, j, k;
	int ret = 0, r, more = 0;

	if (cur->done)
		return 0;
	if (!n) {
		cur->done = 1;
		return 0;
	}
	/* the interpreters, in the order their first thread comes */
	for (i = 0; i < n; i++) {
		for (k = 0; k < ninterp; k++)
			if (interps[k] == th[i].interp)
				break;
		if (k == ninterp && ninterp < PY_MAX_INTERPRETERS)
			interps[ninterp++] = th[i].interp;
	}
	if (!cur->interp && !cur->entry)
		for (i = 0; i < n; i++)
			names[i][0] = '\0';
	idents = calloc(n, sizeof(*idents));
	if (!idents)
		return GS_ENOMEM;
	for (k = cur->interp; k < ninterp; k++, cur->interp++, cur->entry = 0) {
		for (j = 0; j < n; j++)
			idents[j] = th[j].interp == interps[k] ? th[j].pthread_id : 0;
		r = names_from(m, interps[k], idents, n, names, &cur->entry, until, &more);
		if (r && !ret)
			ret = r;
		if (more)
			break;
	}
	free(idents);
	cur->done = !more;
	return ret;
}

int py_model_thread_names_all(struct py_model *m, const struct py_thread *th, size_t n,
			      char (*names)[PY_THREAD_NAME_MAX])
{
	struct py_names_cursor cur = { 0, 0, 0 };

	return py_model_thread_names_step(m, th, n, names, &cur, 0);
}
