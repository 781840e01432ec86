/*
 * fuzz_maps.c - libFuzzer harness: /proc/PID/maps text.
 *
 * maps_parse, then the lookups locate.c makes with what it returned:
 * maps_find around every entry's bounds and maps_file_base per path.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../src/target/maps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maps m;
	uint64_t base;
	size_t i;

	if (maps_parse((const char *)data, size, &m))
		return 0;
	for (i = 0; i < m.n; i++) {
		const struct map_entry *e = &m.v[i];

		(void)maps_find(&m, e->start);
		(void)maps_find(&m, e->end - 1);
		(void)maps_find(&m, e->end);
		if (e->start)
			(void)maps_find(&m, e->start - 1);
		if (i < 64)
			(void)maps_file_base(&m, e->path, &base);
	}
	(void)maps_find(&m, 0);
	(void)maps_find(&m, UINT64_MAX);
	(void)maps_file_base(&m, "", &base);
	maps_release(&m);
	return 0;
}
