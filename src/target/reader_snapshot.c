/*
 * reader_snapshot.c - the offline backends of struct reader: a snapshot of
 * memory regions loaded from bytes or a file, and the recorder that produces
 * such snapshots from a walk over another reader. Format in reader.h.
 *
 * Snapshots are test fixtures and fuzzer input, so loading trusts nothing:
 * every count and length is checked against the bytes actually present
 * before anything is allocated from it.
 */
#include "reader.h"

#include "../util/afile.h"
#include "../util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAPSHOT_MAGIC_LEN 8
#define SNAPSHOT_MAX_REGIONS (1u << 20)
#define SNAPSHOT_MAX_META (64u * 1024)
/* A sanity bound for files; recordings of one walk are a few megabytes. */
#define SNAPSHOT_MAX_FILE ((size_t)1 << 31)

/* ---- snapshot ------------------------------------------------------- */

struct snap_region {
	uint64_t addr, len;
	const uint8_t *data;	/* points into snapshot.blob */
};

struct snap_meta {
	const char *key, *value;	/* point into snapshot.metabuf */
};

struct snapshot {
	struct reader r;	/* first, so a struct reader * converts back */
	uint8_t *blob;		/* the whole input; region data lives here */
	struct snap_region *regions;	/* sorted by addr, disjoint */
	size_t nregions;
	char *metabuf;		/* meta text, split in place into strings */
	struct snap_meta *meta;
	size_t nmeta;
};

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t)v);
	put_u32(p + 4, (uint32_t)(v >> 32));
}

static int region_cmp(const void *a, const void *b)
{
	const struct snap_region *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int snapshot_read(struct reader *r, uint64_t addr, void *buf, size_t len)
{
	struct snapshot *s = (struct snapshot *)r;
	size_t lo = 0, hi = s->nregions;
	const struct snap_region *reg;
	uint64_t off;

	/* Find the last region starting at or below addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->regions[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return GS_EFAULT;
	reg = &s->regions[lo - 1];
	off = addr - reg->addr;
	if (off >= reg->len || len > reg->len - off)
		return GS_EFAULT;
	memcpy(buf, reg->data + off, len);
	return 0;
}

static void snapshot_free(struct reader *r)
{
	struct snapshot *s = (struct snapshot *)r;

	free(s->blob);
	free(s->regions);
	free(s->metabuf);
	free(s->meta);
	free(s);
}

static const struct reader_ops snapshot_ops = {
	.read = snapshot_read,
	.free = snapshot_free,
};

/* Split "key=value\n" lines in place; lines without '=' are ignored. */
static int snapshot_parse_meta(struct snapshot *s, const uint8_t *p, size_t len)
{
	size_t i, nlines = 1;
	char *line, *end;

	if (memchr(p, '\0', len))
		return GS_CORRUPT("memchr(p, '\\0', len)");
	s->metabuf = malloc(len + 1);
	if (!s->metabuf)
		return GS_ENOMEM;
	memcpy(s->metabuf, p, len);
	s->metabuf[len] = '\0';
	for (i = 0; i < len; i++)
		nlines += p[i] == '\n';
	s->meta = calloc(nlines, sizeof(*s->meta));
	if (!s->meta)
		return GS_ENOMEM;

	for (line = s->metabuf; line < s->metabuf + len; line = end + 1) {
		char *eq;

		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		*end = '\0';
		eq = strchr(line, '=');
		if (!eq || eq == line)
			continue;
		*eq = '\0';
		s->meta[s->nmeta].key = line;
		s->meta[s->nmeta].value = eq + 1;
		s->nmeta++;
	}
	return 0;
}

/* Parse a snapshot; takes ownership of `blob` whatever the outcome. */
static int snapshot_parse(uint8_t *blob, size_t len, struct reader **out)
{
	struct snapshot *s;
	size_t pos, i;
	uint32_t meta_len, n;
	int ret;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		free(blob);
		return GS_ENOMEM;
	}
	s->r.ops = &snapshot_ops;
	s->blob = blob;

	ret = GS_ECORRUPT;
	if (len < SNAPSHOT_MAGIC_LEN + 4 ||
	    memcmp(blob, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN))
		goto out;
	pos = SNAPSHOT_MAGIC_LEN;
	meta_len = get_u32(blob + pos);
	pos += 4;
	if (meta_len > SNAPSHOT_MAX_META || meta_len > len - pos)
		goto out;
	ret = snapshot_parse_meta(s, blob + pos, meta_len);
	if (ret)
		goto out;
	pos += meta_len;

	ret = GS_ECORRUPT;
	if (len - pos < 4)
		goto out;
	n = get_u32(blob + pos);
	pos += 4;
	/* Each region needs at least a 16-byte header: check before calloc. */
	if (n > SNAPSHOT_MAX_REGIONS || n > (len - pos) / 16)
		goto out;
	if (n) {
		s->regions = calloc(n, sizeof(*s->regions));
		if (!s->regions) {
			ret = GS_ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		struct snap_region *reg = &s->regions[i];

		if (len - pos < 16)
			goto out;
		reg->addr = get_u64(blob + pos);
		reg->len = get_u64(blob + pos + 8);
		pos += 16;
		if (!reg->len || reg->len > len - pos ||
		    reg->len - 1 > UINT64_MAX - reg->addr)
			goto out;
		reg->data = blob + pos;
		pos += reg->len;
	}
	if (pos != len)
		goto out;	/* trailing garbage */
	s->nregions = n;

	if (n > 1)
		qsort(s->regions, n, sizeof(*s->regions), region_cmp);
	for (i = 1; i < n; i++) {
		const struct snap_region *prev = &s->regions[i - 1];

		if (s->regions[i].addr - prev->addr < prev->len)
			goto out;	/* overlap */
	}
	*out = &s->r;
	s = NULL;
	ret = 0;
out:
	if (s)
		snapshot_free(&s->r);
	return ret;
}

int reader_snapshot_from_bytes(const uint8_t *buf, size_t len, struct reader **out)
{
	uint8_t *copy;

	*out = NULL;
	copy = malloc(len ? len : 1);
	if (!copy)
		return GS_ENOMEM;
	if (len)
		memcpy(copy, buf, len);
	return snapshot_parse(copy, len, out);
}

int reader_snapshot_open(const char *path, struct reader **out)
{
	uint8_t *buf = NULL;
	struct stat st;
	size_t size, got = 0;
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == EACCES || errno == EPERM ? GS_EPERM : GS_EIO;
	ret = GS_EIO;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	ret = GS_ECORRUPT;
	if (st.st_size < 0 || (uintmax_t)st.st_size > SNAPSHOT_MAX_FILE)
		goto out;
	size = (size_t)st.st_size;
	ret = GS_ENOMEM;
	buf = malloc(size ? size : 1);
	if (!buf)
		goto out;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* Shrank under us, or failed: either way not a snapshot. */
			ret = n < 0 ? GS_EIO : GS_ECORRUPT;
			goto out;
		}
		got += (size_t)n;
	}
	ret = snapshot_parse(buf, size, out);
	buf = NULL;
out:
	free(buf);
	close(fd);
	return ret;
}

const char *reader_snapshot_meta(struct reader *r, const char *key)
{
	struct snapshot *s = (struct snapshot *)r;
	size_t i;

	if (!r || r->ops != &snapshot_ops)
		return NULL;
	for (i = 0; i < s->nmeta; i++)
		if (!strcmp(s->meta[i].key, key))
			return s->meta[i].value;
	return NULL;
}

/* ---- recorder ------------------------------------------------------- */

/*
 * The recorder keeps what it saw in 4 KiB pages with a validity bitmap, so
 * recording stays cheap however reads overlap, and coalesces runs of valid
 * bytes into regions only when saving. When a read touches a page for the
 * first time the whole page is fetched as well, so a replay tolerates reads
 * that differ slightly from the recorded walk; if that fetch fails only the
 * exact bytes are kept. The first bytes recorded for an address win: later
 * reads of the same address in a changing process do not mix generations
 * into what was already saved.
 */
#define REC_PAGE 4096u
#define REC_MAX_PAGES 65536u	/* 256 MiB of recorded memory */

struct rec_page {
	uint64_t addr;		/* multiple of REC_PAGE */
	size_t nvalid;
	uint8_t valid[REC_PAGE / 8];
	uint8_t data[REC_PAGE];
};

struct recorder {
	struct reader r;	/* first, so a struct reader * converts back */
	struct reader *inner;	/* not owned */
	struct rec_page **pages;	/* sorted by addr */
	size_t npages, cap;
	int err;		/* sticky: recording became incomplete */
};

static int page_valid(const struct rec_page *pg, size_t i)
{
	return pg->valid[i / 8] >> (i % 8) & 1;
}

/* Index of the page at addr, or where it would be inserted. */
static size_t rec_find(const struct recorder *rec, uint64_t addr)
{
	size_t lo = 0, hi = rec->npages;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rec->pages[mid]->addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct rec_page *rec_get_page(struct recorder *rec, uint64_t addr, int *created)
{
	size_t i = rec_find(rec, addr);
	struct rec_page *pg;

	*created = 0;
	if (i < rec->npages && rec->pages[i]->addr == addr)
		return rec->pages[i];
	if (rec->npages >= REC_MAX_PAGES) {
		rec->err = GS_ERANGE;
		return NULL;
	}
	if (rec->npages == rec->cap) {
		size_t cap = rec->cap ? rec->cap * 2 : 64;
		struct rec_page **v = realloc(rec->pages, cap * sizeof(*v));

		if (!v) {
			rec->err = GS_ENOMEM;
			return NULL;
		}
		rec->pages = v;
		rec->cap = cap;
	}
	pg = calloc(1, sizeof(*pg));
	if (!pg) {
		rec->err = GS_ENOMEM;
		return NULL;
	}
	pg->addr = addr;
	memmove(rec->pages + i + 1, rec->pages + i,
		(rec->npages - i) * sizeof(*rec->pages));
	rec->pages[i] = pg;
	rec->npages++;
	*created = 1;
	return pg;
}

/* Copy bytes [off, off+len) of a page in, skipping bytes already recorded. */
static void page_fill(struct rec_page *pg, size_t off, const uint8_t *src, size_t len)
{
	size_t i;

	for (i = off; i < off + len; i++) {
		if (page_valid(pg, i))
			continue;
		pg->data[i] = src[i - off];
		pg->valid[i / 8] |= (uint8_t)(1u << (i % 8));
		pg->nvalid++;
	}
}

static void rec_remember(struct recorder *rec, uint64_t addr, const uint8_t *buf, size_t len)
{
	uint8_t whole[REC_PAGE];

	while (len && !rec->err) {
		uint64_t base = addr & ~(uint64_t)(REC_PAGE - 1);
		size_t off = (size_t)(addr - base);
		size_t n = REC_PAGE - off < len ? REC_PAGE - off : len;
		struct rec_page *pg;
		int created;

		pg = rec_get_page(rec, base, &created);
		if (!pg)
			return;
		page_fill(pg, off, buf, n);
		if (created && pg->nvalid < REC_PAGE &&
		    !reader_read(rec->inner, base, whole, REC_PAGE))
			page_fill(pg, 0, whole, REC_PAGE);
		addr += n;
		buf += n;
		len -= n;
	}
}

static int recorder_read(struct reader *r, uint64_t addr, void *buf, size_t len)
{
	struct recorder *rec = (struct recorder *)r;
	int ret;

	ret = reader_read(rec->inner, addr, buf, len);
	if (!ret)
		rec_remember(rec, addr, buf, len);
	return ret;
}

static void recorder_free(struct reader *r)
{
	struct recorder *rec = (struct recorder *)r;
	size_t i;

	for (i = 0; i < rec->npages; i++)
		free(rec->pages[i]);
	free(rec->pages);
	free(rec);
}

static const struct reader_ops recorder_ops = {
	.read = recorder_read,
	.free = recorder_free,
};

int reader_recorder_new(struct reader *inner, struct reader **out)
{
	struct recorder *rec;

	*out = NULL;
	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return GS_ENOMEM;
	rec->r.ops = &recorder_ops;
	rec->inner = inner;
	*out = &rec->r;
	return 0;
}

/*
 * Walks the runs of recorded bytes in address order; a run continues across
 * pages while the bytes stay valid and the pages adjacent.
 */
struct run_iter {
	const struct recorder *rec;
	size_t page, byte;	/* next position to look at */
};

/* Next run as (addr, len, first page, first byte); 0 when there is none. */
static int run_next(struct run_iter *it, uint64_t *addr, uint64_t *len,
		    size_t *page0, size_t *byte0)
{
	const struct recorder *rec = it->rec;

	/* Skip invalid bytes up to the start of a run. */
	for (; it->page < rec->npages; it->page++, it->byte = 0) {
		const struct rec_page *pg = rec->pages[it->page];

		while (it->byte < REC_PAGE && !page_valid(pg, it->byte))
			it->byte++;
		if (it->byte < REC_PAGE)
			break;
	}
	if (it->page >= rec->npages)
		return 0;
	*page0 = it->page;
	*byte0 = it->byte;
	*addr = rec->pages[it->page]->addr + it->byte;
	*len = 0;
	for (;;) {
		const struct rec_page *pg = rec->pages[it->page];

		while (it->byte < REC_PAGE && page_valid(pg, it->byte)) {
			it->byte++;
			(*len)++;
		}
		if (it->byte < REC_PAGE)
			return 1;	/* run ends inside this page */
		/* Run reached the end of the page: does the next page go on? */
		if (it->page + 1 >= rec->npages ||
		    rec->pages[it->page + 1]->addr != pg->addr + REC_PAGE ||
		    !page_valid(rec->pages[it->page + 1], 0)) {
			it->page++;
			it->byte = 0;
			return 1;
		}
		it->page++;
		it->byte = 0;
	}
}

static int write_all(FILE *f, const void *p, size_t len)
{
	return fwrite(p, 1, len, f) == len ? 0 : GS_EIO;
}

static int recorder_write(const struct recorder *rec, const char *meta, FILE *f)
{
	struct run_iter it = { rec, 0, 0 };
	uint64_t addr, len;
	size_t page0, byte0, meta_len = meta ? strlen(meta) : 0;
	uint32_t nruns = 0;
	uint8_t hdr[16];
	int ret;

	if (meta_len > SNAPSHOT_MAX_META)
		return GS_ERANGE;
	while (run_next(&it, &addr, &len, &page0, &byte0))
		nruns++;
	if (nruns > SNAPSHOT_MAX_REGIONS)
		return GS_ERANGE;

	ret = write_all(f, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN);
	put_u32(hdr, (uint32_t)meta_len);
	if (!ret)
		ret = write_all(f, hdr, 4);
	if (!ret && meta_len)
		ret = write_all(f, meta, meta_len);
	put_u32(hdr, nruns);
	if (!ret)
		ret = write_all(f, hdr, 4);

	it.page = it.byte = 0;
	while (!ret && run_next(&it, &addr, &len, &page0, &byte0)) {
		put_u64(hdr, addr);
		put_u64(hdr + 8, len);
		ret = write_all(f, hdr, 16);
		while (!ret && len) {
			size_t n = REC_PAGE - byte0 < len ? REC_PAGE - byte0 : (size_t)len;

			ret = write_all(f, rec->pages[page0]->data + byte0, n);
			len -= n;
			page0++;
			byte0 = 0;
		}
	}
	return ret;
}

int reader_recorder_save(struct reader *r, const char *meta, const char *path)
{
	struct recorder *rec = (struct recorder *)r;
	struct gs_afile af;
	int ret, e;

	if (!r || r->ops != &recorder_ops)
		return GS_EGENERIC;
	if (rec->err)
		return rec->err;
	/* 0600 whatever the umask: it holds pieces of another process's
	 * memory (README: treat it as a core dump) */
	e = gs_afile_open(&af, path, 0600);
	if (e)
		return e == EACCES || e == EPERM ? GS_EPERM : e == ENOMEM ? GS_ENOMEM : GS_EIO;
	ret = recorder_write(rec, meta, af.f);
	if (ret) {
		gs_afile_abort(&af);
		return ret;
	}
	return gs_afile_commit(&af) ? GS_EIO : 0;
}
