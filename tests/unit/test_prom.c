/* test_prom.c - the Prometheus text renderer (report/prom): escaping and
 * cutting of label values, which series exist when, one sample per line. */
#include "unit.h"
#include "../../src/report/prom.h"

#include <string.h>

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;

	for (s = strstr(s, needle); s; s = strstr(s + 1, needle))
		n++;
	return n;
}

static void t_escape_and_cut(struct unit *u)
{
	struct strbuf sb = STRBUF_INIT;
	struct prom_self self = { 0 };
	struct prom_proc p;
	char cmd[300], want[PROM_COMMAND_MAX + 2];
	const char *out;

	memset(&p, 0, sizeof(p));
	memset(cmd, 'x', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = 0;
	memcpy(cmd, "a\"b\\c\nd", 7);
	p.pid = 42;
	p.command = cmd;
	p.version = "3.14.0";
	report_prom(&sb, &p, 1, &self);
	CHECK(u, !sb.failed);
	out = strbuf_str(&sb);
	CHECK(u, strstr(out, "command=\"a\\\"b\\\\c\\nd") != NULL);
	/* cut at PROM_COMMAND_MAX bytes of the command: 7 above, then x's */
	memset(want, 'x', sizeof(want));
	want[PROM_COMMAND_MAX - 7] = '"';
	want[PROM_COMMAND_MAX - 6] = 0;
	CHECK(u, strstr(out, want) != NULL);
	want[PROM_COMMAND_MAX - 7] = 'x';
	want[PROM_COMMAND_MAX - 6] = '"';
	want[PROM_COMMAND_MAX - 5] = 0;
	CHECK(u, strstr(out, want) == NULL);
	strbuf_release(&sb);
}

static void t_series(struct unit *u)
{
	struct strbuf sb = STRBUF_INIT;
	struct prom_self self = { 0 };
	struct prom_proc p[2];
	const char *out, *l;

	memset(p, 0, sizeof(p));
	p[0].pid = 1;
	p[0].command = "python a.py";
	p[0].version = "3.9.18";
	p[0].gil_enabled = 1;
	p[0].have_window = 1;
	p[0].gil_contended = 0.5;
	p[0].switches_per_s = -1;	/* unknown: no series */
	p[0].verdict = "gil-bound-python";
	p[0].state_seconds[ST_GIL_WAIT] = 2.5;
	p[1].pid = 2;		/* no window yet: no gauges, no verdict */
	p[1].command = "python b.py";
	p[1].version = "3.14.0";
	p[1].free_threaded = 1;
	self.taken = 7;
	self.cpu_seconds = 0.25;
	report_prom(&sb, p, 2, &self);
	out = strbuf_str(&sb);
	CHECK_EQ(u, count(out, "\ngilscope_gil_contended_ratio{"), 1);
	CHECK_EQ(u, count(out, "\ngilscope_gil_switches_per_second{"), 0);
	CHECK_EQ(u, count(out, "\ngilscope_verdict_info{"), 1);
	CHECK(u, strstr(out, "kind=\"gil-bound-python\"} 1\n") != NULL);
	CHECK_EQ(u, count(out, "\ngilscope_thread_state_seconds_total{"), 2 * ST_COUNT);
	CHECK(u, strstr(out, "gil_enabled=\"true\",state=\"gil_wait\"} 2.5\n") != NULL);
	CHECK(u, strstr(out, "pid=\"2\",command=\"python b.py\",python=\"3.14.0\","
			 "free_threaded=\"true\",gil_enabled=\"false\"") != NULL);
	CHECK(u, strstr(out, "\ngilscope_samples_total 7\n") != NULL);
	CHECK(u, strstr(out, "\ngilscope_cpu_seconds_total 0.250000\n") != NULL);
	/* every line a comment or "name{...} value" / "name value" */
	for (l = out; *l; l = strchr(l, '\n') + 1) {
		const char *e = strchr(l, '\n');

		CHECK(u, e != NULL);
		if (!e)
			break;
		CHECK(u, *l == '#' || ((*l >= 'a' && *l <= 'z') && memchr(l, ' ', (size_t)(e - l))));
	}
	strbuf_release(&sb);
}

/* --thread-names: per name, each state; the name escaped like any value */
static void t_thread_names(struct unit *u)
{
	struct strbuf sb = STRBUF_INIT;
	struct prom_self self = { 0 };
	struct prom_tname tn[2];
	struct prom_proc p;
	const char *out;

	memset(&p, 0, sizeof(p));
	memset(tn, 0, sizeof(tn));
	memcpy(tn[0].name, "worker-\"1\"", 11);
	tn[0].state_seconds[ST_IO] = 1.5;
	memcpy(tn[1].name, "(other)", 7);
	p.pid = 3;
	report_prom(&sb, &p, 1, &self);
	CHECK(u, strstr(strbuf_str(&sb), "\ngilscope_thread_name_state_seconds_total{") == NULL);
	strbuf_reset(&sb);
	p.tnames = tn;
	p.ntnames = 2;
	report_prom(&sb, &p, 1, &self);
	out = strbuf_str(&sb);
	CHECK_EQ(u, count(out, "\ngilscope_thread_name_state_seconds_total{"), 2 * ST_COUNT);
	CHECK(u, strstr(out, "thread_name=\"worker-\\\"1\\\"\",state=\"io\"} 1.5\n") != NULL);
	CHECK(u, strstr(out, "thread_name=\"(other)\",state=\"sleep\"} 0\n") != NULL);
	strbuf_release(&sb);
}

UNIT_SUITE(prom)
{
	UNIT_RUN(u, t_thread_names);
	UNIT_RUN(u, t_escape_and_cut);
	UNIT_RUN(u, t_series);
}
