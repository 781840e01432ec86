/*
 * jw.h - the one JSON writer of the reports.
 *
 * A streaming writer over a strbuf: the caller opens objects and arrays and
 * puts members; the writer places the commas, the quotes and the escapes, so
 * no report spells JSON punctuation by hand. Keys are given with every member
 * of an object and must be NULL inside an array and at the top. Strings are
 * escaped as RFC 8259 asks and bytes that are not UTF-8 become U+FFFD, so text
 * read from a target (function names, file names) cannot break the document.
 * Numbers that JSON cannot hold (NaN, infinities) are written as null.
 *
 * Misuse (a key where none belongs, a missing key, too deep, an end with
 * nothing open) is recorded, not written; jw_finish() reports it together
 * with the strbuf's allocation failure, so a caller checks once at the end.
 *
 * Layout: members of the first `lines` levels start on their own line,
 * indented by one space per level; deeper ones follow on the same line,
 * after ", " (after "," and with ":" alone when `lines` is negative: the
 * compact form, for long arrays of numbers). Reading the document is the
 * same either way.
 */
#ifndef GS_JW_H
#define GS_JW_H

#include <stdint.h>

#include "strbuf.h"

#define JW_MAX_DEPTH 32

struct jw {
	struct strbuf *sb;
	int depth;
	int lines;
	int failed;
	/* per open level: '{' or '[', and whether a member was written */
	char kind[JW_MAX_DEPTH];
	unsigned char any[JW_MAX_DEPTH];
};

void jw_init(struct jw *w, struct strbuf *sb, int lines);

void jw_obj(struct jw *w, const char *key);
void jw_arr(struct jw *w, const char *key);
void jw_end(struct jw *w);

/* A NULL string is written as null. */
void jw_str(struct jw *w, const char *key, const char *s);
void jw_int(struct jw *w, const char *key, long long v);
void jw_uint(struct jw *w, const char *key, unsigned long long v);
/* Fixed decimals ("%.*f"): fractions, milliseconds. */
void jw_fixed(struct jw *w, const char *key, double v, int decimals);
/* Significant digits ("%.*g"): rates, intervals. */
void jw_sig(struct jw *w, const char *key, double v, int digits);
void jw_bool(struct jw *w, const char *key, int v);
void jw_null(struct jw *w, const char *key);

/* A value another writer made whole (its jw_close() returned 0), put in as
 * it is: for a part that must be written before the parts that precede it
 * in the document are known. */
void jw_raw(struct jw *w, const char *key, const struct strbuf *value);

/* 0 when the one value at the top was written and closed, nothing was
 * misused and every append succeeded; -1 otherwise (and the strbuf is
 * marked failed, so a caller that checks it writes nothing). */
int jw_close(struct jw *w);
/* jw_close() and a final newline: the end of a document. */
int jw_finish(struct jw *w);

#endif
