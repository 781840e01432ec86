/*
 * pb.h - a small protocol buffers writer (the wire format only: varints,
 * length-delimited fields, packed repeated fields), enough to write
 * pprof's profile.proto (report/pprof.c) without generated code.
 *
 * Everything is appended to a strbuf; an allocation failure is recorded in
 * it (strbuf.failed), so a caller checks once at the end. A nested message
 * or packed field is opened with pb_open(), written in place, and closed
 * with pb_close(), which puts its length in front of it.
 */
#ifndef GS_PB_H
#define GS_PB_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

enum pb_wire {
	PB_VARINT = 0,
	PB_LEN = 2,
};

/* A varint alone (no key): 1 to 10 bytes. */
void pb_varint(struct strbuf *sb, uint64_t v);
/* field = v, as a varint (uint64, or an int64 as its two's complement). */
void pb_uint(struct strbuf *sb, uint32_t field, uint64_t v);
void pb_int(struct strbuf *sb, uint32_t field, int64_t v);
/* field = bytes (a string: its bytes, no NUL) */
void pb_bytes(struct strbuf *sb, uint32_t field, const void *data, size_t len);
void pb_str(struct strbuf *sb, uint32_t field, const char *s);

/* Open a length-delimited field (a message, or a packed repeated field
 * whose elements are then written with pb_varint()); returns the mark to
 * give pb_close(). Opened fields nest; close them innermost first. */
size_t pb_open(struct strbuf *sb, uint32_t field);
void pb_close(struct strbuf *sb, size_t mark);

#endif
