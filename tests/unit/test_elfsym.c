/* test_elfsym.c - ELF symbol lookup, constant reads and build-ids, on this
 * test binary, on installed Pythons when present, and on broken images. */
#include "unit.h"
#include "../../src/target/elfsym.h"
#include "../../src/target/maps.h"
#include "../../src/target/procfs.h"
#include "../../src/util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Looked up by name in our own symbol table; not static on purpose. */
uint64_t test_elfsym_data = 0xfeedfacecafebeefull;
uint64_t test_elfsym_bss;

#define LIBPYTHON311 "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0"
#define PYTHON311 "/usr/bin/python3.11"

/* Read a whole file into memory (test helper; not for /proc). */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL, *p;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1 << 16;
			p = realloc(buf, cap);
			if (!p) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = p;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (!got)
			break;
	}
	fclose(f);
	*len = n;
	return buf;
}

static int self_base(uint64_t *base)
{
	char exe[4096], *buf;
	struct maps m = { 0 };
	ssize_t n;
	long len;
	int ret = -1;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	buf = malloc(1 << 20);
	if (!buf)
		return -1;
	len = procfs_read_file("/proc/self/maps", buf, 1 << 20);
	if (len > 0 && !maps_parse(buf, (size_t)len, &m))
		ret = maps_file_base(&m, exe, base);
	maps_release(&m);
	free(buf);
	return ret;
}

static void t_self(struct unit *u)
{
	struct elfsym *e = NULL;
	uint64_t value = 0, size = 0, first = 0, base = 0, v = 0;
	char id[41];
	size_t i;

	CHECK_EQ(u, elfsym_open_file("/proc/self/exe", &e), 0);
	if (!e)
		return;
	CHECK_EQ(u, elfsym_lookup(e, "test_elfsym_data", &value, &size), 0);
	/* clang's ASan pads globals with a redzone counted in st_size */
	CHECK(u, size >= sizeof(test_elfsym_data));
	CHECK_EQ(u, elfsym_first_load_vaddr(e, &first), 0);
	CHECK_EQ(u, self_base(&base), 0);
	CHECK_EQ(u, base + (value - first), (uint64_t)(uintptr_t)&test_elfsym_data);

	/* The initial value, from the file, without touching memory. */
	CHECK_EQ(u, elfsym_read_vaddr(e, value, &v, sizeof(v)), 0);
	CHECK_EQ(u, v, 0xfeedfacecafebeefull);
	CHECK_EQ(u, elfsym_lookup(e, "test_elfsym_bss", &value, NULL), 0);
	CHECK_EQ(u, base + (value - first), (uint64_t)(uintptr_t)&test_elfsym_bss);
	v = 1;
	CHECK_EQ(u, elfsym_read_vaddr(e, value, &v, sizeof(v)), 0);
	CHECK_EQ(u, v, 0);	/* .bss reads as zeros */
	CHECK_EQ(u, elfsym_read_vaddr(e, 0xfffffffffffff000ull, &v, sizeof(v)), GS_EFAULT);
	CHECK_EQ(u, elfsym_read_vaddr(e, UINT64_MAX - 3, &v, sizeof(v)), GS_EFAULT);

	CHECK_EQ(u, elfsym_lookup(e, "t_self_no_such_symbol", &value, NULL), GS_ENOTPY);
	/* Imported from libelf, so in .dynsym but undefined here (malloc
	 * would not do: sanitizer runtimes define it). */
	CHECK_EQ(u, elfsym_lookup(e, "elf_memory", &value, NULL), GS_ENOTPY);
	CHECK_EQ(u, elfsym_lookup(e, "", &value, NULL), GS_ENOTPY);

	/* Debian's toolchain always emits a build-id. */
	CHECK_EQ(u, elfsym_build_id(e, id, sizeof(id)), 0);
	CHECK_EQ(u, strlen(id), 40);
	for (i = 0; i < strlen(id); i++)
		CHECK(u, strchr("0123456789abcdef", id[i]) != NULL);
	CHECK_EQ(u, elfsym_build_id(e, id, 20), GS_ERANGE);
	elfsym_free(e);
	elfsym_free(NULL);
}

static void t_self_mem(struct unit *u)
{
	struct elfsym *e = NULL, *f = NULL;
	uint64_t v1 = 0, v2 = 1, s;
	char id1[41], id2[41];
	size_t len = 0;
	uint8_t *img = slurp("/proc/self/exe", &len);

	if (!CHECK(u, img != NULL))
		return;
	CHECK_EQ(u, elfsym_open_mem(img, len, &e), 0);
	/* The image is copied: the caller's buffer may go. */
	memset(img, 0, len);
	free(img);
	CHECK_EQ(u, elfsym_open_file("/proc/self/exe", &f), 0);
	if (e && f) {
		CHECK_EQ(u, elfsym_lookup(e, "test_elfsym_data", &v1, &s), 0);
		CHECK_EQ(u, elfsym_lookup(f, "test_elfsym_data", &v2, &s), 0);
		CHECK_EQ(u, v1, v2);
		CHECK_EQ(u, elfsym_build_id(e, id1, sizeof(id1)), 0);
		CHECK_EQ(u, elfsym_build_id(f, id2, sizeof(id2)), 0);
		CHECK_STREQ(u, id1, id2);
	}
	elfsym_free(e);
	elfsym_free(f);
}

/* Whatever opens must answer without crashing; what cannot, fails. */
static void poke(struct unit *u, const uint8_t *img, size_t len, uint64_t want)
{
	struct elfsym *e = NULL;
	uint64_t v, first;
	uint8_t buf[16];
	char id[80];
	int ret;

	ret = elfsym_open_mem(img, len, &e);
	CHECK(u, ret == 0 || (ret < 0 && e == NULL));
	if (ret)
		return;
	if (!elfsym_lookup(e, "test_elfsym_data", &v, NULL) && want)
		CHECK_EQ(u, v, want);
	elfsym_first_load_vaddr(e, &first);
	elfsym_read_vaddr(e, want, buf, sizeof(buf));
	elfsym_read_vaddr(e, 0, buf, sizeof(buf));
	elfsym_build_id(e, id, sizeof(id));
	elfsym_free(e);
}

static void t_broken(struct unit *u)
{
	static const uint8_t magic_only[] = { 0x7f, 'E', 'L', 'F' };
	uint8_t garbage[4096], *img, *copy;
	struct elfsym *e = NULL, *good = NULL;
	uint64_t want = 0;
	size_t len = 0, cut, i;
	unsigned seed = 12345;

	CHECK(u, elfsym_open_mem(magic_only, 0, &e) < 0 && !e);
	CHECK(u, elfsym_open_mem(magic_only, sizeof(magic_only), &e) < 0 && !e);
	for (i = 0; i < sizeof(garbage); i++) {
		seed = seed * 1103515245 + 12345;
		garbage[i] = (uint8_t)(seed >> 16);
	}
	CHECK(u, elfsym_open_mem(garbage, sizeof(garbage), &e) < 0 && !e);
	CHECK(u, elfsym_open_file("/nonexistent/libx.so", &e) < 0 && !e);
	CHECK(u, elfsym_open_file("/dev/null", &e) < 0 && !e);
	CHECK(u, elfsym_open_file("/", &e) < 0 && !e);

	img = slurp("/proc/self/exe", &len);
	if (!CHECK(u, img != NULL && len > 4096))
		goto out;
	if (!elfsym_open_mem(img, len, &good))
		elfsym_lookup(good, "test_elfsym_data", &want, NULL);
	elfsym_free(good);
	CHECK(u, want != 0);

	/* Truncated at many lengths, header sizes included. */
	for (cut = 1; cut < 256; cut++)
		poke(u, img, cut, want);
	for (cut = 256; cut < len; cut += cut / 8 + 1)
		poke(u, img, cut, want);

	/* Garbage over the headers and over the tables at the end. */
	copy = malloc(len);
	if (!CHECK(u, copy != NULL))
		goto out;
	for (i = 0; i < 200; i++) {
		size_t j, at;

		memcpy(copy, img, len);
		for (j = 0; j < 8; j++) {
			seed = seed * 1103515245 + 12345;
			at = i % 2 ? (seed >> 8) % 64 : len - 1 - (seed >> 8) % (len / 4);
			seed = seed * 1103515245 + 12345;
			copy[at] = (uint8_t)(seed >> 16);
		}
		poke(u, copy, len, 0);
	}
	free(copy);
out:
	free(img);
}

static void t_libpython(struct unit *u)
{
	struct elfsym *e = NULL;
	uint64_t value = 0, size = 0, first = 1;

	if (access(LIBPYTHON311, R_OK)) {
		unit_skip(u, LIBPYTHON311 " not present");
		return;
	}
	CHECK_EQ(u, elfsym_open_file(LIBPYTHON311, &e), 0);
	if (!e)
		return;
	CHECK_EQ(u, elfsym_lookup(e, "_PyRuntime", &value, &size), 0);
	CHECK(u, value != 0);
	CHECK(u, size > 1000);	/* a large struct, not a pointer */
	CHECK_EQ(u, elfsym_first_load_vaddr(e, &first), 0);
	CHECK_EQ(u, first, 0);	/* shared objects link at 0 */
	CHECK_EQ(u, elfsym_lookup(e, "PyEval_EvalFrame", &value, NULL), 0);
	elfsym_free(e);
}

static void t_py_version(struct unit *u)
{
	struct elfsym *e = NULL;
	uint64_t value = 0, size = 0;
	uint8_t b[4];
	uint32_t ver;

	if (access(PYTHON311, R_OK)) {
		unit_skip(u, PYTHON311 " not present");
		return;
	}
	CHECK_EQ(u, elfsym_open_file(PYTHON311, &e), 0);
	if (!e)
		return;
	CHECK_EQ(u, elfsym_lookup(e, "Py_Version", &value, &size), 0);
	/* "const unsigned long": its low 4 bytes hold PY_VERSION_HEX. */
	CHECK(u, size == 4 || size == 8);
	CHECK_EQ(u, elfsym_read_vaddr(e, value, b, sizeof(b)), 0);
	ver = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	      (uint32_t)b[3] << 24;
	CHECK_EQ(u, ver >> 24, 3);
	CHECK_EQ(u, (ver >> 16) & 0xff, 11);
	CHECK_EQ(u, elfsym_lookup(e, "_PyRuntime", &value, &size), 0);
	elfsym_free(e);
}

UNIT_SUITE(elfsym)
{
	UNIT_RUN(u, t_self);
	UNIT_RUN(u, t_self_mem);
	UNIT_RUN(u, t_broken);
	UNIT_RUN(u, t_libpython);
	UNIT_RUN(u, t_py_version);
}
