/*
 * verdict.c - the diagnosis rules.
 *
 * Only busy threads vote: a thread that sleeps or waits on a lock most of
 * the time (a main thread joining workers, an idle pool) says nothing about
 * what limits the program. Which states are busy, want a CPU and are on one
 * is said once, in sample/states.c. Among the busy threads' samples the
 * shares of the states decide, in this order (cpu = the states that want a
 * CPU: python + native_gil + native + gil_wait):
 *   no busy thread                               -> idle
 *   io >= 50% and io >= 2 * cpu (or cpu < 20%)   -> io-bound
 *   cpu < 20%                                    -> mixed
 *   native >= half of cpu                        -> native-released
 *   GIL off (free-threaded), >1 thread on a CPU  -> parallel
 *   gil_wait >= 20% of cpu, GIL states >= 60% of cpu
 *       -> gil-bound-native when the holders were mostly in C
 *          (native_gil >= python), else gil-bound-python
 *   one thread on a CPU, little GIL waiting      -> cpu-single
 *   otherwise                                    -> mixed
 */
#include "verdict.h"

#include <stdio.h>
#include <string.h>

#define BUSY_MIN 0.5

static const char *const kind_names[] = {
	[V_IDLE] = "idle",
	[V_IO_BOUND] = "io-bound",
	[V_NATIVE_RELEASED] = "native-released",
	[V_GIL_BOUND_PYTHON] = "gil-bound-python",
	[V_GIL_BOUND_NATIVE] = "gil-bound-native",
	[V_CPU_SINGLE] = "cpu-single",
	[V_PARALLEL] = "parallel",
	[V_MIXED] = "mixed",
};

const char *verdict_kind_name(enum verdict_kind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "mixed";
}

/* Samples of t in the states with any of `flags` (enum gs_state_flag). */
static uint64_t samples_in(const struct agg_thread *t, unsigned flags)
{
	uint64_t n = 0;
	int s;

	for (s = 0; s < ST_COUNT; s++)
		if (gs_state_info((enum gs_state)s)->flags & flags)
			n += t->states[s];
	return n;
}

double verdict_busy_fraction(const struct agg_thread *t)
{
	return t->samples ? (double)samples_in(t, GS_BUSY) / (double)t->samples : 0;
}

static const char *hot_name(const struct agg *a, const struct verdict *v, enum gs_state s,
			    char *buf, size_t len)
{
	const struct agg_frame *f;
	const char *file, *slash;

	if (!v->nhot[s]) {
		snprintf(buf, len, "(no Python frame)");
		return buf;
	}
	f = &a->frames[v->hot[s][0]];
	file = agg_str(a, f->file);
	slash = strrchr(file, '/');
	snprintf(buf, len, "%s() at %s:%d", agg_str(a, f->func), slash ? slash + 1 : file,
		 (int)f->line);
	return buf;
}

void verdict_decide(const struct agg *a, struct verdict *v)
{
	uint64_t tot[ST_COUNT] = { 0 }, all = 0;
	double oncpu_single = 0, cpu = 0;
	int cpu_threads = 0;
	char where[512];
	size_t i;
	int s;

	memset(v, 0, sizeof(*v));
	v->switches_per_s = -1;
	for (i = 0; i < a->nthreads; i++) {
		const struct agg_thread *t = &a->threads[i];

		if (verdict_busy_fraction(t) < BUSY_MIN)
			continue;
		v->busy_threads++;
		for (s = 0; s < ST_COUNT; s++) {
			tot[s] += t->states[s];
			all += t->states[s];
		}
		if (t->samples &&
		    (double)samples_in(t, GS_WANTS_CPU) >= 0.3 * (double)t->samples) {
			cpu_threads++;
			oncpu_single = (double)samples_in(t, GS_ON_CPU) / (double)t->samples;
		}
	}
	for (s = 0; s < ST_COUNT; s++) {
		v->share[s] = all ? (double)tot[s] / (double)all : 0;
		if (gs_state_info((enum gs_state)s)->flags & GS_WANTS_CPU)
			cpu += v->share[s];
		v->nhot[s] = agg_hot_frames(a, (enum gs_state)s, v->hot[s], VERDICT_HOT);
		v->nnative[s] = agg_hot_native(a, (enum gs_state)s, v->native[s], VERDICT_HOT);
	}
	if (a->gil_known) {
		v->gil_held = (double)a->gil_held / (double)a->gil_known;
		v->gil_contended = (double)a->gil_contended / (double)a->gil_known;
	}
	if (a->have_switch && a->duration_s > 0)
		v->switches_per_s = (double)(a->switch_last - a->switch_first) / a->duration_s;

	if (!v->busy_threads) {
		v->kind = V_IDLE;
		snprintf(v->summary, sizeof(v->summary),
			 "Nothing is busy: every thread spent most of its time sleeping or "
			 "waiting on a lock.");
		snprintf(v->advice, sizeof(v->advice),
			 "Nothing to fix here; if the program feels slow, look at what it "
			 "waits for (the lock_wait and sleep frames below).");
		return;
	}
	/* I/O decides only when it clearly outweighs the threads that want
	 * the CPU: a thread parked in read() (an acceptor, a main thread on
	 * stdin) next to busy workers does not make the program I/O-bound */
	if (v->share[ST_IO] >= 0.5 && (v->share[ST_IO] >= 2 * cpu || cpu < 0.2)) {
		v->kind = V_IO_BOUND;
		snprintf(v->summary, sizeof(v->summary),
			 "I/O-bound: the busy threads spend %.0f%% of their time blocked in "
			 "I/O, mostly in %s; the GIL is held %.0f%% of the time.",
			 100 * v->share[ST_IO], hot_name(a, v, ST_IO, where, sizeof(where)),
			 100 * v->gil_held);
		snprintf(v->advice, sizeof(v->advice),
			 "The GIL is not the problem: use more threads (ThreadPoolExecutor) "
			 "or asyncio to overlap the waits, and look at what the I/O waits for.");
		return;
	}
	if (cpu < 0.2) {
		v->kind = V_MIXED;
		snprintf(v->summary, sizeof(v->summary),
			 "No single pattern: the busy threads are mostly blocked (%.0f%% I/O) "
			 "and rarely on the CPU (%.0f%%).", 100 * v->share[ST_IO], 100 * cpu);
		snprintf(v->advice, sizeof(v->advice),
			 "Look at each thread below: the remedy differs per thread.");
		return;
	}
	/* from here on, the threads that want the CPU decide */
	if (v->share[ST_NATIVE] >= 0.5 * cpu) {
		v->kind = V_NATIVE_RELEASED;
		snprintf(v->summary, sizeof(v->summary),
			 "Native code with the GIL released: the busy threads spend %.0f%% of "
			 "their time in C code that let go of the GIL (%s), called from %s.",
			 100 * v->share[ST_NATIVE],
			 v->nnative[ST_NATIVE] ? agg_str(a, a->frames[v->native[ST_NATIVE][0]].func) :
			 "unnamed", hot_name(a, v, ST_NATIVE, where, sizeof(where)));
		snprintf(v->advice, sizeof(v->advice),
			 "Threads scale here; the GIL is not the problem. Add threads up to "
			 "the number of cores, or make the native work itself faster.");
		return;
	}
	if (a->free_threaded && !a->gil_enabled && cpu_threads > 1) {
		v->kind = V_PARALLEL;
		snprintf(v->summary, sizeof(v->summary),
			 "%d threads run at once on a free-threaded build with the GIL "
			 "off (%.0f%% Python, %.0f%% native).", cpu_threads,
			 100 * v->share[ST_PYTHON], 100 * v->share[ST_NATIVE]);
		snprintf(v->advice, sizeof(v->advice),
			 "Threads already run in parallel; measure the speedup (gilscope "
			 "speedup), and if it is low look for lock waits (%.0f%%) and "
			 "stop-the-world pauses.", 100 * v->share[ST_LOCK_WAIT]);
		return;
	}
	if (v->share[ST_GIL_WAIT] >= 0.2 * cpu &&
	    v->share[ST_GIL_WAIT] + v->share[ST_PYTHON] + v->share[ST_NATIVE_GIL] >= 0.6 * cpu) {
		if (v->share[ST_NATIVE_GIL] >= v->share[ST_PYTHON]) {
			v->kind = V_GIL_BOUND_NATIVE;
			snprintf(v->summary, sizeof(v->summary),
				 "GIL-bound in native code: %.0f%% of the busy threads' time is "
				 "spent waiting for the GIL while C code holds it (%.0f%%): %s, "
				 "called from %s.", 100 * v->share[ST_GIL_WAIT],
				 100 * v->share[ST_NATIVE_GIL],
				 v->nnative[ST_NATIVE_GIL] ?
				 agg_str(a, a->frames[v->native[ST_NATIVE_GIL][0]].func) :
				 "a C function gilscope could not name",
				 hot_name(a, v, ST_NATIVE_GIL, where, sizeof(where)));
			snprintf(v->advice, sizeof(v->advice),
				 "The C call keeps the GIL: switch to an extension that releases "
				 "it, or move the call to a subprocess (ProcessPoolExecutor). "
				 "More threads will not help.");
		} else {
			v->kind = V_GIL_BOUND_PYTHON;
			snprintf(v->summary, sizeof(v->summary),
				 "GIL-bound Python: %.0f%% of the busy threads' time is spent "
				 "waiting for the GIL, held mostly by %s running Python "
				 "(%.0f%%).", 100 * v->share[ST_GIL_WAIT],
				 hot_name(a, v, ST_PYTHON, where, sizeof(where)),
				 100 * v->share[ST_PYTHON]);
			snprintf(v->advice, sizeof(v->advice),
				 "CPU-bound Python serialised by the GIL: use processes "
				 "(ProcessPoolExecutor, multiprocessing) or a free-threaded "
				 "build (python3.13t+).");
		}
		return;
	}
	if (cpu_threads == 1 && oncpu_single >= 0.5 && v->share[ST_GIL_WAIT] < 0.1 * cpu) {
		v->kind = V_CPU_SINGLE;
		snprintf(v->summary, sizeof(v->summary),
			 "One thread is busy on the CPU (%.0f%% Python, %.0f%% native) and "
			 "nobody waits for the GIL; the hottest code is %s.",
			 100 * v->share[ST_PYTHON], 100 * (v->share[ST_NATIVE] + v->share[ST_NATIVE_GIL]),
			 hot_name(a, v, ST_PYTHON, where, sizeof(where)));
		snprintf(v->advice, sizeof(v->advice),
			 "The GIL is not contended. To go faster, split the work across "
			 "processes if it divides, or speed up the hot code.");
		return;
	}
	v->kind = V_MIXED;
	snprintf(v->summary, sizeof(v->summary),
		 "No single pattern: the busy threads are %.0f%% Python, %.0f%% native "
		 "holding the GIL, %.0f%% native without it, %.0f%% waiting for the GIL, "
		 "%.0f%% in I/O.", 100 * v->share[ST_PYTHON], 100 * v->share[ST_NATIVE_GIL],
		 100 * v->share[ST_NATIVE], 100 * v->share[ST_GIL_WAIT], 100 * v->share[ST_IO]);
	snprintf(v->advice, sizeof(v->advice),
		 "Look at each thread below: the remedy differs per thread.");
}
