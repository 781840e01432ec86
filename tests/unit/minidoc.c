/* minidoc.c - XML well-formedness checker and JSON parser for tests; see minidoc.h. */
#include "minidoc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/util/strbuf.h"

struct cur {
	const char *s, *end;
	char *err;
	size_t errlen;
	int failed;
};

static int fail(struct cur *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct cur *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->failed)
		return -1;
	c->failed = 1;
	if (!c->errlen)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < c->errlen)
		snprintf(c->err + n, c->errlen - (size_t)n, " (at %.20s)", c->s < c->end ? c->s : "end");
	return -1;
}

/* Decodes one UTF-8 character at p (bounded by end); 0 when invalid. */
static size_t utf8_dec(const char *p, const char *end, uint32_t *cp)
{
	char tmp[5] = { 0 };
	size_t i, n;
	const unsigned char *u;

	for (i = 0; i < 4 && p + i < end; i++)
		tmp[i] = p[i] ? p[i] : 0x01;	/* a NUL in the input is not a terminator here */
	if (!p[0]) {
		*cp = 0;
		return 1;
	}
	n = utf8_seq_len(tmp);
	if (!n)
		return 0;
	u = (const unsigned char *)p;
	if (n == 1)
		*cp = u[0];
	else if (n == 2)
		*cp = ((uint32_t)(u[0] & 0x1f) << 6) | (u[1] & 0x3f);
	else if (n == 3)
		*cp = ((uint32_t)(u[0] & 0x0f) << 12) | ((uint32_t)(u[1] & 0x3f) << 6) | (u[2] & 0x3f);
	else
		*cp = ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3f) << 12) |
		      ((uint32_t)(u[2] & 0x3f) << 6) | (u[3] & 0x3f);
	return n;
}

/* ---------------------------------------------------------------- XML */

static int xml_char_ok(uint32_t cp)
{
	return cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
	       (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

static int name_start(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == ':';
}

static int name_char(char ch)
{
	return name_start(ch) || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static size_t xml_name(struct cur *c)
{
	const char *p = c->s;

	if (p >= c->end || !name_start(*p))
		return 0;
	while (p < c->end && name_char(*p))
		p++;
	return (size_t)(p - c->s);
}

static int starts(struct cur *c, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(c->end - c->s) >= n && !memcmp(c->s, lit, n);
}

/* An entity or character reference, at '&'. */
static int xml_ref(struct cur *c)
{
	static const char *const known[] = { "amp;", "lt;", "gt;", "quot;", "apos;" };
	size_t i;

	c->s++;
	if (c->s < c->end && *c->s == '#') {
		uint32_t v = 0;
		int hex = 0, digits = 0;

		c->s++;
		if (c->s < c->end && *c->s == 'x') {
			hex = 1;
			c->s++;
		}
		for (; c->s < c->end && *c->s != ';'; c->s++, digits++) {
			char ch = *c->s;
			int d;

			if (ch >= '0' && ch <= '9')
				d = ch - '0';
			else if (hex && ch >= 'a' && ch <= 'f')
				d = ch - 'a' + 10;
			else if (hex && ch >= 'A' && ch <= 'F')
				d = ch - 'A' + 10;
			else
				return fail(c, "bad character reference");
			v = v * (hex ? 16 : 10) + (uint32_t)d;
			if (v > 0x10ffff)
				return fail(c, "character reference out of range");
		}
		if (c->s >= c->end || !digits || !xml_char_ok(v))
			return fail(c, "bad character reference");
		c->s++;
		return 0;
	}
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (starts(c, known[i])) {
			c->s += strlen(known[i]);
			return 0;
		}
	}
	return fail(c, "unknown entity or bare '&'");
}

/* Character data or attribute text up to a stop byte. */
static int xml_text(struct cur *c, char stop, int in_attr)
{
	while (c->s < c->end && *c->s != stop) {
		uint32_t cp;
		size_t n;

		if (*c->s == '&') {
			if (xml_ref(c))
				return -1;
			continue;
		}
		if (in_attr && *c->s == '<')
			return fail(c, "'<' in an attribute value");
		if (!in_attr && starts(c, "]]>"))
			return fail(c, "']]>' in character data");
		n = utf8_dec(c->s, c->end, &cp);
		if (!n)
			return fail(c, "invalid UTF-8");
		if (!xml_char_ok(cp))
			return fail(c, "character U+%04X is not allowed in XML", (unsigned)cp);
		c->s += n;
	}
	return 0;
}

/* Checks every character up to `close`, then skips it. */
static int xml_until(struct cur *c, const char *close, const char *what)
{
	size_t cl = strlen(close);

	for (;;) {
		uint32_t cp;
		size_t n;

		if ((size_t)(c->end - c->s) < cl)
			return fail(c, "unterminated %s", what);
		if (!memcmp(c->s, close, cl)) {
			c->s += cl;
			return 0;
		}
		if (!strcmp(what, "comment") && starts(c, "--"))
			return fail(c, "'--' inside a comment");
		n = utf8_dec(c->s, c->end, &cp);
		if (!n)
			return fail(c, "invalid UTF-8 in %s", what);
		if (!xml_char_ok(cp))
			return fail(c, "character U+%04X is not allowed in XML", (unsigned)cp);
		c->s += n;
	}
}

static void skip_space(struct cur *c)
{
	while (c->s < c->end && is_space(*c->s))
		c->s++;
}

/* Comments, PIs, whitespace: what may stand outside the root. */
static int xml_misc(struct cur *c)
{
	for (;;) {
		skip_space(c);
		if (starts(c, "<!--")) {
			c->s += 4;
			if (xml_until(c, "-->", "comment"))
				return -1;
		} else if (starts(c, "<?")) {
			c->s += 2;
			if (xml_until(c, "?>", "processing instruction"))
				return -1;
		} else {
			return 0;
		}
	}
}

int xml_check(const char *doc, size_t len, xml_elem_fn fn, void *ctx, char *err, size_t errlen)
{
	struct cur c = { .s = doc, .end = doc + len, .err = err, .errlen = errlen };
	const char **stack = NULL;
	size_t *stacklen = NULL, depth = 0, cap = 0;
	int roots = 0, ret = -1;

	if (errlen)
		err[0] = '\0';
	if (xml_misc(&c))
		goto out;
	while (c.s < c.end) {
		if (!depth) {
			if (roots)
				break;
			if (c.s >= c.end || *c.s != '<')
				break;
		}
		if (starts(&c, "<!--")) {
			c.s += 4;
			if (xml_until(&c, "-->", "comment"))
				goto out;
		} else if (starts(&c, "<![CDATA[")) {
			if (!depth) {
				fail(&c, "CDATA outside the root element");
				goto out;
			}
			c.s += 9;
			if (xml_until(&c, "]]>", "CDATA section"))
				goto out;
		} else if (starts(&c, "<!")) {
			fail(&c, "DOCTYPE and other declarations are not supported");
			goto out;
		} else if (starts(&c, "<?")) {
			c.s += 2;
			if (xml_until(&c, "?>", "processing instruction"))
				goto out;
		} else if (starts(&c, "</")) {
			size_t n;

			c.s += 2;
			n = xml_name(&c);
			if (!n || !depth || n != stacklen[depth - 1] ||
			    memcmp(c.s, stack[depth - 1], n)) {
				fail(&c, "end tag does not match the open element");
				goto out;
			}
			c.s += n;
			skip_space(&c);
			if (c.s >= c.end || *c.s != '>') {
				fail(&c, "bad end tag");
				goto out;
			}
			c.s++;
			depth--;
		} else if (*c.s == '<') {
			const char *name, *attrs, *names[64];
			size_t n, nn = 0, attrslen, i, lens[64];
			int empty = 0;

			c.s++;
			name = c.s;
			n = xml_name(&c);
			if (!n) {
				fail(&c, "bad element name");
				goto out;
			}
			c.s += n;
			attrs = c.s;
			for (;;) {
				size_t an;
				char q;
				int sp = c.s < c.end && is_space(*c.s);

				skip_space(&c);
				if (c.s >= c.end) {
					fail(&c, "unterminated start tag");
					goto out;
				}
				if (*c.s == '>' || starts(&c, "/>"))
					break;
				if (!sp) {
					fail(&c, "attributes must be separated by space");
					goto out;
				}
				an = xml_name(&c);
				if (!an) {
					fail(&c, "bad attribute name");
					goto out;
				}
				for (i = 0; i < nn; i++) {
					if (lens[i] == an && !memcmp(names[i], c.s, an)) {
						fail(&c, "duplicate attribute");
						goto out;
					}
				}
				if (nn < 64) {
					names[nn] = c.s;
					lens[nn++] = an;
				}
				c.s += an;
				skip_space(&c);
				if (c.s >= c.end || *c.s != '=') {
					fail(&c, "attribute without '='");
					goto out;
				}
				c.s++;
				skip_space(&c);
				if (c.s >= c.end || (*c.s != '"' && *c.s != '\'')) {
					fail(&c, "unquoted attribute value");
					goto out;
				}
				q = *c.s++;
				if (xml_text(&c, q, 1))
					goto out;
				if (c.s >= c.end) {
					fail(&c, "unterminated attribute value");
					goto out;
				}
				c.s++;
			}
			attrslen = (size_t)(c.s - attrs);
			if (*c.s == '/') {
				empty = 1;
				c.s++;
			}
			c.s++;
			if (fn)
				fn(ctx, name, n, attrs, attrslen);
			if (!depth)
				roots++;
			if (!empty) {
				if (depth == cap) {
					size_t nc = cap ? cap * 2 : 64;
					const char **ns = realloc(stack, nc * sizeof(*ns));
					size_t *nl;

					if (!ns) {
						fail(&c, "out of memory");
						goto out;
					}
					stack = ns;
					nl = realloc(stacklen, nc * sizeof(*nl));
					if (!nl) {
						fail(&c, "out of memory");
						goto out;
					}
					stacklen = nl;
					cap = nc;
				}
				stack[depth] = name;
				stacklen[depth++] = n;
			}
		} else {
			if (!depth) {
				fail(&c, "text outside the root element");
				goto out;
			}
			if (xml_text(&c, '<', 0))
				goto out;
		}
	}
	if (depth) {
		fail(&c, "unclosed element");
		goto out;
	}
	if (!roots) {
		fail(&c, "no root element");
		goto out;
	}
	if (xml_misc(&c))
		goto out;
	if (c.s != c.end) {
		fail(&c, "content after the root element");
		goto out;
	}
	ret = 0;
out:
	free(stack);
	free(stacklen);
	return ret;
}

/* --------------------------------------------------------------- JSON */

#define JSON_MAX_DEPTH 512

static int json_value(struct cur *c, struct json *v, int depth);

static void json_ws(struct cur *c)
{
	while (c->s < c->end && is_space(*c->s))
		c->s++;
}

static int hex4(struct cur *c, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	if (c->end - c->s < 4)
		return fail(c, "short \\u escape");
	for (i = 0; i < 4; i++) {
		char ch = *c->s++;

		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= (uint32_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v |= (uint32_t)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			v |= (uint32_t)(ch - 'A' + 10);
		else
			return fail(c, "bad \\u escape");
	}
	*out = v;
	return 0;
}

static void put_utf8(struct strbuf *sb, uint32_t cp)
{
	char b[4];

	if (cp < 0x80) {
		b[0] = (char)cp;
		strbuf_add(sb, b, 1);
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		strbuf_add(sb, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		strbuf_add(sb, b, 3);
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		strbuf_add(sb, b, 4);
	}
}

static int json_string(struct cur *c, char **out, size_t *outlen)
{
	struct strbuf sb = STRBUF_INIT;

	c->s++;	/* the opening quote */
	for (;;) {
		uint32_t cp;
		size_t n;

		if (c->s >= c->end) {
			fail(c, "unterminated string");
			goto bad;
		}
		if (*c->s == '"') {
			c->s++;
			break;
		}
		if ((unsigned char)*c->s < 0x20) {
			fail(c, "raw control character in a string");
			goto bad;
		}
		if (*c->s == '\\') {
			char e;

			if (++c->s >= c->end) {
				fail(c, "unterminated escape");
				goto bad;
			}
			e = *c->s++;
			switch (e) {
			case '"': strbuf_addch(&sb, '"'); break;
			case '\\': strbuf_addch(&sb, '\\'); break;
			case '/': strbuf_addch(&sb, '/'); break;
			case 'b': strbuf_addch(&sb, '\b'); break;
			case 'f': strbuf_addch(&sb, '\f'); break;
			case 'n': strbuf_addch(&sb, '\n'); break;
			case 'r': strbuf_addch(&sb, '\r'); break;
			case 't': strbuf_addch(&sb, '\t'); break;
			case 'u':
				if (hex4(c, &cp))
					goto bad;
				if (cp >= 0xdc00 && cp <= 0xdfff) {
					fail(c, "lone low surrogate");
					goto bad;
				}
				if (cp >= 0xd800 && cp <= 0xdbff) {
					uint32_t lo;

					if (c->end - c->s < 6 || c->s[0] != '\\' || c->s[1] != 'u') {
						fail(c, "lone high surrogate");
						goto bad;
					}
					c->s += 2;
					if (hex4(c, &lo))
						goto bad;
					if (lo < 0xdc00 || lo > 0xdfff) {
						fail(c, "bad surrogate pair");
						goto bad;
					}
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				}
				put_utf8(&sb, cp);
				break;
			default:
				fail(c, "bad escape");
				goto bad;
			}
			continue;
		}
		n = utf8_dec(c->s, c->end, &cp);
		if (!n) {
			fail(c, "invalid UTF-8 in a string");
			goto bad;
		}
		strbuf_add(&sb, c->s, n);
		c->s += n;
	}
	if (sb.failed) {
		fail(c, "out of memory");
		goto bad;
	}
	*outlen = sb.len;
	*out = sb.buf ? sb.buf : calloc(1, 1);
	return *out ? 0 : fail(c, "out of memory");
bad:
	strbuf_release(&sb);
	return -1;
}

static int json_number(struct cur *c, double *out)
{
	const char *p = c->s;
	char buf[64];
	size_t n;

	if (p < c->end && *p == '-')
		p++;
	if (p < c->end && *p == '0') {
		p++;
	} else if (p < c->end && *p >= '1' && *p <= '9') {
		while (p < c->end && *p >= '0' && *p <= '9')
			p++;
	} else {
		return fail(c, "bad number");
	}
	if (p < c->end && *p == '.') {
		p++;
		if (p >= c->end || *p < '0' || *p > '9')
			return fail(c, "bad fraction");
		while (p < c->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < c->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < c->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= c->end || *p < '0' || *p > '9')
			return fail(c, "bad exponent");
		while (p < c->end && *p >= '0' && *p <= '9')
			p++;
	}
	n = (size_t)(p - c->s);
	if (n >= sizeof(buf))
		return fail(c, "number too long");
	memcpy(buf, c->s, n);
	buf[n] = '\0';
	*out = strtod(buf, NULL);
	c->s = p;
	return 0;
}

static int push(struct json *v, size_t *cap)
{
	if (v->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct json *ni = realloc(v->items, nc * sizeof(*ni));

		if (!ni)
			return -1;
		v->items = ni;
		if (v->type == JSON_OBJECT) {
			char **nk = realloc(v->keys, nc * sizeof(*nk));

			if (!nk)
				return -1;
			v->keys = nk;
		}
		*cap = nc;
	}
	memset(&v->items[v->n], 0, sizeof(v->items[v->n]));
	if (v->type == JSON_OBJECT)
		v->keys[v->n] = NULL;
	v->n++;
	return 0;
}

static int json_value(struct cur *c, struct json *v, int depth)
{
	size_t cap = 0;

	memset(v, 0, sizeof(*v));
	if (depth > JSON_MAX_DEPTH)
		return fail(c, "nested too deep");
	json_ws(c);
	if (c->s >= c->end)
		return fail(c, "value expected");
	switch (*c->s) {
	case '{':
	case '[': {
		char close = *c->s == '{' ? '}' : ']';

		v->type = *c->s == '{' ? JSON_OBJECT : JSON_ARRAY;
		c->s++;
		json_ws(c);
		if (c->s < c->end && *c->s == close) {
			c->s++;
			return 0;
		}
		for (;;) {
			struct json *item;

			if (push(v, &cap))
				return fail(c, "out of memory");
			item = &v->items[v->n - 1];
			if (v->type == JSON_OBJECT) {
				size_t klen, i;

				json_ws(c);
				if (c->s >= c->end || *c->s != '"')
					return fail(c, "key expected");
				if (json_string(c, &v->keys[v->n - 1], &klen))
					return -1;
				for (i = 0; i + 1 < v->n; i++)
					if (!strcmp(v->keys[i], v->keys[v->n - 1]))
						return fail(c, "duplicate key \"%s\"", v->keys[i]);
				json_ws(c);
				if (c->s >= c->end || *c->s != ':')
					return fail(c, "':' expected");
				c->s++;
			}
			if (json_value(c, item, depth + 1))
				return -1;
			json_ws(c);
			if (c->s < c->end && *c->s == ',') {
				c->s++;
				continue;
			}
			if (c->s < c->end && *c->s == close) {
				c->s++;
				return 0;
			}
			return fail(c, "',' or '%c' expected", close);
		}
	}
	case '"':
		v->type = JSON_STRING;
		return json_string(c, &v->str, &v->len);
	case 't':
		if (!starts(c, "true"))
			return fail(c, "bad literal");
		c->s += 4;
		v->type = JSON_BOOL;
		v->boolean = 1;
		return 0;
	case 'f':
		if (!starts(c, "false"))
			return fail(c, "bad literal");
		c->s += 5;
		v->type = JSON_BOOL;
		return 0;
	case 'n':
		if (!starts(c, "null"))
			return fail(c, "bad literal");
		c->s += 4;
		v->type = JSON_NULL;
		return 0;
	default:
		v->type = JSON_NUMBER;
		return json_number(c, &v->number);
	}
}

int json_parse(const char *s, size_t len, struct json *out, char *err, size_t errlen)
{
	struct cur c = { .s = s, .end = s + len, .err = err, .errlen = errlen };

	if (errlen)
		err[0] = '\0';
	if (json_value(&c, out, 0))
		goto bad;
	json_ws(&c);
	if (c.s != c.end) {
		fail(&c, "content after the value");
		goto bad;
	}
	return 0;
bad:
	json_free(out);
	return -1;
}

void json_free(struct json *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		json_free(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	memset(v, 0, sizeof(*v));
}

const struct json *json_get(const struct json *obj, const char *key)
{
	size_t i;

	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (obj->keys[i] && !strcmp(obj->keys[i], key))
			return &obj->items[i];
	return NULL;
}

const char *json_get_str(const struct json *obj, const char *key)
{
	const struct json *v = json_get(obj, key);

	return v && v->type == JSON_STRING ? v->str : NULL;
}
