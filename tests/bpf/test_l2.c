// SPDX-License-Identifier: GPL-2.0-only
/* Ethernet and VLAN tags: how deep the program reads them, which tag a
 * record keeps, and frames that carry no IP at all. */
#include <netinet/in.h>

#include <linux/if_ether.h>

#include "xdp_test.h"

static void test_vlan_single(void)
{
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = 17,
		.ttl = 64, .sport = 1, .dport = 2, .ip_len = 28,
		.frame_len = 46, .vlan = 100, .flags = XPP_F_VLAN,
	};
	const struct xpp_counters c = {
		.packets = 1, .bytes = 46, .ipv4 = 1, .vlan = 1, .udp = 1,
		.records = 1,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_8021Q);
	pkt_vlan(&p, 0xa000 | 100, ETH_P_IP); /* PCP 5, VID 100 */
	pkt_ipv4(&p, V4A, V4B, IPPROTO_UDP, 64, 5, 0);
	pkt_udp(&p, 1, 2);
	pkt_finish(&p);
	if (expect_one_record(&p, &w))
		expect_counters(&c);
}

static void test_vlan_qinq(void)
{
	const struct want w = {
		.src = V6A, .dst = V6B, .ip_version = 6, .proto = 6,
		.ttl = 64, .sport = 8080, .dport = 9090, .ip_len = 20,
		.frame_len = 82, .tcp_flags = 0x12, .tcp_window = 1024,
		.vlan = 4094, .flags = XPP_F_VLAN | XPP_F_VLAN_QINQ,
	};
	const struct xpp_counters c = {
		.packets = 1, .bytes = 82, .ipv6 = 1, .vlan = 1, .tcp = 1,
		.records = 1,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, 0x88a8);
	pkt_vlan(&p, 4094, ETH_P_8021Q); /* outer, service tag */
	pkt_vlan(&p, 7, ETH_P_IPV6);	 /* inner, customer tag */
	pkt_ipv6(&p, V6A, V6B, IPPROTO_TCP, 64);
	pkt_tcp(&p, 8080, 9090, TCP_SYN | TCP_ACK, 1024);
	pkt_finish(&p);
	if (expect_one_record(&p, &w))
		expect_counters(&c);
}

static void test_vlan_priority_tag(void)
{
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = 1,
		.ttl = 64, .ip_len = 28, .frame_len = 46, .flags = XPP_F_VLAN,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_8021Q);
	pkt_vlan(&p, 0x6000, ETH_P_IP); /* PCP 3, VID 0 */
	pkt_ipv4(&p, V4A, V4B, IPPROTO_ICMP, 64, 5, 0);
	pkt_icmp(&p, 0, 0);
	pkt_finish(&p);
	expect_one_record(&p, &w);
}

static void test_vlan_three_tags(void)
{
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, 0x88a8);
	pkt_vlan(&p, 10, ETH_P_8021Q);
	pkt_vlan(&p, 20, ETH_P_8021Q);
	pkt_vlan(&p, 30, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_UDP, 64, 5, 0);
	pkt_udp(&p, 1, 2);
	pkt_finish(&p);
	/* Deeper than we parse: not read, not misread. */
	expect_no_record(&p, XPP_M_VLAN_DEPTH, 1);
}

/* What tshark does, we do: this case came out of random damage. */
static void test_vlan_tpid_9100(void)
{
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = 17,
		.ttl = 64, .sport = 1, .dport = 2, .ip_len = 28,
		.frame_len = 50, .vlan = 33,
		.flags = XPP_F_VLAN | XPP_F_VLAN_QINQ,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, 0x9100);
	pkt_vlan(&p, 33, ETH_P_8021Q);
	pkt_vlan(&p, 44, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_UDP, 64, 5, 0);
	pkt_udp(&p, 1, 2);
	pkt_finish(&p);
	expect_one_record(&p, &w);
}

/* ---- frames without IP ---------------------------------------------- */

static void test_arp(void)
{
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_ARP);
	pkt_payload(&p, 28, 0);
	expect_no_record(&p, -1, 0);
}

static void test_ieee8023_length_frame(void)
{
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, 46); /* a length, not an ethertype: LLC follows */
	pkt_payload(&p, 46, 0x42);
	expect_no_record(&p, -1, 0);
}

static void test_vlan_then_arp(void)
{
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_8021Q);
	pkt_vlan(&p, 5, ETH_P_ARP);
	pkt_payload(&p, 28, 0);
	expect_no_record(&p, -1, 1);
}

TAP_GROUP(xdp_l2_tests,
	  TAP_CASE(test_vlan_single),
	  TAP_CASE(test_vlan_qinq),
	  TAP_CASE(test_vlan_priority_tag),
	  TAP_CASE(test_vlan_three_tags),
	  TAP_CASE(test_vlan_tpid_9100),
	  TAP_CASE(test_arp),
	  TAP_CASE(test_ieee8023_length_frame),
	  TAP_CASE(test_vlan_then_arp));
