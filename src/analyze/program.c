/*
 * program.c - the verdict of a process tree; see program.h.
 *
 * Each process has its own verdict (verdict.c); the program's says whether
 * the work is in one process (then that process's verdict is the
 * program's), already spread over processes that each run one thread (the
 * GIL is then not what limits it), GIL-bound inside some of them (what
 * they run, and the remedy for that), or different from process to
 * process.
 */
#include "program.h"

#include <stdio.h>
#include <string.h>

/* A process's thread-samples that wanted a CPU: how much of the work it
 * holds. */
static double cpu_samples(const struct program_proc *p)
{
	double n = 0;
	size_t i;
	int s;

	for (i = 0; i < p->a->nthreads; i++)
		for (s = 0; s < ST_COUNT; s++)
			if (gs_state_info((enum gs_state)s)->flags & GS_WANTS_CPU)
				n += (double)p->a->threads[i].states[s];
	return n;
}

/* Does the process's verdict say it works on a CPU (not only waits)? */
static int works(enum verdict_kind k)
{
	return k != V_IDLE && k != V_IO_BOUND;
}

static int gil_bound(enum verdict_kind k)
{
	return k == V_GIL_BOUND_PYTHON || k == V_GIL_BOUND_NATIVE;
}

void verdict_program(const struct program_proc *p, size_t n, struct program_verdict *out)
{
	size_t i, top = 0, worst = 0;
	int count[V_MIXED + 1] = { 0 }, gil = 0, kinds = 0, k, working = 0;
	double most = -1, worst_busy = -1;

	memset(out, 0, sizeof(*out));
	out->processes = (int)n;
	/* the processes that work on a CPU decide; those that only wait (a
	 * pool's parent reading its workers' results) decide only when no
	 * process works */
	for (i = 0; i < n; i++)
		working += p[i].v->busy_threads && works(p[i].v->kind);
	for (i = 0; i < n; i++) {
		double b = cpu_samples(&p[i]);

		if (p[i].v->kind == V_IDLE || !p[i].v->busy_threads ||
		    (working && !works(p[i].v->kind)))
			continue;
		out->busy++;
		count[p[i].v->kind]++;
		if (b > most) {
			most = b;
			top = i;
		}
		if (gil_bound(p[i].v->kind) && b > worst_busy) {
			worst_busy = b;
			worst = i;
		}
		gil += gil_bound(p[i].v->kind);
	}
	for (k = 0; k <= V_MIXED; k++)
		kinds += count[k] > 0;
	if (!out->busy) {
		out->kind = V_IDLE;
		snprintf(out->summary, sizeof(out->summary),
			 "None of the %d Python process%s is busy: every thread spent most of "
			 "its time sleeping or waiting on a lock.", out->processes,
			 out->processes == 1 ? "" : "es");
		snprintf(out->advice, sizeof(out->advice),
			 "Nothing to fix here; if the program feels slow, look at what its "
			 "processes wait for (each one's report below).");
		return;
	}
	out->where = p[top].pid;
	if (out->busy == 1) {
		out->kind = p[top].v->kind;
		snprintf(out->summary, sizeof(out->summary),
			 "The work is in one process of %d, %d (%s): %s", out->processes,
			 p[top].pid, p[top].command && p[top].command[0] ? p[top].command : "?",
			 p[top].v->summary);
		snprintf(out->advice, sizeof(out->advice), "%s", p[top].v->advice);
		return;
	}
	if (gil) {
		out->kind = p[worst].v->kind;
		out->where = p[worst].pid;
		snprintf(out->summary, sizeof(out->summary),
			 "%d of the %d busy processes %s GIL-bound inside: the GIL limits each "
			 "of them, whatever the number of processes. The busiest, %d (%s): %s",
			 gil, out->busy, gil == 1 ? "is" : "are", p[worst].pid,
			 p[worst].command && p[worst].command[0] ? p[worst].command : "?",
			 p[worst].v->summary);
		snprintf(out->advice, sizeof(out->advice), "In %s: %s",
			 gil == 1 ? "that process" : "each of them", p[worst].v->advice);
		return;
	}
	if (count[V_CPU_SINGLE] == out->busy) {
		out->kind = V_PARALLEL;
		snprintf(out->summary, sizeof(out->summary),
			 "%d worker processes, each CPU-bound with one busy thread (%s in the "
			 "busiest, %d): the work is already parallel across processes; the GIL "
			 "is not the limit.", out->busy,
			 p[top].v->share[ST_PYTHON] >= 0.5 ? "Python" : "native code", p[top].pid);
		snprintf(out->advice, sizeof(out->advice),
			 "Processes scale up to the number of cores: add workers if there are "
			 "cores to spare, else make the hot code faster (each process's hottest "
			 "frames are below).");
		return;
	}
	if (kinds == 1) {
		out->kind = p[top].v->kind;
		snprintf(out->summary, sizeof(out->summary),
			 "All %d busy processes are %s. The busiest, %d (%s): %s", out->busy,
			 verdict_kind_name(p[top].v->kind), p[top].pid,
			 p[top].command && p[top].command[0] ? p[top].command : "?",
			 p[top].v->summary);
		snprintf(out->advice, sizeof(out->advice), "%s", p[top].v->advice);
		return;
	}
	out->kind = V_MIXED;
	{
		size_t len = 0;

		len += (size_t)snprintf(out->summary, sizeof(out->summary),
					"The %d busy processes differ:", out->busy);
		for (k = 0; k <= V_MIXED && len < sizeof(out->summary); k++)
			if (count[k])
				len += (size_t)snprintf(out->summary + len, sizeof(out->summary) - len,
							" %d %s,", count[k],
							verdict_kind_name((enum verdict_kind)k));
		if (len < sizeof(out->summary))
			snprintf(out->summary + len - 1, sizeof(out->summary) - len + 1,
				 "; the busiest is %d (%s).", p[top].pid,
				 verdict_kind_name(p[top].v->kind));
	}
	snprintf(out->advice, sizeof(out->advice),
		 "Each process has its own remedy: see its report below.");
}
