/* test_classify.c - the thread-state classifier on made-up kernel facts. */
#include "unit.h"
#include "../../src/sample/classify.h"

#include <string.h>
#include <sys/syscall.h>

static struct classify_in base(void)
{
	struct classify_in in;

	memset(&in, 0, sizeof(in));
	in.gil_enabled = 1;
	in.kstate = 'S';
	in.syscall_known = 1;
	in.syscall_nr = -1;
	in.gil_addr = 0x10000;
	in.gil_size = 208;
	in.ts_status = -1;
	return in;
}

static void t_classify_holder(struct unit *u)
{
	struct classify_in in = base();

	in.holds_gil = 1;
	in.kstate = 'R';
	in.syscall_running = 1;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_PYTHON);
	in.in_call = 1;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_NATIVE_GIL);
	/* at an operator, keeping the GIL past the switch interval while
	 * another thread waits: C code (a big-int multiplication) */
	in.in_call = 0;
	in.gil_overdue = 1;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_NATIVE_GIL);
	in.gil_overdue = 0;
	/* blocked in a read while holding the GIL: native code keeping it */
	in.in_call = 0;
	in.kstate = 'S';
	in.syscall_running = 0;
	in.syscall_nr = SYS_read;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_NATIVE_GIL);
}

static void t_classify_blocked(struct unit *u)
{
	struct classify_in in = base();
	const char *why = NULL;

	in.syscall_nr = SYS_futex;
	in.syscall_args[0] = 0x10000 + 40;	/* the GIL's cond */
	CHECK_EQ(u, classify_thread(&in, &why), ST_GIL_WAIT);
	CHECK_STREQ(u, why, "futex on the GIL");
	in.syscall_args[0] = 0x10000 + 208;	/* just past it */
	CHECK_EQ(u, classify_thread(&in, NULL), ST_LOCK_WAIT);
	in.syscall_args[0] = 0x10000 - 8;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_LOCK_WAIT);

	in.syscall_nr = SYS_clock_nanosleep;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_SLEEP);
	in.syscall_nr = SYS_recvfrom;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_IO);
	in.syscall_nr = SYS_epoll_pwait;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_IO);
	/* select(0, NULL, NULL, NULL, &tv): how 3.9/3.10 sleep */
	in.syscall_nr = SYS_pselect6;
	memset(in.syscall_args, 0, sizeof(in.syscall_args));
	in.syscall_args[4] = 0x7fff0000;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_SLEEP);
	in.syscall_args[0] = 5;
	in.syscall_args[1] = 0x7fff1000;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_IO);
	in.syscall_nr = SYS_ppoll;
	memset(in.syscall_args, 0, sizeof(in.syscall_args));
	CHECK_EQ(u, classify_thread(&in, NULL), ST_SLEEP);
	in.syscall_args[0] = 0x7fff0000;
	in.syscall_args[1] = 1;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_IO);
	/* an unknown syscall, and none at all */
	in.syscall_nr = SYS_getpid;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_OTHER);
	in.kstate = 'D';
	CHECK_EQ(u, classify_thread(&in, NULL), ST_IO);
	in.kstate = 'S';
	in.syscall_known = 0;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_OTHER);
}

static void t_classify_running_no_gil(struct unit *u)
{
	struct classify_in in = base();

	in.kstate = 'R';
	CHECK_EQ(u, classify_thread(&in, NULL), ST_NATIVE);
	/* at a call: the C function that let go of the GIL */
	in.in_call = 1;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_NATIVE);
	/* on CPU without the GIL at an operator: a waiter between two waits
	 * (the GIL changing hands), until it is seen to stay on CPU; then
	 * native code that let go of the GIL (a @ b on NumPy arrays) */
	in.in_call = 0;
	in.in_bytecode = 1;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_GIL_WAIT);
	in.stays_on_cpu = 1;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_NATIVE);
	in.stays_on_cpu = 0;
	/* 3.10+: the GIL never changes hands at an operator */
	in.at_operator = 1;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_NATIVE);
	in.at_operator = 0;
	in.in_bytecode = 0;
	/* the kernel said S but /proc/syscall caught it running */
	in.kstate = 'S';
	in.syscall_running = 1;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_NATIVE);
	in.kstate = 't';
	CHECK_EQ(u, classify_thread(&in, NULL), ST_OTHER);
}

static void t_classify_free_threaded(struct unit *u)
{
	struct classify_in in = base();

	in.gil_enabled = 0;
	in.kstate = 'R';
	in.ts_status = 1;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_PYTHON);
	in.in_call = 1;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_NATIVE);
	in.in_call = 0;
	in.ts_status = 0;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_NATIVE);
	in.ts_status = 2;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_OTHER);
	/* without a GIL a futex is never a GIL wait, even one "inside" it */
	in.ts_status = 0;
	in.kstate = 'S';
	in.syscall_nr = SYS_futex;
	in.syscall_args[0] = 0x10000;
	in.holds_gil = 0;
	CHECK_EQ(u, classify_thread(&in, NULL), ST_LOCK_WAIT);
}

static void t_state_names(struct unit *u)
{
	int i;

	for (i = 0; i < ST_COUNT; i++)
		CHECK_EQ(u, gs_state_from_name(gs_state_name((enum gs_state)i)), i);
	CHECK_EQ(u, gs_state_from_name("bogus"), (uint64_t)-1);
	CHECK_STREQ(u, gs_state_name(ST_GIL_WAIT), "gil_wait");
	CHECK_STREQ(u, syscall_name(SYS_futex), "futex");
	CHECK(u, syscall_name(SYS_getpid) == NULL);
}

/* Every state has all its words, a letter of its own and a colour
 * flamegraph.c can parse; the flags nest (on a CPU wants one, wanting one
 * is busy) and out-of-range values read as other. */
static void t_state_table(struct unit *u)
{
	int i, j, ok;

	for (i = 0; i < ST_COUNT; i++) {
		const struct gs_state_info *si = gs_state_info((enum gs_state)i);

		CHECK(u, si->name && si->name[0] && si->label && si->label[0] == '[' &&
			 si->key && si->key[0] && si->letter > ' ');
		ok = si->color && strlen(si->color) == 7 && si->color[0] == '#';
		for (j = 1; ok && j < 7; j++)
			ok = (si->color[j] >= '0' && si->color[j] <= '9') ||
			     (si->color[j] >= 'a' && si->color[j] <= 'f');
		CHECK(u, ok);
		CHECK(u, si->term_color >= -1 && si->term_color <= 7);
		CHECK(u, !(si->flags & GS_ON_CPU) || (si->flags & GS_WANTS_CPU));
		CHECK(u, !(si->flags & GS_WANTS_CPU) || (si->flags & GS_BUSY));
		for (j = 0; j < i; j++)
			CHECK(u, gs_state_info((enum gs_state)j)->letter != si->letter);
	}
	CHECK(u, gs_state_info((enum gs_state)ST_COUNT) == gs_state_info(ST_OTHER));
	CHECK(u, gs_state_info(ST_GIL_WAIT)->flags == (GS_BUSY | GS_WANTS_CPU));
}

UNIT_SUITE(classify)
{
	UNIT_RUN(u, t_classify_holder);
	UNIT_RUN(u, t_classify_blocked);
	UNIT_RUN(u, t_classify_running_no_gil);
	UNIT_RUN(u, t_classify_free_threaded);
	UNIT_RUN(u, t_state_names);
	UNIT_RUN(u, t_state_table);
}
