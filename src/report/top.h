/*
 * top.h - the screen of `gilscope top`, laid out as text: one line per
 * screen row, each byte with a display attribute (a state's colour, bold,
 * the title bar). Pure: the command draws it with ncurses; the unit tests
 * read it as text. Lines never exceed the screen width (in display
 * columns); what does not fit is cut, rows that do not fit are dropped with
 * a "... N more threads" line (a tree's list of processes scrolls instead).
 *
 * Ownership: struct top_screen owns its lines (top_screen_init allocates,
 * top_screen_release frees). report_top() only reads the aggregates.
 */
#ifndef GS_REPORT_TOP_H
#define GS_REPORT_TOP_H

#include <stddef.h>
#include <stdint.h>

#include "../analyze/agg.h"
#include "../analyze/program.h"
#include "../analyze/verdict.h"
#include "../util/strbuf.h"

#define TOP_MAX_COLS 512
#define TOP_MAX_ROWS 256
#define TOP_LINE_BYTES (TOP_MAX_COLS * 4 + 1)

enum top_attr {
	TA_NORMAL,
	TA_TITLE,	/* the title bar */
	TA_BOLD,
	TA_DIM,
	TA_HEAD,	/* column headings */
	TA_STATE,	/* TA_STATE + enum gs_state: that state's colour */
	TA_CELL = TA_STATE + ST_COUNT,	/* TA_CELL + state: a bar cell of it */
	TA_COUNT = TA_CELL + ST_COUNT
};

struct top_line {
	char text[TOP_LINE_BYTES];	/* UTF-8, NUL-terminated */
	uint8_t attr[TOP_LINE_BYTES];	/* enum top_attr of each byte */
	size_t len;
	int cols;			/* display columns used */
};

struct top_screen {
	int cols, rows;
	struct top_line *lines;
};

/* What the latest sample said about a thread (the NOW column). */
struct top_now {
	int32_t tid;
	uint8_t state;		/* enum gs_state */
	uint8_t holds_gil;
};

struct top_info {
	int pid;
	const char *version;
	int free_threaded;
	int gil_enabled;		/* as of the latest sample */
	double rate_hz;
	const struct top_now *now;	/* threads of the latest sample */
	size_t nnow;
	uint64_t lost;			/* samples lost to torn reads, this window */
	uint64_t missed;		/* deadlines missed, this window */
	const char *message;		/* shown in the bottom line, or NULL */
};

/* One process of a tree (top --subprocesses), over its own window. */
struct top_proc {
	int pid, ppid;
	const char *command;		/* its command line, printable */
	const char *version;
	int free_threaded;
	int gone;			/* exited: what it did before is shown */
	const struct agg *a;		/* its window (a->duration_s its length) */
	const struct verdict *v;	/* decided over a */
	const struct top_now *now;	/* its threads in its latest sample */
	size_t nnow;
};

/* A tree: its Python processes, in the order shown (the root's tree from
 * the top: the caller sorts), and the program's verdict over them. */
struct top_tree {
	const struct top_proc *procs;
	size_t n;
	size_t others;			/* processes of the tree that are not Python */
	size_t unreadable;		/* ... that could not be read (permission,
					 * a Python gilscope cannot read) */
	size_t dropped;			/* processes past what gilscope keeps */
	const struct program_verdict *pv;
	/* in: rows of the process list scrolled past, as asked; out: as
	 * shown (clamped to what there is) */
	int *scroll;
};

/* cols and rows are clamped to [1, TOP_MAX_*]. Returns 0 or GS_ENOMEM. */
int top_screen_init(struct top_screen *s, int cols, int rows);
void top_screen_release(struct top_screen *s);

/* Lay out the screen from the aggregates of the window (a, with v decided
 * over it; a->duration_s is the window's length). */
void report_top(struct top_screen *s, const struct top_info *info, const struct agg *a,
		const struct verdict *v);

/* The same screen for a tree: the program's figures and verdict, then
 * each process (a line: pid, ppid, its verdict, GIL figures, command)
 * with its threads under it, scrolled by *t->scroll rows. info->pid is
 * the root's; info->now, version, free_threaded and gil_enabled are not
 * used (each process has its own). */
void report_top_tree(struct top_screen *s, const struct top_info *info, const struct top_tree *t);

/* The screen as plain text, one '\n'-terminated line per row, trailing
 * blanks removed (tests). */
void top_screen_text(const struct top_screen *s, struct strbuf *sb);

#endif
