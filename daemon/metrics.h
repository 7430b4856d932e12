/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * /metrics: the counters of `xdpctl stats` in the Prometheus text
 * exposition format (version 0.0.4) over HTTP, at metrics_listen
 * (docs/metrics.md). libmicrohttpd serves it from the daemon's own libev
 * loop, without threads of its own: its epoll descriptor is one ev_io, its
 * timeout one ev_timer, and both run MHD_run.
 */
#ifndef XPP_METRICS_H
#define XPP_METRICS_H

/* At most this many HTTP connections at once; more are closed as they
 * come (counted in xdp_preprocd_metrics_refused_total). */
#define METRICS_MAX_CONNECTIONS 8
/* A connection idle this long is closed. */
#define METRICS_TIMEOUT_S 10

struct manager;
struct metrics;

/* Listens on m->conf.metrics_addr. Returns NULL with errno set, after
 * logging why (the message names metrics_listen). */
struct metrics *metrics_new(struct manager *m);
/* Closes every connection and the socket. Accepts NULL. */
void metrics_free(struct metrics *mx);

#endif
