/*
 * info.h - `gilscope info`: what a Python process is (version, build,
 * paths, runtime address) and the state of its GIL with the reason, as
 * text or JSON (schema: tests/schema/info.schema.json).
 */
#ifndef GS_REPORT_INFO_H
#define GS_REPORT_INFO_H

#include <stdint.h>

#include "../cpython/gilinfo.h"
#include "../util/strbuf.h"

struct info_data {
	int pid;
	int launched;			/* started by gilscope (--python) */
	const char *executable;
	const char *libpython;		/* "" when linked into the executable */
	uint64_t runtime_addr;
	const char *version;
	const struct py_gil_info *gil;
	enum py_gil_cause cause;
	double switch_interval_s;	/* < 0 unknown */
	int env_read;			/* the environment could be read */
	const char *env_python_gil;	/* NUL-terminated; NULL when not set */
	long threads;			/* Python thread states; -1 unknown */
	long os_threads;		/* -1 unknown */
};

void report_info_text(struct strbuf *sb, const struct info_data *d);
void report_info_json(struct strbuf *sb, const struct info_data *d);

#endif
