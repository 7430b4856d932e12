/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * IPFIX export of ended flows (RFC 7011, biflows as RFC 5103), through
 * libfixbuf. The event loop only copies each flow record into a bounded
 * queue; a thread of the exporter's own takes them from there to the
 * collector, so a collector that is down, slow or far away never holds
 * the loop. A full queue drops the newest flow and counts it. The
 * elements and their numbers are in docs/flows.md, "IPFIX".
 */
#ifndef XPP_IPFIX_H
#define XPP_IPFIX_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "xpp/flow.h"

/* The Private Enterprise Number of the enterprise-specific elements:
 * 32473 is the one RFC 5612 reserves for documentation. */
#define XPP_IPFIX_PEN 32473

struct ipfix_exporter;

struct ipfix_status {
	bool enabled;
	const char *state;  /* "connecting", "up", "down", "stopped" */
	uint64_t exported;  /* flows the collector was sent */
	uint64_t dropped;   /* flows the full queue could not take */
	uint64_t queued;    /* flows waiting now */
	uint64_t queue_size;
	uint64_t reconnects; /* connections made again after a loss */
	uint64_t send_errors;
	char last_error[160];
};

/* The exporter of conf's ipfix_* keys, its thread started; NULL with
 * errno set on failure (the thread or the memory). */
struct ipfix_exporter *ipfix_exporter_new(const struct xpp_conf *conf);

/* Gives the thread up to grace_ms to send what is queued, then stops it.
 * Accepts NULL. */
void ipfix_exporter_free(struct ipfix_exporter *x, unsigned int grace_ms);

/* Queues one flow (a copy); never blocks on the collector. */
void ipfix_exporter_push(struct ipfix_exporter *x,
			 const struct xpp_flow_record *r);

/* Counters and state; x may be NULL (export off). */
void ipfix_exporter_status(struct ipfix_exporter *x,
			   struct ipfix_status *ret);

#endif
