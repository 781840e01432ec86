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
/* Append s as XML character data or attribute value text (no quotes):
 * & < > " ' become entities; bytes that are not valid UTF-8, and characters
 * XML 1.0 forbids (C0 controls but tab, LF and CR; U+FFFE, U+FFFF), become
 * U+FFFD. The result is always well-formed. */
void strbuf_add_xml_str(struct strbuf *sb, const char *s);
/* Length (1..4) of the valid UTF-8 sequence starting at s, 0 when the bytes
 * there are not one (overlong, surrogate, truncated, past U+10FFFF). Reads
 * no further than the first byte that breaks the sequence, so a NUL ends it. */
size_t utf8_seq_len(const char *s);
/* NUL-terminated view of the contents (never NULL). */
const char *strbuf_str(struct strbuf *sb);

#endif
