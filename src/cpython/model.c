/*
 * model.c - the interpreter model as a whole: setting it up from a
 * location (offset tables, or the target's own _Py_DebugOffsets on 3.13+),
 * what it owns and frees, the code validation epoch of a sample, the
 * version's opcode facts, saving and restoring a location (snapshot
 * metadata), and the canonical text of every thread's stack.
 *
 * The walks themselves are in threads.c, gil.c, prefetch.c, frames.c and
 * lines.c (see model_internal.h). Every pointer read is target data:
 * checked for alignment and non-zero before use; every list walk is
 * bounded and cycle-checked; a failed read ends that walk with what was
 * gathered.
 */
#include "model_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "code.h"
#include "opcodes.h"
#include "../util/error.h"
#include "../util/strbuf.h"

int py_model_init(struct py_model *m, struct reader *r, const struct py_location *loc)
{
	uint8_t dbg[PY_DEBUG_OFFSETS_MAX];
	const struct py_offsets *t;
	uint32_t v = loc->version_hex;
	int ret;

	memset(m, 0, sizeof(*m));
	m->r = r;
	m->loc = *loc;
	if (!valid_ptr(loc->runtime_addr))
		return GS_ENOTPY;

	if (!v || v >= 0x030d0000) {
		/* 3.13+: the runtime describes itself. The table is smaller than
		 * PY_DEBUG_OFFSETS_MAX; read what we can. */
		size_t len = sizeof(dbg);

		ret = reader_read(r, loc->runtime_addr, dbg, len);
		while (ret == GS_EFAULT && len > 256) {
			len /= 2;
			ret = reader_read(r, loc->runtime_addr, dbg, len);
		}
		if (ret)
			return ret;
		ret = py_offsets_from_debug(dbg, len, &m->off);
		if (ret == GS_ECORRUPT && (!v || memcmp(dbg, "xdebugpy", 8)))
			return v ? GS_ECORRUPT : GS_EUNSUPPORTED;
		if (ret == GS_EUNSUPPORTED) {
			uint64_t dv;

			memcpy(&dv, dbg + 8, sizeof(dv));
			m->off.version_hex = (uint32_t)dv;
		}
		if (ret)
			return ret;
		if (v && (v >> 16) != (m->off.version_hex >> 16))
			return GS_CORRUPT("v && (v >> 16) != (m->off.version_hex >> 16)");
	} else {
		t = py_offsets_table(v);
		if (!t)
			return GS_EUNSUPPORTED;
		m->off = *t;
		m->off.version_hex = v;
		m->off.free_threaded = 0;
	}
	m->free_threaded = m->off.free_threaded;
	m->layout = py_layout_find(m->off.version_hex, m->free_threaded);
	if (!m->layout)
		return GS_EUNSUPPORTED;
	py_version_str(m->off.version_hex, m->version, sizeof(m->version));

	{
		unsigned minor = (m->off.version_hex >> 16) & 0xff;

		/* the model's own copies (all zero: none known, as memset left
		 * them), so that models of several processes can live at once */
		if (minor >= 9 && minor < 17) {
			(void)py_call_opcodes(m->off.version_hex, m->call_ops);
			(void)py_operator_opcodes(m->off.version_hex, m->op_info);
		}
	}
	m->codes = code_cache_new();
	m->raw = calloc(PY_MAX_DEPTH, sizeof(*m->raw));
	m->hdrs = calloc(PY_CODE_BATCH, sizeof(*m->hdrs));
	m->win = malloc(sizeof(*m->win));
	if (!m->codes || !m->raw || !m->hdrs || !m->win)
		return GS_ENOMEM;
	m->tid_off = loc->pthread_tid_off;
	return 0;
}

void py_model_release(struct py_model *m)
{
	code_cache_free(m->codes);
	m->codes = NULL;
	free(m->raw);
	m->raw = NULL;
	free(m->hdrs);
	m->hdrs = NULL;
	free(m->win);
	m->win = NULL;
	free(m->lines);
	m->lines = NULL;
	free(m->seen);
	m->seen = NULL;
	m->seen_cap = 0;
	free(m->tids_sorted);
	m->tids_sorted = NULL;
	m->tids_cap = 0;
	free(m->ahead);
	free(m->ahead_iov);
	m->ahead = NULL;
	m->ahead_iov = NULL;
	m->ahead_cap = 0;
}

void py_model_begin_sample(struct py_model *m, const struct py_head *h)
{
	if (h && h->single && h->code_gen_known && m->code_gen_seen &&
	    h->code_gen == m->code_gen && m->code_epoch)
		return;
	m->code_epoch++;
	if (!m->code_epoch)
		m->code_epoch = 1;
	m->code_gen_seen = h && h->single && h->code_gen_known;
	m->code_gen = h ? h->code_gen : 0;
}

uint32_t py_model_version_hex(const struct py_model *m)
{
	return m->off.version_hex;
}

int py_model_needs_task_list(const struct py_model *m)
{
	return m->off.ts_native_thread_id == OFF_NONE;
}

void py_model_replay_location(const struct py_model *m, struct py_location *out)
{
	*out = m->loc;
	out->pthread_tid_off = m->tid_off;
	out->version_hex = m->off.version_hex;
}

int py_model_is_operator(const struct py_model *m, int opcode)
{
	return opcode >= 0 && opcode < 256 && m->op_info[opcode].is_op;
}

int py_model_operator_no_handoff(const struct py_model *m, int opcode)
{
	return py_model_is_operator(m, opcode) && m->op_info[opcode].no_handoff;
}

int py_model_is_call_opcode(const struct py_model *m, int opcode)
{
	return opcode >= 0 && opcode < 256 && m->call_ops[opcode];
}

int py_model_read_str(struct py_model *m, uint64_t addr, char *out, size_t outlen)
{
	return str_read(m, addr, out, outlen);
}

void py_location_format(const struct py_location *loc, char *out, size_t outlen)
{
	snprintf(out, outlen,
		 "runtime=0x%" PRIx64 "\nversion=0x%" PRIx32 "\nfree_threaded=%d\n"
		 "code_type=0x%" PRIx64 "\npthread_tid_off=0x%" PRIx64 "\n",
		 loc->runtime_addr, loc->version_hex, loc->free_threaded,
		 loc->code_type, loc->pthread_tid_off);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s)
		return GS_CORRUPT("!s || !*s");
	*v = strtoull(s, &end, 0);
	return *end ? GS_ECORRUPT : 0;
}

int py_location_parse(const char *(*get)(void *ctx, const char *key), void *ctx,
		      struct py_location *loc)
{
	uint64_t v;
	const char *ft;

	memset(loc, 0, sizeof(*loc));
	if (parse_u64(get(ctx, "runtime"), &loc->runtime_addr))
		return GS_CORRUPT("parse_u64(get(ctx, \"runtime\"), &loc->runtime_addr)");
	if (parse_u64(get(ctx, "version"), &v) || v > UINT32_MAX)
		return GS_CORRUPT("parse_u64(get(ctx, \"version\"), &v) || v > UINT32_MAX");
	loc->version_hex = (uint32_t)v;
	ft = get(ctx, "free_threaded");
	loc->free_threaded = ft && !strcmp(ft, "1") ? 1 : ft && !strcmp(ft, "0") ? 0 : -1;
	if (parse_u64(get(ctx, "code_type"), &loc->code_type))
		loc->code_type = 0;
	if (parse_u64(get(ctx, "pthread_tid_off"), &loc->pthread_tid_off))
		loc->pthread_tid_off = 0;
	return 0;
}
