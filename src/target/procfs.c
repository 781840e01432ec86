/*
 * procfs.c - parsers for the per-thread /proc files the sampler reads each
 * sample, and the small helpers that fetch them; see procfs.h.
 *
 * Parsers take (bytes, length) and never assume a terminating NUL. Reading
 * is kept separate so the parsers can be fed recorded or fuzzed text.
 */
#include "procfs.h"

#include "../util/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cursor {
	const char *p, *end;
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The next whitespace-separated token; 0 if there is one. */
static int next_token(struct cursor *c, const char **tok, size_t *len)
{
	while (c->p < c->end && is_space(*c->p))
		c->p++;
	if (c->p >= c->end)
		return -1;
	*tok = c->p;
	while (c->p < c->end && !is_space(*c->p))
		c->p++;
	*len = (size_t)(c->p - *tok);
	return 0;
}

static int digit(char c, unsigned base)
{
	int d;

	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'f')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		d = c - 'A' + 10;
	else
		return -1;
	return (unsigned)d < base ? d : -1;
}

/* A whole token as an unsigned number; hex may carry a 0x prefix. */
static int tok_u64(const char *s, size_t len, unsigned base, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (base == 16 && len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		i = 2;
	if (i == len)
		return -1;
	for (; i < len; i++) {
		int d = digit(s[i], base);

		if (d < 0 || v > (UINT64_MAX - (unsigned)d) / base)
			return -1;
		v = v * base + (unsigned)d;
	}
	*out = v;
	return 0;
}

static int tok_long(const char *s, size_t len, long *out)
{
	uint64_t v;
	int neg = len && s[0] == '-';

	if (tok_u64(s + neg, len - (size_t)neg, 10, &v) || v > (uint64_t)LONG_MAX)
		return -1;
	*out = neg ? -(long)v : (long)v;
	return 0;
}

static const char *mem_rchr(const char *p, size_t len, char c)
{
	while (len--)
		if (p[len] == c)
			return p + len;
	return NULL;
}

/*
 * Fields after the comm, counted from 0: 0 state, 1 ppid, 2 pgrp, 11 utime,
 * 12 stime, 19 starttime, 36 processor (fields 3, 4, 5, 14, 15, 22 and 39
 * of proc(5)).
 */
#define STAT_PPID 1
#define STAT_PGRP 2
#define STAT_UTIME 11
#define STAT_STIME 12
#define STAT_STARTTIME 19
#define STAT_PROCESSOR 36

int procfs_parse_stat(const char *buf, size_t len, struct proc_stat *out)
{
	const char *lp, *rp, *tok;
	struct cursor c;
	size_t toklen, n;
	int field;

	memset(out, 0, sizeof(*out));
	out->processor = -1;
	if (!buf)
		return GS_CORRUPT("!buf");
	/* comm is arbitrary bytes up to 16, including ')': take the last one. */
	lp = memchr(buf, '(', len);
	if (!lp)
		return GS_CORRUPT("!lp");
	rp = mem_rchr(lp + 1, len - (size_t)(lp + 1 - buf), ')');
	if (!rp)
		return GS_CORRUPT("!rp");
	n = (size_t)(rp - lp - 1);
	if (n > sizeof(out->comm) - 1)
		n = sizeof(out->comm) - 1;
	memcpy(out->comm, lp + 1, n);
	out->comm[n] = '\0';

	c.p = rp + 1;
	c.end = buf + len;
	for (field = 0; !next_token(&c, &tok, &toklen); field++) {
		uint64_t v;

		switch (field) {
		case 0:
			if (toklen != 1)
				return GS_CORRUPT("toklen != 1");
			out->state = tok[0];
			break;
		case STAT_PPID:
		case STAT_PGRP:
			if (tok_u64(tok, toklen, 10, &v) || v > INT32_MAX)
				return GS_CORRUPT("tok_u64(tok, toklen, 10, &v) || v > INT32_MAX");
			if (field == STAT_PPID)
				out->ppid = (pid_t)v;
			else
				out->pgrp = (pid_t)v;
			break;
		case STAT_STARTTIME:
			if (!tok_u64(tok, toklen, 10, &v))
				out->starttime = v;
			break;
		case STAT_UTIME:
		case STAT_STIME:
			if (tok_u64(tok, toklen, 10, &v))
				return GS_CORRUPT("tok_u64(tok, toklen, 10, &v)");
			if (field == STAT_UTIME)
				out->utime = v;
			else
				out->stime = v;
			break;
		case STAT_PROCESSOR:
			if (!tok_u64(tok, toklen, 10, &v) && v <= INT32_MAX)
				out->processor = (int)v;
			return 0;
		}
	}
	return field > STAT_STIME ? 0 : GS_ECORRUPT;
}

int procfs_parse_syscall(const char *buf, size_t len, struct proc_syscall *out)
{
	struct cursor c = { buf, buf ? buf + len : buf };
	const char *tok;
	size_t toklen;
	uint64_t v[8];
	int i, want;

	memset(out, 0, sizeof(*out));
	out->nr = -1;
	if (!buf || next_token(&c, &tok, &toklen))
		return GS_CORRUPT("!buf || next_token(&c, &tok, &toklen)");
	if (toklen == 7 && !memcmp(tok, "running", 7)) {
		out->running = 1;
		return 0;
	}
	if (tok_long(tok, toklen, &out->nr))
		return GS_CORRUPT("tok_long(tok, toklen, &out->nr)");
	/* In a system call: six arguments, sp, pc. Blocked outside: sp, pc. */
	want = out->nr >= 0 ? 8 : 2;
	for (i = 0; i < want; i++)
		if (next_token(&c, &tok, &toklen) || tok_u64(tok, toklen, 16, &v[i]))
			return GS_CORRUPT("next_token(&c, &tok, &toklen) || tok_u64(tok, toklen, 16, &v[i])");
	if (want == 8)
		memcpy(out->args, v, sizeof(out->args));
	out->sp = v[want - 2];
	out->pc = v[want - 1];
	return 0;
}

int procfs_parse_schedstat(const char *buf, size_t len, struct proc_schedstat *out)
{
	struct cursor c = { buf, buf ? buf + len : buf };
	uint64_t v[3];
	const char *tok;
	size_t toklen;
	int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < 3; i++)
		if (next_token(&c, &tok, &toklen) || tok_u64(tok, toklen, 10, &v[i]))
			return GS_CORRUPT("next_token(&c, &tok, &toklen) || tok_u64(tok, toklen, 10, &v[i])");
	out->run_ns = v[0];
	out->wait_ns = v[1];
	out->slices = v[2];
	return 0;
}

int procfs_parse_nspid(const char *buf, size_t len, int32_t *inner, int *levels)
{
	char line[128];
	const char *q;
	int n = 0;

	if (procfs_status_field(buf, len, "NSpid", line, sizeof(line)))
		return GS_CORRUPT("no NSpid line in status");
	for (q = line; *q;) {
		long v = 0;
		int digits = 0;

		while (*q == ' ' || *q == '\t')
			q++;
		if (!*q)
			break;
		while (*q >= '0' && *q <= '9' && digits < 10) {
			v = v * 10 + (*q++ - '0');
			digits++;
		}
		if (!digits || v <= 0 || v > INT32_MAX || (*q && *q != ' ' && *q != '\t'))
			return GS_CORRUPT("an NSpid value that is no process id");
		*inner = (int32_t)v;
		n++;
	}
	if (!n)
		return GS_CORRUPT("an empty NSpid line");
	*levels = n;
	return 0;
}

int procfs_status_field(const char *buf, size_t len, const char *key,
			char *out, size_t outlen)
{
	size_t keylen = strlen(key);
	const char *p = buf, *end = buf ? buf + len : buf;

	if (!outlen)
		return GS_ERANGE;
	out[0] = '\0';
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		if ((size_t)(eol - p) > keylen && !memcmp(p, key, keylen) &&
		    p[keylen] == ':') {
			const char *v = p + keylen + 1;
			size_t n;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			while (eol > v && is_space(eol[-1]))
				eol--;
			n = (size_t)(eol - v);
			if (n > outlen - 1)
				n = outlen - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return 0;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return GS_CORRUPT("the field was not found");
}

/*
 * A thread or process that is gone shows as ENOENT when opening and as ESRCH
 * when reading a descriptor opened earlier; both mean "no such process".
 */
static int errno_to_gs(int e)
{
	switch (e) {
	case ENOENT:
	case ESRCH:
		return GS_ENOPROC;
	case EPERM:
	case EACCES:
		return GS_EPERM;
	case ENOMEM:
		return GS_ENOMEM;
	default:
		return GS_EIO;
	}
}

/*
 * Fill buf from offset 0. A file that does not fit is an error, not a
 * silently truncated result a parser would take as whole.
 */
long procfs_pread(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	char extra;
	ssize_t n;

	if (!cap)
		return GS_ERANGE;
	while (got < cap - 1) {
		n = pread(fd, buf + got, cap - 1 - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf[got] = '\0';
			return errno_to_gs(errno);
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	if (got == cap - 1) {
		do
			n = pread(fd, &extra, 1, (off_t)got);
		while (n < 0 && errno == EINTR);
		if (n > 0)
			return GS_ERANGE;
	}
	return (long)got;
}

long procfs_pread_small(int fd, char *buf, size_t cap)
{
	ssize_t n;

	if (cap < 2)
		return GS_ERANGE;
	do
		n = pread(fd, buf, cap - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		buf[0] = '\0';
		return errno_to_gs(errno);
	}
	/* These files are made whole at the first read, so a short read is
	 * the whole file; a full buffer may not be. */
	if ((size_t)n == cap - 1)
		return procfs_pread(fd, buf, cap);
	buf[n] = '\0';
	return (long)n;
}

int procfs_task_dir(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? errno_to_gs(errno) : fd;
}

int procfs_task_open(int task_dir, pid_t tid, const char *name)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "%d/%s", (int)tid, name);
	fd = openat(task_dir, path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? errno_to_gs(errno) : fd;
}

long procfs_read_file(const char *path, char *buf, size_t cap)
{
	long ret;
	int fd;

	if (!cap)
		return GS_ERANGE;
	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno_to_gs(errno);
	ret = procfs_pread(fd, buf, cap);
	close(fd);
	return ret;
}

static int tid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The numeric entries of a /proc directory. More than `max` is GS_ERANGE
 * rather than a silently partial list: the caller decides whether to retry
 * with more room.
 */
static long list_numeric(const char *path, pid_t *ids, size_t max)
{
	struct dirent *de;
	size_t n = 0;
	long ret;
	DIR *d;

	d = opendir(path);
	if (!d)
		return errno_to_gs(errno);
	for (;;) {
		uint64_t v;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno) {
				ret = errno_to_gs(errno);
				goto out;
			}
			break;
		}
		if (tok_u64(de->d_name, strlen(de->d_name), 10, &v) || !v ||
		    v > INT32_MAX)
			continue;	/* ".", "..", "self", ... */
		if (n == max) {
			ret = GS_ERANGE;
			goto out;
		}
		ids[n++] = (pid_t)v;
	}
	if (n > 1)
		qsort(ids, n, sizeof(*ids), tid_cmp);
	ret = (long)n;
out:
	closedir(d);
	return ret;
}

long procfs_list_tasks(pid_t pid, pid_t *tids, size_t max)
{
	char path[64];

	if (pid <= 0)
		return GS_ENOPROC;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	return list_numeric(path, tids, max);
}

long procfs_list_pids(pid_t *pids, size_t max)
{
	return list_numeric("/proc", pids, max);
}

int procfs_read_stat(pid_t pid, struct proc_stat *out)
{
	char path[64], buf[1024];
	long n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = procfs_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return procfs_parse_stat(buf, (size_t)n, out);
}
