/*
 * sampler.c - one sample of every Python thread: the interpreter's view
 * (thread states, GIL, stacks) joined with the kernel's (run state, system
 * call) per native thread id, then classified.
 *
 * Most threads of most programs did not run since the previous sample: they
 * wait for the GIL, a lock, a socket. A thread that did not run cannot have
 * changed its Python stack or its kernel state, so the sampler keeps, per
 * thread, what its last full read found, and reads one small file to decide
 * whether that still holds: /proc/PID/task/TID/schedstat, the thread's run
 * time and the number of time slices it was given. A switch onto a CPU adds
 * a slice; a switch off adds run time. So when both are unchanged since the
 * start of the last full read, and the thread was off CPU at the end of
 * that read, it was off CPU the whole time in between: its stack and kernel
 * facts are still true, and only its state is decided again, against the
 * GIL as it is now. A full read goes schedstat first, then the thread state
 * and the stack, then the kernel's state and system call, so that this
 * reasoning covers everything read in between. (A thread that was woken
 * but not yet given a CPU is therefore still reported in the state it
 * blocked in: it has not left it.) The check needs the kernel to count
 * slices (CONFIG_SCHED_INFO); without, every thread is read in full.
 *
 * The thread list costs one read per thread to walk. After a walk it is
 * taken on trust while the head of the list is unchanged (a new thread
 * state goes in at the head), for at most SAMPLE_REWALK_NS: every thread
 * that ran is read again anyway and checked to be where the walk found it
 * (same neighbours, its predecessor still pointing at it), and a thread
 * gone from /proc, a thread state that moved, or another interpreter ends
 * the trust at once. On free-threaded builds another thread can change a
 * thread's state field: a stop-the-world marks every detached thread
 * suspended and then detached again, without that thread running. A thread
 * that did not run keeps the state it was last read in (it is still
 * blocked in the same call: that is what the user needs to see); a thread
 * that ran is read again, state field included.
 */
#include "sampler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "fdbudget.h"
#include "../cpython/code.h"
#include "../target/procfs.h"
#include "../target/swtrack.h"
#include "../util/clock.h"
#include "../util/error.h"

enum { F_SCHED, F_SYSCALL, F_STAT, F_N };
static const char *const file_names[F_N] = { "schedstat", "syscall", "stat" };

/* What the sampler keeps of one thread between samples. */
struct thread_cache {
	struct py_thread p;	/* as last read */
	int fd[F_N];		/* kept open, -1 when not */
	uint32_t full_reads;	/* (saturating) */
	uint32_t idle;		/* samples since the last full read */
	int have;		/* the facts below come from a full read */
	int reusable;		/* ... that may stand while the thread does not run */
	uint64_t run_ns, slices;	/* schedstat at the start of that read */
	char kstate;
	int syscall_known, syscall_running;
	long syscall_nr;
	uint64_t syscall_args[6];
	char comm[64];
	int comm_stale;		/* read it again at the next full read */
	struct py_frame *frames;
	size_t nframes, cap;
	int truncated, stack_err;
	enum py_torn torn;	/* how that stack's walk ended */
	struct base_track bt;	/* where its whole walks end */
	int32_t ktid;		/* its id in this machine's /proc, -1 unknown */
	/* switch records: none since sw_from (0: not known) means it has not
	 * run since; sw_last: the latest one seen */
	uint64_t sw_from, sw_last;
	int on_cpu;		/* the last full read found it on a CPU */
	struct py_ranges ranges;	/* the memory its last stack walk read */
	uint64_t stack_key;
	int callee_done;
	int callee_verify;	/* re-read since: check the callable is still there */
	struct py_callee_ref callee_ref;
	char callee[96];
	/* The run of samples in which it held the GIL on CPU at one non-call
	 * instruction (same frame, same instruction, the GIL never changing
	 * hands), counted as bytecode until the GIL says otherwise: when the
	 * hold outlasts the switch interval while another thread waits, the
	 * whole run was C code, and the aggregates are told to move it. */
	uint32_t run_n;
	int run_native;
	uint64_t run_from, run_frame, run_instr, run_switch;
	const struct py_code *run_code;
	/* The run of samples in which it was on CPU without the GIL at one
	 * instruction: a GIL waiter between two waits (woken, not yet given
	 * the GIL or a CPU), or C code that let go of the GIL (a call, or an
	 * operator such as NumPy's a @ b). Counted as a GIL wait until it is
	 * seen to stay on CPU: no voluntary context switch and a fair share
	 * of run time over longer than a waiter's timed wait; then the run
	 * since `free_from` (free_n samples) was native code. A thread that
	 * never blocked but got too little CPU to tell (a loaded machine) is
	 * looked at again a window after `free_check`, from the same start. */
	uint32_t free_n;
	int free_native, free_ok;
	uint64_t free_from, free_check, free_frame, free_instr, free_vcsw, free_run;
	const struct py_code *free_code;
};


static void tc_clear(struct thread_cache *c)
{
	memset(c, 0, sizeof(*c));
	c->fd[0] = c->fd[1] = c->fd[2] = -1;
}

/*
 * The descriptors for thread files, process-wide: the open-file limit is
 * the process's, shared by every sampler in it (one per process of a
 * tree). Samplers run in one thread.
 */
static struct fd_budget fdb;
static int fdb_loaded;

static void fdb_load(void)
{
	struct rlimit rl;

	fdb_loaded = 1;
	if (getrlimit(RLIMIT_NOFILE, &rl)) {
		fdb.stuck = 1;
		return;
	}
	fdb.soft = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
	fdb.hard = rl.rlim_max == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_max;
}

/* Raise our own soft open-file limit to `want` (within the hard one). */
static void fdb_raise(uint64_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl)) {
		fdb.stuck = 1;
		return;
	}
	if ((uint64_t)rl.rlim_cur < want) {
		rl.rlim_cur = (rlim_t)want;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			fdb.stuck = 1;
	}
	fdb_load();
}

/* May the thread file f of a thread be kept open? Takes its descriptor
 * from the budget when it may. The schedstat files of this sampler's other
 * threads come first: a syscall or stat file is kept only if every thread
 * can still keep its schedstat. */
static int fd_take(struct sampler *s, int f)
{
	size_t reserve = 0;
	uint64_t ask;

	if (!fdb_loaded)
		fdb_load();
	if (f != F_SCHED && s->ntc > s->nsched_open)
		reserve = s->ntc - s->nsched_open;
	ask = fd_budget_ask(&fdb, 1, reserve);
	if (ask)
		fdb_raise(ask);
	if (!fd_budget_fits(&fdb, 1, reserve))
		return 0;
	fdb.held++;
	if (f == F_SCHED)
		s->nsched_open++;
	return 1;
}

static void fd_give(struct sampler *s, struct thread_cache *c, int f)
{
	if (c->fd[f] < 0)
		return;
	close(c->fd[f]);
	c->fd[f] = -1;
	fdb.held--;
	if (f == F_SCHED)
		s->nsched_open--;
}

static void tc_release(struct sampler *s, struct thread_cache *c)
{
	int f;

	for (f = 0; f < F_N; f++)
		fd_give(s, c, f);
	s->frames_kept -= c->cap;
	free(c->frames);
	tc_clear(c);
}

/* A thread that did not run in this sample. One that has not run for a
 * while gives back its syscall and stat files when others need them. */
static void tc_idle(struct sampler *s, struct thread_cache *c)
{
	if (c->idle < UINT32_MAX)
		c->idle++;
	if (s->fd_pressure && c->idle >= SAMPLE_IDLE_SAMPLES &&
	    (c->fd[F_SYSCALL] >= 0 || c->fd[F_STAT] >= 0) && s->idle_closes < SAMPLE_IDLE_CLOSES) {
		fd_give(s, c, F_SYSCALL);
		fd_give(s, c, F_STAT);
		s->idle_closes++;
	}
}

int sampler_init(struct sampler *s, struct process *proc)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->proc = proc;
	s->task_dir = -1;
	ret = py_locate(proc, &s->found);
	if (ret)
		return ret;
	ret = py_model_init(&s->model, proc->reader, &s->found.loc);
	if (ret) {
		/* a runtime we found but cannot read: say which */
		if (ret == GS_EUNSUPPORTED && py_model_version_hex(&s->model))
			py_version_str(py_model_version_hex(&s->model), s->found.version,
				       sizeof(s->found.version));
		goto fail;
	}
	snprintf(s->found.version, sizeof(s->found.version), "%s", s->model.version);
	s->max_threads = PY_MAX_THREADS;
	s->pythreads = calloc(s->max_threads, sizeof(*s->pythreads));
	s->ts = calloc(s->max_threads, sizeof(*s->ts));
	s->pool = calloc(PY_MAX_DEPTH, sizeof(*s->pool));
	s->tids = calloc(s->max_threads * 4, sizeof(*s->tids));
	s->walked = calloc(s->max_threads, sizeof(*s->walked));
	s->pynames = calloc(s->max_threads, sizeof(*s->pynames));
	s->name_ids = calloc(s->max_threads, sizeof(*s->name_ids));
	s->tc = calloc(s->max_threads, sizeof(*s->tc));
	s->tc_new = calloc(s->max_threads, sizeof(*s->tc_new));
	s->tc_hash = calloc(2 * s->max_threads, sizeof(*s->tc_hash));
	s->ns_nested = process_pidns_nested(proc);
	if (s->ns_nested) {
		s->nsmap = calloc(s->max_threads * 4, sizeof(*s->nsmap));
		s->nsmap_new = calloc(s->max_threads * 4, sizeof(*s->nsmap_new));
		s->htids = calloc(s->max_threads * 4, sizeof(*s->htids));
	}
	if (!s->pythreads || !s->ts || !s->pool || !s->tids || !s->walked || !s->pynames || !s->name_ids ||
	    !s->tc || !s->tc_new || !s->tc_hash ||
	    (s->ns_nested && (!s->nsmap || !s->nsmap_new || !s->htids))) {
		ret = GS_ENOMEM;
		goto fail;
	}
	/* (the caches are cleared as threads come: the arrays are sized for
	 * the most threads a list may have, and stay untouched beyond the
	 * threads there are) */
	s->task_dir = procfs_task_dir(proc->pid);
	if (s->task_dir < 0)
		s->task_dir = -1;
	s->sched_ok = 1;
	s->next_key = 1;
	s->cur.threads = s->ts;
	s->names = 1;
	s->torn_rereads = SAMPLE_TORN_REREADS;
	return 0;
fail:
	sampler_release(s);
	return ret;
}

void sampler_release(struct sampler *s)
{
	size_t i;


	if (s->tc)
		for (i = 0; i < s->ntc; i++)
			tc_release(s, &s->tc[i]);
	if (s->task_dir >= 0)
		close(s->task_dir);
	s->task_dir = -1;
	py_model_release(&s->model);
	free(s->pythreads);
	free(s->ts);
	free(s->pool);
	free(s->tids);
	free(s->walked);
	s->walked = NULL;
	s->nwalked = 0;
	free(s->nsmap);
	free(s->nsmap_new);
	free(s->htids);
	free(s->pynames);
	free(s->name_ids);
	free(s->tc);
	free(s->tc_new);
	free(s->tc_hash);
	free(s->kidx);
	s->kidx = NULL;
	free(s->nr.th);
	free(s->nr.names);
	memset(&s->nr, 0, sizeof(s->nr));
	s->nkidx = 0;
	s->pynames = NULL;
	s->name_ids = NULL;
	s->pythreads = NULL;
	s->ts = NULL;
	s->pool = NULL;
	s->tids = NULL;
	s->nsmap = s->nsmap_new = NULL;
	s->htids = NULL;
	s->nns = 0;
	s->tc = s->tc_new = NULL;
	s->tc_hash = NULL;
	s->ntc = 0;
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

/*
 * Read one of the thread's /proc files, kept open when the budget allows:
 * every thread's schedstat (read at every sample), and the syscall and
 * stat files of a thread that has run since its first read (read at each
 * full read, which a blocked thread does not get).
 */
static long tc_read(struct sampler *s, struct thread_cache *c, int f, char *buf, size_t cap)
{
	int fd = c->fd[f], kept = 1;
	long n;

	if (fd < 0) {
		if (s->task_dir < 0) {
			char path[96];

			snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", (int)s->proc->pid,
				 (int)c->ktid, file_names[f]);
			return procfs_read_file(path, buf, cap);
		}
		fd = procfs_task_open(s->task_dir, c->ktid, file_names[f]);
		if (fd < 0)
			return fd;
		kept = (f == F_SCHED || c->full_reads) && fd_take(s, f);
		if (kept)
			c->fd[f] = fd;
		else if (f == F_SCHED)
			s->sched_opened++;
		else if (c->full_reads)
			s->fd_pressure = 1;
	}
	n = procfs_pread_small(fd, buf, cap);
	if (!kept)
		close(fd);
	return n;
}

/* Run time and time slices; GS_ENOPROC when the thread is gone. */
static int read_sched(struct sampler *s, struct thread_cache *c, uint64_t *run, uint64_t *slices)
{
	struct proc_schedstat ss;
	char buf[128];
	long n;

	n = tc_read(s, c, F_SCHED, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if (procfs_parse_schedstat(buf, (size_t)n, &ss))
		return GS_CORRUPT("procfs_parse_schedstat(buf, (size_t)n, &ss)");
	*run = ss.run_ns;
	*slices = ss.slices;
	/* a thread that has run but shows no slice: the kernel does not
	 * count them, and an unchanged count would prove nothing */
	if (ss.run_ns && !ss.slices)
		s->sched_ok = 0;
	return 0;
}

/* /proc/PID/task/TID/status of one of the target's threads (by the id
 * this machine's /proc knows): its length, or a negative gs_err. */
static long read_task_status(struct sampler *s, int32_t tid, char *buf, size_t cap)
{
	long n;
	int fd;

	if (s->task_dir < 0) {
		char path[96];

		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)s->proc->pid, (int)tid);
		return procfs_read_file(path, buf, cap);
	}
	fd = procfs_task_open(s->task_dir, tid, "status");
	if (fd < 0)
		return fd;
	n = procfs_pread(fd, buf, cap);
	close(fd);
	return n;
}

/* Kernel facts: the system call (and, unless it says the thread runs, the
 * state letter from stat: R, S, D, T, Z ...). */
static int read_kernel(struct sampler *s, struct thread_cache *c, int need_comm)
{
	struct proc_syscall sc;
	struct proc_stat st;
	char buf[1024];
	long n;

	c->kstate = '?';
	c->syscall_known = 0;
	c->syscall_running = 0;
	c->syscall_nr = -1;
	memset(c->syscall_args, 0, sizeof(c->syscall_args));
	if (c->ktid <= 0)
		return 0;
	n = tc_read(s, c, F_SYSCALL, buf, sizeof(buf));
	if (n == GS_ENOPROC)
		return GS_ENOPROC;	/* the thread is gone */
	if (n > 0 && !procfs_parse_syscall(buf, (size_t)n, &sc)) {
		c->syscall_known = 1;
		c->syscall_running = sc.running;
		c->syscall_nr = sc.running ? -1 : sc.nr;
		memcpy(c->syscall_args, sc.args, sizeof(c->syscall_args));
	}
	/* "running" means the task's state is R: what stat would say too */
	if (c->syscall_known && c->syscall_running && !need_comm) {
		c->kstate = 'R';
		return 0;
	}
	n = tc_read(s, c, F_STAT, buf, sizeof(buf));
	if (n > 0 && !procfs_parse_stat(buf, (size_t)n, &st)) {
		c->kstate = st.state;
		memcpy(c->comm, st.comm, sizeof(c->comm));
		c->comm_stale = 0;
	} else if (c->syscall_known && c->syscall_running) {
		c->kstate = 'R';
	}
	return 0;
}

/* The switch records say the thread has not been on a CPU since its last
 * full read (or since schedstat last said so): what that read found
 * stands, with no read at all. */
static int sw_quiet(const struct sampler *s, const struct thread_cache *c)
{
	return s->sw_on && c->have && c->reusable && c->sw_from && c->sw_from >= s->sw_lost_ns &&
	       c->sw_last < c->sw_from;
}

/* The thread is known (by a read made after this sample's records were
 * taken) not to have run since its last full read: from now on the
 * records alone can tell whether it does. */
static void sw_known(const struct sampler *s, struct thread_cache *c)
{
	c->sw_from = s->sw_on ? s->sw_drain_ns : 0;
}

/* Keep the stack just read (s->pool) in the thread's cache. */
static void keep_stack(struct sampler *s, struct thread_cache *c, size_t n, int truncated,
		       int err, enum py_torn torn)
{
	size_t i;
	int same;

	if (n > c->cap) {
		size_t want = c->cap ? c->cap : 16;
		struct py_frame *p;

		while (want < n)
			want *= 2;
		if (s->frames_kept - c->cap + want > SAMPLE_FRAME_POOL) {
			/* over the budget of all threads: keep what fits */
			want = c->cap + (SAMPLE_FRAME_POOL - s->frames_kept);
			if (n > want) {
				n = want;
				truncated = 1;
			}
		}
		if (want > c->cap) {
			p = realloc(c->frames, want * sizeof(*p));
			if (p) {
				s->frames_kept += want - c->cap;
				c->frames = p;
				c->cap = want;
			}
		}
		if (n > c->cap) {
			n = c->cap;
			truncated = 1;
		}
	}
	same = c->stack_key && c->nframes == n && c->truncated == truncated && !err &&
	       !c->stack_err && !torn && !c->torn;
	for (i = 0; same && i < n; i++)
		same = c->frames[i].code == s->pool[i].code && c->frames[i].line == s->pool[i].line;
	/* The C callable a call instruction is in is looked up again when the
	 * stack or the instruction (its frame, its address) changed; else one
	 * read checks that the callable found last time is still in its slot.
	 * That keeps a thread inside a long call about as cheap to sample as
	 * one running bytecode: when gilscope falls behind and samples back to
	 * back, a state that costs more to read would get fewer samples. */
	if (!same || !n || c->frames[0].addr != s->pool[0].addr ||
	    c->frames[0].instr != s->pool[0].instr || c->frames[0].offset != s->pool[0].offset ||
	    c->frames[0].opcode != s->pool[0].opcode) {
		c->callee_done = 0;
		c->callee[0] = '\0';
	}
	c->callee_verify = c->callee_done;
	if (n)
		memcpy(c->frames, s->pool, n * sizeof(*c->frames));
	c->nframes = n;
	c->truncated = truncated;
	c->stack_err = err;
	c->torn = torn;
	if (!same)
		c->stack_key = s->next_key++;
}

/* The thread's schedstat before its walk, when the base rule (base.h)
 * wants one and none was read yet. */
static void clock_before(struct sampler *s, struct thread_cache *c, struct base_clock *before)
{
	if (!before->known && base_wants_clock(&c->bt) && c->ktid > 0 &&
	    !read_sched(s, c, &before->run, &before->slices))
		before->known = 1;
}

/*
 * The stack of the thread of c, in s->pool: `r`, a read of it just made. A
 * read is torn when its walk did not end at the thread's entry frame
 * (py_stack_end), or ended at another one than the thread's base (base.h
 * says when a new one is taken; `before` is the thread's schedstat read
 * before the walk, if it was). A torn read is made again whole (the thread
 * state, its current frame now, with the memory the walk will likely need),
 * at most s->torn_rereads times; what stays torn is marked so in r.
 */
static void settle_stack(struct sampler *s, struct thread_cache *c, struct py_thread_read *r,
			 const struct base_clock *before)
{
	struct py_thread_read again;
	struct py_ranges guess;
	struct py_guess g;
	int k;

	for (k = 0;; k++) {
		if (!r->end.torn) {
			uint64_t at = r->n && r->end.last ? r->end.last : BASE_NO_FRAMES;
			uint64_t cand = c->bt.cand;

			if (base_judge(&c->bt, at, before) == BASE_TORN) {
				r->end.torn = PY_TORN_NOT_BASE;
				/* the same wrong end twice in a row: read again
				 * now, it would be the same */
				if (at == cand)
					break;
			}
		}
		if (!r->end.torn || k >= s->torn_rereads)
			break;
		/* A read is torn when the stack changed between the read of the
		 * thread state and of its frames; the more of them are read in
		 * one batch with it, the less time there is for that: the
		 * memory of the last whole walk, and of this one. */
		guess = c->ranges;
		py_ranges_add(&guess, &s->model.walked);
		py_guess_make(&guess, s->pool, r->n, &g);
		if (py_model_read_thread(&s->model, &c->p, 0, &g, s->pool, PY_MAX_DEPTH, &again) ||
		    !again.same)
			break;
		s->n_rereads++;
		*r = again;
	}
}

/*
 * A full read of a thread: its stack (r, just read; settled by
 * settle_stack()), the kernel facts. `sched_read`, `run`, `slices`: its
 * schedstat if it was taken before the thread state was read; `before`,
 * the one the base rule judges by. GS_ENOPROC when the thread is gone.
 */
static int read_full(struct sampler *s, struct thread_cache *c, struct py_thread_read *r,
		     const struct base_clock *before, int sched_read, uint64_t run,
		     uint64_t slices)
{
	struct base_clock after = { 0, 0, 0 };
	enum py_torn torn;
	int ret;

	settle_stack(s, c, r, before);
	torn = r->end.torn;
	keep_stack(s, c, r->n, r->truncated, r->err, torn);
	/* where the next walk will likely go: where the last whole one went,
	 * and this one */
	if (!torn)
		c->ranges = s->model.walked;
	else
		py_ranges_add(&c->ranges, &s->model.walked);
	ret = read_kernel(s, c, !c->comm[0] || c->comm_stale);
	/* a walk that ended at a new base: how far the thread had got just
	 * after it, for the next walk that ends there (base.h) */
	if (base_wants_ref(&c->bt) && c->ktid > 0 && !read_sched(s, c, &after.run, &after.slices))
		after.known = 1;
	base_after(&c->bt, &after, c->kstate);
	c->have = 1;
	if (c->full_reads < UINT32_MAX)
		c->full_reads++;
	c->idle = 0;
	c->run_ns = run;
	c->slices = slices;
	c->on_cpu = c->kstate == 'R' || (c->syscall_known && c->syscall_running);
	c->reusable = sched_read && s->sched_ok && !r->err && !torn && c->kstate != '?' &&
		      !c->on_cpu;
	sw_known(s, c);
	s->n_read++;
	return ret;
}

/* Where a thread is: its innermost frame and instruction (3.11+: the
 * instruction's address; before, its offset). */
static uint64_t instr_of(const struct py_frame *f)
{
	return f->instr ? f->instr : (uint64_t)(uint32_t)f->offset;
}

static uint64_t switch_interval_ns(const struct sample *smp)
{
	return smp->gil.interval_us ? smp->gil.interval_us * 1000ull : 5000000ull;
}

/*
 * A GIL holder on CPU at a non-call instruction: bytecode, or C reached
 * without a call. Only the GIL can tell, and only later: once the holder
 * keeps it past the switch interval while another thread waits
 * (s->gil_overdue), it is in C, and so was every sample of this hold at
 * this same instruction. Those were counted as bytecode; the sample says
 * how many to move (restate_n), and the rest of the run is C directly.
 */
static void hold_run(struct thread_cache *c, struct thread_sample *t,
		     const struct sample *smp)
{
	const struct py_frame *f = &c->frames[0];
	uint64_t instr = instr_of(f);

	if (!c->run_n || c->run_switch != smp->gil.switch_number || c->run_frame != f->addr ||
	    c->run_instr != instr || c->run_code != f->code) {
		c->run_n = 0;
		c->run_native = 0;
		c->run_from = smp->t_ns;
		c->run_frame = f->addr;
		c->run_instr = instr;
		c->run_code = f->code;
		c->run_switch = smp->gil.switch_number;
	}
	if (t->state == ST_NATIVE_GIL && !c->run_native &&
	    !(c->run_n && smp->t_ns - c->run_from >= 1000000ull)) {
		/* Overdue, but first seen at this instruction: bytecode that
		 * a loaded machine kept from handing the GIL over looks the
		 * same. C code is still here at the next sample. */
		t->state = ST_PYTHON;
		t->detail = "bytecode";
	} else if (t->state == ST_NATIVE_GIL && !c->run_native) {
		t->restate_n = c->run_n;
		t->restate_from_ns = c->run_from;
		c->run_native = 1;
	} else if (c->run_native && t->state == ST_PYTHON) {
		/* still the same hold at the same instruction */
		t->state = ST_NATIVE_GIL;
		t->detail = "held the GIL past the switch interval here: in C";
	}
	if (c->run_n < UINT32_MAX)
		c->run_n++;
}

/* Voluntary context switches and run time of the thread, now. */
static int read_stay(struct sampler *s, struct thread_cache *c, uint64_t *vcsw, uint64_t *run)
{
	char buf[2048], val[32], *end;
	uint64_t slices;
	long n;

	if (s->task_dir < 0 || c->ktid <= 0 || read_sched(s, c, run, &slices))
		return GS_ENOPROC;
	n = read_task_status(s, c->ktid, buf, sizeof(buf));
	if (n <= 0 || procfs_status_field(buf, (size_t)n, "voluntary_ctxt_switches", val,
					  sizeof(val)))
		return GS_CORRUPT("n <= 0 || procfs_status_field(buf, (size_t)n, \"voluntary_ctxt_switche...");
	*vcsw = strtoull(val, &end, 10);
	return end == val ? GS_ECORRUPT : 0;
}

/* CPU time that no GIL waiter spends without blocking: woken, it takes
 * the GIL or waits again within microseconds. A thread that ran this long
 * at one instruction without the GIL and without blocking is in C code,
 * however little of the CPU a loaded machine gave it. */
#define FREE_RUN_PROOF_NS 2000000ull

/*
 * A thread on CPU without the GIL at an instruction that is not a call
 * (see struct thread_cache): C code behind an operator, or a waiter.
 * Returns 1 when it is known to stay there (native code), and sets
 * t->restate_* the first time that is known.
 */
static int free_run(struct sampler *s, struct thread_cache *c, struct thread_sample *t,
		    const struct sample *smp)
{
	const struct py_frame *f = &c->frames[0];
	uint64_t instr = instr_of(f), interval = switch_interval_ns(smp);
	uint64_t window = interval + (interval / 2 > 2000000ull ? interval / 2 : 2000000ull);
	uint64_t vcsw = 0, run = 0;
	int fresh = !c->free_n || c->free_frame != f->addr || c->free_instr != instr ||
		    c->free_code != f->code;

	if (fresh || (!c->free_native && c->free_ok && smp->t_ns - c->free_check >= window)) {
		int ok = !read_stay(s, c, &vcsw, &run);

		if (!fresh && ok && vcsw == c->free_vcsw) {
			if (4 * (run - c->free_run) >= smp->t_ns - c->free_from ||
			    run - c->free_run >= FREE_RUN_PROOF_NS) {
				/* it never blocked and kept running: C code */
				c->free_native = 1;
				t->restate_n = c->free_n;
				t->restate_from_ns = c->free_from;
				t->restate_from = ST_GIL_WAIT;
			} else {
				/* never blocked, but ran too little to tell C
				 * code kept from a CPU from a woken waiter kept
				 * from one: its run time since free_from
				 * decides, later */
				c->free_check = smp->t_ns;
			}
		} else {
			/* (again) from here on */
			c->free_n = 0;
			c->free_native = 0;
			c->free_ok = ok;
			c->free_from = smp->t_ns;
			c->free_check = smp->t_ns;
			c->free_frame = f->addr;
			c->free_instr = instr;
			c->free_code = f->code;
			c->free_vcsw = vcsw;
			c->free_run = run;
		}
	}
	if (c->free_n < UINT32_MAX)
		c->free_n++;
	return c->free_native;
}

/*
 * Before a sample's threads: does the GIL's holder keep it while another
 * thread has asked for it, longer than bytecode could? A waiter asks for
 * the GIL (the drop request) when its timed wait of one switch interval
 * runs out, if it gets a CPU to run on; bytecode hands the GIL over at its
 * next jump or call. So once a waiter is seen to have run after waiting a
 * whole interval (wait_asked), the GIL unchanged, a holder that still has
 * it a millisecond later is inside one instruction: C code. (On a loaded
 * machine a waiter may wait for a CPU long after its timeout: until it ran
 * it has not asked.) hold_run() also wants the holder seen twice at the
 * instruction, 1 ms apart or more.
 */
static void gil_overdue_begin(struct sampler *s, const struct sample *smp)
{
	s->gil_overdue = smp->gil_enabled && smp->gil.known && smp->gil.locked &&
			 s->wait_since && s->wait_asked && smp->gil.switch_number == s->wait_switch &&
			 smp->t_ns - s->wait_asked >= 1000000ull;
}

/* After a sample's threads: since when threads wait with the GIL where it
 * is now, and whether one of them has asked for it. */
static void gil_overdue_end(struct sampler *s, const struct sample *smp)
{
	uint64_t interval = switch_interval_ns(smp);
	size_t i;
	int waiting = 0, ran = 0;

	for (i = 0; i < smp->nthreads; i++) {
		if (!smp->threads[i].gil_waiter)
			continue;
		waiting = 1;
		ran |= !smp->threads[i].reused;
	}
	if (!waiting || !smp->gil.known || !smp->gil_enabled) {
		s->wait_since = s->wait_asked = 0;
		return;
	}
	if (!s->wait_since || s->wait_switch != smp->gil.switch_number) {
		s->wait_since = smp->t_ns;
		s->wait_switch = smp->gil.switch_number;
		s->wait_asked = 0;
	} else if (!s->wait_asked && ran && smp->t_ns - s->wait_since >= interval) {
		s->wait_asked = smp->t_ns;
	}
}

/* Fill the sample's view of thread i from its cache and classify it. */
static void thread_out(struct sampler *s, struct sample *smp, size_t i, int reused)
{
	struct thread_cache *c = &s->tc[i];
	const struct py_thread *p = &c->p;
	struct thread_sample *t = &s->ts[i];
	struct classify_in in = { 0 };
	struct py_site site;

	t->tid = c->ktid > 0 ? c->ktid : p->tid;
	t->ns_tid = s->ns_nested && p->tid > 0 && p->tid != t->tid ? p->tid : 0;
	t->tstate = p->tstate;
	t->ts_status = p->status;
	t->name[0] = '\0';
	if (s->names)
		lookup_name(s, i, name_key(p), t->name);
	if (!t->name[0] && c->comm[0])
		snprintf(t->name, sizeof(t->name), "%s", c->comm);
	t->holds_gil = smp->gil_enabled && smp->gil.locked && smp->gil.holder == p->tstate;
	t->frames = c->frames;
	t->nframes = c->nframes;
	t->truncated = c->truncated;
	t->stack_err = c->stack_err;
	t->torn = c->torn;
	t->stack_key = c->stack_key;
	t->reused = reused;
	t->kstate = c->kstate;
	t->cpu_ns = c->run_ns;
	t->syscall_nr = c->syscall_nr;
	t->futex_addr = 0;
	if (c->syscall_known && !c->syscall_running && syscall_kind_of(c->syscall_nr) == SC_FUTEX)
		t->futex_addr = c->syscall_args[0];

	in.kstate = c->kstate;
	in.syscall_known = c->syscall_known;
	in.syscall_running = c->syscall_running;
	in.syscall_nr = c->syscall_nr;
	memcpy(in.syscall_args, c->syscall_args, sizeof(in.syscall_args));
	in.gil_enabled = smp->gil_enabled;
	in.holds_gil = t->holds_gil;
	in.gil_addr = smp->gil.addr;
	in.gil_size = smp->gil.size;
	py_model_site(&s->model, c->nframes ? &c->frames[0] : NULL, &site);
	in.in_call = site.in_call;
	in.in_bytecode = site.in_bytecode;
	in.at_operator = site.no_handoff;
	in.gil_overdue = s->gil_overdue;
	in.ts_status = p->status;
	t->restate_n = 0;
	t->restate_from_ns = 0;
	t->restate_from = ST_PYTHON;
	if (smp->gil_enabled && !t->holds_gil && in.in_bytecode && c->on_cpu)
		in.stays_on_cpu = free_run(s, c, t, smp);
	else
		c->free_n = 0;
	t->state = classify_thread(&in, &t->detail);
	/* on CPU without the GIL at a call: the call's C code, or a thread
	 * that dropped the GIL as the call returned and waits to take it
	 * back; for gil_overdue_end() it may be a waiter */
	t->gil_waiter = t->state == ST_GIL_WAIT ||
			(smp->gil_enabled && !t->holds_gil && in.in_call && t->state == ST_NATIVE);
	t->callee[0] = '\0';
	if (t->holds_gil && !in.in_call && c->nframes && c->on_cpu &&
	    (t->state == ST_PYTHON || t->state == ST_NATIVE_GIL))
		hold_run(c, t, smp);
	else
		c->run_n = 0;
	if ((t->state == ST_NATIVE_GIL || t->state == ST_NATIVE) && (site.in_call || site.operator)) {
		(void)py_model_native_name(&s->model, &c->frames[0], &site, c->callee_done,
					   c->callee_verify, &c->callee_ref, c->callee,
					   sizeof(c->callee));
		c->callee_done = 1;
		c->callee_verify = 0;
		memcpy(t->callee, c->callee, sizeof(t->callee));
	}
}

/* A thread that did not run: what its last full read found stands. */
static void take_reused(struct sampler *s, struct sample *smp, size_t i)
{
	s->n_reused++;
	tc_idle(s, &s->tc[i]);
	thread_out(s, smp, i, 1);
}

/* Thread i, if the switch records say it has not run: reused, 1. */
static int take_if_quiet(struct sampler *s, struct sample *smp, size_t i)
{
	if (!sw_quiet(s, &s->tc[i]))
		return 0;
	s->n_sw_quiet++;
	take_reused(s, smp, i);
	return 1;
}

/* Same thread: same thread state, native id and pthread. */
/* Where the thread's stack walk will likely go: where its last one went. */
static void make_guess(const struct thread_cache *c, struct py_guess *g)
{
	py_guess_make(&c->ranges, c->frames, c->nframes, g);
}

/*
 * Thread i, the list taken on trust. Returns 0, or 1 when the trust is
 * broken (the caller walks the list).
 *
 * A thread found on a CPU last time is read in full without asking
 * schedstat first: it most likely still runs, and if it does not, its
 * read is simply not reused (the next one, with schedstat, is).
 */
static int take_trusted(struct sampler *s, struct sample *smp, size_t i, uint64_t head)
{
	struct thread_cache *c = &s->tc[i];
	uint64_t run = 0, slices = 0;
	struct base_clock before;
	struct py_thread_read r;
	struct py_guess guess;
	int sched = 0, ret;

	if (take_if_quiet(s, smp, i))
		return 0;
	if (c->ktid > 0 && !(c->have && c->on_cpu)) {
		ret = read_sched(s, c, &run, &slices);
		if (ret == GS_ENOPROC)
			return 1;	/* the thread is gone */
		sched = !ret;
	}
	if (sched && c->have && c->reusable && run == c->run_ns && slices == c->slices) {
		sw_known(s, c);
		take_reused(s, smp, i);
		return 0;
	}
	/* the thread read again whole, with what its stack walk will likely
	 * read, and checked to be where the list walk found it */
	before = (struct base_clock){ sched, run, slices };
	clock_before(s, c, &before);
	make_guess(c, &guess);
	ret = py_model_read_thread(&s->model, &c->p, head, &guess, s->pool, PY_MAX_DEPTH, &r);
	if (ret || !r.same || r.t.prev != c->p.prev || r.t.next != c->p.next || r.linked != 1)
		return 1;
	c->p = r.t;
	s->pythreads[i] = r.t;
	if (read_full(s, c, &r, &before, sched, run, slices) == GS_ENOPROC)
		return 1;
	thread_out(s, smp, i, 0);
	return 0;
}

/* Thread i, just found by a walk (s->tc[i].p as the walk read it). */
static void take_walked(struct sampler *s, struct sample *smp, size_t i)
{
	struct thread_cache *c = &s->tc[i];
	uint64_t run = 0, slices = 0;
	struct base_clock before;
	struct py_thread_read r;
	struct py_guess guess;
	int sched = 0;

	if (take_if_quiet(s, smp, i))
		return;
	if (c->ktid > 0)
		sched = !read_sched(s, c, &run, &slices);
	if (sched && c->have && c->reusable && run == c->run_ns && slices == c->slices) {
		sw_known(s, c);
		take_reused(s, smp, i);
		return;
	}
	/* the thread as of now, not as of the list walk, and with it what its
	 * stack walk will likely read (if it is the same thread as the
	 * cache's: the guess is from its last read) */
	before = (struct base_clock){ sched, run, slices };
	clock_before(s, c, &before);
	if (c->have)
		make_guess(c, &guess);
	if (!py_model_read_thread(&s->model, &c->p, 0, c->have ? &guess : NULL, s->pool,
				  PY_MAX_DEPTH, &r) && r.same) {
		c->p.status = r.t.status;
	} else {
		/* it could not be read again: as the list walk saw it */
		memset(&r, 0, sizeof(r));
		r.t = c->p;
		r.err = py_model_stack_thread(&s->model, &c->p, NULL, s->pool, PY_MAX_DEPTH, &r.n,
					      &r.truncated, &r.end);
	}
	read_full(s, c, &r, &before, sched, run, slices);
	thread_out(s, smp, i, 0);
}

static size_t hash_slot(uint64_t tstate, size_t cap)
{
	return (size_t)((tstate * 0x9e3779b97f4a7c15ull) >> 20) % cap;
}

/* The thread id /proc here knows for the target's own `tid`: the same
 * outside a PID namespace of its own, else the map's; -1 unknown. */
static int32_t host_tid(const struct sampler *s, int32_t tid)
{
	size_t lo = 0, hi = s->nns;

	if (!s->ns_nested)
		return tid;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->nsmap[mid].ns == tid)
			return s->nsmap[mid].host;
		if (s->nsmap[mid].ns < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int pair_by_ns(const void *a, const void *b)
{
	const struct ns_pair *x = a, *y = b;

	return (x->ns > y->ns) - (x->ns < y->ns);
}

static int pair_by_host(const void *a, const void *b)
{
	const struct ns_pair *x = a, *y = b;

	return (x->host > y->host) - (x->host < y->host);
}

/* The target's threads by both their ids: the task list, each task's
 * NSpid read once (a thread keeps its ids). */
static void ns_map_refresh(struct sampler *s)
{
	size_t cap = s->max_threads * 4, n = 0, i, j = 0;
	long ntasks = procfs_list_tasks(s->proc->pid, (pid_t *)s->htids, cap);

	/* the old pairs by host id, walked beside the task list (sorted too) */
	qsort(s->nsmap, s->nns, sizeof(*s->nsmap), pair_by_host);
	for (i = 0; ntasks > 0 && i < (size_t)ntasks; i++) {
		int32_t host = s->htids[i], ns = -1;
		int levels;

		while (j < s->nns && s->nsmap[j].host < host)
			j++;
		if (j < s->nns && s->nsmap[j].host == host)
			ns = s->nsmap[j].ns;
		if (ns < 0) {
			char buf[2048];
			long len = read_task_status(s, host, buf, sizeof(buf));

			if (len <= 0 || procfs_parse_nspid(buf, (size_t)len, &ns, &levels))
				continue;
		}
		s->nsmap_new[n].ns = ns;
		s->nsmap_new[n++].host = host;
	}
	qsort(s->nsmap_new, n, sizeof(*s->nsmap_new), pair_by_ns);
	{
		struct ns_pair *t = s->nsmap;

		s->nsmap = s->nsmap_new;
		s->nsmap_new = t;
	}
	s->nns = n;
}

/* After a walk: carry each thread's cache over (matched by thread state,
 * native id and pthread), start new ones, release the vanished. */
static void rebuild_caches(struct sampler *s, size_t npy)
{
	size_t cap = 2 * s->max_threads, i, j;

	memset(s->tc_hash, 0, cap * sizeof(*s->tc_hash));
	for (i = 0; i < s->ntc; i++) {
		j = hash_slot(s->tc[i].p.tstate, cap);
		while (s->tc_hash[j])
			j = (j + 1) % cap;
		s->tc_hash[j] = (uint32_t)i + 1;
	}
	for (i = 0; i < npy; i++) {
		const struct py_thread *p = &s->pythreads[i];
		struct thread_cache *nc = &s->tc_new[i];

		tc_clear(nc);
		for (j = hash_slot(p->tstate, cap); s->tc_hash[j]; j = (j + 1) % cap) {
			struct thread_cache *oc = &s->tc[s->tc_hash[j] - 1];

			if (oc->p.tstate == p->tstate && oc->p.tid == p->tid &&
			    oc->p.pthread_id == p->pthread_id && oc->p.interp == p->interp) {
				*nc = *oc;
				tc_clear(oc);
				oc->p.tstate = 0;	/* taken */
				break;
			}
		}
		nc->p = *p;
		nc->ktid = host_tid(s, p->tid);
	}
	for (i = 0; i < s->ntc; i++)
		if (s->tc[i].p.tstate || s->tc[i].frames)
			tc_release(s, &s->tc[i]);
	{
		struct thread_cache *t = s->tc;

		s->tc = s->tc_new;
		s->tc_new = t;
	}
	s->ntc = npy;
	s->kidx_stale = 1;
}

/* Go on with the read of names under way; once it is whole, it replaces
 * the names known (a thread it left unnamed, which may be one that moved
 * in _active while it was read, keeps the name it had). */
static void names_go_on(struct sampler *s)
{
	struct names_round *nr = &s->nr;
	uint64_t t0 = gs_now_ns();
	size_t i;

	/* the first read of all is part of attaching: whole at once */
	(void)py_model_thread_names_step(&s->model, nr->th, nr->n, nr->names, &nr->cur,
					 s->names_slice_ns && s->nnames ? t0 + s->names_slice_ns : 0);
	nr->cost_ns += gs_now_ns() - t0;
	nr->slices++;
	if (!nr->cur.done)
		return;
	if (nr->slices > 1)
		s->n_names_sliced++;
	for (i = 0; i < nr->n; i++)
		if (!nr->names[i][0])
			lookup_name(s, i, name_key(&nr->th[i]), nr->names[i]);
	if (nr->n)
		memcpy(s->pynames, nr->names, nr->n * sizeof(*nr->names));
	for (i = 0; i < nr->n; i++)
		s->name_ids[i] = name_key(&nr->th[i]);
	s->nnames = nr->n;
	s->names_cost_ns = nr->cost_ns;
	nr->active = 0;
	for (i = 0; i < s->ntc; i++)
		s->tc[i].comm_stale = 1;	/* read again with the next stat */
}

/* Start a read of the names of the npy threads of s->pythreads. */
static void names_start(struct sampler *s, size_t npy)
{
	struct names_round *nr = &s->nr;

	if (npy > nr->cap) {
		struct py_thread *th = realloc(nr->th, npy * sizeof(*th));
		char (*names)[PY_THREAD_NAME_MAX];

		if (!th)
			return;
		nr->th = th;
		names = realloc(nr->names, npy * sizeof(*names));
		if (!names)
			return;
		nr->names = names;
		nr->cap = npy;
	}
	if (npy) {	/* none: no buffers yet (and none needed) */
		memcpy(nr->th, s->pythreads, npy * sizeof(*nr->th));
		memset(nr->names, 0, npy * sizeof(*nr->names));
	}
	nr->n = npy;
	memset(&nr->cur, 0, sizeof(nr->cur));
	nr->cost_ns = 0;
	nr->slices = 0;
	nr->active = 1;
	names_go_on(s);
}

/* Threading names: a dict walk of a few reads per thread, so only when the
 * set of threads changed (at most every 100 ms, for programs that churn
 * threads), and once a second otherwise; where the walk costs more than a
 * twentieth of those (thousands of threads), SAMPLE_NAMES_COST times
 * less often, so that names cost a bounded share of the sampler's time.
 * With thousands of threads a read takes longer than a sample period: it
 * is then done a slice a sample (names_slice_ns). Thread names the OS
 * knows are read again when one ends. */
static void refresh_names(struct sampler *s, size_t npy, uint64_t t_ns)
{
	uint64_t key = 0x9e3779b97f4a7c15ull, cost = s->names_cost_ns;
	uint64_t on_change = 20 * cost > 100000000ull ? 20 * cost : 100000000ull;
	uint64_t every = SAMPLE_NAMES_COST * cost > 1000000000ull ? SAMPLE_NAMES_COST * cost :
								      1000000000ull;
	size_t i;

	if (s->nr.active) {
		names_go_on(s);
		return;
	}
	if (every > SAMPLE_NAMES_MAX_NS)
		every = SAMPLE_NAMES_MAX_NS;
	if (on_change > every)
		on_change = every;

	for (i = 0; i < npy; i++)
		key = (key ^ s->pythreads[i].tstate ^ s->pythreads[i].pthread_id ^
		       (uint64_t)(uint32_t)s->pythreads[i].tid) *
		      0x100000001b3ull;
	if ((key != s->names_key && t_ns - s->names_ns > on_change) ||
	    t_ns - s->names_ns > every || !s->names_ns) {
		if (s->names)
			names_start(s, npy);
		else
			for (i = 0; i < s->ntc; i++)
				s->tc[i].comm_stale = 1;
		s->names_key = key;
		s->names_ns = t_ns;
	}
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

/* Walk the thread list and take every thread. */
static int take_walk(struct sampler *s, struct sample *smp, const struct py_head *h)
{
	uint64_t t0 = gs_now_ns();
	size_t npy = 0, i;
	long ntids = 0;
	int ret;

	s->list_valid = 0;
	s->fd_pressure = 0;
	if (s->ns_nested)
		ns_map_refresh(s);
	if (py_model_needs_task_list(&s->model) && s->ns_nested) {
		/* the ids glibc keeps are the namespace's */
		for (i = 0; i < s->nns; i++)
			s->tids[i] = s->nsmap[i].ns;
		ntids = (long)s->nns;
	} else if (py_model_needs_task_list(&s->model)) {
		/* 3.9-3.10: native ids come through glibc, checked against the
		 * task list */
		ntids = procfs_list_tasks(s->proc->pid, (pid_t *)s->tids, s->max_threads * 4);
		if (ntids < 0)
			return ntids == GS_ENOPROC ? GS_EEXITED : (int)ntids;
	}
	ret = py_model_threads_hint(&s->model, s->pythreads, s->max_threads, &npy,
				    s->tids, (size_t)ntids, s->walked, s->nwalked);
	for (i = 0; i < npy; i++)
		s->walked[i] = s->pythreads[i].tstate;
	s->nwalked = npy;
	if (ret && !npy)
		return gone(s) ? GS_EEXITED : ret;
	smp->walk_err = ret;
	s->n_walks++;
	rebuild_caches(s, npy);
	s->walk_cost_ns = gs_now_ns() - t0;
	refresh_names(s, npy, smp->t_ns);
	for (i = 0; i < npy; i++)
		take_walked(s, smp, i);
	smp->nthreads = npy;
	s->list_valid = !ret && h->single;
	s->list_head = npy ? s->pythreads[0].tstate : 0;
	s->list_interp = h->interp;
	s->walk_ns = smp->t_ns;
	return 0;
}

/* How long a thread list is taken on trust (SAMPLE_REWALK_NS, or more
 * when walking it costs much). */
static uint64_t rewalk_ns(const struct sampler *s)
{
	uint64_t by_cost = s->walk_cost_ns * SAMPLE_REWALK_COST;

	/* (a walk that looked long because we were kept off the CPU must not
	 * put the next one off for long) */
	if (by_cost > SAMPLE_REWALK_MAX_NS)
		by_cost = SAMPLE_REWALK_MAX_NS;
	return by_cost > SAMPLE_REWALK_NS ? by_cost : SAMPLE_REWALK_NS;
}

static int take(struct sampler *s, const struct sample **out)
{
	struct sample *smp = &s->cur;
	struct py_head h;
	uint64_t gen;
	size_t i;
	int ret;

	*out = NULL;
	code_cache_maybe_flush(s->model.codes);
	memset(smp, 0, sizeof(*smp));
	smp->threads = s->ts;
	smp->t_ns = gs_now_ns();

	ret = py_model_head(&s->model, &h);
	if (ret)
		return gone(s) ? GS_EEXITED : ret;
	py_model_begin_sample(&s->model, &h);
	smp->gil = h.gil;
	smp->gil_enabled = smp->gil.known ? smp->gil.enabled : !s->model.free_threaded;
	gil_overdue_begin(s, smp);
	gen = code_cache_gen(s->model.codes);
	if (gen != s->code_gen) {
		/* cached stacks point into the code cache: read them again */
		for (i = 0; i < s->ntc; i++) {
			s->tc[i].have = 0;
			s->tc[i].nframes = 0;
			s->tc[i].stack_key = 0;
		}
		s->code_gen = gen;
	}

	s->idle_closes = 0;
	s->sched_opened = 0;
	if (s->list_valid && h.single && h.interp == s->list_interp &&
	    h.threads_head == s->list_head && smp->t_ns - s->walk_ns < rewalk_ns(s)) {
		refresh_names(s, s->ntc, smp->t_ns);
		for (i = 0; i < s->ntc; i++)
			if (take_trusted(s, smp, i, h.threads_head))
				break;
		if (i == s->ntc) {
			smp->nthreads = s->ntc;
			goto done;
		}
		s->list_valid = 0;
	}
	ret = take_walk(s, smp, &h);
	if (ret)
		return ret;
done:
	gil_overdue_end(s, smp);
	if (s->sched_opened > smp->nthreads)
		s->sched_opened = (uint32_t)smp->nthreads;	/* (one read twice) */
	if (s->sched_opened > s->files_short) {
		s->files_short = s->sched_opened;
		s->files_threads = smp->nthreads;
		s->files_limit = fdb.soft;
	}
	*out = smp;
	/* Memory that reads at all belongs to a live process (a zombie has
	 * none); so the kill(2)+stat check is needed only now and then. An
	 * exec() leaves a live process whose memory may still read (the same
	 * executable, not relocated): gone() tells that too. */
	if (smp->t_ns - s->alive_ns > 100000000ull || smp->walk_err) {
		s->alive_ns = smp->t_ns;
		if (gone(s))
			return GS_EEXITED;
	}
	return 0;
}

static int kidx_cmp(const void *a, const void *b)
{
	const struct sw_index *x = a, *y = b;

	return (x->ktid > y->ktid) - (x->ktid < y->ktid);
}

/* The thread cache by kernel tid, after the last walk. */
static int kidx_build(struct sampler *s)
{
	size_t i, n = 0;

	if (!s->kidx) {
		s->kidx = calloc(s->max_threads, sizeof(*s->kidx));
		if (!s->kidx)
			return GS_ENOMEM;
	}
	for (i = 0; i < s->ntc && i < s->max_threads; i++)
		if (s->tc[i].ktid > 0)
			s->kidx[n++] = (struct sw_index){ s->tc[i].ktid, (uint32_t)i };
	qsort(s->kidx, n, sizeof(*s->kidx), kidx_cmp);
	s->nkidx = n;
	s->kidx_stale = 0;
	return 0;
}

static struct thread_cache *cache_of_ktid(struct sampler *s, int32_t ktid)
{
	size_t lo = 0, hi = s->nkidx;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->kidx[mid].ktid == ktid)
			return &s->tc[s->kidx[mid].i];
		if (s->kidx[mid].ktid < ktid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void sampler_switches(struct sampler *s, const struct sw_event *ev, size_t n, int lost,
		      uint64_t drain_ns)
{
	size_t i;

	if (s->kidx_stale && kidx_build(s)) {
		sampler_switches_off(s);
		return;
	}
	s->sw_on = 1;
	s->sw_drain_ns = drain_ns;
	if (lost)
		s->sw_lost_ns = drain_ns;
	for (i = 0; i < n; i++) {
		struct thread_cache *c;

		if (ev[i].pid != (int32_t)s->proc->pid)
			continue;
		c = cache_of_ktid(s, ev[i].tid);
		if (c && ev[i].t_ns > c->sw_last)
			c->sw_last = ev[i].t_ns;
	}
}

void sampler_switches_off(struct sampler *s)
{
	s->sw_on = 0;
}

int sampler_take(struct sampler *s, const struct sample **out)
{
	unsigned long mark = gs_why_mark();
	int ret = take(s, out);

	/* the first check that failed in this sample, if any, is counted */
	gs_why_count(gs_why_first(mark));
	return ret;
}
