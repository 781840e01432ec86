/*
 * environ.c - /proc/PID/environ: read the bytes, then parse them.
 */
#include "environ.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/error.h"

int environ_get(const char *buf, size_t len, const char *key, const char **val, size_t *vlen)
{
	size_t klen = strlen(key), pos = 0;

	*val = NULL;
	*vlen = 0;
	if (!klen)
		return 0;
	while (pos < len) {
		const char *e = buf + pos;
		const char *nul = memchr(e, '\0', len - pos);
		size_t elen = nul ? (size_t)(nul - e) : len - pos;

		if (elen > klen && e[klen] == '=' && !memcmp(e, key, klen)) {
			*val = e + klen + 1;
			*vlen = elen - klen - 1;
			return 1;
		}
		pos += elen + 1;
	}
	return 0;
}

int environ_read(pid_t pid, char **out, size_t *outlen)
{
	char path[64], *buf = NULL, *nb;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, ret = 0;

	*out = NULL;
	*outlen = 0;
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? GS_ENOPROC :
		       errno == EACCES || errno == EPERM ? GS_EPERM : GS_EIO;
	for (;;) {
		if (len == cap) {
			if (cap >= ENVIRON_MAX) {
				ret = GS_ERANGE;
				break;
			}
			cap = cap ? cap * 2 : 16384;
			if (cap > ENVIRON_MAX)
				cap = ENVIRON_MAX;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				ret = GS_ENOMEM;
				break;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* the kernel checks ptrace access at read time */
			ret = errno == EACCES || errno == EPERM ? GS_EPERM :
			      errno == ESRCH ? GS_ENOPROC : GS_EIO;
			break;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (ret && ret != GS_ERANGE) {
		free(buf);
		return ret;
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return GS_ENOMEM;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return ret;
}
