/*
 * objects.c - reading objects of the target: their types' flags, str
 * objects compared with a key, instance attributes (wherever the version
 * keeps them: a __dict__, split values, values inline in the object), and
 * int values. Dict tables are dicts.c's.
 *
 * Those layouts changed in nearly every version from 3.9 to 3.15; they are
 * the table below, measured with tools/names-probe.c against each
 * version's own headers, and checked against the model's offsets before
 * use. Every pointer is checked before it is followed, and every object's
 * type is checked through its tp_flags before it is trusted as a str, int
 * or dict; a torn object costs the lookup, never more.
 */
#include "objects_internal.h"

#include <string.h>

#include "../util/error.h"

/* The same in every version: Py_TPFLAGS_HEAPTYPE, LONG/UNICODE/DICT_SUBCLASS. */
#define TPFLAGS .f_heaptype = 1u << 9, .f_long = 1u << 24, .f_unicode = 1u << 28, \
	.f_dict = 1u << 29
/* 3.11+ keys: dk_log2_size 8, dk_log2_index_bytes 9, dk_kind 10 (0 general),
 * dk_nentries 24, dk_indices 32 (the free-threaded dk_mutex fits in the
 * padding); entries {hash,key,value} 24 bytes, {key,value} 16 bytes. */
#define KEYS_311 .keys = KEYS_LOG2, .dk_size = 8, .dk_log2_index_bytes = 9, .dk_kind = 10, \
	.dk_nentries = 24, .dk_indices = 32, \
	.entry_size = { 24, 16 }, .entry_key = { 8, 0 }, .entry_value = { 16, 8 }
/* 3.13+ PyDictValues: capacity, size, embedded, valid (bytes), then values[] */
#define VALUES_313 .values_values = 8, .values_capacity = 0, .values_valid = 3
/* Default builds: 16-byte object header. */
#define OBJ_DEFAULT .ob_type = 8, .tp_basicsize = 32, .tp_flags = 168, .tp_dictoffset = 288, \
	.md_dict = 16
/* Free-threaded builds: 32-byte object header, every field 16 further. */
#define OBJ_FT .ob_type = 24, .tp_basicsize = 48, .tp_flags = 184, .tp_dictoffset = 304, \
	.md_dict = 32


static const struct obj_layout layouts[] = {
	{
		.minor = 9, OBJ_DEFAULT, .ht_cached_keys = 864, TPFLAGS,
		.keys = KEYS_SIZE, .dk_size = 8, .dk_nentries = 32, .dk_indices = 40,
		.entry_size = { 24, 24 }, .entry_key = { 8, 8 }, .entry_value = { 16, 16 },
		.values_values = 0, .values_capacity = -1, .values_valid = -1,
		.idict = IDICT_DICTOFFSET,
		.long_kind = LONG_OB_SIZE, .long_size = 16, .long_digit = 24,
	},
	{
		.minor = 10, OBJ_DEFAULT, .ht_cached_keys = 872, TPFLAGS,
		.keys = KEYS_SIZE, .dk_size = 8, .dk_nentries = 32, .dk_indices = 40,
		.entry_size = { 24, 24 }, .entry_key = { 8, 8 }, .entry_value = { 16, 16 },
		.values_values = 0, .values_capacity = -1, .values_valid = -1,
		.idict = IDICT_DICTOFFSET,
		.long_kind = LONG_OB_SIZE, .long_size = 16, .long_digit = 24,
	},
	{
		.minor = 11, OBJ_DEFAULT, .ht_cached_keys = 872, TPFLAGS,
		.f_managed_dict = 1u << 4, KEYS_311,
		.values_values = 0, .values_capacity = -1, .values_valid = -1,
		.idict = IDICT_VALUES_PTR, .managed_dict = -24, .managed_values = -32,
		.long_kind = LONG_OB_SIZE, .long_size = 16, .long_digit = 24,
	},
	{
		.minor = 12, OBJ_DEFAULT, .ht_cached_keys = 880, TPFLAGS,
		.f_managed_dict = 1u << 4, KEYS_311,
		.values_values = 0, .values_capacity = -1, .values_valid = -1,
		.idict = IDICT_DICT_OR_VALUES, .managed_dict = -24,
		.long_kind = LONG_LV_TAG, .long_size = 16, .long_digit = 24,
	},
	{
		.minor = 13, OBJ_DEFAULT, .ht_cached_keys = 880, TPFLAGS,
		.f_managed_dict = 1u << 4, .f_inline_values = 1u << 2, KEYS_311, VALUES_313,
		.idict = IDICT_INLINE, .managed_dict = -24,
		.long_kind = LONG_LV_TAG, .long_size = 16, .long_digit = 24,
	},
	{
		.minor = 13, .ft = 1, OBJ_FT, .ht_cached_keys = 896, TPFLAGS,
		.f_managed_dict = 1u << 4, .f_inline_values = 1u << 2, KEYS_311, VALUES_313,
		.idict = IDICT_INLINE, .managed_dict = -8,	/* no GC header before it */
		.long_kind = LONG_LV_TAG, .long_size = 32, .long_digit = 40,
	},
	{
		.minor = 14, OBJ_DEFAULT, .ht_cached_keys = 880, TPFLAGS,
		.f_managed_dict = 1u << 4, .f_inline_values = 1u << 2, KEYS_311, VALUES_313,
		.idict = IDICT_INLINE, .managed_dict = -24,
		.long_kind = LONG_LV_TAG, .long_size = 16, .long_digit = 24,
	},
	{
		.minor = 14, .ft = 1, OBJ_FT, .ht_cached_keys = 896, TPFLAGS,
		.f_managed_dict = 1u << 4, .f_inline_values = 1u << 2, KEYS_311, VALUES_313,
		.idict = IDICT_INLINE, .managed_dict = -8,
		.long_kind = LONG_LV_TAG, .long_size = 32, .long_digit = 40,
	},
	{
		.minor = 15, OBJ_DEFAULT, .ht_cached_keys = 888, TPFLAGS,
		.f_managed_dict = 1u << 4, .f_inline_values = 1u << 2, KEYS_311, VALUES_313,
		.idict = IDICT_INLINE, .managed_dict = -24,
		.long_kind = LONG_LV_TAG, .long_size = 16, .long_digit = 24,
	},
	{
		.minor = 15, .ft = 1, OBJ_FT, .ht_cached_keys = 904, TPFLAGS,
		.f_managed_dict = 1u << 4, .f_inline_values = 1u << 2, KEYS_311, VALUES_313,
		.idict = IDICT_INLINE, .managed_dict = -8,
		.long_kind = LONG_LV_TAG, .long_size = 32, .long_digit = 40,
	},
};

int objctx_init(struct objctx *c, struct py_model *m)
{
	unsigned minor = (m->off.version_hex >> 16) & 0xff;
	const struct py_offsets *o = &m->off;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->m = m;
	if ((m->off.version_hex >> 24) != 3)
		return GS_EUNSUPPORTED;
	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].minor == minor && layouts[i].ft == !!m->free_threaded)
			c->L = &layouts[i];
	if (!c->L)
		return GS_EUNSUPPORTED;
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
