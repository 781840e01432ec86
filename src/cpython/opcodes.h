/* opcodes.h - per-version opcode facts (see opcodes.c). */
#ifndef GS_OPCODES_H
#define GS_OPCODES_H

#include <stdint.h>

/* Fill map[op] = 1 for every call opcode of the version; -1 if unknown. */
int py_call_opcodes(uint32_t version_hex, uint8_t map[256]);

#endif
