/* test_launch.c - which processes belong to a launched program
 * (launch_tree_mark), and signal names. */
#include "unit.h"
#include "../../src/target/launch.h"

#include <signal.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* gilscope is 100, launched 200; init 1 */
static const struct ptree_proc table[] = {
	{ 1, 0, 1, 'S', 0 },
	{ 50, 1, 50, 'S', 0 },		/* the shell that started gilscope */
	{ 100, 50, 100, 'S', 10 },	/* gilscope */
	{ 90, 100, 90, 'S', 5 },	/* ours from before our exec */
	{ 91, 90, 90, 'S', 20 },	/* ... and what it started */
	{ 200, 100, 100, 'S', 11 },	/* the program */
	{ 210, 200, 100, 'S', 12 },	/* its worker */
	{ 211, 210, 100, 'Z', 13 },	/* the worker's dead child */
	{ 220, 100, 220, 'S', 14 },	/* an orphan of the program, reparented to us, own group */
	{ 221, 220, 220, 'R', 15 },	/* its child */
	{ 300, 1, 300, 'S', 16 },	/* unrelated */
	{ 301, 300, 300, 'S', 17 },	/* unrelated */
};

static int marked(const unsigned char *in, pid_t pid)
{
	size_t i;

	for (i = 0; i < N(table); i++)
		if (table[i].pid == pid)
			return in[i];
	return -1;
}

static void t_tree(struct unit *u)
{
	unsigned char in[N(table)];
	const pid_t before[] = { 90 };
	long n;

	n = launch_tree_mark(table, N(table), 200, 100, before, 1, 0, in);
	CHECK_EQ(u, n, 5);
	CHECK_EQ(u, marked(in, 200), 1);
	CHECK_EQ(u, marked(in, 210), 1);
	CHECK_EQ(u, marked(in, 211), 1);
	CHECK_EQ(u, marked(in, 220), 1);
	CHECK_EQ(u, marked(in, 221), 1);
	CHECK_EQ(u, marked(in, 100), 0);	/* never ourselves */
	CHECK_EQ(u, marked(in, 90), 0);
	CHECK_EQ(u, marked(in, 91), 0);
	CHECK_EQ(u, marked(in, 50), 0);
	CHECK_EQ(u, marked(in, 1), 0);
	CHECK_EQ(u, marked(in, 300), 0);
	CHECK_EQ(u, marked(in, 301), 0);

	/* children from before we cannot list: adopt no orphan */
	n = launch_tree_mark(table, N(table), 200, 100, NULL, 0, 1, in);
	CHECK_EQ(u, n, 3);
	CHECK_EQ(u, marked(in, 220), 0);
	CHECK_EQ(u, marked(in, 90), 0);

	/* without the list, every child of ours is taken */
	n = launch_tree_mark(table, N(table), 200, 100, NULL, 0, 0, in);
	CHECK_EQ(u, n, 7);
	CHECK_EQ(u, marked(in, 91), 1);

	/* the program already reaped, its worker reparented to us: the
	 * orphans are still found */
	{
		struct ptree_proc t2[N(table)];
		unsigned char in2[N(table)];
		size_t i, k = 0;

		for (i = 0; i < N(table); i++) {
			if (table[i].pid == 200)
				continue;
			t2[k] = table[i];
			if (t2[k].pid == 210)
				t2[k].ppid = 100;
			k++;
		}
		n = launch_tree_mark(t2, k, 200, 100, before, 1, 0, in2);
		CHECK_EQ(u, n, 4);
		for (i = 0; i < k; i++)
			CHECK_EQ(u, in2[i], t2[i].pid >= 210 && t2[i].pid <= 221);
	}

	CHECK_EQ(u, launch_tree_mark(table, 0, 200, 100, NULL, 0, 0, in), 0);
}

static void t_tree_loop(struct unit *u)
{
	/* a table that is not a tree (pids reused between reads): each
	 * process is marked once, and the walk ends */
	static const struct ptree_proc loop[] = {
		{ 5, 7, 5, 'S', 0 },
		{ 6, 5, 5, 'S', 0 },
		{ 7, 6, 5, 'S', 0 },
		{ 8, 8, 8, 'S', 0 },	/* its own parent */
	};
	unsigned char in[N(loop)];

	CHECK_EQ(u, launch_tree_mark(loop, N(loop), 5, 1, NULL, 0, 0, in), 3);
	CHECK_EQ(u, launch_tree_mark(loop, N(loop), 8, 1, NULL, 0, 0, in), 1);
}

static void t_signal_names(struct unit *u)
{
	CHECK_STREQ(u, launch_signal_name(SIGINT), "SIGINT");
	CHECK_STREQ(u, launch_signal_name(SIGTERM), "SIGTERM");
	CHECK_STREQ(u, launch_signal_name(SIGKILL), "SIGKILL");
	CHECK_STREQ(u, launch_signal_name(63), "signal 63");
	{
		/* kept by the caller: a second name leaves the first alone */
		const char *a = launch_signal_name(40), *b = launch_signal_name(41);

		CHECK_STREQ(u, a, "signal 40");
		CHECK_STREQ(u, b, "signal 41");
		CHECK(u, launch_signal_name(-1) != NULL && launch_signal_name(200) != NULL);
	}
}

/* A process's tree (--subprocesses): the root and what descends from it,
 * gilscope and its own children left out; a process found by pid. */
static void t_ptree_tree(struct unit *u)
{
	/* the table in pid order, as /proc lists it */
	struct ptree_proc t[] = {
		{ 1, 0, 1, 'S', 0 }, { 50, 1, 50, 'S', 1 }, { 100, 50, 100, 'S', 2 },
		{ 120, 100, 100, 'S', 3 }, { 200, 50, 200, 'S', 4 }, { 210, 200, 200, 'S', 5 },
		{ 211, 210, 200, 'Z', 6 }, { 300, 1, 300, 'S', 7 },
	};
	unsigned char in[N(t)];
	struct ptree pt = { 0 };

	pt.t = t;
	pt.n = N(t);
	pt.in = in;
	/* the shell 50: its children 100 (gilscope, left out with its child
	 * 120) and 200, 200's 210 and 211 */
	CHECK_EQ(u, ptree_mark_tree(&pt, 50, 100), 4);
	CHECK(u, in[1] && !in[2] && !in[3] && in[4] && in[5] && in[6] && !in[7] && !in[0]);
	CHECK_EQ(u, ptree_mark_tree(&pt, 999, 100), 0);
	CHECK(u, ptree_find(&pt, 210) == &t[5]);
	CHECK(u, ptree_find(&pt, 1) == &t[0]);
	CHECK(u, ptree_find(&pt, 300) == &t[7]);
	CHECK(u, ptree_find(&pt, 205) == NULL);
	CHECK(u, ptree_find(&pt, 0) == NULL && ptree_find(&pt, 400) == NULL);
	pt.n = 0;
	CHECK(u, ptree_find(&pt, 1) == NULL);
	CHECK_EQ(u, ptree_mark_tree(&pt, 1, 100), 0);
}

UNIT_SUITE(launch)
{
	UNIT_RUN(u, t_tree);
	UNIT_RUN(u, t_tree_loop);
	UNIT_RUN(u, t_ptree_tree);
	UNIT_RUN(u, t_signal_names);
}
