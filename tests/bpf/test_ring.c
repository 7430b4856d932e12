// SPDX-License-Identifier: GPL-2.0-only
/* The per-CPU rings: order and sequence numbers, losses when a ring is
 * full, and wakeups at the mark. */
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

static void test_wakeup_only_past_mark(void)
{
	int efd = xpp_reader__epoll_fd(xt.rd);
	unsigned long long w;
	struct epoll_event ev;
	struct xpp_config cfg;
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	if (!ASSERT_OK(xdp_run_undrained(&p, 200), "200 frames"))
		return;
	/* Default: records wait, nobody is woken. Wakeups are delivered
	 * asynchronously (irq_work), so give a stray one time to show. */
	if (!ASSERT_EQ(epoll_wait(efd, &ev, 1, 100), 0, "wakeups, no mark") ||
	    !ASSERT_EQ(xpp_reader__drain(xt.rd), 200, "records drained"))
		return;

	xpp_config_init(&cfg);
	cfg.wakeup_records = 64;
	if (!ASSERT_OK(xpp_datapath__config_set(xt.dp, &cfg), "config_set"))
		return;
	/* Below the mark: still no wakeup. */
	if (!ASSERT_OK(xdp_run_undrained(&p, 63), "63 frames") ||
	    !ASSERT_EQ(epoll_wait(efd, &ev, 1, 100), 0, "wakeups below"))
		return;
	/* The 64th record crosses it. */
	if (!ASSERT_OK(xdp_run_undrained(&p, 1), "the 64th frame") ||
	    !ASSERT_EQ(epoll_wait(efd, &ev, 1, 2000), 1, "wakeup at the mark"))
		return;
	/* Further records do not wake again: one wakeup per crossing (the
	 * drain below consumes exactly one token). */
	if (!ASSERT_OK(xdp_run_undrained(&p, 136), "136 frames more"))
		return;
	w = xpp_reader__wakeups(xt.rd);
	if (!ASSERT_EQ(xpp_reader__drain(xt.rd), 200, "records drained") ||
	    !ASSERT_EQ(xt.nrecs, 400, "records read") ||
	    !ASSERT_EQ(xpp_reader__wakeups(xt.rd) - w, 1,
		       "wakeups drained") ||
	    !ASSERT_EQ(epoll_wait(efd, &ev, 1, 100), 0, "wakeups after"))
		return;
	/* Drained: the next crossing wakes again. */
	if (!ASSERT_OK(xdp_run_undrained(&p, 64), "64 frames") ||
	    !ASSERT_EQ(epoll_wait(efd, &ev, 1, 2000), 1,
		       "wakeup at the next crossing"))
		return;
	ASSERT_EQ(xpp_reader__drain(xt.rd), 64, "records drained");
	ASSERT_EQ(xpp_reader__wakeups(xt.rd) - w, 2, "wakeups drained");
}

TAP_GROUP(xdp_ring_tests,
	  TAP_CASE(test_seq_consecutive),
	  TAP_CASE(test_ring_full_counted),
	  TAP_CASE(test_wakeup_only_past_mark));
