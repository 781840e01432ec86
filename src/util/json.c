/*
 * json.c - a small, strict JSON reader (see json.h).
 */
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct cur {
	const char *s, *end;
	int err;		/* first error: GS_ECORRUPT or GS_ENOMEM */
};

static int fail(struct cur *c, int err)
{
	if (!c->err)
		c->err = err;
	return -1;
}

static void ws(struct cur *c)
{
	while (c->s < c->end && (*c->s == ' ' || *c->s == '\t' || *c->s == '\n' || *c->s == '\r'))
		c->s++;
}

static int lit(struct cur *c, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(c->end - c->s) < n || memcmp(c->s, word, n))
		return fail(c, GS_ECORRUPT);
	c->s += n;
	return 0;
}

/* Length of the valid UTF-8 sequence at p (before end), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

static int hex4(struct cur *c, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	if (c->end - c->s < 4)
		return fail(c, GS_ECORRUPT);
	for (i = 0; i < 4; i++) {
		char h = c->s[i];

		v <<= 4;
		if (h >= '0' && h <= '9')
			v |= (uint32_t)(h - '0');
		else if (h >= 'a' && h <= 'f')
			v |= (uint32_t)(h - 'a' + 10);
		else if (h >= 'A' && h <= 'F')
			v |= (uint32_t)(h - 'A' + 10);
		else
			return fail(c, GS_ECORRUPT);
	}
	c->s += 4;
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* At the opening quote. The decoded string is never longer than its
 * source text, which bounds the allocation by the input. */
static int string(struct cur *c, char **out)
{
	const char *start = ++c->s;
	char *buf, *o;

	while (c->s < c->end && *c->s != '"')
		c->s += (*c->s == '\\' && c->s + 1 < c->end) ? 2 : 1;
	if (c->s >= c->end)
		return fail(c, GS_ECORRUPT);
	buf = malloc((size_t)(c->s - start) + 1);
	if (!buf)
		return fail(c, GS_ENOMEM);
	o = buf;
	c->s = start;
	while (*c->s != '"') {
		unsigned char ch = (unsigned char)*c->s;
		uint32_t cp, lo;
		size_t n;

		if (ch < 0x20)
			goto bad;
		if (ch != '\\') {
			n = utf8_len((const unsigned char *)c->s, (const unsigned char *)c->end);
			if (!n)
				goto bad;
			memcpy(o, c->s, n);
			o += n;
			c->s += n;
			continue;
		}
		c->s++;
		switch (*c->s++) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (hex4(c, &cp))
				goto bad;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				goto bad;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (c->end - c->s < 2 || c->s[0] != '\\' || c->s[1] != 'u')
					goto bad;
				c->s += 2;
				if (hex4(c, &lo) || lo < 0xdc00 || lo > 0xdfff)
					goto bad;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (!cp)	/* would cut the C string short */
				goto bad;
			/* \uXXXX is 6 bytes of source, at most 3 of output;
			 * a pair is 12, at most 4 */
			o += put_utf8(o, cp);
			break;
		default:
			goto bad;
		}
	}
	c->s++;
	*o = '\0';
	*out = buf;
	return 0;
bad:
	free(buf);
	return fail(c, GS_ECORRUPT);
}

static int number(struct cur *c, double *out)
{
	const char *p = c->s;
	char tmp[64], *end;
	size_t n;

	if (p < c->end && *p == '-')
		p++;
	if (p >= c->end || *p < '0' || *p > '9')
		return fail(c, GS_ECORRUPT);
	if (*p == '0')
		p++;
	else
		while (p < c->end && *p >= '0' && *p <= '9')
			p++;
	if (p < c->end && *p == '.') {
		p++;
		if (p >= c->end || *p < '0' || *p > '9')
			return fail(c, GS_ECORRUPT);
		while (p < c->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < c->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < c->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= c->end || *p < '0' || *p > '9')
			return fail(c, GS_ECORRUPT);
		while (p < c->end && *p >= '0' && *p <= '9')
			p++;
	}
	n = (size_t)(p - c->s);
	if (n >= sizeof(tmp))
		return fail(c, GS_ECORRUPT);
	memcpy(tmp, c->s, n);
	tmp[n] = '\0';
	*out = strtod(tmp, &end);
	c->s = p;
	return 0;
}

static int value(struct cur *c, struct jv *v, int depth);

static int grow(struct cur *c, struct jv *v, size_t *cap, int with_keys)
{
	size_t nc = *cap ? *cap * 2 : 4;
	struct jv *ni;

	ni = realloc(v->items, nc * sizeof(*ni));
	if (!ni)
		return fail(c, GS_ENOMEM);
	v->items = ni;
	if (with_keys) {
		char **nk = realloc(v->keys, nc * sizeof(*nk));

		if (!nk)
			return fail(c, GS_ENOMEM);
		v->keys = nk;
	}
	*cap = nc;
	return 0;
}

static int container(struct cur *c, struct jv *v, int depth)
{
	int obj = *c->s == '{';
	char close = obj ? '}' : ']';
	size_t cap = 0, i;

	v->type = obj ? JV_OBJECT : JV_ARRAY;
	if (depth >= JV_MAX_DEPTH)
		return fail(c, GS_ECORRUPT);
	c->s++;
	ws(c);
	if (c->s < c->end && *c->s == close) {
		c->s++;
		return 0;
	}
	for (;;) {
		char *key = NULL;

		ws(c);
		if (obj) {
			if (c->s >= c->end || *c->s != '"' || string(c, &key))
				return fail(c, GS_ECORRUPT);
			for (i = 0; i < v->n; i++)
				if (!strcmp(v->keys[i], key)) {
					free(key);
					return fail(c, GS_ECORRUPT);
				}
			ws(c);
			if (c->s >= c->end || *c->s != ':') {
				free(key);
				return fail(c, GS_ECORRUPT);
			}
			c->s++;
		}
		if (v->n == cap && grow(c, v, &cap, obj)) {
			free(key);
			return -1;
		}
		if (obj)
			v->keys[v->n] = key;
		memset(&v->items[v->n], 0, sizeof(v->items[0]));
		v->n++;	/* counted now, so that release frees a partial value */
		if (value(c, &v->items[v->n - 1], depth + 1))
			return -1;
		ws(c);
		if (c->s < c->end && *c->s == ',') {
			c->s++;
			continue;
		}
		if (c->s < c->end && *c->s == close) {
			c->s++;
			return 0;
		}
		return fail(c, GS_ECORRUPT);
	}
}

static int value(struct cur *c, struct jv *v, int depth)
{
	ws(c);
	if (c->s >= c->end)
		return fail(c, GS_ECORRUPT);
	switch (*c->s) {
	case '{':
	case '[':
		return container(c, v, depth);
	case '"':
		v->type = JV_STRING;
		return string(c, &v->str);
	case 't':
		v->type = JV_BOOL;
		v->boolean = 1;
		return lit(c, "true");
	case 'f':
		v->type = JV_BOOL;
		return lit(c, "false");
	case 'n':
		v->type = JV_NULL;
		return lit(c, "null");
	default:
		v->type = JV_NUMBER;
		return number(c, &v->number);
	}
}

int jv_parse(const char *s, size_t len, struct jv *out)
{
	struct cur c = { s, s + len, 0 };

	memset(out, 0, sizeof(*out));
	if (!value(&c, out, 0)) {
		ws(&c);
		if (c.s == c.end)
			return 0;
		fail(&c, GS_ECORRUPT);
	}
	jv_release(out);
	return c.err ? c.err : GS_ECORRUPT;
}

void jv_release(struct jv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		jv_release(&v->items[i]);
		if (v->type == JV_OBJECT)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	memset(v, 0, sizeof(*v));
}

const struct jv *jv_get(const struct jv *v, const char *key)
{
	size_t i;

	if (!v || v->type != JV_OBJECT)
		return NULL;
	for (i = 0; i < v->n; i++)
		if (!strcmp(v->keys[i], key))
			return &v->items[i];
	return NULL;
}

const char *jv_get_str(const struct jv *v, const char *key)
{
	const struct jv *x = jv_get(v, key);

	return x && x->type == JV_STRING ? x->str : NULL;
}

int jv_get_num(const struct jv *v, const char *key, double *out)
{
	const struct jv *x = jv_get(v, key);

	if (!x || x->type != JV_NUMBER)
		return 0;
	*out = x->number;
	return 1;
}

int jv_get_true(const struct jv *v, const char *key)
{
	const struct jv *x = jv_get(v, key);

	return x && x->type == JV_BOOL && x->boolean;
}
