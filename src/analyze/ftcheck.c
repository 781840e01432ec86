/*
 * ftcheck.c - classes of tests and the verdict of ft-check; see ftcheck.h.
 */
#include "ftcheck.h"

#include <stdio.h>
#include <string.h>

int ft_missing_module(const char *text, char *out, size_t len)
{
	static const char mark[] = "No module named '";
	const char *p = text ? strstr(text, mark) : NULL, *end, *dot;
	size_t n;

	if (!p || !len)
		return 0;
	p += sizeof(mark) - 1;
	end = strchr(p, '\'');
	if (!end || end == p)
		return 0;
	for (dot = p; dot < end; dot++)
		if (*dot == '\n')
			return 0;
	dot = memrchr(p, '.', (size_t)(end - p));
	if (dot)
		p = dot + 1;
	n = (size_t)(end - p);
	if (!n || n > 4096)
		return 0;
	snprintf(out, len, "%.*s", (int)n, p);	/* cut at len - 1 */
	return 1;
}

void ft_count(struct ft_counts *c, enum ft_outcome o)
{
	switch (o) {
	case FT_RUN_PASS: c->pass++; break;
	case FT_RUN_FAIL: c->fail++; break;
	case FT_RUN_CRASH: c->crash++; break;
	case FT_RUN_HANG: c->hang++; break;
	}
}

int ft_counts_total(const struct ft_counts *c)
{
	return c->pass + c->fail + c->crash + c->hang;
}

enum ft_class ft_classify(const struct ft_counts *nogil, const struct ft_counts *gil, int repeat)
{
	int bad_gil = gil->fail + gil->crash + gil->hang;

	/* a crash or a hang is named whatever else happened: it is the
	 * thing to look at first, and it says in which mode it came */
	if (nogil->crash || gil->crash)
		return FTC_CRASH;
	if (nogil->hang || gil->hang)
		return FTC_HANG;
	if (ft_counts_total(nogil) < repeat || ft_counts_total(gil) < repeat)
		return FTC_NOT_RUN;
	if (bad_gil)
		return FTC_FAILS_EVERYWHERE;
	if (!nogil->fail)
		return FTC_PASS;
	return nogil->pass ? FTC_FLAKY_WITHOUT_GIL : FTC_FAILS_WITHOUT_GIL;
}

enum ft_trouble ft_trouble(const struct ft_counts *nogil, const struct ft_counts *gil)
{
	if (gil->fail + gil->crash + gil->hang)
		return FT_TROUBLE_EVERYWHERE;
	if (nogil->fail + nogil->crash + nogil->hang)
		return FT_TROUBLE_NOGIL;
	return FT_TROUBLE_NONE;
}

enum ft_verdict ft_decide(int free_threaded, const struct ft_tally *t, int gil_reenabled,
			  int interrupted)
{
	if (!free_threaded)
		return FTV_NOT_FREE_THREADED;
	/* trouble found stands even in a partial run */
	if (t->nogil_only)
		return FTV_UNSAFE;
	if (t->everywhere)
		return FTV_FAILING;
	if (interrupted || t->not_run || !t->tests)
		return FTV_INCOMPLETE;
	return gil_reenabled ? FTV_GIL_REENABLED : FTV_READY;
}

const char *ft_class_name(enum ft_class c)
{
	switch (c) {
	case FTC_PASS: return "pass";
	case FTC_FAILS_EVERYWHERE: return "fails-everywhere";
	case FTC_FAILS_WITHOUT_GIL: return "fails-without-gil";
	case FTC_FLAKY_WITHOUT_GIL: return "flaky-without-gil";
	case FTC_CRASH: return "crash";
	case FTC_HANG: return "hang";
	case FTC_NOT_RUN: return "not-run";
	case FTC_COUNT: break;
	}
	return "?";
}

const char *ft_verdict_name(enum ft_verdict v)
{
	switch (v) {
	case FTV_READY: return "ready";
	case FTV_GIL_REENABLED: return "gil-reenabled";
	case FTV_UNSAFE: return "unsafe";
	case FTV_FAILING: return "failing";
	case FTV_NOT_FREE_THREADED: return "not-free-threaded";
	case FTV_INCOMPLETE: return "incomplete";
	}
	return "?";
}
