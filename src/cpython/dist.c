/*
 * dist.c - distribution names and RECORD rows; see dist.h.
 */
#include "dist.h"

#include <stdio.h>
#include <string.h>

#define SUFFIX ".dist-info"

int dist_from_dirname(const char *dirname, char *name, size_t namelen, char *version,
		      size_t versionlen)
{
	size_t len = strlen(dirname), slen = sizeof(SUFFIX) - 1, base;
	const char *dash;

	if (len <= slen || strcmp(dirname + len - slen, SUFFIX))
		return -1;
	base = len - slen;
	/* the name's '-' are escaped to '_' (PEP 427), so the first '-'
	 * ends it */
	dash = memchr(dirname, '-', base);
	if (!dash || dash == dirname || (size_t)(dash - dirname) + 1 >= base)
		return -1;
	snprintf(name, namelen, "%.*s", (int)(dash - dirname), dirname);
	snprintf(version, versionlen, "%.*s", (int)(base - (size_t)(dash - dirname) - 1), dash + 1);
	return 0;
}

void dist_record_paths(const char *buf, size_t len, size_t max_rows,
		       int (*fn)(void *arg, const char *path, size_t plen), void *arg)
{
	const char *p = buf, *end = buf + len;
	size_t rows = 0;

	while (p < end && rows++ < max_rows) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end, *f, *fend;

		if (p < eol && *p == '"') {
			/* a quoted path: up to the closing quote ("" inside one
			 * is rare enough in file names to cut it there) */
			f = p + 1;
			fend = memchr(f, '"', (size_t)(eol - f));
		} else {
			f = p;
			fend = memchr(f, ',', (size_t)(eol - f));
		}
		if (!fend)
			fend = eol;
		if (fend > f && fend[-1] == '\r')
			fend--;
		if (fend > f && fn(arg, f, (size_t)(fend - f)))
			return;
		if (!nl)
			break;
		p = nl + 1;
	}
}
