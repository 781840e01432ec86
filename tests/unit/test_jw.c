/* test_jw.c - the reports' JSON writer (util/jw.c): what it writes is read
 * back by jansson, whatever bytes the strings hold, and a misuse is caught
 * rather than written. */
#include "unit.h"
#include "../../src/util/jw.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* The document jansson reads back, or NULL when it is not one. */
static json_t *read_back(struct strbuf *sb)
{
	json_error_t err;

	return json_loadb(sb->buf, sb->len, JSON_REJECT_DUPLICATES, &err);
}

static void t_jw_document(struct unit *u)
{
	struct strbuf sb = STRBUF_INIT;
	struct jw w;
	json_t *v, *t;

	jw_init(&w, &sb, 1);
	jw_obj(&w, NULL);
	jw_int(&w, "pid", -42);
	jw_uint(&w, "samples", 9007199254740993ULL);
	jw_fixed(&w, "held", 0.123456, 4);
	jw_sig(&w, "rate", 1e6, 6);
	jw_bool(&w, "yes", 1);
	jw_null(&w, "none");
	jw_str(&w, "absent", NULL);
	jw_arr(&w, "threads");
	jw_obj(&w, NULL);
	jw_str(&w, "name", "main");
	jw_end(&w);
	jw_arr(&w, NULL);
	jw_end(&w);
	jw_end(&w);
	jw_obj(&w, "empty");
	jw_end(&w);
	jw_end(&w);
	CHECK_EQ(u, jw_finish(&w), 0);
	CHECK(u, sb.len && sb.buf[sb.len - 1] == '\n');
	/* members of the first level on lines of their own, deeper ones not */
	CHECK(u, strstr(strbuf_str(&sb), "\n \"held\": 0.1235,\n") != NULL);
	CHECK(u, strstr(strbuf_str(&sb), "[{\"name\": \"main\"}, []]") != NULL);
	v = read_back(&sb);
	if (CHECK(u, v != NULL)) {
		CHECK(u, json_integer_value(json_object_get(v, "pid")) == -42);
		CHECK(u, json_integer_value(json_object_get(v, "samples")) == 9007199254740993LL);
		CHECK(u, json_real_value(json_object_get(v, "held")) == 0.1235);
		CHECK(u, json_number_value(json_object_get(v, "rate")) == 1e6);
		CHECK(u, json_is_true(json_object_get(v, "yes")));
		CHECK(u, json_is_null(json_object_get(v, "none")));
		CHECK(u, json_is_null(json_object_get(v, "absent")));
		t = json_object_get(v, "threads");
		CHECK_EQ(u, json_array_size(t), 2);
		CHECK_STREQ(u, json_string_value(json_object_get(json_array_get(t, 0), "name")), "main");
		CHECK_EQ(u, json_object_size(json_object_get(v, "empty")), 0);
		CHECK_EQ(u, json_object_size(v), 9);
	}
	json_decref(v);
	strbuf_release(&sb);
}

/* Strings read from a target: quotes, controls, bytes that are not UTF-8. */
static void t_jw_hostile_strings(struct unit *u)
{
	static const char *const in[] = {
		"say \"hi\"\\", "tab\there\nline\r\x01\x1f", "caf\xc3\xa9 \xe2\x82\xac",
		"bad \xff\xfe end", "cut \xe2\x82", "overlong \xc0\xaf", "surrogate \xed\xa0\x80",
		"</script>",
	};
	static const char *const out[] = {
		"say \"hi\"\\", "tab\there\nline\r\x01\x1f", "caf\xc3\xa9 \xe2\x82\xac",
		"bad \xef\xbf\xbd\xef\xbf\xbd end", "cut \xef\xbf\xbd\xef\xbf\xbd",
		"overlong \xef\xbf\xbd\xef\xbf\xbd", "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
		"</script>",
	};
	struct strbuf sb = STRBUF_INIT;
	struct jw w;
	json_t *v;
	size_t i;

	jw_init(&w, &sb, 0);
	jw_arr(&w, NULL);
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		jw_str(&w, NULL, in[i]);
	jw_end(&w);
	CHECK_EQ(u, jw_finish(&w), 0);
	v = read_back(&sb);
	if (CHECK(u, v != NULL) && CHECK_EQ(u, json_array_size(v), sizeof(in) / sizeof(in[0])))
		for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
			CHECK_STREQ(u, json_string_value(json_array_get(v, i)), out[i]);
	json_decref(v);
	strbuf_release(&sb);
}

static void t_jw_numbers(struct unit *u)
{
	struct strbuf sb = STRBUF_INIT;
	struct jw w;
	json_t *v;

	jw_init(&w, &sb, -1);
	jw_arr(&w, NULL);
	jw_fixed(&w, NULL, NAN, 3);
	jw_sig(&w, NULL, INFINITY, 6);
	jw_fixed(&w, NULL, -INFINITY, 6);
	jw_sig(&w, NULL, 1.5e-300, 9);
	jw_fixed(&w, NULL, 2.5, 99);
	jw_end(&w);
	CHECK_EQ(u, jw_close(&w), 0);
	/* the compact form: no blank after a comma */
	CHECK(u, !strncmp(strbuf_str(&sb), "[null,null,null,1.5e-300,2.5", 28));
	v = read_back(&sb);
	if (CHECK(u, v != NULL)) {
		CHECK(u, json_is_null(json_array_get(v, 0)));
		CHECK(u, json_is_null(json_array_get(v, 2)));
		CHECK(u, json_real_value(json_array_get(v, 3)) == 1.5e-300);
		CHECK(u, json_real_value(json_array_get(v, 4)) == 2.5);
	}
	json_decref(v);
	strbuf_release(&sb);
}

/* A value written apart goes in whole; one that failed does not. */
static void t_jw_raw(struct unit *u)
{
	struct strbuf part = STRBUF_INIT, sb = STRBUF_INIT;
	struct jw pw, w;
	json_t *v;

	jw_init(&pw, &part, -1);
	jw_arr(&pw, NULL);
	jw_int(&pw, NULL, 1);
	jw_int(&pw, NULL, 2);
	jw_end(&pw);
	CHECK_EQ(u, jw_close(&pw), 0);
	jw_init(&w, &sb, 0);
	jw_obj(&w, NULL);
	jw_raw(&w, "part", &part);
	jw_end(&w);
	CHECK_EQ(u, jw_finish(&w), 0);
	v = read_back(&sb);
	if (CHECK(u, v != NULL))
		CHECK_EQ(u, json_array_size(json_object_get(v, "part")), 2);
	json_decref(v);

	strbuf_reset(&sb);
	part.failed = 1;
	jw_init(&w, &sb, 0);
	jw_obj(&w, NULL);
	jw_raw(&w, "part", &part);
	jw_end(&w);
	CHECK(u, jw_finish(&w) != 0);
	CHECK(u, sb.failed);
	strbuf_release(&part);
	strbuf_release(&sb);
}

/* Each misuse makes the document fail instead of coming out broken. */
static void t_jw_misuse(struct unit *u)
{
	struct strbuf sb = STRBUF_INIT;
	struct jw w;
	int i, k;

	for (k = 0; k < 7; k++) {
		strbuf_release(&sb);
		jw_init(&w, &sb, 1);
		switch (k) {
		case 0:	/* a member without a key in an object */
			jw_obj(&w, NULL);
			jw_int(&w, NULL, 1);
			jw_end(&w);
			break;
		case 1:	/* a key in an array */
			jw_arr(&w, NULL);
			jw_int(&w, "k", 1);
			jw_end(&w);
			break;
		case 2:	/* left open */
			jw_obj(&w, NULL);
			break;
		case 3:	/* one end too many */
			jw_arr(&w, NULL);
			jw_end(&w);
			jw_end(&w);
			break;
		case 4:	/* two values at the top */
			jw_int(&w, NULL, 1);
			jw_int(&w, NULL, 2);
			break;
		case 5:	/* nothing at all */
			break;
		case 6:	/* deeper than the writer keeps */
			for (i = 0; i < JW_MAX_DEPTH + 2; i++)
				jw_arr(&w, NULL);
			for (i = 0; i < JW_MAX_DEPTH + 2; i++)
				jw_end(&w);
			break;
		}
		if (!CHECK(u, jw_finish(&w) != 0))
			fprintf(stderr, "  misuse %d was written: %s\n", k, strbuf_str(&sb));
		CHECK(u, sb.failed);
	}
	strbuf_release(&sb);
}

UNIT_SUITE(jw)
{
	UNIT_RUN(u, t_jw_document);
	UNIT_RUN(u, t_jw_hostile_strings);
	UNIT_RUN(u, t_jw_numbers);
	UNIT_RUN(u, t_jw_raw);
	UNIT_RUN(u, t_jw_misuse);
}
