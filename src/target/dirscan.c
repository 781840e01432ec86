/*
 * dirscan.c - files by suffix under a directory; see dirscan.h.
 */
#include "dirscan.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/error.h"

struct walk {
	const char *suffix;
	size_t slen;
	int (*fn)(void *arg, const char *path);
	void *arg;
	size_t entries;
	int *truncated;
	int stop;
};

static void walk_dir(struct walk *w, char *path, size_t plen, int depth)
{
	DIR *d;
	struct dirent *de;

	if (depth > DIRSCAN_DEPTH) {
		*w->truncated = 1;
		return;
	}
	d = opendir(path);
	if (!d)
		return;
	while (!w->stop && (de = readdir(d)) != NULL) {
		size_t nlen = strlen(de->d_name);
		unsigned char type = de->d_type;

		if (++w->entries > DIRSCAN_ENTRIES) {
			*w->truncated = 1;
			w->stop = 1;
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (plen + 1 + nlen + 1 > PATH_MAX) {
			*w->truncated = 1;
			continue;
		}
		path[plen] = '/';
		memcpy(path + plen + 1, de->d_name, nlen + 1);
		if (type == DT_UNKNOWN) {
			struct stat st;

			if (lstat(path, &st))
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
		}
		if (type == DT_DIR)
			walk_dir(w, path, plen + 1 + nlen, depth + 1);
		else if (type == DT_REG && nlen >= w->slen &&
			 !strcmp(de->d_name + nlen - w->slen, w->suffix) && w->fn(w->arg, path))
			w->stop = 1;
		path[plen] = '\0';
	}
	closedir(d);
}

int dirscan(const char *root, const char *suffix, int (*fn)(void *arg, const char *path),
	    void *arg, int *truncated)
{
	char path[PATH_MAX];
	struct walk w;
	struct stat st;
	size_t len = strlen(root);

	*truncated = 0;
	if (len >= sizeof(path) || lstat(root, &st) || !S_ISDIR(st.st_mode))
		return GS_EIO;
	memcpy(path, root, len + 1);
	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	memset(&w, 0, sizeof(w));
	w.suffix = suffix;
	w.slen = strlen(suffix);
	w.fn = fn;
	w.arg = arg;
	w.truncated = truncated;
	walk_dir(&w, path, len, 0);
	return 0;
}

int dirscan_subdirs(const char *root, const char *suffix,
		    int (*fn)(void *arg, const char *name), void *arg)
{
	size_t slen = strlen(suffix), n = 0;
	struct dirent *de;
	DIR *d = opendir(root);

	if (!d)
		return GS_EIO;
	while ((de = readdir(d)) != NULL && ++n <= DIRSCAN_ENTRIES) {
		size_t nlen = strlen(de->d_name);

		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (nlen > slen && !strcmp(de->d_name + nlen - slen, suffix) && fn(arg, de->d_name))
			break;
	}
	closedir(d);
	return 0;
}
