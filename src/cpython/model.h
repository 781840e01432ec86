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
 * Ownership: the model owns its caches and borrows the reader. Strings in a
 * struct py_code live as long as the model (until py_model_release()).
 * Nothing here allocates per call except on a cache miss.
 */
#ifndef GS_MODEL_H
#define GS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "offsets.h"
#include "../target/reader.h"

#define PY_MAX_THREADS 4096
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
	int32_t stacksize;	/* co_stacksize */
	int32_t nlocalsplus;	/* co_nlocalsplus (3.11+), else 0 */
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
	uint64_t pthread_id;	/* PyThreadState.thread_id (pthread_t) */
	int32_t tid;		/* native thread id, 0 if not known */
	int32_t status;		/* 3.13+ tstate->state (0 detached, 1 attached,
				 * 2 suspended), -1 otherwise */
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

struct py_model {
	struct reader *r;	/* borrowed */
	struct py_offsets off;
	struct py_location loc;
	char version[32];
	int free_threaded;
	struct code_cache *codes;
	const uint8_t *call_ops;	/* 256-entry table: opcode is a call */
	uint64_t tid_off;	/* pthread tid offset (3.9-3.10) once found */
	uint64_t interp_main;	/* cached main interpreter address */
	uint64_t nread_fail;	/* stats: walks cut short by a bad read */
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

/* The GIL of interpreter `interp`. */
int py_model_gil(struct py_model *m, uint64_t interp, struct py_gil *g);

/* The Python stack of a thread state, innermost first, at most `max` frames
 * (*truncated set when there were more). The innermost frame's opcode is
 * read. Returns 0, or a gs_err if the walk could not start (frames already
 * filled stay valid). */
int py_model_stack(struct py_model *m, uint64_t tstate, struct py_frame *frames,
		   size_t max, size_t *n, int *truncated);

/* Is `opcode` (of the model's version) a call into a callable? */
int py_model_is_call_opcode(const struct py_model *m, int opcode);

/*
 * The C callable an innermost frame is calling (its opcode is a call):
 * "math.factorial", "sorted", "list.sort", "numpy.ufunc". Exact on 3.14+,
 * where the frame keeps its stack pointer; earlier, the topmost callable on
 * the frame's value stack. Returns 0, or GS_ENOTPY when none is found.
 */
int py_model_callee(struct py_model *m, const struct py_frame *f, char *out, size_t outlen);

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
