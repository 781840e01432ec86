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
 * the rest summed under "(other)"). Only behind serve's --top-stacks N, the
 * N heaviest (stack, state) pairs of each process over the window, as a
 * gauge (prom_top_stacks()).
 */
#ifndef GS_REPORT_PROM_H
#define GS_REPORT_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "../analyze/agg.h"
#include "../sample/states.h"
#include "../util/strbuf.h"

#define PROM_COMMAND_MAX 80
#define PROM_THREAD_NAMES_MAX 16
#define PROM_THREAD_NAME_LEN 64
#define PROM_STACK_MAX 200	/* bytes of a stack label; outer frames cut */
#define PROM_TOP_STACKS_MAX 50	/* --top-stacks at most */

/* A stack of one process and a state, over a window: the functions,
 * outermost first, joined by ';' ("...;" first when outer frames were
 * cut to keep it within PROM_STACK_MAX bytes). */
struct prom_stack {
	char stack[PROM_STACK_MAX + 1];
	enum gs_state state;
	double threads;			/* in it on average over the window */
};

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
	const struct prom_stack *stacks;	/* --top-stacks, heaviest first */
	size_t nstacks;
};

struct prom_self {
	uint64_t requested, taken, missed;	/* the loop's deadlines */
	double cpu_seconds;
	size_t targets;			/* processes sampled now */
	size_t unreadable;		/* selected, Python or not known, not readable */
};

/* The (at most n) heaviest (stack, state) pairs of a, one process's
 * window, the same stack of several threads counted together, heaviest
 * first (ties by stack); returns how many were written to out, or a
 * negative gs_err (out of memory). */
int prom_top_stacks(const struct agg *a, size_t n, struct prom_stack *out);

/* Appends the exposition to sb (check sb->failed). */
void report_prom(struct strbuf *sb, const struct prom_proc *p, size_t n,
		 const struct prom_self *self);

#endif
