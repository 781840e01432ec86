/*
 * top.c - `gilscope top`: a live per-thread view of a Python process.
 *
 * One thread does everything: it samples at --rate on absolute deadlines
 * and, between samples, waits in poll(2) on the terminal for keys. Every
 * second it draws the screen from a rolling window of about two seconds:
 * two aggregates started a second apart both take every sample; the older
 * one is drawn, then started afresh. The target is only read, never
 * stopped. The terminal is given back on q, on SIGINT/SIGTERM, and when
 * the target exits.
 *
 * --subprocesses: the tree of the process, sampled by the loop of every
 * tree (sample/group.h, loop_run_group), which finds the processes that
 * start and notices those that end; each Python process has its own pair
 * of windows, rotated together, and the program's verdict is drawn from
 * theirs (analyze/program.h). A process that ended is shown as long as its
 * windows hold samples of it (two seconds at most), then forgotten.
 */
#include "cmd.h"
#include "opt.h"

#include <curses.h>
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../analyze/agg.h"
#include "../analyze/feed.h"
#include "../analyze/program.h"
#include "../analyze/verdict.h"
#include "../report/top.h"
#include "../sample/group.h"
#include "../sample/loop.h"
#include "../sample/sampler.h"
#include "../util/clock.h"
#include "../util/error.h"

#define REFRESH_NS 1000000000ull
#define DEFAULT_RATE 100.0
#define MAX_RATE 1000.0

static const struct opt_cmd top_cmd = {
	.name = "top",
	.synopsis =
	"usage: gilscope top --pid PID [--subprocesses] [--rate HZ]\n"
	"\n"
	"A live view of a Python process, refreshed every second: each thread's\n"
	"state now and over the last two seconds, GIL use and contention, the\n"
	"hottest functions, and the verdict. With --subprocesses, every Python\n"
	"process of its tree (found as they start, shown as exited when they\n"
	"end), each with its verdict and GIL figures above its threads, and one\n"
	"verdict for the program. q quits; j/k, the arrows, PgUp/PgDn, Home/End\n"
	"scroll a list of processes longer than the screen. Needs a terminal.\n",
};

struct window {
	struct agg agg;
	int live;
	/* the sampling loop's counters when the window started: what it
	 * lost and missed since is the window's */
	uint64_t errors0, missed0;
};

struct ui {
	SCREEN *scr;
	struct top_screen screen;
	attr_t attrs[TA_COUNT];
};

/* The state table gives top's colours as ANSI numbers, which curses' are. */
_Static_assert(COLOR_BLACK == 0 && COLOR_RED == 1 && COLOR_GREEN == 2 && COLOR_YELLOW == 3 &&
	       COLOR_BLUE == 4 && COLOR_MAGENTA == 5 && COLOR_CYAN == 6 && COLOR_WHITE == 7,
	       "curses colours are not the ANSI numbers");

/* A state without a colour (sleep) is shown dimmed, and its bar cells plain. */
static void ui_colors(struct ui *ui)
{
	int st, color = has_colors();

	ui->attrs[TA_NORMAL] = A_NORMAL;
	ui->attrs[TA_TITLE] = A_REVERSE | A_BOLD;
	ui->attrs[TA_BOLD] = A_BOLD;
	ui->attrs[TA_DIM] = A_DIM;
	ui->attrs[TA_HEAD] = A_UNDERLINE;
	if (color) {
		start_color();
		use_default_colors();
	}
	for (st = 0; st < ST_COUNT; st++) {
		int fg = gs_state_info((enum gs_state)st)->term_color;
		attr_t a = A_NORMAL;

		if (color && fg >= 0 && init_pair((short)(st + 1), (short)fg, -1) == OK)
			a = COLOR_PAIR(st + 1);
		ui->attrs[TA_STATE + st] = fg < 0 ? A_DIM : a | A_BOLD;
		/* bar cells: the colour as background, so they read as blocks;
		 * without colour, the letters alone tell the states apart */
		ui->attrs[TA_CELL + st] = color && fg >= 0 ? a | A_REVERSE : A_NORMAL;
	}
}

static int ui_start(struct ui *ui)
{
	memset(ui, 0, sizeof(*ui));
	ui->scr = newterm(NULL, stdout, stdin);
	if (!ui->scr)
		return GS_EGENERIC;
	set_term(ui->scr);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	ui_colors(ui);
	if (top_screen_init(&ui->screen, COLS, LINES)) {
		endwin();
		delscreen(ui->scr);
		ui->scr = NULL;
		return GS_ENOMEM;
	}
	return 0;
}

static void ui_stop(struct ui *ui)
{
	if (!ui->scr)
		return;
	endwin();
	delscreen(ui->scr);
	ui->scr = NULL;
	top_screen_release(&ui->screen);
}

static void ui_resize(struct ui *ui)
{
	struct top_screen ns;

	if (top_screen_init(&ns, COLS, LINES))
		return;
	top_screen_release(&ui->screen);
	ui->screen = ns;
	clear();
}

static void ui_paint(struct ui *ui)
{
	const struct top_screen *s = &ui->screen;
	int r;

	for (r = 0; r < s->rows && r < LINES; r++) {
		const struct top_line *l = &s->lines[r];
		size_t i = 0, j;

		move(r, 0);
		while (i < l->len) {
			for (j = i + 1; j < l->len && l->attr[j] == l->attr[i]; j++)
				;
			attrset(ui->attrs[l->attr[i] < TA_COUNT ? l->attr[i] : TA_NORMAL]);
			addnstr(l->text + i, (int)(j - i));
			i = j;
		}
		attrset(A_NORMAL);
		if (l->cols < COLS)
			clrtoeol();
	}
	refresh();
}

/* The states of the latest sample, kept past the next sampler_take(). */
struct nowtab {
	struct top_now *v;
	size_t n, cap;
};

static void nowtab_set(struct nowtab *t, const struct sample *smp)
{
	size_t i;

	if (smp->nthreads > t->cap) {
		struct top_now *nv = realloc(t->v, smp->nthreads * sizeof(*nv));

		if (!nv)
			return;	/* keep the old table */
		t->v = nv;
		t->cap = smp->nthreads;
	}
	for (i = 0; i < smp->nthreads; i++) {
		t->v[i].tid = smp->threads[i].tid;
		t->v[i].state = (uint8_t)smp->threads[i].state;
		t->v[i].holds_gil = (uint8_t)smp->threads[i].holds_gil;
	}
	t->n = smp->nthreads;
}

static int window_start(struct window *w, double rate, const struct loop_stats *st)
{
	struct agg_options o;

	memset(&o, 0, sizeof(o));
	o.mode = AGG_MODE_WALL;
	o.rate_hz = rate;
	if (w->live)
		agg_release(&w->agg);
	w->live = 0;
	w->errors0 = st->errors;
	w->missed0 = st->missed;
	if (agg_init(&w->agg, &o))
		return GS_ENOMEM;
	w->live = 1;
	return 0;
}

/* The window's aggregate, with what agg_finish would say of its length,
 * without closing it. */
static struct agg *window_agg(struct window *w, double rate, int free_threaded)
{
	struct agg *a = &w->agg;

	a->free_threaded = free_threaded;
	a->duration_s = a->samples ? (double)(a->t_last - a->t_first) / 1e9 + 1.0 / rate : 0;
	return a;
}

static void draw(struct ui *ui, struct window *w, const struct nowtab *now, pid_t pid,
		 const struct sampler *s, double rate, const struct loop_stats *st,
		 const char *message)
{
	struct top_info info;
	struct verdict v;
	struct agg *a = window_agg(w, rate, s->model.free_threaded);

	verdict_decide(a, &v);
	memset(&info, 0, sizeof(info));
	info.pid = (int)pid;
	info.version = s->model.version;
	info.free_threaded = s->model.free_threaded;
	info.gil_enabled = a->samples ? a->gil_enabled : !s->model.free_threaded;
	info.rate_hz = rate;
	info.now = now->v;
	info.nnow = now->n;
	info.lost = st->errors - w->errors0;
	info.missed = st->missed - w->missed0;
	info.message = message;
	report_top(&ui->screen, &info, a, &v);
	ui_paint(ui);
}

/* The older of the live windows: the longest view. */
static struct window *older(struct window win[2])
{
	if (!win[1].live || (win[0].live && !win[1].agg.samples))
		return &win[0];
	if (!win[0].live || !win[0].agg.samples)
		return &win[1];
	return win[0].agg.t_first <= win[1].agg.t_first ? &win[0] : &win[1];
}

/* At a refresh, once drawn: the older window starts again and the younger
 * becomes the older; at the first refresh, the second starts. */
static int rotate(struct window win[2], double rate, const struct loop_stats *st)
{
	return window_start(win[0].live && win[1].live ? older(win) : &win[1], rate, st);
}

static void take(struct window win[2], struct nowtab *now, const struct sample *smp)
{
	int i;

	for (i = 0; i < 2; i++)
		if (win[i].live)
			agg_add_sample(&win[i].agg, smp);	/* full: the window is
					cut short, and restarts within 1 s */
	nowtab_set(now, smp);
}

static void windows_release(struct window win[2])
{
	int i;

	for (i = 0; i < 2; i++)
		if (win[i].live)
			agg_release(&win[i].agg);
}

/* A process of the tree (--subprocesses), from its first sample on. */
struct tproc {
	struct window win[2];
	struct nowtab now;
	struct verdict v;
};

/* The live view, between samples of the sampling loop. */
struct top {
	struct window win[2];
	struct nowtab now;
	struct ui ui;
	struct sampler *s;
	struct loop_stats st;
	pid_t pid;
	double rate;
	uint64_t next_refresh;
	int quit, failed;
	/* --subprocesses: the tree; tp[] is indexed as g.m[] */
	int tree;
	struct group g;
	struct tproc *tp[GROUP_MAX];
	struct top_proc procs[GROUP_MAX];
	struct program_proc pp[GROUP_MAX];
	struct program_verdict pv;
	/* the loop's counters at the last two refreshes: the older window's
	 * start (windows of all processes rotate together) */
	uint64_t errors0[2], missed0[2];
	unsigned refreshes;
	int scroll;
};

static int top_sample(void *ctx, const struct sample *smp)
{
	struct top *t = ctx;

	take(t->win, &t->now, smp);
	return 0;
}

static int top_tree_sample(void *ctx, size_t i, const struct sample *smp)
{
	struct top *t = ctx;
	struct tproc *p = t->tp[i];

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p || window_start(&p->win[0], t->rate, &t->st)) {
			free(p);
			return GS_ENOMEM;
		}
		t->tp[i] = p;
	}
	take(p->win, &p->now, smp);
	return 0;
}

static void tproc_free(struct tproc *p)
{
	if (!p)
		return;
	windows_release(p->win);
	free(p->now.v);
	free(p);
}

static int cmp_proc(const void *x, const void *y)
{
	const struct top_proc *p = x, *q = y;

	return p->pid < q->pid ? -1 : p->pid > q->pid;
}

/* The tree's screen: each process that has samples in its older window,
 * the root first, then by pid. */
static void draw_tree(struct top *t, const char *message)
{
	struct top_tree tree;
	struct top_info info;
	size_t i, n = 0, others = 0, unreadable = 0;
	unsigned k = t->refreshes % 2;	/* the older window's start */

	for (i = 0; i < t->g.n; i++) {
		const struct group_member *m = t->g.m[i];
		struct tproc *p = t->tp[i];
		struct top_proc *tp = &t->procs[n];
		struct agg *a;

		if (!p) {
			if (!m->sampled && !m->gone && (m->err == GS_EPERM || m->err == GS_EUNSUPPORTED))
				unreadable++;
			else if (!m->sampled && !m->gone)
				others++;
			continue;
		}
		a = window_agg(older(p->win), t->rate, m->s.model.free_threaded);
		if (!a->samples)
			continue;
		verdict_decide(a, &p->v);
		tp->pid = (int)m->pid;
		tp->ppid = (int)m->ppid;
		tp->command = m->cmdline;
		tp->version = m->s.found.version;
		tp->free_threaded = m->s.model.free_threaded;
		tp->gone = m->gone;
		tp->a = a;
		tp->v = &p->v;
		tp->now = p->now.v;
		tp->nnow = p->now.n;
		n++;
	}
	qsort(t->procs, n, sizeof(t->procs[0]), cmp_proc);
	for (i = 0; i < n && t->procs[i].pid != (int)t->g.root; i++)
		;
	if (i < n && i) {
		struct top_proc root = t->procs[i];

		memmove(&t->procs[1], &t->procs[0], i * sizeof(t->procs[0]));
		t->procs[0] = root;
	}
	for (i = 0; i < n; i++) {
		t->pp[i].pid = t->procs[i].pid;
		t->pp[i].command = t->procs[i].command;
		t->pp[i].a = t->procs[i].a;
		t->pp[i].v = t->procs[i].v;
	}
	verdict_program(t->pp, n, &t->pv);
	memset(&info, 0, sizeof(info));
	info.pid = (int)t->pid;
	info.rate_hz = t->rate;
	info.lost = t->st.errors - t->errors0[k];
	info.missed = t->st.missed - t->missed0[k];
	info.message = message;
	memset(&tree, 0, sizeof(tree));
	tree.procs = t->procs;
	tree.n = n;
	tree.others = others;
	tree.unreadable = unreadable;
	tree.dropped = t->g.dropped;
	tree.pv = &t->pv;
	tree.scroll = &t->scroll;
	report_top_tree(&t->ui.screen, &info, &tree);
	ui_paint(&t->ui);
}

static void paint(struct top *t, const char *message)
{
	if (t->tree)
		draw_tree(t, message);
	else
		draw(&t->ui, older(t->win), &t->now, t->pid, t->s, t->rate, &t->st, message);
}

/* A refresh of the tree: forget the processes that ended and whose
 * windows no longer hold any sample of them, draw, rotate every window. */
static int refresh_tree(struct top *t)
{
	unsigned k = t->refreshes % 2;
	size_t i;

	for (i = t->g.n; i-- > 0;) {
		struct tproc *p = t->tp[i];

		if (!t->g.m[i]->gone || (p && (p->win[0].agg.samples || p->win[1].agg.samples)))
			continue;
		tproc_free(p);
		memmove(&t->tp[i], &t->tp[i + 1], (t->g.n - i - 1) * sizeof(t->tp[0]));
		t->tp[t->g.n - 1] = NULL;
		group_forget(&t->g, i);
	}
	draw_tree(t, NULL);
	t->errors0[k] = t->st.errors;
	t->missed0[k] = t->st.missed;
	t->refreshes++;
	for (i = 0; i < t->g.n; i++)
		if (t->tp[i] && rotate(t->tp[i]->win, t->rate, &t->st))
			return GS_ENOMEM;
	return 0;
}

static int view_refresh(struct top *t)
{
	if (t->tree)
		return refresh_tree(t);
	paint(t, NULL);
	return rotate(t->win, t->rate, &t->st);
}

/* Keys that scroll a tree's list; 1 if ch was one. */
static int scroll_key(struct top *t, int ch)
{
	int page = LINES / 2 > 1 ? LINES / 2 : 1;

	if (ch == 'j' || ch == KEY_DOWN)
		t->scroll++;
	else if (ch == 'k' || ch == KEY_UP)
		t->scroll--;
	else if (ch == KEY_NPAGE || ch == ' ')
		t->scroll += page;
	else if (ch == KEY_PPAGE)
		t->scroll -= page;
	else if (ch == KEY_HOME || ch == 'g')
		t->scroll = 0;
	else if (ch == KEY_END || ch == 'G')
		t->scroll = TOP_MAX_ROWS * GROUP_MAX;	/* the screen clamps it */
	else
		return 0;
	if (t->scroll < 0)
		t->scroll = 0;
	return 1;
}

/* Until the next sample is due: redraw every second, read keys. */
static int top_wait(void *ctx, uint64_t until)
{
	struct top *t = ctx;

	for (;;) {
		uint64_t now = gs_now_ns(), wake;
		struct pollfd pfd;
		int timeout, ch, redraw = 0;

		if (now >= t->next_refresh) {
			if (view_refresh(t)) {
				t->failed = 1;
				return 1;
			}
			t->next_refresh += REFRESH_NS;
			if (t->next_refresh <= now)
				t->next_refresh = now + REFRESH_NS;
		}
		if (now >= until)
			return 0;
		wake = until < t->next_refresh ? until : t->next_refresh;
		timeout = (int)((wake - now + 999999) / 1000000);
		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR)
			return 1;
		/* keys, and KEY_RESIZE after a SIGWINCH interrupted poll */
		while ((ch = getch()) != ERR) {
			if (ch == 'q' || ch == 'Q' || ch == 3 /* ^C in case of raw mode */)
				t->quit = 1;
			else if (ch == KEY_RESIZE)
				ui_resize(&t->ui), redraw = 1;
			else if (ch == 12)	/* ^L */
				clear(), redraw = 1;
			else if (t->tree && scroll_key(t, ch))
				redraw = 1;
		}
		if (t->quit || loop_stop_requested())
			return 1;
		if (redraw)
			paint(t, NULL);
	}
}

int cmd_top(int argc, char **argv)
{
	struct top *t;
	struct loop_opts lo;
	struct process proc;
	struct sampler s;
	double rate = DEFAULT_RATE;
	pid_t pid = -1;
	int status = 0, exited, ret, tree = 0, attached = 0;
	size_t i;
	const struct opt opts[] = {
		{ .name = "pid", .letter = 'p', .kind = OPT_PID, .dest = &pid, .arg = "PID",
		  .help = "the process to watch" },
		{ .name = "subprocesses", .letter = 's', .kind = OPT_FLAG, .dest = &tree, .ival = 1,
		  .help = "every Python process among its descendants too" },
		{ .name = "rate", .letter = 'r', .kind = OPT_NUM, .dest = &rate, .arg = "HZ",
		  .lo = 1, .hi = MAX_RATE, .help = "samples per second (default 100, at most 1000)" },
	};

	opt_parse(&top_cmd, opts, OPT_COUNT(opts), argc, argv);
	if (tree && !process_alive(pid))
		return cmd_report_error(GS_ENOPROC, pid, NULL);
	if (!tree) {
		status = cmd_attach(pid, &proc, &s);
		if (status)
			return status;
		attached = 1;
	}
	t = calloc(1, sizeof(*t));
	if (!t || window_start(&t->win[0], rate, &t->st)) {
		fprintf(stderr, "gilscope: out of memory\n");
		status = GS_EXIT_ERROR;
		goto out;
	}
	t->s = &s;
	t->pid = pid;
	t->rate = rate;
	t->tree = tree;
	if (tree)
		group_init(&t->g, pid);
	setlocale(LC_ALL, "");
	loop_install_signals();
	if (ui_start(&t->ui)) {
		fprintf(stderr, "gilscope top: cannot drive this terminal (TERM=%s)\n",
			getenv("TERM") ? getenv("TERM") : "(unset)");
		status = GS_EXIT_ERROR;
		goto out;
	}
	paint(t, NULL);

	/* the loop of every sampling command: its deadlines, its lag
	 * accounting; between samples, the view */
	memset(&lo, 0, sizeof(lo));
	lo.rate_hz = rate;
	lo.wait = top_wait;
	lo.wait_ctx = t;
	t->next_refresh = gs_now_ns() + REFRESH_NS;
	if (tree)
		ret = loop_run_group(&t->g, &lo, top_tree_sample, t, &t->st);
	else
		ret = loop_run(&s, &lo, top_sample, t, &t->st);
	if (ret)
		t->failed = 1;	/* out of memory for a new process's windows */
	exited = !t->quit && !t->failed && !loop_stop_requested() &&
		 (t->st.target_exited || t->st.target_execd);
	if (exited) {
		char msg[128];

		snprintf(msg, sizeof(msg), tree ? "process %d and its subprocesses exited; press any "
			 "key" : "process %d exited; press any key", (int)pid);
		paint(t, msg);
		nodelay(stdscr, FALSE);
		halfdelay(50);	/* at most 5 s, then give the terminal back */
		getch();
	}
	ui_stop(&t->ui);
	if (exited) {
		fprintf(stderr, tree ? "gilscope: process %d and its subprocesses exited\n" :
			"gilscope: process %d exited\n", (int)pid);
		status = GS_EXIT_EXITED;
	} else if (t->failed) {
		fprintf(stderr, "gilscope: out of memory\n");
		status = GS_EXIT_ERROR;
	}
out:
	if (t) {
		windows_release(t->win);
		free(t->now.v);
		for (i = 0; i < GROUP_MAX; i++)
			tproc_free(t->tp[i]);
		if (tree)
			group_release(&t->g);
		free(t);
	}
	if (attached) {
		sampler_release(&s);
		process_release(&proc);
	}
	return status;
}
