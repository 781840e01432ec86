/*
 * dicts.c - dict tables of the target: walking a keys table's entries in
 * order (combined tables, and split tables with an instance's values),
 * looking a str key up in a dict, and the public dict calls of objects.h.
 *
 * Keys are compared by decoding them as str, not by hash (the target's
 * hash seed is not ours). Every walk is bounded by PY_NAMES_DICT_MAX
 * entries and reads SCAN_CHUNK entries at a time; a torn table costs the
 * lookup, never more.
 */
#include "objects_internal.h"

#include <string.h>

#include "../util/error.h"

#define SCAN_CHUNK 128		/* dict entries per read */

/*
 * Walk the entries of a keys table in order. Returns 1 if fn stopped the
 * walk, 0 if every entry was seen, GS_ERANGE if the table has more than
 * PY_NAMES_DICT_MAX entries (the first ones were seen), or another gs_err.
 */
int dict_tab_scan(struct objctx *c, const struct dict_tab *t, dict_entry_fn fn, void *arg)
{
	const struct obj_layout *L = c->L;
	uint8_t hdr[64], ents[SCAN_CHUNK * 24];
	uint64_t vals[SCAN_CHUNK];
	uint64_t size, ixbytes, entries, n, i;
	int64_t nentries;
	size_t esz, koff, voff, k, j;
	int ret, kind, cut = 0;

	if (!valid_ptr(t->keys) || L->dk_indices > sizeof(hdr))
		return GS_CORRUPT("!valid_ptr(t->keys) || L->dk_indices > sizeof(hdr)");
	ret = reader_read(c->m->r, t->keys, hdr, L->dk_indices);
	if (ret)
		return ret;
	if (L->keys == KEYS_SIZE) {
		size = rd64(hdr, L->dk_size);
		if (size < 8 || size > (1ull << 31) || (size & (size - 1)))
			return GS_CORRUPT("size < 8 || size > (1ull << 31) || (size & (size - 1))");
		ixbytes = size * (size <= 0xff ? 1 : size <= 0xffff ? 2 : 4);
		kind = 0;
	} else {
		unsigned lg = hdr[L->dk_size], lib = hdr[L->dk_log2_index_bytes];
		unsigned dk_kind = hdr[L->dk_kind];

		/* index width: 1 byte below 2^8 slots, 2 below 2^16, 4 below 2^32 */
		if (lg < 3 || lg > 31 || dk_kind > 2 ||
		    lib != lg + (lg < 8 ? 0 : lg < 16 ? 1 : 2))
			return GS_CORRUPT("lg < 3 || lg > 31 || dk_kind > 2 || lib != lg + (lg < 8 ? 0 : lg < 16...");
		size = 1ull << lg;
		ixbytes = 1ull << lib;
		kind = dk_kind != 0;	/* DICT_KEYS_GENERAL is 0 */
	}
	memcpy(&nentries, hdr + L->dk_nentries, sizeof(nentries));
	if (nentries < 0 || (uint64_t)nentries > size)
		return GS_CORRUPT("nentries < 0 || (uint64_t)nentries > size");
	esz = L->entry_size[kind];
	koff = L->entry_key[kind];
	voff = L->entry_value[kind];
	if (esz > 24 || koff + 8 > esz || voff + 8 > esz)
		return GS_CORRUPT("esz > 24 || koff + 8 > esz || voff + 8 > esz");
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
			uint64_t key = rd64(ents, j * esz + koff);
			uint64_t value = t->values ? vals[j] : rd64(ents, j * esz + voff);

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
static int values_tab(struct objctx *c, uint64_t addr, int need_valid, struct dict_tab *t)
{
	const struct obj_layout *L = c->L;
	uint8_t hdr[8];
	int ret;

	if (!valid_ptr(addr))
		return GS_CORRUPT("!valid_ptr(addr)");
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

int dict_tab_of(struct objctx *c, uint64_t dict, struct dict_tab *t)
{
	const struct py_offsets *o = &c->m->off;
	uint64_t values;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = obj_is_a(c, dict, c->L->f_dict);
	if (ret <= 0)
		return ret ? ret : GS_ECORRUPT;
	ret = obj_read_ptr(c, dict + o->dict_ma_keys, &t->keys);
	if (!ret)
		ret = obj_read_ptr(c, dict + o->dict_ma_values, &values);
	if (ret)
		return ret;
	if (!t->keys)
		return GS_CORRUPT("!t->keys");
	return values ? values_tab(c, values, 0, t) : 0;
}

struct find_str {
	const char *want;
	size_t wlen;
	uint64_t value;
};

static int match_str(struct objctx *c, uint64_t key, uint64_t value, void *arg)
{
	struct find_str *f = arg;

	if (!obj_str_is(c, key, f->want, f->wlen))
		return 0;
	f->value = value;
	return 1;
}

static int tab_get(struct objctx *c, const struct dict_tab *t, const char *key, uint64_t *value)
{
	struct find_str f = { key, strlen(key), 0 };
	int ret;

	*value = 0;
	if (f.wlen >= KEY_MAX)
		return GS_ERANGE;
	ret = dict_tab_scan(c, t, match_str, &f);
	if (ret == 1) {
		if (!valid_ptr(f.value))
			return GS_CORRUPT("!valid_ptr(f.value)");
		*value = f.value;
		return 0;
	}
	return ret;
}

int dict_get(struct objctx *c, uint64_t dict, const char *key, uint64_t *value)
{
	struct dict_tab t;
	int ret;

	*value = 0;
	ret = dict_tab_of(c, dict, &t);
	return ret ? ret : tab_get(c, &t, key, value);
}

/* The keys shared by all instances of a heap type (ht_cached_keys). */
static int cached_keys(struct objctx *c, uint64_t type, uint64_t flags, uint64_t *keys)
{
	int ret;

	*keys = 0;
	if (!(flags & c->L->f_heaptype))
		return GS_CORRUPT("!(flags & c->L->f_heaptype)");
	ret = obj_read_ptr(c, type + c->L->ht_cached_keys, keys);
	return ret ? ret : *keys ? 0 : GS_ECORRUPT;
}

/* Look `name` up in split values at `values` keyed by the type's keys. */
int dict_values_get(struct objctx *c, uint64_t type, uint64_t flags, uint64_t values,
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

int py_model_dict_get(struct py_model *m, uint64_t dict, const char *key, uint64_t *value)
{
	struct objctx c;
	int ret;

	*value = 0;
	ret = objctx_init(&c, m);
	return ret ? ret : dict_get(&c, dict, key, value);
}

struct foreach_arg {
	int (*fn)(void *arg, uint64_t key, uint64_t value);
	void *arg;
};

static int foreach_entry(struct objctx *c, uint64_t key, uint64_t value, void *arg)
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
	struct objctx c;
	int ret;

	ret = objctx_init(&c, m);
	if (!ret)
		ret = dict_tab_of(&c, dict, &t);
	if (!ret)
		ret = dict_tab_scan(&c, &t, foreach_entry, &f);
	return ret == 1 ? 0 : ret;
}
