/*
 * fuzz_elfsym.c - libFuzzer harness: ELF images.
 *
 * What locate.c does with the executable or libpython of a target:
 * elfsym_open_mem, the symbol lookups, the first PT_LOAD, reading the bytes
 * behind a symbol (Py_Version), the build-id note, and the scan of the whole
 * image for the version literal (py_version_from_bytes); and what ft-check
 * does with an extension module's file (ext_scan: .dynsym, the data
 * sections, the relocations, the slot arrays).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cpython/extscan.h"
#include "../../src/cpython/locate.h"
#include "../../src/target/elfsym.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const syms[] = {
		"_PyRuntime", "Py_Version", "PyCode_Type", "_Py_DebugOffsets",
		"no_such_symbol",
	};
	struct elfsym *e;
	uint64_t value, sz, first;
	uint8_t bytes[64];
	char id[129], small[8];
	const uint8_t *img;
	size_t len, i;
	uint32_t hex;
	unsigned minor;

	/* py_version_from_bytes scans whole images for "3.N.M\0"; the first
	 * 8 KiB of the input are enough to fuzz it (the tiny seeds hold the
	 * literal), and scanning 100 KiB seeds 8 times would make every run
	 * slow. Exactly sized, so a read past the end is caught. */
	for (minor = 9; minor <= 16; minor++) {
		size_t n = size < 8192 ? size : 8192;
		uint8_t *head = malloc(n ? n : 1);

		if (!head)
			return 0;
		memcpy(head, data, n);
		(void)py_version_from_bytes(head, n, minor, &hex);
		free(head);
	}
	if (elfsym_open_mem(data, size, &e))
		return 0;
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		if (elfsym_lookup(e, syms[i], &value, &sz))
			continue;
		(void)elfsym_read_vaddr(e, value, bytes, 4);
		(void)elfsym_read_vaddr(e, value, bytes, sz && sz < sizeof(bytes) ? (size_t)sz : sizeof(bytes));
	}
	if (!elfsym_first_load_vaddr(e, &first)) {
		(void)elfsym_read_vaddr(e, first, bytes, sizeof(bytes));
		(void)elfsym_read_vaddr(e, first + 0x1000, bytes, 1);
	}
	(void)elfsym_read_vaddr(e, UINT64_MAX - 3, bytes, 8);
	(void)elfsym_build_id(e, id, sizeof(id));
	(void)elfsym_build_id(e, small, sizeof(small));
	if (!elfsym_image(e, &img, &len) && len != size)
		abort();
	{
		struct ext_info x;

		(void)ext_scan(e, &x);
	}
	elfsym_free(e);
	return 0;
}
