// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "daemon.h"
#include "datapath.h"
#include "stats.h"
#include "subscribe.h"
#include "util.h"

int stats_collect(struct manager *m, const char *only, struct stats *ret)
{
	struct stats s = {};
	struct xpp_counters over = {};
	const struct iface *i;
	unsigned int n = dp_owner_iface_count(m->dp);

	s.ifaces = calloc(n ? n : 1, sizeof(*s.ifaces));
	if (!s.ifaces)
		return -ENOMEM;
	for (i = dp_owner_ifaces(m->dp); i && s.n_ifaces < n; i = i->next) {
		struct stats_iface *si = &s.ifaces[s.n_ifaces];

		if (only && strcmp(only, i->name))
			continue;
		si->iface = i;
		dp_owner_iface_counters(m->dp, i->ifindex, &si->c);
		xpp_counters_add(&s.totals, &si->c);
		s.n_ifaces++;
	}
	if (!only && !dp_owner_overflow_counters(m->dp, &over))
		xpp_counters_add(&s.totals, &over);
	dp_owner_status(m->dp, &s.dp);
	s.uptime_ns = xpp_mono_ns() - m->start_mono_ns;
	s.clients = control_client_count(m->control);
	s.subscribers = subscriptions_count(m->subs);
	s.flows_lost_to_subscribers = subscriptions_flows_lost(m->subs);
	ipfix_exporter_status(m->ipfix, &s.ipfix);
	*ret = s;
	return 0;
}

void stats_release(struct stats *s)
{
	free(s->ifaces);
	s->ifaces = NULL;
	s->n_ifaces = 0;
}
