/*
 * objects.c - reading objects of the target: their types' flags, str
 * objects compared with a key, instance attributes (wherever the version
 * keeps them: a __dict__, split values, values inline in the object), and
 * int values. Dict tables are dicts.c's.
 *
 * Those layouts changed in nearly every version from 3.9 to 3.15; they are
 * the build's row of layouts.c, checked against the model's offsets before
 * use. Every pointer is checked before it is followed, and every object's
 * type is checked through its tp_flags before it is trusted as a str, int
 * or dict; a torn object costs the lookup, never more.
 */
#include "objects_internal.h"

#include <string.h>

#include "../util/error.h"

int objctx_init(struct objctx *c, struct py_model *m)
{
	const struct py_layout *l = model_layout(m);
	const struct py_offsets *o = &m->off;

	memset(c, 0, sizeof(*c));
	c->m = m;
	if (!l)
		return GS_EUNSUPPORTED;
	c->L = &l->obj;
	/* py_offsets and our table describe the same build, or we stop */
	if (o->ob_type != c->L->ob_type || o->dict_ma_keys > 256 || o->dict_ma_values > 256 ||
	    (o->dict_ma_keys | o->dict_ma_values) & 7 || o->is_modules == OFF_NONE ||
	    o->uni_ascii_size > 256 || o->uni_state + 4 > o->uni_ascii_size ||
	    o->uni_length + 8 > o->uni_ascii_size)
		return GS_EUNSUPPORTED;
	return 0;
}

int obj_read_ptr(struct objctx *c, uint64_t addr, uint64_t *out)
{
	int ret = reader_read_u64(c->m->r, addr, out);

	if (ret)
		return ret;
	return *out && !valid_ptr(*out) ? GS_ECORRUPT : 0;
}

/* tp_flags of the object's type; *type is the type's address. */
int obj_type_flags(struct objctx *c, uint64_t obj, uint64_t *type, uint64_t *flags)
{
	unsigned i;
	int ret;

	if (!valid_ptr(obj))
		return GS_CORRUPT("!valid_ptr(obj)");
	ret = obj_read_ptr(c, obj + c->L->ob_type, type);
	if (ret)
		return ret;
	if (!*type)
		return GS_CORRUPT("!*type");
	for (i = 0; i < c->ntypes && i < TYPE_CACHE; i++)
		if (c->types[i].type == *type) {
			*flags = c->types[i].flags;
			return 0;
		}
	ret = reader_read_u64(c->m->r, *type + c->L->tp_flags, flags);
	if (ret)
		return ret;
	i = c->ntypes++ % TYPE_CACHE;
	c->types[i].type = *type;
	c->types[i].flags = *flags;
	return 0;
}

/* 1 if the object's type has `flag` (a *_SUBCLASS bit), 0 if not, or a gs_err. */
int obj_is_a(struct objctx *c, uint64_t obj, uint64_t flag)
{
	uint64_t type, flags;
	int ret = obj_type_flags(c, obj, &type, &flags);

	return ret ? ret : !!(flags & flag);
}

/* 1 if the object at addr is a str equal to `want` (ASCII), 0 if not. Reads
 * the header, then the characters only when the length matches. */
int obj_str_is(struct objctx *c, uint64_t addr, const char *want, size_t wlen)
{
	const struct py_offsets *o = &c->m->off;
	uint8_t hdr[256], data[KEY_MAX];
	uint32_t state;
	int64_t len;

	if (!valid_ptr(addr) || wlen >= KEY_MAX ||
	    reader_read(c->m->r, addr, hdr, o->uni_ascii_size))
		return 0;
	memcpy(&len, hdr + o->uni_length, sizeof(len));
	memcpy(&state, hdr + o->uni_state, sizeof(state));
	/* keys we look for are compact ASCII, as every identifier is */
	if (len != (int64_t)wlen || !((state >> o->uni_compact_bit) & 1) ||
	    !((state >> o->uni_ascii_bit) & 1))
		return 0;
	if (wlen && (reader_read(c->m->r, addr + o->uni_ascii_size, data, wlen) ||
		     memcmp(data, want, wlen)))
		return 0;
	return obj_is_a(c, addr, c->L->f_unicode) == 1;
}
int obj_long_u64(struct objctx *c, uint64_t addr, uint64_t *out)
{
	const struct obj_layout *L = c->L;
	uint8_t hdr[64];
	uint32_t digit[3];
	uint64_t tag, ndigits, v;
	int64_t size;
	int ret, i;

	*out = 0;
	ret = obj_is_a(c, addr, L->f_long);
	if (ret <= 0)
		return ret ? ret : GS_ECORRUPT;
	if (L->long_digit > sizeof(hdr))
		return GS_CORRUPT("L->long_digit > sizeof(hdr)");
	ret = reader_read(c->m->r, addr, hdr, L->long_digit);
	if (ret)
		return ret;
	if (L->long_kind == LONG_OB_SIZE) {
		memcpy(&size, hdr + L->long_size, sizeof(size));
		if (size < 0)
			return GS_ERANGE;
		ndigits = (uint64_t)size;
	} else {
		tag = rd64(hdr, L->long_size);
		if ((tag & 3) == 1)
			return 0;	/* zero */
		if ((tag & 3) != 0)
			return (tag & 3) == 2 ? GS_ERANGE : GS_ECORRUPT;
		ndigits = tag >> 3;
	}
	if (ndigits > 3)
		return GS_ERANGE;
	if (!ndigits)
		return 0;
	ret = reader_read(c->m->r, addr + L->long_digit, digit, (size_t)ndigits * 4);
	if (ret)
		return ret;
	v = 0;
	for (i = (int)ndigits - 1; i >= 0; i--) {
		if (digit[i] >> 30)
			return GS_CORRUPT("digit[i] >> 30");
		if (i == 2 && digit[i] >> 4)
			return GS_ERANGE;	/* over 64 bits */
		v |= (uint64_t)digit[i] << (30 * i);
	}
	*out = v;
	return 0;
}

int py_model_long_u64(struct py_model *m, uint64_t addr, uint64_t *out)
{
	struct objctx c;
	int ret;

	*out = 0;
	ret = objctx_init(&c, m);
	return ret ? ret : obj_long_u64(&c, addr, out);
}
