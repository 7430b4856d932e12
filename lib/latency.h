/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Log-linear latency histogram: 8 sub-buckets per power of two, so a
 * quantile is known within 12.5%. Fixed size, no allocation: cheap enough
 * to add one value per record.
 */
#ifndef XPP_LATENCY_H
#define XPP_LATENCY_H

#include <stdint.h>

#define LAT_BUCKETS (64 * 8)

struct latency {
	uint64_t count;
	uint64_t max_ns;
	uint64_t sum_ns; /* of every value added: a histogram's _sum */
	uint64_t buckets[LAT_BUCKETS];
};

void latency_add(struct latency *l, uint64_t ns);
/* Values up to le_ns (inclusive), counted from the buckets: exact when
 * le_ns + 1 starts a bucket (every power of two, and 1.25, 1.5 and 1.75
 * times one), the lower neighbour otherwise. */
uint64_t latency_count_le(const struct latency *l, uint64_t le_ns);
/* Lower bound of the bucket holding quantile q (0 when empty). */
uint64_t latency_quantile(const struct latency *l, double q);
/* Upper bound of that bucket, capped at the largest value seen: the
 * conservative figure, "at most". */
uint64_t latency_quantile_max(const struct latency *l, double q);

#endif
