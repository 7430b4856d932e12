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
 *   and looks at the rings every interval (a timerfd: libev's own timers
 *   have millisecond resolution), from poll_interval_us up to
 *   flush_interval_ms while frames are lost before the program or the
 *   records' age says the drain falls behind (poll_adapt()). Light polls
 *   at the shortest interval go back to being woken.
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
	uint64_t poll_ns;	 /* the interval now */
	uint64_t poll_min_ns;	 /* poll_interval_us */
	uint64_t poll_max_ns;	 /* flush_interval_ms */
	uint64_t polls;		 /* looks while polling, since start */
	uint64_t age;		 /* of the first record of this drain */
	struct drain_loss_hook loss;
	uint64_t loss_at;	 /* last sample (0: none yet) */
	uint64_t loss_packets, loss_lost; /* at it */
	uint64_t calm_since;	 /* no loss, no backlog since */
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
	if (!(dr->n++ & 63)) {
		dr->now = xpp_mono_ns();
		if (dr->n == 1)
			dr->age = dr->now > r->ts_ns ? dr->now - r->ts_ns : 0;
	}
	latency_add(&dr->lat, dr->now > r->ts_ns ? dr->now - r->ts_ns : 0);
	dr->delivered++;
	dr->sink.record(r, dr->sink.userdata);
	return 0;
}

/*
 * A drain woken by a record that finds this many means the wakeups no
 * longer keep up (each is an IPI on the producer's CPU and a switch into
 * the daemon; a woken drain at a rate it carries finds a few dozen).
 */
#define POLL_ENTER 128
/* Polls at the shortest interval that find fewer than POLL_EXIT records,
 * POLL_EXIT_POLLS in a row, go back to being woken. */
#define POLL_EXIT POLL_ENTER
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

/* Frames lost before the program are looked at this often: enough
 * frames to tell a ring overflowing from a frame lost now and then. */
#define LOSS_SAMPLE_NS (10 * 1000000ULL)
/* Losing: more than 1 in LOSS_RATIO of the frames in a sample, and at
 * least LOSS_MIN frames (a stack that drops what it has no protocol for
 * counts in rx_dropped too, a few frames at a time). */
#define LOSS_RATIO 100
#define LOSS_MIN 64
/* The interval halves after this long without loss or backlog. */
#define CALM_NS (64 * 1000000ULL)

/*
 * Frames lost before the program since the last sample, above 1%: the CPU
 * that empties a receive ring did not get to it in time. On a machine
 * where that CPU also runs the daemon and its subscribers, what they take
 * for each look at the rings (a switch in and out, a write that wakes a
 * subscriber) is part of the cause, so it is the drain's cue to look less
 * often and carry more records per look.
 */
static bool losing(struct drain *dr, uint64_t now)
{
	uint64_t packets, lost, dp, dl;
	bool ret;

	if (!dr->loss.sample ||
	    (dr->loss_at && now - dr->loss_at < LOSS_SAMPLE_NS))
		return false;
	if (dr->loss.sample(dr->loss.ctx, &packets, &lost)) {
		dr->loss_at = 0;
		return false;
	}
	/* Counters that went back: interfaces came or went. */
	dp = packets >= dr->loss_packets ? packets - dr->loss_packets : 0;
	dl = lost >= dr->loss_lost ? lost - dr->loss_lost : 0;
	ret = dr->loss_at && dl >= LOSS_MIN && dl * LOSS_RATIO > dp + dl;
	dr->loss_at = now;
	dr->loss_packets = packets;
	dr->loss_lost = lost;
	return ret;
}

/*
 * The polling interval: doubled, up to flush_interval_ms, when frames are
 * lost before the program (losing()) or when the first record a poll
 * finds, the oldest of its ring, waited more than four intervals (and
 * 100 us: the drain and its subscribers fall behind); halved, down to
 * poll_interval_us, after CALM_NS of neither.
 */
static void poll_adapt(struct drain *dr, int n, bool lost, uint64_t now)
{
	if (lost || (n > 0 && dr->age > 4 * dr->poll_ns + 100000)) {
		dr->calm_since = now;
		dr->poll_ns = dr->poll_ns * 2 < dr->poll_max_ns ?
				      dr->poll_ns * 2 : dr->poll_max_ns;
	} else if (now - dr->calm_since >= CALM_NS) {
		dr->calm_since = now;
		dr->poll_ns = dr->poll_ns / 2 > dr->poll_min_ns ?
				      dr->poll_ns / 2 : dr->poll_min_ns;
	}
}

static void drain_rings(struct drain *dr, bool poll)
{
	uint64_t now;
	bool lost;
	int n;

	dr->n = 0; /* read the clock at the first record */
	n = xpp_reader__drain(dr->rd);
	if (n < 0)
		pr_warn("draining the rings: %s", strerror(-n));
	dr->sink.flushed(dr->sink.userdata);
	/* After the records went out: the sample costs a netlink round
	 * trip per interface, every LOSS_SAMPLE_NS at most. */
	now = n > 0 ? dr->now : xpp_mono_ns();
	lost = losing(dr, now);
	if (poll) {
		dr->polls++;
		poll_adapt(dr, n, lost, now);
		if (dr->poll_ns > dr->poll_min_ns || n >= POLL_EXIT)
			dr->poll_light = 0;
		else if (++dr->poll_light >= POLL_EXIT_POLLS) {
			dr->polling = false; /* the waiting word again */
			return;
		}
		poll_arm(dr);
	} else if ((n >= POLL_ENTER || lost) && !dr->polling) {
		/* The interval the last polling ended with: the shortest,
		 * unless frames are lost now. */
		dr->poll_light = 0;
		dr->calm_since = now;
		if (lost)
			poll_adapt(dr, n, lost, now);
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

/* The polling interval's bounds take effect at the next look; the
 * wakeup mark is gone (schema 8): wakeup_bytes and wakeup_fill_percent
 * are still read from files and clients, and change nothing. */
int drain_apply_conf(struct drain *dr, const struct xpp_conf *conf)
{
	dr->poll_min_ns = conf->poll_us * 1000ULL;
	dr->poll_max_ns = conf->flush_ms * 1000000ULL;
	if (dr->poll_max_ns < dr->poll_min_ns)
		dr->poll_max_ns = dr->poll_min_ns;
	if (dr->poll_ns < dr->poll_min_ns)
		dr->poll_ns = dr->poll_min_ns;
	if (dr->poll_ns > dr->poll_max_ns)
		dr->poll_ns = dr->poll_max_ns;
	return xpp_datapath__config_set(dr->dp, &conf->dp);
}

void drain_set_wait_hook(struct drain *dr, const struct drain_wait_hook *hook)
{
	dr->hook = *hook;
}

void drain_set_loss_hook(struct drain *dr, const struct drain_loss_hook *hook)
{
	dr->loss = *hook;
	dr->loss_at = 0;
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
	/* Until drain_apply_conf(). */
	dr->poll_ns = dr->poll_min_ns = 50 * 1000ULL;
	dr->poll_max_ns = 1000000ULL;
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
