/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Flows out of the kernel into a sink (docs/flows.md): the ring of flows
 * the program ended itself, and the table scanned once a second for the
 * flows no packet came to end, while it holds any. Part of the datapath owner: it knows flow
 * records, not who receives them.
 */
#ifndef XPP_FLOW_DRAIN_H
#define XPP_FLOW_DRAIN_H

#include <stdint.h>

#include <ev.h>

#include "conf.h"
#include "datapath.h"
#include "drain.h"
#include "xpp/flow.h"

/* The most flows a snapshot of the largest holds. */
#define FLOW_TOP_MAX 1000

struct flow_drain_status {
	unsigned int active;	 /* in the table at the last scan */
	unsigned int table_size; /* its max_entries */
	/* Flows handed to the sink since start, by enum xpp_flow_end. */
	uint64_t exported[XPP_END_RESOURCES + 1];
};

struct flow_drain;

/* Flows of dp into sink->flow, then sink->flushed. conf must outlive the
 * drain: whether flows are on, the timeouts, the accounting and the SPLT
 * length are read at each scan and export. Returns NULL with errno set. */
struct flow_drain *flow_drain_new(struct ev_loop *loop, struct xpp_datapath *dp,
				  const struct xpp_conf *conf,
				  const struct drain_sink *sink);
/* Flows still in the table stay there (flow_drain_end_all first). */
void flow_drain_free(struct flow_drain *fd);

/* What the flow drain adds to the waiting word; the caller hands it to
 * drain_set_wait_hook(). */
void flow_drain_wait_hook(struct flow_drain *fd, struct drain_wait_hook *ret);

/* After a configuration change: flows turned off end every flow. */
void flow_drain_apply_conf(struct flow_drain *fd);
/* Ends every flow in the table (reason forced): at shutdown. */
int flow_drain_end_all(struct flow_drain *fd);
/* Ends the flows of one interface (reason forced): it was detached or
 * went away. */
int flow_drain_end_iface(struct flow_drain *fd, unsigned int ifindex);

/*
 * The n largest flows in the table now (bidirectional bytes, largest
 * first), as flow records without an end reason, and the flows the table
 * held, from a read-only snapshot taken at most once a second (a
 * snapshot reads the whole table). *ret stays valid until the next call.
 * Returns 0 or a negative errno.
 */
int flow_drain_top(struct flow_drain *fd, unsigned int n,
		   const struct xpp_flow_record **ret, unsigned int *ret_n,
		   unsigned int *ret_total);

void flow_drain_status(const struct flow_drain *fd,
		       struct flow_drain_status *ret);

#endif
