/*
 * feed.h - fold one sampler sample into the aggregates.
 */
#ifndef GS_FEED_H
#define GS_FEED_H

#include "agg.h"
#include "../sample/sampler.h"

int agg_add_sample(struct agg *a, const struct sample *smp);
/* The same for one process of several fed into `a`: its threads' stacks
 * hang under the process (pid, its command line); see agg_thread_in. */
int agg_add_sample_of(struct agg *a, const struct sample *smp, int32_t pid, const char *process);

#endif
