/*
 * environ.h - a process's initial environment, /proc/PID/environ: the
 * NUL-separated "KEY=value" strings it was started with (what the kernel
 * copied to its stack at exec; later setenv() calls do not show).
 *
 * environ_get() parses bytes and is unit-tested; environ_read() fetches
 * them.
 */
#ifndef GS_ENVIRON_H
#define GS_ENVIRON_H

#include <stddef.h>
#include <sys/types.h>

#define ENVIRON_MAX (4u << 20)	/* bytes read at most */

/*
 * Look `key` up in the environment block buf[0..len). Returns 1 and points
 * *val / *vlen at the value (inside buf, not NUL-terminated when it is the
 * last, unterminated entry), or 0 when the key is absent. The first
 * occurrence wins, as for getenv(). Entries without '=' are skipped; an
 * empty key never matches.
 */
int environ_get(const char *buf, size_t len, const char *key, const char **val, size_t *vlen);

/*
 * Read /proc/PID/environ into a buffer the caller frees. Returns 0, or
 * GS_ENOPROC / GS_EPERM / GS_EIO; GS_ERANGE past ENVIRON_MAX (the first
 * ENVIRON_MAX bytes are still returned).
 */
int environ_read(pid_t pid, char **buf, size_t *len);

#endif
