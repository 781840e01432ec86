/*
 * attrs.c - an object's attribute, by name: through its type's flags to
 * where its instance attributes live (a managed dict, inline values, a
 * dict at tp_dictoffset) and from there through the dict (dicts.c). Above
 * objects.c and dicts.c, which know nothing of each other's callers.
 */
#include "objects_internal.h"

#include "model_internal.h"
#include "objects.h"
#include "../util/error.h"

int obj_attr_get(struct objctx *c, uint64_t obj, const char *name, uint64_t *value)
{
	const struct obj_layout *L = c->L;
	uint64_t type, flags, w, dict;
	int64_t off;
	int ret;

	*value = 0;
	ret = obj_type_flags(c, obj, &type, &flags);
	if (ret)
		return ret;
	if (L->f_managed_dict && (flags & L->f_managed_dict)) {
		uint64_t at = obj + (uint64_t)(int64_t)L->managed_dict;

		if (L->idict == IDICT_VALUES_PTR) {
			ret = obj_read_ptr(c, obj + (uint64_t)(int64_t)L->managed_values, &w);
			if (ret)
				return ret;
			if (w)
				return dict_values_get(c, type, flags, w, 0, name, value);
		}
		ret = reader_read_u64(c->m->r, at, &dict);
		if (ret)
			return ret;
		if (L->idict == IDICT_DICT_OR_VALUES && (dict & 1))
			return dict_values_get(c, type, flags, dict + 1, 0, name, value);
		if (dict)
			return valid_ptr(dict) ? dict_get(c, dict, name, value) : GS_ECORRUPT;
		if (L->idict == IDICT_INLINE && (flags & L->f_inline_values)) {
			uint64_t size;

			ret = reader_read_u64(c->m->r, type + L->tp_basicsize, &size);
			if (ret)
				return ret;
			if (size < (uint64_t)L->ob_type + 8 || size > MAX_BASICSIZE || (size & 7))
				return GS_CORRUPT("size < (uint64_t)L->ob_type + 8 || size > MAX_BASICSIZE || (size & 7)");
			return dict_values_get(c, type, flags, obj + size, 1, name, value);
		}
		return 0;	/* no attributes set yet */
	}
	ret = reader_read_u64(c->m->r, type + L->tp_dictoffset, &w);
	if (ret)
		return ret;
	off = (int64_t)w;
	/* negative offsets (variable-size objects) are not worth following here */
	if (off <= 0)
		return 0;
	if (off > MAX_BASICSIZE || (off & 7))
		return GS_CORRUPT("off > MAX_BASICSIZE || (off & 7)");
	ret = obj_read_ptr(c, obj + (uint64_t)off, &dict);
	if (ret || !dict)
		return ret;
	return dict_get(c, dict, name, value);
}

int py_model_attr(struct py_model *m, uint64_t obj, const char *name, uint64_t *value)
{
	struct objctx c;
	int ret;

	*value = 0;
	ret = objctx_init(&c, m);
	return ret ? ret : obj_attr_get(&c, obj, name, value);
}
