// SPDX-License-Identifier: GPL-2.0-only
#include "latency.h"

static unsigned int lat_bucket(uint64_t v)
{
	unsigned int msb;

	if (v < 8)
		return v;
	msb = 63 - __builtin_clzll(v);
	return (msb - 2) * 8 + ((v >> (msb - 3)) & 7);
}

static uint64_t lat_value(unsigned int b)
{
	unsigned int msb;

	if (b < 8)
		return b;
	msb = b / 8 + 2;
	return (uint64_t)(8 + b % 8) << (msb - 3);
}

void latency_add(struct latency *l, uint64_t v)
{
	l->buckets[lat_bucket(v)]++;
	l->count++;
	l->sum_ns += v;
	if (v > l->max_ns)
		l->max_ns = v;
}

static int quantile_bucket(const struct latency *l, double q)
{
	uint64_t want, seen = 0;
	unsigned int b;

	if (!l->count)
		return -1;
	want = (uint64_t)(q * l->count);
	if (want >= l->count)
		want = l->count - 1;
	for (b = 0; b < LAT_BUCKETS; b++) {
		seen += l->buckets[b];
		if (seen > want)
			return b;
	}
	return LAT_BUCKETS - 1;
}

uint64_t latency_quantile(const struct latency *l, double q)
{
	int b = quantile_bucket(l, q);

	return b < 0 ? 0 : lat_value(b);
}

uint64_t latency_quantile_max(const struct latency *l, double q)
{
	int b = quantile_bucket(l, q);
	uint64_t hi;

	if (b < 0)
		return 0;
	hi = b + 1 < LAT_BUCKETS ? lat_value(b + 1) - 1 : l->max_ns;
	return hi < l->max_ns ? hi : l->max_ns;
}

uint64_t latency_count_le(const struct latency *l, uint64_t le_ns)
{
	uint64_t n = 0;
	unsigned int b;

	/* A bucket counts when all of it is at most le_ns: its successor
	 * starts above le_ns + 1 at the latest. */
	for (b = 0; b < LAT_BUCKETS; b++) {
		if (b + 1 < LAT_BUCKETS && lat_value(b + 1) - 1 > le_ns)
			break;
		n += l->buckets[b];
	}
	return n;
}
