/* strbuf.c - growable byte buffer; see strbuf.h. */
#include "strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->failed = 0;
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

static int grow(struct strbuf *sb, size_t extra)
{
	size_t need, cap;
	char *p;

	if (sb->failed)
		return -1;
	if (extra > SIZE_MAX / 2 - sb->len - 1)
		goto fail;
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap *= 2;
	p = realloc(sb->buf, cap);
	if (!p)
		goto fail;
	sb->buf = p;
	sb->cap = cap;
	return 0;
fail:
	sb->failed = 1;
	return -1;
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	if (grow(sb, len))
		return;
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, char c)
{
	strbuf_add(sb, &c, 1);
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || grow(sb, (size_t)n))
		return;
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

size_t utf8_seq_len(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[0];
	size_t n, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) {
		n = 2;
		cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void strbuf_add_json_str(struct strbuf *sb, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	strbuf_addch(sb, '"');
	while (*s) {
		size_t n;

		switch (*s) {
		case '"': strbuf_addstr(sb, "\\\""); s++; continue;
		case '\\': strbuf_addstr(sb, "\\\\"); s++; continue;
		case '\n': strbuf_addstr(sb, "\\n"); s++; continue;
		case '\r': strbuf_addstr(sb, "\\r"); s++; continue;
		case '\t': strbuf_addstr(sb, "\\t"); s++; continue;
		default: break;
		}
		if (*s < 0x20) {
			strbuf_addf(sb, "\\u%04x", *s);
			s++;
			continue;
		}
		n = utf8_seq_len((const char *)s);
		if (!n) {
			strbuf_addstr(sb, "\\ufffd");
			s++;
			continue;
		}
		strbuf_add(sb, s, n);
		s += n;
	}
	strbuf_addch(sb, '"');
}

void strbuf_add_xml_str(struct strbuf *sb, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		size_t n;

		switch (*s) {
		case '&': strbuf_addstr(sb, "&amp;"); s++; continue;
		case '<': strbuf_addstr(sb, "&lt;"); s++; continue;
		case '>': strbuf_addstr(sb, "&gt;"); s++; continue;
		case '"': strbuf_addstr(sb, "&quot;"); s++; continue;
		case '\'': strbuf_addstr(sb, "&apos;"); s++; continue;
		case '\t': case '\n': case '\r': strbuf_addch(sb, (char)*s); s++; continue;
		default: break;
		}
		n = *s < 0x20 ? 0 : utf8_seq_len((const char *)s);
		/* U+FFFE and U+FFFF (EF BF BE, EF BF BF) are not XML characters */
		if (n == 3 && s[0] == 0xef && s[1] == 0xbf && s[2] >= 0xbe) {
			strbuf_addstr(sb, "\xef\xbf\xbd");
			s += 3;
			continue;
		}
		if (!n) {
			strbuf_addstr(sb, "\xef\xbf\xbd");
			s++;
			continue;
		}
		strbuf_add(sb, s, n);
		s += n;
	}
}

const char *strbuf_str(struct strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}
