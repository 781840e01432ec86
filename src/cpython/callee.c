/*
 * callee.c - name the C function a thread is inside of.
 *
 * A thread holding the GIL whose innermost Python frame sits on a call
 * instruction is running a C callable; the callable is on that frame's
 * value stack. 3.14+ keep the stack pointer in the frame across every call
 * that can escape, so the callable's slot is exact (below the arguments);
 * older versions do not, so we take the topmost slot of the stack that
 * holds a C callable. Recognised callables (public, stable layouts):
 *   builtin_function_or_method  PyCFunctionObject: m_ml, m_self, m_module
 *   method_descriptor           PyMethodDescrObject: d_type ... d_method
 *   type                        a class being instantiated
 *   anything else               its type's name (numpy.ufunc, ...)
 */
#include "model_internal.h"

#include <stdio.h>
#include <string.h>

#include "code.h"
#include "../util/error.h"

#define MAX_STACK_SCAN 256

/* A NUL-terminated C string from the target, at most outlen-1 bytes. */
static int read_cstr(struct py_model *m, uint64_t addr, char *out, size_t outlen)
{
	size_t i;
	int ret;

	if (!addr || outlen < 2)
		return GS_EFAULT;
	ret = reader_read(m->r, addr, out, outlen - 1);
	if (ret) {
		/* maybe near the end of a mapping: try a short read */
		ret = reader_read(m->r, addr, out, 16 < outlen - 1 ? 16 : outlen - 1);
		if (ret)
			return ret;
		out[16 < outlen - 1 ? 16 : outlen - 1] = '\0';
	}
	out[outlen - 1] = '\0';
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20)
			return GS_CORRUPT("(unsigned char)out[i] < 0x20");
	return i ? 0 : GS_CORRUPT("an empty C string");
}

static int type_name(struct py_model *m, uint64_t type, char *out, size_t outlen)
{
	uint64_t p;

	if (!valid_ptr(type) || reader_read_u64(m->r, type + m->off.tp_name, &p))
		return GS_EFAULT;
	return read_cstr(m, p, out, outlen);
}

/* Name a callable object; 0 if it is a C callable we recognise. */
static int name_callable(struct py_model *m, uint64_t obj, char *out, size_t outlen)
{
	const struct py_offsets *o = &m->off;
	const struct py_layout *l = model_layout(m);
	uint64_t type, ml, name_p, self, mod, dtype;
	char tname[96], fname[96], mname[128];

	if (!l)
		return GS_ENOTPY;
	if (!valid_ptr(obj) || reader_read_u64(m->r, obj + o->ob_type, &type) ||
	    type_name(m, type, tname, sizeof(tname)))
		return GS_ENOTPY;
	if (!strcmp(tname, "builtin_function_or_method")) {
		if (reader_read_u64(m->r, obj + l->call.cf_ml, &ml) || !valid_ptr(ml) ||
		    reader_read_u64(m->r, ml, &name_p) || read_cstr(m, name_p, fname, sizeof(fname)))
			return GS_ENOTPY;
		/* module functions carry their module's name in m_module */
		if (!reader_read_u64(m->r, obj + l->call.cf_module, &mod) && valid_ptr(mod) &&
		    !str_read(m, mod, mname, sizeof(mname)) && mname[0]) {
			if (!strcmp(mname, "builtins"))
				snprintf(out, outlen, "%s", fname);
			else
				snprintf(out, outlen, "%s.%s", mname, fname);
			return 0;
		}
		/* a bound method of a C object: name its type */
		if (!reader_read_u64(m->r, obj + l->call.cf_self, &self) && valid_ptr(self) &&
		    !reader_read_u64(m->r, self + o->ob_type, &type) &&
		    !type_name(m, type, mname, sizeof(mname))) {
			snprintf(out, outlen, "%s.%s", mname, fname);
			return 0;
		}
		snprintf(out, outlen, "%s", fname);
		return 0;
	}
	if (!strcmp(tname, "method_descriptor") || !strcmp(tname, "classmethod_descriptor")) {
		if (reader_read_u64(m->r, obj + l->call.descr_method, &ml) || !valid_ptr(ml) ||
		    reader_read_u64(m->r, ml, &name_p) || read_cstr(m, name_p, fname, sizeof(fname)))
			return GS_ENOTPY;
		if (!reader_read_u64(m->r, obj + l->call.descr_type, &dtype) &&
		    !type_name(m, dtype, mname, sizeof(mname)))
			snprintf(out, outlen, "%s.%s", mname, fname);
		else
			snprintf(out, outlen, "%s", fname);
		return 0;
	}
	if (!strcmp(tname, "type")) {
		/* a class: its own name */
		if (type_name(m, obj, mname, sizeof(mname)))
			return GS_ENOTPY;
		snprintf(out, outlen, "%s", mname);
		return 0;
	}
	/* Python-level callables push frames; they are not what we want */
	if (!strcmp(tname, "function") || !strcmp(tname, "method") ||
	    !strcmp(tname, "NoneType") || !strcmp(tname, "int") || !strcmp(tname, "str") ||
	    !strcmp(tname, "tuple") || !strcmp(tname, "list") || !strcmp(tname, "dict") ||
	    !strcmp(tname, "code") || !strcmp(tname, "cell") || !strcmp(tname, "bool") ||
	    !strcmp(tname, "float") || !strcmp(tname, "bytes") || !strcmp(tname, "module"))
		return GS_ENOTPY;
	/* other callable C types (numpy.ufunc, functools.partial, ...) */
	if (strchr(tname, '.') || strstr(tname, "ufunc")) {
		snprintf(out, outlen, "%s", tname);
		return 0;
	}
	return GS_ENOTPY;
}

/*
 * 3.14+: is sp, the stack pointer the frame saved, one that leaves at
 * least `need` slots on the frame's value stack? Release builds never
 * clear it, so between an instruction's start and its first escaping call
 * it is the one an earlier instruction saved: one that points below
 * `need` would read the frame's locals (a cell, a loop variable) as
 * operands, and a name found there would stay, for the slot never
 * changes. 0 and the stack's base, or GS_ENOTPY / GS_ECORRUPT.
 */
static int saved_sp(struct py_model *m, const struct py_frame *f, uint64_t sp, uint64_t need,
		    uint64_t *base)
{
	const struct py_code *c = f->code;

	if (m->off.fr_localsplus == OFF_NONE || !valid_ptr(sp) || !c)
		return GS_ENOTPY;
	if (c->stacksize <= 0 || c->stacksize > 100000 || c->nlocalsplus < 0 ||
	    c->nlocalsplus > 100000)
		return GS_CORRUPT("code with a stack size or a count of locals out of range");
	*base = f->addr + m->off.fr_localsplus + 8 * (uint64_t)c->nlocalsplus;
	if (sp < *base + 8 * need || sp > *base + 8 * (uint64_t)c->stacksize)
		return GS_CORRUPT("saved stack pointer leaves no room for the operands or lies past the stack");
	return 0;
}

/* Start a lookup: nothing found yet. On 3.14+ read the frame's saved
 * stack pointer, once: into *sp for the lookup, and into ref as it is now
 * (a later change means it was stale). 0 when it was read. */
static int ref_start(struct py_model *m, const struct py_frame *f, struct py_callee_ref *ref,
		     uint64_t *sp)
{
	int ret = GS_ENOTPY;

	if (m->off.fr_stackpointer != OFF_NONE)
		ret = reader_read_u64(m->r, f->addr + m->off.fr_stackpointer, sp);
	if (ref) {
		ref->slot = ref->obj = ref->sp_at = ref->sp = 0;
		if (!ret) {
			ref->sp_at = f->addr + m->off.fr_stackpointer;
			ref->sp = *sp;
		}
	}
	return ret;
}

/* The callable found: obj, in the stack slot at `slot`. */
static int found(struct py_callee_ref *ref, uint64_t slot, uint64_t obj)
{
	if (ref) {
		ref->slot = slot;
		ref->obj = obj;
	}
	return 0;
}

int py_model_callee_still(struct py_model *m, const struct py_callee_ref *ref)
{
	uint64_t v;

	if (!ref->slot || !valid_ptr(ref->slot) || reader_read_u64(m->r, ref->slot, &v) ||
	    (v & ~m->off.fr_code_tag_mask) != ref->obj)
		return 0;
	return !ref->sp_at || (!reader_read_u64(m->r, ref->sp_at, &v) && v == ref->sp);
}

int py_model_callee(struct py_model *m, const struct py_frame *f, char *out, size_t outlen,
		    struct py_callee_ref *ref)
{
	const struct py_offsets *o = &m->off;
	uint64_t sp, base, slots[MAX_STACK_SCAN], mask = o->fr_code_tag_mask;
	int32_t n, i;

	out[0] = '\0';
	if (ref)	/* nothing found, should we return early */
		ref->slot = ref->obj = ref->sp_at = ref->sp = 0;
	if (!f->code || f->opcode < 0 || !py_model_is_call_opcode(m, f->opcode))
		return GS_ENOTPY;
	if (f->code->stacksize <= 0 || f->code->stacksize > 100000 ||
	    f->code->nlocalsplus < 0 || f->code->nlocalsplus > 100000)
		return GS_CORRUPT("f->code->stacksize <= 0 || f->code->stacksize > 100000 || f->code->nl...");
	/* 3.14+: below the saved stack pointer sit callable, self_or_null,
	 * then oparg arguments (and kwnames for CALL_KW) */
	if (!ref_start(m, f, ref, &sp)) {
		uint64_t v;
		int k;

		if (!saved_sp(m, f, sp, (uint64_t)f->oparg + 2, &base)) {
			for (k = 2; k <= 4; k++) {
				uint64_t at = sp - 8 * ((uint64_t)f->oparg + (uint64_t)k);

				if (at < base)
					break;
				if (!reader_read_u64(m->r, at, &v) &&
				    !name_callable(m, v & ~mask, out, outlen))
					return found(ref, at, v & ~mask);
			}
		}
	}

	if (o->fr_localsplus != OFF_NONE)
		base = f->addr + o->fr_localsplus + 8 * (uint64_t)f->code->nlocalsplus;
	else if (o->fr_valuestack != OFF_NONE) {
		if (reader_read_u64(m->r, f->addr + o->fr_valuestack, &base) || !valid_ptr(base))
			return GS_EFAULT;
	} else {
		return GS_ENOTPY;
	}
	n = f->code->stacksize < MAX_STACK_SCAN ? f->code->stacksize : MAX_STACK_SCAN;
	if (reader_read(m->r, base, slots, 8 * (size_t)n))
		return GS_EFAULT;
	/* the callable sits below its oparg arguments: the topmost candidate
	 * that leaves room for them */
	for (i = n - 1 - f->oparg; i >= 0; i--) {
		if (!valid_ptr(slots[i] & ~mask))
			continue;
		if (!name_callable(m, slots[i] & ~mask, out, outlen))
			return found(ref, base + 8 * (uint64_t)i, slots[i] & ~mask);
	}
	return GS_ENOTPY;
}

/* An object's type name, into out; 0 or a gs_err. */
static int obj_type_name(struct py_model *m, uint64_t obj, char *out, size_t outlen)
{
	uint64_t type;

	if (!valid_ptr(obj) || reader_read_u64(m->r, obj + m->off.ob_type, &type))
		return GS_EFAULT;
	return type_name(m, type, out, outlen);
}

int py_model_operator(struct py_model *m, const struct py_frame *f, char *out, size_t outlen,
		      struct py_callee_ref *ref)
{
	const struct py_offsets *o = &m->off;
	const struct py_op_info *op;
	const char *dunder;
	char lhs[96], rhs[96];
	uint64_t sp, base, at, v, w, mask = o->fr_code_tag_mask;
	int depth;

	out[0] = '\0';
	if (ref)
		ref->slot = ref->obj = ref->sp_at = ref->sp = 0;
	if (!py_model_is_operator(m, f->opcode))
		return GS_ENOTPY;
	op = &m->op_info[f->opcode];
	dunder = py_operator_dunder(op, f->oparg);
	if (!dunder)
		return GS_ENOTPY;
	if (op->type[0]) {
		snprintf(out, outlen, "%s.%s", op->type, dunder);
		return 0;
	}
	depth = py_operator_receiver_depth(op, f->oparg);
	if (!ref_start(m, f, ref, &sp) && depth > 0 && !saved_sp(m, f, sp, (uint64_t)depth, &base)) {
		at = sp - 8 * (uint64_t)depth;
		if (!reader_read_u64(m->r, at, &v) &&
		    !obj_type_name(m, v & ~mask, lhs, sizeof(lhs))) {
			/* 2 * array: int gives up, the array's reflected
			 * method runs */
			if (py_operator_reflects(op, f->oparg) && !strchr(lhs, '.') &&
			    !reader_read_u64(m->r, at + 8, &w) &&
			    !obj_type_name(m, w & ~mask, rhs, sizeof(rhs)) && strchr(rhs, '.')) {
				snprintf(out, outlen, "%s.__r%s", rhs, dunder + 2);
				return found(ref, at + 8, w & ~mask);
			}
			snprintf(out, outlen, "%s.%s", lhs, dunder);
			return found(ref, at, v & ~mask);
		}
	}
	snprintf(out, outlen, "%s", dunder);
	return 0;
}

void py_model_site(const struct py_model *m, const struct py_frame *f, struct py_site *out)
{
	memset(out, 0, sizeof(*out));
	if (!f)
		return;
	out->in_call = py_model_is_call_opcode(m, f->opcode);
	out->in_bytecode = f->opcode >= 0 && !out->in_call;
	out->operator = py_model_is_operator(m, f->opcode);
	out->no_handoff = out->in_bytecode && py_model_operator_no_handoff(m, f->opcode);
}

int py_model_native_name(struct py_model *m, const struct py_frame *f,
			 const struct py_site *site, int known, int check,
			 struct py_callee_ref *ref, char *out, size_t outlen)
{
	if (!f || !(site->in_call || site->operator))
		return 0;
	if (known && check && !py_model_callee_still(m, ref))
		known = 0;
	if (known)
		return 0;
	out[0] = '\0';
	if (site->in_call)
		(void)py_model_callee(m, f, out, outlen, ref);
	else
		(void)py_model_operator(m, f, out, outlen, ref);
	return 1;
}
