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

#define SAMPLE_FRAME_POOL (1u << 18)	/* frames per sample, all threads */
#define THREAD_NAME_MAX 128

struct thread_sample {
	int32_t tid;
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
	const struct py_frame *frames;	/* innermost first; into the pool */
	size_t nframes;
	int truncated;
	int stack_err;		/* gs_err of the stack walk, 0 if whole */
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
	size_t max_threads;
	struct sample cur;
	int names;		/* read threading names (costs a dict walk) */
	char (*pynames)[PY_THREAD_NAME_MAX];	/* as of the last refresh */
	uint64_t *name_ids;	/* pthread ids the names belong to */
	size_t nnames;
	uint64_t names_ns;	/* when they were last read */
	uint64_t names_key;	/* hash of the thread-state set they belong to */
	int execd;		/* sampler_take said GS_EEXITED because the
				 * process exec'd another program */
};

/* Locate the runtime in proc and set up the model. Returns 0 or a gs_err
 * (GS_ENOTPY, GS_EUNSUPPORTED with s->found.version set, ...). */
int sampler_init(struct sampler *s, struct process *proc);
void sampler_release(struct sampler *s);

/* Take one sample. GS_EEXITED when the process is gone, or is no longer
 * the program we attached to (it exec'd: s->execd is set). */
int sampler_take(struct sampler *s, const struct sample **out);

#endif
