/*
 * json.h - a small JSON (RFC 8259) reader for messages from helper
 * processes (the speedup harness), which are data we did not write.
 *
 * jv_parse() builds a tree that the caller owns and frees with
 * jv_release(). Input is bounded by its length; nesting by JV_MAX_DEPTH.
 * Strings are decoded to NUL-terminated UTF-8 (\u0000 is refused, so a
 * string is never cut short); invalid UTF-8, lone surrogates, duplicate
 * keys and trailing content are errors.
 */
#ifndef GS_JSON_H
#define GS_JSON_H

#include <stddef.h>

#define JV_MAX_DEPTH 32

enum jv_type { JV_NULL, JV_BOOL, JV_NUMBER, JV_STRING, JV_ARRAY, JV_OBJECT };

struct jv {
	enum jv_type type;
	int boolean;
	double number;
	char *str;		/* JV_STRING */
	struct jv *items;	/* array items, or object values */
	char **keys;		/* object keys, parallel to items */
	size_t n;
};

/* 0 and a tree in *out, or GS_ECORRUPT (not JSON) / GS_ENOMEM; *out is
 * then empty (JV_NULL) and needs no release. */
int jv_parse(const char *s, size_t len, struct jv *out);
void jv_release(struct jv *v);

/* The value of key in an object (NULL when v is not an object or the key
 * is absent), and typed shortcuts that return NULL / 0 on a type mismatch. */
const struct jv *jv_get(const struct jv *v, const char *key);
const char *jv_get_str(const struct jv *v, const char *key);
/* 1 and *out when key holds a number, else 0. */
int jv_get_num(const struct jv *v, const char *key, double *out);
/* 1 when key holds true, 0 otherwise (false, absent, other type). */
int jv_get_true(const struct jv *v, const char *key);

#endif
