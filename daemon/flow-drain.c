// SPDX-License-Identifier: GPL-2.0-only
/*
 * Draining flows. The program hands over the flows it ends itself (a
 * packet found its flow due, or the table was full) through a ring
 * buffer whose epoll fd wakes the loop; every other flow is ended by the
 * scan, once a second, on the program's clock (CLOCK_MONOTONIC), while
 * the table holds flows. A scan that finds it empty parks the scan: the
 * loop then sleeps with XPP_WAIT_FLOWS in the waiting word, and the
 * program wakes it at the next flow it begins. Flows leave as flow
 * records with wall-clock times, in the order they ended.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "flow-drain.h"
#include "flows.h"
#include "log.h"
#include "util.h"

struct flow_drain {
	struct ev_loop *loop;
	const struct xpp_conf *conf;
	struct drain_sink sink;
	struct xpp_flows *fl;
	int table_fd;
	unsigned int table_size;
	ev_io ring_w;
	ev_timer scan_w;
	int64_t wall_off; /* CLOCK_REALTIME - CLOCK_MONOTONIC, per pass */
	unsigned int active; /* in the table at the last scan */
	bool scanned;	     /* a scan has read the table */
	bool parked;	     /* the scan timer stopped: the table was empty */
	bool flows_on;	     /* as last applied */
	int last_err;	     /* said once, until it changes */
	uint64_t exported[XPP_END_RESOURCES + 1];
	/* The last snapshot of the largest flows, and when it was taken. */
	struct xpp_flow_export *top_raw;
	struct xpp_flow_record *top;
	unsigned int top_n, top_total;
	uint64_t top_mono_ns;
};

static int on_flow(void *ctx, const struct xpp_flow_export *x)
{
	struct flow_drain *fd = ctx;
	struct xpp_flow_record r;

	xpp_flow_record_make(x, fd->wall_off, fd->conf->dp.flow_accounting,
			     fd->conf->dp.splt_len, &r);
	if (x->end_reason < ARRAY_SIZE(fd->exported))
		fd->exported[x->end_reason]++;
	fd->sink.flow(&r, fd->sink.userdata);
	return 0;
}

/* Says what went wrong once, not every second. */
static int flows_result(struct flow_drain *fd, int r, const char *what)
{
	if (r < 0 && r != fd->last_err)
		pr_warn("%s: %s", what, strerror(-r));
	fd->last_err = r < 0 ? r : 0;
	fd->sink.flushed(fd->sink.userdata);
	return r < 0 ? r : 0;
}

static void ring_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct flow_drain *fd = w->data;

	fd->wall_off = xpp_wall_offset_ns();
	flows_result(fd, xpp_flows__consume(fd->fl), "reading ended flows");
}

/* One scan: every flow due now, with force every flow, with ifindex
 * only that interface's flows forced. */
static int scan(struct flow_drain *fd, bool force, unsigned int ifindex)
{
	const struct xpp_config *cfg = &fd->conf->dp;
	uint64_t now = xpp_mono_ns();
	int r;

	fd->wall_off = xpp_wall_offset_ns();
	if (ifindex)
		r = xpp_flows__scan_iface(fd->fl, now, cfg, ifindex,
					  &fd->active);
	else
		r = xpp_flows__scan(fd->fl, now, cfg, force, &fd->active);
	if (r >= 0)
		fd->scanned = true;
	return flows_result(fd, r, "scanning the flow table");
}

static void unpark(struct flow_drain *fd)
{
	if (!fd->parked)
		return;
	fd->parked = false;
	ev_timer_set(&fd->scan_w, XPP_FLOW_SCAN_NS / 1e9, XPP_FLOW_SCAN_NS / 1e9);
	ev_timer_start(fd->loop, &fd->scan_w);
}

static void scan_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct flow_drain *fd = w->data;

	/* Adopted pins may hold flows of an earlier run, so the first scan
	 * always reads. */
	if (fd->flows_on || fd->active || !fd->scanned)
		scan(fd, false, 0);
	/* Nothing left to expire: no timer until a flow begins (with flows
	 * off, the program begins none). */
	if (fd->scanned && !fd->active) {
		ev_timer_stop(loop, w);
		fd->parked = true;
	}
}

/* The waiting word, through the drain (drain_set_wait_hook). */
static unsigned int wait_bits(void *ctx)
{
	struct flow_drain *fd = ctx;

	return fd->parked && fd->flows_on ? XPP_WAIT_FLOWS : 0;
}

/* The word is set: a flow begun before it was would not wake the loop,
 * so look at the table once more (the reader's side of the barrier pair
 * of flow_wake() in bpf/xpp.bpf.c). */
static void wait_armed(void *ctx, unsigned int bits)
{
	struct flow_drain *fd = ctx;
	struct xpp_flow_key key;

	if ((bits & XPP_WAIT_FLOWS) &&
	    !bpf_map_get_next_key(fd->table_fd, NULL, &key))
		unpark(fd);
}

/* Woken while parked: maybe by a new flow; scan within a second. */
static void wait_woke(void *ctx, unsigned int bits)
{
	struct flow_drain *fd = ctx;

	if (bits & XPP_WAIT_FLOWS)
		unpark(fd);
}

void flow_drain_wait_hook(struct flow_drain *fd, struct drain_wait_hook *ret)
{
	*ret = (struct drain_wait_hook){
		.bits = wait_bits,
		.armed = wait_armed,
		.woke = wait_woke,
		.ctx = fd,
	};
}

struct flow_drain *flow_drain_new(struct ev_loop *loop, struct xpp_datapath *dp,
				  const struct xpp_conf *conf,
				  const struct drain_sink *sink)
{
	_cleanup_free_ struct flow_drain *fd = calloc(1, sizeof(*fd));

	if (!fd)
		return NULL;
	fd->fl = xpp_flows__new(dp, on_flow, fd);
	if (!fd->fl)
		return NULL;
	fd->loop = loop;
	fd->conf = conf;
	fd->sink = *sink;
	fd->table_size = xpp_datapath__flow_entries(dp);
	fd->table_fd = xpp_datapath__flows_fd(dp);
	fd->flows_on = conf->dp.flags & XPP_CFG_FLOWS;
	ev_io_init(&fd->ring_w, ring_cb, xpp_flows__epoll_fd(fd->fl), EV_READ);
	fd->ring_w.data = fd;
	ev_io_start(loop, &fd->ring_w);
	ev_timer_init(&fd->scan_w, scan_cb, XPP_FLOW_SCAN_NS / 1e9,
		      XPP_FLOW_SCAN_NS / 1e9);
	fd->scan_w.data = fd;
	ev_timer_start(loop, &fd->scan_w);
	return TAKE_PTR(fd);
}

void flow_drain_free(struct flow_drain *fd)
{
	if (!fd)
		return;
	ev_io_stop(fd->loop, &fd->ring_w);
	ev_timer_stop(fd->loop, &fd->scan_w);
	xpp_flows__free(fd->fl);
	free(fd->top_raw);
	free(fd->top);
	free(fd);
}

void flow_drain_apply_conf(struct flow_drain *fd)
{
	bool on = fd->conf->dp.flags & XPP_CFG_FLOWS;

	/* Turned off: the flows counted so far end now (the program has
	 * stopped counting; the configuration is written already). */
	if (fd->flows_on && !on)
		scan(fd, true, 0);
	fd->flows_on = on;
	/* The first scan after a change runs on time, as before. */
	if (on)
		unpark(fd);
}

int flow_drain_end_all(struct flow_drain *fd)
{
	return scan(fd, true, 0);
}

int flow_drain_end_iface(struct flow_drain *fd, unsigned int ifindex)
{
	return scan(fd, true, ifindex);
}

int flow_drain_top(struct flow_drain *fd, unsigned int n,
		   const struct xpp_flow_record **ret, unsigned int *ret_n,
		   unsigned int *ret_total)
{
	uint64_t now = xpp_mono_ns();
	int64_t off = xpp_wall_offset_ns();
	unsigned int i;
	int r;

	if (!fd->top_raw) {
		fd->top_raw = calloc(FLOW_TOP_MAX, sizeof(*fd->top_raw));
		fd->top = calloc(FLOW_TOP_MAX, sizeof(*fd->top));
		if (!fd->top_raw || !fd->top) {
			free(fd->top_raw);
			free(fd->top);
			fd->top_raw = NULL;
			fd->top = NULL;
			return -ENOMEM;
		}
	}
	if (!fd->top_mono_ns || now - fd->top_mono_ns >= XPP_FLOW_SCAN_NS) {
		r = xpp_flows__top(fd->fl, fd->top_raw, FLOW_TOP_MAX,
				   &fd->top_n, &fd->top_total);
		if (r < 0)
			return r;
		fd->top_mono_ns = now;
	}
	if (n > fd->top_n)
		n = fd->top_n;
	for (i = 0; i < n; i++)
		xpp_flow_record_make(&fd->top_raw[i], off,
				     fd->conf->dp.flow_accounting,
				     fd->conf->dp.splt_len, &fd->top[i]);
	*ret = fd->top;
	*ret_n = n;
	*ret_total = fd->top_total;
	return 0;
}

void flow_drain_status(const struct flow_drain *fd,
		       struct flow_drain_status *ret)
{
	ret->active = fd->active;
	ret->table_size = fd->table_size;
	memcpy(ret->exported, fd->exported, sizeof(ret->exported));
}
