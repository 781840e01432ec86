/*
 * fuzz_environ.c - libFuzzer harness: /proc/PID/environ, as `gilscope
 * info` parses it (the bytes are the target's: hostile). The first byte
 * picks the key looked up; a value found must lie inside the buffer and
 * belong to an entry "KEY=" that starts the buffer or follows a NUL.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/target/environ.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "PYTHON_GIL", "A", "PATH", "", "K=V" };
	const char *key, *v;
	char *buf;
	size_t len, vlen, klen;

	if (!size)
		return 0;
	key = keys[data[0] % (sizeof(keys) / sizeof(keys[0]))];
	len = size - 1;
	buf = malloc(len ? len : 1);	/* exactly len: overreads are caught */
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	klen = strlen(key);
	if (environ_get(buf, len, key, &v, &vlen)) {
		const char *entry = v - klen - 1;

		if (!klen || v < buf + klen + 1 || v + vlen > buf + len ||
		    memcmp(entry, key, klen) || entry[klen] != '=' ||
		    (entry != buf && entry[-1] != '\0') || memchr(v, '\0', vlen))
			abort();
	}
	free(buf);
	return 0;
}
