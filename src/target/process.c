/*
 * process.c - attach to a process for reading: existence and permission
 * checks, memory map, executable path, live reader.
 */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access.h"
#include "procfs.h"
#include "../util/error.h"

#define MAPS_READ_MAX (64u << 20)

int process_alive(pid_t pid)
{
	char path[64], buf[512];
	struct proc_stat st;
	long n;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = procfs_read_file(path, buf, sizeof(buf));
	if (n == GS_ENOPROC)
		return 0;
	if (n > 0 && !procfs_parse_stat(buf, (size_t)n, &st) &&
	    (st.state == 'Z' || st.state == 'X'))
		return 0;
	return 1;
}

int process_execd(pid_t pid)
{
	char path[64], buf[64];
	long n;

	if (!process_alive(pid))
		return 0;
	/* Between the last thread dropping its memory and becoming a zombie,
	 * an exiting process is still alive but has no mappings at all; a
	 * process that exec'd has its new program's. */
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	n = procfs_read_file(path, buf, sizeof(buf));
	return n > 0 || n == GS_ERANGE;	/* GS_ERANGE: more than fits here */
}

int process_image_gone(struct process *p)
{
	uint8_t b;
	ssize_t n;

	if (!p->have_memfd)
		return 0;
	/* The kernel reads through the mm the descriptor was opened on; once
	 * no task uses it any more (exit, or exec which gives the pid a new
	 * one) every read ends at once with 0 bytes. An unmapped address is
	 * EIO instead, so a probe address unmapped since is no false alarm. */
	do
		n = pread(p->memfd, &b, 1, (off_t)p->probe_addr);
	while (n < 0 && errno == EINTR);
	return n == 0;
}

/* Read /proc/PID/maps whole; it can be large (thousands of threads' stacks). */
static int read_maps(pid_t pid, char **out, size_t *outlen)
{
	char path[64];
	size_t cap = 1 << 16, len = 0;
	char *buf = NULL, *nb;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? GS_ENOPROC :
		       (errno == EACCES || errno == EPERM) ? GS_EPERM : GS_EIO;
	buf = malloc(cap);
	if (!buf) {
		ret = GS_ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			if (cap >= MAPS_READ_MAX) {
				ret = GS_ERANGE;
				goto out;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				ret = GS_ENOMEM;
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = (errno == EACCES || errno == EPERM) ? GS_EPERM :
			      errno == ESRCH ? GS_EEXITED : GS_EIO;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return ret;
}

int process_refresh_maps(struct process *p)
{
	struct maps m = { 0 };
	char *buf = NULL;
	size_t len = 0;
	int ret;

	ret = read_maps(p->pid, &buf, &len);
	if (ret)
		return ret;
	/* An empty maps file means a zombie or a kernel thread. */
	if (!len) {
		free(buf);
		return process_alive(p->pid) ? GS_ENOTPY : GS_EEXITED;
	}
	ret = maps_parse(buf, len, &m);
	free(buf);
	if (ret)
		return ret;
	maps_release(&p->maps);
	p->maps = m;
	return 0;
}

int process_attach(pid_t pid, struct process *p)
{
	char path[64];
	ssize_t n;
	int ret;
	uint64_t probe;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	if (pid <= 0)
		return GS_ENOPROC;
	{
		/* a /proc of another PID namespace would pair the pid with
		 * another process than process_vm_readv and kill(2) do */
		struct access_facts f;

		ret = access_check_procfs(&f);
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (access(path, F_OK) < 0 || !process_alive(pid))
		return GS_ENOPROC;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, p->exe, sizeof(p->exe) - 1);
	if (n < 0) {
		ret = errno == ENOENT ? (process_alive(pid) ? GS_ENOTPY : GS_ENOPROC) :
		      (errno == EACCES || errno == EPERM) ? GS_EPERM : GS_EIO;
		goto fail;
	}
	p->exe[n] = '\0';
	if (n > 10 && !strcmp(p->exe + n - 10, " (deleted)")) {
		p->exe[n - 10] = '\0';
		p->exe_deleted = 1;
	}

	ret = process_refresh_maps(p);
	if (ret)
		goto fail;
	ret = reader_live_open(pid, &p->reader);
	if (ret)
		goto fail;
	/* Prove we can read: the first readable mapping. */
	for (i = 0; i < p->maps.n; i++) {
		if (p->maps.v[i].perms & MAP_R)
			break;
	}
	if (i == p->maps.n) {
		ret = GS_ENOTPY;
		goto fail;
	}
	ret = reader_read_u64(p->reader, p->maps.v[i].start, &probe);
	if (ret == GS_EFAULT)
		ret = 0;	/* e.g. a guard page with r perms; not a permission problem */
	if (ret)
		goto fail;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	p->memfd = open(path, O_RDONLY | O_CLOEXEC);
	p->have_memfd = p->memfd >= 0;
	p->probe_addr = p->maps.v[i].start;
	return 0;
fail:
	process_release(p);
	return ret;
}

void process_release(struct process *p)
{
	if (p->reader)
		reader_free(p->reader);
	p->reader = NULL;
	if (p->have_memfd)
		close(p->memfd);
	p->have_memfd = 0;
	maps_release(&p->maps);
}

int process_map_file_path(const struct process *p, const struct map_entry *e,
			  char *out, size_t outlen)
{
	int n;

	n = snprintf(out, outlen, "/proc/%d/map_files/%llx-%llx", (int)p->pid,
		     (unsigned long long)e->start, (unsigned long long)e->end);
	if (n > 0 && (size_t)n < outlen && access(out, R_OK) == 0)
		return 0;
	if (e->path[0] == '/') {
		n = snprintf(out, outlen, "/proc/%d/root%s", (int)p->pid, e->path);
		if (n > 0 && (size_t)n < outlen && access(out, R_OK) == 0)
			return 0;
		n = snprintf(out, outlen, "%s", e->path);
		if (n > 0 && (size_t)n < outlen && access(out, R_OK) == 0)
			return 0;
	}
	return GS_ENOPROC;
}

int process_pidns_nested(const struct process *p)
{
	char path[64], buf[2048];
	int32_t inner;
	int levels;
	long n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)p->pid);
	n = procfs_read_file(path, buf, sizeof(buf));
	return n > 0 && !procfs_parse_nspid(buf, (size_t)n, &inner, &levels) && levels > 1;
}
