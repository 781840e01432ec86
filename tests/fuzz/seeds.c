/*
 * seeds.c - fuzz seeds cut out of recorded snapshots (build/fuzz-seeds,
 * used by tests/corpus/make-fuzz-corpus.sh).
 *
 *   fuzz-seeds linetable OUTDIR SNAP...       every distinct line table the
 *       model decodes in the snapshots' stacks, as fuzz_linetable inputs
 *       (kind, the frame's offset, co_firstlineno, the table)
 *   fuzz-seeds debug_offsets OUTDIR SNAP...   the _Py_DebugOffsets bytes at
 *       the start of _PyRuntime of each 3.13+ snapshot
 *
 * Files are named after a hash of their contents, so the same seed found
 * twice is written once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cpython/model.h"
#include "../../src/cpython/offsets.h"
#include "../../src/target/reader.h"

static struct py_thread threads[PY_MAX_THREADS];
static struct py_frame frames[PY_MAX_DEPTH];

static const char *meta_get(void *ctx, const char *key)
{
	return reader_snapshot_meta((struct reader *)ctx, key);
}

static int write_seed(const char *dir, const uint8_t *buf, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	char path[4096];
	FILE *f;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ buf[i]) * 0x100000001b3ull;
	snprintf(path, sizeof(path), "%s/%016llx", dir, (unsigned long long)h);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		return 1;
	}
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static int linetables(struct py_model *m, const char *dir)
{
	size_t n = 0, nf, i, j;
	int trunc, err = 0;

	py_model_threads(m, threads, PY_MAX_THREADS, &n, NULL, 0);
	for (i = 0; i < n; i++) {
		py_model_stack(m, threads[i].tstate, frames, PY_MAX_DEPTH, &nf, &trunc);
		for (j = 0; j < nf; j++) {
			const struct py_code *c = frames[j].code;
			uint8_t *buf;

			if (!c->linetable_len || frames[j].offset < 0)
				continue;
			buf = malloc(9 + (size_t)c->linetable_len);
			if (!buf)
				return 1;
			buf[0] = (uint8_t)m->off.linetable_kind;
			put32(buf + 1, (uint32_t)frames[j].offset);
			put32(buf + 5, (uint32_t)c->firstlineno);
			memcpy(buf + 9, c->linetable, c->linetable_len);
			err |= write_seed(dir, buf, 9 + (size_t)c->linetable_len);
			free(buf);
		}
	}
	return err;
}

static int debug_offsets(struct py_model *m, const char *dir)
{
	uint8_t buf[PY_DEBUG_OFFSETS_MAX];
	size_t len = sizeof(buf);

	if (m->off.version_hex < 0x030d0000)
		return 0;
	while (len >= 256 && reader_read(m->r, m->loc.runtime_addr, buf, len))
		len /= 2;
	return len >= 256 ? write_seed(dir, buf, len) : 1;
}

int main(int argc, char **argv)
{
	int i, err = 0;

	if (argc < 4 || (strcmp(argv[1], "linetable") && strcmp(argv[1], "debug_offsets"))) {
		fprintf(stderr, "usage: fuzz-seeds linetable|debug_offsets OUTDIR SNAP...\n");
		return 2;
	}
	for (i = 3; i < argc; i++) {
		struct reader *r;
		struct py_location loc;
		struct py_model m;

		if (reader_snapshot_open(argv[i], &r)) {
			fprintf(stderr, "fuzz-seeds: cannot read %s\n", argv[i]);
			err = 1;
			continue;
		}
		if (py_location_parse(meta_get, r, &loc) || py_model_init(&m, r, &loc)) {
			fprintf(stderr, "fuzz-seeds: %s: the model cannot read it\n", argv[i]);
			reader_free(r);
			err = 1;
			continue;
		}
		if (!strcmp(argv[1], "linetable"))
			err |= linetables(&m, argv[2]);
		else
			err |= debug_offsets(&m, argv[2]);
		py_model_release(&m);
		reader_free(r);
	}
	return err;
}
