/*
 * afile.h - write a file whole or not at all: into a temporary file beside
 * it, flushed to disk, then renamed onto it. A reader never sees half a
 * report or half a snapshot, and a file being replaced stays intact until
 * the new one is complete. The one writer of reports and snapshots alike.
 */
#ifndef GS_AFILE_H
#define GS_AFILE_H

#include <stdio.h>
#include <sys/types.h>

#define GS_AFILE_PATH_MAX 4096

struct gs_afile {
	FILE *f;		/* write here */
	char tmp[GS_AFILE_PATH_MAX];
	char path[GS_AFILE_PATH_MAX];
	mode_t mode;
};

/* Start writing `path` (a regular file's final name; links already
 * resolved), to be given `mode` when committed. 0, or an errno value
 * (ENAMETOOLONG, EACCES, ...). */
int gs_afile_open(struct gs_afile *a, const char *path, mode_t mode);
/* Flush, sync, set the mode and rename into place; on failure nothing is
 * left behind. 0, or an errno value. */
int gs_afile_commit(struct gs_afile *a);
/* Give up: the temporary file is removed, `path` untouched. */
void gs_afile_abort(struct gs_afile *a);

#endif
