/*
 * render_driver.c - writes the synthetic profile of synth.h in every record
 * format, for tests/e2e/test_formats.py to validate with real tools (an
 * XML parser, the speedscope JSON schema, a browser). Test code only.
 *
 * Usage: render-driver OUTDIR [SCALE]
 * Writes OUTDIR/{flamegraph.svg,speedscope.json,chrome.json,collapsed.txt};
 * SCALE > 1 makes a longer profile with more functions (for looking at).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth.h"
#include "../../src/report/chrometrace.h"
#include "../../src/report/collapsed.h"
#include "../../src/report/flamegraph.h"
#include "../../src/report/speedscope.h"

static int write_file(const char *dir, const char *name, const struct strbuf *sb)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "render-driver: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = fwrite(sb->buf, 1, sb->len, f) == sb->len;
	ok &= fflush(f) == 0;
	ok &= fclose(f) == 0;
	if (!ok) {
		fprintf(stderr, "render-driver: writing %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct flamegraph_options fo = { .title = "gilscope render driver: <synthetic> & \"friends\"" };
	struct chrometrace_options co = { .pid = 4242, .process_name = "python3 synth.py" };
	struct strbuf sb = STRBUF_INIT;
	struct agg a;
	int scale = argc > 2 ? atoi(argv[2]) : 1;
	int ret = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: render-driver OUTDIR [SCALE]\n");
		return 2;
	}
	if (synth_agg(&a, 1, 1, scale)) {
		fprintf(stderr, "render-driver: could not build the profile\n");
		return 1;
	}
	if (report_flamegraph(&sb, &a, &fo) || write_file(argv[1], "flamegraph.svg", &sb))
		goto out;
	strbuf_reset(&sb);
	if (report_speedscope(&sb, &a, NULL) || write_file(argv[1], "speedscope.json", &sb))
		goto out;
	strbuf_reset(&sb);
	if (report_chrometrace(&sb, &a, &co) || write_file(argv[1], "chrome.json", &sb))
		goto out;
	strbuf_reset(&sb);
	if (report_collapsed(&sb, &a, NULL) || write_file(argv[1], "collapsed.txt", &sb))
		goto out;
	ret = 0;
out:
	strbuf_release(&sb);
	agg_release(&a);
	return ret;
}
