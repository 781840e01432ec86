/*
 * dump.h - render one sample (gilscope dump) as text or JSON.
 */
#ifndef GS_REPORT_DUMP_H
#define GS_REPORT_DUMP_H

#include "../sample/sampler.h"
#include "../util/jw.h"
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
	/* one process of a tree (--subprocesses): its parent and command
	 * line are shown; 0 and NULL otherwise */
	int ppid;
	const char *command;
};

/* A process of the tree that was not read, and why (--subprocesses). */
struct dump_other {
	int pid, ppid;
	const char *command;
	const char *why;
};

void report_dump_text(struct strbuf *sb, const struct dump_info *info,
		      const struct sample *smp);
void report_dump_json(struct strbuf *sb, const struct dump_info *info,
		      const struct sample *smp);
/* The same object as a member of a document being written. */
void report_dump_jw(struct jw *w, const char *key, const struct dump_info *info,
		    const struct sample *smp);
/* The processes of a tree that were not read: text lines, a JSON array. */
void report_dump_others_text(struct strbuf *sb, const struct dump_other *o, size_t n);
void report_dump_others_jw(struct jw *w, const char *key, const struct dump_other *o,
			   size_t n);

#endif
