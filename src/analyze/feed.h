/*
 * feed.h - fold one sampler sample into the aggregates.
 */
#ifndef GS_FEED_H
#define GS_FEED_H

#include "agg.h"
#include "../sample/sampler.h"

int agg_add_sample(struct agg *a, const struct sample *smp);

#endif
