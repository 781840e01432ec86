/*
 * afile.c - whole-or-nothing file writes; see afile.h.
 */
#include "afile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int gs_afile_open(struct gs_afile *a, const char *path, mode_t mode)
{
	int fd, n;

	memset(a, 0, sizeof(*a));
	n = snprintf(a->path, sizeof(a->path), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(a->path))
		return ENAMETOOLONG;
	n = snprintf(a->tmp, sizeof(a->tmp), "%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(a->tmp))
		return ENAMETOOLONG;
	a->mode = mode;
	fd = mkstemp(a->tmp);
	if (fd < 0)
		return errno ? errno : EIO;
	a->f = fdopen(fd, "wb");
	if (!a->f) {
		int e = errno ? errno : ENOMEM;

		close(fd);
		unlink(a->tmp);
		return e;
	}
	return 0;
}

int gs_afile_commit(struct gs_afile *a)
{
	int e = 0;

	if (!a->f)
		return EBADF;
	if (ferror(a->f) || fflush(a->f) || fsync(fileno(a->f)))
		e = errno ? errno : EIO;
	if (fclose(a->f) && !e)
		e = errno ? errno : EIO;
	a->f = NULL;
	/* mkstemp makes it 0600: the mode asked for (a file it replaces
	 * keeps its own); a failure leaves 0600, still usable */
	if (!e)
		(void)chmod(a->tmp, a->mode);
	if (!e && rename(a->tmp, a->path))
		e = errno ? errno : EIO;
	if (e)
		unlink(a->tmp);
	return e;
}

void gs_afile_abort(struct gs_afile *a)
{
	if (a->f) {
		fclose(a->f);
		a->f = NULL;
		unlink(a->tmp);
	}
}
