// SPDX-License-Identifier: GPL-2.0-only
/*
 * Draining the per-CPU rings. Records are submitted without a wakeup, so
 * the daemon drains on a timer (flush_interval_ms); the program forces one
 * wakeup when a ring fills past wakeup_bytes (or wakeup_fill_percent),
 * which the ring's epoll fd reports and which drains at once.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "log.h"

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void ring_totals(const struct daemon *d, uint64_t *ret_written,
		 uint64_t *ret_consumed)
{
	unsigned int i, n = xpp_datapath__ring_count(d->dp);
	unsigned long long c, p;

	*ret_written = *ret_consumed = 0;
	for (i = 0; i < n; i++) {
		xpp_datapath__ring_positions(d->dp, i, &c, &p);
		*ret_written += p;
		*ret_consumed += c;
	}
}

struct drain_ctx {
	struct daemon *d;
	uint64_t now;
	unsigned int n;
};

static struct drain_ctx drain_ctx;

static int on_record(void *ctx, const struct xpp_record *r)
{
	struct drain_ctx *x = ctx;

	/* A clock read per record would cost more than the rest. */
	if (!(x->n++ & 63))
		x->now = mono_ns();
	latency_add(&x->d->lat, x->now > r->ts_ns ? x->now - r->ts_ns : 0);
	x->d->delivered++;
	subscribers_deliver(x->d, r);
	return 0;
}

void drain_now(struct daemon *d)
{
	int n;

	drain_ctx.n = 0; /* read the clock at the first record */
	n = xpp_reader__drain(d->rd);
	if (n < 0)
		pr_warn("draining the rings: %s", strerror(-n));
	subscribers_flush(d);
}

static void flush_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	drain_now(w->data);
}

static void ring_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	drain_now(w->data);
}

void drain_apply_conf(struct daemon *d)
{
	unsigned int slots = xpp_datapath__ring_slots(d->dp);
	struct xpp_config cfg = d->conf.dp;
	uint64_t recs;
	int err;

	if (d->conf.wakeup_bytes)
		recs = (d->conf.wakeup_bytes + sizeof(struct xpp_record) - 1) /
		       sizeof(struct xpp_record);
	else
		recs = (uint64_t)slots * d->conf.wakeup_percent / 100;
	cfg.wakeup_records = recs < slots ? recs : slots;
	err = xpp_datapath__config_set(d->dp, &cfg);
	if (err)
		pr_err("cannot write the datapath configuration: %s",
		       strerror(-err));
	d->flush_w.repeat = d->conf.flush_ms / 1000.0;
	ev_timer_again(d->loop, &d->flush_w);
}

int drain_start(struct daemon *d)
{
	drain_ctx.d = d;
	d->rd = xpp_reader__new(d->dp, on_record, &drain_ctx);
	if (!d->rd)
		return log_error_errno(errno, "cannot read the rings: %m");
	ev_init(&d->flush_w, flush_cb);
	d->flush_w.data = d;
	ev_io_init(&d->ring_w, ring_cb, xpp_reader__epoll_fd(d->rd), EV_READ);
	d->ring_w.data = d;
	ev_io_start(d->loop, &d->ring_w);
	drain_apply_conf(d);
	return 0;
}

void drain_stop(struct daemon *d)
{
	if (!d->rd)
		return;
	/* What is still in the rings waits there for the next start. */
	ev_io_stop(d->loop, &d->ring_w);
	ev_timer_stop(d->loop, &d->flush_w);
	xpp_reader__free(d->rd);
	d->rd = NULL;
}
