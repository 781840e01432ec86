/*
 * dist.h - which installed distribution a file belongs to, from the
 * packaging metadata beside it (PEP 376/627: <name>-<version>.dist-info/
 * RECORD lists every file a wheel installed, as CSV rows "path,hash,size",
 * paths relative to the site-packages directory). Pure: bytes in.
 */
#ifndef GS_DIST_H
#define GS_DIST_H

#include <stddef.h>

#define DIST_NAME_MAX 128
#define DIST_VERSION_MAX 64

/* "numpy-2.4.6.dist-info" -> "numpy", "2.4.6". 0, or -1 when the name is
 * not a dist-info directory's. */
int dist_from_dirname(const char *dirname, char *name, size_t namelen, char *version,
		      size_t versionlen);

/* Call fn(arg, path, len) for the path of each row of a RECORD file (the
 * first CSV field, quotes removed: not NUL-terminated); a non-zero return
 * stops. At most max_rows rows. */
void dist_record_paths(const char *buf, size_t len, size_t max_rows,
		       int (*fn)(void *arg, const char *path, size_t plen), void *arg);

#endif
