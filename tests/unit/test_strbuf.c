/* test_strbuf.c - strbuf and JSON string escaping. */
#include "unit.h"
#include "../../src/util/strbuf.h"

#include <string.h>

static void t_addf(struct unit *u)
{
	struct strbuf sb = STRBUF_INIT;
	int i;

	for (i = 0; i < 1000; i++)
		strbuf_addf(&sb, "%d,", i);
	CHECK(u, !sb.failed);
	CHECK(u, sb.len > 3000);
	CHECK(u, !strncmp(strbuf_str(&sb), "0,1,2,", 6));
	strbuf_release(&sb);
	CHECK_STREQ(u, strbuf_str(&sb), "");
}

static void t_json(struct unit *u)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_json_str(&sb, "a\"b\\c\n\x01 \xc3\xa9 \xff z");
	CHECK_STREQ(u, strbuf_str(&sb), "\"a\\\"b\\\\c\\n\\u0001 \xc3\xa9 \\ufffd z\"");
	strbuf_reset(&sb);
	/* overlong encoding and a truncated sequence are both invalid */
	strbuf_add_json_str(&sb, "\xc0\xaf|\xe2\x82");
	CHECK_STREQ(u, strbuf_str(&sb), "\"\\ufffd\\ufffd|\\ufffd\\ufffd\"");
	strbuf_release(&sb);
}

UNIT_SUITE(strbuf)
{
	UNIT_RUN(u, t_addf);
	UNIT_RUN(u, t_json);
}
