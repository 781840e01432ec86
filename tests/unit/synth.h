/*
 * synth.h - a small synthetic profile for the renderer tests and the
 * render driver: four threads over 20 sample instants at 100 Hz, every
 * state, a 40-frame stack, a thread that ends early, one that starts late,
 * and names that need escaping in every format (<lambda>, a&b, quotes, ';',
 * a newline, non-ASCII and invalid UTF-8).
 *
 * The segments each thread goes through (instants are 10 ms apart):
 *   MainThread (100):  0-5 python, holds the GIL  <module> run <lambda>
 *                      6-9 gil_wait               <module> run(21)
 *                    10-14 native_gil, holds      <module> run compute
 *                    15-19 io                     <module> read (a full path)
 *   worker-λ (101):    0-5 io                     deep_0 .. deep_39
 *                      6-9 python, holds          deep_0 deep_1
 *                    10-14 native                 deep_0 crunch
 *   a&b "q" <x> (102): 0-9 lock_wait              a&b semi;colon bad-utf8
 *                    10-19 sleep                  (no frames)
 *   idle-python (103):15-17 python, holds         (no frames)
 *                    18-19 other                  wait
 */
#ifndef GS_SYNTH_H
#define GS_SYNTH_H

#include "../../src/analyze/agg.h"

#define SYNTH_RATE_HZ 100
#define SYNTH_INSTANTS 20
#define SYNTH_DEEP 40
#define SYNTH_THREAD_SAMPLES 60

/* agg_init()s `a` and plays the workload; the caller agg_release()s it.
 * `scale` > 1 repeats each instant's pattern over a longer run with more
 * functions (for a realistic-looking picture); 1 is the fixed test case. */
int synth_agg(struct agg *a, int state_leaves, int timeline, int scale);

#endif
