/*
 * maps.c - parse the text of /proc/PID/maps; see maps.h.
 *
 * A line is "start-end perms offset major:minor inode [path]". The kernel
 * pads before the path with spaces, escapes '\n' in paths (so a line is a
 * line) but not spaces, and appends " (deleted)" to unlinked files. The input
 * is treated as untrusted: each field is checked, and a line that does not
 * fit the shape is skipped rather than guessed at.
 */
#include "maps.h"

#include "../util/error.h"

#include <stdlib.h>
#include <string.h>

struct cursor {
	const char *p, *end;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* At least one digit, no overflow. */
static int parse_num(struct cursor *c, unsigned base, uint64_t *out)
{
	uint64_t v = 0;
	const char *start = c->p;

	while (c->p < c->end) {
		int d = base == 16 ? hexval(*c->p) : (*c->p >= '0' && *c->p <= '9' ? *c->p - '0' : -1);

		if (d < 0)
			break;
		if (v > (UINT64_MAX - (unsigned)d) / base)
			return -1;
		v = v * base + (unsigned)d;
		c->p++;
	}
	if (c->p == start)
		return -1;
	*out = v;
	return 0;
}

static int expect(struct cursor *c, char ch)
{
	if (c->p >= c->end || *c->p != ch)
		return -1;
	c->p++;
	return 0;
}

static int parse_perms(struct cursor *c, unsigned *perms)
{
	static const char want[4] = { 'r', 'w', 'x', 'p' };
	static const unsigned bit[4] = { MAP_R, MAP_W, MAP_X, MAP_P };
	int i;

	if (c->end - c->p < 4)
		return -1;
	*perms = 0;
	for (i = 0; i < 4; i++) {
		char ch = c->p[i];

		if (ch == want[i])
			*perms |= bit[i];
		else if (!(ch == '-' || (i == 3 && ch == 's')))
			return -1;
	}
	c->p += 4;
	return 0;
}

/* Parse one line (without its '\n') into e; the path is not yet copied. */
static int parse_line(const char *line, size_t len, struct map_entry *e,
		      const char **path, size_t *pathlen)
{
	static const char deleted[] = " (deleted)";
	const size_t dlen = sizeof(deleted) - 1;
	struct cursor c = { line, line + len };
	uint64_t major, minor;

	if (parse_num(&c, 16, &e->start) || expect(&c, '-') ||
	    parse_num(&c, 16, &e->end) || expect(&c, ' ') ||
	    parse_perms(&c, &e->perms) || expect(&c, ' ') ||
	    parse_num(&c, 16, &e->offset) || expect(&c, ' ') ||
	    parse_num(&c, 16, &major) || expect(&c, ':') ||
	    parse_num(&c, 16, &minor) || expect(&c, ' ') ||
	    parse_num(&c, 10, &e->inode))
		return -1;
	if (e->end <= e->start)
		return -1;
	if (c.p < c.end && *c.p != ' ')
		return -1;	/* junk glued to the inode */
	while (c.p < c.end && *c.p == ' ')
		c.p++;
	*path = c.p;
	*pathlen = (size_t)(c.end - c.p);
	e->deleted = 0;
	if (*pathlen > dlen && !memcmp(c.end - dlen, deleted, dlen)) {
		*pathlen -= dlen;
		e->deleted = 1;
	}
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct map_entry *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int maps_parse(const char *buf, size_t len, struct maps *out)
{
	const char *p = buf, *end = buf ? buf + len : buf;
	struct maps m = { NULL, 0 };
	size_t cap = 0;
	int sorted = 1, ret;

	while (p < end && m.n < MAPS_MAX_ENTRIES) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		struct map_entry e = { 0 };
		const char *path;
		size_t pathlen;

		if (parse_line(p, (size_t)(eol - p), &e, &path, &pathlen))
			goto next;
		if (m.n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct map_entry *v = realloc(m.v, ncap * sizeof(*v));

			if (!v) {
				ret = GS_ENOMEM;
				goto out;
			}
			m.v = v;
			cap = ncap;
		}
		e.path = malloc(pathlen + 1);
		if (!e.path) {
			ret = GS_ENOMEM;
			goto out;
		}
		memcpy(e.path, path, pathlen);
		e.path[pathlen] = '\0';
		if (m.n && e.start < m.v[m.n - 1].start)
			sorted = 0;
		m.v[m.n++] = e;
next:
		if (!nl)
			break;
		p = nl + 1;
	}
	/* The kernel lists in address order; only odd input needs this. */
	if (!sorted)
		qsort(m.v, m.n, sizeof(*m.v), entry_cmp);
	*out = m;
	m.v = NULL;
	m.n = 0;
	ret = 0;
out:
	maps_release(&m);
	return ret;
}

void maps_release(struct maps *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

const struct map_entry *maps_find(const struct maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;
	const struct map_entry *e;

	/* The last entry starting at or below addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	e = &m->v[lo - 1];
	return addr < e->end ? e : NULL;
}

int maps_file_base(const struct maps *m, const char *path, uint64_t *base)
{
	const struct map_entry *best = NULL;
	size_t i;

	for (i = 0; i < m->n; i++) {
		const struct map_entry *e = &m->v[i];

		if (strcmp(e->path, path))
			continue;
		if (!best || e->offset < best->offset ||
		    (e->offset == best->offset && e->start < best->start))
			best = e;
	}
	if (!best)
		return GS_ENOTPY;	/* not mapped: same "absent" as elfsym_lookup */
	if (best->offset > best->start)
		return GS_CORRUPT("best->offset > best->start");
	*base = best->start - best->offset;
	return 0;
}
