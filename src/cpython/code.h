/*
 * code.h - the code-object cache and str decoding (internal to cpython/).
 *
 * Code objects are immutable, so a decoded one stays right as long as the
 * object at that address still has the same name, filename, qualname and
 * line-table pointers and first line; a lookup re-reads the object's
 * header (one read) and compares those before trusting the cache, at most
 * once per validation epoch: the sampler starts a new epoch every sample,
 * or on 3.14+ only when the interpreter says a code object died.
 */
#ifndef GS_CODE_H
#define GS_CODE_H

#include "model.h"

#define CODE_CACHE_MAX 16384
#define LINETABLE_MAX (256u << 10)
/* Bytes of names and line tables the cache holds at most: real programs
 * need a few MiB; past this the cache refuses new entries (GS_ERANGE) until
 * code_cache_maybe_flush() empties it. */
#define CODE_CACHE_BYTES (64u << 20)

struct code_cache *code_cache_new(void);
void code_cache_free(struct code_cache *c);
/* Drop everything if the cache is nearly full (entries or bytes). Call
 * between samples only: it invalidates every struct py_code handed out. */
void code_cache_maybe_flush(struct code_cache *c);
size_t code_cache_size(const struct code_cache *c);

/* Bumped whenever a decoded entry is replaced or dropped: struct py_code
 * pointers handed out before stay valid only while it does not change. */
uint64_t code_cache_gen(const struct code_cache *c);

/*
 * The decoded code object at addr, or a gs_err. The object's header is read
 * and compared with the cached decoding, unless the entry was already
 * checked in the model's current validation epoch (m->code_epoch, 0 = check
 * every time): see py_model_begin_sample().
 */
int code_get(struct py_model *m, uint64_t addr, const struct py_code **out);
/* The cached entry for addr if it was checked in the current epoch. */
const struct py_code *code_checked(struct py_model *m, uint64_t addr);
/* code_get() with the header (co_size bytes at addr) already read. */
int code_get_hdr(struct py_model *m, uint64_t addr, const uint8_t *hdr,
		 const struct py_code **out);

/* Decode the str at addr into UTF-8. */
int str_read(struct py_model *m, uint64_t addr, char *out, size_t outlen);

#endif
