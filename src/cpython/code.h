/*
 * code.h - the code-object cache and str decoding (internal to cpython/).
 *
 * Code objects are immutable, so a decoded one stays right as long as the
 * object at that address still has the same name, filename, qualname and
 * line-table pointers and first line; every lookup re-reads the object's
 * header (one read) and compares those before trusting the cache.
 */
#ifndef GS_CODE_H
#define GS_CODE_H

#include "model.h"

#define CODE_CACHE_MAX 16384
#define LINETABLE_MAX (256u << 10)
/* Memory the cache may hold for names and line tables, whatever the target
 * claims: past it a code object is kept without its line table, and when
 * not even its names fit it is refused (GS_ERANGE) until the next flush. */
#define CODE_CACHE_BYTES (64u << 20)

struct code_cache *code_cache_new(void);
void code_cache_free(struct code_cache *c);
/* Drop everything if the cache is nearly full. Call between samples only:
 * it invalidates every struct py_code handed out. */
void code_cache_maybe_flush(struct code_cache *c);
size_t code_cache_size(const struct code_cache *c);

/* The decoded code object at addr, or a gs_err. */
int code_get(struct py_model *m, uint64_t addr, const struct py_code **out);

/* Decode the str at addr into UTF-8. */
int str_read(struct py_model *m, uint64_t addr, char *out, size_t outlen);

#endif
