// SPDX-License-Identifier: GPL-2.0-only
/*
 * Draining the per-CPU rings, in one of two modes, the way NAPI switches
 * between interrupts and polling:
 *
 * - Woken (light load): before the loop blocks, the drain sets the
 *   reader's waiting word and looks at every ring once more (an
 *   ev_prepare watcher); the first record published after that wakes it
 *   through the token ring's epoll fd. While it is not blocked, the word
 *   is clear and producers never wake it. With no records there is
 *   nothing to wake up for: no timer.
 * - Polling (load): a drain that finds POLL_ENTER records or more means
 *   records come faster than a wakeup per wait can carry them cheaply
 *   (each wakeup is an IPI from the producer's CPU and a switch into the
 *   daemon). The drain then leaves the word clear (no producer wakes it)
 *   and looks at the rings every poll_interval_us (a timerfd: libev's own
 *   timers have millisecond resolution). Polls that find records at less
 *   than POLL_EXIT_PPS, POLL_EXIT_POLLS times in a row, go back to being
 *   woken.
 *
 * See docs/architecture.md, "The reader says when it waits".
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

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
	ev_io poll_w;	   /* polling: the timerfd's next look */
	int poll_fd;
	bool polling;
	unsigned int poll_light; /* light polls in a row */
	uint64_t poll_ns;  /* poll_interval_us */
	uint64_t polls;	   /* looks while polling, since start */
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

/*
 * A drain woken by a record that finds this many means records come
 * faster than wakeups carry them cheaply (on a 2-CPU VM, woken in about
 * 20 us: some 3 Mpps) and starts polling.
 */
#define POLL_ENTER 64
/* Polls that found records at less than POLL_EXIT_PPS, POLL_EXIT_POLLS
 * in a row, stop it. */
#define POLL_EXIT_PPS 1000000ULL
#define POLL_EXIT_POLLS 8

static void poll_arm(struct drain *dr)
{
	struct itimerspec its = {
		.it_value.tv_sec = dr->poll_ns / 1000000000ULL,
		.it_value.tv_nsec = dr->poll_ns % 1000000000ULL,
	};

	if (timerfd_settime(dr->poll_fd, 0, &its, NULL) < 0) {
		pr_warn("polling the rings: timerfd_settime: %s",
			strerror(errno));
		dr->polling = false;
		return;
	}
	dr->polling = true;
}

static void drain_rings(struct drain *dr, bool poll)
{
	int n;

	dr->n = 0; /* read the clock at the first record */
	n = xpp_reader__drain(dr->rd);
	if (n < 0)
		pr_warn("draining the rings: %s", strerror(-n));
	dr->sink.flushed(dr->sink.userdata);
	if (poll) {
		bool light = (uint64_t)(n > 0 ? n : 0) * 1000000000ULL <
			     POLL_EXIT_PPS * dr->poll_ns;

		dr->polls++;
		if (light && ++dr->poll_light >= POLL_EXIT_POLLS) {
			dr->polling = false; /* the waiting word again */
			return;
		}
		if (!light)
			dr->poll_light = 0;
		poll_arm(dr);
	} else if (n >= POLL_ENTER && !dr->polling) {
		dr->poll_light = 0;
		poll_arm(dr);
	}
}

void drain_now(struct drain *dr)
{
	drain_rings(dr, false);
}

static void poll_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct drain *dr = w->data;
	uint64_t expirations;

	if (read(dr->poll_fd, &expirations, sizeof(expirations)) < 0 ||
	    !dr->polling)
		return;
	drain_rings(dr, true);
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
	if (dr->polling)
		bits = 0; /* the timer looks at the rings */
	if (dr->hook.bits)
		bits |= dr->hook.bits(dr->hook.ctx);
	if (!bits)
		return;
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

/* The polling interval takes effect at the next look; the
 * wakeup mark is gone (schema 8): wakeup_bytes and wakeup_fill_percent
 * are still read from files and clients, and change nothing. */
int drain_apply_conf(struct drain *dr, const struct xpp_conf *conf)
{
	dr->poll_ns = conf->poll_us * 1000ULL;
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
	dr->poll_fd = timerfd_create(CLOCK_MONOTONIC,
				     TFD_NONBLOCK | TFD_CLOEXEC);
	if (dr->poll_fd < 0) {
		xpp_reader__free(dr->rd);
		return NULL;
	}
	dr->poll_ns = 50 * 1000ULL; /* until drain_apply_conf() */
	/* The polling interval is tens of microseconds: timer slack (50 us
	 * by default) would double it. */
	prctl(PR_SET_TIMERSLACK, 1000UL);
	ev_io_init(&dr->poll_w, poll_cb, dr->poll_fd, EV_READ);
	dr->poll_w.data = dr;
	ev_set_priority(&dr->poll_w, EV_MAXPRI);
	ev_io_start(loop, &dr->poll_w);
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
	ev_io_stop(dr->loop, &dr->poll_w);
	close(dr->poll_fd);
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

unsigned long long drain_polls(const struct drain *dr)
{
	return dr->polls;
}

uint64_t drain_poll_interval_ns(const struct drain *dr)
{
	return dr->polling ? dr->poll_ns : 0;
}
