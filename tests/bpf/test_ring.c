// SPDX-License-Identifier: GPL-2.0-only
/* The per-CPU rings: order and sequence numbers, losses when a ring is
 * full, and the reader's waiting word: one wakeup per wait, none while
 * the reader is not waiting. */
#include <sys/epoll.h>

#include "xdp_test.h"

static void test_seq_consecutive(void)
{
	struct pkt p;
	int i;

	if (!xdp_reset())
		return;
	for (i = 0; i < 100; i++) {
		pkt_frame_udp4(&p, V4A, V4B, i, i, 0);
		if (!xdp_run_pass(&p))
			return;
	}
	if (!ASSERT_EQ(xt.nrecs, 100, "records"))
		return;
	for (i = 1; i < 100; i++) {
		if (!ASSERT_EQ(xt.recs[i].seq, (__u32)(xt.recs[0].seq + i),
			       "seq") ||
		    !ASSERT_GE(xt.recs[i].ts_ns, xt.recs[i - 1].ts_ns,
			       "ts_ns, not before the one before") ||
		    !ASSERT_EQ(xt.recs[i].sport, i, "sport")) {
			tap_diag("record %d", i);
			return;
		}
	}
}

/* A ring that fills up loses records: each loss is counted, and the
 * sequence numbers show the gap. */
static void test_ring_full_counted(void)
{
	struct xpp_datapath_opts o = { .ring_bytes = XPP_RING_BYTES_MIN };
	const __u32 sent = 2000, room = 819; /* 64 KiB / 80 records */
	struct xpp_reader *srd = NULL;
	struct xpp_datapath *small;
	struct xpp_counters c;
	__u32 verdict, i, first_lost;
	struct pkt p;
	int n;

	small = xpp_datapath__open(&o);
	if (!ASSERT_OK_PTR(small, "open with the smallest rings"))
		return;
	if (!ASSERT_OK(xpp_datapath__counters_init(small, 1), "counters_init"))
		goto out;
	srd = xpp_reader__new(small, xdp_collect, NULL);
	if (!ASSERT_OK_PTR(srd, "reader"))
		goto out;
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	for (i = 0; i < sent; i++)
		if (xdp_test_run(xpp_datapath__prog_fd(small), p.b, p.len, NULL,
				 &verdict) < 0)
			break;
	if (!ASSERT_EQ(i, sent, "frames run"))
		goto out;
	xt.nrecs = 0;
	n = xpp_reader__drain(srd);
	if (!ASSERT_OK(xpp_datapath__counters(small, 1, &c), "counters"))
		goto out;
	ASSERT_EQ(c.packets, sent, "packets");
	ASSERT_EQ(c.records, room, "records");
	ASSERT_EQ(c.records_lost, sent - room, "records_lost");
	if (!ASSERT_EQ(n, room, "records drained") ||
	    !ASSERT_EQ(xt.nrecs, room, "records read"))
		goto out;
	first_lost = xt.recs[room - 1].seq + 1;
	/* One more record after draining: its seq jumps over the loss. */
	if (!ASSERT_OK(xdp_test_run(xpp_datapath__prog_fd(small), p.b, p.len,
				    NULL, &verdict),
		       "test run after the drain") ||
	    !ASSERT_EQ(xpp_reader__drain(srd), 1, "records drained") ||
	    !ASSERT_EQ(xt.nrecs, room + 1, "records read"))
		goto out;
	ASSERT_EQ(xt.recs[room].seq - first_lost, sent - room, "seq gap");
out:
	xpp_reader__free(srd);
	xpp_datapath__destroy(small);
	xt.nrecs = 0;
}

/* Wakeups are delivered asynchronously (irq_work): a stray one is
 * given this long to show. */
#define STRAY_MS 100

/* The word clear (the reader is draining): records never wake it. */
static void test_no_wakeup_while_draining(void)
{
	int efd = xpp_reader__epoll_fd(xt.rd);
	unsigned long long w = xpp_reader__wakeups(xt.rd);
	struct epoll_event ev;
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	if (!ASSERT_EQ(xpp_datapath__wait_word(xt.dp), 0, "word, at first") ||
	    !ASSERT_OK(xdp_run_undrained(&p, 200), "200 frames") ||
	    !ASSERT_EQ(epoll_wait(efd, &ev, 1, STRAY_MS), 0, "wakeups"))
		return;
	ASSERT_EQ(xpp_reader__drain(xt.rd), 200, "records drained");
	ASSERT_EQ(xpp_reader__wakeups(xt.rd) - w, 0, "tokens");
}

/* The word set and one record: exactly one token, the word cleared; the
 * records after it wake nobody. */
static void test_wait_one_wakeup(void)
{
	int efd = xpp_reader__epoll_fd(xt.rd);
	unsigned long long w;
	struct epoll_event ev;
	struct pkt p;
	int round;

	if (!xdp_reset())
		return;
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	w = xpp_reader__wakeups(xt.rd);
	for (round = 0; round < 2; round++) {
		if (!ASSERT_TRUE(xpp_reader__wait_prepare(xt.rd,
							  XPP_WAIT_RECORDS),
				 "empty rings: may block") ||
		    !ASSERT_EQ(xpp_datapath__wait_word(xt.dp), XPP_WAIT_RECORDS,
			       "word set") ||
		    !ASSERT_EQ(epoll_wait(efd, &ev, 1, STRAY_MS), 0,
			       "wakeups before a record") ||
		    !ASSERT_OK(xdp_run_undrained(&p, 1), "one frame") ||
		    !ASSERT_EQ(xpp_datapath__wait_word(xt.dp), 0,
			       "word cleared by the producer") ||
		    !ASSERT_EQ(epoll_wait(efd, &ev, 1, 2000), 1, "a wakeup") ||
		    !ASSERT_OK(xdp_run_undrained(&p, 99), "99 frames more") ||
		    !ASSERT_TRUE(!xpp_reader__wait_end(xt.rd),
				  "word already clear after the wakeup") ||
		    !ASSERT_EQ(xpp_reader__drain(xt.rd), 100, "records") ||
		    !ASSERT_EQ(xpp_reader__wakeups(xt.rd) - w, round + 1,
			       "exactly one token per wait") ||
		    !ASSERT_EQ(epoll_wait(efd, &ev, 1, STRAY_MS), 0,
			       "wakeups after the drain")) {
			tap_diag("round %d", round);
			return;
		}
	}
}

/* A record already there when the reader sets the word: it must not
 * block, and the word is clear again (no token on its way either). */
static void test_wait_sees_record(void)
{
	int efd = xpp_reader__epoll_fd(xt.rd);
	struct epoll_event ev;
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	if (!ASSERT_OK(xdp_run_undrained(&p, 1), "one frame") ||
	    !ASSERT_TRUE(!xpp_reader__wait_prepare(xt.rd, XPP_WAIT_RECORDS),
			  "a record waits: do not block") ||
	    !ASSERT_EQ(xpp_datapath__wait_word(xt.dp), 0, "word clear") ||
	    !ASSERT_EQ(epoll_wait(efd, &ev, 1, STRAY_MS), 0, "wakeups"))
		return;
	ASSERT_EQ(xpp_reader__drain(xt.rd), 1, "records drained");
	/* Set and woken by something else: the reader clears it. */
	if (!ASSERT_TRUE(xpp_reader__wait_prepare(xt.rd, XPP_WAIT_RECORDS),
			 "empty: may block"))
		return;
	ASSERT_TRUE(xpp_reader__wait_end(xt.rd), "cleared by the reader");
	ASSERT_EQ(xpp_datapath__wait_word(xt.dp), 0, "word clear");
}

/* XPP_WAIT_FLOWS: the scan is parked and records are off; the first new
 * flow wakes the reader once, flows it already has do not. */
static void test_wait_new_flow(void)
{
	int efd = xpp_reader__epoll_fd(xt.rd);
	unsigned long long w;
	struct epoll_event ev;
	struct xpp_config cfg;
	struct pkt p;

	if (!xdp_reset())
		return;
	xpp_config_init(&cfg);
	cfg.flags |= XPP_CFG_FLOWS | XPP_CFG_NO_RECORDS;
	if (!ASSERT_OK(xpp_datapath__config_set(xt.dp, &cfg), "flows on"))
		return;
	w = xpp_reader__wakeups(xt.rd);
	pkt_frame_udp4(&p, V4A, V4B, 40001, 40002, 0);
	if (!ASSERT_OK(xdp_run_undrained(&p, 1), "a first flow") ||
	    !ASSERT_EQ(epoll_wait(efd, &ev, 1, STRAY_MS), 0,
		       "no wakeup: not waiting"))
		goto out;
	if (!ASSERT_TRUE(xpp_reader__wait_prepare(xt.rd, XPP_WAIT_FLOWS),
			 "may block") ||
	    !ASSERT_OK(xdp_run_undrained(&p, 3), "the same flow again") ||
	    !ASSERT_EQ(xpp_datapath__wait_word(xt.dp), XPP_WAIT_FLOWS,
		       "word still set: no new flow") ||
	    !ASSERT_EQ(epoll_wait(efd, &ev, 1, STRAY_MS), 0, "no wakeup"))
		goto out;
	pkt_frame_udp4(&p, V4A, V4B, 40003, 40004, 0);
	if (!ASSERT_OK(xdp_run_undrained(&p, 2), "a new flow") ||
	    !ASSERT_EQ(xpp_datapath__wait_word(xt.dp), 0, "word cleared") ||
	    !ASSERT_EQ(epoll_wait(efd, &ev, 1, 2000), 1, "a wakeup"))
		goto out;
	ASSERT_EQ(xpp_reader__drain(xt.rd), 0, "no records");
	ASSERT_EQ(xpp_reader__wakeups(xt.rd) - w, 1, "one token");
out:
	xpp_reader__wait_end(xt.rd);
	xdp_reset();
}

/* The reader polls for records and waits only for flows (the word is
 * XPP_WAIT_FLOWS alone): records already there do not stop it blocking,
 * and records that come neither wake it nor clear the word; a new flow
 * still does. */
static void test_polling_waits_for_flows_only(void)
{
	int efd = xpp_reader__epoll_fd(xt.rd);
	unsigned long long w;
	struct epoll_event ev;
	struct xpp_config cfg;
	struct pkt p;

	if (!xdp_reset())
		return;
	xpp_config_init(&cfg);
	cfg.flags |= XPP_CFG_FLOWS;
	if (!ASSERT_OK(xpp_datapath__config_set(xt.dp, &cfg), "flows on"))
		return;
	w = xpp_reader__wakeups(xt.rd);
	pkt_frame_udp4(&p, V4A, V4B, 40011, 40012, 0);
	if (!ASSERT_OK(xdp_run_undrained(&p, 5), "a flow, five records") ||
	    !ASSERT_TRUE(xpp_reader__wait_prepare(xt.rd, XPP_WAIT_FLOWS),
			 "records in the rings: may block all the same") ||
	    !ASSERT_OK(xdp_run_undrained(&p, 50), "50 records more") ||
	    !ASSERT_EQ(xpp_datapath__wait_word(xt.dp), XPP_WAIT_FLOWS,
		       "word still set: records do not take it") ||
	    !ASSERT_EQ(epoll_wait(efd, &ev, 1, STRAY_MS), 0,
		       "no wakeup for records"))
		goto out;
	pkt_frame_udp4(&p, V4A, V4B, 40013, 40014, 0);
	if (!ASSERT_OK(xdp_run_undrained(&p, 1), "a new flow") ||
	    !ASSERT_EQ(xpp_datapath__wait_word(xt.dp), 0, "word cleared") ||
	    !ASSERT_EQ(epoll_wait(efd, &ev, 1, 2000), 1, "a wakeup"))
		goto out;
	ASSERT_EQ(xpp_reader__drain(xt.rd), 56, "every record, drained");
	ASSERT_EQ(xpp_reader__wakeups(xt.rd) - w, 1, "one token");
out:
	xpp_reader__wait_end(xt.rd);
	xdp_reset();
}

TAP_GROUP(xdp_ring_tests,
	  TAP_CASE(test_seq_consecutive),
	  TAP_CASE(test_ring_full_counted),
	  TAP_CASE(test_no_wakeup_while_draining),
	  TAP_CASE(test_wait_one_wakeup),
	  TAP_CASE(test_wait_sees_record),
	  TAP_CASE(test_wait_new_flow),
	  TAP_CASE(test_polling_waits_for_flows_only));
