/*
 * locate.h - find the CPython runtime inside a process: which ELF file
 * (the executable or a libpython) defines _PyRuntime, where it is loaded,
 * and which version it is.
 */
#ifndef GS_LOCATE_H
#define GS_LOCATE_H

#include <limits.h>

#include "model.h"
#include "../target/process.h"

struct py_found {
	struct py_location loc;
	char binary[PATH_MAX];	/* the file that defines _PyRuntime */
	char libpython[PATH_MAX]; /* "" when linked into the executable */
	char version[32];	/* what we could tell before reading memory */
};

/*
 * Returns 0; GS_ENOTPY when no mapped file defines _PyRuntime;
 * GS_EUNSUPPORTED when it does but the version is one we cannot read (the
 * version found is in found->version, e.g. "3.8.18").
 */
int py_locate(struct process *p, struct py_found *found);

/* Find "3.M.N..." ending in a NUL inside buf (the version
 * literal CPython keeps for Py_GetVersion), for the given minor. Pure. */
int py_version_from_bytes(const uint8_t *buf, size_t len, unsigned minor,
			  uint32_t *hex);

#endif
