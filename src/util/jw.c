/* jw.c - the reports' streaming JSON writer; see jw.h. */
#include "jw.h"

#include <math.h>

void jw_init(struct jw *w, struct strbuf *sb, int lines)
{
	w->sb = sb;
	w->depth = 0;
	w->lines = lines;
	w->failed = 0;
	w->any[0] = 0;
	w->kind[0] = 0;
}

/* Everything that comes before a value: the comma, the line break, the key.
 * Returns 0 when the value may be written. */
static int member(struct jw *w, const char *key)
{
	int d = w->depth, k;

	if (w->failed)
		return -1;
	if (d == 0) {
		/* one value at the top, without a key */
		if (key || w->any[0]) {
			w->failed = 1;
			return -1;
		}
		w->any[0] = 1;
		return 0;
	}
	if ((w->kind[d] == '{') != (key != NULL)) {
		w->failed = 1;
		return -1;
	}
	if (w->any[d])
		strbuf_addch(w->sb, ',');
	if (d <= w->lines) {
		strbuf_addch(w->sb, '\n');
		for (k = 0; k < d; k++)
			strbuf_addch(w->sb, ' ');
	} else if (w->any[d] && w->lines >= 0) {
		strbuf_addch(w->sb, ' ');
	}
	w->any[d] = 1;
	if (key) {
		strbuf_add_json_str(w->sb, key);
		strbuf_addstr(w->sb, w->lines >= 0 ? ": " : ":");
	}
	return 0;
}

static void open_level(struct jw *w, const char *key, char kind)
{
	if (w->depth + 1 >= JW_MAX_DEPTH) {
		w->failed = 1;
		return;
	}
	if (member(w, key))
		return;
	strbuf_addch(w->sb, kind);
	w->depth++;
	w->kind[w->depth] = kind;
	w->any[w->depth] = 0;
}

void jw_obj(struct jw *w, const char *key)
{
	open_level(w, key, '{');
}

void jw_arr(struct jw *w, const char *key)
{
	open_level(w, key, '[');
}

void jw_end(struct jw *w)
{
	int d = w->depth, k;

	if (w->failed)
		return;
	if (d == 0) {
		w->failed = 1;
		return;
	}
	/* a level whose members had lines of their own closes on one too */
	if (w->any[d] && d <= w->lines) {
		strbuf_addch(w->sb, '\n');
		for (k = 0; k < d - 1; k++)
			strbuf_addch(w->sb, ' ');
	}
	strbuf_addch(w->sb, w->kind[d] == '{' ? '}' : ']');
	w->depth--;
}

void jw_str(struct jw *w, const char *key, const char *s)
{
	if (member(w, key))
		return;
	if (s)
		strbuf_add_json_str(w->sb, s);
	else
		strbuf_addstr(w->sb, "null");
}

void jw_int(struct jw *w, const char *key, long long v)
{
	if (!member(w, key))
		strbuf_addf(w->sb, "%lld", v);
}

void jw_uint(struct jw *w, const char *key, unsigned long long v)
{
	if (!member(w, key))
		strbuf_addf(w->sb, "%llu", v);
}

void jw_fixed(struct jw *w, const char *key, double v, int decimals)
{
	if (member(w, key))
		return;
	if (!isfinite(v))
		strbuf_addstr(w->sb, "null");
	else
		strbuf_addf(w->sb, "%.*f", decimals < 0 ? 0 : decimals > 17 ? 17 : decimals, v);
}

void jw_sig(struct jw *w, const char *key, double v, int digits)
{
	if (member(w, key))
		return;
	if (!isfinite(v))
		strbuf_addstr(w->sb, "null");
	else
		strbuf_addf(w->sb, "%.*g", digits < 1 ? 1 : digits > 17 ? 17 : digits, v);
}

void jw_bool(struct jw *w, const char *key, int v)
{
	if (!member(w, key))
		strbuf_addstr(w->sb, v ? "true" : "false");
}

void jw_null(struct jw *w, const char *key)
{
	if (!member(w, key))
		strbuf_addstr(w->sb, "null");
}

void jw_raw(struct jw *w, const char *key, const struct strbuf *value)
{
	if (value->failed || !value->len) {
		w->failed = 1;
		return;
	}
	if (!member(w, key))
		strbuf_add(w->sb, value->buf, value->len);
}

int jw_close(struct jw *w)
{
	if (w->depth != 0 || !w->any[0])
		w->failed = 1;
	/* a misuse is a bug in the report: its caller, which checks the
	 * buffer once, must not write the half-made document */
	if (w->failed)
		w->sb->failed = 1;
	return w->sb->failed ? -1 : 0;
}

int jw_finish(struct jw *w)
{
	int ret = jw_close(w);

	strbuf_addch(w->sb, '\n');
	return ret || w->sb->failed ? -1 : 0;
}
