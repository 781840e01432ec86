/* test_prom.c - the Prometheus text renderer (report/prom): escaping and
 * cutting of label values, which series exist when, one sample per line;
 * the top stacks of a window (--top-stacks). */
#include "unit.h"
#include "../../src/report/prom.h"

#include <stdio.h>

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

static void feed(struct agg *a, int tid, enum gs_state st, const struct agg_frame_in *f,
		 size_t n, uint64_t key)
{
	struct agg_thread_in in;

	memset(&in, 0, sizeof(in));
	in.tid = tid;
	in.name = "t";
	in.state = st;
	in.frames = f;
	in.nframes = n;
	in.stack_key = key;
	agg_add_thread(a, &in);
}

/* --top-stacks: the same stack of two threads counted together, per state,
 * heaviest first, n of them; names with ';' or '"' made safe; a deep stack
 * cut to PROM_STACK_MAX bytes from the outside, its innermost frame kept */
static void t_top_stacks(struct unit *u)
{
	static const struct agg_frame_in hot[] = { { "hot", "m.py", 3 }, { "mid", "m.py", 2 },
						   { "main", "m.py", 1 } };
	static const struct agg_frame_in odd[] = { { "a\"b;c", "m.py", 5 }, { "main", "m.py", 1 } };
	struct agg_frame_in deep[100];
	char names[100][24];
	struct agg a;
	struct agg_options o;
	struct prom_stack top[8];
	struct prom_proc p;
	struct prom_self self = { 0 };
	struct strbuf sb = STRBUF_INIT;
	const char *out;
	size_t len;
	int i, n;

	for (i = 0; i < 100; i++) {
		snprintf(names[i], sizeof(names[i]), "frame_%03u", (unsigned)i % 1000u);
		deep[i].func = names[i];
		deep[i].file = "d.py";
		deep[i].line = i;
	}
	memset(&o, 0, sizeof(o));
	o.rate_hz = 10;
	CHECK_EQ(u, agg_init(&a, &o), 0);
	for (i = 0; i < 10; i++) {
		agg_begin_sample(&a, (uint64_t)i * 100000000ull, 1, 1, 0);
		feed(&a, 1, ST_PYTHON, hot, 3, 11);	/* pending in the agg */
		feed(&a, 2, i < 4 ? ST_GIL_WAIT : ST_PYTHON, hot, 3, 0);
		if (i < 2)
			feed(&a, 3, ST_IO, odd, 2, 0);
		if (i == 0)
			feed(&a, 4, ST_SLEEP, deep, 100, 0);
		agg_end_sample(&a);
	}
	n = prom_top_stacks(&a, 8, top);
	CHECK_EQ(u, n, 4);
	if (n == 4) {
		CHECK_STREQ(u, top[0].stack, "main;mid;hot");
		CHECK(u, top[0].state == ST_PYTHON && top[0].threads > 1.59 && top[0].threads < 1.61);
		CHECK_STREQ(u, top[1].stack, "main;mid;hot");
		CHECK(u, top[1].state == ST_GIL_WAIT && top[1].threads > 0.39 && top[1].threads < 0.41);
		CHECK_STREQ(u, top[2].stack, "main;a\"b_c");
		CHECK(u, top[2].state == ST_IO);
		len = strlen(top[3].stack);
		CHECK(u, len <= PROM_STACK_MAX && len > PROM_STACK_MAX - 12);
		CHECK(u, !strncmp(top[3].stack, "...;frame_", 10));
		CHECK(u, len >= 10 && !strcmp(top[3].stack + len - 10, ";frame_000"));
	}
	CHECK_EQ(u, prom_top_stacks(&a, 2, top), 2);	/* N bounds them */
	memset(&p, 0, sizeof(p));
	p.pid = 7;
	p.stacks = top;
	p.nstacks = 2;
	top[1] = top[0];
	memcpy(top[1].stack, "main;a\"b\\c", 11);
	report_prom(&sb, &p, 1, &self);
	out = strbuf_str(&sb);
	CHECK_EQ(u, count(out, "\ngilscope_stack_threads{"), 2);
	CHECK(u, strstr(out, ",stack=\"main;mid;hot\",state=\"python\"} 1.6\n") != NULL);
	CHECK(u, strstr(out, ",stack=\"main;a\\\"b\\\\c\",state=\"python\"} 1.6\n") != NULL);
	strbuf_release(&sb);
	agg_release(&a);
}

UNIT_SUITE(prom)
{
	UNIT_RUN(u, t_thread_names);
	UNIT_RUN(u, t_escape_and_cut);
	UNIT_RUN(u, t_series);
	UNIT_RUN(u, t_top_stacks);
}
