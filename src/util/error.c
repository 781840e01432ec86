/* error.c - names and exit codes of gilscope's error codes. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *gs_strerror(int err)
{
	switch (err) {
	case GS_OK: return "success";
	case GS_ENOPROC: return "no such process";
	case GS_EPERM: return "permission denied";
	case GS_ENOTPY: return "not a Python process";
	case GS_EUNSUPPORTED: return "unsupported Python version or build";
	case GS_EEXITED: return "the process exited";
	case GS_EFAULT: return "remote memory could not be read";
	case GS_ECORRUPT: return "remote data failed a sanity check";
	case GS_ENOMEM: return "out of memory";
	case GS_EIO: return "I/O error";
	case GS_ERANGE: return "a limit was reached";
	case GS_EUSAGE: return "usage error";
	case GS_EPROCNS: return "/proc belongs to another PID namespace";
	default: return "error";
	}
}

int gs_exit_code(int err)
{
	switch (err) {
	case GS_OK: return GS_EXIT_OK;
	case GS_ENOPROC: return GS_EXIT_NOPROC;
	case GS_EPERM: return GS_EXIT_PERM;
	case GS_ENOTPY: return GS_EXIT_NOTPY;
	case GS_EUNSUPPORTED: return GS_EXIT_UNSUPPORTED;
	case GS_EEXITED: return GS_EXIT_EXITED;
	case GS_EUSAGE: return GS_EXIT_USAGE;
	case GS_EIO: return GS_EXIT_OUTPUT;
	default: return GS_EXIT_ERROR;
	}
}

/* --- why a check failed ------------------------------------------------------ */

#define WHY_SITES 512	/* distinct GS_CORRUPT sites: ~160 in the tree */

static struct gs_why sites[WHY_SITES];
static size_t nsites;
static const struct gs_why *last;
static unsigned long serial;		/* reasons recorded so far */
static unsigned long first_serial;	/* serial of `first` */
static const struct gs_why *first;	/* first reason after the latest mark */
static unsigned long mark_serial;
static int trace = -1;

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static void record(const char *file, int line, const char *func, const char *why,
		   const char *detail);

void gs_corrupt(const char *file, int line, const char *func, const char *why)
{
	record(file, line, func, why, NULL);
}

void gs_corruptf(const char *file, int line, const char *func, const char *fmt, ...)
{
	char detail[sizeof(sites[0].detail)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	record(file, line, func, detail, detail);
}

/* why: static text, or detail (copied: it is the caller's) */
static void record(const char *file, int line, const char *func, const char *why,
		   const char *detail)
{
	struct gs_why *w = NULL;
	size_t i;

	file = base_name(file);
	/* sites are few and their strings static: compare by address */
	for (i = 0; i < nsites && !w; i++)
		if (sites[i].line == line && !strcmp(sites[i].file, file))
			w = &sites[i];
	if (!w && nsites < WHY_SITES) {
		w = &sites[nsites++];
		w->file = file;
		w->line = line;
		w->func = func;
		w->why = why;
	}
	if (w && detail) {
		snprintf(w->detail, sizeof(w->detail), "%s", detail);
		w->why = w->detail;
	}
	if (w) {
		serial++;
		last = w;
		if (first_serial <= mark_serial) {
			first = w;
			first_serial = serial;
		}
	}
	if (trace < 0) {
		const char *t = getenv("GILSCOPE_TRACE");

		trace = t && *t && strcmp(t, "0");
	}
	if (trace)
		fprintf(stderr, "gilscope trace: %s:%d %s: %s\n", file, line, func,
			w ? w->why : why);
}

const struct gs_why *gs_why_last(void)
{
	return last;
}

unsigned long gs_why_mark(void)
{
	mark_serial = serial;
	first = NULL;
	return mark_serial;
}

const struct gs_why *gs_why_first(unsigned long mark)
{
	return first && first_serial > mark ? first : NULL;
}

void gs_why_count(const struct gs_why *w)
{
	if (w)
		((struct gs_why *)w)->count++;
}

size_t gs_why_counts(const struct gs_why **out, size_t n)
{
	size_t i, j, k = 0;

	for (i = 0; i < nsites; i++) {
		if (!sites[i].count)
			continue;
		/* insertion, most first: at most n kept */
		for (j = k; j > 0 && out[j - 1]->count < sites[i].count; j--)
			if (j < n)
				out[j] = out[j - 1];
		if (j < n) {
			out[j] = &sites[i];
			if (k < n)
				k++;
		}
	}
	return k;
}

void gs_why_format(const struct gs_why *w, char *buf, size_t len)
{
	if (len)
		snprintf(buf, len, "%s:%d %s: %s", w->file, w->line, w->func, w->why);
}
