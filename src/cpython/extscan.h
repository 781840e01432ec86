/*
 * extscan.h - is an extension module ready for a free-threaded CPython?
 * Found from its file alone, never by importing (loading) it:
 *
 *   - the ABI it was built for, from its file name's tag (PEP 3149):
 *     "cpython-313t-..." a free-threaded build's, "cpython-313-..." a
 *     default build's (a free-threaded interpreter does not load it),
 *     "abi3" the limited API (no free-threaded build before 3.15 has it);
 *   - whether it declares Py_mod_gil: multi-phase modules carry a
 *     PyModuleDef_Slot array {int slot; void *value} in their data, with
 *     {Py_mod_gil (4), Py_MOD_GIL_NOT_USED ((void *)1)} when they run
 *     without the GIL; the constant needs no relocation, so it is in the
 *     file as it is in memory. Single-phase modules (pybind11, PyO3, ...)
 *     call PyUnstable_Module_SetGIL() instead, which shows as an import.
 *
 * x86_64 and aarch64 (64-bit little-endian) images; other ones are
 * reported as unknown.
 */
#ifndef GS_EXTSCAN_H
#define GS_EXTSCAN_H

#include <stddef.h>
#include <stdint.h>

#define EXT_NAME_MAX 128
#define EXT_TAG_MAX 32

enum ext_gil {
	EXT_GIL_UNKNOWN = -1,	/* could not tell (not a 64-bit LE image) */
	EXT_GIL_UNDECLARED = 0,	/* no Py_mod_gil: a free-threaded interpreter
				 * turns the GIL on when it loads it */
	EXT_GIL_NOT_USED = 1,	/* declares it runs without the GIL */
	EXT_GIL_USED = 2,	/* declares it needs the GIL */
	EXT_GIL_SETGIL = 3,	/* calls PyUnstable_Module_SetGIL() (single-
				 * phase init): declares it at run time */
};

struct ext_info {
	char module[EXT_NAME_MAX];	/* from its PyInit_<name> */
	char tag[EXT_TAG_MAX];		/* "cpython-313t", "abi3", "" */
	int ft_abi;			/* 1 free-threaded ABI, 0 not, -1 no tag */
	enum ext_gil gil;
};

/* Pure: the ABI tag of a file name ("x.cpython-313t-x86_64-linux-gnu.so"). */
void ext_tag_from_name(const char *filename, struct ext_info *out);
/* Where the loader puts pointers in an image, and what they point at. */
struct ext_relocs {
	const uint64_t *at;	/* sorted addresses relocated */
	size_t nat;
	const uint64_t *to;	/* sorted addends (targets) of RELA relocations */
	size_t nto;
};

/*
 * Pure: look for {Py_mod_gil, value} in a slot array in the bytes of a data
 * section loaded at vaddr: 8-aligned 16-byte entries with slot ids and zero
 * padding, ended by {0, 0}, which something points at (a relocation's
 * addend is its first entry: PyModuleDef.m_slots) or which holds a
 * Py_mod_create or Py_mod_exec entry the loader fills in, while Py_mod_gil's
 * value is not relocated (a constant). Data that merely looks like {4, 0} is
 * common; a pointer the loader fills in is what makes an array of slots.
 * 1 and *value (0 or 1; 1 wins over 0 when several arrays are found) or 0
 * when none is.
 */
int ext_find_gil_slot(const uint8_t *p, size_t len, uint64_t vaddr, const struct ext_relocs *r,
		      uint64_t *value);

struct elfsym;
/* Scan an opened image: 1 and *out when it is an extension module
 * (exports PyInit_<name> or PyModExport_<name>), 0 when it is not, or a gs_err. The tag is left
 * to ext_tag_from_name. */
int ext_scan(struct elfsym *e, struct ext_info *out);
/* The same from bytes (tests, fuzzing). */
int ext_scan_mem(const void *buf, size_t len, struct ext_info *out);

/* "not-used", "undeclared", "used", "set-at-run-time", "unknown". */
const char *ext_gil_name(enum ext_gil g);

#endif
