/* opcodes.h - per-version opcode facts (see opcodes.c). */
#ifndef GS_OPCODES_H
#define GS_OPCODES_H

#include <stdint.h>

/* Fill map[op] = 1 for every call opcode of the version; -1 if unknown. */
int py_call_opcodes(uint32_t version_hex, uint8_t map[256]);

/* An operator opcode: reaches C without a call instruction. */
struct py_op_info {
	uint8_t is_op;
	uint8_t by_arg;		/* BINARY_OP: the oparg names the operator */
	uint8_t compare;	/* COMPARE_OP: the oparg names the comparison */
	uint8_t cmp_shift;	/* ... above this many bits */
	/* The eval loop never hands the GIL over at this instruction (3.10+:
	 * only at jumps, calls and function entry): a thread found here
	 * without the GIL is inside the C code it reached. */
	uint8_t no_handoff;
	uint8_t iter_depth;	/* FOR_ITER: its iterator's slot below the top */
	int8_t dunder;		/* otherwise, this special method */
	const char *type;	/* the receiver's type a specialized form proves, or "" */
};
/* Fill map[op] for every operator opcode of the version; -1 if unknown. */
int py_operator_opcodes(uint32_t version_hex, struct py_op_info map[256]);
/* The special method an operator runs ("__matmul__"), NULL if unknown. */
const char *py_operator_dunder(const struct py_op_info *o, int oparg);
/* Slots below the stack pointer of the operand whose type implements it. */
int py_operator_receiver_depth(const struct py_op_info *o, int oparg);
/* A binary arithmetic operator (a + b, a @ b, not in place): when the
 * left operand gives up, the right one's reflected method (__radd__) runs. */
int py_operator_reflects(const struct py_op_info *o, int oparg);

#endif
