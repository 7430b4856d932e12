/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One reading of everything the daemon counts, for the two ways it is
 * shown: the stats command (JSON, commands.c) and /metrics (the
 * Prometheus text format, metrics.c). Both read through here so that they
 * cannot disagree on what a counter means.
 */
#ifndef XPP_STATS_H
#define XPP_STATS_H

#include <stdint.h>

#include "dp-owner.h"
#include "ipfix.h"
#include "links.h"
#include "xpp/maps.h"

struct manager;

struct stats_iface {
	const struct iface *iface; /* valid until the loop turns */
	struct xpp_counters c;
};

struct stats {
	struct stats_iface *ifaces;
	unsigned int n_ifaces;
	/* The interfaces read, plus the frames of interfaces without a
	 * counters slot when every interface was read. */
	struct xpp_counters totals;
	struct dp_status dp;
	uint64_t uptime_ns;
	unsigned int clients;
	unsigned int subscribers;
	uint64_t flows_lost_to_subscribers;
	struct ipfix_status ipfix; /* enabled false: export off */
};

/*
 * Reads the counters of every attached interface (only: just that one,
 * or NULL for all) and the daemon's own state into ret. Returns 0, or
 * -ENOMEM with ret untouched.
 */
int stats_collect(struct manager *m, const char *only, struct stats *ret);
void stats_release(struct stats *s);

#endif
