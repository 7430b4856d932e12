// SPDX-License-Identifier: GPL-2.0-only
/* Counters and the run-time configuration: the per-interface counter
 * slots, sampling, protocol and port filters, the verdict for selected
 * frames, and counters that add up over a mixed batch. */
#include <netinet/in.h>

#include <linux/if_ether.h>

#include "xdp_test.h"

/* Counters live in per-interface slots that the program finds through a
 * per-CPU cache: every change of the mapping must reach the next frame. */
static void test_counter_slots(void)
{
	struct xpp_counters c, over;
	unsigned int i;
	struct pkt p;
	int err = 0;

	if (!xdp_reset())
		return;
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	if (!xdp_run_pass(&p) || !ASSERT_OK(xdp_counters(&c), "counters") ||
	    !ASSERT_EQ(c.packets, 1, "lo packets"))
		goto out;
	/* Unregistered: the next frame counts in the overflow slot. */
	if (!ASSERT_OK(xpp_datapath__counters_delete(xt.dp, 1), "delete lo") ||
	    !ASSERT_EQ(xpp_datapath__counters(xt.dp, 1, &c), -ENOENT,
		       "lo's counters once deleted") ||
	    !xdp_run_pass(&p) ||
	    !ASSERT_OK(xpp_datapath__counters_overflow(xt.dp, &over),
		       "overflow") ||
	    !ASSERT_EQ(over.packets, 1, "overflow packets"))
		goto out;
	/* Registered again: a fresh, zeroed slot from the next frame on. */
	if (!ASSERT_OK(xpp_datapath__counters_init(xt.dp, 1), "init lo") ||
	    !xdp_run_pass(&p) || !xdp_run_pass(&p) ||
	    !ASSERT_OK(xdp_counters(&c), "counters") ||
	    !ASSERT_EQ(c.packets, 2, "lo packets") ||
	    !ASSERT_EQ(c.records, 2, "lo records") ||
	    !ASSERT_OK(xpp_datapath__counters_overflow(xt.dp, &over),
		       "overflow") ||
	    !ASSERT_EQ(over.packets, 1, "overflow packets"))
		goto out;
	/* Registering twice keeps the counters. */
	if (!ASSERT_OK(xpp_datapath__counters_init(xt.dp, 1),
		       "init lo again") ||
	    !ASSERT_OK(xdp_counters(&c), "counters") ||
	    !ASSERT_EQ(c.packets, 2, "lo packets"))
		goto out;
	/* Another interface gets a slot of its own. */
	if (!ASSERT_OK(xpp_datapath__counters_init(xt.dp, 77), "init 77") ||
	    !xdp_run_pass(&p) || !ASSERT_OK(xdp_counters(&c), "counters") ||
	    !ASSERT_EQ(c.packets, 3, "lo packets") ||
	    !ASSERT_OK(xpp_datapath__counters(xt.dp, 77, &c), "counters 77") ||
	    !ASSERT_EQ(c.packets, 0, "packets of 77"))
		goto out;
	/* All slots taken: -ENOSPC, and the frames go to the overflow. */
	for (i = 0; i < XPP_MAX_IFACES; i++) {
		err = xpp_datapath__counters_init(xt.dp, 1000 + i);
		if (err)
			break;
	}
	if (!ASSERT_EQ(err, -ENOSPC, "init past the last slot") ||
	    !ASSERT_EQ(i, XPP_MAX_IFACES - 2, "slots after lo's and 77's") ||
	    !ASSERT_OK(xpp_datapath__counters_delete(xt.dp, 1), "delete lo") ||
	    !ASSERT_EQ(xpp_datapath__counters_init(xt.dp, 5000), 0,
		       "init 5000 in lo's slot") ||
	    !xdp_run_pass(&p) ||
	    !ASSERT_OK(xpp_datapath__counters_overflow(xt.dp, &over),
		       "overflow") ||
	    !ASSERT_EQ(over.packets, 2, "overflow packets") ||
	    !ASSERT_OK(xpp_datapath__counters(xt.dp, 5000, &c),
		       "counters 5000"))
		goto out;
	ASSERT_EQ(c.packets, 0, "packets of 5000");
out:
	/* The next case starts with lo registered again. */
	xdp_reset();
}

static void test_sampling_one_in_three(void)
{
	const struct xpp_counters want = {
		.packets = 9, .bytes = 9 * 42, .ipv4 = 9, .udp = 9,
		.records = 3, .records_skipped = 6,
	};
	struct xpp_config cfg;
	struct pkt p;
	int i;

	if (!xdp_reset())
		return;
	xpp_config_init(&cfg);
	cfg.sample_n = 3;
	if (!ASSERT_OK(xpp_datapath__config_set(xt.dp, &cfg), "config_set"))
		return;
	for (i = 0; i < 9; i++) {
		pkt_frame_udp4(&p, V4A, V4B, 1000 + i, 53, 0);
		if (!xdp_run_pass(&p))
			return;
	}
	/* Per-CPU count based: frames 0, 3 and 6 of this CPU. */
	if (!ASSERT_EQ(xt.nrecs, 3, "records"))
		return;
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(xt.recs[i].sport, 1000 + 3 * i, "sport");
		if (i)
			ASSERT_EQ(xt.recs[i].seq, xt.recs[i - 1].seq + 1,
				  "seq, one up");
	}
	expect_counters(&want);
}

static void test_proto_filter(void)
{
	const struct xpp_counters want = {
		.packets = 2, .bytes = 42 + 54, .ipv4 = 2, .udp = 1, .tcp = 1,
		.records = 1, .records_skipped = 1, .filtered = 1,
	};
	struct xpp_config cfg;
	struct pkt p;

	if (!xdp_reset())
		return;
	xpp_config_init(&cfg);
	cfg.flags = XPP_CFG_PROTO_FILTER;
	xpp_config_set_proto(&cfg, IPPROTO_TCP);
	if (!ASSERT_OK(xpp_datapath__config_set(xt.dp, &cfg), "config_set"))
		return;
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	if (!xdp_run_pass(&p))
		return;
	frame_ipv4_tcp(&p, 3, 4);
	if (!xdp_run_pass(&p) || !ASSERT_EQ(xt.nrecs, 1, "records"))
		return;
	ASSERT_EQ(xt.recs[0].proto, IPPROTO_TCP, "proto");
	ASSERT_EQ(xt.recs[0].sport, 3, "sport");
	expect_counters(&want);
}

static void test_port_filter(void)
{
	const struct xpp_counters want = {
		.packets = 5, .bytes = 3 * 42 + 54 + 58, .ipv4 = 5, .udp = 4,
		.tcp = 1, .records = 3, .records_skipped = 2, .filtered = 2,
	};
	struct xpp_config cfg;
	struct pkt p;

	if (!xdp_reset())
		return;
	xpp_config_init(&cfg);
	cfg.flags = XPP_CFG_PORT_FILTER;
	xpp_config_set_port(&cfg, 53);
	xpp_config_set_port(&cfg, 65535);
	if (!ASSERT_OK(xpp_datapath__config_set(xt.dp, &cfg), "config_set"))
		return;
	pkt_frame_udp4(&p, V4A, V4B, 40000, 53, 0); /* dport matches */
	if (!xdp_run_pass(&p))
		return;
	pkt_frame_udp4(&p, V4A, V4B, 53, 40000, 0); /* sport matches */
	if (!xdp_run_pass(&p))
		return;
	pkt_frame_udp4(&p, V4A, V4B, 54, 52, 0); /* neither */
	if (!xdp_run_pass(&p))
		return;
	frame_ipv4_tcp(&p, 65535, 1); /* TCP, highest port */
	if (!xdp_run_pass(&p))
		return;
	frame_ipv4_frag(&p, 0x2000 | 100); /* later fragment: no ports */
	if (!xdp_run_pass(&p) || !ASSERT_EQ(xt.nrecs, 3, "records"))
		return;
	ASSERT_EQ(xt.recs[0].dport, 53, "dport of the first");
	ASSERT_EQ(xt.recs[1].sport, 53, "sport of the second");
	ASSERT_EQ(xt.recs[2].sport, 65535, "sport of the third");
	expect_counters(&want);
}

static void test_drop_selected(void)
{
	const struct xpp_counters want = {
		.packets = 4, .bytes = 42 * 2 + 54 + 42, .ipv4 = 3, .udp = 2,
		.tcp = 1, .not_ip = 1, .records = 1, .records_skipped = 2,
		.filtered = 1, .dropped = 2,
	};
	struct xpp_config cfg;
	struct pkt p;

	if (!xdp_reset())
		return;
	xpp_config_init(&cfg);
	cfg.flags = XPP_CFG_PROTO_FILTER | XPP_CFG_DROP_SELECTED;
	xpp_config_set_proto(&cfg, IPPROTO_UDP);
	cfg.sample_n = 2;
	if (!ASSERT_OK(xpp_datapath__config_set(xt.dp, &cfg), "config_set"))
		return;

	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	/* The second is selected but sampled out: still the selected
	 * verdict. */
	if (!xdp_run_verdict(&p, XDP_DROP) || !xdp_run_verdict(&p, XDP_DROP))
		return;
	frame_ipv4_tcp(&p, 1, 2);
	if (!xdp_run_verdict(&p, XDP_PASS))
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_ARP);
	pkt_payload(&p, 28, 0);
	if (!xdp_run_verdict(&p, XDP_PASS) ||
	    !ASSERT_EQ(xt.nrecs, 1, "records"))
		return;
	expect_counters(&want);
}

/* A mixed batch: the counters must add up exactly. */
static void test_counters_add_up(void)
{
	struct xpp_counters c;
	struct xpp_config cfg;
	struct pkt p;
	int i;

	if (!xdp_reset())
		return;
	xpp_config_init(&cfg);
	cfg.sample_n = 4;
	cfg.flags = XPP_CFG_PROTO_FILTER;
	xpp_config_set_proto(&cfg, IPPROTO_UDP);
	xpp_config_set_proto(&cfg, IPPROTO_TCP);
	if (!ASSERT_OK(xpp_datapath__config_set(xt.dp, &cfg), "config_set"))
		return;
	for (i = 0; i < 300; i++) {
		switch (i % 5) {
		case 0:
			pkt_frame_udp4(&p, V4A, V4B, i, 1, i % 7);
			break;
		case 1:
			frame_ipv4_tcp(&p, i, 2);
			break;
		case 2:
			pkt_init(&p);
			pkt_eth(&p, ETH_P_IPV6);
			pkt_ipv6(&p, V6A, V6B, IPPROTO_ICMPV6, 64);
			pkt_icmp(&p, 135, 0);
			pkt_finish(&p);
			break;
		case 3:
			pkt_init(&p);
			pkt_eth(&p, ETH_P_ARP);
			pkt_payload(&p, 28, 0);
			break;
		default:
			pkt_frame_udp4(&p, V4A, V4B, i, 1, 0);
			p.len = 14 + i % 20; /* truncated IPv4 */
		}
		if (!xdp_run_pass(&p))
			return;
	}
	if (!ASSERT_OK(xdp_counters(&c), "counters"))
		return;
	ASSERT_EQ(c.packets, 300, "packets");
	ASSERT_EQ(c.not_ip, 120, "not_ip");
	ASSERT_EQ(c.filtered, 60, "filtered");
	/* 120 UDP/TCP selected, one in four recorded. */
	ASSERT_EQ(c.records, 30, "records");
	ASSERT_EQ(c.records_skipped, 60 + 90, "records_skipped");
	ASSERT_EQ(c.records_lost, 0, "records_lost");
	ASSERT_EQ(c.packets,
		  c.records + c.records_lost + c.records_skipped + c.not_ip,
		  "packets = records + lost + skipped + not IP");
	ASSERT_EQ(c.malformed[XPP_M_IP4_TRUNC], 60, "malformed.ip4_trunc");
	ASSERT_EQ(xt.nrecs, 30, "records read");
}

TAP_GROUP(xdp_config_tests,
	  TAP_CASE(test_counter_slots),
	  TAP_CASE(test_sampling_one_in_three),
	  TAP_CASE(test_proto_filter),
	  TAP_CASE(test_port_filter),
	  TAP_CASE(test_drop_selected),
	  TAP_CASE(test_counters_add_up));
