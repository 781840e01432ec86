/*
 * info.c - render `gilscope info`. The JSON field names are a contract
 * (README "info --json"): add fields, never rename them.
 */
#include "info.h"

#include <inttypes.h>
#include <stdio.h>

#include "../util/jw.h"

static void cause_text(struct strbuf *sb, const struct info_data *d)
{
	const struct py_gil_info *g = d->gil;

	switch (d->cause) {
	case GIL_CAUSE_DEFAULT:
		if (!g->free_threaded)
			strbuf_addstr(sb, "the build: a default build always has the GIL");
		else
			strbuf_addstr(sb, "the build: free-threaded, and nothing asked for the GIL");
		break;
	case GIL_CAUSE_ENV:
		strbuf_addstr(sb, "PYTHON_GIL=");
		strbuf_addstr(sb, d->env_python_gil ? d->env_python_gil : "?");
		strbuf_addstr(sb, " in its environment");
		break;
	case GIL_CAUSE_XOPTION:
		strbuf_addf(sb, "-X gil=%d on its command line", g->xoption);
		break;
	case GIL_CAUSE_CONFIG:
		strbuf_addstr(sb, "its configuration (PyConfig.enable_gil, set by an embedding "
			      "application)");
		break;
	case GIL_CAUSE_EXTENSION:
		strbuf_addstr(sb, "an extension module that does not declare Py_mod_gil = "
			      "Py_MOD_GIL_NOT_USED,\n                 turned on for good when "
			      "it was imported");
		if (g->nmodules)
			strbuf_addstr(sb, " (CPython keeps no record of which\n"
				      "                 one: the first below, in import order)");
		else
			strbuf_addstr(sb, " (none of the modules still in\n"
				      "                 sys.modules is marked as needing it)");
		break;
	case GIL_CAUSE_IMPORT:
		strbuf_addf(sb, "an extension module being imported right now (on for the "
			    "time of the import, %d request%s)", (int)g->count,
			    g->count == 1 ? "" : "s");
		break;
	case GIL_CAUSE_UNKNOWN:
		strbuf_addstr(sb, "unknown (the interpreter's flags could not be read)");
		break;
	}
}

void report_info_text(struct strbuf *sb, const struct info_data *d)
{
	const struct py_gil_info *g = d->gil;
	size_t i;

	strbuf_addf(sb, "process          %d%s\n", d->pid,
		    d->launched ? " (started by gilscope, ended after this)" : "");
	strbuf_addf(sb, "executable       %s\n", d->executable);
	strbuf_addf(sb, "libpython        %s\n",
		    d->libpython[0] ? d->libpython : "(linked into the executable)");
	strbuf_addf(sb, "_PyRuntime       0x%" PRIx64 "\n", d->runtime_addr);
	strbuf_addf(sb, "Python           %s, %s build\n", d->version,
		    g->free_threaded ? "free-threaded" : "default (GIL)");
	strbuf_addf(sb, "GIL              %s (sys._is_gil_enabled() is %s)\n",
		    g->enabled ? "enabled" : "disabled", g->enabled ? "True" : "False");
	strbuf_addstr(sb, g->enabled ? "enabled by       " : "disabled by      ");
	cause_text(sb, d);
	strbuf_addch(sb, '\n');
	if (g->free_threaded) {
		if (g->nmodules || g->modules_err) {
			strbuf_addstr(sb, "needs the GIL    ");
			for (i = 0; i < g->nmodules; i++)
				strbuf_addf(sb, "%s%s", i ? ", " : "", g->modules[i]);
			if (g->modules_truncated)
				strbuf_addstr(sb, ", ...");
			if (g->modules_err && !g->modules_truncated)
				strbuf_addf(sb, "%s(sys.modules could not be read whole)",
					    g->nmodules ? " " : "");
			if (g->nmodules && !g->enabled)
				strbuf_addstr(sb, "\n                 (yet the GIL is off: they run "
					      "without it, at their own risk)");
			strbuf_addch(sb, '\n');
		}
		strbuf_addstr(sb, "sys.flags.gil    ");
		if (g->flag == PY_GIL_FLAG_UNREAD)
			strbuf_addstr(sb, "(unreadable)\n");
		else if (g->flag == PY_GIL_FLAG_NONE)
			strbuf_addstr(sb, "None (not forced: each extension import decides)\n");
		else
			strbuf_addf(sb, "%d (forced %s)\n", g->flag, g->flag ? "on" : "off");
	}
	strbuf_addstr(sb, "PYTHON_GIL       ");
	if (!d->env_read)
		strbuf_addstr(sb, "(environment unreadable)");
	else if (d->env_python_gil)
		strbuf_addstr(sb, d->env_python_gil);
	else
		strbuf_addstr(sb, "not set");
	if (d->env_read && d->env_python_gil && g->ignore_environment == 1)
		strbuf_addstr(sb, " (ignored: -E or -I)");
	strbuf_addch(sb, '\n');
	if (d->switch_interval_s >= 0)
		strbuf_addf(sb, "switch interval  %.3g ms\n", d->switch_interval_s * 1000);
	else
		strbuf_addstr(sb, "switch interval  (unknown)\n");
	strbuf_addstr(sb, "threads          ");
	if (d->threads >= 0)
		strbuf_addf(sb, "%ld Python", d->threads);
	if (d->os_threads >= 0)
		strbuf_addf(sb, "%s%ld OS", d->threads >= 0 ? ", " : "", d->os_threads);
	strbuf_addch(sb, '\n');
}

void report_info_json(struct strbuf *sb, const struct info_data *d)
{
	const struct py_gil_info *g = d->gil;
	struct jw w;
	char addr[32];
	size_t i;

	snprintf(addr, sizeof(addr), "0x%" PRIx64, d->runtime_addr);
	jw_init(&w, sb, 1);
	jw_obj(&w, NULL);
	jw_int(&w, "pid", d->pid);
	jw_bool(&w, "launched", d->launched);
	jw_str(&w, "executable", d->executable);
	jw_str(&w, "libpython", d->libpython[0] ? d->libpython : NULL);
	jw_str(&w, "runtime_address", addr);
	jw_obj(&w, "python");
	jw_str(&w, "version", d->version);
	jw_bool(&w, "free_threaded", g->free_threaded);
	jw_bool(&w, "gil_enabled", g->enabled);
	jw_str(&w, "gil_enabled_by", py_gil_cause_name(d->cause));
	if (g->free_threaded) {
		if (g->count >= 0)
			jw_int(&w, "gil_count", g->count);
		else
			jw_null(&w, "gil_count");
		if (g->flag == PY_GIL_FLAG_NONE)
			jw_null(&w, "sys_flags_gil");
		else if (g->flag != PY_GIL_FLAG_UNREAD)
			jw_int(&w, "sys_flags_gil", g->flag);
		jw_arr(&w, "gil_required_by");
		for (i = 0; i < g->nmodules; i++)
			jw_str(&w, NULL, g->modules[i]);
		jw_end(&w);
		jw_bool(&w, "gil_required_by_complete", !g->modules_err && !g->modules_truncated);
	}
	if (d->switch_interval_s >= 0)
		jw_sig(&w, "switch_interval_s", d->switch_interval_s, 6);
	else
		jw_null(&w, "switch_interval_s");
	jw_end(&w);
	if (!d->env_read) {
		jw_null(&w, "env");
	} else {
		jw_obj(&w, "env");
		jw_str(&w, "PYTHON_GIL", d->env_python_gil);
		jw_end(&w);
	}
	if (d->threads >= 0)
		jw_int(&w, "threads", d->threads);
	else
		jw_null(&w, "threads");
	if (d->os_threads >= 0)
		jw_int(&w, "os_threads", d->os_threads);
	else
		jw_null(&w, "os_threads");
	jw_end(&w);
	jw_finish(&w);
}
