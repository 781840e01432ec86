/* test_error.c - the reasons behind GS_ECORRUPT (util/error.h). */
#include "unit.h"
#include "../../src/util/error.h"

#include <stdio.h>
#include <string.h>

static int check_a(int bad)
{
	if (bad)
		return GS_CORRUPT("bad > 0");
	return 0;
}

static int check_b(void)
{
	return GS_CORRUPT("always");
}

static const struct gs_why *find(const char *why)
{
	const struct gs_why *w[64];
	size_t n = gs_why_counts(w, 64), i;

	for (i = 0; i < n; i++)
		if (!strcmp(w[i]->why, why))
			return w[i];
	return NULL;
}

static void t_why(struct unit *u)
{
	const struct gs_why *w, *top[2];
	unsigned long mark;
	char buf[160];
	int i;

	/* a sample with no failed check has no first reason */
	mark = gs_why_mark();
	CHECK(u, check_a(0) == 0);
	CHECK(u, gs_why_first(mark) == NULL);
	/* the first of two is the sample's; the last is the latest */
	mark = gs_why_mark();
	CHECK(u, check_a(1) == GS_ECORRUPT);
	CHECK(u, check_b() == GS_ECORRUPT);
	w = gs_why_first(mark);
	CHECK(u, w && !strcmp(w->why, "bad > 0") && !strcmp(w->func, "check_a") &&
		 !strcmp(w->file, "test_error.c"));
	CHECK(u, gs_why_last() && !strcmp(gs_why_last()->why, "always"));
	gs_why_count(w);
	/* counted per sample, most often first */
	for (i = 0; i < 3; i++) {
		mark = gs_why_mark();
		check_b();
		check_a(1);
		gs_why_count(gs_why_first(mark));
	}
	CHECK(u, find("always") && find("always")->count >= 3);
	CHECK(u, find("bad > 0") && find("bad > 0")->count >= 1);
	CHECK(u, gs_why_counts(top, 2) == 2 && top[0]->count >= top[1]->count);
	gs_why_format(find("always"), buf, sizeof(buf));
	CHECK(u, strstr(buf, "test_error.c:") == buf && strstr(buf, " check_b: always"));
	gs_why_count(NULL);	/* nothing to count: no effect, no crash */
}

UNIT_SUITE(error)
{
	UNIT_RUN(u, t_why);
}
