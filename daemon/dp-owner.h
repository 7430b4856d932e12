/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The datapath owner: the loaded program and its pinned maps
 * (lib/datapath), the attachments (links.c), interfaces coming and going
 * (ifwatch.c), the draining of the rings (drain.c) and of flows
 * (flow-drain.c), behind one object.
 * This is all the protocol layer sees of the kernel side. Functions
 * return 0 or a negative errno, with a message for the user in the
 * caller's buffer where one is needed; nothing here knows JSON.
 */
#ifndef XPP_DP_OWNER_H
#define XPP_DP_OWNER_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "conf.h"
#include "drain.h"
#include "flow-drain.h"
#include "latency.h"
#include "links.h"

struct dp_owner;

/* What stats reports of the datapath as a whole. */
struct dp_status {
	unsigned int prog_id;
	unsigned int rings;
	unsigned int ring_bytes;
	unsigned int ring_slots;
	unsigned long long ring_wakeups;
	unsigned long long ring_polls;
	uint64_t poll_interval_ns; /* 0: woken by the waiting word */
	uint64_t records_written;  /* into the rings, since they were made */
	uint64_t records_consumed; /* out of them, same */
	uint64_t records_delivered; /* drained by this process */
	const struct latency *latency;
	bool flows_on;
	struct flow_drain_status flows;
};

/*
 * Prepares the pin root (mounting bpffs on its parent if needed), loads
 * or adopts the datapath, adopts pinned links, starts draining into sink
 * and flows into sink and watching interfaces (sink->ifaces_changed hears
 * of every interface event). conf must outlive the owner: it is read again
 * whenever a decision depends on it (reattach, attach). Returns NULL with
 * errno set, after logging why.
 */
struct dp_owner *dp_owner_new(struct ev_loop *loop, const struct xpp_conf *conf,
			      const struct drain_sink *sink);
/* Links stay pinned and attached: the datapath keeps running. */
void dp_owner_free(struct dp_owner *o);

/* Applies the runtime part of conf (drain timer, wakeup mark, sampling,
 * filters, verdict, flows). */
int dp_owner_apply_conf(struct dp_owner *o);
/* Attaches the interfaces listed with attach = that are not attached;
 * logs each failure. */
void dp_owner_attach_configured(struct dp_owner *o);

/* Ends every flow in the kernel's table (reason forced) into the sink:
 * before the daemon stops. */
void dp_owner_flows_end(struct dp_owner *o);
/* flow_drain_top: the n largest flows in the table now, and how many it
 * holds; n at most FLOW_TOP_MAX. */
int dp_owner_flows_top(struct dp_owner *o, unsigned int n,
		       const struct xpp_flow_record **ret, unsigned int *ret_n,
		       unsigned int *ret_total);

/* links_attach's errors and message. */
int dp_owner_attach(struct dp_owner *o, const char *name, enum xpp_mode mode,
		    char *msg, size_t msgsz);
/* -ENOENT when name is not attached. The interface's flows end (reason
 * forced). */
int dp_owner_detach(struct dp_owner *o, const char *name, char *msg,
		    size_t msgsz);

/* The attachments, to walk with ->next; valid until the next change. */
const struct iface *dp_owner_ifaces(const struct dp_owner *o);
const struct iface *dp_owner_iface(const struct dp_owner *o, const char *name);
unsigned int dp_owner_iface_count(const struct dp_owner *o);
int dp_owner_iface_counters(const struct dp_owner *o, unsigned int ifindex,
			    struct xpp_counters *ret);
/* Frames of interfaces without a counters slot of their own. */
int dp_owner_overflow_counters(const struct dp_owner *o,
			       struct xpp_counters *ret);
void dp_owner_status(const struct dp_owner *o, struct dp_status *ret);

#endif
