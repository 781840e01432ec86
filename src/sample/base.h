/*
 * base.h - where a thread's stack walks end, and when a walk that ends
 * somewhere else is whole.
 *
 * A thread's outermost frame, its base, stays while the thread lives,
 * unless its outermost call returned and another one began (C code that
 * calls Python now and then). A walk that ends elsewhere was most likely
 * read between two stores of a call or a return; and when the thread was
 * preempted right there, every read ends at the same wrong frame until it
 * runs again, so reading twice proves nothing. A new end is taken as the
 * base only when a walk ends there again after the thread was seen to get
 * on: it ran (its schedstat moved since just after the first such walk) or
 * it was asleep (blocked in the kernel, it was not between two stores).
 * Without a schedstat to read, a walk of a later sample that ends there
 * again will do.
 */
#ifndef GS_BASE_H
#define GS_BASE_H

#include <stdint.h>

/* the end of a walk that found no frame at all (no frame is at 1) */
#define BASE_NO_FRAMES 1

/* A thread's schedstat: run time and time slices; known 0 when unread. */
struct base_clock {
	int known;
	uint64_t run, slices;
};

struct base_track {
	uint64_t base;		/* where its whole walks end; 0: not known yet */
	uint64_t cand;		/* another end, seen; 0: none */
	struct base_clock ref;	/* its schedstat just after cand was seen */
	int slept;		/* it was asleep since */
	int blind;		/* no schedstat to tell: a later sample will do */
};

enum base_says { BASE_WHOLE, BASE_TORN };

/*
 * A walk that was whole but for where it ended (`end`: its last frame, or
 * BASE_NO_FRAMES when it found no Python frame). `before`: the thread's
 * schedstat read before the walk. With nothing to compare with (the
 * thread's first walk, or the first one with frames after a whole walk
 * found none), a walk is taken as it is, but for one without frames: that
 * one is taken when the one before it found none either (read again at
 * once, a walk that raced the thread does not end twice alike).
 */
enum base_says base_judge(struct base_track *b, uint64_t end, const struct base_clock *before);

/* Does the next judgment need the thread's schedstat read before the walk?
 * (A candidate with a reference to compare it with.) */
int base_wants_clock(const struct base_track *b);

/* Does a candidate lack its reference (base_after wants `after`)? */
int base_wants_ref(const struct base_track *b);

/* After a sample's read of the thread: its schedstat read then (`after`,
 * known 0 if not) and its kernel state letter ('?' unknown). */
void base_after(struct base_track *b, const struct base_clock *after, char kstate);

#endif
