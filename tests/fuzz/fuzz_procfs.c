/*
 * fuzz_procfs.c - libFuzzer harness: the per-thread /proc files.
 *
 * Every input goes through each parser the sampler uses on
 * /proc/PID/task/TID/{stat,syscall,schedstat,status} and /proc/PID/environ:
 * one file's bytes are garbage to the other parsers, which must say so.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../src/target/environ.h"
#include "../../src/target/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {
		"Name", "State", "Tgid", "Pid", "PPid", "TracerPid", "Uid", "Threads",
		"voluntary_ctxt_switches", "nonvoluntary_ctxt_switches", "",
	};
	const char *buf = (const char *)data;
	struct proc_stat st;
	struct proc_syscall sc;
	struct proc_schedstat ss;
	char out[64], one[1];
	const char *val;
	size_t i, vlen;

	(void)procfs_parse_stat(buf, size, &st);
	(void)procfs_parse_syscall(buf, size, &sc);
	(void)procfs_parse_schedstat(buf, size, &ss);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		(void)procfs_status_field(buf, size, keys[i], out, sizeof(out));
		(void)procfs_status_field(buf, size, keys[i], one, sizeof(one));
	}
	for (i = 0; i < 3; i++) {
		static const char *const env[] = { "PYTHON_GIL", "PATH", "" };

		if (environ_get(buf, size, env[i], &val, &vlen) == 1 &&
		    (val < buf || vlen > size || (size_t)(val - buf) > size - vlen))
			abort();	/* the value must lie inside the input */
	}
	return 0;
}
