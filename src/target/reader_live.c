/*
 * reader_live.c - the live backend of struct reader: another process's memory
 * through process_vm_readv(2), with pread(2) on /proc/PID/mem as fallback.
 *
 * process_vm_readv is one system call per read and needs no open file, but it
 * may be missing (ENOSYS), filtered by a container's seccomp profile (EPERM)
 * or stop early at a page it cannot fault in. /proc/PID/mem is opened once at
 * attach so the fallback costs no open() per read, and opening it doubles as
 * the permission check: both paths need the same ptrace access.
 */
#include "reader.h"

#include "../util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

struct live_reader {
	struct reader r;	/* first, so a struct reader * converts back */
	pid_t pid;
	int memfd;
	int pread_only;		/* process_vm_readv is unavailable to us */
	int refused;		/* the errno that said so (ENOSYS, EPERM), or 0 */
};

static int errno_to_gs(int e)
{
	switch (e) {
	case ESRCH:
		return GS_EEXITED;
	case EPERM:
	case EACCES:
		return GS_EPERM;
	case EFAULT:
	case EIO:
		return GS_EFAULT;
	case ENOMEM:
		return GS_ENOMEM;
	default:
		return GS_EGENERIC;
	}
}

static int live_pread(struct live_reader *lr, uint64_t addr, uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len) {
		/*
		 * The kernel treats /proc/PID/mem offsets as unsigned, but off_t
		 * is signed and user space never lives that high anyway.
		 */
		if (addr > INT64_MAX)
			return GS_EFAULT;
		n = pread(lr->memfd, buf, len, (off_t)addr);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno_to_gs(errno);
		}
		/*
		 * Unmapped memory gives EIO; end of file means the address space
		 * the descriptor was opened on is gone (exit or execve).
		 */
		if (n == 0)
			return GS_EEXITED;
		buf += n;
		addr += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int live_read(struct reader *r, uint64_t addr, void *buf, size_t len)
{
	struct live_reader *lr = (struct live_reader *)r;
	struct iovec local, remote;
	ssize_t n = 0;

	if (!lr->pread_only) {
		local.iov_base = buf;
		local.iov_len = len;
		remote.iov_base = (void *)(uintptr_t)addr;
		remote.iov_len = len;
		n = process_vm_readv(lr->pid, &local, 1, &remote, 1, 0);
		if (n == (ssize_t)len)
			return 0;
		if (n < 0) {
			switch (errno) {
			case ENOSYS:
			case EPERM:
				/* Will not get better: use /proc/PID/mem from now on. */
				lr->pread_only = 1;
				lr->refused = errno;
				break;
			default:
				return errno_to_gs(errno);
			}
			n = 0;
		}
		/* A partial read: let /proc/PID/mem try the rest. */
	}
	return live_pread(lr, addr + (uint64_t)n, (uint8_t *)buf + n, len - (size_t)n);
}

/* Up to LIVE_IOV ranges per system call; the ones a partial transfer did
 * not reach are read one by one (so each gets its own verdict). */
#define LIVE_IOV 256

static int live_readv(struct reader *r, struct reader_iov *iov, size_t n)
{
	struct live_reader *lr = (struct live_reader *)r;
	struct iovec local[LIVE_IOV], remote[LIVE_IOV];
	size_t i, j, k, done;
	int ret = 0;
	ssize_t got;

	for (i = 0; i < n; i += k) {
		k = n - i < LIVE_IOV ? n - i : LIVE_IOV;
		got = -1;
		if (!lr->pread_only) {
			for (j = 0; j < k; j++) {
				local[j].iov_base = iov[i + j].buf;
				local[j].iov_len = iov[i + j].err ? 0 : iov[i + j].len;
				remote[j].iov_base = (void *)(uintptr_t)iov[i + j].addr;
				remote[j].iov_len = local[j].iov_len;
			}
			got = process_vm_readv(lr->pid, local, k, remote, k, 0);
			if (got < 0 && (errno == ENOSYS || errno == EPERM)) {
				lr->pread_only = 1;
				lr->refused = errno;
			}
		}
		/* ranges the transfer covered whole are done; the rest (a fault
		 * ends the transfer there) get a read of their own */
		done = got > 0 ? (size_t)got : 0;
		for (j = 0; j < k; j++) {
			struct reader_iov *v = &iov[i + j];

			if (v->err || !v->len) {
				/* already failed (a range that wraps), or empty */
			} else if (done >= v->len && got >= 0) {
				done -= v->len;
			} else {
				done = 0;
				got = -1;
				v->err = live_read(r, v->addr, v->buf, v->len);
			}
			if (v->err && !ret)
				ret = v->err;
		}
	}
	return ret;
}

static void live_free(struct reader *r)
{
	struct live_reader *lr = (struct live_reader *)r;

	if (lr->memfd >= 0)
		close(lr->memfd);
	free(lr);
}

static const struct reader_ops live_ops = {
	.read = live_read,
	.free = live_free,
	.readv = live_readv,
};

int reader_live_refused(const struct reader *r)
{
	if (!r || r->ops != &live_ops)
		return 0;
	return ((const struct live_reader *)r)->refused;
}

int reader_live_open(pid_t pid, struct reader **out)
{
	struct live_reader *lr = NULL;
	char path[64];
	struct stat st;
	int ret;

	*out = NULL;
	if (pid <= 0)
		return GS_ENOPROC;
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (stat(path, &st) < 0)
		return errno == ENOENT || errno == ESRCH ? GS_ENOPROC : errno_to_gs(errno);

	lr = calloc(1, sizeof(*lr));
	if (!lr)
		return GS_ENOMEM;
	lr->r.ops = &live_ops;
	lr->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	lr->memfd = open(path, O_RDONLY | O_CLOEXEC);
	if (lr->memfd < 0) {
		switch (errno) {
		case ENOENT:
		case ESRCH:
			ret = GS_ENOPROC;	/* exited since the stat() */
			break;
		default:
			ret = errno_to_gs(errno);
			break;
		}
		goto out;
	}
	*out = &lr->r;
	lr = NULL;
	ret = 0;
out:
	if (lr)
		live_free(&lr->r);
	return ret;
}
