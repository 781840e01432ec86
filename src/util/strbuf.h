/*
 * strbuf.h - a growable byte buffer for building output text.
 *
 * The buffer owns its memory; strbuf_release() frees it and leaves an empty,
 * reusable buffer. Appends never fail silently: on allocation failure the
 * buffer records it in `failed` and later appends are ignored, so a caller
 * checks once at the end.
 */
#ifndef GS_STRBUF_H
#define GS_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
	int failed;
};

#define STRBUF_INIT { 0 }

void strbuf_release(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Append s as a JSON string literal (with quotes), escaping as RFC 8259 asks;
 * invalid UTF-8 bytes become U+FFFD. */
void strbuf_add_json_str(struct strbuf *sb, const char *s);
/* NUL-terminated view of the contents (never NULL). */
const char *strbuf_str(struct strbuf *sb);

#endif
