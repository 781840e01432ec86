/*
 * base.c - where a thread's stack walks end (see base.h).
 */
#include "base.h"

#include <string.h>

static void drop_cand(struct base_track *b)
{
	b->cand = 0;
	memset(&b->ref, 0, sizeof(b->ref));
	b->slept = 0;
	b->blind = 0;
}

/* Has the thread run since its reference was taken? */
static int got_on(const struct base_track *b, const struct base_clock *now)
{
	if (b->slept || b->blind)
		return 1;
	return b->ref.known && now && now->known &&
	       (now->run != b->ref.run || now->slices != b->ref.slices);
}

enum base_says base_judge(struct base_track *b, uint64_t end, const struct base_clock *before)
{
	if (b->base && end == b->base) {
		drop_cand(b);
		return BASE_WHOLE;
	}
	/* nothing to compare with (its first walk, or the first with frames
	 * after none): taken as it is, but for a walk without frames, which
	 * must be read again alike (a read that raced the thread, through a
	 * link of a call that had returned, does not end twice alike) */
	if ((!b->base || b->base == BASE_NO_FRAMES) &&
	    (end != BASE_NO_FRAMES || end == b->cand)) {
		b->base = end;
		drop_cand(b);
		return BASE_WHOLE;
	}
	if (b->base && b->base != BASE_NO_FRAMES && end == b->cand && got_on(b, before)) {
		b->base = end;
		drop_cand(b);
		return BASE_WHOLE;
	}
	if (end != b->cand) {
		drop_cand(b);
		b->cand = end;
	}
	return BASE_TORN;
}

int base_wants_clock(const struct base_track *b)
{
	return b->cand && b->ref.known && !b->slept && !b->blind;
}

int base_wants_ref(const struct base_track *b)
{
	return b->cand && !b->ref.known && !b->slept && !b->blind;
}

void base_after(struct base_track *b, const struct base_clock *after, char kstate)
{
	if (!b->cand)
		return;
	if (kstate == 'S' || kstate == 'D') {
		b->slept = 1;
		return;
	}
	if (b->ref.known)
		return;
	if (after && after->known)
		b->ref = *after;
	else
		b->blind = 1;
}
