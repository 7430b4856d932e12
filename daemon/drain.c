// SPDX-License-Identifier: GPL-2.0-only
/*
 * Draining the per-CPU rings. Records are submitted without a wakeup, so
 * the daemon drains on a timer (flush_interval_ms); the program forces one
 * wakeup when a ring fills past wakeup_bytes (or wakeup_fill_percent),
 * which the ring's epoll fd reports and which drains at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "drain.h"
#include "log.h"
#include "util.h"

struct drain {
	struct ev_loop *loop;
	struct xpp_datapath *dp;
	struct xpp_reader *rd;
	struct drain_sink sink;
	ev_io ring_w;
	ev_timer flush_w;
	uint64_t delivered; /* records drained since start */
	struct latency lat;
	uint64_t now;	/* clock at the last sample */
	unsigned int n; /* records in this drain */
};

static int on_record(void *ctx, const struct xpp_record *r)
{
	struct drain *dr = ctx;

	/* A clock read per record would cost more than the rest. */
	if (!(dr->n++ & 63))
		dr->now = xpp_mono_ns();
	latency_add(&dr->lat, dr->now > r->ts_ns ? dr->now - r->ts_ns : 0);
	dr->delivered++;
	dr->sink.record(r, dr->sink.userdata);
	return 0;
}

void drain_now(struct drain *dr)
{
	int n;

	dr->n = 0; /* read the clock at the first record */
	n = xpp_reader__drain(dr->rd);
	if (n < 0)
		pr_warn("draining the rings: %s", strerror(-n));
	dr->sink.flushed(dr->sink.userdata);
}

static void flush_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	drain_now(w->data);
}

static void ring_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	drain_now(w->data);
}

/*
 * Re-arms the drain timer for a new interval, keeping the time already
 * waited: re-arming from zero on every configuration change would let a
 * client that changes the configuration often put the drain off for ever.
 */
static void drain_timer_set(struct drain *dr, ev_tstamp interval)
{
	ev_tstamp left = interval;

	if (ev_is_active(&dr->flush_w)) {
		if (dr->flush_w.repeat == interval)
			return;
		left = interval - (dr->flush_w.repeat -
				   ev_timer_remaining(dr->loop, &dr->flush_w));
		if (left < 0)
			left = 0;
		ev_timer_stop(dr->loop, &dr->flush_w);
	}
	ev_timer_set(&dr->flush_w, left, interval);
	ev_timer_start(dr->loop, &dr->flush_w);
}

int drain_apply_conf(struct drain *dr, const struct xpp_conf *conf)
{
	unsigned int slots = xpp_datapath__ring_slots(dr->dp);
	struct xpp_config cfg = conf->dp;
	uint64_t recs;
	int err;

	if (conf->wakeup_bytes)
		recs = (conf->wakeup_bytes + sizeof(struct xpp_record) - 1) /
		       sizeof(struct xpp_record);
	else
		recs = (uint64_t)slots * conf->wakeup_percent / 100;
	cfg.wakeup_records = recs < slots ? recs : slots;
	err = xpp_datapath__config_set(dr->dp, &cfg);
	drain_timer_set(dr, conf->flush_ms / 1000.0);
	return err;
}

struct drain *drain_new(struct ev_loop *loop, struct xpp_datapath *dp,
			const struct drain_sink *sink)
{
	_cleanup_free_ struct drain *dr = calloc(1, sizeof(*dr));

	if (!dr)
		return NULL;
	dr->rd = xpp_reader__new(dp, on_record, dr);
	if (!dr->rd)
		return NULL;
	dr->loop = loop;
	dr->dp = dp;
	dr->sink = *sink;
	ev_init(&dr->flush_w, flush_cb);
	dr->flush_w.data = dr;
	ev_io_init(&dr->ring_w, ring_cb, xpp_reader__epoll_fd(dr->rd), EV_READ);
	dr->ring_w.data = dr;
	ev_io_start(loop, &dr->ring_w);
	return TAKE_PTR(dr);
}

void drain_free(struct drain *dr)
{
	if (!dr)
		return;
	ev_io_stop(dr->loop, &dr->ring_w);
	ev_timer_stop(dr->loop, &dr->flush_w);
	xpp_reader__free(dr->rd);
	free(dr);
}

uint64_t drain_delivered(const struct drain *dr)
{
	return dr->delivered;
}

const struct latency *drain_latency(const struct drain *dr)
{
	return &dr->lat;
}

unsigned long long drain_wakeups(const struct drain *dr)
{
	return xpp_reader__wakeups(dr->rd);
}
