/*
 * code.c - decoding code objects and strings from target memory, with a
 * validated cache keyed by address.
 */
#include "code.h"

#include <stdlib.h>
#include <string.h>

#include "linetable.h"
#include "../util/error.h"

struct code_entry {
	struct py_code c;
	char *strings;		/* name, qualname, filename, packed */
	uint8_t *table;		/* line table copy */
	uint64_t checked;	/* validation epoch it was last checked in */
	uint8_t used;
};

struct code_cache {
	struct code_entry *slots;	/* open addressing, CODE_CACHE_SLOTS */
	size_t n;
	size_t bytes;		/* names and line tables held (at most
				 * CODE_CACHE_BYTES; replaced entries stay
				 * counted until the next flush) */
	int over;		/* something was refused for want of bytes */
	uint64_t gen;		/* bumped whenever a decoded entry changes or goes */
};

#define CODE_CACHE_SLOTS (CODE_CACHE_MAX * 2)

struct code_cache *code_cache_new(void)
{
	struct code_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->slots = calloc(CODE_CACHE_SLOTS, sizeof(*c->slots));
	if (!c->slots) {
		free(c);
		return NULL;
	}
	return c;
}

static void entry_clear(struct code_entry *e)
{
	free(e->strings);
	free(e->table);
	memset(e, 0, sizeof(*e));
}

static void cache_clear(struct code_cache *c)
{
	size_t i;

	for (i = 0; i < CODE_CACHE_SLOTS; i++)
		if (c->slots[i].used)
			entry_clear(&c->slots[i]);
	c->n = 0;
	c->bytes = 0;
	c->over = 0;
	c->gen++;
}

void code_cache_free(struct code_cache *c)
{
	if (!c)
		return;
	cache_clear(c);
	free(c->slots);
	free(c);
}

void code_cache_maybe_flush(struct code_cache *c)
{
	if (c->n >= CODE_CACHE_MAX || c->over)
		cache_clear(c);
}

size_t code_cache_size(const struct code_cache *c)
{
	return c->n;
}

uint64_t code_cache_gen(const struct code_cache *c)
{
	return c->gen;
}

static size_t slot_of(uint64_t addr)
{
	uint64_t h = addr * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 40) % CODE_CACHE_SLOTS;
}

/* Append code point cp as UTF-8; returns bytes written or 0 if no room. */
static size_t put_utf8(char *out, size_t room, uint32_t cp)
{
	if (cp >= 0xd800 && cp <= 0xdfff)
		cp = 0xfffd;	/* lone surrogates (surrogateescape'd bytes) */
	if (cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		if (room < 1)
			return 0;
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		if (room < 2)
			return 0;
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		if (room < 3)
			return 0;
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (room < 4)
		return 0;
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static uint64_t get_u64(const uint8_t *b, size_t off)
{
	uint64_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

static uint32_t get_u32(const uint8_t *b, size_t off)
{
	uint32_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

int str_read(struct py_model *m, uint64_t addr, char *out, size_t outlen)
{
	const struct py_offsets *o = &m->off;
	uint8_t hdr[128];
	uint8_t data[PY_STR_MAX * 4];
	uint32_t state, kind;
	int64_t length;
	size_t nchars, i, w = 0;
	uint64_t data_addr;
	int ret, ascii, compact;

	if (!outlen)
		return GS_ERANGE;
	out[0] = '\0';
	if (!addr || o->uni_compact_size > sizeof(hdr))
		return GS_EFAULT;
	ret = reader_read(m->r, addr, hdr, o->uni_compact_size);
	if (ret)
		return ret;
	state = get_u32(hdr, o->uni_state);
	memcpy(&length, hdr + o->uni_length, sizeof(length));
	kind = (state >> o->uni_kind_shift) & 7;
	compact = (state >> o->uni_compact_bit) & 1;
	ascii = (state >> o->uni_ascii_bit) & 1;
	if (!compact || (kind != 1 && kind != 2 && kind != 4) || (ascii && kind != 1) ||
	    length < 0 || length > (int64_t)1 << 40)
		return GS_CORRUPT("!compact || (kind != 1 && kind != 2 && kind != 4) || (ascii && kind !...");
	nchars = (size_t)length < PY_STR_MAX ? (size_t)length : PY_STR_MAX;
	data_addr = addr + (ascii ? o->uni_ascii_size : o->uni_compact_size);
	if (nchars) {
		ret = reader_read(m->r, data_addr, data, nchars * kind);
		if (ret)
			return ret;
	}
	for (i = 0; i < nchars; i++) {
		uint32_t cp;
		size_t k;

		if (kind == 1) {
			cp = data[i];
			if (ascii && cp >= 0x80)
				return GS_CORRUPT("ascii && cp >= 0x80");
		} else if (kind == 2) {
			uint16_t v;

			memcpy(&v, data + 2 * i, 2);
			cp = v;
		} else {
			memcpy(&cp, data + 4 * i, 4);
		}
		if (cp == 0)
			cp = 0xfffd;	/* keep our strings NUL-free */
		k = put_utf8(out + w, outlen - 1 - w, cp);
		if (!k)
			break;
		w += k;
	}
	out[w] = '\0';
	return 0;
}

/* Read the bytes object at addr (a line table), at most `max` bytes (and
 * never more than LINETABLE_MAX). */
static int bytes_read(struct py_model *m, uint64_t addr, size_t max, uint8_t **out,
		      uint32_t *outlen)
{
	const struct py_offsets *o = &m->off;
	int64_t size;
	uint8_t *buf;
	int ret;

	*out = NULL;
	*outlen = 0;
	ret = reader_read(m->r, addr + o->var_ob_size, &size, sizeof(size));
	if (ret)
		return ret;
	if (size < 0 || size > (int64_t)LINETABLE_MAX)
		return GS_CORRUPT("size < 0 || size > (int64_t)LINETABLE_MAX");
	if ((uint64_t)size > max)
		return GS_ERANGE;
	buf = malloc(size ? (size_t)size : 1);
	if (!buf)
		return GS_ENOMEM;
	if (size) {
		ret = reader_read(m->r, addr + o->bytes_sval, buf, (size_t)size);
		if (ret) {
			free(buf);
			return ret;
		}
	}
	*out = buf;
	*outlen = (uint32_t)size;
	return 0;
}

static int entry_fill(struct py_model *m, struct code_entry *e, uint64_t addr,
		      const uint8_t *hdr)
{
	const struct py_offsets *o = &m->off;
	char name[PY_STR_MAX * 4 + 1], qual[PY_STR_MAX * 4 + 1], file[PY_STR_MAX * 4 + 1];
	size_t ln, lq, lf;
	int ret;

	e->c.addr = addr;
	e->c.p_name = get_u64(hdr, o->co_name);
	e->c.p_filename = get_u64(hdr, o->co_filename);
	e->c.p_qualname = o->co_qualname != OFF_NONE ? get_u64(hdr, o->co_qualname) : 0;
	e->c.p_linetable = get_u64(hdr, o->co_linetable);
	e->c.firstlineno = (int)get_u32(hdr, o->co_firstlineno);
	e->c.code_start = o->co_code_adaptive != OFF_NONE ? addr + o->co_code_adaptive : 0;
	e->c.code_bytes = 0;
	if (e->c.code_start && o->var_ob_size + 8 <= o->co_size) {
		/* a code object's ob_size counts its code units (2 bytes) */
		uint64_t units = get_u64(hdr, o->var_ob_size);

		if (units && units <= (1u << 20))
			e->c.code_bytes = (uint32_t)units * 2;
	}
	e->c.stacksize = (int32_t)get_u32(hdr, o->co_stacksize);
	e->c.nlocalsplus = o->co_nlocalsplus != OFF_NONE ? (int32_t)get_u32(hdr, o->co_nlocalsplus) : 0;
	e->c.flags = o->co_flags != OFF_NONE ? (int32_t)get_u32(hdr, o->co_flags) : 0;

	ret = str_read(m, e->c.p_name, name, sizeof(name));
	if (ret)
		return ret;
	ret = str_read(m, e->c.p_filename, file, sizeof(file));
	if (ret)
		return ret;
	qual[0] = '\0';
	if (e->c.p_qualname && str_read(m, e->c.p_qualname, qual, sizeof(qual)))
		qual[0] = '\0';
	if (!qual[0])
		memcpy(qual, name, strlen(name) + 1);
	ln = strlen(name) + 1;
	lq = strlen(qual) + 1;
	lf = strlen(file) + 1;
	/* A target can make every code object name 4 KiB strings and a
	 * 256 KiB line table: the cache's total stays bounded. */
	if (m->codes->bytes + ln + lq + lf > CODE_CACHE_BYTES) {
		m->codes->over = 1;
		return GS_ERANGE;
	}
	m->codes->bytes += ln + lq + lf;
	e->strings = malloc(ln + lq + lf);
	if (!e->strings)
		return GS_ENOMEM;
	memcpy(e->strings, name, ln);
	memcpy(e->strings + ln, qual, lq);
	memcpy(e->strings + ln + lq, file, lf);
	e->c.name = e->strings;
	e->c.qualname = e->strings + ln;
	e->c.filename = e->strings + ln + lq;
	/* No line table is survivable: lines become unknown. */
	ret = bytes_read(m, e->c.p_linetable, CODE_CACHE_BYTES - m->codes->bytes, &e->table,
			 &e->c.linetable_len);
	if (ret == GS_ERANGE)
		m->codes->over = 1;	/* kept without its lines until the flush */
	if (ret)
		e->c.linetable_len = 0;
	m->codes->bytes += e->c.linetable_len;
	e->c.linetable = e->table;
	return 0;
}

/* The slot of addr, or of the empty slot where it would go; NULL when the
 * table is full of other addresses. */
static struct code_entry *slot_find(struct code_cache *c, uint64_t addr)
{
	size_t i, s = slot_of(addr);

	for (i = 0; i < CODE_CACHE_SLOTS; i++) {
		struct code_entry *e = &c->slots[(s + i) % CODE_CACHE_SLOTS];

		if (!e->used || e->c.addr == addr)
			return e;
	}
	return NULL;
}

const struct py_code *code_checked(struct py_model *m, uint64_t addr)
{
	struct code_entry *e;

	if (!m->code_epoch || !addr || (addr & 7))
		return NULL;
	e = slot_find(m->codes, addr);
	return e && e->used && e->c.addr == addr && e->checked == m->code_epoch ? &e->c : NULL;
}

int code_get_hdr(struct py_model *m, uint64_t addr, const uint8_t *hdr,
		 const struct py_code **out)
{
	const struct py_offsets *o = &m->off;
	struct code_cache *c = m->codes;
	struct code_entry *e;
	int ret;

	if (m->loc.code_type && get_u64(hdr, o->ob_type) != m->loc.code_type)
		return GS_CORRUPT("m->loc.code_type && get_u64(hdr, o->ob_type) != m->loc.code_type");
	e = slot_find(c, addr);
	if (e && e->used) {
		if (e->c.p_name == get_u64(hdr, o->co_name) &&
		    e->c.p_filename == get_u64(hdr, o->co_filename) &&
		    e->c.p_linetable == get_u64(hdr, o->co_linetable) &&
		    (o->co_qualname == OFF_NONE ||
		     e->c.p_qualname == get_u64(hdr, o->co_qualname)) &&
		    e->c.firstlineno == (int)get_u32(hdr, o->co_firstlineno)) {
			e->checked = m->code_epoch;
			*out = &e->c;
			return 0;
		}
		/* Same address, another code object: decode it again in place. */
		entry_clear(e);
		c->gen++;
		e->used = 1;
		ret = entry_fill(m, e, addr, hdr);
		if (ret) {
			/* keep the slot occupied (probe chains) but unmatchable */
			free(e->strings);
			free(e->table);
			e->strings = NULL;
			e->table = NULL;
			memset(&e->c, 0, sizeof(e->c));
			e->c.addr = 1;
			return ret;
		}
		e->checked = m->code_epoch;
		*out = &e->c;
		return 0;
	}
	if (!e || c->n >= CODE_CACHE_MAX) {
		/* full: decode into a scratch entry would leak; refuse instead */
		return GS_ERANGE;
	}
	e->used = 1;
	ret = entry_fill(m, e, addr, hdr);
	if (ret) {
		entry_clear(e);
		return ret;
	}
	e->checked = m->code_epoch;
	c->n++;
	*out = &e->c;
	return 0;
}

int code_get(struct py_model *m, uint64_t addr, const struct py_code **out)
{
	const struct py_offsets *o = &m->off;
	const struct py_code *hit;
	uint8_t hdr[512];
	int ret;

	if (!addr || (addr & 7) || o->co_size > sizeof(hdr))
		return GS_CORRUPT("!addr || (addr & 7) || o->co_size > sizeof(hdr)");
	hit = code_checked(m, addr);
	if (hit) {
		*out = hit;
		return 0;
	}
	ret = reader_read(m->r, addr, hdr, o->co_size);
	if (ret)
		return ret;
	return code_get_hdr(m, addr, hdr, out);
}
