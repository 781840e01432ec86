/*
 * maps.h - /proc/PID/maps, parsed from bytes.
 *
 * maps_parse() takes the file's contents, not a path, so it can be tested and
 * fuzzed. The result owns copies of the path strings.
 */
#ifndef GS_MAPS_H
#define GS_MAPS_H

#include <stddef.h>
#include <stdint.h>

#define MAPS_MAX_ENTRIES 65536

enum {
	MAP_R = 1,
	MAP_W = 2,
	MAP_X = 4,
	MAP_P = 8,	/* private (copy on write) */
};

struct map_entry {
	uint64_t start, end;	/* [start, end) */
	uint64_t offset;	/* file offset */
	uint64_t inode;
	unsigned perms;		/* MAP_* bits */
	char *path;		/* "" for anonymous; may be "[heap]" etc. */
	int deleted;		/* path ended in " (deleted)" (suffix stripped) */
};

struct maps {
	struct map_entry *v;
	size_t n;
};

/* Parse; malformed lines are skipped. Returns 0 or a negative gs_err. */
int maps_parse(const char *buf, size_t len, struct maps *out);
void maps_release(struct maps *m);
/* The entry containing addr, or NULL. */
const struct map_entry *maps_find(const struct maps *m, uint64_t addr);
/* Load bias of the ELF object mapped from `path`: the start of its first
 * mapping (lowest file offset) minus that mapping's file offset. Returns 0 on
 * success. The caller still subtracts the first PT_LOAD's p_vaddr page. */
int maps_file_base(const struct maps *m, const char *path, uint64_t *base);

#endif
