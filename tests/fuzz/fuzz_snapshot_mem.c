/*
 * fuzz_snapshot_mem.c - libFuzzer harness: real interpreters' memory,
 * corrupted where the fuzzer chooses.
 *
 * The snapshots of tests/corpus/snapshots (or $GILSCOPE_FUZZ_SNAPSHOTS, a
 * directory) are loaded once. An input picks one of them and says how to
 * damage its memory; the metadata and the region layout are kept, so every
 * run is a walk of a real interpreter whose memory lies in chosen places
 * (rather than a snapshot that fails to parse). Then the whole walk of
 * walk.c runs over it.
 *
 * Input: byte 0 picks the snapshot (modulo how many there are), then
 * operations until the input ends, each one byte of kind and its operands
 * (integers little-endian; "pos" is a u32 offset into the concatenated
 * memory of all regions, modulo its size):
 *   0  pos, n (u8), n bytes      overwrite bytes
 *   1  pos, region (u16), off (u32)
 *                                an 8-aligned word becomes a pointer into a
 *                                region (another object, itself, a cycle)
 *   2  pos, k (u8)               an 8-aligned word becomes an interesting
 *                                number: 0, -1, 2^31, 2^40, 2^63, ...
 *   3  pos, delta (i16)          an 8-aligned word moves by delta * 8
 *                                (a pointer to a neighbouring field)
 *   4  pos, region (u16)         an 8-aligned word points just past a
 *                                region's end (unmapped memory)
 *   5  pos, n (u8)               n bytes become 0xff
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "walk.h"

#define MAX_SNAPS 64

struct region {
	uint64_t addr, len;
	size_t data;		/* offset of its bytes in the blob */
	size_t flat;		/* offset in the concatenated memory */
};

struct snap {
	uint8_t *blob;
	size_t size;
	struct region *regions;
	size_t nregions;
	size_t memsize;		/* bytes of memory, all regions */
};

static struct snap snaps[MAX_SNAPS];
static size_t nsnaps;
static uint8_t *work;		/* a copy of one blob, damaged */
static size_t work_cap;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The layout of a snapshot file (reader.h); 0 if it is one. */
static int index_snap(struct snap *s)
{
	size_t pos = 8, i, n;

	if (s->size < 16 || memcmp(s->blob, "GSSNAP01", 8))
		return -1;
	pos += 4 + le32(s->blob + 8);
	if (pos + 4 > s->size)
		return -1;
	n = le32(s->blob + pos);
	pos += 4;
	s->regions = calloc(n ? n : 1, sizeof(*s->regions));
	if (!s->regions)
		return -1;
	for (i = 0; i < n; i++) {
		struct region *r = &s->regions[i];

		if (pos + 16 > s->size)
			return -1;
		r->addr = le64(s->blob + pos);
		r->len = le64(s->blob + pos + 8);
		pos += 16;
		if (r->len > s->size - pos)
			return -1;
		r->data = pos;
		r->flat = s->memsize;
		s->memsize += r->len;
		pos += r->len;
	}
	s->nregions = n;
	return s->memsize ? 0 : -1;
}

static void load_dir(const char *dir)
{
	struct dirent **ents;
	int n, i;

	n = scandir(dir, &ents, NULL, alphasort);
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		size_t nl = strlen(name);
		char path[4096];
		struct snap *s = &snaps[nsnaps];
		FILE *f;
		long len;

		if (nsnaps < MAX_SNAPS && nl > 5 && !strcmp(name + nl - 5, ".snap") &&
		    snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path) &&
		    (f = fopen(path, "rb"))) {
			if (!fseek(f, 0, SEEK_END) && (len = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET) &&
			    (s->blob = malloc((size_t)len)) &&
			    fread(s->blob, 1, (size_t)len, f) == (size_t)len) {
				s->size = (size_t)len;
				if (!index_snap(s)) {
					nsnaps++;
					if (s->size > work_cap)
						work_cap = s->size;
				}
			}
			fclose(f);
		}
		free(ents[i]);
	}
	free(ents);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("GILSCOPE_FUZZ_SNAPSHOTS");

	(void)argc;
	(void)argv;
	load_dir(dir ? dir : "tests/corpus/snapshots");
	if (!nsnaps) {
		fprintf(stderr, "fuzz_snapshot_mem: no snapshots in %s (run from the repository "
			"root, or set GILSCOPE_FUZZ_SNAPSHOTS)\n", dir ? dir : "tests/corpus/snapshots");
		exit(1);
	}
	work = malloc(work_cap);
	if (!work)
		exit(1);
	return 0;
}

/* The blob offset of memory byte `flat` (0 <= flat < memsize). */
static size_t at(const struct snap *s, size_t flat)
{
	size_t lo = 0, hi = s->nregions;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->regions[mid].flat <= flat)
			lo = mid;
		else
			hi = mid;
	}
	return s->regions[lo].data + (flat - s->regions[lo].flat);
}

/* An 8-aligned word at memory offset pos that lies inside one region, or
 * (size_t)-1. */
static size_t word_at(const struct snap *s, uint32_t pos)
{
	size_t flat = pos % s->memsize, lo = 0, hi = s->nregions;
	const struct region *r;
	uint64_t addr;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->regions[mid].flat <= flat)
			lo = mid;
		else
			hi = mid;
	}
	r = &s->regions[lo];
	/* align the address, not the offset */
	addr = (r->addr + (flat - r->flat)) & ~(uint64_t)7;
	if (addr < r->addr)
		addr += 8;
	if (addr - r->addr + 8 > r->len)
		return (size_t)-1;
	return r->data + (size_t)(addr - r->addr);
}

static const uint64_t interesting[] = {
	0, 1, 2, 7, 8, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
	1ull << 32, 1ull << 40, 1ull << 48, 1ull << 56, 0x7fffffffffffffffull,
	0x8000000000000000ull, 0xffffffffffffffffull, 0xfffffffffffffff8ull, 4096,
	(uint64_t)-4096, 1ull << 31 | 1ull << 30,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct snap *s;
	size_t p = 1, w;

	if (!size)
		return 0;
	s = &snaps[data[0] % nsnaps];
	memcpy(work, s->blob, s->size);
	while (p + 5 <= size) {
		uint8_t kind = data[p];
		uint32_t pos = le32(data + p + 1);

		p += 5;
		switch (kind % 6) {
		case 0: {
			size_t n, k, flat = pos % s->memsize;

			if (p >= size)
				goto done;
			n = data[p++];
			for (k = 0; k < n && p < size; k++, p++)
				work[at(s, (flat + k) % s->memsize)] = data[p];
			break;
		}
		case 1: {
			const struct region *r;

			if (p + 6 > size)
				goto done;
			r = &s->regions[(data[p] | data[p + 1] << 8) % s->nregions];
			w = word_at(s, pos);
			if (w != (size_t)-1)
				put64(work + w, r->addr + ((le32(data + p + 2) % r->len) & ~(uint64_t)7));
			p += 6;
			break;
		}
		case 2:
			if (p >= size)
				goto done;
			w = word_at(s, pos);
			if (w != (size_t)-1)
				put64(work + w, interesting[data[p] % (sizeof(interesting) / sizeof(interesting[0]))]);
			p++;
			break;
		case 3:
			if (p + 2 > size)
				goto done;
			w = word_at(s, pos);
			if (w != (size_t)-1)
				put64(work + w, le64(work + w) +
				      (uint64_t)(int64_t)(int16_t)(data[p] | data[p + 1] << 8) * 8);
			p += 2;
			break;
		case 4: {
			const struct region *r;

			if (p + 2 > size)
				goto done;
			r = &s->regions[(data[p] | data[p + 1] << 8) % s->nregions];
			w = word_at(s, pos);
			if (w != (size_t)-1)
				put64(work + w, (r->addr + r->len + 7) & ~(uint64_t)7);
			p += 2;
			break;
		}
		case 5: {
			size_t n, k, flat = pos % s->memsize;

			if (p >= size)
				goto done;
			n = data[p++];
			for (k = 0; k < n; k++)
				work[at(s, (flat + k) % s->memsize)] = 0xff;
			break;
		}
		}
	}
done:
	fuzz_walk_snapshot(work, s->size);
	return 0;
}
