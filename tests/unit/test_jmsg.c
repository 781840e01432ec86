/* test_jmsg.c - helper processes' messages (util/jmsg.c over jansson): what
 * the speedup harness sends is read back, and what a message may not be is
 * refused. */
#include "unit.h"
#include "../../src/util/jmsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parses(const char *s)
{
	json_t *v = jmsg_parse(s, strlen(s));

	json_decref(v);
	return v != NULL;
}

static void t_jmsg_message(struct unit *u)
{
	static const char msg[] =
		"{\"phase\": \"ready\", \"pid\": 1234, \"calls\": 10, \"call_s\": 2.5e-2,"
		" \"python\": {\"version\": \"3.13.1\", \"free_threaded\": true,"
		" \"gil_enabled\": false, \"executable\": \"/opt/py\\u00e9/\\ud83d\\ude00\\\"\"},"
		" \"tids\": [1, 2, 3], \"none\": null}";
	const json_t *py, *tids;
	json_t *v;
	double d = 0;

	v = jmsg_parse(msg, strlen(msg));
	if (!CHECK(u, v != NULL))
		return;
	CHECK_STREQ(u, jmsg_str(v, "phase"), "ready");
	CHECK(u, jmsg_num(v, "pid", &d) && d == 1234);
	CHECK(u, jmsg_num(v, "call_s", &d) && d == 0.025);
	CHECK(u, !jmsg_num(v, "phase", &d));
	CHECK(u, !jmsg_num(v, "absent", &d));
	py = json_object_get(v, "python");
	CHECK(u, json_is_object(py));
	CHECK_STREQ(u, jmsg_str(py, "version"), "3.13.1");
	CHECK(u, jmsg_true(py, "free_threaded"));
	CHECK(u, !jmsg_true(py, "gil_enabled"));
	CHECK(u, !jmsg_true(py, "version"));
	CHECK_STREQ(u, jmsg_str(py, "executable"), "/opt/py\xc3\xa9/\xf0\x9f\x98\x80\"");
	tids = json_object_get(v, "tids");
	CHECK(u, json_is_array(tids) && json_array_size(tids) == 3 &&
		 json_number_value(json_array_get(tids, 2)) == 3);
	CHECK(u, json_is_null(json_object_get(v, "none")));
	CHECK(u, !jmsg_str(tids, "x") && !jmsg_str(NULL, "x") && !jmsg_true(NULL, "x"));
	json_decref(v);
}

/* What a message may not be: the checks gilscope asks of jansson. */
static void t_jmsg_rejects(struct unit *u)
{
	static const char *const bad[] = {
		"", " ", "{", "{\"a\": 1", "{\"a\" 1}", "{\"a\": 1,}", "[1]", "1", "\"s\"",
		"null", "{\"a\": 1} x", "{\"a\": 1}{}", "{a: 1}", "{\"a\": 1, \"a\": 2}",
		"{\"a\": 01}", "{\"a\": 1.}", "{\"a\": .5}", "{\"a\": +1}", "{\"a\": 0x10}",
		"{\"a\": tru}", "{\"a\": \"abc}", "{\"a\": \"a\\x\"}", "{\"a\": \"\\u12\"}",
		"{\"a\": \"\\ud800\"}", "{\"a\": \"\\udc00\"}", "{\"a\": \"\\u0000\"}",
		"{\"a\": \"tab\there\"}", "{\"a\": \"\xff\"}", "{\"a\": \"\xc0\xaf\"}",
		"{\"a\": \"\xed\xa0\x80\"}", "{\"a\": \"\xe2\x82\"}",
	};
	enum { DEEP = 100000 };
	char *deep = malloc(2 * DEEP + 16);
	json_t *v;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK(u, !parses(bad[i])))
			printf("    accepted: '%s'\n", bad[i]);
	/* nesting far past any message is refused, not recursed into */
	if (CHECK(u, deep != NULL)) {
		memcpy(deep, "{\"a\":", 5);
		memset(deep + 5, '[', DEEP);
		memset(deep + 5 + DEEP, ']', DEEP);
		memcpy(deep + 5 + 2 * DEEP, "}", 2);
		CHECK(u, !parses(deep));
		free(deep);
	}
	/* the length bounds the input, not a NUL */
	v = jmsg_parse("{\"a\": 1} garbage", 8);
	CHECK(u, v && jmsg_num(v, "a", &(double){ 0 }));
	json_decref(v);
	CHECK(u, parses(" { \"x\": [ -0.5e+3 , true , false , null , \"\" , {} , [] ] } "));
}

UNIT_SUITE(jmsg)
{
	UNIT_RUN(u, t_jmsg_message);
	UNIT_RUN(u, t_jmsg_rejects);
}
