/*
 * prom.h - `serve`'s metrics in the Prometheus text exposition format
 * (version 0.0.4): per process, labelled pid, command, python, free_threaded
 * and gil_enabled, the GIL figures of the last window, the seconds its
 * threads spent in each state since it was first sampled (counters), its
 * threads per state now, its verdict as an info metric; and gilscope's own
 * counters. Label values are escaped as the format wants (\\, \", \n), the
 * command cut to PROM_COMMAND_MAX bytes, so a series is bounded in size
 * and the label set per process is fixed: no per-thread labels. Only
 * behind serve's --thread-names, the state seconds of the threads whose
 * name matches, per name (PROM_THREAD_NAMES_MAX names a process at most,
 * the rest summed under "(other)").
 */
#ifndef GS_REPORT_PROM_H
#define GS_REPORT_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "../sample/states.h"
#include "../util/strbuf.h"

#define PROM_COMMAND_MAX 80
#define PROM_THREAD_NAMES_MAX 16
#define PROM_THREAD_NAME_LEN 64

/* The threads of one name (a label value, NUL-terminated). */
struct prom_tname {
	char name[PROM_THREAD_NAME_LEN];
	double state_seconds[ST_COUNT];	/* counters */
};

struct prom_proc {
	int pid;
	const char *command, *version;
	int free_threaded, gil_enabled;
	int have_window;		/* the window figures below are known */
	double gil_held, gil_contended;	/* fractions of the window's instants */
	double switches_per_s;		/* < 0: unknown */
	const char *verdict;		/* verdict_kind_name(), NULL: none yet */
	double state_seconds[ST_COUNT];	/* counters */
	unsigned threads[ST_COUNT];	/* in the latest sample */
	uint64_t taken, lost;		/* samples of this process */
	const struct prom_tname *tnames;	/* --thread-names; may be NULL */
	size_t ntnames;
};

struct prom_self {
	uint64_t requested, taken, missed;	/* the loop's deadlines */
	double cpu_seconds;
	size_t targets;			/* processes sampled now */
	size_t unreadable;		/* selected, Python or not known, not readable */
};

/* Appends the exposition to sb (check sb->failed). */
void report_prom(struct strbuf *sb, const struct prom_proc *p, size_t n,
		 const struct prom_self *self);

#endif
