/*
 * minidoc.h - small, strict checkers the renderer tests read output with:
 * an XML 1.0 well-formedness checker and a JSON (RFC 8259) parser that
 * builds a tree. Test code only; test_minidoc.c shows they reject what
 * they should.
 */
#ifndef GS_MINIDOC_H
#define GS_MINIDOC_H

#include <stddef.h>

/* Called for each start (or empty-element) tag, with the raw text of its
 * attributes (between the name and the closing '>' or '/>'). */
typedef void (*xml_elem_fn)(void *ctx, const char *name, size_t namelen,
			    const char *attrs, size_t attrslen);

/*
 * 0 when doc[0..len) is a well-formed XML document: valid UTF-8 made of
 * XML characters, one root element, tags nested and matched, attributes
 * quoted and unique, every '&' a known entity or a valid character
 * reference, comments, CDATA sections and processing instructions closed.
 * DOCTYPE is not supported (rejected). Else -1 with a message in err.
 */
int xml_check(const char *doc, size_t len, xml_elem_fn fn, void *ctx,
	      char *err, size_t errlen);

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	int boolean;
	double number;
	char *str;		/* decoded UTF-8, NUL-terminated (strings) */
	size_t len;		/* its length (strings may hold \u0000) */
	struct json *items;	/* array items, or object values */
	char **keys;		/* object keys */
	size_t n;
};

/* 0 and a tree in *out, or -1 with a message in err. Strings must be valid
 * UTF-8 with valid escapes (no lone surrogates); duplicate keys and
 * trailing content are errors; nesting is limited to 512. */
int json_parse(const char *s, size_t len, struct json *out, char *err, size_t errlen);
void json_free(struct json *v);
/* The value of `key` in an object, or NULL. */
const struct json *json_get(const struct json *obj, const char *key);
/* The string value of `key`, or NULL when absent or not a string. */
const char *json_get_str(const struct json *obj, const char *key);

#endif
