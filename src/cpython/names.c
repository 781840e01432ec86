/*
 * names.c - threading.Thread names, read from the target's memory.
 *
 *   interp->modules (sys.modules, a dict) -> "threading" (a module)
 *   -> md_dict -> "_active" (a dict: int ident -> Thread)
 *   -> the Thread's "_name" (a str, in its instance dict)
 *
 * That takes three things the rest of the model never needs: dict tables,
 * instance dicts and int objects, whose layouts changed in nearly every
 * version from 3.9 to 3.15. Those layouts are the table below, measured with
 * tools/names-probe.c against each version's own headers.
 *
 * Keys are compared by decoding them as str, not by hash (the target's hash
 * seed is not ours). Every pointer is checked before it is followed, every
 * object's type is checked through its tp_flags before it is trusted as a
 * str, int or dict, and every dict walk is bounded; a torn table costs the
 * names, never more.
 */
#include "names.h"

#include <stdlib.h>
#include <string.h>

#include "code.h"
#include "../util/error.h"

/* How a dict's keys object is laid out. */
enum keys_kind {
	KEYS_SIZE,	/* 3.9-3.10: Py_ssize_t dk_size; {hash,key,value} entries only */
	KEYS_LOG2,	/* 3.11+: uint8 dk_log2_size, dk_log2_index_bytes, dk_kind;
			 * {hash,key,value} or, for str-only tables, {key,value} */
};

/* Where an instance of a type with Py_TPFLAGS_MANAGED_DICT keeps its
 * attributes (others use tp_dictoffset in every version). */
enum idict_kind {
	IDICT_DICTOFFSET,	/* 3.9-3.10: no managed dicts */
	IDICT_VALUES_PTR,	/* 3.11: values* at managed_values, dict* at managed_dict */
	IDICT_DICT_OR_VALUES,	/* 3.12: one word at managed_dict: a dict*, or
				 * values* - 1 (odd) */
	IDICT_INLINE,		/* 3.13+: dict* at managed_dict; without one, values
				 * inline at obj + tp_basicsize (Py_TPFLAGS_INLINE_VALUES) */
};

enum long_kind {
	LONG_OB_SIZE,	/* 3.9-3.11: ob_size = sign * number of digits */
	LONG_LV_TAG,	/* 3.12+: lv_tag = ndigits << 3 | sign (0 +, 1 zero, 2 -) */
};

struct names_layout {
	uint8_t minor, ft;
	uint16_t ob_type;	/* must agree with py_offsets.ob_type */
	/* PyTypeObject, PyHeapTypeObject */
	uint16_t tp_basicsize, tp_flags, tp_dictoffset, ht_cached_keys;
	uint64_t f_heaptype, f_managed_dict, f_inline_values;
	uint64_t f_long, f_unicode, f_dict;	/* Py_TPFLAGS_*_SUBCLASS */
	/* PyModuleObject */
	uint16_t md_dict;
	/* PyDictKeysObject */
	enum keys_kind keys;
	uint8_t dk_size;	/* dk_size (KEYS_SIZE) or dk_log2_size (KEYS_LOG2) */
	uint8_t dk_log2_index_bytes, dk_kind;	/* KEYS_LOG2 only */
	uint8_t dk_nentries, dk_indices;
	/* entries: [0] of DICT_KEYS_GENERAL tables, [1] of the others */
	uint8_t entry_size[2], entry_key[2], entry_value[2];
	/* PyDictValues: where values[] starts; capacity and valid bytes, -1 none */
	uint8_t values_values;
	int8_t values_capacity, values_valid;
	/* instance dicts, offsets relative to the object */
	enum idict_kind idict;
	int8_t managed_dict, managed_values;
	/* PyLongObject (30-bit digits in every supported build) */
	enum long_kind long_kind;
	uint8_t long_size, long_digit;	/* ob_size or lv_tag; ob_digit */
};

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

static const struct names_layout layouts[] = {
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

#define KEY_MAX 64		/* longest key we look up, NUL included */
#define SCAN_CHUNK 128		/* dict entries per read */
#define TYPE_CACHE 8
#define MAX_BASICSIZE (1u << 16)

/* One lookup's state: the layout, and the tp_flags of types seen so far
 * (str, int, dict, Thread...: a handful, read once each). */
struct nctx {
	struct py_model *m;
	const struct names_layout *L;
	struct {
		uint64_t type, flags;
	} types[TYPE_CACHE];
	unsigned ntypes;
};

/* A keys table and, for a split table, the values that go with it. */
struct dict_tab {
	uint64_t keys;		/* PyDictKeysObject */
	uint64_t values;	/* &values[0] of a split table, 0 if combined */
	uint64_t nvalues;	/* how many values[] there are; UINT64_MAX unknown */
};

static int valid_ptr(uint64_t p)
{
	return p >= 4096 && !(p & 7) && p < (1ull << 56);
}

static uint64_t get_u64(const uint8_t *b, size_t off)
{
	uint64_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

static int ctx_init(struct nctx *c, struct py_model *m)
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

static int read_ptr(struct nctx *c, uint64_t addr, uint64_t *out)
{
	int ret = reader_read_u64(c->m->r, addr, out);

	if (ret)
		return ret;
	return *out && !valid_ptr(*out) ? GS_ECORRUPT : 0;
}

/* tp_flags of the object's type; *type is the type's address. */
static int type_flags(struct nctx *c, uint64_t obj, uint64_t *type, uint64_t *flags)
{
	unsigned i;
	int ret;

	if (!valid_ptr(obj))
		return GS_ECORRUPT;
	ret = read_ptr(c, obj + c->L->ob_type, type);
	if (ret)
		return ret;
	if (!*type)
		return GS_ECORRUPT;
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
static int is_a(struct nctx *c, uint64_t obj, uint64_t flag)
{
	uint64_t type, flags;
	int ret = type_flags(c, obj, &type, &flags);

	return ret ? ret : !!(flags & flag);
}

/* 1 if the object at addr is a str equal to `want` (ASCII), 0 if not. Reads
 * the header, then the characters only when the length matches. */
static int str_is(struct nctx *c, uint64_t addr, const char *want, size_t wlen)
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
	return is_a(c, addr, c->L->f_unicode) == 1;
}

/* Called for each live entry of a table: 1 stops the scan, 0 goes on. */
typedef int (*entry_fn)(struct nctx *c, uint64_t key, uint64_t value, void *arg);

/*
 * Walk the entries of a keys table in order. Returns 1 if fn stopped the
 * walk, 0 if every entry was seen, GS_ERANGE if the table has more than
 * PY_NAMES_DICT_MAX entries (the first ones were seen), or another gs_err.
 */
static int tab_scan(struct nctx *c, const struct dict_tab *t, entry_fn fn, void *arg)
{
	const struct names_layout *L = c->L;
	uint8_t hdr[64], ents[SCAN_CHUNK * 24];
	uint64_t vals[SCAN_CHUNK];
	uint64_t size, ixbytes, entries, n, i;
	int64_t nentries;
	size_t esz, koff, voff, k, j;
	int ret, kind, cut = 0;

	if (!valid_ptr(t->keys) || L->dk_indices > sizeof(hdr))
		return GS_ECORRUPT;
	ret = reader_read(c->m->r, t->keys, hdr, L->dk_indices);
	if (ret)
		return ret;
	if (L->keys == KEYS_SIZE) {
		size = get_u64(hdr, L->dk_size);
		if (size < 8 || size > (1ull << 31) || (size & (size - 1)))
			return GS_ECORRUPT;
		ixbytes = size * (size <= 0xff ? 1 : size <= 0xffff ? 2 : 4);
		kind = 0;
	} else {
		unsigned lg = hdr[L->dk_size], lib = hdr[L->dk_log2_index_bytes];
		unsigned dk_kind = hdr[L->dk_kind];

		/* index width: 1 byte below 2^8 slots, 2 below 2^16, 4 below 2^32 */
		if (lg < 3 || lg > 31 || dk_kind > 2 ||
		    lib != lg + (lg < 8 ? 0 : lg < 16 ? 1 : 2))
			return GS_ECORRUPT;
		size = 1ull << lg;
		ixbytes = 1ull << lib;
		kind = dk_kind != 0;	/* DICT_KEYS_GENERAL is 0 */
	}
	memcpy(&nentries, hdr + L->dk_nentries, sizeof(nentries));
	if (nentries < 0 || (uint64_t)nentries > size)
		return GS_ECORRUPT;
	esz = L->entry_size[kind];
	koff = L->entry_key[kind];
	voff = L->entry_value[kind];
	if (esz > 24 || koff + 8 > esz || voff + 8 > esz)
		return GS_ECORRUPT;
	entries = t->keys + L->dk_indices + ixbytes;
	n = (uint64_t)nentries;
	/* a split table's keys may have grown past this instance's values */
	if (t->values && n > t->nvalues)
		n = t->nvalues;
	if (n > PY_NAMES_DICT_MAX) {
		n = PY_NAMES_DICT_MAX;
		cut = 1;
	}
	for (i = 0; i < n; i += k) {
		k = n - i < SCAN_CHUNK ? (size_t)(n - i) : SCAN_CHUNK;
		ret = reader_read(c->m->r, entries + i * esz, ents, k * esz);
		if (!ret && t->values)
			ret = reader_read(c->m->r, t->values + i * 8, vals, k * 8);
		if (ret)
			return ret;
		for (j = 0; j < k; j++) {
			uint64_t key = get_u64(ents, j * esz + koff);
			uint64_t value = t->values ? vals[j] : get_u64(ents, j * esz + voff);

			/* deleted entries have no key; split entries this
			 * instance does not set have no value */
			if (!key || !value)
				continue;
			if (fn(c, key, value, arg))
				return 1;
		}
	}
	return cut ? GS_ERANGE : 0;
}

/* A values array at `addr` (PyDictValues *): where values[] is, how many. */
static int values_tab(struct nctx *c, uint64_t addr, int need_valid, struct dict_tab *t)
{
	const struct names_layout *L = c->L;
	uint8_t hdr[8];
	int ret;

	if (!valid_ptr(addr))
		return GS_ECORRUPT;
	t->values = addr + L->values_values;
	t->nvalues = UINT64_MAX;
	if (L->values_capacity < 0)
		return 0;
	ret = reader_read(c->m->r, addr, hdr, sizeof(hdr));
	if (ret)
		return ret;
	t->nvalues = hdr[L->values_capacity];
	if (need_valid && L->values_valid >= 0 && !hdr[L->values_valid])
		t->nvalues = 0;	/* the values moved to a dict meanwhile */
	return 0;
}

static int dict_tab_of(struct nctx *c, uint64_t dict, struct dict_tab *t)
{
	const struct py_offsets *o = &c->m->off;
	uint64_t values;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = is_a(c, dict, c->L->f_dict);
	if (ret <= 0)
		return ret ? ret : GS_ECORRUPT;
	ret = read_ptr(c, dict + o->dict_ma_keys, &t->keys);
	if (!ret)
		ret = read_ptr(c, dict + o->dict_ma_values, &values);
	if (ret)
		return ret;
	if (!t->keys)
		return GS_ECORRUPT;
	return values ? values_tab(c, values, 0, t) : 0;
}

struct find_str {
	const char *want;
	size_t wlen;
	uint64_t value;
};

static int match_str(struct nctx *c, uint64_t key, uint64_t value, void *arg)
{
	struct find_str *f = arg;

	if (!str_is(c, key, f->want, f->wlen))
		return 0;
	f->value = value;
	return 1;
}

static int tab_get(struct nctx *c, const struct dict_tab *t, const char *key, uint64_t *value)
{
	struct find_str f = { key, strlen(key), 0 };
	int ret;

	*value = 0;
	if (f.wlen >= KEY_MAX)
		return GS_ERANGE;
	ret = tab_scan(c, t, match_str, &f);
	if (ret == 1) {
		if (!valid_ptr(f.value))
			return GS_ECORRUPT;
		*value = f.value;
		return 0;
	}
	return ret;
}

static int dict_get(struct nctx *c, uint64_t dict, const char *key, uint64_t *value)
{
	struct dict_tab t;
	int ret;

	*value = 0;
	ret = dict_tab_of(c, dict, &t);
	return ret ? ret : tab_get(c, &t, key, value);
}

/* The keys shared by all instances of a heap type (ht_cached_keys). */
static int cached_keys(struct nctx *c, uint64_t type, uint64_t flags, uint64_t *keys)
{
	int ret;

	*keys = 0;
	if (!(flags & c->L->f_heaptype))
		return GS_ECORRUPT;
	ret = read_ptr(c, type + c->L->ht_cached_keys, keys);
	return ret ? ret : *keys ? 0 : GS_ECORRUPT;
}

/* Look `name` up in split values at `values` keyed by the type's keys. */
static int values_get(struct nctx *c, uint64_t type, uint64_t flags, uint64_t values,
		      int need_valid, const char *name, uint64_t *value)
{
	struct dict_tab t;
	int ret;

	*value = 0;
	memset(&t, 0, sizeof(t));
	ret = cached_keys(c, type, flags, &t.keys);
	if (!ret)
		ret = values_tab(c, values, need_valid, &t);
	if (ret)
		return ret;
	return t.nvalues ? tab_get(c, &t, name, value) : 0;
}

static int attr_get(struct nctx *c, uint64_t obj, const char *name, uint64_t *value)
{
	const struct names_layout *L = c->L;
	uint64_t type, flags, w, dict;
	int64_t off;
	int ret;

	*value = 0;
	ret = type_flags(c, obj, &type, &flags);
	if (ret)
		return ret;
	if (L->f_managed_dict && (flags & L->f_managed_dict)) {
		uint64_t at = obj + (uint64_t)(int64_t)L->managed_dict;

		if (L->idict == IDICT_VALUES_PTR) {
			ret = read_ptr(c, obj + (uint64_t)(int64_t)L->managed_values, &w);
			if (ret)
				return ret;
			if (w)
				return values_get(c, type, flags, w, 0, name, value);
		}
		ret = reader_read_u64(c->m->r, at, &dict);
		if (ret)
			return ret;
		if (L->idict == IDICT_DICT_OR_VALUES && (dict & 1))
			return values_get(c, type, flags, dict + 1, 0, name, value);
		if (dict)
			return valid_ptr(dict) ? dict_get(c, dict, name, value) : GS_ECORRUPT;
		if (L->idict == IDICT_INLINE && (flags & L->f_inline_values)) {
			uint64_t size;

			ret = reader_read_u64(c->m->r, type + L->tp_basicsize, &size);
			if (ret)
				return ret;
			if (size < (uint64_t)L->ob_type + 8 || size > MAX_BASICSIZE || (size & 7))
				return GS_ECORRUPT;
			return values_get(c, type, flags, obj + size, 1, name, value);
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
		return GS_ECORRUPT;
	ret = read_ptr(c, obj + (uint64_t)off, &dict);
	if (ret || !dict)
		return ret;
	return dict_get(c, dict, name, value);
}

static int long_u64(struct nctx *c, uint64_t addr, uint64_t *out)
{
	const struct names_layout *L = c->L;
	uint8_t hdr[64];
	uint32_t digit[3];
	uint64_t tag, ndigits, v;
	int64_t size;
	int ret, i;

	*out = 0;
	ret = is_a(c, addr, L->f_long);
	if (ret <= 0)
		return ret ? ret : GS_ECORRUPT;
	if (L->long_digit > sizeof(hdr))
		return GS_ECORRUPT;
	ret = reader_read(c->m->r, addr, hdr, L->long_digit);
	if (ret)
		return ret;
	if (L->long_kind == LONG_OB_SIZE) {
		memcpy(&size, hdr + L->long_size, sizeof(size));
		if (size < 0)
			return GS_ERANGE;
		ndigits = (uint64_t)size;
	} else {
		tag = get_u64(hdr, L->long_size);
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
			return GS_ECORRUPT;
		if (i == 2 && digit[i] >> 4)
			return GS_ERANGE;	/* over 64 bits */
		v |= (uint64_t)digit[i] << (30 * i);
	}
	*out = v;
	return 0;
}

struct find_idents {
	const uint64_t *idents;
	size_t n, want, found;
	char (*names)[PY_THREAD_NAME_MAX];
};

static int match_ident(struct nctx *c, uint64_t key, uint64_t value, void *arg)
{
	struct find_idents *f = arg;
	uint64_t ident, name = 0;
	size_t i;
	int got = 0;

	if (long_u64(c, key, &ident) || !ident)
		return 0;
	for (i = 0; i < f->n; i++) {
		if (f->idents[i] != ident || f->names[i][0])
			continue;
		if (!got) {
			/* an unreadable Thread costs its own name only */
			if (attr_get(c, value, "_name", &name) || !name ||
			    is_a(c, name, c->L->f_unicode) != 1)
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
	struct nctx c;
	struct dict_tab t;
	uint64_t modules, mod, md, active;
	size_t i;
	int ret;

	for (i = 0; i < n; i++)
		if (idents[i]) {
			names[i][0] = '\0';
			f.want++;
		}
	ret = ctx_init(&c, m);
	if (ret || !f.want)
		return ret;
	if (!valid_ptr(interp))
		return GS_ECORRUPT;
	ret = read_ptr(&c, interp + m->off.is_modules, &modules);
	if (ret || !modules)
		return ret;	/* no sys.modules (yet, or any more): no names */
	ret = dict_get(&c, modules, "threading", &mod);
	if (ret || !mod)
		return ret;
	ret = read_ptr(&c, mod + c.L->md_dict, &md);
	if (ret || !md)
		return ret;
	ret = dict_get(&c, md, "_active", &active);
	if (ret || !active)
		return ret;
	ret = dict_tab_of(&c, active, &t);
	if (!ret)
		ret = tab_scan(&c, &t, match_ident, &f);
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

int py_model_dict_get(struct py_model *m, uint64_t dict, const char *key, uint64_t *value)
{
	struct nctx c;
	int ret;

	*value = 0;
	ret = ctx_init(&c, m);
	return ret ? ret : dict_get(&c, dict, key, value);
}

int py_model_attr(struct py_model *m, uint64_t obj, const char *name, uint64_t *value)
{
	struct nctx c;
	int ret;

	*value = 0;
	ret = ctx_init(&c, m);
	return ret ? ret : attr_get(&c, obj, name, value);
}

int py_model_long_u64(struct py_model *m, uint64_t addr, uint64_t *out)
{
	struct nctx c;
	int ret;

	*out = 0;
	ret = ctx_init(&c, m);
	return ret ? ret : long_u64(&c, addr, out);
}

struct foreach_arg {
	int (*fn)(void *arg, uint64_t key, uint64_t value);
	void *arg;
};

static int foreach_entry(struct nctx *c, uint64_t key, uint64_t value, void *arg)
{
	struct foreach_arg *f = arg;

	(void)c;
	return f->fn(f->arg, key, value) != 0;
}

int py_model_dict_foreach(struct py_model *m, uint64_t dict,
			  int (*fn)(void *arg, uint64_t key, uint64_t value), void *arg)
{
	struct foreach_arg f = { fn, arg };
	struct dict_tab t;
	struct nctx c;
	int ret;

	ret = ctx_init(&c, m);
	if (!ret)
		ret = dict_tab_of(&c, dict, &t);
	if (!ret)
		ret = tab_scan(&c, &t, foreach_entry, &f);
	return ret == 1 ? 0 : ret;
}
