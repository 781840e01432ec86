/*
 * dump.h - render one sample (gilscope dump) as text or JSON.
 */
#ifndef GS_REPORT_DUMP_H
#define GS_REPORT_DUMP_H

#include "../sample/sampler.h"
#include "../util/strbuf.h"

struct dump_info {
	int pid;
	const char *version;
	int free_threaded;
	int gil_enabled;
	double switch_interval_s;	/* < 0 when unknown */
	uint64_t switch_number;
	const char *executable;
	const char *libpython;		/* "" when static */
};

void report_dump_text(struct strbuf *sb, const struct dump_info *info,
		      const struct sample *smp);
void report_dump_json(struct strbuf *sb, const struct dump_info *info,
		      const struct sample *smp);

#endif
