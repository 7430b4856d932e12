/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Subscriptions: connections that asked for a stream of packet records or
 * of flow records. Each holds a reference to its connection and takes
 * over its callbacks; the connection knows nothing of it. Records are
 * queued raw per subscriber (a bounded queue, sized when the subscription
 * starts, allocated as it fills) and encoded only as fast as the peer
 * reads.
 */
#ifndef XPP_SUBSCRIBE_H
#define XPP_SUBSCRIBE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "xpp/flow.h"
#include "xpp/record.h"

struct conn;
struct subscriptions;

struct subscriptions *subscriptions_new(void);
void subscriptions_free(struct subscriptions *subs);

/*
 * Turns c into a stream as req ({"cmd":"subscribe",...}, docs/protocol.md)
 * asks, with a queue of queue_len records, unless max subscriptions exist
 * already. Queues the reply and the stream's header on c. Returns 0, or
 * -EINVAL (a bad field), -ENODEV (no such interface), -EUSERS (max
 * reached), -ENOMEM, with a message for the peer in msg.
 */
int subscription_start(struct subscriptions *subs, struct conn *c,
		       json_object *req, unsigned int max,
		       unsigned int queue_len, char *msg, size_t msgsz);

/* Queues a record for every subscriber that wants it. */
void subscriptions_deliver(struct subscriptions *subs,
			   const struct xpp_record *r);
/* Queues an ended flow for every flow subscriber that wants it. */
void subscriptions_deliver_flow(struct subscriptions *subs,
				const struct xpp_flow_record *f);
/* Encodes queued records for the peers, within a budget per call. */
void subscriptions_flush(struct subscriptions *subs);
/* A subscription needs subscriptions_flush() again though no record
 * comes: a flush ran out of budget, or a peer half-closed (its close is
 * seen by looking). */
bool subscriptions_need_tick(const struct subscriptions *subs);
/* The daemon stops: every stream takes nothing more and closes once its
 * peer has what was queued for it. */
void subscriptions_finish(struct subscriptions *subs);

/* Interfaces came or went: subscriptions that filter by an interface's
 * name follow it to its new ifindex when it is made again (while the name
 * is gone they keep the old one, which sends nothing). */
void subscriptions_ifaces_changed(struct subscriptions *subs);

unsigned int subscriptions_count(const struct subscriptions *subs);
/* Flows that flow subscribers lost (queue full) since start, counting
 * those that have gone. */
uint64_t subscriptions_flows_lost(const struct subscriptions *subs);
/* [{"uid":..,"kind":..,"format":..,"queue":..,"delivered":..,"queued":..,"lost":..,
 * "age_s":..}, ...] */
json_object *subscriptions_json(const struct subscriptions *subs);

#endif
