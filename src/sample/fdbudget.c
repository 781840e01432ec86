/*
 * fdbudget.c - see fdbudget.h.
 */
#include "fdbudget.h"

size_t fd_budget_room(uint64_t soft)
{
	if (soft <= FD_RESERVE)
		return 0;
	soft -= FD_RESERVE;
	return soft > (uint64_t)SIZE_MAX ? SIZE_MAX : (size_t)soft;
}

int fd_budget_fits(const struct fd_budget *b, size_t n, size_t reserve)
{
	size_t room = fd_budget_room(b->soft);

	return b->held <= room && n <= room - b->held && reserve <= room - b->held - n;
}

uint64_t fd_budget_ask(const struct fd_budget *b, size_t n, size_t reserve)
{
	uint64_t want, top;

	if (fd_budget_fits(b, n, reserve) || b->stuck)
		return 0;
	top = b->hard < FD_SOFT_MAX ? b->hard : FD_SOFT_MAX;
	want = (uint64_t)b->held + n + reserve + FD_RESERVE;
	want = (want + 1023) / 1024 * 1024;
	if (want > top)
		want = top;
	return want > b->soft ? want : 0;
}
