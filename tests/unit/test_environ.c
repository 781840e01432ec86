/* test_environ.c - /proc/PID/environ parsing, and reading our own. */
#include "unit.h"
#include "../../src/target/environ.h"
#include "../../src/util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S(lit) (lit), (sizeof(lit) - 1)

static int get(const char *buf, size_t len, const char *key, char *out, size_t outlen)
{
	const char *v;
	size_t n;

	if (!environ_get(buf, len, key, &v, &n))
		return 0;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, v, n);
	out[n] = '\0';
	return 1;
}

static void t_get(struct unit *u)
{
	char v[64];

	CHECK(u, get(S("A=1\0PYTHON_GIL=0\0B=2\0"), "PYTHON_GIL", v, sizeof(v)));
	CHECK_STREQ(u, v, "0");
	CHECK(u, get(S("A=1\0PYTHON_GIL=0\0B=2\0"), "A", v, sizeof(v)));
	CHECK_STREQ(u, v, "1");
	/* a prefix or a suffix of the key is not the key */
	CHECK(u, !get(S("PYTHON_GIL_X=1\0XPYTHON_GIL=1\0"), "PYTHON_GIL", v, sizeof(v)));
	CHECK(u, !get(S("PYTHON_GI=1\0"), "PYTHON_GIL", v, sizeof(v)));
	/* first occurrence wins, as for getenv() */
	CHECK(u, get(S("K=first\0K=second\0"), "K", v, sizeof(v)));
	CHECK_STREQ(u, v, "first");
	/* empty value, '=' inside the value */
	CHECK(u, get(S("K=\0"), "K", v, sizeof(v)));
	CHECK_STREQ(u, v, "");
	CHECK(u, get(S("K=a=b\0"), "K", v, sizeof(v)));
	CHECK_STREQ(u, v, "a=b");
	/* last entry without its NUL (a truncated read) */
	CHECK(u, get(S("A=1\0K=tail"), "K", v, sizeof(v)));
	CHECK_STREQ(u, v, "tail");
	/* entries without '=' and empty entries are skipped */
	CHECK(u, get(S("K\0\0=x\0K=y\0"), "K", v, sizeof(v)));
	CHECK_STREQ(u, v, "y");
	/* an empty key matches nothing, not even "=x" */
	CHECK(u, !get(S("=x\0"), "", v, sizeof(v)));
	/* empty buffer; a key whose value would run past the buffer */
	CHECK(u, !get("", 0, "K", v, sizeof(v)));
	CHECK(u, !get(S("K"), "K", v, sizeof(v)));
	CHECK(u, get(S("K="), "K", v, sizeof(v)));
	CHECK_STREQ(u, v, "");
	/* bytes that are not text do not matter */
	CHECK(u, get(S("\xff\xfe=\x01\0K=\x80\x81\0"), "K", v, sizeof(v)));
	CHECK_STREQ(u, v, "\x80\x81");
}

static void t_read_self(struct unit *u)
{
	char *buf = NULL, want[64];
	const char *v;
	size_t len = 0, n;

	/* /proc/self/environ is what we were started with: find a variable we
	 * have had since then, if any */
	if (!getenv("PATH")) {
		unit_skip(u, "no PATH in our environment");
		return;
	}
	CHECK_EQ(u, environ_read(getpid(), &buf, &len), 0);
	CHECK(u, buf != NULL);
	if (!buf)
		return;
	CHECK(u, environ_get(buf, len, "PATH", &v, &n));
	snprintf(want, sizeof(want), "%.*s", (int)(n < 40 ? n : 40), v);
	CHECK(u, !strncmp(getenv("PATH"), want, strlen(want)));
	free(buf);
	CHECK_EQ(u, environ_read(0x7ffffff0, &buf, &len), GS_ENOPROC);
	CHECK(u, buf == NULL);
}

UNIT_SUITE(environ)
{
	UNIT_RUN(u, t_get);
	UNIT_RUN(u, t_read_self);
}
