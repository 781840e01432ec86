/*
 * ftcheck.c - render `gilscope ft-check`; see ftcheck.h.
 */
#include "ftcheck.h"

#include <stdio.h>
#include <string.h>

#include "../util/jw.h"

#define FLIP_LINES 10 /* runs told when the GIL came back */

#define TAIL_LINES 12
#define DUMP_FRAMES 4
#define EXT_LINES 20

static const char *const mode_text[FT_MODES] = { "without the GIL", "with the GIL" };
static const char *const mode_key[FT_MODES] = { "nogil", "gil" };

/* The modules behind the verdict, with what to do about each. */
static void reasons_text(struct strbuf *sb, const struct ft_report *r)
{
	size_t i;

	for (i = 0; i < r->nreasons; i++) {
		const struct ft_reason *x = &r->reasons[i];
		const struct ft_ext *f = x->file;

		if (!i)
			strbuf_addstr(sb, "  because:\n");
		if (x->why == FT_WHY_DEFAULT_ABI)
			strbuf_addf(sb, "    %s is installed for a default build only (%s), which a "
				    "free-threaded\n      interpreter does not load, with the GIL or "
				    "without: %s\n      failed to import it. Install a free-threaded "
				    "wheel of it (a 't' ABI tag)\n", x->module,
				    f && f->info.tag[0] ? f->info.tag : "?", x->test);
		else
			strbuf_addf(sb, "    %s does not declare Py_mod_gil (first loaded by %s)\n",
				    x->module, x->test);
		if (f)
			strbuf_addf(sb, "      %s%s%s%s\n", f->path, f->dist_name ? " (from " : "",
				    f->dist_name ? f->dist_name : "", f->dist_name ? ")" : "");
	}
}

static const char *verdict_text(const struct ft_report *r)
{
	switch (r->verdict) {
	case FTV_READY:
		return "ready: every test passed without the GIL, and the GIL stayed off.\n"
		       "  Go ahead and benchmark: `gilscope speedup` with PYTHON_GIL=0 and =1 shows\n"
		       "  what the free-threaded build gains you.";
	case FTV_GIL_REENABLED:
		return "gil-reenabled: the tests passed, but extension modules that do not declare\n"
		       "  Py_mod_gil were loaded: without PYTHON_GIL=0 they turn the GIL back on (the\n"
		       "  suite then never runs without it); with it they run unprotected. Upgrade\n"
		       "  each to a release with a free-threaded wheel (cp313t/cp314t tags), or watch\n"
		       "  its issue tracker for free-threading support; PYTHON_GIL=0 forces the GIL\n"
		       "  off at your own risk.";
	case FTV_UNSAFE:
		return "unsafe: some tests fail, flake, crash or hang without the GIL (below).\n"
		       "  Fix those before trusting a benchmark: it would measure a workload with\n"
		       "  data races, not one that is correctly parallel.";
	case FTV_FAILING:
		return "failing: some tests fail with the GIL too: not a free-threading problem,\n"
		       "  but the suite must pass before it can vouch for the free-threaded build.";
	case FTV_NOT_FREE_THREADED:
		return "not-free-threaded: this interpreter is a default build; its GIL cannot be\n"
		       "  turned off. Get a free-threaded build (python3.13t, 3.14t: the python.org\n"
		       "  installers' free-threaded option, `uv python install 3.14t`, `pyenv install\n"
		       "  3.14t`, or your distribution's python3.x-nogil package) and give it with\n"
		       "  --python.";
	case FTV_INCOMPLETE:
		return "incomplete: interrupted before every test had run; the classes below are\n"
		       "  of the runs done.";
	}
	return "?";
}

static void runs_text(struct strbuf *sb, const struct ft_counts *c)
{
	const char *sep = "";

	if (c->pass) {
		strbuf_addf(sb, "%d passed", c->pass);
		sep = ", ";
	}
	if (c->fail) {
		strbuf_addf(sb, "%s%d failed", sep, c->fail);
		sep = ", ";
	}
	if (c->crash) {
		strbuf_addf(sb, "%s%d crashed", sep, c->crash);
		sep = ", ";
	}
	if (c->hang) {
		strbuf_addf(sb, "%s%d hung", sep, c->hang);
		sep = ", ";
	}
	if (!*sep)
		strbuf_addstr(sb, "not run");
}

/* Text, each line indented by `ind` spaces; only its last `max` lines. */
static void indented_tail(struct strbuf *sb, const char *s, int ind, int max)
{
	const char *p = s + strlen(s), *start = s;
	int lines = 0;

	while (p > s && p[-1] == '\n')
		p--;
	for (const char *q = p; q > s; q--) {
		if (q[-1] == '\n' && ++lines == max) {
			start = q;
			break;
		}
	}
	while (start < p) {
		const char *nl = memchr(start, '\n', (size_t)(p - start));
		size_t len = nl ? (size_t)(nl - start) : (size_t)(p - start);

		strbuf_addf(sb, "%*s%.*s\n", ind, "", (int)len, start);
		start += len + (nl ? 1 : 0);
	}
}

/* A dump, shorter: the header, each thread's line and its innermost
 * `frames` frames. */
static void dump_condensed(struct strbuf *sb, const char *s, int ind, int frames)
{
	int n = 0, skipped = 0;

	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		int frame = len && s[0] == ' ';

		if (!frame && skipped) {
			strbuf_addf(sb, "%*s    ... %d more frame%s\n", ind, "", skipped,
				    skipped == 1 ? "" : "s");
			skipped = 0;
		}
		if (!frame)
			n = 0;
		if (len && (!frame || n++ < frames))
			strbuf_addf(sb, "%*s%.*s\n", ind, "", (int)len, s);
		else if (frame)
			skipped++;
		s += len + (nl ? 1 : 0);
	}
	if (skipped)
		strbuf_addf(sb, "%*s    ... %d more frame%s\n", ind, "", skipped,
			    skipped == 1 ? "" : "s");
}

int ft_ext_ready(const struct ext_info *x)
{
	return x->ft_abi != 0 && (x->gil == EXT_GIL_NOT_USED || x->gil == EXT_GIL_SETGIL);
}

static const char *ext_why(const struct ext_info *x)
{
	if (x->ft_abi == 0)
		return "not built for the free-threaded ABI: a free-threaded interpreter does not "
		       "load it";
	switch (x->gil) {
	case EXT_GIL_UNDECLARED:
		return "does not declare Py_mod_gil: importing it turns the GIL back on";
	case EXT_GIL_USED:
		return "declares it needs the GIL: importing it turns the GIL back on";
	case EXT_GIL_UNKNOWN:
		return "could not be read";
	default:
		return "ready";
	}
}

static void exts_text(struct strbuf *sb, const struct ft_report *r)
{
	size_t i, bad = 0, shown = 0;

	if (!r->next_dirs)
		return;
	for (i = 0; i < r->nexts; i++)
		bad += !ft_ext_ready(&r->exts[i].info);
	strbuf_addf(sb, "\nextensions: %zu module%s in %zu director%s (read from their files, not "
		    "imported)%s; %zu not ready\n", r->nexts, r->nexts == 1 ? "" : "s", r->next_dirs,
		    r->next_dirs == 1 ? "y" : "ies", r->exts_truncated ? ", the scan cut short" : "",
		    bad);
	for (i = 0; i < r->nexts && shown < EXT_LINES; i++) {
		const struct ft_ext *x = &r->exts[i];

		if (ft_ext_ready(&x->info))
			continue;
		strbuf_addf(sb, "  %-20s %s\n  %-20s %s%s%s\n", x->info.module, ext_why(&x->info), "",
			    x->path, x->info.tag[0] ? "  " : "", x->info.tag);
		if (x->dist_name)
			strbuf_addf(sb, "  %-20s from %s %s\n", "", x->dist_name, x->dist_version);
		shown++;
	}
	if (bad > shown)
		strbuf_addf(sb, "  ... %zu more (--json lists them all)\n", bad - shown);
}

static void test_text(struct strbuf *sb, const struct ft_report *r, const struct ft_test_result *t)
{
	int m;

	strbuf_addf(sb, "  %-18s %s\n", ft_class_name(t->cls), t->id);
	for (m = 0; m < FT_MODES; m++) {
		if (m == FT_GIL && r->baseline)
			strbuf_addf(sb, "  %-18s %s (%s): ", "", mode_text[m], r->baseline);
		else
			strbuf_addf(sb, "  %-18s %s (PYTHON_GIL=%d): ", "", mode_text[m], m);
		runs_text(sb, &t->runs[m]);
		strbuf_addch(sb, '\n');
	}
	if (t->under_stress)
		strbuf_addf(sb, "  %-18s passed alone; failed only when %d threads ran it at once\n"
			    "  %-18s (pytest-run-parallel) without the GIL: %d of %d runs so\n", "",
			    r->stress, "", t->stress[FT_NOGIL].fail,
			    ft_counts_total(&t->stress[FT_NOGIL]));
	if (t->signal_name)
		strbuf_addf(sb, "  %-18s killed by %s %s\n", "", t->signal_name,
			    mode_text[t->signal_mode]);
	if (t->cls == FTC_HANG)
		strbuf_addf(sb, "  %-18s still running after %.0f s %s: killed with what it "
			    "started\n", "", r->timeout_s, mode_text[t->hang_mode]);
	if (t->dump_text) {
		strbuf_addf(sb, "  %-18s its threads when it was killed:\n", "");
		dump_condensed(sb, t->dump_text, 23, DUMP_FRAMES);
	}
	if (t->tail && *t->tail) {
		strbuf_addf(sb, "  %-18s its output %s, %s:\n", "", mode_text[t->tail_mode],
			    t->cls == FTC_CRASH ? "from the fatal error" : "last lines");
		indented_tail(sb, t->tail, 23, TAIL_LINES);
	}
}

/* When the GIL came back in each run, as read while it ran (the first
 * FLIP_LINES of them). Under PYTHON_GIL=0 it stays off: "would have". */
static void flips_text(struct strbuf *sb, const struct ft_report *r)
{
	size_t i, k, shown = 0;

	for (i = 0; i < r->ntests; i++) {
		const struct ft_test_result *t = &r->tests[i];

		for (k = 0; k < t->ngil_flips; k++) {
			const struct ft_flip *f = &t->gil_flips[k];

			if (!shown)
				strbuf_addstr(sb, "     read while each run ran, seconds after its "
					      "process started:\n");
			if (shown++ >= FLIP_LINES)
				continue;
			strbuf_addf(sb, "       %.3f-%.3f s  %s %s  %s\n", f->not_before,
				    f->seconds, f->module ? f->module : "(no module)",
				    f->enabled ? "turned it on" : "would have turned it on", t->id);
		}
	}
	if (shown > FLIP_LINES)
		strbuf_addf(sb, "       ... and %zu more runs\n", shown - FLIP_LINES);
}

void report_ftcheck_text(struct strbuf *sb, const struct ft_report *r)
{
	size_t i;

	strbuf_addf(sb, "ft-check: %s (%s, %s)\n", r->python, r->version ? r->version : "?",
		    r->free_threaded ? "free-threaded build" : "default build, with a GIL");
	if (r->free_threaded) {
		strbuf_addf(sb, "command:  %s\n", r->command);
		strbuf_addf(sb, "runs:     %zu %s x %d, without the GIL (PYTHON_GIL=0) and with it "
			    "(%s),\n          %s, %d at once, %.0f s timeout each; "
			    "%ld of %ld runs in %.1f s\n", r->ntests,
			    r->per_test ? (r->ntests == 1 ? "test" : "tests") : "command",
			    r->repeat, r->baseline ? r->baseline : "PYTHON_GIL=1",
			    !r->per_test ? "the whole command in one process" :
			    r->isolation && !strcmp(r->isolation, "pytest-forked") ?
			    "the suite run whole with pytest-forked's --forked\n"
			    "          (each test in a process pytest forks)" :
			    "each test in a process of its own", r->jobs, r->timeout_s,
			    r->runs_done, r->runs_total, r->seconds);
		if (r->stress)
			strbuf_addf(sb, "          and as many again under stress: %d threads running "
				    "each test at once\n          (pytest-run-parallel)\n", r->stress);
	}
	if (r->interrupted)
		strbuf_addstr(sb, "          interrupted: a partial report\n");
	strbuf_addf(sb, "\nverdict: %s\n", verdict_text(r));
	reasons_text(sb, r);
	if (!r->free_threaded)
		return;

	strbuf_addf(sb, "\ntests: %zu passed", r->by_class[FTC_PASS]);
	for (i = 1; i < FTC_COUNT; i++)
		if (r->by_class[i])
			strbuf_addf(sb, ", %zu %s", r->by_class[i], ft_class_name((enum ft_class)i));
	strbuf_addch(sb, '\n');
	for (i = 0; i < r->ntests; i++)
		if (r->tests[i].cls != FTC_PASS)
			test_text(sb, r, &r->tests[i]);

	exts_text(sb, r);
	strbuf_addf(sb, "\nGIL: ");
	if (!r->gil_read_runs) {
		strbuf_addstr(sb, "no run without it could be read at its end\n");
		return;
	}
	if (!r->gil_on_runs)
		strbuf_addf(sb, "stayed off in every run without it (%d read from outside at "
			    "their end)\n", r->gil_read_runs);
	else
		strbuf_addf(sb, "on at the end of %d of %d runs that should have had it off\n",
			    r->gil_on_runs, r->gil_read_runs);
	if (!r->nmodules) {
		strbuf_addstr(sb, "     every extension module loaded declares it runs without the "
			      "GIL (Py_mod_gil)\n");
		return;
	}
	strbuf_addf(sb, "     extension modules that do not declare Py_mod_gil were loaded in %d "
		    "of those runs:\n     without PYTHON_GIL=0 the first of them turns the GIL back "
		    "on; with it they run\n     without the GIL they did not declare safe to lose\n",
		    r->gil_needed_runs);
	flips_text(sb, r);
	for (i = 0; i < r->nmodules; i++) {
		const struct ft_ext *f = r->modules[i].file;

		strbuf_addf(sb, "       %-24s %d test%s, first %s\n", r->modules[i].name,
			    r->modules[i].tests, r->modules[i].tests == 1 ? "" : "s",
			    r->modules[i].first_test);
		if (f && f->dist_name)
			strbuf_addf(sb, "       %-24s from %s %s\n", "", f->dist_name, f->dist_version);
	}
}

/* "distribution": {"name", "version"}, or null when no RECORD lists it. */
static void dist_jw(struct jw *w, const struct ft_ext *x)
{
	if (!x || !x->dist_name) {
		jw_null(w, "distribution");
		return;
	}
	jw_obj(w, "distribution");
	jw_str(w, "name", x->dist_name);
	jw_str(w, "version", x->dist_version);
	jw_end(w);
}

static void counts_jw(struct jw *w, const char *key, const struct ft_counts *c)
{
	jw_obj(w, key);
	jw_int(w, "pass", c->pass);
	jw_int(w, "fail", c->fail);
	jw_int(w, "crash", c->crash);
	jw_int(w, "hang", c->hang);
	jw_end(w);
}

void report_ftcheck_json(struct strbuf *sb, const struct ft_report *r)
{
	struct jw w;
	size_t i, k;
	int m;

	jw_init(&w, sb, 2);
	jw_obj(&w, NULL);
	jw_str(&w, "verdict", ft_verdict_name(r->verdict));
	jw_arr(&w, "verdict_reasons");
	for (i = 0; i < r->nreasons; i++) {
		const struct ft_reason *x = &r->reasons[i];

		jw_obj(&w, NULL);
		jw_str(&w, "module", x->module);
		jw_str(&w, "why", x->why == FT_WHY_DEFAULT_ABI ? "default-abi" : "no-py-mod-gil");
		jw_str(&w, "test", x->test);
		jw_str(&w, "path", x->file ? x->file->path : NULL);
		jw_str(&w, "tag", x->file && x->file->info.tag[0] ? x->file->info.tag : NULL);
		dist_jw(&w, x->file);
		jw_end(&w);
	}
	jw_end(&w);
	jw_obj(&w, "python");
	jw_str(&w, "path", r->python);
	jw_str(&w, "executable", r->executable);
	jw_str(&w, "version", r->version);
	jw_bool(&w, "free_threaded", r->free_threaded);
	jw_end(&w);
	jw_str(&w, "command", r->command);
	jw_str(&w, "baseline_python", r->baseline);
	jw_bool(&w, "per_test", r->per_test);
	jw_str(&w, "isolation", r->isolation ? r->isolation : "none");
	jw_int(&w, "repeat", r->repeat);
	jw_int(&w, "stress_threads", r->stress);
	jw_int(&w, "jobs", r->jobs);
	jw_sig(&w, "timeout_s", r->timeout_s, 6);
	jw_bool(&w, "interrupted", r->interrupted);
	jw_fixed(&w, "seconds", r->seconds, 3);
	jw_int(&w, "runs_done", r->runs_done);
	jw_int(&w, "runs_total", r->runs_total);
	jw_obj(&w, "summary");
	for (i = 0; i < FTC_COUNT; i++)
		jw_int(&w, ft_class_name((enum ft_class)i), (long long)r->by_class[i]);
	jw_end(&w);
	jw_obj(&w, "gil");
	jw_int(&w, "runs_read", r->gil_read_runs);
	jw_int(&w, "runs_reenabled", r->gil_on_runs);
	jw_int(&w, "runs_with_modules", r->gil_needed_runs);
	jw_int(&w, "watch_reads", r->watch_reads);
	jw_fixed(&w, "watch_seconds", r->watch_seconds, 3);
	jw_arr(&w, "modules");
	for (i = 0; i < r->nmodules; i++) {
		jw_obj(&w, NULL);
		jw_str(&w, "name", r->modules[i].name);
		jw_int(&w, "tests", r->modules[i].tests);
		jw_str(&w, "first_test", r->modules[i].first_test);
		dist_jw(&w, r->modules[i].file);
		jw_end(&w);
	}
	jw_end(&w);
	jw_end(&w);
	jw_obj(&w, "extensions");
	jw_arr(&w, "dirs");
	for (i = 0; i < r->next_dirs; i++)
		jw_str(&w, NULL, r->ext_dirs[i]);
	jw_end(&w);
	jw_bool(&w, "truncated", r->exts_truncated);
	jw_arr(&w, "modules");
	for (i = 0; i < r->nexts; i++) {
		const struct ext_info *x = &r->exts[i].info;

		jw_obj(&w, NULL);
		jw_str(&w, "module", x->module);
		jw_str(&w, "path", r->exts[i].path);
		jw_str(&w, "tag", x->tag[0] ? x->tag : NULL);
		if (x->ft_abi < 0)
			jw_null(&w, "free_threaded_abi");
		else
			jw_bool(&w, "free_threaded_abi", x->ft_abi);
		jw_str(&w, "py_mod_gil", ext_gil_name(x->gil));
		jw_bool(&w, "ready", ft_ext_ready(x));
		dist_jw(&w, &r->exts[i]);
		jw_end(&w);
	}
	jw_end(&w);
	jw_end(&w);
	jw_arr(&w, "tests");
	for (i = 0; i < r->ntests; i++) {
		const struct ft_test_result *t = &r->tests[i];

		jw_obj(&w, NULL);
		jw_str(&w, "id", t->id);
		jw_str(&w, "class", ft_class_name(t->cls));
		jw_obj(&w, "runs");
		for (m = 0; m < FT_MODES; m++)
			counts_jw(&w, mode_key[m], &t->runs[m]);
		jw_end(&w);
		if (t->stress) {
			jw_obj(&w, "stress_runs");
			for (m = 0; m < FT_MODES; m++)
				counts_jw(&w, mode_key[m], &t->stress[m]);
			jw_end(&w);
		} else {
			jw_null(&w, "stress_runs");
		}
		jw_bool(&w, "failed_only_under_stress", t->under_stress);
		jw_fixed(&w, "max_seconds", t->max_seconds, 3);
		if (t->signal_name) {
			jw_str(&w, "signal", t->signal_name);
			jw_str(&w, "signal_mode", mode_key[t->signal_mode]);
		} else {
			jw_null(&w, "signal");
			jw_null(&w, "signal_mode");
		}
		jw_str(&w, "output_tail", t->tail);
		jw_int(&w, "gil_runs_read", t->gil_read_runs);
		jw_int(&w, "gil_runs_reenabled", t->gil_on_runs);
		jw_int(&w, "gil_runs_with_modules", t->gil_needed_runs);
		jw_arr(&w, "gil_modules");
		for (k = 0; k < t->ngil_modules; k++)
			jw_str(&w, NULL, t->gil_modules[k]);
		jw_end(&w);
		jw_arr(&w, "gil_came_back");
		for (k = 0; k < t->ngil_flips; k++) {
			const struct ft_flip *f = &t->gil_flips[k];

			jw_obj(&w, NULL);
			jw_fixed(&w, "seconds", f->seconds, 4);
			jw_fixed(&w, "not_before_seconds", f->not_before, 4);
			jw_str(&w, "module", f->module);
			jw_bool(&w, "enabled", f->enabled);
			jw_end(&w);
		}
		jw_end(&w);
		if (t->dump_json && t->dump_json->len)
			jw_raw(&w, "dump", t->dump_json);
		else
			jw_null(&w, "dump");
		jw_end(&w);
	}
	jw_end(&w);
	jw_end(&w);
	jw_finish(&w);
}

void report_ftcheck_junit(struct strbuf *sb, const struct ft_report *r)
{
	size_t i, failures = 0, errors = 0;

	for (i = 0; i < r->ntests; i++) {
		enum ft_class c = r->tests[i].cls;

		if (c == FTC_CRASH || c == FTC_HANG)
			errors++;
		else if (c != FTC_PASS && c != FTC_NOT_RUN)
			failures++;
	}
	strbuf_addstr(sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	strbuf_addf(sb, "<testsuites>\n<testsuite name=\"gilscope ft-check\" tests=\"%zu\" "
		    "failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
		    r->ntests, failures, errors, r->by_class[FTC_NOT_RUN], r->seconds);
	strbuf_addstr(sb, "<properties>\n<property name=\"verdict\" value=\"");
	strbuf_addstr(sb, ft_verdict_name(r->verdict));
	strbuf_addstr(sb, "\"/>\n<property name=\"python\" value=\"");
	strbuf_add_xml_str(sb, r->python);
	strbuf_addstr(sb, "\"/>\n</properties>\n");
	for (i = 0; i < r->ntests; i++) {
		const struct ft_test_result *t = &r->tests[i];
		struct strbuf msg = STRBUF_INIT;
		const char *tag = t->cls == FTC_CRASH || t->cls == FTC_HANG ? "error" : "failure";
		int m;

		strbuf_addstr(sb, "<testcase classname=\"ft-check\" name=\"");
		strbuf_add_xml_str(sb, t->id);
		strbuf_addf(sb, "\" time=\"%.3f\"", t->max_seconds);
		if (t->cls == FTC_PASS) {
			strbuf_addstr(sb, "/>\n");
			continue;
		}
		strbuf_addstr(sb, ">\n");
		if (t->cls == FTC_NOT_RUN) {
			strbuf_addstr(sb, "<skipped message=\"not-run: interrupted\"/>\n</testcase>\n");
			continue;
		}
		strbuf_addstr(&msg, ft_class_name(t->cls));
		for (m = 0; m < FT_MODES; m++) {
			strbuf_addf(&msg, "; %s: ", mode_text[m]);
			runs_text(&msg, &t->runs[m]);
		}
		if (t->signal_name)
			strbuf_addf(&msg, "; killed by %s %s", t->signal_name,
				    mode_text[t->signal_mode]);
		strbuf_addf(sb, "<%s type=\"%s\" message=\"", tag, ft_class_name(t->cls));
		strbuf_add_xml_str(sb, strbuf_str(&msg));
		strbuf_addstr(sb, "\">");
		if (t->dump_text)
			strbuf_add_xml_str(sb, t->dump_text);
		if (t->tail)
			strbuf_add_xml_str(sb, t->tail);
		strbuf_addf(sb, "</%s>\n</testcase>\n", tag);
		strbuf_release(&msg);
	}
	strbuf_addstr(sb, "</testsuite>\n</testsuites>\n");
}
