/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The running daemon: one manager that holds the configuration and the
 * two layers, and the few calls that cross them.
 *
 *   datapath owner (dp-owner.h: links, ifwatch, drain over lib/datapath)
 *       negative errno and a message; no JSON
 *   protocol (control.h, conn.h, commands.h, subscribe.h, request.h)
 *       connections, requests, commands, subscriptions; all the JSON
 *
 * Records flow from the owner's drain into the subscriptions through the
 * sink the manager wires up (main.c).
 */
#ifndef XPP_DAEMON_H
#define XPP_DAEMON_H

#include <stdint.h>

#include <ev.h>

#include "conf.h"

struct cli;

struct manager {
	const struct cli *cli; /* the command line, read again on reload */
	struct ev_loop *loop;
	struct xpp_conf conf;
	struct dp_owner *dp;
	struct control *control;
	struct subscriptions *subs;
	struct metrics *metrics; /* NULL when metrics_listen is off */
	struct ipfix_exporter *ipfix; /* NULL: IPFIX export off */
	uint64_t start_mono_ns;

	ev_timer status_w;  /* one-shot, while records flow (and once after) */
	ev_timer watchdog_w;
	ev_timer tick_w;    /* subscriptions_flush, only while one needs it */
	ev_check tick_check_w;
	bool notify;	    /* NOTIFY_SOCKET is set: STATUS= is read */
	ev_signal sig_w[3];
	uint64_t status_last_ns; /* for the record rate in STATUS= */
	uint64_t status_last_delivered;
};

/* After the configuration changed at run time (config_set): applies
 * what may change to everything running. */
int manager_apply_conf(struct manager *m);

#endif
