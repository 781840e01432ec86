/*
 * classify.c - one thread's state from kernel and interpreter facts.
 *
 * The GIL holder comes from the interpreter (locked + last_holder). For the
 * others the kernel decides: on CPU means native code (a thread without
 * the GIL cannot run bytecode, and one waiting for it sleeps); blocked
 * means whatever it is blocked in. A
 * futex whose address lies inside the GIL structure is a wait for the GIL:
 * take_gil() waits on the GIL's own condition variable and mutex, and
 * drop_gil() of a forced switch waits on switch_cond, also inside it.
 */
#include "classify.h"

#include <stddef.h>
#include <sys/syscall.h>

struct sc_entry {
	long nr;
	const char *name;
	enum syscall_kind kind;
};

#define SC(n, k) { SYS_##n, #n, k }
static const struct sc_entry sc_table[] = {
	SC(futex, SC_FUTEX),
#ifdef SYS_futex_waitv
	SC(futex_waitv, SC_FUTEX),
#endif
	SC(nanosleep, SC_SLEEP),
	SC(clock_nanosleep, SC_SLEEP),
#ifdef SYS_select
	SC(select, SC_POLL_SLEEP),
#endif
	SC(pselect6, SC_POLL_SLEEP),
#ifdef SYS_poll
	SC(poll, SC_POLL_SLEEP),
#endif
	SC(ppoll, SC_POLL_SLEEP),
	SC(read, SC_IO), SC(write, SC_IO), SC(readv, SC_IO), SC(writev, SC_IO),
	SC(pread64, SC_IO), SC(pwrite64, SC_IO), SC(preadv, SC_IO), SC(pwritev, SC_IO),
	SC(recvfrom, SC_IO), SC(recvmsg, SC_IO), SC(recvmmsg, SC_IO),
	SC(sendto, SC_IO), SC(sendmsg, SC_IO), SC(sendmmsg, SC_IO),
	SC(accept, SC_IO), SC(accept4, SC_IO), SC(connect, SC_IO),
#ifdef SYS_epoll_wait
	SC(epoll_wait, SC_IO),
#endif
	SC(epoll_pwait, SC_IO),
#ifdef SYS_epoll_pwait2
	SC(epoll_pwait2, SC_IO),
#endif
	SC(wait4, SC_IO), SC(waitid, SC_IO),
	SC(openat, SC_IO), SC(fsync, SC_IO), SC(fdatasync, SC_IO),
	SC(sendfile, SC_IO), SC(splice, SC_IO), SC(flock, SC_IO),
	SC(io_getevents, SC_IO),
#ifdef SYS_io_uring_enter
	SC(io_uring_enter, SC_IO),
#endif
	SC(msgrcv, SC_IO), SC(mq_timedreceive, SC_IO),
	SC(copy_file_range, SC_IO),
};

static const struct sc_entry *sc_find(long nr)
{
	size_t i;

	for (i = 0; i < sizeof(sc_table) / sizeof(sc_table[0]); i++)
		if (sc_table[i].nr == nr)
			return &sc_table[i];
	return NULL;
}

enum syscall_kind syscall_kind_of(long nr)
{
	const struct sc_entry *e = sc_find(nr);

	return e ? e->kind : SC_OTHER;
}

const char *syscall_name(long nr)
{
	const struct sc_entry *e = sc_find(nr);

	return e ? e->name : NULL;
}

/* select(0, NULL, NULL, NULL, &tv) and poll(NULL, 0, ms) are how older
 * Pythons (and plenty of C code) sleep. */
static int poll_is_sleep(const struct classify_in *in)
{
	const uint64_t *a = in->syscall_args;

#ifdef SYS_select
	if (in->syscall_nr == SYS_select)
		return a[0] == 0 || (!a[1] && !a[2] && !a[3]);
#endif
	if (in->syscall_nr == SYS_pselect6)
		return a[0] == 0 || (!a[1] && !a[2] && !a[3]);
	/* poll / ppoll: (fds, nfds, ...) */
	return a[1] == 0;
}

static enum gs_state blocked_state(const struct classify_in *in, const char **detail)
{
	if (!in->syscall_known) {
		*detail = "blocked, system call unknown";
		return in->kstate == 'D' ? ST_IO : ST_OTHER;
	}
	if (in->syscall_nr < 0) {
		*detail = "blocked outside a system call";
		return in->kstate == 'D' ? ST_IO : ST_OTHER;
	}
	switch (syscall_kind_of(in->syscall_nr)) {
	case SC_FUTEX:
		if (in->gil_enabled && in->gil_size && in->syscall_args[0] >= in->gil_addr &&
		    in->syscall_args[0] < in->gil_addr + in->gil_size) {
			*detail = "futex on the GIL";
			return ST_GIL_WAIT;
		}
		*detail = "futex";
		return ST_LOCK_WAIT;
	case SC_SLEEP:
		*detail = syscall_name(in->syscall_nr);
		return ST_SLEEP;
	case SC_POLL_SLEEP:
		*detail = syscall_name(in->syscall_nr);
		return poll_is_sleep(in) ? ST_SLEEP : ST_IO;
	case SC_IO:
		*detail = syscall_name(in->syscall_nr);
		return ST_IO;
	case SC_OTHER:
		break;
	}
	*detail = "other system call";
	return in->kstate == 'D' ? ST_IO : ST_OTHER;
}

enum gs_state classify_thread(const struct classify_in *in, const char **detail)
{
	int on_cpu = in->kstate == 'R' || (in->syscall_known && in->syscall_running);
	const char *dummy;

	if (!detail)
		detail = &dummy;
	*detail = "";
	if (in->kstate == 'T' || in->kstate == 't') {
		*detail = "stopped (signal or debugger)";
		return ST_OTHER;
	}
	if (in->kstate == 'Z' || in->kstate == 'X') {
		*detail = "exiting";
		return ST_OTHER;
	}
	if (in->gil_enabled) {
		if (in->holds_gil) {
			if (on_cpu) {
				if (in->in_call) {
					*detail = "in a call";
					return ST_NATIVE_GIL;
				}
				/* Bytecode hands the GIL over within the switch
				 * interval of a waiter asking for it; a holder
				 * that keeps it far longer is in C reached
				 * without a call (an operator, a subscript, a C
				 * iterator, ...). */
				if (in->gil_overdue) {
					*detail = "holds the GIL past the switch interval while others wait: in C";
					return ST_NATIVE_GIL;
				}
				*detail = "bytecode";
				return ST_PYTHON;
			}
			/* blocked while holding the GIL: native code that did
			 * not release it, and every other thread waits */
			*detail = "blocked while holding the GIL";
			return ST_NATIVE_GIL;
		}
		if (on_cpu) {
			/* Bytecode cannot run without the GIL: this is C code
			 * that let go of it (a call, or an operator such as
			 * NumPy's a @ b), or a waiter between two waits: one
			 * that woke to ask for the GIL, or was handed it and
			 * waits for a CPU. A waiter goes back to sleep in a
			 * futex within the switch interval; C code stays.
			 * From 3.10 on the GIL changes hands only at jumps,
			 * calls and function entry: at an operator it is C
			 * code at once. At a call it is the call's C code (a
			 * single dump has nothing later to tell it by); the
			 * sampler still counts it as a waiter that may have
			 * dropped the GIL as the call returned (gil_waiter). */
			if (!in->in_bytecode || in->stays_on_cpu || in->at_operator) {
				*detail = "on CPU without the GIL";
				return ST_NATIVE;
			}
			*detail = "on CPU without the GIL, taking or handing over the GIL";
			return ST_GIL_WAIT;
		}
		return blocked_state(in, detail);
	}
	/* no GIL (free-threaded build with the GIL off) */
	if (in->ts_status == 2) {
		*detail = "suspended (stop-the-world)";
		return ST_OTHER;
	}
	if (on_cpu) {
		if (in->ts_status == 1 && !in->in_call) {
			*detail = "attached, bytecode";
			return ST_PYTHON;
		}
		*detail = in->ts_status == 1 ? "attached, in a call" : "detached, on CPU";
		return ST_NATIVE;
	}
	return blocked_state(in, detail);
}
