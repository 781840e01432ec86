/*
 * sampler.h - taking samples of a Python process: every thread's state,
 * GIL status and stack at one instant.
 *
 * The sampler owns its buffers, sized once at sampler_init(); taking a
 * sample allocates nothing (the code cache grows only on new code objects).
 * A struct sample stays valid until the next sampler_take().
 */
#ifndef GS_SAMPLER_H
#define GS_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "../cpython/locate.h"
#include "../cpython/model.h"
#include "../cpython/names.h"
#include "../target/process.h"

#define SAMPLE_FRAME_POOL (1u << 18)	/* frames kept, all threads together */
#define THREAD_NAME_MAX 128
/* a thread list taken on trust (see sampler.c) is walked again at least
 * this often, or, where a walk costs more than a twentieth of that, after
 * SAMPLE_REWALK_COST times what the last walk cost (a list of ten thousand
 * threads takes ten thousand reads to walk) */
#define SAMPLE_REWALK_NS 50000000ull
#define SAMPLE_REWALK_COST 20
#define SAMPLE_REWALK_MAX_NS 2000000000ull
/* A thread that has not run for this many samples gives back the syscall
 * and stat files it kept open, when a thread that runs could not keep its
 * own (fdbudget.h); at most SAMPLE_IDLE_CLOSES threads per sample. */
/* threading names are read again at most every SAMPLE_NAMES_COST times
 * what reading them cost (see sampler.c) */
#define SAMPLE_NAMES_COST 100
#define SAMPLE_NAMES_MAX_NS 30000000000ull
#define SAMPLE_IDLE_SAMPLES 100
#define SAMPLE_IDLE_CLOSES 64
/* Re-reads of a thread whose stack read torn, within one sample: each one
 * costs a thread-state read and a walk, so a thread that stays torn costs
 * at most three times what one that does not costs, at any rate. */
#define SAMPLE_TORN_REREADS 2

struct thread_sample {
	int32_t tid;		/* the kernel's, as this machine's /proc knows it */
	int32_t ns_tid;		/* the target's own where its PID namespace is
				 * another one, 0 otherwise */
	uint64_t tstate;
	enum gs_state state;
	const char *detail;	/* why that state (static string) */
	int holds_gil;
	char kstate;		/* kernel state letter, '?' if unknown */
	long syscall_nr;	/* -1 unknown / none */
	uint64_t futex_addr;	/* first syscall argument when blocked in futex */
	uint64_t cpu_ns;	/* utime+stime so far (from schedstat when possible) */
	int ts_status;
	char name[THREAD_NAME_MAX];
	char callee[96];	/* the C callable it is in (native states), or "" */
	const struct py_frame *frames;	/* innermost first; owned by the sampler */
	size_t nframes;
	int truncated;
	int stack_err;		/* gs_err of the stack walk, 0 if whole */
	/* The stack did not reach the thread's entry frame, even read again
	 * (PY_WHOLE when it did): the frames are what was read, innermost
	 * first, not the whole stack. */
	enum py_torn torn;
	/* Same value as in the previous sample: the frames are the same (same
	 * code objects, same lines), so whatever was derived from them can be
	 * reused. Never 0. */
	uint64_t stack_key;
	int reused;		/* the thread had not run: nothing was read again */
	/* The thread's restate_n samples before this one, from
	 * restate_from_ns on (same stack, counted in state restate_from),
	 * were in fact in this sample's state: C code that kept the GIL, or
	 * C code that let go of it (sampler.c, hold_run and free_run). 0:
	 * nothing to move. */
	uint32_t restate_n;
	enum gs_state restate_from;
	/* may be waiting for the GIL (gil_wait, or without the GIL on CPU at
	 * a call that may have returned): evidence for gil_overdue */
	int gil_waiter;
	uint64_t restate_from_ns;
};

struct sample {
	uint64_t t_ns;		/* CLOCK_MONOTONIC */
	struct py_gil gil;
	int gil_enabled;
	size_t nthreads;
	struct thread_sample *threads;
	int walk_err;		/* gs_err of the thread-list walk, 0 if whole */
};

struct sampler {
	struct process *proc;	/* borrowed */
	struct py_found found;
	struct py_model model;
	struct py_thread *pythreads;
	struct thread_sample *ts;
	struct py_frame *pool;
	int32_t *tids;
	uint64_t *walked;	/* the thread states of the last walk, in order */
	size_t nwalked;
	size_t max_threads;
	struct sample cur;
	uint64_t code_gen;	/* code cache generation the frames refer to */
	/* Per-thread state kept between samples, parallel to pythreads: open
	 * /proc files and what the last full read of the thread found (see
	 * sampler.c). */
	struct thread_cache *tc, *tc_new;
	uint32_t *tc_hash;	/* tstate -> index into tc, during a rebuild */
	size_t ntc;
	size_t nsched_open;	/* threads whose schedstat is kept open */
	int fd_pressure;	/* a thread that runs could not keep its files
				 * open since the last walk */
	uint32_t idle_closes;	/* threads that gave theirs back, this sample */
	uint32_t sched_opened;	/* schedstat files opened and closed again,
				 * this sample */
	/* Graceful degradation, for the report: the most threads at once whose
	 * schedstat could not be kept open (the open-file limit), out of how
	 * many, under which soft limit. 0: every one was. */
	size_t files_short, files_threads;
	uint64_t files_limit;
	uint64_t walk_cost_ns;	/* what the last walk of the list took */
	size_t frames_kept;	/* frames held by all thread caches */
	uint64_t next_key;
	int task_dir;		/* /proc/PID/task, -1 if not open */
	/* the thread list as of the last full walk */
	uint64_t list_head, list_interp;
	uint64_t walk_ns;
	int list_valid;
	int sched_ok;		/* /proc/.../schedstat counts time slices */
	uint64_t alive_ns;	/* when the process was last checked to be alive */
	/* counters, for the curious (diagnose --json shows them) */
	uint64_t n_reused, n_read, n_walks;
	uint64_t n_rereads;	/* thread states read again after a torn stack */
	int names;		/* read threading names (costs a dict walk) */
	/* Times a thread whose stack read torn is read again within one
	 * sample (SAMPLE_TORN_REREADS unless the caller says otherwise: a
	 * one-shot look can afford more than a loop at a high rate). */
	int torn_rereads;
	char (*pynames)[PY_THREAD_NAME_MAX];	/* as of the last refresh */
	uint64_t *name_ids;	/* pthread ids the names belong to */
	size_t nnames;
	uint64_t names_ns;	/* when they were last read */
	uint64_t names_key;	/* hash of the thread-state set they belong to */
	uint64_t names_cost_ns;	/* what reading them took last time */
	/* A read of the names under way, a slice of at most names_slice_ns
	 * a sample (0: all at once; the loop sets it from its period): the
	 * threads as of its start, what it found so far, where it stands. */
	uint64_t names_slice_ns;
	struct names_round {
		int active;
		struct py_thread *th;
		char (*names)[PY_THREAD_NAME_MAX];
		size_t n, cap;
		struct py_names_cursor cur;
		uint64_t cost_ns;
		uint32_t slices;
	} nr;
	uint64_t n_names_sliced;	/* reads of names done in several slices */
	/* a thread waits for the GIL since wait_since (0: none), while the
	 * switch number is wait_switch, and one has asked for it since
	 * wait_asked (0: not yet seen); gil_overdue: for this sample, the
	 * holder has kept it past what bytecode would */
	uint64_t wait_since, wait_switch, wait_asked;
	int gil_overdue;
	int execd;		/* sampler_take said GS_EEXITED because the
				 * process exec'd another program */
	/* The target lives in a PID namespace below ours (a container): the
	 * thread ids the interpreter keeps are that namespace's, /proc here
	 * knows the threads by others. nsmap pairs them, sorted by ns. */
	int ns_nested;
	struct ns_pair {
		int32_t ns, host;
	} *nsmap, *nsmap_new;
	size_t nns;
	int32_t *htids;		/* the task list, scratch for the map */
	/* Context-switch records (target/swtrack.h), when the loop reads
	 * them: a thread without one since sw_from (its own, in the cache)
	 * has not run since, and needs no schedstat read. sw_drain_ns: when
	 * the records of this sample were read; sw_lost_ns: the last time
	 * some were lost (a thread known quiet only from before is asked
	 * schedstat again). kidx: the cache by kernel tid, sorted. */
	int sw_on;
	uint64_t sw_drain_ns, sw_lost_ns;
	struct sw_index {
		int32_t ktid;
		uint32_t i;
	} *kidx;
	size_t nkidx;
	int kidx_stale;
	uint64_t n_sw_quiet;	/* threads found quiet by the records alone */
};

/* Locate the runtime in proc and set up the model. Returns 0 or a gs_err
 * (GS_ENOTPY, GS_EUNSUPPORTED with s->found.version set, ...). */
int sampler_init(struct sampler *s, struct process *proc);
void sampler_release(struct sampler *s);

/* Before a sample: the switches recorded since the last call (sorted or
 * not, of any process: the sampler picks its own), read at drain_ns;
 * `lost`: some may be missing. */
struct sw_event;
void sampler_switches(struct sampler *s, const struct sw_event *ev, size_t n, int lost,
		      uint64_t drain_ns);
/* The records are no longer read: ask schedstat again. */
void sampler_switches_off(struct sampler *s);

/* Take one sample. GS_EEXITED when the process is gone, or is no longer
 * the program we attached to (it exec'd: s->execd is set). */
int sampler_take(struct sampler *s, const struct sample **out);

#endif
