/*
 * sampler.c - one sample of every Python thread: the interpreter's view
 * (thread states, GIL, stacks) joined with the kernel's (run state, system
 * call) per native thread id, then classified.
 */
#include "sampler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../cpython/code.h"
#include "../target/procfs.h"
#include "../util/error.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int sampler_init(struct sampler *s, struct process *proc)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->proc = proc;
	ret = py_locate(proc, &s->found);
	if (ret)
		return ret;
	ret = py_model_init(&s->model, proc->reader, &s->found.loc);
	if (ret) {
		/* a runtime we found but cannot read: say which */
		if (ret == GS_EUNSUPPORTED && s->model.off.version_hex)
			py_version_str(s->model.off.version_hex, s->found.version,
				       sizeof(s->found.version));
		goto fail;
	}
	snprintf(s->found.version, sizeof(s->found.version), "%s", s->model.version);
	s->max_threads = PY_MAX_THREADS;
	s->pythreads = calloc(s->max_threads, sizeof(*s->pythreads));
	s->ts = calloc(s->max_threads, sizeof(*s->ts));
	s->pool = calloc(SAMPLE_FRAME_POOL, sizeof(*s->pool));
	s->tids = calloc(s->max_threads * 4, sizeof(*s->tids));
	s->pynames = calloc(s->max_threads, sizeof(*s->pynames));
	s->name_ids = calloc(s->max_threads, sizeof(*s->name_ids));
	if (!s->pythreads || !s->ts || !s->pool || !s->tids || !s->pynames || !s->name_ids) {
		ret = GS_ENOMEM;
		goto fail;
	}
	s->cur.threads = s->ts;
	s->names = 1;
	return 0;
fail:
	sampler_release(s);
	return ret;
}

void sampler_release(struct sampler *s)
{
	py_model_release(&s->model);
	free(s->pythreads);
	free(s->ts);
	free(s->pool);
	free(s->tids);
	free(s->pynames);
	free(s->name_ids);
	s->pynames = NULL;
	s->name_ids = NULL;
	s->pythreads = NULL;
	s->ts = NULL;
	s->pool = NULL;
	s->tids = NULL;
}

/* Names are matched to threads by kernel tid: glibc reuses a finished
 * thread's pthread_t (and CPython its thread state) for the next thread,
 * so those would hand a new thread its predecessor's name. */
static uint64_t name_key(const struct py_thread *p)
{
	return p->tid > 0 ? (uint64_t)(uint32_t)p->tid : p->pthread_id | (1ull << 63);
}

/* The threading name of the thread with this key, as of the last refresh
 * (threads may have come and gone since: match by key). */
static void lookup_name(struct sampler *s, size_t hint, uint64_t id, char *out)
{
	size_t j;

	if (hint < s->nnames && s->name_ids[hint] == id) {
		memcpy(out, s->pynames[hint], THREAD_NAME_MAX);
		return;
	}
	for (j = 0; j < s->nnames; j++) {
		if (s->name_ids[j] == id) {
			memcpy(out, s->pynames[j], THREAD_NAME_MAX);
			return;
		}
	}
}

/* Kernel facts about one thread. */
static void read_kernel(struct sampler *s, struct thread_sample *t, struct classify_in *in)
{
	char path[96], buf[1024];
	struct proc_stat st;
	struct proc_syscall sc;
	long n;

	t->kstate = '?';
	t->syscall_nr = -1;
	if (t->tid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)s->proc->pid, (int)t->tid);
	n = procfs_read_file(path, buf, sizeof(buf));
	if (n > 0 && !procfs_parse_stat(buf, (size_t)n, &st)) {
		t->kstate = st.state;
		t->cpu_ns = (st.utime + st.stime) * 10000000ull;	/* USER_HZ=100 */
		if (!t->name[0])
			snprintf(t->name, sizeof(t->name), "%s", st.comm);
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)s->proc->pid, (int)t->tid);
	n = procfs_read_file(path, buf, sizeof(buf));
	if (n > 0 && !procfs_parse_syscall(buf, (size_t)n, &sc)) {
		in->syscall_known = 1;
		in->syscall_running = sc.running;
		in->syscall_nr = sc.running ? -1 : sc.nr;
		memcpy(in->syscall_args, sc.args, sizeof(in->syscall_args));
		t->syscall_nr = in->syscall_nr;
		if (!sc.running && syscall_kind_of(sc.nr) == SC_FUTEX)
			t->futex_addr = sc.args[0];
	}
	in->kstate = t->kstate;
}

/* The process we attached to is no more: it exited, or it exec'd another
 * program (s->execd), whose memory is no longer what the model knows. */
static int gone(struct sampler *s)
{
	if (process_image_gone(s->proc)) {
		s->execd = process_execd(s->proc->pid);
		return 1;
	}
	return !process_alive(s->proc->pid);
}

int sampler_take(struct sampler *s, const struct sample **out)
{
	struct sample *smp = &s->cur;
	size_t npy = 0, i, pool_used = 0;
	long ntids;
	uint64_t interp;
	int ret;

	code_cache_maybe_flush(s->model.codes);
	memset(smp, 0, sizeof(*smp));
	smp->threads = s->ts;
	smp->t_ns = now_ns();

	ntids = procfs_list_tasks(s->proc->pid, (pid_t *)s->tids, s->max_threads * 4);
	if (ntids < 0)
		return ntids == GS_ENOPROC ? GS_EEXITED : (int)ntids;

	ret = py_model_threads(&s->model, s->pythreads, s->max_threads, &npy,
			       s->tids, (size_t)ntids);
	if (ret && !npy)
		return gone(s) ? GS_EEXITED : ret;
	smp->walk_err = ret;

	/* threading names: a dict walk of a few hundred reads, so only when
	 * the set of threads changed (at most every 100 ms, for programs that
	 * churn threads), and once a second otherwise */
	if (s->names) {
		uint64_t key = 0x9e3779b97f4a7c15ull;

		for (i = 0; i < npy; i++)
			key = (key ^ s->pythreads[i].tstate ^ s->pythreads[i].pthread_id) *
			      0x100000001b3ull;
		if ((key != s->names_key && smp->t_ns - s->names_ns > 100000000ull) ||
		    smp->t_ns - s->names_ns > 1000000000ull || !s->names_ns) {
			memset(s->pynames, 0, npy * sizeof(*s->pynames));
			py_model_thread_names_all(&s->model, s->pythreads, npy, s->pynames);
			for (i = 0; i < npy; i++)
				s->name_ids[i] = name_key(&s->pythreads[i]);
			s->nnames = npy;
			s->names_key = key;
			s->names_ns = smp->t_ns;
		}
	}

	if (!py_model_interp(&s->model, &interp))
		py_model_gil(&s->model, interp, &smp->gil);
	smp->gil_enabled = smp->gil.known ? smp->gil.enabled : !s->model.free_threaded;

	for (i = 0; i < npy; i++) {
		const struct py_thread *p = &s->pythreads[i];
		struct thread_sample *t = &s->ts[i];
		struct py_frame *frames = s->pool + pool_used;
		size_t room = SAMPLE_FRAME_POOL - pool_used;
		struct classify_in in = { 0 };

		memset(t, 0, sizeof(*t));
		if (s->names)
			lookup_name(s, i, name_key(p), t->name);
		t->tid = p->tid;
		t->tstate = p->tstate;
		t->ts_status = p->status;
		t->holds_gil = smp->gil_enabled && smp->gil.locked && smp->gil.holder == p->tstate;

		t->stack_err = py_model_stack(&s->model, p->tstate, frames,
					      room < PY_MAX_DEPTH ? room : PY_MAX_DEPTH,
					      &t->nframes, &t->truncated);
		t->frames = frames;
		pool_used += t->nframes;

		read_kernel(s, t, &in);
		in.gil_enabled = smp->gil_enabled;
		in.holds_gil = t->holds_gil;
		in.gil_addr = smp->gil.addr;
		in.gil_size = smp->gil.size;
		in.in_call = t->nframes && py_model_is_call_opcode(&s->model, frames[0].opcode);
		in.in_bytecode = t->nframes && frames[0].opcode >= 0 && !in.in_call;
		in.ts_status = p->status;
		t->state = classify_thread(&in, &t->detail);
		if ((t->state == ST_NATIVE_GIL || t->state == ST_NATIVE) && in.in_call)
			py_model_callee(&s->model, &frames[0], t->callee, sizeof(t->callee));
	}
	smp->nthreads = npy;
	*out = smp;
	if (gone(s))
		return GS_EEXITED;
	return 0;
}
