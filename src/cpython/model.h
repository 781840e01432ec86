/*
 * model.h - the interpreter model: CPython's runtime as seen from outside.
 *
 * A struct py_model is built from a reader (live process, or snapshot) and a
 * struct py_location (where _PyRuntime is and which version it is, found by
 * locate.c from the process's ELF files, or recorded in a snapshot's
 * metadata). It walks interpreters, thread states, frames and code objects;
 * every value read is checked, every walk bounded, and a failed or torn read
 * costs the current walk, not the process.
 *
 * Ownership: the model owns its caches, its scratch buffers and its copy of
 * the version's opcode tables (no state is shared between models, so that
 * several can live at once) and borrows the reader. Strings in a struct
 * py_code live as long as the model (until py_model_release()). Nothing
 * here allocates per call except on a cache miss.
 *
 * The implementation is one file per concern: see model_internal.h.
 */
#ifndef GS_MODEL_H
#define GS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "offsets.h"
#include "opcodes.h"
#include "../target/reader.h"

/* thread states walked per interpreter at most (a list that runs on is
 * corrupt); room for a program of ten thousand threads and more */
#define PY_MAX_THREADS 16384
#define PY_MAX_DEPTH 4096
#define PY_MAX_INTERPRETERS 64
#define PY_STR_MAX 1024		/* characters kept of a name or a path */

/* Where the runtime is; everything the model needs besides memory. */
struct py_location {
	uint64_t runtime_addr;	/* &_PyRuntime */
	uint32_t version_hex;	/* 0: read it from the debug offsets (3.13+) */
	int free_threaded;	/* -1 unknown: from the debug offsets */
	uint64_t code_type;	/* &PyCode_Type, 0 if unknown (then unchecked) */
	uint64_t pthread_tid_off; /* glibc struct pthread tid offset; 0 = search */
};

/* Save / restore a location as "key=value\n" lines (snapshot metadata). */
void py_location_format(const struct py_location *loc, char *out, size_t outlen);
int py_location_parse(const char *(*get)(void *ctx, const char *key), void *ctx,
		      struct py_location *loc);

/* Decoded code object, cached by address. */
struct py_code {
	uint64_t addr;
	const char *name;	/* co_name, UTF-8 */
	const char *qualname;	/* co_qualname (3.11+), else co_name */
	const char *filename;	/* co_filename, UTF-8 */
	int firstlineno;
	/* validation key: the pointers read from the object */
	uint64_t p_name, p_qualname, p_filename, p_linetable;
	const uint8_t *linetable;
	uint32_t linetable_len;
	uint64_t code_start;	/* address of the first code unit (3.11+) */
	uint32_t code_bytes;	/* bytes of code units from there, 0 unknown */
	int32_t stacksize;	/* co_stacksize */
	int32_t nlocalsplus;	/* co_nlocalsplus (3.11+), else 0 */
	int32_t flags;		/* co_flags where the model reads them, else 0 */
};

struct py_frame {
	const struct py_code *code;
	int32_t line;		/* -1 unknown */
	int32_t offset;		/* byte offset of the instruction, -1 unknown */
	int16_t opcode;		/* -1 unread (only the innermost frame is read) */
	int16_t oparg;		/* with opcode */
	uint64_t addr;		/* the frame in target memory */
	uint64_t instr;		/* address of the instruction (3.11+), else 0 */
};

/* One thread state, as found in the interpreter's list. */
struct py_thread {
	uint64_t tstate;
	uint64_t interp;
	uint64_t prev, next;	/* list links as read */
	uint64_t top;		/* current frame (3.11-3.12: the _PyCFrame) as read */
	uint64_t pthread_id;	/* PyThreadState.thread_id (pthread_t) */
	int32_t tid;		/* native thread id, 0 if not known */
	int32_t status;		/* 3.13+ tstate->state (0 detached, 1 attached,
				 * 2 suspended), -1 otherwise */
	uint64_t base;		/* 3.15+: tstate->base_frame, where every whole
				 * chain of this thread ends; 0 otherwise */
	int is_main;		/* first thread state of the main interpreter... */
};

struct py_gil {
	int known;		/* the fields below were read */
	uint64_t addr, size;	/* futexes in [addr, addr+size) belong to it */
	int locked;
	uint64_t holder;	/* tstate of the last holder (valid when locked) */
	uint64_t switch_number;
	uint64_t interval_us;
	int enabled;		/* 1 on default builds; FT: the 'enabled' count > 0 */
};

struct code_cache;

/* What every sample reads first, in one batch: the main interpreter, its
 * thread list head, the GIL, and (3.14+) the code-object generation. */
struct py_head {
	uint64_t interp;	/* main interpreter */
	int single;		/* it is the only interpreter */
	uint64_t threads_head;
	int code_gen_known;
	uint64_t code_gen;
	struct py_gil gil;	/* gil.known = 0 when it could not be read */
};

/* Ranges of target memory a stack walk read: the first one holds the
 * innermost frame (and, in 3.11+, its callers next to it in the data
 * stack); the others, single frames elsewhere (a C-stack entry frame, a
 * generator's frame, the thread state's base frame). */
#define PY_RANGES 32	/* 3.9-3.10: a frame object each; generators' frames
			 * (in their objects) one each on every version */
struct py_ranges {
	size_t n;
	uint64_t lo[PY_RANGES], hi[PY_RANGES];
};

/* Where a thread's stack walk will likely go, from where the last one
 * went: memory ranges, and the code objects of the two innermost frames. */
#define PY_GUESS_CODES 8
struct py_guess {
	struct py_ranges r;
	const struct py_code *code[2];
	/* code objects of its frames, to check in the same batch when the
	 * validation epoch asks for it */
	const struct py_code *check[PY_GUESS_CODES];
};

/* A guess from the ranges the thread's last stack walk read (m->walked
 * after it) and the frames it found. */
void py_guess_make(const struct py_ranges *last, const struct py_frame *frames, size_t nframes,
		   struct py_guess *g);

/* Add to r the ranges of `more` that no range of r holds, while r has
 * room (the first range stays first). */
void py_ranges_add(struct py_ranges *r, const struct py_ranges *more);

/* Target memory read ahead for one stack walk. */
#define PY_WINDOW_MAX 8192	/* the first range */
#define PY_RANGE_MAX 2048	/* each of the others */
#define PY_CODE_WINDOW_MAX 2048
struct py_window {
	struct py_ranges r;	/* what was read (ranges that failed: none) */
	uint32_t at[PY_RANGES];	/* where in buf each of r is */
	uint64_t clo[2], chi[2];
	uint8_t buf[PY_WINDOW_MAX + (PY_RANGES - 1) * PY_RANGE_MAX];
	uint8_t cbuf[2][PY_CODE_WINDOW_MAX];
};

/* Raw facts of one frame, gathered before its code object is looked up. */
struct py_raw_frame {
	uint64_t addr, code, instr;
	int32_t tlbc;
};

/* Code-object headers checked in one batched read at most, and the bytes
 * of one header a batch holds (a larger co_size skips the batches: each
 * code object is then read when it is looked up). */
#define PY_CODE_BATCH 64
#define PY_CODE_HDR_MAX 512

struct py_layout;

struct py_model {
	struct reader *r;	/* borrowed */
	struct py_offsets off;
	struct py_location loc;
	char version[32];
	int free_threaded;
	const struct py_layout *layout;	/* the build's row of layouts.c */
	struct code_cache *codes;
	uint8_t call_ops[256];	/* opcode is a call (the version's, filled by init) */
	struct py_op_info op_info[256];	/* operators (the same) */
	uint64_t tid_off;	/* pthread tid offset (3.9-3.10) once found */
	uint64_t interp_main;	/* cached main interpreter address */
	uint64_t nread_fail;	/* stats: walks cut short by a bad read */
	/* code validation: entries checked in this epoch are trusted without
	 * reading them again (0: check every lookup; see code.h) */
	uint64_t code_epoch;
	int code_gen_seen;
	uint64_t code_gen;
	uint64_t gil_ptr;	/* 3.12+: interp->ceval.gil as last read */
	struct py_ranges walked;	/* what the last stack walk read or used */
	struct py_line_memo *lines;	/* (code, offset) -> line, a small cache */
	uint64_t lines_gen;	/* code cache generation it is valid for */
	struct py_raw_frame *raw;	/* PY_MAX_DEPTH, scratch of the stack walk */
	uint8_t (*hdrs)[PY_CODE_HDR_MAX];	/* PY_CODE_BATCH, scratch of batched
						 * code-object header reads */
	struct py_window *win;	/* read ahead with a thread state, for its walk */
	/* scratch of the thread-list walk, grown to the largest list walked:
	 * the thread states seen (a hash set of indices into the walk's
	 * output, so a loop is found in one probe, not a scan of all), and
	 * the task list sorted (3.9-3.10: native ids are looked up in it) */
	uint32_t *seen;
	size_t seen_cap;
	int32_t *tids_sorted;
	size_t tids_cap;
	/* the thread states of a hinted walk, read ahead in one batch */
	uint8_t *ahead;
	struct reader_iov *ahead_iov;
	size_t ahead_cap;
};

int py_model_init(struct py_model *m, struct reader *r, const struct py_location *loc);
void py_model_release(struct py_model *m);

/* The main interpreter's address (the head of the interpreter list). */
int py_model_interp(struct py_model *m, uint64_t *interp);

/* All thread states of all interpreters, at most `max`. Fills n. A list that
 * loops or runs past PY_MAX_THREADS ends the walk with what was read and
 * returns GS_ECORRUPT. For 3.9-3.10 the native tid is found through glibc's
 * struct pthread, checked against `tids` (the process's task list). */
int py_model_threads(struct py_model *m, struct py_thread *out, size_t max, size_t *n,
		     const int32_t *tids, size_t ntids);

/* The same walk, given the thread states a previous walk found (hint,
 * nhint addresses, in list order): those thread states are read ahead in one batched read,
 * and the walk takes each from there while the list is as it was (a
 * thread state that was not in the hint, or whose read ahead failed, is
 * read alone). A list of ten thousand threads then costs a few system
 * calls, not ten thousand. Same result and bounds as py_model_threads(). */
int py_model_threads_hint(struct py_model *m, struct py_thread *out, size_t max, size_t *n,
			  const int32_t *tids, size_t ntids, const uint64_t *hint,
			  size_t nhint);

/* The GIL of interpreter `interp`. */
int py_model_gil(struct py_model *m, uint64_t interp, struct py_gil *g);

/* The main interpreter, its thread list head, its GIL and code generation,
 * in as few reads as the layout allows (one, usually). Returns 0 or a
 * gs_err when not even the interpreter could be read. */
int py_model_head(struct py_model *m, struct py_head *h);

/*
 * Start a sample: a new code validation epoch, unless the interpreter says
 * that no code object died since the last one (3.14+, one interpreter):
 * then no code object can have been replaced by another at the same
 * address, and what was checked stays checked.
 */
void py_model_begin_sample(struct py_model *m, const struct py_head *h);

/* Read one thread state (known to belong to `interp`) into *out, links and
 * top frame included. GS_ECORRUPT when it is not a thread state of interp. */
int py_model_thread_read(struct py_model *m, uint64_t tstate, uint64_t interp,
			 struct py_thread *out);

/* Is t still linked where it was read: its predecessor's next (or the
 * list head, given) points at it? 1 yes, 0 no, negative gs_err. */
int py_model_thread_linked(struct py_model *m, const struct py_thread *t, uint64_t head);

/*
 * Read thread state `old` again (into *out) in one batch with what tells
 * whether it is still linked where it was (*linked as for
 * py_model_thread_linked(), against old's predecessor) and, given a guess
 * (g not NULL), the memory its stack walk is likely to need (into *w): the
 * pages its frames were on last time and the code units of its innermost
 * code objects. Returns 0 or a gs_err for the thread state itself.
 */
int py_model_thread_reread(struct py_model *m, const struct py_thread *old, uint64_t head,
			   const struct py_guess *g, struct py_thread *out, int *linked,
			   struct py_window *w);

/*
 * A stack is complete only when its walk reached the thread's entry frame.
 * gilscope never stops the target, so a walk can run into a frame being
 * unlinked (a generator that yields cuts its frame from its caller's, a
 * function that returns frees or reuses its frame) and end somewhere in
 * the middle of the stack: such a read is torn. Why a walk did not end
 * where a thread's stack ends:
 */
enum py_torn {
	PY_WHOLE = 0,		/* it did (or there were no frames at all) */
	PY_TORN_YIELDED,	/* at a generator's or coroutine's frame: it
				 * yielded or returned while we read */
	PY_TORN_NOT_ENTRY,	/* at a frame that starts no thread */
	PY_TORN_DEAD_FRAME,	/* through a frame that had been freed (3.9-3.10) */
	PY_TORN_NOT_BASE,	/* elsewhere than the thread's base frame */
	PY_TORN_UNREADABLE,	/* at a link to memory that holds no frame, or
				 * into a loop */
	PY_TORN_CFRAME,		/* at no frame: the thread's C-level record of
				 * an eval call was not filled in yet, or its
				 * call had returned (3.11-3.12) */
	PY_TORN_COUNT
};

/* A few words saying why, e.g. "a generator yielded while it was read". */
const char *py_torn_reason(enum py_torn t);

/* How a walk ended. */
struct py_stack_end {
	enum py_torn torn;
	uint64_t last;		/* the outermost frame it reached (entry frames
				 * included), 0 when none or cut short */
};

/* The Python stack of a thread state, innermost first, at most `max` frames
 * (*truncated set when there were more). The innermost frame's opcode is
 * read. Returns 0, or a gs_err if the walk could not start (frames already
 * filled stay valid). */
int py_model_stack(struct py_model *m, uint64_t tstate, struct py_frame *frames,
		   size_t max, size_t *n, int *truncated);
/* The same from a thread's `top` as read by py_model_thread_read(); w, if
 * not NULL, is memory already read that the walk uses where it can. */
int py_model_stack_top(struct py_model *m, uint64_t top, struct py_frame *frames,
		       size_t max, size_t *n, int *truncated);
int py_model_stack_top_w(struct py_model *m, uint64_t top, const struct py_window *w,
			 struct py_frame *frames, size_t max, size_t *n, int *truncated);

/*
 * The stack of thread t as read by py_model_thread_read() or _reread() (its
 * `top`, and its `base` where the version keeps one), with *end saying
 * whether the walk reached the thread's entry frame. A stack cut short by
 * `max` or PY_MAX_DEPTH is truncated, not torn. The same return value and
 * frames as py_model_stack_top_w().
 */
int py_model_stack_thread(struct py_model *m, const struct py_thread *t,
			  const struct py_window *w, struct py_frame *frames, size_t max,
			  size_t *n, int *truncated, struct py_stack_end *end);

/* Are a and b the same thread: state address, ids, interpreter? */
int py_thread_same(const struct py_thread *a, const struct py_thread *b);

/* One whole read of a thread: py_model_read_thread(). */
struct py_thread_read {
	struct py_thread t;	/* its state as read now */
	int linked;		/* still linked where it was (py_model_thread_linked()) */
	int same;		/* the same thread as asked for; walked only then */
	int err;		/* the walk's, as py_model_stack_thread() returns it */
	size_t n;		/* frames found */
	int truncated;
	struct py_stack_end end;
};

/*
 * A sample's read of one thread, top to bottom: its state again (`known` as
 * last read; `head` as py_model_thread_reread() takes it) in one batch with
 * the memory its walk will likely need (g, may be NULL), then, if it is
 * still the same thread, its stack from the frame it is in now, into
 * frames[max], read with that memory where it can. Returns a gs_err when
 * the thread state could not be read; else 0 and *r (r->same 0: nothing
 * was walked and frames are as they were).
 */
int py_model_read_thread(struct py_model *m, const struct py_thread *known, uint64_t head,
			 const struct py_guess *g, struct py_frame *frames, size_t max,
			 struct py_thread_read *r);

/* Is `opcode` (of the model's version) a call into a callable? */
int py_model_is_call_opcode(const struct py_model *m, int opcode);

/* Where a callee was found (ref of py_model_callee(), may be NULL there):
 * the stack slot and the object it held, and on 3.14+ the frame's saved
 * stack pointer as it was read. py_model_callee_still() is 1 while the
 * slot holds the same object and the stack pointer is unchanged (one or
 * two 8-byte reads): the same call, or at least the same callable, so the
 * name found for it stands. A stack pointer that changed was stale when
 * read (the instruction had not saved its own yet): look again. */
struct py_callee_ref {
	uint64_t slot, obj;
	uint64_t sp_at, sp;	/* 3.14+: where the frame saves it, and its value */
};

/*
 * The C callable an innermost frame is calling (its opcode is a call):
 * "math.factorial", "sorted", "list.sort", "numpy.ufunc". Exact on 3.14+,
 * where the frame keeps its stack pointer; earlier, the topmost callable on
 * the frame's value stack. Returns 0, or GS_ENOTPY when none is found.
 */
int py_model_callee(struct py_model *m, const struct py_frame *f, char *out, size_t outlen,
		    struct py_callee_ref *ref);
int py_model_callee_still(struct py_model *m, const struct py_callee_ref *ref);

/* Is `opcode` an operator: C reached without a call (see opcodes.c)? */
int py_model_is_operator(const struct py_model *m, int opcode);

/* What gilscope reads, from its tables: "CPython 3.9 to 3.15 (3.15 from
 * 3.15.0b4), default and free-threaded builds". */
void py_supported_str(char *out, size_t outlen);

/* The version the model reads (PY_VERSION_HEX), 0 if not known yet (a
 * failed py_model_init may still have read it). */
uint32_t py_model_version_hex(const struct py_model *m);
/* Are native thread ids matched through the task list (3.9-3.10, whose
 * thread states do not hold them; py_model_threads' tids argument)? */
int py_model_needs_task_list(const struct py_model *m);
/* Where the runtime is, with what the walks learned since (the pthread
 * tid offset, the version): for a snapshot, so that a replay needs no
 * search. */
void py_model_replay_location(const struct py_model *m, struct py_location *out);
/* ... and one at which the eval loop never hands the GIL over? */
int py_model_operator_no_handoff(const struct py_model *m, int opcode);

/* What the instruction an innermost frame is at means for its thread's
 * state: py_model_site() sums up the opcode tables above. */
struct py_site {
	int in_call;		/* a call into a callable */
	int in_bytecode;	/* any other instruction */
	int operator;		/* an operator: C reached without a call */
	int no_handoff;		/* bytecode at which the GIL is never handed over */
};
void py_model_site(const struct py_model *m, const struct py_frame *f, struct py_site *out);

/*
 * The C code an innermost frame at `site` runs, named into out (a call's
 * callable, or an operator's special method; "" when none is found), with
 * where it was found in *ref. A name already in out (`known`) stands
 * unless `check` asks whether it still does and py_model_callee_still()
 * says no. Returns 1 when it looked the name up, 0 when the known one
 * stood or the site runs no C code.
 */
int py_model_native_name(struct py_model *m, const struct py_frame *f,
			 const struct py_site *site, int known, int check,
			 struct py_callee_ref *ref, char *out, size_t outlen);

/*
 * The special method an innermost frame's operator runs, named like a
 * callee: "int.__mul__", "numpy.ndarray.__matmul__", "list.__getitem__".
 * The receiver's type comes from the frame's saved stack pointer (3.14+)
 * or from a specialized instruction; when neither says, the method alone
 * ("__matmul__"). Returns 0, or GS_ENOTPY when the opcode is no operator.
 */
int py_model_operator(struct py_model *m, const struct py_frame *f, char *out, size_t outlen,
		      struct py_callee_ref *ref);

/* Read a str object into UTF-8 (at most PY_STR_MAX characters, NUL-ended).
 * Returns 0 or a gs_err. */
int py_model_read_str(struct py_model *m, uint64_t addr, char *out, size_t outlen);



struct strbuf;
/*
 * Walk every thread and append "thread <n> tid <tid>\n" and one
 * "  <qualname> <file>:<line>\n" per frame (innermost first) to sb: a
 * canonical text of what the model sees, for snapshot tests. `tids` as for
 * py_model_threads (NULL allowed).
 */
int py_model_format_stacks(struct py_model *m, struct strbuf *sb,
			   const int32_t *tids, size_t ntids);
#endif
