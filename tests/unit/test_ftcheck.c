/* test_ftcheck.c - ft-check's pure parts: the class of a test from its
 * runs, the verdict, the command's shape, pytest's collected ids, a child's
 * environment, and the three renderers on a synthetic report. */
#include "unit.h"
#include "../../src/analyze/ftcheck.h"
#include "../../src/cpython/dist.h"
#include "../../src/cpython/extscan.h"
#include "../../src/cmd/ft_run.h"
#include "../../src/report/ftcheck.h"
#include "../../src/target/tproc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static struct ft_counts C(int pass, int fail, int crash, int hang)
{
	struct ft_counts c = { pass, fail, crash, hang };

	return c;
}

static enum ft_class cls(struct ft_counts nogil, struct ft_counts gil)
{
	return ft_classify(&nogil, &gil, 3);
}

static void t_ftcheck_classify(struct unit *u)
{
	CHECK_EQ(u, cls(C(3, 0, 0, 0), C(3, 0, 0, 0)), FTC_PASS);
	CHECK_EQ(u, cls(C(0, 3, 0, 0), C(3, 0, 0, 0)), FTC_FAILS_WITHOUT_GIL);
	CHECK_EQ(u, cls(C(2, 1, 0, 0), C(3, 0, 0, 0)), FTC_FLAKY_WITHOUT_GIL);
	/* failing with the GIL too, even once: not a free-threading problem */
	CHECK_EQ(u, cls(C(0, 3, 0, 0), C(0, 3, 0, 0)), FTC_FAILS_EVERYWHERE);
	CHECK_EQ(u, cls(C(3, 0, 0, 0), C(2, 1, 0, 0)), FTC_FAILS_EVERYWHERE);
	/* a crash or a hang is named first, whichever mode it came in */
	CHECK_EQ(u, cls(C(2, 0, 1, 0), C(3, 0, 0, 0)), FTC_CRASH);
	CHECK_EQ(u, cls(C(3, 0, 0, 0), C(2, 0, 0, 1)), FTC_HANG);
	CHECK_EQ(u, cls(C(1, 1, 0, 1), C(3, 0, 0, 0)), FTC_HANG);
	/* interrupted before every run */
	CHECK_EQ(u, cls(C(3, 0, 0, 0), C(1, 0, 0, 0)), FTC_NOT_RUN);
	CHECK_EQ(u, cls(C(0, 0, 0, 0), C(0, 0, 0, 0)), FTC_NOT_RUN);

	struct ft_counts a = C(1, 0, 0, 0), b = C(1, 0, 0, 0);

	CHECK_EQ(u, ft_trouble(&a, &b), FT_TROUBLE_NONE);
	a.crash = 1;
	CHECK_EQ(u, ft_trouble(&a, &b), FT_TROUBLE_NOGIL);
	b.hang = 1;
	CHECK_EQ(u, ft_trouble(&a, &b), FT_TROUBLE_EVERYWHERE);
	ft_count(&b, FT_RUN_FAIL);
	CHECK_EQ(u, b.fail, 1);
	CHECK_EQ(u, ft_counts_total(&b), 3);
}

static void t_ftcheck_verdict(struct unit *u)
{
	struct ft_tally t = { 0, 0, 0, 5 };

	CHECK_EQ(u, ft_decide(0, &t, 0, 0), FTV_NOT_FREE_THREADED);
	CHECK_EQ(u, ft_decide(1, &t, 0, 0), FTV_READY);
	CHECK_EQ(u, ft_decide(1, &t, 1, 0), FTV_GIL_REENABLED);
	CHECK_EQ(u, ft_decide(1, &t, 0, 1), FTV_INCOMPLETE);
	t.everywhere = 1;
	CHECK_EQ(u, ft_decide(1, &t, 1, 0), FTV_FAILING);
	t.nogil_only = 1;
	CHECK_EQ(u, ft_decide(1, &t, 1, 0), FTV_UNSAFE);
	/* trouble found stands in a partial run */
	CHECK_EQ(u, ft_decide(1, &t, 0, 1), FTV_UNSAFE);
	t.nogil_only = t.everywhere = 0;
	t.tests = 0;
	CHECK_EQ(u, ft_decide(1, &t, 0, 0), FTV_INCOMPLETE);
	CHECK_STREQ(u, ft_verdict_name(FTV_GIL_REENABLED), "gil-reenabled");
	CHECK_STREQ(u, ft_class_name(FTC_FLAKY_WITHOUT_GIL), "flaky-without-gil");
}

static void t_ftcheck_command(struct unit *u)
{
	char *a1[] = { "pytest", "-x", "tests/" };
	char *a2[] = { "/usr/bin/python3.14t", "-m", "pytest", "tests/" };
	char *a3[] = { "python", "-m", "unittest", "discover" };
	char *a4[] = { "python3", "run_tests.py", "-v" };
	char *a5[] = { "make", "test" };
	char *a6[] = { "python", "-X", "dev", "t.py" };
	char *a7[] = { "python", "-m", "unittest_extra" };
	int first;

	CHECK_EQ(u, ft_command_kind(a1, 3, &first), FT_KIND_PYTEST);
	CHECK_EQ(u, first, 1);
	CHECK_EQ(u, ft_command_kind(a2, 4, &first), FT_KIND_PYTEST);
	CHECK_EQ(u, first, 3);
	CHECK_EQ(u, ft_command_kind(a3, 4, &first), FT_KIND_UNITTEST);
	CHECK_EQ(u, first, 3);
	CHECK_EQ(u, ft_command_kind(a7, 3, &first), FT_KIND_MODULE);
	CHECK_EQ(u, first, 2);
	CHECK_EQ(u, ft_command_kind(a4, 3, &first), FT_KIND_SCRIPT);
	CHECK_EQ(u, first, 1);
	CHECK_EQ(u, ft_command_kind(a5, 2, &first), FT_KIND_OTHER);
	CHECK_EQ(u, ft_command_kind(a6, 4, &first), FT_KIND_OTHER);
	CHECK_EQ(u, ft_command_kind(a5, 0, &first), FT_KIND_OTHER);
}

static void t_ftcheck_collected(struct unit *u)
{
	const char out[] =
		"tests/test_a.py::test_one\n"
		"tests/test_a.py::TestK::test_two[1-x]\r\n"
		"  <warning line>\n"
		"tests/test_b.py::test_three\n"
		"\n"
		"3 tests collected in 0.01s\n"
		"tests/test_c.py::after_the_summary\n";
	char *ids[4] = { NULL };
	long n, i;

	n = ft_parse_collected(out, sizeof(out) - 1, ids, 4);
	CHECK_EQ(u, n, 3);
	CHECK_STREQ(u, ids[0], "tests/test_a.py::test_one");
	CHECK_STREQ(u, ids[1], "tests/test_a.py::TestK::test_two[1-x]");
	CHECK_STREQ(u, ids[2], "tests/test_b.py::test_three");
	for (i = 0; i < n; i++)
		free(ids[i]);
	/* the bound holds */
	n = ft_parse_collected(out, sizeof(out) - 1, ids, 1);
	CHECK_EQ(u, n, 1);
	free(ids[0]);
	/* nothing collected; no newline at the end */
	CHECK_EQ(u, ft_parse_collected("no tests ran", 12, ids, 4), 0);
}

static void t_ftcheck_listed(struct unit *u)
{
	const char out[] =
		"{\"top\": \"/src/tests\"}\n"
		"{\"id\": \"test_a.K.test_one\"}\n"
		"not json\n"
		"\n"
		"{\"id\": \"\"}\n"
		"{\"top\": \"/ignored\"}\n"
		"{\"id\": \"pkg.test_b.K.test_two\"}";
	char *ids[4] = { NULL }, *top;
	long n, i;

	n = ft_parse_listed(out, sizeof(out) - 1, ids, 4, &top);
	CHECK_EQ(u, n, 2);
	CHECK_STREQ(u, top, "/src/tests");
	CHECK_STREQ(u, ids[0], "test_a.K.test_one");
	CHECK_STREQ(u, ids[1], "pkg.test_b.K.test_two");
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(top);
	/* the bound holds */
	n = ft_parse_listed(out, sizeof(out) - 1, ids, 1, &top);
	CHECK_EQ(u, n, 1);
	free(ids[0]);
	free(top);
	/* no top line */
	n = ft_parse_listed("{\"id\": \"a.b\"}", 13, ids, 4, &top);
	CHECK_EQ(u, n, 1);
	CHECK(u, top == NULL);
	if (n == 1)
		free(ids[0]);
}

static void t_ftcheck_missing_module(struct unit *u)
{
	char name[8];

	CHECK_EQ(u, ft_missing_module("E   ModuleNotFoundError: No module named 'pkg.sub._ext'\n",
				      name, sizeof(name)), 1);
	CHECK_STREQ(u, name, "_ext");
	CHECK_EQ(u, ft_missing_module("No module named 'averyverylongname'", name, sizeof(name)), 1);
	CHECK_STREQ(u, name, "averyve");	/* cut at the buffer */
	CHECK_EQ(u, ft_missing_module("No module named ''", name, sizeof(name)), 0);
	CHECK_EQ(u, ft_missing_module("No module named 'open\nquote'", name, sizeof(name)), 0);
	CHECK_EQ(u, ft_missing_module("No module named 'pkg.'", name, sizeof(name)), 0);
	CHECK_EQ(u, ft_missing_module("ImportError: cannot import name 'x'", name, sizeof(name)), 0);
	CHECK_EQ(u, ft_missing_module(NULL, name, sizeof(name)), 0);
}

static void t_ftcheck_env(struct unit *u)
{
	char *base[] = { "PATH=/bin", "PYTHON_GIL=1", "HOME=/root", "PYTHON_GILX=7", NULL };
	struct tproc_env env = { { "PYTHON_GIL=0", "NEW=1" }, 2, { "HOME" }, 1 };
	const char *out[8];
	long n;

	n = tproc_make_env(base, &env, out, 8);
	CHECK_EQ(u, n, 4);
	CHECK_STREQ(u, out[0], "PATH=/bin");
	CHECK_STREQ(u, out[1], "PYTHON_GILX=7");	/* a longer name is another variable */
	CHECK_STREQ(u, out[2], "PYTHON_GIL=0");
	CHECK_STREQ(u, out[3], "NEW=1");
	CHECK(u, out[4] == NULL);
	CHECK_EQ(u, tproc_make_env(base, &env, out, 4), -1);
	CHECK_EQ(u, tproc_make_env(NULL, NULL, out, 1), 0);
}

static void t_ftcheck_render(struct unit *u)
{
	struct ft_test_result tests[2];
	struct ft_module mod = { "needs_gil_ext", "t.py::b", 1, NULL };
	char *mods[] = { "needs_gil_ext" };
	struct ft_report r;
	struct strbuf sb = STRBUF_INIT;
	json_t *doc;
	json_error_t e;

	memset(tests, 0, sizeof(tests));
	memset(&r, 0, sizeof(r));
	tests[0].id = "t.py::a<&>";
	tests[0].cls = FTC_FLAKY_WITHOUT_GIL;
	tests[0].runs[FT_NOGIL] = C(2, 1, 0, 0);
	tests[0].runs[FT_GIL] = C(3, 0, 0, 0);
	tests[0].tail = "E  assert 1 == 2\n";
	tests[1].id = "t.py::b";
	tests[1].cls = FTC_CRASH;
	tests[1].runs[FT_NOGIL] = C(0, 0, 3, 0);
	tests[1].runs[FT_GIL] = C(3, 0, 0, 0);
	tests[1].signal_name = "SIGSEGV";
	tests[1].gil_modules = mods;
	tests[1].ngil_modules = 1;
	r.python = "python3.14t";
	r.version = "3.14.0";
	r.free_threaded = 1;
	r.command = "pytest";
	r.per_test = 1;
	r.repeat = 3;
	r.jobs = 2;
	r.timeout_s = 60;
	r.tests = tests;
	r.ntests = 2;
	r.by_class[FTC_FLAKY_WITHOUT_GIL] = r.by_class[FTC_CRASH] = 1;
	r.modules = &mod;
	r.nmodules = 1;
	r.gil_read_runs = 3;
	r.gil_needed_runs = 3;
	r.verdict = FTV_UNSAFE;

	report_ftcheck_text(&sb, &r);
	CHECK(u, strstr(strbuf_str(&sb), "verdict: unsafe"));
	CHECK(u, strstr(strbuf_str(&sb), "flaky-without-gil  t.py::a<&>"));
	CHECK(u, strstr(strbuf_str(&sb), "killed by SIGSEGV without the GIL"));
	CHECK(u, strstr(strbuf_str(&sb), "needs_gil_ext"));
	strbuf_reset(&sb);

	report_ftcheck_json(&sb, &r);
	doc = json_loads(strbuf_str(&sb), 0, &e);
	CHECK(u, doc != NULL);
	if (doc) {
		json_t *t1 = json_array_get(json_object_get(doc, "tests"), 1);

		CHECK_STREQ(u, json_string_value(json_object_get(doc, "verdict")), "unsafe");
		CHECK_STREQ(u, json_string_value(json_object_get(t1, "signal")), "SIGSEGV");
		CHECK_EQ(u, json_integer_value(json_object_get(json_object_get(
			json_object_get(t1, "runs"), "nogil"), "crash")), 3);
		json_decref(doc);
	}
	strbuf_reset(&sb);

	report_ftcheck_junit(&sb, &r);
	CHECK(u, strstr(strbuf_str(&sb), "name=\"t.py::a&lt;&amp;&gt;\""));
	CHECK(u, strstr(strbuf_str(&sb), "<failure type=\"flaky-without-gil\""));
	CHECK(u, strstr(strbuf_str(&sb), "<error type=\"crash\""));
	CHECK(u, strstr(strbuf_str(&sb), "failures=\"1\" errors=\"1\""));
	strbuf_release(&sb);
}

static void t_ftcheck_ext_tag(struct unit *u)
{
	struct ext_info x;

	ext_tag_from_name("/sp/np/_core/_umath.cpython-313t-x86_64-linux-gnu.so", &x);
	CHECK_STREQ(u, x.tag, "cpython-313t");
	CHECK_EQ(u, x.ft_abi, 1);
	ext_tag_from_name("m.cpython-314-x86_64-linux-gnu.so", &x);
	CHECK_STREQ(u, x.tag, "cpython-314");
	CHECK_EQ(u, x.ft_abi, 0);
	ext_tag_from_name("/x/_speedups.abi3.so", &x);
	CHECK_STREQ(u, x.tag, "abi3");
	CHECK_EQ(u, x.ft_abi, 0);
	ext_tag_from_name("/x.cpython-313t/plain.so", &x);	/* the directory does not count */
	CHECK_STREQ(u, x.tag, "");
	CHECK_EQ(u, x.ft_abi, -1);
	ext_tag_from_name("odd.cpython-", &x);
	CHECK_EQ(u, x.ft_abi, 0);
}

/* a data section with 16-byte entries {id, 0, value} from `e` (n of them) */
static size_t slots(uint8_t *buf, const uint64_t (*e)[2], size_t n)
{
	size_t i, k;

	memset(buf, 0, 16 * n);
	for (i = 0; i < n; i++)
		for (k = 0; k < 8; k++) {
			buf[16 * i + k] = (uint8_t)(k < 4 ? e[i][0] >> (8 * k) : 0);
			buf[16 * i + 8 + k] = (uint8_t)(e[i][1] >> (8 * k));
		}
	return 16 * n;
}

static void t_ftcheck_gil_slot(struct unit *u)
{
	/* at 0x1000: {exec, fn}, {multiple_interpreters, 2}, {gil, NOT_USED}, {0} */
	const uint64_t mod[][2] = { { 2, 0x1234 }, { 3, 2 }, { 4, 1 }, { 0, 0 } };
	/* looks like {gil, 0}, {0}, but nothing makes it an array of slots */
	const uint64_t junk[][2] = { { 7, 9 }, { 4, 0 }, { 0, 0 } };
	/* 3.15's numbers: {Py_mod_exec 85, fn}, {Py_mod_gil 87, 1}, {0} */
	const uint64_t mod315[][2] = { { 85, 0 }, { 87, 1 }, { 0, 0 } };
	/* a PySlot with flags (PySlot_INTPTR) in the high half of its id */
	const uint64_t flagged[][2] = { { 2, 0 }, { 4 | 4u << 16, 1 }, { 0, 0 } };
	uint64_t at_exec[] = { 0x1008 }, to_start[] = { 0x1000 }, at_gil[] = { 0x1008, 0x1028 };
	struct ext_relocs none = { NULL, 0, NULL, 0 };
	struct ext_relocs exec_reloc = { at_exec, 1, NULL, 0 };
	struct ext_relocs pointed = { NULL, 0, to_start, 1 };
	struct ext_relocs gil_reloc = { at_gil, 2, NULL, 0 };
	uint8_t buf[256];
	uint64_t v = 9;
	size_t n;

	n = slots(buf, mod, 4);
	CHECK_EQ(u, ext_find_gil_slot(buf, n, 0x1000, &none, &v), 0);
	CHECK_EQ(u, ext_find_gil_slot(buf, n, 0x1000, &exec_reloc, &v), 1);
	CHECK_EQ(u, v, 1);
	v = 9;
	CHECK_EQ(u, ext_find_gil_slot(buf, n, 0x1000, &pointed, &v), 1);
	CHECK_EQ(u, v, 1);
	/* a relocated value is a pointer, not Py_MOD_GIL_NOT_USED */
	CHECK_EQ(u, ext_find_gil_slot(buf, n, 0x1000, &gil_reloc, &v), 0);
	/* cut before its end: no terminator, no array */
	CHECK_EQ(u, ext_find_gil_slot(buf, 48, 0x1000, &exec_reloc, &v), 0);

	n = slots(buf, junk, 3);
	CHECK_EQ(u, ext_find_gil_slot(buf, n, 0x1000, &exec_reloc, &v), 0);

	n = slots(buf, mod315, 3);
	CHECK_EQ(u, ext_find_gil_slot(buf, n, 0x1000, &pointed, &v), 1);
	CHECK_EQ(u, v, 1);

	n = slots(buf, flagged, 3);
	v = 9;
	CHECK_EQ(u, ext_find_gil_slot(buf, n, 0x1000, &pointed, &v), 1);
	CHECK_EQ(u, v, 1);
	/* not an ELF image at all */
	{
		struct ext_info x;

		CHECK(u, ext_scan_mem(buf, n, &x) < 0);
	}
	CHECK_STREQ(u, ext_gil_name(EXT_GIL_UNDECLARED), "undeclared");
}

static int collect_row(void *arg, const char *path, size_t len)
{
	struct strbuf *sb = arg;

	strbuf_add(sb, path, len);
	strbuf_addch(sb, '|');
	return 0;
}

static void t_ftcheck_dist(struct unit *u)
{
	const char rec[] =
		"numpy/_core/_umath.cpython-313t-x86_64-linux-gnu.so,sha256=abc,123\r\n"
		"\"odd,name/x.so\",sha256=def,4\n"
		"numpy-2.4.6.dist-info/RECORD,,\n"
		"\n"
		"last_without_newline.py";
	struct strbuf sb = STRBUF_INIT;
	char name[DIST_NAME_MAX], version[DIST_VERSION_MAX];

	CHECK_EQ(u, dist_from_dirname("numpy-2.4.6.dist-info", name, sizeof(name), version,
				      sizeof(version)), 0);
	CHECK_STREQ(u, name, "numpy");
	CHECK_STREQ(u, version, "2.4.6");
	CHECK_EQ(u, dist_from_dirname("zope_interface-7.0.dist-info", name, sizeof(name), version,
				      sizeof(version)), 0);
	CHECK_STREQ(u, name, "zope_interface");
	CHECK_EQ(u, dist_from_dirname("numpy.egg-info", name, sizeof(name), version,
				      sizeof(version)), -1);
	CHECK_EQ(u, dist_from_dirname("-1.0.dist-info", name, sizeof(name), version,
				      sizeof(version)), -1);
	CHECK_EQ(u, dist_from_dirname("numpy-.dist-info", name, sizeof(name), version,
				      sizeof(version)), -1);
	dist_record_paths(rec, sizeof(rec) - 1, 100, collect_row, &sb);
	CHECK_STREQ(u, strbuf_str(&sb), "numpy/_core/_umath.cpython-313t-x86_64-linux-gnu.so|"
		    "odd,name/x.so|numpy-2.4.6.dist-info/RECORD|last_without_newline.py|");
	strbuf_reset(&sb);
	dist_record_paths(rec, sizeof(rec) - 1, 1, collect_row, &sb);	/* the bound */
	CHECK_STREQ(u, strbuf_str(&sb), "numpy/_core/_umath.cpython-313t-x86_64-linux-gnu.so|");
	strbuf_release(&sb);
}

UNIT_SUITE(ftcheck)
{
	UNIT_RUN(u, t_ftcheck_dist);
	UNIT_RUN(u, t_ftcheck_ext_tag);
	UNIT_RUN(u, t_ftcheck_gil_slot);
	UNIT_RUN(u, t_ftcheck_classify);
	UNIT_RUN(u, t_ftcheck_verdict);
	UNIT_RUN(u, t_ftcheck_command);
	UNIT_RUN(u, t_ftcheck_collected);
	UNIT_RUN(u, t_ftcheck_listed);
	UNIT_RUN(u, t_ftcheck_missing_module);
	UNIT_RUN(u, t_ftcheck_env);
	UNIT_RUN(u, t_ftcheck_render);
}
