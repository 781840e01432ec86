/* test_reader.c - snapshot parsing and reads, the live reader on this very
 * process, and recorder round trips through a saved file. */
#include "unit.h"
#include "../../src/target/reader.h"
#include "../../src/util/error.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- building snapshot bytes ---------------------------------------- */

struct bytes {
	uint8_t buf[8192];
	size_t len;
};

static void b_add(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n <= sizeof(b->buf)) {
		memcpy(b->buf + b->len, p, n);
		b->len += n;
	}
}

static void b_u32(struct bytes *b, uint32_t v)
{
	uint8_t x[4];
	int i;

	for (i = 0; i < 4; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	b_add(b, x, 4);
}

static void b_u64(struct bytes *b, uint64_t v)
{
	b_u32(b, (uint32_t)v);
	b_u32(b, (uint32_t)(v >> 32));
}

static void b_header(struct bytes *b, const char *meta, uint32_t nregions)
{
	b->len = 0;
	b_add(b, SNAPSHOT_MAGIC, 8);
	b_u32(b, (uint32_t)strlen(meta));
	b_add(b, meta, strlen(meta));
	b_u32(b, nregions);
}

static void b_region(struct bytes *b, uint64_t addr, const void *data, uint64_t len)
{
	b_u64(b, addr);
	b_u64(b, len);
	b_add(b, data, (size_t)len);
}

static const uint8_t pat16[16] = {
	0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
	0xfe, 0xff, 0xff, 0xff, 0x0d, 0xf0, 0xad, 0x8b,
};

/* Regions given out of address order; two of them adjacent. */
static void b_good(struct bytes *b)
{
	static const uint8_t a[8] = "abcdefgh", c[8] = "ABCDEFGH";

	b_header(b, "python=3.11.7\nnoequals\n=novalue\nbuild=default\npython=dup\nempty=",
		 4);
	b_region(b, 0x3000, a, 8);
	b_region(b, 0x1000, pat16, 16);
	b_region(b, 0x5000, a, 8);
	b_region(b, 0x5008, c, 8);
}

/* ---- snapshot ------------------------------------------------------- */

static void t_snapshot_reads(struct unit *u)
{
	struct bytes b;
	struct reader *r = NULL;
	uint8_t buf[16];
	uint64_t v64;
	uint32_t v32;
	int32_t i32;

	b_good(&b);
	CHECK_EQ(u, reader_snapshot_from_bytes(b.buf, b.len, &r), 0);
	if (!r)
		return;
	/* inside, whole, and the helpers' byte order */
	CHECK_EQ(u, reader_read(r, 0x1000, buf, 16), 0);
	CHECK(u, !memcmp(buf, pat16, 16));
	CHECK_EQ(u, reader_read_u64(r, 0x1000, &v64), 0);
	CHECK_EQ(u, v64, 0x1122334455667788ull);
	CHECK_EQ(u, reader_read_u32(r, 0x1004, &v32), 0);
	CHECK_EQ(u, v32, 0x11223344u);
	CHECK_EQ(u, reader_read_i32(r, 0x1008, &i32), 0);
	CHECK(u, i32 == -2);
	CHECK_EQ(u, reader_read_u32(r, 0x100c, &v32), 0);
	CHECK_EQ(u, v32, 0x8badf00du);
	CHECK_EQ(u, reader_read_i32(r, 0x100c, &i32), 0);
	CHECK(u, i32 == (int32_t)-0x74520ff3);
	CHECK_EQ(u, reader_read(r, 0x3007, buf, 1), 0);
	CHECK_EQ(u, buf[0], 'h');
	CHECK_EQ(u, reader_read(r, 0x5008, buf, 8), 0);
	CHECK(u, !memcmp(buf, "ABCDEFGH", 8));

	/* straddling an end, or two adjacent regions: all-or-nothing */
	CHECK_EQ(u, reader_read(r, 0x100c, buf, 8), GS_EFAULT);
	CHECK_EQ(u, reader_read(r, 0x0ffc, buf, 8), GS_EFAULT);
	CHECK_EQ(u, reader_read(r, 0x5004, buf, 8), GS_EFAULT);
	/* outside */
	CHECK_EQ(u, reader_read(r, 0, buf, 1), GS_EFAULT);
	CHECK_EQ(u, reader_read(r, 0x2000, buf, 1), GS_EFAULT);
	CHECK_EQ(u, reader_read(r, 0x1010, buf, 1), GS_EFAULT);
	CHECK_EQ(u, reader_read(r, 0x5010, buf, 1), GS_EFAULT);
	CHECK_EQ(u, reader_read(r, UINT64_MAX, buf, 1), GS_EFAULT);
	CHECK_EQ(u, reader_read(r, UINT64_MAX - 3, buf, 8), GS_EFAULT);	/* wraps */
	CHECK_EQ(u, reader_read(r, 0x1000, buf, 0), 0);
	CHECK_EQ(u, reader_read_u64(r, 0x300c, &v64), GS_EFAULT);

	/* every call counts, failed or not */
	CHECK_EQ(u, r->nreads, 19);
	CHECK_EQ(u, r->nbytes, 16 + 8 + 4 + 4 + 4 + 4 + 1 + 8 + 8 + 8 + 8 +
			       1 + 1 + 1 + 1 + 1 + 8 + 0 + 8);

	CHECK_STREQ(u, reader_snapshot_meta(r, "python"), "3.11.7");
	CHECK_STREQ(u, reader_snapshot_meta(r, "build"), "default");
	CHECK_STREQ(u, reader_snapshot_meta(r, "empty"), "");
	CHECK(u, reader_snapshot_meta(r, "noequals") == NULL);
	CHECK(u, reader_snapshot_meta(r, "") == NULL);
	CHECK(u, reader_snapshot_meta(r, "pyth") == NULL);
	reader_free(r);
	reader_free(NULL);
}

static void t_snapshot_empty(struct unit *u)
{
	struct bytes b;
	struct reader *r = NULL;
	uint8_t x;

	b_header(&b, "", 0);
	CHECK_EQ(u, reader_snapshot_from_bytes(b.buf, b.len, &r), 0);
	if (r) {
		CHECK_EQ(u, reader_read(r, 0x1000, &x, 1), GS_EFAULT);
		CHECK(u, reader_snapshot_meta(r, "python") == NULL);
		reader_free(r);
	}
}

static int load(const struct bytes *b)
{
	struct reader *r = NULL;
	int ret = reader_snapshot_from_bytes(b->buf, b->len, &r);

	reader_free(r);
	return ret;
}

static void t_snapshot_corrupt(struct unit *u)
{
	static const uint8_t d[32] = { 0 };
	struct bytes b, good;
	struct reader *r = (struct reader *)&b;
	size_t cut;
	int bad_prefix = 0;

	b_good(&good);
	/* every proper prefix is truncated */
	for (cut = 0; cut < good.len; cut++)
		if (reader_snapshot_from_bytes(good.buf, cut, &r) != GS_ECORRUPT || r)
			bad_prefix++;
	CHECK_EQ(u, bad_prefix, 0);
	CHECK_EQ(u, reader_snapshot_from_bytes(NULL, 0, &r), GS_ECORRUPT);

	b = good;
	b.buf[0] = 'X';
	CHECK_EQ(u, load(&b), GS_ECORRUPT);	/* magic */
	b = good;
	b.buf[b.len++] = 0;
	CHECK_EQ(u, load(&b), GS_ECORRUPT);	/* trailing byte */

	b_header(&b, "", 2);			/* overlap */
	b_region(&b, 0x1000, d, 16);
	b_region(&b, 0x100f, d, 4);
	CHECK_EQ(u, load(&b), GS_ECORRUPT);
	b_header(&b, "", 2);			/* same start */
	b_region(&b, 0x1000, d, 4);
	b_region(&b, 0x1000, d, 4);
	CHECK_EQ(u, load(&b), GS_ECORRUPT);
	b_header(&b, "", 2);			/* containment, given in reverse */
	b_region(&b, 0x1004, d, 2);
	b_region(&b, 0x1000, d, 16);
	CHECK_EQ(u, load(&b), GS_ECORRUPT);
	b_header(&b, "", 2);			/* adjacent is fine */
	b_region(&b, 0x1000, d, 16);
	b_region(&b, 0x1010, d, 16);
	CHECK_EQ(u, load(&b), 0);

	b_header(&b, "", 0xffffffffu);		/* huge count */
	b_region(&b, 0x1000, d, 16);
	CHECK_EQ(u, load(&b), GS_ECORRUPT);
	b_header(&b, "", (1u << 20) + 1);	/* above the documented cap */
	CHECK_EQ(u, load(&b), GS_ECORRUPT);
	b_header(&b, "", 3);			/* count larger than present */
	b_region(&b, 0x1000, d, 16);
	CHECK_EQ(u, load(&b), GS_ECORRUPT);
	b_header(&b, "", 1);			/* length beyond the data */
	b_u64(&b, 0x1000);
	b_u64(&b, 0xffffffffffffff00ull);
	b_add(&b, d, 32);
	CHECK_EQ(u, load(&b), GS_ECORRUPT);
	b_header(&b, "", 1);			/* addr + len wraps */
	b_region(&b, UINT64_MAX - 7, d, 16);
	CHECK_EQ(u, load(&b), GS_ECORRUPT);
	b_header(&b, "", 1);			/* ends exactly at the top: fine */
	b_region(&b, UINT64_MAX - 15, d, 16);
	CHECK_EQ(u, load(&b), 0);
	b_header(&b, "", 1);			/* empty region */
	b_region(&b, 0x1000, d, 0);
	CHECK_EQ(u, load(&b), GS_ECORRUPT);

	b.len = 0;				/* meta longer than the input */
	b_add(&b, SNAPSHOT_MAGIC, 8);
	b_u32(&b, 1000);
	b_add(&b, "k=v\n", 4);
	CHECK_EQ(u, load(&b), GS_ECORRUPT);
	b.len = 8;				/* meta above 64 KiB */
	b_u32(&b, 0x7fffffff);
	CHECK_EQ(u, load(&b), GS_ECORRUPT);
	b.len = 8;				/* NUL inside meta */
	b_u32(&b, 3);
	b_add(&b, "k\0v", 3);
	b_u32(&b, 0);
	CHECK_EQ(u, load(&b), GS_ECORRUPT);
}

/* ---- temporary files ------------------------------------------------ */

struct tmpdir {
	char path[64];
};

static int tmpdir_make(struct tmpdir *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/gs-unit-XXXXXX");
	return mkdtemp(t->path) ? 0 : -1;
}

/* Number of entries besides "." and "..", removing them if asked. */
static int tmpdir_count(struct tmpdir *t, int remove)
{
	char p[128];
	struct dirent *de;
	DIR *d = opendir(t->path);
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		if (remove && snprintf(p, sizeof(p), "%s/%s", t->path, de->d_name) <
			      (int)sizeof(p))
			unlink(p);
	}
	closedir(d);
	if (remove)
		rmdir(t->path);
	return n;
}

static void t_snapshot_file(struct unit *u)
{
	struct tmpdir t;
	struct bytes b;
	struct reader *r = NULL;
	char path[128];
	uint64_t v;
	FILE *f;

	if (tmpdir_make(&t)) {
		unit_skip(u, "cannot create a temporary directory");
		return;
	}
	snprintf(path, sizeof(path), "%s/snap", t.path);
	b_good(&b);
	f = fopen(path, "wb");
	CHECK(u, f != NULL);
	if (f) {
		CHECK_EQ(u, fwrite(b.buf, 1, b.len, f), b.len);
		CHECK_EQ(u, fclose(f), 0);
	}
	CHECK_EQ(u, reader_snapshot_open(path, &r), 0);
	if (r) {
		CHECK_EQ(u, reader_read_u64(r, 0x1000, &v), 0);
		CHECK_EQ(u, v, 0x1122334455667788ull);
		CHECK_STREQ(u, reader_snapshot_meta(r, "python"), "3.11.7");
		reader_free(r);
	}
	CHECK(u, reader_snapshot_open("/nonexistent/gs/snap", &r) < 0);
	CHECK(u, r == NULL);
	CHECK(u, reader_snapshot_open(t.path, &r) < 0);	/* a directory */
	tmpdir_count(&t, 1);
}

/* ---- live ----------------------------------------------------------- */

uint64_t test_reader_global = 0x0123456789abcdefull;

static void t_live_self(struct unit *u)
{
	volatile uint64_t local = 0x1122334455667788ull;
	struct reader *r = NULL;
	long page = sysconf(_SC_PAGESIZE);
	uint8_t buf[64];
	uint64_t v = 0;
	uint8_t *map;

	CHECK_EQ(u, reader_live_open(getpid(), &r), 0);
	if (!r)
		return;
	CHECK_EQ(u, reader_read_u64(r, (uint64_t)(uintptr_t)&local, &v), 0);
	CHECK_EQ(u, v, 0x1122334455667788ull);
	local = 42;
	CHECK_EQ(u, reader_read_u64(r, (uint64_t)(uintptr_t)&local, &v), 0);
	CHECK_EQ(u, v, 42);
	CHECK_EQ(u, reader_read_u64(r, (uint64_t)(uintptr_t)&test_reader_global, &v), 0);
	CHECK_EQ(u, v, 0x0123456789abcdefull);
	CHECK_EQ(u, reader_read(r, 0, buf, 8), GS_EFAULT);
	CHECK_EQ(u, reader_read(r, UINT64_MAX - 3, buf, 8), GS_EFAULT);
	CHECK_EQ(u, reader_read(r, 0xffffffffffff0000ull, buf, 8), GS_EFAULT);

	/* A read running off the end of a mapping fails as a whole, through
	 * the partial-read fallback. */
	map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(u, map != MAP_FAILED);
	if (map != MAP_FAILED) {
		memset(map, 0x5a, (size_t)page);
		munmap(map + page, (size_t)page);
		CHECK_EQ(u, reader_read(r, (uint64_t)(uintptr_t)(map + page - 32), buf, 64),
			 GS_EFAULT);
		CHECK_EQ(u, reader_read(r, (uint64_t)(uintptr_t)(map + page - 32), buf, 32), 0);
		CHECK_EQ(u, buf[31], 0x5a);
		munmap(map, (size_t)page);
	}

	/* process_vm_readv stops at a PROT_NONE page; /proc/PID/mem reads
	 * through it, so the fallback completes the read. */
	map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(u, map != MAP_FAILED);
	if (map != MAP_FAILED) {
		memset(map, 0x11, (size_t)page);
		memset(map + page, 0x22, (size_t)page);
		CHECK_EQ(u, mprotect(map + page, (size_t)page, PROT_NONE), 0);
		memset(buf, 0, sizeof(buf));
		CHECK_EQ(u, reader_read(r, (uint64_t)(uintptr_t)(map + page - 32), buf, 64), 0);
		CHECK_EQ(u, buf[31], 0x11);
		CHECK_EQ(u, buf[32], 0x22);
		CHECK_EQ(u, buf[63], 0x22);
		munmap(map, (size_t)page * 2);
	}
	reader_free(r);

	CHECK_EQ(u, reader_live_open(0x7ffffff0, &r), GS_ENOPROC);
	CHECK(u, r == NULL);
	CHECK_EQ(u, reader_live_open(0, &r), GS_ENOPROC);
	CHECK_EQ(u, reader_live_open(-5, &r), GS_ENOPROC);
}

/* ---- recorder ------------------------------------------------------- */

static void t_recorder(struct unit *u)
{
	struct reader *live = NULL, *rec = NULL, *snap = NULL;
	struct tmpdir t;
	char path[128];
	uint8_t *mem = NULL, buf[300], want[300];
	uint64_t base, v;
	size_t i;

	if (tmpdir_make(&t)) {
		unit_skip(u, "cannot create a temporary directory");
		return;
	}
	snprintf(path, sizeof(path), "%s/rec.snap", t.path);
	/* Three pages, so reads cross page boundaries. */
	mem = aligned_alloc(4096, 3 * 4096);
	if (!CHECK(u, mem != NULL))
		goto out;
	for (i = 0; i < 3 * 4096; i++)
		mem[i] = (uint8_t)(i * 7 + 3);
	base = (uint64_t)(uintptr_t)mem;

	CHECK_EQ(u, reader_live_open(getpid(), &live), 0);
	CHECK_EQ(u, reader_recorder_new(live, &rec), 0);
	if (!live || !rec)
		goto out;
	/* overlapping, adjacent and page-crossing reads */
	CHECK_EQ(u, reader_read(rec, base + 100, buf, 50), 0);
	CHECK_EQ(u, reader_read(rec, base + 120, buf, 100), 0);
	CHECK_EQ(u, reader_read(rec, base + 220, buf, 10), 0);
	CHECK_EQ(u, reader_read(rec, base + 4096 - 8, buf, 16), 0);
	CHECK(u, !memcmp(buf, mem + 4096 - 8, 16));
	CHECK_EQ(u, reader_read_u64(rec, base + 2 * 4096 + 64, &v), 0);
	CHECK_EQ(u, reader_read(rec, 0, buf, 8), GS_EFAULT);	/* not recorded */
	CHECK_EQ(u, rec->nreads, 6);
	CHECK_EQ(u, rec->nbytes, 50 + 100 + 10 + 16 + 8 + 8);

	/* The first bytes recorded stay: a changed process does not mix
	 * generations into what the snapshot already holds. */
	memcpy(want, mem, sizeof(want));
	mem[130] ^= 0xff;
	CHECK_EQ(u, reader_read(rec, base + 128, buf, 4), 0);
	CHECK_EQ(u, buf[2], mem[130]);

	CHECK_EQ(u, reader_recorder_save(rec, "python=3.11\nkind=test\n", path), 0);
	CHECK_EQ(u, tmpdir_count(&t, 0), 1);	/* no temporary left behind */
	CHECK_EQ(u, reader_snapshot_open(path, &snap), 0);
	if (!snap)
		goto out;
	CHECK_STREQ(u, reader_snapshot_meta(snap, "kind"), "test");
	CHECK_EQ(u, reader_read(snap, base + 100, buf, 130), 0);
	CHECK(u, !memcmp(buf, want + 100, 130));
	CHECK_EQ(u, reader_read(snap, base + 4096 - 8, buf, 16), 0);
	CHECK(u, !memcmp(buf, mem + 4096 - 8, 16));
	CHECK_EQ(u, reader_read_u64(snap, base + 2 * 4096 + 64, &v), 0);
	CHECK(u, !memcmp(&v, mem + 2 * 4096 + 64, 8));
	/* Whole pages were kept, and they coalesced into one region. */
	CHECK_EQ(u, reader_read(snap, base, buf, 300), 0);
	CHECK(u, !memcmp(buf, want, 300));
	CHECK_EQ(u, reader_read(snap, base + 4096 - 150, buf, 300), 0);
	CHECK(u, !memcmp(buf, mem + 4096 - 150, 300));
	CHECK_EQ(u, reader_read(snap, base + 3 * 4096 - 8, buf, 8), 0);
	CHECK_EQ(u, reader_read(snap, base + 3 * 4096, buf, 1), GS_EFAULT);

	/* Saving over an existing file replaces it. */
	CHECK_EQ(u, reader_recorder_save(rec, NULL, path), 0);
	reader_free(snap);
	snap = NULL;
	CHECK_EQ(u, reader_snapshot_open(path, &snap), 0);
	CHECK(u, snap && reader_snapshot_meta(snap, "kind") == NULL);

	CHECK(u, reader_recorder_save(rec, "", "/nonexistent/dir/x.snap") < 0);
	CHECK(u, reader_recorder_save(live, "", path) < 0);	/* not a recorder */
out:
	reader_free(snap);
	reader_free(rec);
	reader_free(live);
	free(mem);
	tmpdir_count(&t, 1);
}

/* Over a snapshot whose regions are not whole pages, only exact bytes are
 * kept; recording a recording reproduces it. */
static void t_recorder_exact(struct unit *u)
{
	struct reader *inner = NULL, *rec = NULL, *snap = NULL;
	struct tmpdir t;
	struct bytes b;
	char path[128];
	uint8_t buf[16];

	if (tmpdir_make(&t)) {
		unit_skip(u, "cannot create a temporary directory");
		return;
	}
	snprintf(path, sizeof(path), "%s/exact.snap", t.path);
	b_good(&b);
	CHECK_EQ(u, reader_snapshot_from_bytes(b.buf, b.len, &inner), 0);
	CHECK_EQ(u, reader_recorder_new(inner, &rec), 0);
	if (!inner || !rec)
		goto out;
	CHECK_EQ(u, reader_read(rec, 0x1004, buf, 8), 0);
	CHECK_EQ(u, reader_read(rec, 0x1008, buf, 8), 0);
	CHECK_EQ(u, reader_read(rec, 0x5000, buf, 8), 0);
	CHECK_EQ(u, reader_read(rec, 0x5008, buf, 4), 0);
	CHECK_EQ(u, reader_read(rec, 0x100c, buf, 8), GS_EFAULT);
	CHECK_EQ(u, reader_recorder_save(rec, "", path), 0);
	CHECK_EQ(u, reader_snapshot_open(path, &snap), 0);
	if (!snap)
		goto out;
	CHECK_EQ(u, reader_read(snap, 0x1004, buf, 12), 0);
	CHECK(u, !memcmp(buf, pat16 + 4, 12));
	CHECK_EQ(u, reader_read(snap, 0x1000, buf, 1), GS_EFAULT);
	/* adjacent ranges merged: one read across what were two regions */
	CHECK_EQ(u, reader_read(snap, 0x5004, buf, 8), 0);
	CHECK(u, !memcmp(buf, "efghABCD", 8));
	CHECK_EQ(u, reader_read(snap, 0x500c, buf, 1), GS_EFAULT);
	CHECK_EQ(u, reader_read(snap, 0x3000, buf, 1), GS_EFAULT);
out:
	reader_free(snap);
	reader_free(rec);
	reader_free(inner);
	tmpdir_count(&t, 1);
}

UNIT_SUITE(reader)
{
	UNIT_RUN(u, t_snapshot_reads);
	UNIT_RUN(u, t_snapshot_empty);
	UNIT_RUN(u, t_snapshot_corrupt);
	UNIT_RUN(u, t_snapshot_file);
	UNIT_RUN(u, t_live_self);
	UNIT_RUN(u, t_recorder);
	UNIT_RUN(u, t_recorder_exact);
}
