/*
 * reader.h - reading another process's memory, from whatever backend.
 *
 * Everything above target/ reads target memory only through a struct reader,
 * so the interpreter model can run against a live process, a recorded
 * snapshot (tests), or a fuzzer's bytes, and never knows which.
 *
 * Backends:
 *   live      process_vm_readv(2), falling back to pread(2) on /proc/PID/mem
 *   snapshot  a set of (address, bytes) regions, from a buffer or a file
 *   recorder  wraps another reader and remembers every range it served, so a
 *             walk over a live process can be saved as a snapshot
 *
 * A read is all-or-nothing: it returns 0 with `len` bytes filled in, or a
 * negative gs_err (GS_EFAULT for memory that is not there, GS_EEXITED when the
 * process is gone, GS_EPERM when not allowed). The reader owns nothing of the
 * caller's; reader_free() releases the backend.
 */
#ifndef GS_READER_H
#define GS_READER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct reader;

/* One piece of a batched read: reader_readv() sets err to 0 when the
 * whole range was read, or to the gs_err of that piece. */
struct reader_iov {
	uint64_t addr;
	void *buf;
	size_t len;
	int err;
};

struct reader_ops {
	int (*read)(struct reader *r, uint64_t addr, void *buf, size_t len);
	void (*free)(struct reader *r);
	/* optional: many ranges in one go (the live backend: one system call) */
	int (*readv)(struct reader *r, struct reader_iov *iov, size_t n);
};

struct reader {
	const struct reader_ops *ops;
	uint64_t nreads;	/* reads served (successful or not) */
	uint64_t nbytes;	/* bytes asked for */
};

int reader_read(struct reader *r, uint64_t addr, void *buf, size_t len);
/* Read n ranges, each all-or-nothing as reader_read() (iov[i].err says
 * which came through). Returns 0 when all did, else the first error. A
 * backend without a batched path reads them one by one. */
int reader_readv(struct reader *r, struct reader_iov *iov, size_t n);
/* Convenience: read one little-endian pointer-sized / fixed-size value. */
int reader_read_u64(struct reader *r, uint64_t addr, uint64_t *out);
int reader_read_u32(struct reader *r, uint64_t addr, uint32_t *out);
int reader_read_i32(struct reader *r, uint64_t addr, int32_t *out);
void reader_free(struct reader *r);

/* Live process. Fails with GS_ENOPROC / GS_EPERM as appropriate. */
int reader_live_open(pid_t pid, struct reader **out);
/* The errno (ENOSYS, EPERM) with which process_vm_readv was refused, after
 * which the live reader `r` reads through /proc/PID/mem: 0 while it was
 * not (or `r` is no live reader). The read that met the refusal succeeded
 * through /proc/PID/mem, so it is the cost, not an error. */
int reader_live_refused(const struct reader *r);

/*
 * Snapshot file format (all integers little-endian):
 *   magic   "GSSNAP01"                     8 bytes
 *   u32     meta_len, then meta_len bytes of "key=value\n" text
 *   u32     nregions
 *   nregions times: u64 addr, u64 len, len bytes
 * Regions may not overlap; a read must fall entirely inside one region.
 * Limits (checked on load): at most 1<<20 regions, meta at most 64 KiB.
 */
#define SNAPSHOT_MAGIC "GSSNAP01"

/* Parse a snapshot from bytes; the data is copied, `buf` may be freed after. */
int reader_snapshot_from_bytes(const uint8_t *buf, size_t len, struct reader **out);
int reader_snapshot_open(const char *path, struct reader **out);
/* Look up a "key=value" line of the snapshot's metadata; NULL if absent. The
 * string is owned by the reader. */
const char *reader_snapshot_meta(struct reader *r, const char *key);

/* Recorder: serves reads from `inner` (which it does not own) and keeps a copy
 * of everything successfully read. */
int reader_recorder_new(struct reader *inner, struct reader **out);
/* Write what was recorded as a snapshot file with the given metadata text
 * ("key=value\n" lines). Writes to a temporary file and renames it. */
int reader_recorder_save(struct reader *rec, const char *meta, const char *path);

#endif
