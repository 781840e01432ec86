/* test_minidoc.c - the test-only XML and JSON checkers reject what they should. */
#include "unit.h"
#include "minidoc.h"

#include <stdio.h>
#include <string.h>

static int xml_ok(const char *doc)
{
	char err[160];

	return !xml_check(doc, strlen(doc), NULL, NULL, err, sizeof(err));
}

static int json_ok(const char *s)
{
	struct json v;
	char err[160];

	if (json_parse(s, strlen(s), &v, err, sizeof(err)))
		return 0;
	json_free(&v);
	return 1;
}

static void t_xml_good(struct unit *u)
{
	CHECK(u, xml_ok("<a/>"));
	CHECK(u, xml_ok("<?xml version=\"1.0\"?>\n<!-- c -->\n<a x='1' y=\"&amp;&#65;&#x42;\">"
			"t&lt;<b/><![CDATA[ <&> ]]><?pi x?></a>\n"));
	CHECK(u, xml_ok("<svg xmlns:gs=\"urn:x\" gs:x=\"1\"><g>\xc3\xa9\xe2\x82\xac</g></svg>"));
}

static void t_xml_bad(struct unit *u)
{
	static const char *const bad[] = {
		"", "text", "<a>", "<a></b>", "<a><b></a></b>", "<a/><b/>", "<a x=1/>",
		"<a x='1' x='2'/>", "<a x='<'/>", "<a>&</a>", "<a>&foo;</a>", "<a>&#0;</a>",
		"<a>&#xd800;</a>", "<a>]]></a>", "<a>\x01</a>", "<a>\xff</a>", "<a>\xc0\xaf</a>",
		"<a>\xef\xbf\xbe</a>", "<a><!-- x -- y --></a>", "<a><![CDATA[x</a>",
		"<!DOCTYPE a><a/>", "<a/>trailing", "<a x='1'y='2'/>", "<1a/>",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK(u, !xml_ok(bad[i])))
			printf("  accepted: %s\n", bad[i]);
	/* a NUL inside the document is not an end */
	CHECK(u, xml_check("<a>\0</a>", 8, NULL, NULL, NULL, 0) != 0);
}

static void t_json(struct unit *u)
{
	static const char *const bad[] = {
		"", "[", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5", "-", "1e",
		"+1", "tru", "nul", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
		"\"a\nb\"", "\"\xff\"", "\"\xed\xa0\x80\"", "[1] 2", "{\"a\":1,\"a\":2}", "NaN",
		"Infinity", "'a'",
	};
	const char *doc = "{\"k\": [0.25, \"\\u00e9\\n\"]}";
	struct json v;
	char err[160];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK(u, !json_ok(bad[i])))
			printf("  accepted: %s\n", bad[i]);
	CHECK(u, json_ok(" {\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\"], \"b\": {}} "));
	if (!CHECK_EQ(u, json_parse(doc, strlen(doc), &v, err, sizeof(err)), 0))
		return;
	CHECK_EQ(u, json_get(&v, "k")->n, 2);
	CHECK(u, json_get(&v, "k")->items[0].number == 0.25);
	CHECK_STREQ(u, json_get(&v, "k")->items[1].str, "\xc3\xa9\n");
	CHECK(u, json_get(&v, "missing") == NULL);
	json_free(&v);
}

UNIT_SUITE(minidoc)
{
	UNIT_RUN(u, t_xml_good);
	UNIT_RUN(u, t_xml_bad);
	UNIT_RUN(u, t_json);
}
