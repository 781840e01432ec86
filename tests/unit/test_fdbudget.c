/*
 * test_fdbudget.c - how many /proc files the sampler keeps open, and when
 * it asks for a higher open-file limit (src/sample/fdbudget.c).
 */
#include "unit.h"
#include "../../src/sample/fdbudget.h"

#include <stdint.h>

static struct fd_budget budget(uint64_t soft, uint64_t hard, size_t held)
{
	struct fd_budget b = { soft, hard, held, 0 };

	return b;
}

static void t_fdbudget_room(struct unit *u)
{
	CHECK_EQ(u, fd_budget_room(0), 0);
	CHECK_EQ(u, fd_budget_room(FD_RESERVE), 0);
	CHECK_EQ(u, fd_budget_room(1024), 1024 - FD_RESERVE);
	CHECK_EQ(u, fd_budget_room(UINT64_MAX) > 1000000, 1);
}

static void t_fdbudget_fits(struct unit *u)
{
	struct fd_budget b = budget(1024, 1024, 0);
	size_t room = 1024 - FD_RESERVE;

	CHECK(u, fd_budget_fits(&b, 1, 0));
	CHECK(u, fd_budget_fits(&b, room, 0));
	CHECK(u, !fd_budget_fits(&b, room + 1, 0));
	/* the schedstat files of threads that have none come first */
	CHECK(u, fd_budget_fits(&b, 1, room - 1));
	CHECK(u, !fd_budget_fits(&b, 1, room));
	b.held = room;
	CHECK(u, !fd_budget_fits(&b, 1, 0));
	CHECK(u, fd_budget_fits(&b, 0, 0));
	/* more held than the room (the limit was lowered under us): nothing
	 * more, and no wrap-around */
	b.held = room + 10;
	CHECK(u, !fd_budget_fits(&b, 0, 0));
	CHECK(u, !fd_budget_fits(&b, 1, 0));
	CHECK(u, !fd_budget_fits(&b, SIZE_MAX, SIZE_MAX));
	b = budget(1024, 1024, 10);
	CHECK(u, !fd_budget_fits(&b, SIZE_MAX, 0));
	CHECK(u, !fd_budget_fits(&b, 1, SIZE_MAX));
}

static void t_fdbudget_ask(struct unit *u)
{
	struct fd_budget b = budget(1024, 20000, 0);

	/* fits: ask nothing */
	CHECK_EQ(u, fd_budget_ask(&b, 10, 0), 0);
	/* 2,000 threads' schedstat: the next step of 1024 above what they need */
	b.held = 1024 - FD_RESERVE;
	CHECK_EQ(u, fd_budget_ask(&b, 1, 999), 2048);
	CHECK(u, fd_budget_ask(&b, 1, 999) >= (uint64_t)b.held + 1 + 999 + FD_RESERVE);
	/* never past the hard limit, and nothing when that is reached */
	b.held = 19000;
	b.soft = 19500;
	CHECK_EQ(u, fd_budget_ask(&b, 1000, 0), 20000);
	b.soft = 20000;
	CHECK_EQ(u, fd_budget_ask(&b, 1000, 0), 0);
	/* an unlimited hard limit: at most FD_SOFT_MAX */
	b = budget(1024, UINT64_MAX, 60000);
	CHECK_EQ(u, fd_budget_ask(&b, 10000, 0), FD_SOFT_MAX);
	/* a soft limit of 256 and a hard one as low: degrade, never ask */
	b = budget(256, 256, 256 - FD_RESERVE);
	CHECK_EQ(u, fd_budget_ask(&b, 1, 0), 0);
	CHECK(u, !fd_budget_fits(&b, 1, 0));
	/* a failed attempt is not repeated */
	b = budget(1024, 20000, 1024 - FD_RESERVE);
	b.stuck = 1;
	CHECK_EQ(u, fd_budget_ask(&b, 1, 0), 0);
}

UNIT_SUITE(fdbudget)
{
	UNIT_RUN(u, t_fdbudget_room);
	UNIT_RUN(u, t_fdbudget_fits);
	UNIT_RUN(u, t_fdbudget_ask);
}
