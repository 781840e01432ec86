/* test_group.c - a process tree's members: forgetting one (top drops the
 * processes that ended) keeps the others in order. */
#include "unit.h"
#include "../../src/sample/group.h"

#include <stdlib.h>

static void t_group_forget(struct unit *u)
{
	struct group g;
	size_t i;

	group_init(&g, 100);
	for (i = 0; i < 4; i++) {
		g.m[i] = calloc(1, sizeof(*g.m[i]));
		CHECK(u, g.m[i] != NULL);
		if (!g.m[i])
			return;
		g.m[i]->pid = (pid_t)(100 + i);	/* not sampled: nothing attached */
		g.n++;
	}
	group_forget(&g, 1);
	CHECK_EQ(u, g.n, 3);
	CHECK_EQ(u, g.m[0]->pid, 100);
	CHECK_EQ(u, g.m[1]->pid, 102);
	CHECK_EQ(u, g.m[2]->pid, 103);
	CHECK(u, g.m[3] == NULL);
	group_forget(&g, 2);	/* the last */
	CHECK_EQ(u, g.n, 2);
	CHECK(u, g.m[2] == NULL);
	group_forget(&g, 7);	/* none such: nothing happens */
	CHECK_EQ(u, g.n, 2);
	CHECK_EQ(u, g.m[1]->pid, 102);
	group_release(&g);	/* frees the rest (ASan: no leak) */
}

UNIT_SUITE(group)
{
	UNIT_RUN(u, t_group_forget);
}
