/* test_maps.c - /proc/PID/maps parsing, lookup and load bases. */
#include "unit.h"
#include "../../src/target/maps.h"
#include "../../src/util/error.h"

#include <stdlib.h>
#include <string.h>

static const char sample[] =
	"55d0c8a00000-55d0c8a2c000 r--p 00000000 fd:01 1835088                    /usr/bin/python3.11\n"
	"55d0c8a2c000-55d0c8d47000 r-xp 0002c000 fd:01 1835088                    /usr/bin/python3.11\n"
	"55d0c9e6e000-55d0c9f77000 rw-p 00000000 00:00 0                          [heap]\n"
	"7f1a2b000000-7f1a2b021000 rw-p 00000000 00:00 0 \n"
	"7f1a2c100000-7f1a2c200000 r--s 00001000 08:02 42                         /tmp/my data/lib x.so (deleted)\n"
	"7f1a2c300000-7f1a2c310000 r--p 00000000 08:02 77                         /opt/py/lib/libpython3.11.so.1.0\n"
	"7f1a2c310000-7f1a2c500000 r-xp 00010000 08:02 77                         /opt/py/lib/libpython3.11.so.1.0\n"
	"7f1a2c500000-7f1a2c510000 rw-p 00200000 08:02 77                         /opt/py/lib/libpython3.11.so.1.0\n"
	"7ffd4e5f2000-7ffd4e5f4000 r-xp 00000000 00:00 0                          [vdso]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]";

static void t_parse(struct unit *u)
{
	struct maps m = { 0 };
	const struct map_entry *e;

	CHECK_EQ(u, maps_parse(sample, strlen(sample), &m), 0);
	CHECK_EQ(u, m.n, 10);
	if (m.n != 10)
		goto out;
	e = &m.v[0];
	CHECK_EQ(u, e->start, 0x55d0c8a00000ull);
	CHECK_EQ(u, e->end, 0x55d0c8a2c000ull);
	CHECK_EQ(u, e->perms, MAP_R | MAP_P);
	CHECK_EQ(u, e->inode, 1835088);
	CHECK_STREQ(u, e->path, "/usr/bin/python3.11");
	CHECK(u, !e->deleted);
	CHECK_EQ(u, m.v[1].perms, MAP_R | MAP_X | MAP_P);
	CHECK_EQ(u, m.v[1].offset, 0x2c000);
	CHECK_STREQ(u, m.v[2].path, "[heap]");
	CHECK_EQ(u, m.v[2].perms, MAP_R | MAP_W | MAP_P);
	CHECK_STREQ(u, m.v[3].path, "");	/* anonymous, trailing space */
	CHECK_EQ(u, m.v[3].inode, 0);
	CHECK_STREQ(u, m.v[4].path, "/tmp/my data/lib x.so");
	CHECK(u, m.v[4].deleted);
	CHECK_EQ(u, m.v[4].perms, MAP_R);	/* shared: no MAP_P */
	CHECK_EQ(u, m.v[4].offset, 0x1000);
	CHECK_STREQ(u, m.v[8].path, "[vdso]");
	CHECK_EQ(u, m.v[9].start, 0xffffffffff600000ull);
	CHECK_EQ(u, m.v[9].perms, MAP_X | MAP_P);
	CHECK_STREQ(u, m.v[9].path, "[vsyscall]");	/* no final newline */
out:
	maps_release(&m);
	CHECK_EQ(u, m.n, 0);
	CHECK(u, m.v == NULL);
}

static void t_malformed(struct unit *u)
{
	static const char text[] =
		"\n"
		"garbage\n"
		"1000-2000 r-xp 00000000 08:02 5 /ok/one\n"
		"2000-1000 r-xp 00000000 08:02 5 /end/before/start\n"
		"3000-3000 r-xp 00000000 08:02 5 /empty\n"
		"3000-4000 rwzp 00000000 08:02 5 /bad/perms\n"
		"3000-4000 r-x 00000000 08:02 5 /short/perms\n"
		"3000-4000 r-xp 0000zz00 08:02 5 /bad/offset\n"
		"3000-4000 r-xp 00000000 0802 5 /bad/dev\n"
		"3000-4000 r-xp 00000000 08:02 5x /bad/inode\n"
		"3000-4000 r-xp 00000000 08:02\n"
		"3000-4000\n"
		"10000000000000000-10000000000000001 r-xp 00000000 08:02 5 /overflow\n"
		"-4000 r-xp 00000000 08:02 5 /no/start\n"
		"5000-6000 r--p 00000000 08:02 6 /ok/two\n"
		"7000-8000 r--p 00000000 08:02 6 /ok/three\0/after/nul\n"
		"9000-a000 ---p 00000000 00:00 0 (deleted)\n";
	struct maps m = { 0 };

	CHECK_EQ(u, maps_parse(text, sizeof(text) - 1, &m), 0);
	CHECK_EQ(u, m.n, 4);
	if (m.n == 4) {
		CHECK_STREQ(u, m.v[0].path, "/ok/one");
		CHECK_STREQ(u, m.v[1].path, "/ok/two");
		/* The copy stops at the NUL, not at a buffer overrun. */
		CHECK_STREQ(u, m.v[2].path, "/ok/three");
		/* "(deleted)" alone is a name, not a suffix. */
		CHECK_STREQ(u, m.v[3].path, "(deleted)");
		CHECK(u, !m.v[3].deleted);
		CHECK_EQ(u, m.v[3].perms, MAP_P);
	}
	maps_release(&m);

	CHECK_EQ(u, maps_parse("", 0, &m), 0);
	CHECK_EQ(u, m.n, 0);
	maps_release(&m);
	CHECK_EQ(u, maps_parse(NULL, 0, &m), 0);
	CHECK_EQ(u, m.n, 0);
	maps_release(&m);
}

static void t_unsorted(struct unit *u)
{
	static const char text[] =
		"5000-6000 r--p 00000000 08:02 6 /b\n"
		"1000-2000 r--p 00000000 08:02 6 /a\n";
	struct maps m = { 0 };

	CHECK_EQ(u, maps_parse(text, sizeof(text) - 1, &m), 0);
	CHECK_EQ(u, m.n, 2);
	if (m.n == 2) {
		CHECK_STREQ(u, m.v[0].path, "/a");
		CHECK(u, maps_find(&m, 0x5800) == &m.v[1]);
	}
	maps_release(&m);
}

static void t_find(struct unit *u)
{
	struct maps m = { 0 };
	const struct map_entry *e;

	CHECK_EQ(u, maps_parse(sample, strlen(sample), &m), 0);
	CHECK(u, maps_find(&m, 0) == NULL);
	CHECK(u, maps_find(&m, 0x55d0c8a00000ull - 1) == NULL);
	e = maps_find(&m, 0x55d0c8a00000ull);
	CHECK(u, e && e == &m.v[0]);
	e = maps_find(&m, 0x55d0c8a2bfffull);
	CHECK(u, e && e == &m.v[0]);
	e = maps_find(&m, 0x55d0c8a2c000ull);	/* end is exclusive */
	CHECK(u, e && e == &m.v[1]);
	CHECK(u, maps_find(&m, 0x55d0c8d47000ull) == NULL);	/* hole */
	e = maps_find(&m, 0x7f1a2b000010ull);
	CHECK(u, e && !strcmp(e->path, ""));
	e = maps_find(&m, 0xffffffffff600fffull);
	CHECK(u, e && !strcmp(e->path, "[vsyscall]"));
	CHECK(u, maps_find(&m, UINT64_MAX) == NULL);
	maps_release(&m);

	CHECK(u, maps_find(&m, 0x1000) == NULL);	/* empty */
}

static void t_file_base(struct unit *u)
{
	static const char text[] =
		/* listed out of file-offset order on purpose */
		"7f0000010000-7f0000020000 r-xp 00010000 08:02 77 /lib/libx.so\n"
		"7f0000000000-7f0000010000 r--p 00000000 08:02 77 /lib/libx.so\n"
		"7f0000100000-7f0000101000 r--p 00002000 08:02 78 /lib/liby.so\n"
		"1000-2000 r--p 00005000 08:02 79 /lib/libbad.so\n";
	struct maps m = { 0 };
	uint64_t base = 0;

	CHECK_EQ(u, maps_parse(text, sizeof(text) - 1, &m), 0);
	CHECK_EQ(u, maps_file_base(&m, "/lib/libx.so", &base), 0);
	CHECK_EQ(u, base, 0x7f0000000000ull);
	CHECK_EQ(u, maps_file_base(&m, "/lib/liby.so", &base), 0);
	CHECK_EQ(u, base, 0x7f00000fe000ull);
	CHECK_EQ(u, maps_file_base(&m, "/lib/libbad.so", &base), GS_ECORRUPT);
	CHECK(u, maps_file_base(&m, "/lib/libz.so", &base) < 0);
	CHECK(u, maps_file_base(&m, "/lib/libx", &base) < 0);
	maps_release(&m);

	/* A deleted file is still found by its path without the suffix. */
	CHECK_EQ(u, maps_parse(sample, strlen(sample), &m), 0);
	CHECK_EQ(u, maps_file_base(&m, "/tmp/my data/lib x.so", &base), 0);
	CHECK_EQ(u, base, 0x7f1a2c100000ull - 0x1000);
	CHECK_EQ(u, maps_file_base(&m, "/opt/py/lib/libpython3.11.so.1.0", &base), 0);
	CHECK_EQ(u, base, 0x7f1a2c300000ull);
	maps_release(&m);
}

static void t_limit(struct unit *u)
{
	static const char line[] = "1000-2000 r--p 00000000 00:00 0\n";
	size_t n = MAPS_MAX_ENTRIES + 10, i, ll = sizeof(line) - 1;
	char *buf = malloc(n * ll);
	struct maps m = { 0 };

	if (!CHECK(u, buf != NULL))
		return;
	for (i = 0; i < n; i++)
		memcpy(buf + i * ll, line, ll);
	CHECK_EQ(u, maps_parse(buf, n * ll, &m), 0);
	CHECK_EQ(u, m.n, MAPS_MAX_ENTRIES);
	maps_release(&m);
	free(buf);
}

UNIT_SUITE(maps)
{
	UNIT_RUN(u, t_parse);
	UNIT_RUN(u, t_malformed);
	UNIT_RUN(u, t_unsorted);
	UNIT_RUN(u, t_find);
	UNIT_RUN(u, t_file_base);
	UNIT_RUN(u, t_limit);
}
