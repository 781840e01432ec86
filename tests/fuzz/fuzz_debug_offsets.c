/*
 * fuzz_debug_offsets.c - libFuzzer harness: CPython 3.13+'s
 * _Py_DebugOffsets table, as py_model_init reads it from _PyRuntime.
 *
 * A table that is accepted is trusted by the model: it reads a struct's
 * first N bytes (N from the table) into a buffer and picks fields out of it
 * at the table's offsets. So every field an accepted table names must lie
 * inside the bytes the model reads for its struct; that is checked here.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cpython/offsets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A field of `width` bytes at `off` inside the first `size` bytes. */
static int fits(uint32_t off, uint32_t width, uint32_t size)
{
	return (uint64_t)off + width <= size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct py_offsets off;
	uint8_t *buf;

	if (size > PY_DEBUG_OFFSETS_MAX)
		size = PY_DEBUG_OFFSETS_MAX;
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	if (!py_offsets_from_debug(buf, size, &off)) {
		/* str_read (code.c): reads uni_compact_size bytes of a str */
		if (!fits(off.uni_state, 4, off.uni_compact_size) ||
		    !fits(off.uni_length, 8, off.uni_compact_size) ||
		    !fits(off.uni_state, 4, off.uni_ascii_size) ||
		    !fits(off.uni_length, 8, off.uni_ascii_size))
			abort();
		/* py_model_stack (frames.c): reads fr_size bytes of a frame */
		if (!fits(off.fr_back, 8, off.fr_size) || !fits(off.fr_code, 8, off.fr_size) ||
		    !fits(off.fr_instr, 8, off.fr_size) || !fits(off.fr_owner, 1, off.fr_size) ||
		    (off.fr_tlbc_index != OFF_NONE && !fits(off.fr_tlbc_index, 4, off.fr_size)))
			abort();
		/* code_get (code.c): reads co_size bytes of a code object */
		if (!fits(off.co_name, 8, off.co_size) || !fits(off.co_filename, 8, off.co_size) ||
		    !fits(off.co_qualname, 8, off.co_size) || !fits(off.co_linetable, 8, off.co_size) ||
		    !fits(off.co_firstlineno, 4, off.co_size) || !fits(off.co_stacksize, 4, off.co_size) ||
		    !fits(off.co_nlocalsplus, 4, off.co_size) || !fits(off.ob_type, 8, off.co_size) ||
		    (off.co_tlbc != OFF_NONE && !fits(off.co_tlbc, 8, off.co_size)))
			abort();
		/* py_model_gil (gil.c): reads up to switch_number of the GIL */
		if (!fits(off.gil_locked, 4, off.gil_switch_number + 8) ||
		    !fits(off.gil_last_holder, 8, off.gil_switch_number + 8) ||
		    !fits(off.gil_interval, 8, off.gil_switch_number + 8))
			abort();
	}
	free(buf);
	return 0;
}
