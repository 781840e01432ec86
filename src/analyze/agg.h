/*
 * agg.h - aggregates over many samples: per-thread state counts, a stack
 * tree with per-state counts, hot frames per state, GIL hold and wait
 * stretches, and per-thread state timelines. Everything a report needs;
 * renderers read these structures and never reach back into the sampler.
 *
 * Memory: strings, frames and tree nodes are interned, so a steady workload
 * uses flat memory however long it runs. Timelines are capped
 * (AGG_MAX_SPANS); past the cap `spans_dropped` counts what was lost.
 *
 * Ownership: struct agg owns all its arrays; agg_release() frees them.
 * Strings are NUL-terminated UTF-8, referenced by id (agg_str()).
 */
#ifndef GS_AGG_H
#define GS_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "../sample/states.h"
#include "../util/error.h"

#define AGG_MAX_NODES (1u << 21)
#define AGG_MAX_SPANS (1u << 21)
#define AGG_MAX_STRETCHES 65536	/* per thread and kind, for percentiles */
#define AGG_NONE UINT32_MAX

enum agg_mode {
	AGG_MODE_WALL,	/* every sample */
	AGG_MODE_CPU,	/* only samples where the thread was on CPU */
	AGG_MODE_GIL,	/* only samples where the thread held the GIL */
};

enum agg_frame_kind {
	AGG_FRAME_PYTHON,	/* a Python function */
	AGG_FRAME_THREAD,	/* the root of a thread's stacks */
	AGG_FRAME_STATE,	/* a leaf naming the state, e.g. [waiting for GIL] */
	AGG_FRAME_NATIVE,	/* the C callable the innermost frame is in */
	AGG_FRAME_TORN,		/* "[torn stack]": under a thread's root, the
				 * stacks read torn (they miss their outer
				 * frames, so they cannot hang where they belong) */
	AGG_FRAME_PROCESS,	/* a process of a tree (--subprocesses), above
				 * its threads' roots: func is its command line,
				 * line its pid */
};

#define AGG_TORN_LABEL "[torn stack]"

struct agg_frame {
	uint32_t func;		/* string id: qualified name, or the label */
	uint32_t file;		/* string id ("" for non-Python frames) */
	int32_t line;
	uint8_t kind;		/* enum agg_frame_kind */
	uint8_t state;		/* for AGG_FRAME_STATE: the enum gs_state */
	uint64_t self[ST_COUNT];	/* samples with this frame innermost, by state */
};

struct agg_node {
	uint32_t frame;
	uint32_t parent, child, sibling;	/* AGG_NONE when absent */
	uint64_t total;			/* samples at or below this node */
	uint64_t self;			/* samples ending exactly here */
	uint64_t state_total[ST_COUNT];
};

struct agg_span {
	uint64_t t0, t1;	/* ns since the first sample; [t0, t1) */
	uint8_t state;
	uint8_t holds_gil;
	uint32_t leaf;		/* tree node of the innermost frame (AGG_NONE: none) */
};

/* Lengths of consecutive runs (GIL held, or waited for), in samples'
 * time. Kept as a bounded list; percentiles come from agg_stretch_pct(). */
struct agg_stretches {
	uint64_t *v;		/* ns */
	size_t n, cap;
	uint64_t count;		/* all stretches, also those past the cap */
	uint64_t max;
	uint64_t sum;
};

struct agg_thread {
	int32_t tid;
	int32_t pid;		/* its process's, when fed with one; 0: none */
	uint32_t proc;		/* tree node of its process (AGG_NONE: none) */
	int32_t ns_tid;		/* its id in the target's PID namespace, 0: the same */
	uint32_t name;		/* string id */
	uint32_t root;		/* tree node of the thread */
	uint64_t samples;
	uint64_t states[ST_COUNT];
	uint64_t torn;		/* samples whose stack was torn */
	uint64_t gil_held;
	uint64_t first_ns, last_ns;
	struct agg_stretches hold, wait;
	/* run in progress */
	uint64_t hold_since, wait_since, last_seen;
	int holding, waiting;
	struct agg_span *spans;
	size_t nspans, capspans;
	/* the last stack seen (agg_thread_in.stack_key), and what it came to */
	uint64_t key;
	uint32_t key_hot;	/* frame id of its innermost frame */
	uint32_t key_leaf;	/* tree node of its innermost frame */
	int key_leaf_ok;
	/* Samples of that same stack not yet counted in the tree: pend_n
	 * ending at node pend_end, in state pend_state. A thread that stays
	 * put (most threads of a large program, most of the time) costs one
	 * increment a sample, and its path to the root is walked once, when
	 * the run ends (agg.c, pending_flush). */
	uint32_t pend_end;
	uint8_t pend_state;
	uint64_t pend_n;
};

#define AGG_WHY_MAX 8

struct agg_options {
	enum agg_mode mode;
	int state_leaves;	/* add [state] leaves to stacks (record does) */
	int timeline;		/* keep per-thread spans (chrometrace) */
	double rate_hz;		/* requested rate */
};

struct agg {
	struct agg_options opt;
	/* strings */
	char *strdata;
	size_t strlen_used, strcap;
	uint32_t *stroff;	/* id -> offset in strdata */
	uint32_t nstr, capstr;
	uint32_t *strhash;	/* open addressing: id+1, 0 = empty */
	uint32_t strhash_cap;
	/* frames */
	struct agg_frame *frames;
	uint32_t nframes, capframes;
	uint32_t *framehash;
	uint32_t framehash_cap;
	/* stack tree; node 0 is the root of all threads (of all processes,
	 * when the threads are fed with their process: then the tree is
	 * root -> process -> thread -> frames) */
	struct agg_node *nodes;
	uint32_t nnodes, capnodes;
	uint64_t nodes_dropped;	/* samples cut short at AGG_MAX_NODES */
	/* threads */
	struct agg_thread *threads;
	size_t nthreads, capthreads;
	size_t nprocesses;	/* process nodes (threads fed with a process) */
	/* process-wide (of several processes: summed over them, so `samples`
	 * counts each process's sample instants, and the GIL figures mix
	 * several GILs; per process figures need an agg per process) */
	uint64_t samples;	/* sample instants */
	uint64_t thread_samples;
	uint64_t torn;		/* thread samples whose stack was torn */
	uint64_t t_first, t_last;	/* CLOCK_MONOTONIC ns */
	uint64_t gil_known;	/* instants where the GIL could be read */
	uint64_t gil_held;	/* ... where some thread held it */
	uint64_t gil_contended;	/* ... where at least one thread waited for it */
	uint64_t switch_first, switch_last;
	int have_switch;
	int gil_enabled;	/* as of the last sample */
	int free_threaded;
	uint64_t spans_dropped;
	/* the sampling loop's accounting (filled by the loop) */
	uint64_t requested, taken, missed, errors;
	uint64_t rereads;	/* thread states read again after a torn stack */
	/* the open-file limit kept files_short of files_threads threads'
	 * /proc files from staying open (0: none; filled by the caller) */
	uint64_t files_short, files_threads, files_limit;
	/* the loop read context-switch records (sample/loop.h), or why not
	 * (a gs_err; 0: not wanted, too few threads); thread-samples they
	 * alone found unchanged; deadlines where some were lost */
	int switch_records, switch_records_err;
	uint64_t quiet_by_records, switch_records_lost;
	uint64_t names_sliced;	/* reads of threading names spread over samples */
	/* the checks of target memory that failed first in a sample, most
	 * often first (util/error.h; filled by the caller at the end) */
	const struct gs_why *why[AGG_WHY_MAX];
	size_t nwhy;
	uint64_t worst_lag_ns;
	double duration_s;
	/* internal */
	void *edge_table;
	size_t last_thread;
	uint64_t cur_t;
	int cur_gil_known, cur_any_hold, cur_any_wait;
	uint32_t state_frame[ST_COUNT];	/* frame id of each state leaf, +1 */
	uint32_t torn_frame;	/* frame id of the torn-stack marker, +1 */
	uint64_t total_spans;
	/* agg_add_sample()'s frames of one thread (feed.c): PY_MAX_DEPTH,
	 * allocated there on first use, freed by agg_release() */
	struct agg_frame_in *feed_frames;
};

/* What one thread looked like at one instant, in plain data. */
struct agg_frame_in {
	const char *func, *file;
	int line;
};

struct agg_thread_in {
	int32_t tid;
	const char *name;
	enum gs_state state;
	int holds_gil;
	const struct agg_frame_in *frames;	/* innermost first */
	size_t nframes;
	const char *callee;	/* C callable ("" or NULL: none) */
	/* Optional: equal non-zero keys of one thread in consecutive calls
	 * promise equal frames, so the interning is not done again. 0: none. */
	uint64_t stack_key;
	/* The frames did not reach the thread's entry frame: they go under
	 * the thread's "[torn stack]" node, not its root. The state counts
	 * all the same. */
	int torn;
	int32_t ns_tid;		/* 0, or its id in the target's PID namespace */
	/* Optional: the thread's process, one of several fed into this agg
	 * (record --subprocesses). pid 0: none, the thread's root hangs from
	 * the tree's root; else from the node of the process (pid, command),
	 * and a thread is known by (pid, tid). */
	int32_t pid;
	const char *process;	/* its command line */
};

int agg_init(struct agg *a, const struct agg_options *opt);
void agg_release(struct agg *a);

/* One sample instant: the GIL facts, then each thread. */
void agg_begin_sample(struct agg *a, uint64_t t_ns, int gil_known, int gil_enabled,
		      uint64_t switch_number);
int agg_add_thread(struct agg *a, const struct agg_thread_in *t);
void agg_end_sample(struct agg *a);
/* The thread's last n samples (same stack as its latest, counted in
 * state `from`, the first taken at from_ns) were in `to`, in C callable
 * `callee` (or none): move them. See agg.c. `pid` as the thread was fed
 * (agg_thread_in.pid, 0: none). */
int agg_restate(struct agg *a, int32_t pid, int32_t tid, uint64_t n, uint64_t from_ns,
		enum gs_state from, enum gs_state to, const char *callee);
/* Close open stretches and spans at the last sample. */
void agg_finish(struct agg *a);

const char *agg_str(const struct agg *a, uint32_t id);
/* Seconds between samples: the requested rate, else the measured mean;
 * 0 when neither is known. */
double agg_sample_interval(const struct agg *a);
/* p in [0, 100]; 0 when there are no stretches. */
uint64_t agg_stretch_pct(const struct agg_stretches *s, double p);

/* Up to n frame ids with the most `self` samples in `state` (Python
 * frames only), most first. Returns how many were written. */
size_t agg_hot_frames(const struct agg *a, enum gs_state state, uint32_t *out, size_t n);
/* The same for C callables (AGG_FRAME_NATIVE frames). */
size_t agg_hot_native(const struct agg *a, enum gs_state state, uint32_t *out, size_t n);

#endif
