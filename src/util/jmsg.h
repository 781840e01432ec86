/*
 * jmsg.h - messages from helper processes (the speedup harness, which
 * runs in the user's Python: data gilscope did not write), one JSON object
 * per line, parsed by jansson.
 *
 * Refused: anything but an object, content after it, duplicate keys,
 * \u0000 in a string, invalid UTF-8 (jansson's own checks); nesting is
 * bounded by jansson (JSON_PARSER_MAX_DEPTH). Input is bounded by its
 * length, not by a NUL.
 */
#ifndef GS_JMSG_H
#define GS_JMSG_H

#include <stddef.h>

#include <jansson.h>

/* The object, owned by the caller (json_decref), or NULL. */
json_t *jmsg_parse(const char *buf, size_t len);

/* A member's value as a string; NULL when absent, not a string, or msg is
 * NULL. */
const char *jmsg_str(const json_t *msg, const char *key);
/* A member's value as a number: 1 and *out, or 0 when it is none. */
int jmsg_num(const json_t *msg, const char *key, double *out);
/* Is a member `true`? */
int jmsg_true(const json_t *msg, const char *key);

#endif
