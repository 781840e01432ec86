/*
 * classify.h - the state of one thread at one instant (DESIGN.md section 1),
 * decided from what the kernel says about the thread and what the
 * interpreter says about the GIL. Pure: unit-tested on made-up inputs.
 */
#ifndef GS_CLASSIFY_H
#define GS_CLASSIFY_H

#include <stdint.h>

#include "states.h"

/* What classification looks at. */
struct classify_in {
	int gil_enabled;	/* the interpreter has a GIL right now */
	int holds_gil;		/* this thread is the holder */
	char kstate;		/* /proc stat state letter */
	int syscall_known;	/* the fields below were read */
	int syscall_running;	/* /proc syscall said "running" */
	long syscall_nr;	/* -1: blocked outside a syscall */
	uint64_t syscall_args[6];
	uint64_t gil_addr, gil_size;	/* futexes in this range are the GIL's */
	int in_call;		/* innermost frame is on a call opcode */
	int in_bytecode;	/* innermost frame read, and not on a call opcode */
	/* ... on an operator where the eval loop never hands the GIL over:
	 * without the GIL, the thread is in the C code the operator reached */
	int at_operator;
	/* The GIL has not changed hands while another thread waited for it
	 * longer than the switch interval (and a margin): its holder is not
	 * running bytecode, which would have handed it over. */
	int gil_overdue;
	/* On CPU without the GIL, and known to have stayed on CPU at the same
	 * instruction (no voluntary switch, running) for longer than a GIL
	 * waiter would: native code that let go of the GIL. */
	int stays_on_cpu;
	int ts_status;		/* 3.13+: 0 detached, 1 attached, 2 suspended; -1 */
};

/* Also says why, for --verbose and the JSON "detail" field. */
enum gs_state classify_thread(const struct classify_in *in, const char **detail);

/* Kind of blocking system call, by number (host architecture). */
enum syscall_kind {
	SC_OTHER,
	SC_FUTEX,
	SC_IO,
	SC_SLEEP,
	SC_POLL_SLEEP,	/* select/poll family: a sleep when given no fds */
};
enum syscall_kind syscall_kind_of(long nr);
const char *syscall_name(long nr);

#endif
