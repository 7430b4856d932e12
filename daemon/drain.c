// SPDX-License-Identifier: GPL-2.0-only
/*
 * Draining the per-CPU rings. Before the loop blocks, the drain sets the
 * reader's waiting word and looks at every ring once more (an ev_prepare
 * watcher); the first record published after that wakes it through the
 * token ring's epoll fd. While it is not blocked, the word is clear and
 * producers never wake it. With no records there is nothing to wake up
 * for: no timer. See docs/architecture.md, "The reader says when it
 * waits".
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
	ev_prepare wait_w; /* sets the waiting word before the loop blocks */
	ev_check woke_w;   /* clears it after */
	ev_idle again_w;   /* records were there: drain without blocking */
	struct drain_wait_hook hook;
	unsigned int bits; /* the word as set before the last block */
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

static void ring_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	drain_now(w->data);
}

static void again_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	ev_idle_stop(loop, w);
	drain_now(w->data);
}

static void wait_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct drain *dr = w->data;
	unsigned int bits = XPP_WAIT_RECORDS;

	if (ev_is_active(&dr->again_w))
		return; /* the loop will not block */
	if (dr->hook.bits)
		bits |= dr->hook.bits(dr->hook.ctx);
	if (!xpp_reader__wait_prepare(dr->rd, bits)) {
		dr->bits = 0;
		ev_idle_start(loop, &dr->again_w);
		return;
	}
	dr->bits = bits;
	if (dr->hook.armed)
		dr->hook.armed(dr->hook.ctx, bits);
}

static void woke_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	struct drain *dr = w->data;

	if (!dr->bits)
		return;
	xpp_reader__wait_end(dr->rd);
	if (dr->hook.woke)
		dr->hook.woke(dr->hook.ctx, dr->bits);
	dr->bits = 0;
}

/* The wakeup mark and the drain timer are gone (schema 7): the waiting
 * word wakes the drain at the first record. flush_interval_ms,
 * wakeup_bytes and wakeup_fill_percent are still read from files and
 * clients, and change nothing. */
int drain_apply_conf(struct drain *dr, const struct xpp_conf *conf)
{
	return xpp_datapath__config_set(dr->dp, &conf->dp);
}

void drain_set_wait_hook(struct drain *dr, const struct drain_wait_hook *hook)
{
	dr->hook = *hook;
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
	ev_io_init(&dr->ring_w, ring_cb, xpp_reader__epoll_fd(dr->rd), EV_READ);
	dr->ring_w.data = dr;
	ev_io_start(loop, &dr->ring_w);
	ev_prepare_init(&dr->wait_w, wait_cb);
	dr->wait_w.data = dr;
	/* Last of the prepare watchers: after others may have drained. */
	ev_set_priority(&dr->wait_w, EV_MINPRI);
	ev_prepare_start(loop, &dr->wait_w);
	ev_check_init(&dr->woke_w, woke_cb);
	dr->woke_w.data = dr;
	ev_set_priority(&dr->woke_w, EV_MAXPRI);
	ev_check_start(loop, &dr->woke_w);
	ev_idle_init(&dr->again_w, again_cb);
	dr->again_w.data = dr;
	/* Runs with events of lower priority pending too: those do not
	 * hold the drain back. */
	ev_set_priority(&dr->again_w, EV_MAXPRI);
	return TAKE_PTR(dr);
}

void drain_free(struct drain *dr)
{
	if (!dr)
		return;
	ev_io_stop(dr->loop, &dr->ring_w);
	ev_prepare_stop(dr->loop, &dr->wait_w);
	ev_check_stop(dr->loop, &dr->woke_w);
	ev_idle_stop(dr->loop, &dr->again_w);
	if (dr->bits)
		xpp_reader__wait_end(dr->rd);
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
