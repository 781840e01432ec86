/*
 * test_base.c - when a stack walk that ends elsewhere than the thread's
 * base is whole (src/sample/base.c), sample by sample as the sampler
 * calls it: base_judge for each walk of a sample (the first one and its
 * re-reads), base_after once at the end of the sample.
 */
#include "unit.h"
#include "../../src/sample/base.h"

#include <string.h>

#define BOOT 0x7f0000001000ull	/* the thread's entry frame */
#define NEST 0x7f0000000800ull	/* a nested entry frame, deeper */
#define OTHER 0x7f0000000400ull

static const struct base_clock unread = { 0, 0, 0 };

static struct base_clock clk(uint64_t run, uint64_t slices)
{
	struct base_clock c = { 1, run, slices };

	return c;
}

/* A thread whose walks ended at BOOT. */
static struct base_track settled(struct unit *u)
{
	struct base_track b;
	struct base_clock c = clk(100, 10);

	memset(&b, 0, sizeof(b));
	CHECK_EQ(u, base_judge(&b, BOOT, &c), BASE_WHOLE);	/* the first walk is taken */
	base_after(&b, &c, 'R');
	CHECK_EQ(u, base_judge(&b, BOOT, &c), BASE_WHOLE);
	CHECK_EQ(u, b.base, BOOT);
	return b;
}

/* A thread's first walks (one dump reads each thread once, with re-reads):
 * nothing to compare with, so one with frames is taken as it is, and one
 * without (a read that raced the thread through a link of a call that had
 * returned) only when read again alike. */
static void t_base_first_walks(struct unit *u)
{
	struct base_track b;

	memset(&b, 0, sizeof(b));
	CHECK_EQ(u, base_judge(&b, NEST, &unread), BASE_WHOLE);
	CHECK_EQ(u, b.base, NEST);
	memset(&b, 0, sizeof(b));
	CHECK_EQ(u, base_judge(&b, BASE_NO_FRAMES, &unread), BASE_TORN);
	CHECK_EQ(u, base_judge(&b, BOOT, &unread), BASE_WHOLE);
	CHECK_EQ(u, b.base, BOOT);
	/* an empty one read again alike, which then stays whole while empty */
	memset(&b, 0, sizeof(b));
	CHECK_EQ(u, base_judge(&b, BASE_NO_FRAMES, &unread), BASE_TORN);
	CHECK_EQ(u, base_judge(&b, BASE_NO_FRAMES, &unread), BASE_WHOLE);
	CHECK_EQ(u, base_judge(&b, BASE_NO_FRAMES, &unread), BASE_WHOLE);
	/* the first walk with frames after it is taken as it is */
	CHECK_EQ(u, base_judge(&b, NEST, &unread), BASE_WHOLE);
	CHECK_EQ(u, b.base, NEST);
}

/* Caught between two stores and preempted there: every read of the
 * thread ends at the nested entry frame until it runs again, re-reads
 * included, sample after sample. None of them is whole; once it has run,
 * its walks reach BOOT again and BOOT stays the base. */
static void t_base_preempted_mid_call(struct unit *u)
{
	struct base_track b = settled(u);
	struct base_clock stuck = clk(200, 20);
	int i;

	for (i = 0; i < 5; i++) {
		CHECK_EQ(u, base_judge(&b, NEST, &stuck), BASE_TORN);
		CHECK_EQ(u, base_judge(&b, NEST, &stuck), BASE_TORN);	/* a re-read */
		CHECK(u, base_wants_clock(&b) || base_wants_ref(&b));
		base_after(&b, &stuck, 'R');
	}
	CHECK_EQ(u, b.base, BOOT);
	stuck.run += 50000;
	CHECK_EQ(u, base_judge(&b, BOOT, &stuck), BASE_WHOLE);
	CHECK_EQ(u, b.base, BOOT);
	CHECK_EQ(u, b.cand, 0);
}

/* The same with no schedstat to read: a re-read within the sample never
 * takes the new end; a walk of a later sample that ends there does. */
static void t_base_blind(struct unit *u)
{
	struct base_track b = settled(u);

	CHECK_EQ(u, base_judge(&b, NEST, &unread), BASE_TORN);
	CHECK_EQ(u, base_judge(&b, NEST, &unread), BASE_TORN);
	base_after(&b, &unread, '?');
	CHECK_EQ(u, base_judge(&b, NEST, &unread), BASE_WHOLE);
	CHECK_EQ(u, b.base, NEST);
}

/* The outermost call returned and another began, at another depth of C
 * code, and the thread runs on in it: the new end is torn until the
 * thread's run time moved past what it was just after the first walk
 * that ended there; then it is the base, and the old one is torn. */
static void t_base_new_outermost_call(struct unit *u)
{
	struct base_track b = settled(u);
	struct base_clock before = clk(300, 30), after = clk(300, 30);

	CHECK_EQ(u, base_judge(&b, NEST, &before), BASE_TORN);
	CHECK(u, base_wants_ref(&b));
	base_after(&b, &after, 'R');
	CHECK(u, !base_wants_ref(&b));
	CHECK(u, base_wants_clock(&b));
	/* the next sample, the thread has not been charged any time yet */
	CHECK_EQ(u, base_judge(&b, NEST, &after), BASE_TORN);
	base_after(&b, &after, 'R');
	/* a schedstat read before the walk must say it ran since */
	CHECK_EQ(u, base_judge(&b, NEST, &unread), BASE_TORN);
	before = clk(4300000, 30);	/* a tick later */
	CHECK_EQ(u, base_judge(&b, NEST, &before), BASE_WHOLE);
	CHECK_EQ(u, b.base, NEST);
	CHECK_EQ(u, base_judge(&b, NEST, &before), BASE_WHOLE);
	CHECK_EQ(u, base_judge(&b, BOOT, &before), BASE_TORN);
	/* so does a new time slice with the same run time */
	base_after(&b, &before, 'R');
	before.slices++;
	CHECK_EQ(u, base_judge(&b, BOOT, &before), BASE_WHOLE);
}

/* A thread that was asleep (blocked in the kernel) after the walk was not
 * between two stores: the next walk that ends there again is whole. */
static void t_base_asleep(struct unit *u)
{
	struct base_track b = settled(u);
	struct base_clock c = clk(500, 50);

	CHECK_EQ(u, base_judge(&b, NEST, &c), BASE_TORN);
	base_after(&b, &c, 'S');
	CHECK(u, !base_wants_clock(&b));
	CHECK_EQ(u, base_judge(&b, NEST, &c), BASE_WHOLE);
	CHECK_EQ(u, b.base, NEST);
}

/* Each new end must earn it on its own: a candidate replaced by another
 * one forgets what the first one was seen doing. */
static void t_base_candidate_replaced(struct unit *u)
{
	struct base_track b = settled(u);
	struct base_clock c = clk(700, 70);

	CHECK_EQ(u, base_judge(&b, NEST, &c), BASE_TORN);
	base_after(&b, &c, 'S');
	CHECK_EQ(u, base_judge(&b, OTHER, &c), BASE_TORN);
	CHECK_EQ(u, b.cand, OTHER);
	CHECK_EQ(u, base_judge(&b, OTHER, &c), BASE_TORN);
	CHECK_EQ(u, base_judge(&b, NEST, &c), BASE_TORN);	/* NEST again: from scratch */
	CHECK_EQ(u, b.base, BOOT);
	/* back at the base: the candidate is dropped */
	CHECK_EQ(u, base_judge(&b, BOOT, &c), BASE_WHOLE);
	CHECK_EQ(u, b.cand, 0);
	CHECK(u, !base_wants_clock(&b) && !base_wants_ref(&b));
}

/* No frames at all: torn like any other end, until the thread got on (a
 * thread whose Python code returned is then asleep or runs C code); after
 * that, the first walk with frames is taken as it is. */
static void t_base_no_frames(struct unit *u)
{
	struct base_track b = settled(u);
	struct base_clock c = clk(900, 90);

	CHECK_EQ(u, base_judge(&b, BASE_NO_FRAMES, &c), BASE_TORN);
	CHECK_EQ(u, base_judge(&b, BASE_NO_FRAMES, &c), BASE_TORN);
	base_after(&b, &c, 'R');
	c.run += 1000000;
	CHECK_EQ(u, base_judge(&b, BASE_NO_FRAMES, &c), BASE_WHOLE);
	CHECK_EQ(u, base_judge(&b, BASE_NO_FRAMES, &c), BASE_WHOLE);
	CHECK_EQ(u, base_judge(&b, OTHER, &c), BASE_WHOLE);
	CHECK_EQ(u, b.base, OTHER);
}

UNIT_SUITE(base)
{
	UNIT_RUN(u, t_base_first_walks);
	UNIT_RUN(u, t_base_preempted_mid_call);
	UNIT_RUN(u, t_base_blind);
	UNIT_RUN(u, t_base_new_outermost_call);
	UNIT_RUN(u, t_base_asleep);
	UNIT_RUN(u, t_base_candidate_replaced);
	UNIT_RUN(u, t_base_no_frames);
}
