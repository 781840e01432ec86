/*
 * top.c - lay out the `gilscope top` screen.
 *
 *   title bar      pid, version, build, GIL on/off, window and rate
 *   figures        GIL held / contended / switches, threads busy
 *   verdict        kind and summary (two lines at most), then the remedy
 *   threads        TID NAME NOW G [state bar over the window] GIL%
 *   hot functions  thread-seconds innermost in the window, by state
 *   bottom line    keys and the bar legend, or a message
 *
 * Everything is cut to the screen: lines by display width, sections by
 * the rows left, threads first (the reason to run top), then at least a
 * few hot functions.
 */
#include "top.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../util/error.h"

#define HOT_MAX 12
#define HOT_PER_STATE 6
#define NAME_W 15
#define NOW_W 10

int top_screen_init(struct top_screen *s, int cols, int rows)
{
	memset(s, 0, sizeof(*s));
	s->cols = cols < 1 ? 1 : cols > TOP_MAX_COLS ? TOP_MAX_COLS : cols;
	s->rows = rows < 1 ? 1 : rows > TOP_MAX_ROWS ? TOP_MAX_ROWS : rows;
	s->lines = calloc((size_t)s->rows, sizeof(*s->lines));
	return s->lines ? 0 : GS_ENOMEM;
}

void top_screen_release(struct top_screen *s)
{
	free(s->lines);
	memset(s, 0, sizeof(*s));
}

/* Display width of the code point of the valid UTF-8 sequence at p. */
static int cp_width(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	uint32_t cp;
	int w;

	if (n == 1)
		return 1;
	if (n == 2)
		cp = (uint32_t)(u[0] & 0x1f) << 6 | (u[1] & 0x3f);
	else if (n == 3)
		cp = (uint32_t)(u[0] & 0x0f) << 12 | (uint32_t)(u[1] & 0x3f) << 6 | (u[2] & 0x3f);
	else
		cp = (uint32_t)(u[0] & 0x07) << 18 | (uint32_t)(u[1] & 0x3f) << 12 |
		     (uint32_t)(u[2] & 0x3f) << 6 | (u[3] & 0x3f);
	if (cp < 0xa0)
		return -1;	/* C1 controls: not to be printed */
	w = wcwidth((wchar_t)cp);
	return w < 0 ? 1 : w;	/* unknown in this locale: assume one column */
}

static void put_bytes(struct top_line *l, int attr, const char *p, size_t n, int w)
{
	memcpy(l->text + l->len, p, n);
	memset(l->attr + l->len, attr, n);
	l->len += n;
	l->text[l->len] = '\0';
	l->cols += w;
}

/* Append str, cut at `limit` columns of the line (or the screen width);
 * control characters and broken UTF-8 become '?'. Returns the columns added. */
static int put_upto(const struct top_screen *s, struct top_line *l, int attr, const char *str,
		    int limit)
{
	int start = l->cols, w;
	size_t n;

	if (limit > s->cols)
		limit = s->cols;
	while (*str && l->cols < limit) {
		n = utf8_seq_len(str);
		w = n ? cp_width(str, n) : -1;
		if (n == 1 && ((unsigned char)*str < 0x20 || *str == 0x7f))
			w = -1;
		if (w < 0) {
			put_bytes(l, attr, "?", 1, 1);
			str += n ? n : 1;
			continue;
		}
		if (l->cols + w > limit || l->len + n >= TOP_LINE_BYTES)
			break;
		put_bytes(l, attr, str, n, w);
		str += n;
	}
	return l->cols - start;
}

static void put(const struct top_screen *s, struct top_line *l, int attr, const char *str)
{
	put_upto(s, l, attr, str, s->cols);
}

static void putf(const struct top_screen *s, struct top_line *l, int attr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void putf(const struct top_screen *s, struct top_line *l, int attr, const char *fmt, ...)
{
	char buf[TOP_LINE_BYTES];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put(s, l, attr, buf);
}

static void pad_to(const struct top_screen *s, struct top_line *l, int attr, int col)
{
	if (col > s->cols)
		col = s->cols;
	while (l->cols < col)
		put_bytes(l, attr, " ", 1, 1);
}

/* Exactly `width` columns: str cut or padded. */
static void put_field(const struct top_screen *s, struct top_line *l, int attr, const char *str,
		      int width)
{
	int end = l->cols + width;

	put_upto(s, l, attr, str, end);
	pad_to(s, l, attr, end);
}

/* Word-wrap text over at most max_rows rows from *row; the first row
 * starts with `first`, the others are indented as far. */
static void put_wrapped(struct top_screen *s, int *row, int max_rows, int attr, const char *first,
			const char *text)
{
	int indent = (int)strlen(first), used = 0;
	const char *p = text;

	while (*p && used < max_rows && *row < s->rows - 1) {
		struct top_line *l = &s->lines[*row];
		int room = s->cols - indent;
		const char *end = p, *cut = NULL;
		int cols = 0;
		char chunk[TOP_LINE_BYTES];
		size_t n;

		if (used)
			pad_to(s, l, TA_NORMAL, indent);
		else
			put(s, l, TA_BOLD, first);
		/* find the last space that keeps the chunk within the room */
		while (*end && cols < room) {
			size_t k = utf8_seq_len(end);

			if (*end == ' ')
				cut = end;
			end += k ? k : 1;
			cols++;
		}
		if (*end && cut && used + 1 < max_rows)
			end = cut;
		n = (size_t)(end - p) < sizeof(chunk) - 1 ? (size_t)(end - p) : sizeof(chunk) - 1;
		memcpy(chunk, p, n);
		chunk[n] = '\0';
		if (*end && used + 1 == max_rows) {
			/* the last row we may use, and text is left: say so */
			put_upto(s, l, attr, chunk, s->cols - 3);
			put(s, l, TA_DIM, "...");
			(*row)++;
			return;
		}
		put(s, l, attr, chunk);
		p = end;
		while (*p == ' ')
			p++;
		used++;
		(*row)++;
	}
}

static double frac(uint64_t x, uint64_t of)
{
	return of ? (double)x / (double)of : 0;
}

struct by_tid {
	int32_t tid;
	size_t index;	/* into a->threads */
};

static int cmp_tid(const void *x, const void *y)
{
	const struct by_tid *p = x, *q = y;

	return p->tid < q->tid ? -1 : p->tid > q->tid;
}

static const struct top_now *now_of(const struct top_now *now, size_t nnow, int32_t tid)
{
	size_t i;

	for (i = 0; i < nnow; i++)
		if (now[i].tid == tid)
			return &now[i];
	return NULL;
}

static void state_bar(const struct top_screen *s, struct top_line *l, const struct agg_thread *t,
		      int width)
{
	int st, k, w = 0, n;
	double acc = 0;

	/* cumulative rounding, so the cells add up to exactly `width` */
	for (st = 0; st < ST_COUNT && t->samples; st++) {
		acc += frac(t->states[st], t->samples) * width;
		n = (int)(acc + 0.5) - w;
		for (k = 0; k < n && w < width; k++, w++)
			put_bytes(l, TA_CELL + st, &gs_state_info((enum gs_state)st)->letter, 1, 1);
	}
	for (; w < width; w++)
		put_bytes(l, TA_DIM, " ", 1, 1);
	(void)s;
}

static void thread_row(const struct top_screen *s, struct top_line *l, const struct top_now *now,
		       size_t nnow, const struct agg *a, const struct agg_thread *t, int bar_w)
{
	const struct top_now *nw = now_of(now, nnow, t->tid);
	char tid[16];

	snprintf(tid, sizeof(tid), "%7d ", (int)t->tid);
	put(s, l, TA_NORMAL, tid);
	put_field(s, l, TA_BOLD, agg_str(a, t->name)[0] ? agg_str(a, t->name) : "-", NAME_W);
	put(s, l, TA_NORMAL, " ");
	if (nw)
		put_field(s, l, TA_STATE + nw->state, gs_state_name((enum gs_state)nw->state), NOW_W);
	else
		put_field(s, l, TA_DIM, "(gone)", NOW_W);
	put(s, l, TA_BOLD, nw && nw->holds_gil ? " G " : "   ");
	if (bar_w > 0) {
		state_bar(s, l, t, bar_w);
		putf(s, l, TA_NORMAL, " %3.0f%%", 100 * frac(t->gil_held, t->samples));
	}
}

struct hot {
	uint32_t id;
	uint8_t state;
	uint8_t native;
	uint64_t count;
};

static int cmp_hot(const void *x, const void *y)
{
	const struct hot *p = x, *q = y;

	return p->count < q->count ? 1 : p->count > q->count ? -1 :
	       p->id < q->id ? -1 : p->id > q->id;
}

/* The frames most often innermost in a busy state, most first. */
static size_t hot_list(const struct agg *a, struct hot *out, size_t max)
{
	struct hot all[ST_COUNT * HOT_PER_STATE * 2];
	uint32_t ids[HOT_PER_STATE];
	size_t n = 0, k, m;
	int i;

	for (i = 0; i < ST_COUNT; i++) {
		enum gs_state st = (enum gs_state)i;

		if (!(gs_state_info(st)->flags & GS_BUSY))
			continue;
		for (m = 0; m < 2; m++) {
			k = m ? agg_hot_native(a, st, ids, HOT_PER_STATE) :
				agg_hot_frames(a, st, ids, HOT_PER_STATE);
			while (k--) {
				all[n].id = ids[k];
				all[n].state = (uint8_t)st;
				all[n].native = (uint8_t)m;
				all[n].count = a->frames[ids[k]].self[st];
				n++;
			}
		}
	}
	qsort(all, n, sizeof(all[0]), cmp_hot);
	if (n > max)
		n = max;
	memcpy(out, all, n * sizeof(all[0]));
	return n;
}

static const char *base_name(const char *path)
{
	const char *p = strrchr(path, '/');

	return p && p[1] ? p + 1 : path;
}

static void hot_row(const struct top_screen *s, struct top_line *l, const struct agg *a,
		    const struct hot *h)
{
	const struct agg_frame *f = &a->frames[h->id];
	double secs = a->opt.rate_hz > 0 ? (double)h->count / a->opt.rate_hz : 0;

	putf(s, l, TA_NORMAL, "%6.2fs ", secs);
	put_field(s, l, TA_STATE + h->state, gs_state_name((enum gs_state)h->state), NOW_W);
	put(s, l, TA_NORMAL, " ");
	if (h->native) {
		put(s, l, TA_DIM, "[C] ");
		put(s, l, TA_BOLD, agg_str(a, f->func));
		return;
	}
	put(s, l, TA_BOLD, agg_str(a, f->func));
	putf(s, l, TA_DIM, " (%s:%d)", base_name(agg_str(a, f->file)), (int)f->line);
}

static void title(struct top_screen *s, const struct top_info *info, const struct agg *a)
{
	struct top_line *l = &s->lines[0];

	putf(s, l, TA_TITLE, " gilscope top  pid %d  Python %s%s, GIL %s", info->pid,
	     info->version ? info->version : "?", info->free_threaded ? " free-threaded" : "",
	     info->gil_enabled ? "on" : "off");
	if (a->samples)
		putf(s, l, TA_TITLE, "  last %.1f s at %.0f Hz", a->duration_s, info->rate_hz);
	pad_to(s, l, TA_TITLE, s->cols);
}

static void figures(struct top_screen *s, struct top_line *l, const struct top_info *info,
		    const struct agg *a, const struct verdict *v)
{
	if (!a->samples) {
		put(s, l, TA_DIM, "collecting samples...");
		return;
	}
	if (a->gil_known && a->gil_enabled) {
		put(s, l, TA_NORMAL, "GIL held ");
		putf(s, l, TA_BOLD, "%.0f%%", 100 * v->gil_held);
		put(s, l, TA_NORMAL, "  contended ");
		putf(s, l, v->gil_contended >= 0.2 ? TA_STATE + ST_GIL_WAIT : TA_BOLD, "%.0f%%",
		     100 * v->gil_contended);
		if (v->switches_per_s >= 0)
			putf(s, l, TA_NORMAL, "  %.0f switches/s", v->switches_per_s);
	} else if (a->free_threaded) {
		put(s, l, TA_NORMAL, "GIL off: threads run Python in parallel");
	} else {
		put(s, l, TA_DIM, "GIL state unreadable");
	}
	putf(s, l, TA_NORMAL, "   threads %zu, busy %d", a->nthreads, v->busy_threads);
	if (info->lost || info->missed)
		putf(s, l, TA_DIM, "   (%llu lost, %llu late)", (unsigned long long)info->lost,
		     (unsigned long long)info->missed);
}

static void bottom(struct top_screen *s, const struct top_info *info, int scrolls)
{
	struct top_line *l = &s->lines[s->rows - 1];
	int st;

	if (info->message) {
		put(s, l, TA_BOLD, info->message);
		return;
	}
	put(s, l, TA_TITLE, "q");
	put(s, l, TA_NORMAL, " quit ");
	if (scrolls) {
		put(s, l, TA_TITLE, "j/k");
		put(s, l, TA_NORMAL, " scroll ");
	}
	for (st = 0; st < ST_COUNT; st++) {
		const struct gs_state_info *si = gs_state_info((enum gs_state)st);
		char cell[2] = { si->letter, 0 };

		put(s, l, TA_NORMAL, " ");
		put(s, l, TA_CELL + st, cell);
		putf(s, l, TA_DIM, " %s", si->key);
	}
}

static void clear_lines(struct top_screen *s)
{
	int i;

	for (i = 0; i < s->rows; i++) {
		s->lines[i].len = 0;
		s->lines[i].cols = 0;
		s->lines[i].text[0] = '\0';
	}
}

/* The verdict and its remedy from *row: all of it on a big screen, just
 * enough on a small one to leave the threads room. */
static void verdict_rows(struct top_screen *s, int *row, enum verdict_kind kind,
			 const char *summary, const char *advice)
{
	int big = s->rows >= 32, small = s->rows < 16;
	char head[64];

	if (*row >= s->rows - 1)
		return;
	snprintf(head, sizeof(head), "Verdict: %s: ", verdict_kind_name(kind));
	put_wrapped(s, row, big ? 3 : small ? 1 : 2, TA_NORMAL, head, summary);
	if (!small && *row < s->rows - 1)
		put_wrapped(s, row, big ? 3 : 1, TA_NORMAL, "  Remedy: ", advice);
}

/* The threads of a in tid order (an array to free), NULL if no memory. */
static struct by_tid *tid_order(const struct agg *a)
{
	struct by_tid *order = malloc(a->nthreads * sizeof(*order) + 1);
	size_t i;

	if (!order)
		return NULL;
	for (i = 0; i < a->nthreads; i++) {
		order[i].tid = a->threads[i].tid;
		order[i].index = i;
	}
	qsort(order, a->nthreads, sizeof(*order), cmp_tid);
	return order;
}

/* The heading of the thread rows; returns the width of their bars (0:
 * none). */
static int threads_heading(struct top_screen *s, struct top_line *l, double duration_s)
{
	/* TID(7) + sp + NAME + sp + NOW + " G " + bar + " 100%" */
	int ncols = 8 + NAME_W + 1 + NOW_W + 3, bar_w = s->cols - ncols - 5;

	if (bar_w > 60)
		bar_w = 60;
	put(s, l, TA_HEAD, "    TID ");
	put_field(s, l, TA_HEAD, "NAME", NAME_W);
	put(s, l, TA_HEAD, " ");
	put_field(s, l, TA_HEAD, "NOW", NOW_W);
	put(s, l, TA_HEAD, " G ");
	if (bar_w >= 8) {
		char lab[64];

		snprintf(lab, sizeof(lab), "states, last %.1f s", duration_s);
		put_field(s, l, TA_HEAD, lab, bar_w);
		put(s, l, TA_HEAD, " GIL%");
	}
	pad_to(s, l, TA_HEAD, s->cols);
	return bar_w < 8 ? 0 : bar_w;
}

/* The hottest functions of a, from *row, if there is room for a few. */
static void hot_section(struct top_screen *s, int *row, const struct agg *a, const char *whose)
{
	struct hot hot[HOT_MAX];
	size_t nhot = hot_list(a, hot, HOT_MAX), i;
	struct top_line *l;

	if (!nhot || *row + 2 >= s->rows - 1)
		return;
	(*row)++;
	l = &s->lines[(*row)++];
	putf(s, l, TA_HEAD, "Hottest functions%s (thread-seconds innermost, last %.1f s)", whose,
	     a->duration_s);
	pad_to(s, l, TA_HEAD, s->cols);
	for (i = 0; i < nhot && *row < s->rows - 1; i++)
		hot_row(s, &s->lines[(*row)++], a, &hot[i]);
}

void report_top(struct top_screen *s, const struct top_info *info, const struct agg *a,
		const struct verdict *v)
{
	struct by_tid *order = NULL;
	size_t nhot = 0, i, shown;
	int row = 1, avail, trows, hrows, bar_w;

	clear_lines(s);
	title(s, info, a);
	if (s->rows >= 2)
		bottom(s, info, 0);
	/* rows 1 .. rows-2 are ours */
	if (row < s->rows - 1)
		figures(s, &s->lines[row++], info, a, v);
	if (a->samples)
		verdict_rows(s, &row, v->kind, v->summary, v->advice);
	if (s->rows >= 16 && row < s->rows - 1)
		row++;	/* blank */

	if (a->samples) {
		struct hot hot[HOT_MAX];

		nhot = hot_list(a, hot, HOT_MAX);
		order = tid_order(a);
	}
	avail = s->rows - 1 - row;	/* rows for the threads and hot sections */
	if (!order || avail < 2)
		goto out;

	/* threads first (the reason to run top): hot functions get rows
	 * (a blank, a heading and at least 3) only when every thread fits */
	hrows = nhot ? 2 + (int)(nhot < 3 ? nhot : 3) : 0;
	trows = avail - 1 - hrows;	/* 1: the heading */
	if (trows < 1 || (size_t)trows < a->nthreads)
		trows = avail - 1;
	if ((size_t)trows > a->nthreads)
		trows = (int)a->nthreads;

	bar_w = threads_heading(s, &s->lines[row++], a->duration_s);
	shown = 0;
	for (i = 0; i < a->nthreads && row < s->rows - 1; i++) {
		if ((int)shown == trows - 1 && a->nthreads > (size_t)trows) {
			putf(s, &s->lines[row++], TA_DIM, "    ... %zu more threads",
			     a->nthreads - shown);
			break;
		}
		thread_row(s, &s->lines[row++], info->now, info->nnow, a,
			   &a->threads[order[i].index], bar_w);
		shown++;
	}
	hot_section(s, &row, a, "");
out:
	free(order);
}

/* --- a process tree (top --subprocesses) ------------------------------------ */

static void tree_title(struct top_screen *s, const struct top_info *info, const struct top_tree *t)
{
	struct top_line *l = &s->lines[0];
	const char *version = t->n ? t->procs[0].version : NULL;
	int ft = t->n ? t->procs[0].free_threaded : 0;
	double window = 0;
	size_t i, gone = 0;

	for (i = 0; i < t->n; i++) {
		const struct top_proc *p = &t->procs[i];

		gone += p->gone;
		if (p->a->samples && p->a->duration_s > window)
			window = p->a->duration_s;
		/* one version for all, or none named */
		if (version && (!p->version || strcmp(p->version, version) || p->free_threaded != ft))
			version = NULL;
	}
	putf(s, l, TA_TITLE, " gilscope top  tree of pid %d: %zu Python process%s", info->pid, t->n,
	     t->n == 1 ? "" : "es");
	if (gone)
		putf(s, l, TA_TITLE, " (%zu exited)", gone);
	if (version)
		putf(s, l, TA_TITLE, ", Python %s%s", version, ft ? " free-threaded" : "");
	if (window > 0)
		putf(s, l, TA_TITLE, "  last %.1f s at %.0f Hz", window, info->rate_hz);
	pad_to(s, l, TA_TITLE, s->cols);
}

static void tree_figures(struct top_screen *s, struct top_line *l, const struct top_info *info,
			 const struct top_tree *t)
{
	size_t i, threads = 0;
	int busy = 0;

	if (!t->n) {
		putf(s, l, TA_DIM, "no Python process in the tree yet (%zu other process%s)",
		     t->others, t->others == 1 ? "" : "es");
		return;
	}
	for (i = 0; i < t->n; i++) {
		threads += t->procs[i].a->nthreads;
		busy += t->procs[i].v->busy_threads;
	}
	putf(s, l, TA_NORMAL, "processes %zu, busy %d   threads %zu, busy %d", t->n, t->pv->busy,
	     threads, busy);
	if (t->others)
		putf(s, l, TA_DIM, "   not Python %zu", t->others);
	if (t->unreadable)
		putf(s, l, TA_STATE + ST_GIL_WAIT, "   not readable %zu (dump -s says why)",
		     t->unreadable);
	if (t->dropped)
		putf(s, l, TA_DIM, "   not kept %zu", t->dropped);
	if (info->lost || info->missed)
		putf(s, l, TA_DIM, "   (%llu lost, %llu late)", (unsigned long long)info->lost,
		     (unsigned long long)info->missed);
}

/* "python3.14 pool.py --workers 4": the command line with the directories
 * of its first two words (the program, and the script it runs) cut. */
static void short_command(char *out, size_t len, const char *cmd)
{
	size_t n = 0;
	int word;

	out[0] = '\0';
	for (word = 0; word < 2 && *cmd && n + 1 < len; word++) {
		const char *end = strchr(cmd, ' '), *base = cmd, *p;

		if (!end)
			end = cmd + strlen(cmd);
		if (word == 0 || *cmd != '-')
			for (p = cmd; p < end; p++)
				if (*p == '/' && p + 1 < end)
					base = p + 1;
		n += (size_t)snprintf(out + n, len - n, "%.*s", (int)(end - base), base);
		if (n >= len)
			return;
		cmd = end;
		if (*cmd == ' ' && n + 1 < len) {
			out[n++] = ' ';
			out[n] = '\0';
			cmd++;
		}
	}
	if (n + 1 < len)
		snprintf(out + n, len - n, "%s", cmd);
}

#define KIND_W 16

static void proc_row(const struct top_screen *s, struct top_line *l, const struct top_proc *p)
{
	const struct agg *a = p->a;
	const char *kind = p->gone ? "exited" : verdict_kind_name(p->v->kind);
	char cmd[TOP_MAX_COLS + 1];
	int kw = (int)strlen(kind);

	putf(s, l, TA_BOLD, "pid %d", p->pid);
	putf(s, l, TA_NORMAL, " ppid %d ", p->ppid);
	put_field(s, l, p->gone ? TA_DIM : TA_BOLD, kind, kw > KIND_W ? kw : KIND_W);
	if (a->gil_known && a->gil_enabled) {
		putf(s, l, TA_NORMAL, " GIL held %.0f%% contended ", 100 * p->v->gil_held);
		putf(s, l, p->v->gil_contended >= 0.2 ? TA_STATE + ST_GIL_WAIT : TA_NORMAL, "%.0f%%",
		     100 * p->v->gil_contended);
	} else {
		put(s, l, TA_NORMAL, a->free_threaded ? " GIL off" : " GIL ?");
	}
	putf(s, l, TA_NORMAL, "  busy %d/%zu  ", p->v->busy_threads, a->nthreads);
	short_command(cmd, sizeof(cmd), p->command ? p->command : "");
	put(s, l, TA_DIM, cmd[0] ? cmd : "?");
}

/* Row k of the list (a process's line, or one of its threads'). */
static void list_row(const struct top_screen *s, struct top_line *l, const struct top_tree *t,
		     struct by_tid **orders, size_t k, int bar_w)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct top_proc *p = &t->procs[i];

		if (k == 0) {
			proc_row(s, l, p);
			return;
		}
		k--;
		if (k < p->a->nthreads) {
			if (orders[i])
				thread_row(s, l, p->gone ? NULL : p->now, p->gone ? 0 : p->nnow, p->a,
					   &p->a->threads[orders[i][k].index], bar_w);
			return;
		}
		k -= p->a->nthreads;
	}
}

void report_top_tree(struct top_screen *s, const struct top_info *info, const struct top_tree *t)
{
	struct by_tid **orders = NULL;
	const struct agg *busiest = NULL;
	size_t i, total = 0, k, first, end;
	int row = 1, avail, bar_w, scroll = t->scroll ? *t->scroll : 0;
	double window = 0;

	clear_lines(s);
	tree_title(s, info, t);
	if (row < s->rows - 1)
		tree_figures(s, &s->lines[row++], info, t);
	if (t->n)
		verdict_rows(s, &row, t->pv->kind, t->pv->summary, t->pv->advice);
	if (s->rows >= 16 && row < s->rows - 1)
		row++;	/* blank */
	if (t->n)
		orders = calloc(t->n, sizeof(*orders));
	avail = s->rows - 1 - row;
	if (!orders || avail < 2) {
		scroll = 0;
		goto out;
	}
	for (i = 0; i < t->n; i++) {
		orders[i] = tid_order(t->procs[i].a);
		total += 1 + t->procs[i].a->nthreads;
		if (t->procs[i].a->duration_s > window)
			window = t->procs[i].a->duration_s;
		if (t->procs[i].pid == t->pv->where)
			busiest = t->procs[i].a;
	}
	bar_w = threads_heading(s, &s->lines[row++], window);
	avail--;
	/* the list scrolls: a first row says how many are above, a last one
	 * how many below; past the end, it stops with the last row shown */
	if ((size_t)avail >= total || avail < 3 || scroll < 0)
		scroll = 0;
	else if ((size_t)scroll > total - (size_t)(avail - 1))
		scroll = (int)(total - (size_t)(avail - 1));
	first = (size_t)scroll;
	if (first) {
		putf(s, &s->lines[row++], TA_DIM, "    ... %zu rows above", first);
		avail--;
	}
	end = first + (size_t)avail;
	if (end < total)
		end--;	/* room for the line below */
	for (k = first; k < end && k < total; k++)
		list_row(s, &s->lines[row++], t, orders, k, bar_w);
	if (end < total)
		putf(s, &s->lines[row++], TA_DIM, "    ... %zu more rows (j or down to scroll)",
		     total - end);
	else if (busiest)
		hot_section(s, &row, busiest, " of the busiest process");
out:
	if (s->rows >= 2)
		bottom(s, info, total > (size_t)(avail > 0 ? avail : 0) || scroll);
	if (t->scroll)
		*t->scroll = scroll;
	if (orders)
		for (i = 0; i < t->n; i++)
			free(orders[i]);
	free(orders);
}

void top_screen_text(const struct top_screen *s, struct strbuf *sb)
{
	int r;

	for (r = 0; r < s->rows; r++) {
		const struct top_line *l = &s->lines[r];
		size_t n = l->len;

		while (n && l->text[n - 1] == ' ')
			n--;
		strbuf_add(sb, l->text, n);
		strbuf_addch(sb, '\n');
	}
}
