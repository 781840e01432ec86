/*
 * dirscan.h - the files under a directory whose names end in a suffix
 * (`gilscope ft-check`: the extension modules of site-packages). Symbolic
 * links are not followed; depth, entries read and files found are bounded.
 */
#ifndef GS_DIRSCAN_H
#define GS_DIRSCAN_H

#include <stddef.h>

#define DIRSCAN_DEPTH 16
#define DIRSCAN_ENTRIES 500000	/* directory entries read, per scan */

/* Call fn(arg, path) for each regular file under root whose name ends in
 * suffix; a non-zero return stops the scan. *truncated is set when a bound
 * cut it short. 0, or GS_EIO when root cannot be opened. */
int dirscan(const char *root, const char *suffix, int (*fn)(void *arg, const char *path),
	    void *arg, int *truncated);

/* Call fn(arg, name) for each directory directly in root (not below)
 * whose name ends in suffix; at most DIRSCAN_ENTRIES entries are read.
 * 0, or GS_EIO when root cannot be opened. */
int dirscan_subdirs(const char *root, const char *suffix,
		    int (*fn)(void *arg, const char *name), void *arg);

#endif
