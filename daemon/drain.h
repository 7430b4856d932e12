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

/* Writes the program's configuration. Returns 0 or its error. */
int drain_apply_conf(struct drain *dr, const struct xpp_conf *conf);

/* Another reader of the datapath that sleeps on the same waiting word
 * (the flow drain): what it adds to the word, its last look once the word
 * is set, and what it does when the loop wakes. */
struct drain_wait_hook {
	/* XPP_WAIT_* bits besides XPP_WAIT_RECORDS, before each block. */
	unsigned int (*bits)(void *ctx);
	/* The word is set to bits and the rings are empty: look once more
	 * at what a producer would have woken it for. */
	void (*armed)(void *ctx, unsigned int bits);
	/* The loop woke (whatever woke it) after a wait with bits set. */
	void (*woke)(void *ctx, unsigned int bits);
	void *ctx;
};
void drain_set_wait_hook(struct drain *dr, const struct drain_wait_hook *hook);

/*
 * Frames the attached interfaces received and lost before the program
 * (rxstats.h), summed: the drain polls less often while frames are lost,
 * its wakeups may be what keeps the receiving CPU from its ring. sample
 * returns 0 or -errno (then nothing changes).
 */
struct drain_loss_hook {
	int (*sample)(void *ctx, uint64_t *ret_packets, uint64_t *ret_lost);
	void *ctx;
};
void drain_set_loss_hook(struct drain *dr, const struct drain_loss_hook *hook);
void drain_now(struct drain *dr);

/* Records drained since this process started. */
uint64_t drain_delivered(const struct drain *dr);
/* Kernel timestamp to drain, per record. */
const struct latency *drain_latency(const struct drain *dr);
/* Wakeups the program sent (one per wait that a record or a flow
 * ended). */
unsigned long long drain_wakeups(const struct drain *dr);
/* Looks at the rings by the polling timer, since start. */
unsigned long long drain_polls(const struct drain *dr);
/* The polling interval now in ns; 0 while woken by the waiting word. */
uint64_t drain_poll_interval_ns(const struct drain *dr);

#endif
