/*
 * reader.c - the backend-independent half of struct reader: bookkeeping,
 * argument checks and the fixed-size helpers. See reader.h.
 */
#include "reader.h"

#include "../util/error.h"

int reader_read(struct reader *r, uint64_t addr, void *buf, size_t len)
{
	r->nreads++;
	r->nbytes += len;
	if (!len)
		return 0;
	/* A range that wraps around the address space is never mapped. */
	if (len - 1 > UINT64_MAX - addr)
		return GS_EFAULT;
	return r->ops->read(r, addr, buf, len);
}

int reader_readv(struct reader *r, struct reader_iov *iov, size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		r->nreads++;
		r->nbytes += iov[i].len;
		iov[i].err = iov[i].len - 1 > UINT64_MAX - iov[i].addr && iov[i].len ? GS_EFAULT : 0;
	}
	if (r->ops->readv)
		return r->ops->readv(r, iov, n);
	for (i = 0; i < n; i++) {
		if (!iov[i].err && iov[i].len)
			iov[i].err = r->ops->read(r, iov[i].addr, iov[i].buf, iov[i].len);
		if (iov[i].err && !ret)
			ret = iov[i].err;
	}
	return ret;
}

/*
 * Assemble values byte by byte so the result does not depend on the host's
 * byte order or on the alignment of the caller's buffer.
 */
int reader_read_u64(struct reader *r, uint64_t addr, uint64_t *out)
{
	uint8_t b[8];
	uint64_t v = 0;
	int i, ret;

	ret = reader_read(r, addr, b, sizeof(b));
	if (ret)
		return ret;
	for (i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	*out = v;
	return 0;
}

int reader_read_u32(struct reader *r, uint64_t addr, uint32_t *out)
{
	uint8_t b[4];
	int ret;

	ret = reader_read(r, addr, b, sizeof(b));
	if (ret)
		return ret;
	*out = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
	return 0;
}

int reader_read_i32(struct reader *r, uint64_t addr, int32_t *out)
{
	uint32_t v;
	int ret;

	ret = reader_read_u32(r, addr, &v);
	if (ret)
		return ret;
	/* Two's complement without relying on implementation-defined casts. */
	*out = v <= INT32_MAX ? (int32_t)v : -(int32_t)(UINT32_MAX - v) - 1;
	return 0;
}

void reader_free(struct reader *r)
{
	if (r)
		r->ops->free(r);
}
