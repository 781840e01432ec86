/* test_names.c - threading names (src/cpython/thread_names.c, objects.c,
 * dicts.c) over fake target memory: int decoding, dict tables of both key
 * layouts, every kind of instance dict, and the bounds that keep a hostile
 * table harmless.
 *
 * The fake objects are built from layout numbers stated here again (measured
 * with tools/names-probe.c), so a slip in objects.c's table shows up. */
#include "unit.h"
#include "../../src/cpython/names.h"
#include "../../src/cpython/offsets.h"
#include "../../src/target/reader.h"
#include "../../src/util/error.h"

#include <stdlib.h>
#include <string.h>

#define HEAP_BASE 0x10000000ull
#define HEAP_SIZE (4u << 20)

enum { ID_DICTOFFSET, ID_VALUES_PTR, ID_DICT_OR_VALUES, ID_INLINE };

/* One version's layout, as the fake objects are built. */
struct flayout {
	uint32_t version;
	int ft;
	unsigned hdr;			/* object header: 16, or 32 free-threaded */
	unsigned tp_basicsize, tp_flags, tp_dictoffset, ht_cached_keys, md_dict;
	int keys311;			/* dk_log2_size keys, {key,value} entries */
	int idict;
	int managed_dict;		/* relative to the object */
	unsigned values_values;		/* 8 with the 3.13 values header */
	int lv_tag;			/* 3.12+ ints */
};

static const struct flayout L39 = {
	0x03091200, 0, 16, 32, 168, 288, 864, 16, 0, ID_DICTOFFSET, 0, 0, 0,
};
static const struct flayout L311 = {
	0x030b0700, 0, 16, 32, 168, 288, 872, 16, 1, ID_VALUES_PTR, -24, 0, 0,
};
static const struct flayout L312 = {
	0x030c0100, 0, 16, 32, 168, 288, 880, 16, 1, ID_DICT_OR_VALUES, -24, 0, 1,
};
static const struct flayout L313 = {
	0x030d0000, 0, 16, 32, 168, 288, 880, 16, 1, ID_INLINE, -24, 8, 1,
};
static const struct flayout L314T = {
	0x030e0700, 1, 32, 48, 184, 304, 896, 32, 1, ID_INLINE, -8, 8, 1,
};

#define F_HEAPTYPE (1u << 9)
#define F_MANAGED_DICT (1u << 4)
#define F_INLINE_VALUES (1u << 2)
#define F_LONG (1u << 24)
#define F_UNICODE (1u << 28)
#define F_DICT (1u << 29)

struct fake {
	const struct flayout *L;
	struct py_offsets off;
	uint8_t *mem;
	uint64_t top;
	uint64_t str_type, int_type, dict_type, mod_type;
	int oom;
};

/* ---- the fake heap -------------------------------------------------- */

static uint64_t h_alloc(struct fake *f, size_t n)
{
	uint64_t a = (f->top + 15) & ~15ull;

	if (a + n > HEAP_BASE + HEAP_SIZE) {
		f->oom = 1;
		return HEAP_BASE;
	}
	f->top = a + n;
	return a;
}

static void h_put(struct fake *f, uint64_t addr, const void *p, size_t n)
{
	if (addr >= HEAP_BASE && addr + n <= HEAP_BASE + HEAP_SIZE)
		memcpy(f->mem + (addr - HEAP_BASE), p, n);
}

static void h_u64(struct fake *f, uint64_t addr, uint64_t v)
{
	h_put(f, addr, &v, 8);
}

static void h_u8(struct fake *f, uint64_t addr, uint8_t v)
{
	h_put(f, addr, &v, 1);
}

static uint64_t h_obj(struct fake *f, uint64_t type, size_t size)
{
	uint64_t a = h_alloc(f, size);

	h_u64(f, a + f->L->hdr - 8, type);
	return a;
}

static uint64_t mk_type(struct fake *f, uint64_t flags, uint64_t basicsize,
			int64_t dictoffset, uint64_t cached_keys)
{
	uint64_t t = h_alloc(f, 1024);

	h_u64(f, t + f->L->tp_flags, flags);
	h_u64(f, t + f->L->tp_basicsize, basicsize);
	h_u64(f, t + f->L->tp_dictoffset, (uint64_t)dictoffset);
	h_u64(f, t + f->L->ht_cached_keys, cached_keys);
	return t;
}

static void fake_init(struct fake *f, const struct flayout *L)
{
	memset(f, 0, sizeof(*f));
	f->L = L;
	f->mem = calloc(1, HEAP_SIZE);
	f->top = HEAP_BASE + 4096;
	if (L->version < 0x030d0000) {
		f->off = *py_offsets_table(L->version);
	} else {
		/* 3.13+ come from the target's debug offsets; the fields objects.c
		 * uses are those of 3.12 (default) or shifted by 16 (t builds) */
		f->off = *py_offsets_table(0x030c0000);
		if (L->ft) {
			f->off.ob_type = 24;
			f->off.dict_ma_keys = 48;
			f->off.dict_ma_values = 56;
			f->off.uni_length = 32;
			f->off.uni_state = 48;
			f->off.uni_ascii_size = 56;
			f->off.uni_compact_size = 72;
			f->off.uni_kind_shift = 8;
			f->off.uni_compact_bit = 11;
			f->off.uni_ascii_bit = 12;
		}
	}
	f->off.version_hex = L->version;
	f->off.free_threaded = L->ft;
	f->str_type = mk_type(f, F_UNICODE, 0, 0, 0);
	f->int_type = mk_type(f, F_LONG, 0, 0, 0);
	f->dict_type = mk_type(f, F_DICT, 0, 0, 0);
	f->mod_type = mk_type(f, 0, 0, 0, 0);
}

/* Snapshot the heap and set up a model reading it. */
static int fake_model(struct fake *f, struct py_model *m)
{
	size_t len = 8 + 4 + 4 + 16 + HEAP_SIZE;
	uint8_t *b = malloc(len);
	uint32_t u32 = 0, n = 1;
	uint64_t addr = HEAP_BASE, size = HEAP_SIZE;
	struct reader *r = NULL;
	int ret;

	memset(m, 0, sizeof(*m));
	if (!b)
		return GS_ENOMEM;
	memcpy(b, SNAPSHOT_MAGIC, 8);
	memcpy(b + 8, &u32, 4);
	memcpy(b + 12, &n, 4);
	memcpy(b + 16, &addr, 8);
	memcpy(b + 24, &size, 8);
	memcpy(b + 32, f->mem, HEAP_SIZE);
	ret = reader_snapshot_from_bytes(b, len, &r);
	free(b);
	m->r = r;
	m->off = f->off;
	m->free_threaded = f->L->ft;
	return ret;
}

static void fake_release(struct fake *f, struct py_model *m)
{
	if (m && m->r)
		reader_free(m->r);
	free(f->mem);
}

/* ---- objects -------------------------------------------------------- */

/* Decode UTF-8 (valid input only) into code points; returns the count. */
static size_t utf8_cps(const char *s, uint32_t *cp, size_t max)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = 0;

	while (*p && n < max) {
		if (*p < 0x80) {
			cp[n++] = *p++;
		} else if (*p < 0xe0) {
			cp[n++] = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
			p += 2;
		} else if (*p < 0xf0) {
			cp[n++] = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 |
				  (p[2] & 0x3f);
			p += 3;
		} else {
			cp[n++] = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
				  (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
			p += 4;
		}
	}
	return n;
}

static uint64_t mk_str(struct fake *f, const char *s)
{
	const struct py_offsets *o = &f->off;
	uint32_t cp[256], maxcp = 0, state;
	size_t n = utf8_cps(s, cp, 256), i, kind, data;
	uint64_t a;
	int ascii;

	for (i = 0; i < n; i++)
		if (cp[i] > maxcp)
			maxcp = cp[i];
	ascii = maxcp < 0x80;
	kind = maxcp < 0x100 ? 1 : maxcp < 0x10000 ? 2 : 4;
	data = ascii ? o->uni_ascii_size : o->uni_compact_size;
	a = h_obj(f, f->str_type, data + (n + 1) * kind);
	h_u64(f, a + o->uni_length, n);
	state = (uint32_t)kind << o->uni_kind_shift | 1u << o->uni_compact_bit |
		(uint32_t)ascii << o->uni_ascii_bit;
	h_put(f, a + o->uni_state, &state, 4);
	for (i = 0; i < n; i++)
		h_put(f, a + data + i * kind, &cp[i], kind);
	return a;
}

/* An int of magnitude v (30-bit digits), negative if neg. */
static uint64_t mk_int(struct fake *f, uint64_t v, int neg)
{
	uint32_t d[3];
	unsigned nd = 0, i;
	unsigned digits = f->L->lv_tag ? f->L->hdr + 8 : 24 + (f->L->hdr - 16);
	uint64_t a;

	while (v && nd < 3) {
		d[nd++] = (uint32_t)(v & ((1u << 30) - 1));
		v >>= 30;
	}
	a = h_obj(f, f->int_type, digits + 4 * (nd ? nd : 1));
	if (f->L->lv_tag)
		h_u64(f, a + f->L->hdr, (uint64_t)nd << 3 | (nd ? (neg ? 2 : 0) : 1));
	else
		h_u64(f, a + 16, (uint64_t)(neg ? -(int64_t)nd : (int64_t)nd));
	for (i = 0; i < nd; i++)
		h_put(f, a + digits + 4 * i, &d[i], 4);
	return a;
}

/* A keys object with n entries; unicode: {key,value} entries (3.11+), with
 * split (dk_kind 2) when vals is NULL. */
static uint64_t mk_keys(struct fake *f, int unicode, size_t n, const uint64_t *keys,
			const uint64_t *vals)
{
	uint64_t size = 8, a, ent;
	unsigned lg = 3;
	size_t esz, i, ix;

	while (n > size * 2 / 3) {
		size *= 2;
		lg++;
	}
	if (!f->L->keys311) {
		ix = size <= 0xff ? 1 : size <= 0xffff ? 2 : 4;
		a = h_alloc(f, 40 + size * ix + n * 24);
		h_u64(f, a, 1);
		h_u64(f, a + 8, size);
		h_u64(f, a + 24, size * 2 / 3 - n);
		h_u64(f, a + 32, n);
		ent = a + 40 + size * ix;
		esz = 24;
	} else {
		unsigned lib = lg + (lg < 8 ? 0 : lg < 16 ? 1 : 2);

		esz = unicode ? 16 : 24;
		a = h_alloc(f, 32 + (1ull << lib) + n * esz);
		h_u64(f, a, 1);
		h_u8(f, a + 8, (uint8_t)lg);
		h_u8(f, a + 9, (uint8_t)lib);
		h_u8(f, a + 10, !unicode ? 0 : vals ? 1 : 2);
		h_u64(f, a + 16, size * 2 / 3 - n);
		h_u64(f, a + 24, n);
		ent = a + 32 + (1ull << lib);
	}
	for (i = 0; i < n; i++) {
		uint64_t e = ent + i * esz;

		if (esz == 24) {
			h_u64(f, e, 0x1234 + i);	/* hash: never looked at */
			h_u64(f, e + 8, keys[i]);
			h_u64(f, e + 16, vals ? vals[i] : 0);
		} else {
			h_u64(f, e, keys[i]);
			h_u64(f, e + 8, vals ? vals[i] : 0);
		}
	}
	return a;
}

/* A PyDictValues for n values with the given capacity; its address. */
static uint64_t mk_values(struct fake *f, size_t n, const uint64_t *vals, unsigned cap)
{
	uint64_t a = h_alloc(f, f->L->values_values + 8 * (cap > n ? cap : n));
	size_t i;

	if (f->L->values_values) {
		h_u8(f, a, (uint8_t)cap);
		h_u8(f, a + 1, (uint8_t)n);
		h_u8(f, a + 3, 1);	/* valid */
	}
	for (i = 0; i < n; i++)
		h_u64(f, a + f->L->values_values + 8 * i, vals[i]);
	return a;
}

static uint64_t mk_dict(struct fake *f, uint64_t keys, uint64_t values)
{
	uint64_t d = h_obj(f, f->dict_type, 64);

	h_u64(f, d + f->off.dict_ma_keys, keys);
	h_u64(f, d + f->off.dict_ma_values, values);
	return d;
}

/* A combined dict of str keys. */
static uint64_t mk_strdict(struct fake *f, size_t n, const char *const *names,
			   const uint64_t *vals)
{
	uint64_t keys[64];
	size_t i;

	for (i = 0; i < n && i < 64; i++)
		keys[i] = names[i] ? mk_str(f, names[i]) : 0;
	return mk_dict(f, mk_keys(f, 1, n, keys, vals), 0);
}

/* How a Thread instance keeps its attributes. */
enum how { HOW_DICT, HOW_SPLIT };

/* A Thread-like instance with attributes _target, _name (= name) and
 * _ident, kept in a dict object (HOW_DICT) or in values split from the
 * type's cached keys (HOW_SPLIT: 3.11+'s usual case). */
static uint64_t mk_thread(struct fake *f, uint64_t type, uint64_t cached, const char *name,
			  enum how how)
{
	const struct flayout *L = f->L;
	static const char *const attrs[] = { "_target", "_name", "_ident" };
	uint64_t vals[3], obj, pre = L->ft ? 16 : 32;	/* room before the object */

	vals[0] = mk_str(f, "fn");
	vals[1] = mk_str(f, name);
	vals[2] = mk_int(f, 7, 0);
	if (L->idict == ID_DICTOFFSET) {
		/* 3.9-3.10: the dict at tp_dictoffset, maybe split */
		obj = h_obj(f, type, L->hdr + 16);
		h_u64(f, obj + L->hdr, how == HOW_DICT ? mk_strdict(f, 3, attrs, vals) :
			mk_dict(f, cached, mk_values(f, 3, vals, 3)));
		return obj;
	}
	obj = h_alloc(f, pre + L->hdr + L->values_values + 8 * 8) + pre;
	h_u64(f, obj + L->hdr - 8, type);
	if (how == HOW_DICT) {
		h_u64(f, obj + L->managed_dict, mk_strdict(f, 3, attrs, vals));
		if (L->idict == ID_INLINE)
			h_u8(f, obj + L->hdr + 3, 0);	/* inline values invalid */
		return obj;
	}
	switch (L->idict) {
	case ID_VALUES_PTR:
		h_u64(f, obj - 32, mk_values(f, 3, vals, 3));
		break;
	case ID_DICT_OR_VALUES:
		h_u64(f, obj + L->managed_dict, mk_values(f, 3, vals, 3) - 1);
		break;
	case ID_INLINE: {
		uint64_t v = obj + L->hdr;	/* tp_basicsize = the header */
		size_t i;

		h_u8(f, v, 6);
		h_u8(f, v + 1, 3);
		h_u8(f, v + 3, 1);
		for (i = 0; i < 3; i++)
			h_u64(f, v + 8 + 8 * i, vals[i]);
		break;
	}
	}
	return obj;
}

/* ---- a whole interpreter -------------------------------------------- */

#define ID_MAIN 0x7f0000001740ull
#define ID_UNI 0x7f00000a1740ull
#define ID_GONE 0x7f00000b1740ull
#define ID_BIG 0xffffffffffffffffull

struct world {
	uint64_t interp;
	uint64_t modules, active, thread_split, thread_dict;
	uint64_t split_keys, thread_type;
};

/* sys.modules = {"sys", "threadinG", "threading2", "threading"}; threading
 * has _limbo and _active; _active = {ID_MAIN: Thread "MainThread" (split),
 * <deleted>, ID_UNI: Thread "nœud-λ-線" (dict), ID_BIG: "big", -5: "neg"}. */
static void mk_world(struct fake *f, struct world *w)
{
	const struct flayout *L = f->L;
	static const char *const attrs[] = { "_target", "_name", "_ident" };
	static const char *const mods[] = { "sys", "threadinG", "threading2", "threading" };
	static const char *const globs[] = { "_limbo", "_active" };
	uint64_t keys[8], vals[8], mod, flags;
	size_t i;

	for (i = 0; i < 3; i++)
		keys[i] = mk_str(f, attrs[i]);
	/* 3.9-3.10 split tables have {hash,key,value} entries */
	w->split_keys = mk_keys(f, 1, 3, keys, NULL);
	flags = F_HEAPTYPE;
	if (L->idict != ID_DICTOFFSET)
		flags |= F_MANAGED_DICT | (L->idict == ID_INLINE ? F_INLINE_VALUES : 0);
	w->thread_type = mk_type(f, flags, L->hdr, L->idict == ID_DICTOFFSET ? (int64_t)L->hdr : -1,
				 w->split_keys);

	w->thread_split = mk_thread(f, w->thread_type, w->split_keys,
				    "MainThread", HOW_SPLIT);
	w->thread_dict = mk_thread(f, w->thread_type, w->split_keys,
				   "n\xc5\x93ud-\xce\xbb-\xe7\xb7\x9a", HOW_DICT);
	keys[0] = mk_int(f, ID_MAIN, 0);
	vals[0] = w->thread_split;
	keys[1] = 0;			/* deleted entry */
	vals[1] = 0;
	keys[2] = mk_int(f, ID_UNI, 0);
	vals[2] = w->thread_dict;
	keys[3] = mk_int(f, ID_BIG, 0);
	vals[3] = mk_thread(f, w->thread_type, w->split_keys, "big", HOW_SPLIT);
	keys[4] = mk_int(f, 5, 1);
	vals[4] = mk_thread(f, w->thread_type, w->split_keys, "neg", HOW_SPLIT);
	w->active = mk_dict(f, mk_keys(f, 0, 5, keys, vals), 0);

	vals[0] = mk_dict(f, mk_keys(f, 0, 0, keys, vals), 0);
	vals[1] = w->active;
	mod = h_obj(f, f->mod_type, 64);
	h_u64(f, mod + L->md_dict, mk_strdict(f, 2, globs, vals));
	for (i = 0; i < 4; i++)
		vals[i] = i == 3 ? mod : h_obj(f, f->mod_type, 64);
	w->modules = mk_strdict(f, 4, mods, vals);
	w->interp = h_alloc(f, f->off.is_modules + 8);
	h_u64(f, w->interp + f->off.is_modules, w->modules);
}

static void check_world(struct unit *u, const struct flayout *L)
{
	static const uint64_t idents[] = { ID_GONE, ID_MAIN, 0, ID_UNI, ID_BIG, 5 };
	char names[6][PY_THREAD_NAME_MAX];
	struct py_thread th[3];
	struct fake f;
	struct world w;
	struct py_model m;
	uint64_t v;

	fake_init(&f, L);
	mk_world(&f, &w);
	CHECK(u, !f.oom);
	if (!CHECK_EQ(u, fake_model(&f, &m), 0))
		goto out;

	memset(names, 'x', sizeof(names));
	names[2][0] = 'k';
	names[2][1] = '\0';
	CHECK_EQ(u, py_model_thread_names(&m, w.interp, idents, 6, names), 0);
	CHECK_STREQ(u, names[0], "");
	CHECK_STREQ(u, names[1], "MainThread");
	CHECK_STREQ(u, names[2], "k");		/* ident 0: untouched */
	CHECK_STREQ(u, names[3], "n\xc5\x93ud-\xce\xbb-\xe7\xb7\x9a");
	CHECK_STREQ(u, names[4], "big");	/* 2^64-1: three digits */
	CHECK_STREQ(u, names[5], "");		/* -5 is not 5 */

	/* the lower-level lookups */
	CHECK_EQ(u, py_model_dict_get(&m, w.modules, "threading2", &v), 0);
	CHECK(u, v != 0);
	CHECK_EQ(u, py_model_dict_get(&m, w.modules, "threadin", &v), 0);
	CHECK_EQ(u, v, 0);
	CHECK_EQ(u, py_model_attr(&m, w.thread_split, "_ident", &v), 0);
	CHECK_EQ(u, py_model_long_u64(&m, v, &v), 0);
	CHECK_EQ(u, v, 7);
	CHECK_EQ(u, py_model_attr(&m, w.thread_dict, "_nope", &v), 0);
	CHECK_EQ(u, v, 0);
	/* a dict that is not a dict */
	CHECK_EQ(u, py_model_dict_get(&m, w.thread_split, "_name", &v), GS_ECORRUPT);

	/* threads of two interpreters, one without sys.modules */
	memset(th, 0, sizeof(th));
	th[0].interp = w.interp;
	th[0].pthread_id = ID_UNI;
	th[1].interp = HEAP_BASE + HEAP_SIZE + 4096;	/* unreadable: no names */
	th[1].pthread_id = ID_MAIN;
	th[2].interp = w.interp;
	th[2].pthread_id = ID_MAIN;
	CHECK(u, py_model_thread_names_all(&m, th, 3, names) != 0);
	CHECK_STREQ(u, names[0], "n\xc5\x93ud-\xce\xbb-\xe7\xb7\x9a");
	CHECK_STREQ(u, names[1], "");
	CHECK_STREQ(u, names[2], "MainThread");

	/* a slice at a time, each slice's time up at once: one entry of
	 * _active a slice, and the same names in the end */
	{
		struct py_names_cursor cur = { 0, 0, 0 };
		int calls = 0;

		th[1].interp = w.interp;
		th[1].pthread_id = ID_BIG;
		memset(names, 'x', sizeof(names));
		while (!cur.done && calls < 100) {
			CHECK_EQ(u, py_model_thread_names_step(&m, th, 3, names, &cur, 1), 0);
			calls++;
		}
		CHECK(u, cur.done);
		CHECK(u, calls >= 3);	/* the three wanted are found in three entries at least */
		CHECK_STREQ(u, names[0], "n\xc5\x93ud-\xce\xbb-\xe7\xb7\x9a");
		CHECK_STREQ(u, names[1], "big");
		CHECK_STREQ(u, names[2], "MainThread");
		/* done: another call reads nothing and changes nothing */
		CHECK_EQ(u, py_model_thread_names_step(&m, th, 3, names, &cur, 1), 0);
		CHECK_STREQ(u, names[1], "big");
	}
out:
	fake_release(&f, &m);
}

static void t_world_39(struct unit *u) { check_world(u, &L39); }
static void t_world_311(struct unit *u) { check_world(u, &L311); }
static void t_world_312(struct unit *u) { check_world(u, &L312); }
static void t_world_313(struct unit *u) { check_world(u, &L313); }
static void t_world_314t(struct unit *u) { check_world(u, &L314T); }

/* ---- ints ----------------------------------------------------------- */

static void check_long(struct unit *u, const struct flayout *L)
{
	static const uint64_t vs[] = {
		0, 1, (1u << 30) - 1, 1u << 30, 0x7f1234567890ull, 1ull << 60,
		0xffffffffffffffffull,
	};
	uint64_t a[7], neg, bad, s, v;
	struct fake f;
	struct py_model m;
	size_t i;
	uint32_t d = 1u << 30 | 1;

	fake_init(&f, L);
	for (i = 0; i < 7; i++)
		a[i] = mk_int(&f, vs[i], 0);
	neg = mk_int(&f, 3, 1);
	bad = mk_int(&f, 1ull << 31, 0);
	h_put(&f, bad + (L->lv_tag ? L->hdr + 8 : 24), &d, 4);	/* bit 30 set */
	s = mk_str(&f, "7");
	if (!CHECK_EQ(u, fake_model(&f, &m), 0))
		goto out;
	for (i = 0; i < 7; i++) {
		CHECK_EQ(u, py_model_long_u64(&m, a[i], &v), 0);
		CHECK_EQ(u, v, vs[i]);
	}
	CHECK_EQ(u, py_model_long_u64(&m, neg, &v), GS_ERANGE);
	CHECK_EQ(u, py_model_long_u64(&m, bad, &v), GS_ECORRUPT);
	CHECK_EQ(u, py_model_long_u64(&m, s, &v), GS_ECORRUPT);	/* not an int */
	CHECK_EQ(u, py_model_long_u64(&m, 0, &v), GS_ECORRUPT);
	CHECK_EQ(u, py_model_long_u64(&m, HEAP_BASE - 4096, &v), GS_EFAULT);
out:
	fake_release(&f, &m);
}

static void t_long(struct unit *u)
{
	check_long(u, &L39);
	check_long(u, &L312);
	check_long(u, &L314T);
}

static void t_long_too_big(struct unit *u)
{
	struct fake f;
	struct py_model m;
	uint64_t a, a4, v;
	uint32_t d = 16;

	fake_init(&f, &L312);
	a = mk_int(&f, 0xffffffffffffffffull, 0);
	h_put(&f, a + 24 + 8, &d, 4);	/* top digit 16: 2^64 */
	a4 = mk_int(&f, 0xffffffffffffffffull, 0);
	h_u64(&f, a4 + 16, 4u << 3);	/* four digits */
	if (CHECK_EQ(u, fake_model(&f, &m), 0)) {
		CHECK_EQ(u, py_model_long_u64(&m, a, &v), GS_ERANGE);
		CHECK_EQ(u, py_model_long_u64(&m, a4, &v), GS_ERANGE);
	}
	fake_release(&f, &m);
}

/* ---- hostile tables ------------------------------------------------- */

static uint64_t h_get_u64(struct fake *f, uint64_t addr)
{
	uint64_t v;

	memcpy(&v, f->mem + (addr - HEAP_BASE), 8);
	return v;
}

static void t_bad_keys(struct unit *u)
{
	static const char *const names[] = { "a", "threading" };
	struct fake f;
	struct py_model m;
	uint64_t vals[2], d[6], v;
	size_t i;

	fake_init(&f, &L312);
	vals[0] = vals[1] = mk_str(&f, "x");
	for (i = 0; i < 6; i++)
		d[i] = mk_strdict(&f, 2, names, vals);
	h_u64(&f, h_get_u64(&f, d[0] + 32) + 24, 9);	/* nentries > size */
	h_u8(&f, h_get_u64(&f, d[1] + 32) + 9, 4);	/* index width vs size */
	h_u8(&f, h_get_u64(&f, d[2] + 32) + 10, 3);	/* unknown kind */
	h_u64(&f, d[3] + 32, 0x7000000000ull);		/* keys nowhere */
	h_u64(&f, d[4] + 32, 0x10000001ull);		/* keys misaligned */
	/* a key that reads "threading" but is not a str */
	h_u64(&f, h_get_u64(&f, h_get_u64(&f, d[5] + 32) + 32 + 8 + 16) + 8, f.mod_type);
	if (CHECK_EQ(u, fake_model(&f, &m), 0)) {
		CHECK_EQ(u, py_model_dict_get(&m, d[0], "threading", &v), GS_ECORRUPT);
		CHECK_EQ(u, py_model_dict_get(&m, d[1], "threading", &v), GS_ECORRUPT);
		CHECK_EQ(u, py_model_dict_get(&m, d[2], "threading", &v), GS_ECORRUPT);
		CHECK_EQ(u, py_model_dict_get(&m, d[3], "threading", &v), GS_EFAULT);
		CHECK_EQ(u, py_model_dict_get(&m, d[4], "threading", &v), GS_ECORRUPT);
		CHECK_EQ(u, v, 0);
		CHECK_EQ(u, py_model_dict_get(&m, d[5], "a", &v), 0);
		CHECK(u, v != 0);
		CHECK_EQ(u, py_model_dict_get(&m, d[5], "threading", &v), 0);
		CHECK_EQ(u, v, 0);
		/* a key longer than we look up */
		CHECK_EQ(u, py_model_dict_get(&m, d[0],
			"0123456789012345678901234567890123456789012345678901234567890123",
			&v), GS_ERANGE);
	}
	fake_release(&f, &m);
}

/* A table of 100000 deleted entries: we look at 65536 of them, then stop. */
static void t_dict_bound(struct unit *u)
{
	struct fake f;
	struct py_model m;
	uint64_t keys, d, v;
	const unsigned lg = 17, lib = lg + 2;

	fake_init(&f, &L313);
	keys = h_alloc(&f, 32 + (1u << lib) + 100000u * 16);
	h_u8(&f, keys + 8, lg);
	h_u8(&f, keys + 9, lib);
	h_u8(&f, keys + 10, 1);
	h_u64(&f, keys + 24, 100000);
	d = mk_dict(&f, keys, 0);
	CHECK(u, !f.oom);
	if (CHECK_EQ(u, fake_model(&f, &m), 0))
		CHECK_EQ(u, py_model_dict_get(&m, d, "threading", &v), GS_ERANGE);
	fake_release(&f, &m);
}

/* Split values: entries past the instance's capacity, and inline values
 * marked invalid with no dict, hold nothing for it. */
static void t_split_bounds(struct unit *u)
{
	struct fake f;
	struct py_model m;
	struct world w;
	uint64_t v, obj;

	fake_init(&f, &L313);
	mk_world(&f, &w);
	/* capacity 1: "_name" (entry 1) is out of this instance's reach */
	h_u8(&f, w.thread_split + L313.hdr, 1);
	obj = mk_thread(&f, w.thread_type, w.split_keys, "gone", HOW_SPLIT);
	h_u8(&f, obj + L313.hdr + 3, 0);	/* invalid */
	if (CHECK_EQ(u, fake_model(&f, &m), 0)) {
		CHECK_EQ(u, py_model_attr(&m, w.thread_split, "_name", &v), 0);
		CHECK_EQ(u, v, 0);
		CHECK_EQ(u, py_model_attr(&m, w.thread_split, "_target", &v), 0);
		CHECK(u, v != 0);
		CHECK_EQ(u, py_model_attr(&m, obj, "_name", &v), 0);
		CHECK_EQ(u, v, 0);
	}
	fake_release(&f, &m);
}

/* Shared keys are only trusted from a heap type. */
static void t_cached_keys_heap_only(struct unit *u)
{
	struct fake f;
	struct py_model m;
	struct world w;
	uint64_t t, v;

	fake_init(&f, &L313);
	mk_world(&f, &w);
	t = mk_type(&f, F_MANAGED_DICT | F_INLINE_VALUES, L313.hdr, -1, w.split_keys);
	h_u64(&f, w.thread_split + L313.hdr - 8, t);
	if (CHECK_EQ(u, fake_model(&f, &m), 0))
		CHECK_EQ(u, py_model_attr(&m, w.thread_split, "_name", &v), GS_ECORRUPT);
	fake_release(&f, &m);
}

static void t_unsupported(struct unit *u)
{
	static const uint64_t id = 1;
	char names[1][PY_THREAD_NAME_MAX];
	struct py_model m;
	struct fake f;

	fake_init(&f, &L312);
	if (CHECK_EQ(u, fake_model(&f, &m), 0)) {
		m.off.version_hex = 0x03080000;
		CHECK_EQ(u, py_model_thread_names(&m, HEAP_BASE, &id, 1, names),
			 GS_EUNSUPPORTED);
		CHECK_STREQ(u, names[0], "");
		m.off.version_hex = 0x03100000;
		CHECK_EQ(u, py_model_thread_names(&m, HEAP_BASE, &id, 1, names),
			 GS_EUNSUPPORTED);
		/* free-threaded, but with a default build's object header */
		m.off.version_hex = 0x030d0000;
		m.free_threaded = 1;
		CHECK_EQ(u, py_model_thread_names(&m, HEAP_BASE, &id, 1, names),
			 GS_EUNSUPPORTED);
	}
	fake_release(&f, &m);
}

UNIT_SUITE(names)
{
	UNIT_RUN(u, t_world_39);
	UNIT_RUN(u, t_world_311);
	UNIT_RUN(u, t_world_312);
	UNIT_RUN(u, t_world_313);
	UNIT_RUN(u, t_world_314t);
	UNIT_RUN(u, t_long);
	UNIT_RUN(u, t_long_too_big);
	UNIT_RUN(u, t_bad_keys);
	UNIT_RUN(u, t_dict_bound);
	UNIT_RUN(u, t_split_bounds);
	UNIT_RUN(u, t_cached_keys_heap_only);
	UNIT_RUN(u, t_unsupported);
}
