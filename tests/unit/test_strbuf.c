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

static void t_xml(struct unit *u)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_xml_str(&sb, "<a href=\"x\">&'</a>\t\n");
	CHECK_STREQ(u, strbuf_str(&sb), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;\t\n");
	strbuf_reset(&sb);
	/* controls, bad UTF-8, U+FFFE/U+FFFF and a surrogate become U+FFFD;
	 * good multibyte characters pass */
	strbuf_add_xml_str(&sb, "\x01|\xff|\xef\xbf\xbe|\xef\xbf\xbf|\xed\xa0\x80|\xc3\xa9\xf0\x9f\x98\x80");
	CHECK_STREQ(u, strbuf_str(&sb), "\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd|"
		    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xc3\xa9\xf0\x9f\x98\x80");
	strbuf_release(&sb);
	CHECK_EQ(u, utf8_seq_len("\xc3\xa9"), 2);
	CHECK_EQ(u, utf8_seq_len("\xc3"), 0);
	CHECK_EQ(u, utf8_seq_len("a"), 1);
}

UNIT_SUITE(strbuf)
{
	UNIT_RUN(u, t_addf);
	UNIT_RUN(u, t_json);
	UNIT_RUN(u, t_xml);
}
