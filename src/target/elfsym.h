/*
 * elfsym.h - symbol lookup in ELF images with elfutils' libelf.
 *
 * An image is opened from bytes (elfsym_open_mem) or from a file mapped into
 * memory (elfsym_open_file); both search .dynsym and .symtab.
 */
#ifndef GS_ELFSYM_H
#define GS_ELFSYM_H

#include <stddef.h>
#include <stdint.h>

struct elfsym;

int elfsym_open_mem(const void *buf, size_t len, struct elfsym **out);
int elfsym_open_file(const char *path, struct elfsym **out);
void elfsym_free(struct elfsym *e);

/* Symbol value (link-time virtual address) and size. 0 or GS_ENOTPY if the
 * symbol is not present. */
int elfsym_lookup(struct elfsym *e, const char *name, uint64_t *value, uint64_t *size);
/* Lowest p_vaddr of a PT_LOAD segment, rounded down to its alignment page;
 * runtime address = base_from_maps + (value - this). */
int elfsym_first_load_vaddr(struct elfsym *e, uint64_t *vaddr);
/* Copy `len` bytes of the file image at virtual address `vaddr` (from the
 * section or segment that contains it). Used to read constants such as
 * Py_Version without touching the process. */
int elfsym_read_vaddr(struct elfsym *e, uint64_t vaddr, void *buf, size_t len);
/* The ELF build-id note, hex-encoded into out (at least 41 bytes). */
int elfsym_build_id(struct elfsym *e, char *out, size_t outlen);
/* Call fn for every named symbol of .dynsym, with whether it is defined
 * here (not SHN_UNDEF); a non-zero return stops the walk and is returned.
 * 0, or a gs_err when the table is broken. */
int elfsym_foreach_dynsym(struct elfsym *e,
			  int (*fn)(void *arg, const char *name, int defined), void *arg);
/* Call fn with the bytes of every allocated, non-executable section that
 * has contents in the file (.rodata, .data.rel.ro, .data: where constant
 * tables live) and the virtual address they load at; a non-zero return
 * stops the walk and is returned. */
int elfsym_foreach_data(struct elfsym *e,
			int (*fn)(void *arg, const uint8_t *p, size_t len, uint64_t vaddr),
			void *arg);
/* The addresses the dynamic relocations (SHT_RELA, SHT_REL of allocated
 * sections) write to, sorted, in *out (malloc'ed; NULL when none): where
 * the loader puts a pointer; and the addends of the RELA ones, sorted, in
 * *addends: what such pointers point at in the image itself (NULL: not
 * wanted). 0 or a gs_err. */
int elfsym_reloc_offsets(struct elfsym *e, uint64_t **out, size_t *n, uint64_t **addends,
			 size_t *nadd);
/* The whole file image (owned by e), for scanning constants. */
int elfsym_image(struct elfsym *e, const uint8_t **buf, size_t *len);

#endif
