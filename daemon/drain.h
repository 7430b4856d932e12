/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Draining the per-CPU rings into a sink. Part of the datapath owner:
 * it knows records, not who receives them.
 */
#ifndef XPP_DRAIN_H
#define XPP_DRAIN_H

#include <stdint.h>

#include <ev.h>

#include "conf.h"
#include "datapath.h"
#include "latency.h"

struct xpp_flow_record;

struct drain_sink {
	/* Each record, in ring order. */
	void (*record)(const struct xpp_record *r, void *userdata);
	/* Each ended flow, in the order they ended (flow-drain.c). */
	void (*flow)(const struct xpp_flow_record *f, void *userdata);
	/* After each drain of records or flows: what was delivered may be
	 * passed on. */
	void (*flushed)(void *userdata);
	/* An interface appeared, was renamed or went (the datapath owner
	 * calls it; not the drain). */
	void (*ifaces_changed)(void *userdata);
	void *userdata;
};

struct drain;

/* Returns NULL with errno set. */
struct drain *drain_new(struct ev_loop *loop, struct xpp_datapath *dp,
			const struct drain_sink *sink);
/* What is still in the rings waits there for the next start. */
void drain_free(struct drain *dr);

/* Timer interval and wakeup mark from conf; the mark is clamped to the
 * ring. Returns 0 or the error of writing the program's configuration. */
int drain_apply_conf(struct drain *dr, const struct xpp_conf *conf);
void drain_now(struct drain *dr);

/* Records drained since this process started. */
uint64_t drain_delivered(const struct drain *dr);
/* Kernel timestamp to drain, per record. */
const struct latency *drain_latency(const struct drain *dr);
/* Wakeups the program sent (one per crossing of the mark). */
unsigned long long drain_wakeups(const struct drain *dr);

#endif
