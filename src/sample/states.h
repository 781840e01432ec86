/*
 * states.h - the thread states of DESIGN.md section 1 and everything every
 * layer says about them, in one table: the name in JSON and text, the label
 * of a stack's state leaf, the letter and word of the state bars, the
 * colours, and which states count as busy, as wanting a CPU and as on a
 * CPU. Adding a state means adding one enum value and one row.
 */
#ifndef GS_STATES_H
#define GS_STATES_H

enum gs_state {
	ST_PYTHON,	/* holds the GIL, runs bytecode */
	ST_NATIVE_GIL,	/* holds the GIL inside native code */
	ST_NATIVE,	/* runs native code without the GIL */
	ST_GIL_WAIT,	/* blocked waiting for the GIL */
	ST_IO,		/* blocked in an I/O system call */
	ST_SLEEP,	/* in a sleep */
	ST_LOCK_WAIT,	/* blocked on a lock/condition that is not the GIL */
	ST_OTHER,
	ST_COUNT
};

struct gs_state_info {
	const char *name;	/* JSON keys and text reports: "gil_wait" */
	const char *label;	/* a stack's state leaf: "[waiting for the GIL]" */
	const char *key;	/* the word for its letter in a bar legend: "GIL wait" */
	char letter;		/* a cell of a state bar: 'W' */
	const char *color;	/* "#rrggbb" (lower case): flame graph fills, legend */
	/* top's colour: an ANSI colour number 0-7 (the values of curses'
	 * COLOR_*), or -1 for none, shown dimmed */
	int term_color;
	unsigned flags;		/* enum gs_state_flag */
};

enum gs_state_flag {
	/* A thread is busy when at least half of its samples are in busy
	 * states: only busy threads vote in the verdict (analyze/verdict.c),
	 * and top lists the hottest functions of the busy states. */
	GS_BUSY = 1,
	GS_WANTS_CPU = 2,	/* on a CPU, or waiting for the GIL to run */
	GS_ON_CPU = 4,		/* running: Python or native code */
};

/* The row of s; a value out of range gets ST_OTHER's. */
const struct gs_state_info *gs_state_info(enum gs_state s);
/* gs_state_info(s)->name */
const char *gs_state_name(enum gs_state s);
/* Inverse of gs_state_name; -1 if unknown. */
int gs_state_from_name(const char *name);

#endif
