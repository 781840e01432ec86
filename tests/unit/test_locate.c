/*
 * test_locate.c - the pure part of locate.c: finding the version literal
 * ("3.M.N[a|b|rcK][+]\0") in an ELF image's bytes.
 */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "../../src/cpython/locate.h"
#include "../../src/util/error.h"

/* Look in an exactly sized copy, so a read past the end is caught by ASan. */
static int find(const char *bytes, size_t len, unsigned minor, uint32_t *hex)
{
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	if (!copy)
		return GS_ENOMEM;
	memcpy(copy, bytes, len);
	*hex = 0;
	ret = py_version_from_bytes(copy, len, minor, hex);
	free(copy);
	return ret;
}

static void t_version_literals(struct unit *u)
{
	static const char img[] = "\0junk\0" "3.9.18\0" "more";
	static const char rc[] = "x\0" "3.15.0rc1\0";
	static const char beta_plus[] = "x\0" "3.13.0b4+\0";
	static const char merged[] = "/usr/lib/python/3.10.13\0";
	uint32_t hex;

	CHECK_EQ(u, find(img, sizeof(img), 9, &hex), 0);
	CHECK_EQ(u, hex, 0x030912f0);
	CHECK_EQ(u, find(rc, sizeof(rc), 15, &hex), 0);
	CHECK_EQ(u, hex, 0x030f00c1);
	CHECK_EQ(u, find(beta_plus, sizeof(beta_plus), 13, &hex), 0);
	CHECK_EQ(u, hex, 0x030d00b4);
	CHECK_EQ(u, find(merged, sizeof(merged), 10, &hex), 0);
	CHECK_EQ(u, hex, 0x030a0df0);
	/* another minor, or part of a longer number: not it */
	CHECK_EQ(u, find(img, sizeof(img), 1, &hex), GS_ENOTPY);
	CHECK_EQ(u, find("x13.9.1\0", 9, 9, &hex), GS_ENOTPY);
	CHECK_EQ(u, find("x3.9.1x\0", 9, 9, &hex), GS_ENOTPY);
}

/*
 * Regression (found by fuzz_elfsym): an image ending in "3.M.Nr" made the
 * scanner look at the byte after the image for the 'c' of "rc".
 */
static void t_version_at_the_end(struct unit *u)
{
	static const char *const tails[] = {
		"x3.12.1r", "x3.12.1", "x3.12.", "x3.12.1rc", "x3.12.1rc1", "x3.12.1b",
		"x3.12.1+", "x3.12.1a9",
	};
	uint32_t hex;
	size_t i;

	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++)
		CHECK_EQ(u, find(tails[i], strlen(tails[i]), 12, &hex), GS_ENOTPY);
	CHECK_EQ(u, find("", 0, 12, &hex), GS_ENOTPY);
	CHECK_EQ(u, find("x3.12.1rc1", strlen("x3.12.1rc1") + 1, 12, &hex), 0);
	CHECK_EQ(u, hex, 0x030c01c1);
}

UNIT_SUITE(locate)
{
	UNIT_RUN(u, t_version_literals);
	UNIT_RUN(u, t_version_at_the_end);
}
