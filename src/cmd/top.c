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
#include "../analyze/verdict.h"
#include "../report/top.h"
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
	"usage: gilscope top --pid PID [--rate HZ]\n"
	"\n"
	"A live view of a Python process, refreshed every second: each thread's\n"
	"state now and over the last two seconds, GIL use and contention, the\n"
	"hottest functions, and the verdict. q quits. Needs a terminal.\n",
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

static void draw(struct ui *ui, struct window *w, const struct nowtab *now, pid_t pid,
		 const struct sampler *s, double rate, const struct loop_stats *st,
		 const char *message)
{
	struct top_info info;
	struct verdict v;
	struct agg *a = &w->agg;

	a->free_threaded = s->model.free_threaded;
	/* what agg_finish would say, without closing the window */
	a->duration_s = a->samples ? (double)(a->t_last - a->t_first) / 1e9 + 1.0 / rate : 0;
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
};

static int top_sample(void *ctx, const struct sample *smp)
{
	struct top *t = ctx;
	int i;

	for (i = 0; i < 2; i++)
		if (t->win[i].live)
			agg_add_sample(&t->win[i].agg, smp);	/* full: the window is
					cut short, and restarts within 1 s */
	nowtab_set(&t->now, smp);
	return 0;
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
			struct window *o = older(t->win);

			draw(&t->ui, o, &t->now, t->pid, t->s, t->rate, &t->st, NULL);
			/* the older window starts again and the younger becomes
			 * the older; at the first refresh, the second starts */
			if (window_start(t->win[0].live && t->win[1].live ? o : &t->win[1], t->rate,
					 &t->st)) {
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
		}
		if (t->quit || loop_stop_requested())
			return 1;
		if (redraw)
			draw(&t->ui, older(t->win), &t->now, t->pid, t->s, t->rate, &t->st, NULL);
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
	int status = 0, exited, ret, i;
	const struct opt opts[] = {
		{ .name = "pid", .letter = 'p', .kind = OPT_PID, .dest = &pid, .arg = "PID",
		  .help = "the process to watch" },
		{ .name = "rate", .letter = 'r', .kind = OPT_NUM, .dest = &rate, .arg = "HZ",
		  .lo = 1, .hi = MAX_RATE, .help = "samples per second (default 100, at most 1000)" },
	};

	opt_parse(&top_cmd, opts, OPT_COUNT(opts), argc, argv);
	status = cmd_attach(pid, &proc, &s);
	if (status)
		return status;
	t = calloc(1, sizeof(*t));
	if (!t || window_start(&t->win[0], rate, &t->st)) {
		fprintf(stderr, "gilscope: out of memory\n");
		status = GS_EXIT_ERROR;
		goto out;
	}
	t->s = &s;
	t->pid = pid;
	t->rate = rate;
	setlocale(LC_ALL, "");
	loop_install_signals();
	if (ui_start(&t->ui)) {
		fprintf(stderr, "gilscope top: cannot drive this terminal (TERM=%s)\n",
			getenv("TERM") ? getenv("TERM") : "(unset)");
		status = GS_EXIT_ERROR;
		goto out;
	}
	draw(&t->ui, &t->win[0], &t->now, pid, &s, rate, &t->st, NULL);

	/* the loop of every sampling command: its deadlines, its lag
	 * accounting; between samples, the view */
	memset(&lo, 0, sizeof(lo));
	lo.rate_hz = rate;
	lo.wait = top_wait;
	lo.wait_ctx = t;
	t->next_refresh = gs_now_ns() + REFRESH_NS;
	ret = loop_run(&s, &lo, top_sample, t, &t->st);
	exited = !ret && !t->quit && !t->failed && !loop_stop_requested() &&
		 (t->st.target_exited || t->st.target_execd);
	if (exited) {
		char msg[96];

		snprintf(msg, sizeof(msg), "process %d exited; press any key", (int)pid);
		draw(&t->ui, older(t->win), &t->now, pid, &s, rate, &t->st, msg);
		nodelay(stdscr, FALSE);
		halfdelay(50);	/* at most 5 s, then give the terminal back */
		getch();
	}
	ui_stop(&t->ui);
	if (exited) {
		fprintf(stderr, "gilscope: process %d exited\n", (int)pid);
		status = GS_EXIT_EXITED;
	} else if (t->failed) {
		fprintf(stderr, "gilscope: out of memory\n");
		status = GS_EXIT_ERROR;
	}
out:
	if (t) {
		for (i = 0; i < 2; i++)
			if (t->win[i].live)
				agg_release(&t->win[i].agg);
		free(t->now.v);
		free(t);
	}
	sampler_release(&s);
	process_release(&proc);
	return status;
}
