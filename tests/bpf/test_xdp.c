// SPDX-License-Identifier: GPL-2.0-only
/* The cases of the BPF tests, one section per area; xdp_test.c runs them. */
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>

#include "util.h"
#include "xdp_test.h"

/* ==================================================================== */
/* Ethernet and VLAN tags: how deep the program reads them, which tag a
 * record keeps, and frames that carry no IP at all. */

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

/* ==================================================================== */
/* IPv4: the transports a record names, options, fragments, and lengths
 * the header gets wrong in ways decoders accept. */

static void test_ipv4_udp(void)
{
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = 17,
		.ttl = 64, .sport = 40000, .dport = 53, .ip_len = 46,
		.frame_len = 60,
	};
	const struct xpp_counters c = {
		.packets = 1, .bytes = 60, .ipv4 = 1, .udp = 1, .records = 1,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_frame_udp4(&p, V4A, V4B, 40000, 53, 18);
	if (expect_one_record(&p, &w))
		expect_counters(&c);
}

static void test_ipv4_tcp(void)
{
	const struct want w = {
		.src = V4B, .dst = V4A, .ip_version = 4, .proto = 6,
		.ttl = 1, .sport = 443, .dport = 51000, .ip_len = 140,
		.frame_len = 154, .tcp_flags = 0x19, .tcp_window = 501,
	};
	const struct xpp_counters c = {
		.packets = 1, .bytes = 154, .ipv4 = 1, .tcp = 1, .records = 1,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IP);
	pkt_ipv4(&p, V4B, V4A, IPPROTO_TCP, 1, 5, 0x4000 /* DF */);
	pkt_tcp(&p, 443, 51000, TCP_ACK | TCP_PSH | TCP_FIN, 501);
	pkt_payload(&p, 100, 0);
	pkt_finish(&p);
	if (expect_one_record(&p, &w))
		expect_counters(&c);
}

static void test_ipv4_icmp(void)
{
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = 1,
		.ttl = 255, .sport = 3, .dport = 4, .ip_len = 56,
		.frame_len = 70,
	};
	const struct xpp_counters c = {
		.packets = 1, .bytes = 70, .ipv4 = 1, .icmp = 1, .records = 1,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_ICMP, 255, 5, 0);
	pkt_icmp(&p, 3, 4); /* unreachable, fragmentation needed */
	pkt_payload(&p, 28, 0x45);
	pkt_finish(&p);
	if (expect_one_record(&p, &w))
		expect_counters(&c);
}

static void test_ipv4_options(void)
{
	unsigned int ihl;
	struct pkt p;

	for (ihl = 6; ihl <= 15; ihl += 9) {
		const struct want w = {
			.src = V4A, .dst = V4B, .ip_version = 4, .proto = 6,
			.ttl = 64, .sport = 1000 + ihl, .dport = 2000,
			.ip_len = ihl * 4 + 20, .frame_len = 14 + ihl * 4 + 20,
			.tcp_flags = TCP_SYN, .tcp_window = 7,
			.flags = XPP_F_IP_OPTIONS,
		};

		if (!xdp_reset())
			return;
		pkt_init(&p);
		pkt_eth(&p, ETH_P_IP);
		pkt_ipv4(&p, V4A, V4B, IPPROTO_TCP, 64, ihl, 0);
		pkt_tcp(&p, 1000 + ihl, 2000, TCP_SYN, 7);
		pkt_finish(&p);
		if (!expect_one_record(&p, &w)) {
			tap_diag("with IHL %u", ihl);
			return;
		}
	}
}

static void test_ipv4_first_fragment(void)
{
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = 17,
		.ttl = 64, .sport = 4444, .dport = 5555, .ip_len = 44,
		.frame_len = 58, .flags = XPP_F_FRAGMENT,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	frame_ipv4_frag(&p, 0x2000); /* MF, offset 0 */
	expect_one_record(&p, &w);
}

static void test_ipv4_later_fragment(void)
{
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = 17,
		.ttl = 64, .ip_len = 44, .frame_len = 58,
		.flags = XPP_F_FRAGMENT | XPP_F_FRAG_LATER,
	};
	const struct xpp_counters c = {
		.packets = 1, .bytes = 58, .ipv4 = 1, .udp = 1, .records = 1,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	frame_ipv4_frag(&p, 0x2000 | 185); /* MF, offset 1480 */
	if (expect_one_record(&p, &w))
		expect_counters(&c);
}

static void test_ipv4_last_fragment(void)
{
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = 17,
		.ttl = 64, .ip_len = 44, .frame_len = 58,
		.flags = XPP_F_FRAGMENT | XPP_F_FRAG_LATER,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	frame_ipv4_frag(&p, 1); /* no MF, offset 8 */
	expect_one_record(&p, &w);
}

/* What tshark does, we do: this case came out of random damage. */
static void test_ipv4_total_length_zero(void)
{
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = 17,
		.ttl = 64, .sport = 7, .dport = 8, .ip_len = 38,
		.frame_len = 52,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_frame_udp4(&p, V4A, V4B, 7, 8, 10);
	pkt_put16(&p, 16, 0); /* segmentation offload: length 0 */
	expect_one_record(&p, &w);
}

TAP_GROUP(xdp_ipv4_tests,
	  TAP_CASE(test_ipv4_udp),
	  TAP_CASE(test_ipv4_tcp),
	  TAP_CASE(test_ipv4_icmp),
	  TAP_CASE(test_ipv4_options),
	  TAP_CASE(test_ipv4_first_fragment),
	  TAP_CASE(test_ipv4_later_fragment),
	  TAP_CASE(test_ipv4_last_fragment),
	  TAP_CASE(test_ipv4_total_length_zero));

/* ==================================================================== */
/* IPv6: the transports a record names and the extension headers walked to
 * find them: chains, fragments, the walk's limit, and options that lie. */

static void test_ipv6_udp(void)
{
	const struct want w = {
		.src = V6A, .dst = V6B, .ip_version = 6, .proto = 17,
		.ttl = 64, .sport = 5353, .dport = 5353, .ip_len = 18,
		.frame_len = 72,
	};
	const struct xpp_counters c = {
		.packets = 1, .bytes = 72, .ipv6 = 1, .udp = 1, .records = 1,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, IPPROTO_UDP, 64);
	pkt_udp(&p, 5353, 5353);
	pkt_payload(&p, 10, 1);
	pkt_finish(&p);
	if (expect_one_record(&p, &w))
		expect_counters(&c);
}

static void test_ipv6_tcp(void)
{
	const struct want w = {
		.src = V6B, .dst = V6A, .ip_version = 6, .proto = 6,
		.ttl = 3, .sport = 22, .dport = 60001, .ip_len = 20,
		.frame_len = 74, .tcp_flags = 0x14,
	};
	const struct xpp_counters c = {
		.packets = 1, .bytes = 74, .ipv6 = 1, .tcp = 1, .records = 1,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6B, V6A, IPPROTO_TCP, 3);
	pkt_tcp(&p, 22, 60001, TCP_RST | TCP_ACK, 0);
	pkt_finish(&p);
	if (expect_one_record(&p, &w))
		expect_counters(&c);
}

static void test_ipv6_icmpv6(void)
{
	const struct want w = {
		.src = V6A, .dst = V6B, .ip_version = 6, .proto = 58,
		.ttl = 255, .sport = 128, .dport = 0, .ip_len = 8,
		.frame_len = 62,
	};
	const struct xpp_counters c = {
		.packets = 1, .bytes = 62, .ipv6 = 1, .icmp = 1, .records = 1,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, IPPROTO_ICMPV6, 255);
	pkt_icmp(&p, 128, 0); /* echo request */
	pkt_finish(&p);
	if (expect_one_record(&p, &w))
		expect_counters(&c);
}

/* ---- extension headers ---------------------------------------------- */

static void test_ipv6_ext_chain(void)
{
	/* 8 + 16 + 24 + 8 + 24 (AH: (4 + 2) * 4) + 8 */
	const struct want w = {
		.src = V6A, .dst = V6B, .ip_version = 6, .proto = 17,
		.ttl = 9, .sport = 500, .dport = 4500, .ip_len = 88,
		.frame_len = 142, .flags = XPP_F_IPV6_EXT | XPP_F_FRAGMENT,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, IPPROTO_HOPOPTS, 9);
	pkt_ext(&p, IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, 0);
	pkt_ext(&p, IPPROTO_DSTOPTS, IPPROTO_ROUTING, 1);
	pkt_ext(&p, IPPROTO_ROUTING, IPPROTO_FRAGMENT, 2);
	pkt_frag6(&p, IPPROTO_AH, 0, 1, 0xabcd); /* first fragment */
	pkt_ext(&p, IPPROTO_AH, IPPROTO_UDP, 4);
	pkt_udp(&p, 500, 4500);
	pkt_finish(&p);
	expect_one_record(&p, &w);
}

static void test_ipv6_later_fragment(void)
{
	static const uint16_t offsets[] = { 1, 100, 8191 }; /* 8-byte units */
	const struct want w = {
		.src = V6A, .dst = V6B, .ip_version = 6, .proto = 6,
		.ttl = 64, .ip_len = 28, .frame_len = 82,
		.flags = XPP_F_IPV6_EXT | XPP_F_FRAGMENT | XPP_F_FRAG_LATER,
	};
	struct pkt p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(offsets); i++) {
		if (!xdp_reset())
			return;
		pkt_init(&p);
		pkt_eth(&p, ETH_P_IPV6);
		pkt_ipv6(&p, V6A, V6B, IPPROTO_FRAGMENT, 64);
		pkt_frag6(&p, IPPROTO_TCP, offsets[i], i == 1, 7);
		pkt_tcp(&p, 1, 2, TCP_SYN, 3); /* payload, not a header */
		pkt_finish(&p);
		if (!expect_one_record(&p, &w)) {
			tap_diag("at offset %u", offsets[i]);
			return;
		}
	}
}

static void test_ipv6_atomic_fragment(void)
{
	const struct want w = {
		.src = V6A, .dst = V6B, .ip_version = 6, .proto = 17,
		.ttl = 64, .sport = 7, .dport = 8, .ip_len = 16,
		.frame_len = 70, .flags = XPP_F_IPV6_EXT,
	};
	struct pkt p;

	/* Fragment header with offset 0 and M clear (RFC 6946): the
	 * packet is whole, not a fragment. */
	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, IPPROTO_FRAGMENT, 64);
	pkt_frag6(&p, IPPROTO_UDP, 0, 0, 7);
	pkt_udp(&p, 7, 8);
	pkt_finish(&p);
	expect_one_record(&p, &w);
}

/* n destination-options headers, then UDP. */
static void ipv6_dst_chain(struct pkt *p, int n)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_IPV6);
	pkt_ipv6_dstopts(p, V6A, V6B, 64, n, IPPROTO_UDP);
	pkt_udp(p, 1111, 2222);
	pkt_finish(p);
}

static void test_ipv6_ext_at_limit(void)
{
	const struct want w = {
		.src = V6A, .dst = V6B, .ip_version = 6, .proto = 17,
		.ttl = 64, .sport = 1111, .dport = 2222,
		.ip_len = XPP_IPV6_EXT_MAX * 8 + 8,
		.frame_len = 62 + XPP_IPV6_EXT_MAX * 8,
		.flags = XPP_F_IPV6_EXT,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	ipv6_dst_chain(&p, XPP_IPV6_EXT_MAX);
	expect_one_record(&p, &w);
}

static void test_ipv6_ext_over_limit(void)
{
	const struct want w = {
		.src = V6A, .dst = V6B, .ip_version = 6,
		.proto = IPPROTO_DSTOPTS, .ttl = 64,
		.ip_len = (XPP_IPV6_EXT_MAX + 1) * 8 + 8,
		.frame_len = 62 + (XPP_IPV6_EXT_MAX + 1) * 8,
		.flags = XPP_F_IPV6_EXT | XPP_F_EXT_LIMIT,
	};
	struct xpp_counters c = {
		.packets = 1, .ipv6 = 1, .other = 1, .records = 1,
		.malformed[XPP_M_EXT_LIMIT] = 1,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	ipv6_dst_chain(&p, XPP_IPV6_EXT_MAX + 1);
	c.bytes = p.len;
	if (expect_one_record(&p, &w))
		expect_counters(&c);
}

static void test_ipv6_no_next_header(void)
{
	const struct want w = {
		.src = V6A, .dst = V6B, .ip_version = 6, .proto = 59,
		.ttl = 1, .ip_len = 16, .frame_len = 70,
		.flags = XPP_F_IPV6_EXT,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, IPPROTO_HOPOPTS, 1);
	pkt_ext(&p, IPPROTO_HOPOPTS, 59 /* no next header */, 0);
	pkt_payload(&p, 8, 0x22);
	pkt_finish(&p);
	expect_one_record(&p, &w);
}

/* What tshark does, we do: these cases came out of random damage. */
static void test_ipv6_mobility_header_walked(void)
{
	const struct want w = {
		.src = V6A, .dst = V6B, .ip_version = 6, .proto = 17,
		.ttl = 64, .sport = 9, .dport = 10, .ip_len = 24,
		.frame_len = 78, .flags = XPP_F_IPV6_EXT,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, 135, 64);
	pkt_ext(&p, 135, IPPROTO_UDP, 1);
	pkt_udp(&p, 9, 10);
	pkt_finish(&p);
	expect_one_record(&p, &w);
}

static void test_ipv6_option_past_packet(void)
{
	const struct want bad = {
		.src = V6A, .dst = V6B, .ip_version = 6,
		.proto = IPPROTO_DSTOPTS, .ttl = 64, .ip_len = 16,
		.frame_len = 70, .flags = XPP_F_IPV6_EXT | XPP_F_EXT_BAD,
	};
	const struct want tolerated = {
		.src = V6A, .dst = V6B, .ip_version = 6, .proto = 17,
		.ttl = 64, .sport = 9, .dport = 10, .ip_len = 16,
		.frame_len = 70, .flags = XPP_F_IPV6_EXT,
	};
	struct xpp_counters c = {
		.packets = 1, .ipv6 = 1, .other = 1, .records = 1,
		.malformed[XPP_M_EXT_BAD] = 1,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, IPPROTO_DSTOPTS, 64);
	pkt_ext(&p, IPPROTO_DSTOPTS, IPPROTO_UDP, 0);
	pkt_udp(&p, 9, 10);
	pkt_finish(&p);
	p.b[54 + 3] = 200; /* PadN of 200 bytes: past the packet's end */
	c.bytes = p.len;
	if (!expect_one_record(&p, &bad) || !expect_counters(&c))
		return;
	/* Past its header but inside the packet: tolerated. */
	if (!xdp_reset())
		return;
	p.b[54 + 3] = 5;
	expect_one_record(&p, &tolerated);
}

TAP_GROUP(xdp_ipv6_tests,
	  TAP_CASE(test_ipv6_udp),
	  TAP_CASE(test_ipv6_tcp),
	  TAP_CASE(test_ipv6_icmpv6),
	  TAP_CASE(test_ipv6_ext_chain),
	  TAP_CASE(test_ipv6_later_fragment),
	  TAP_CASE(test_ipv6_atomic_fragment),
	  TAP_CASE(test_ipv6_ext_at_limit),
	  TAP_CASE(test_ipv6_ext_over_limit),
	  TAP_CASE(test_ipv6_no_next_header),
	  TAP_CASE(test_ipv6_mobility_header_walked),
	  TAP_CASE(test_ipv6_option_past_packet));

/* ==================================================================== */
/* Transport headers: which protocols have ports, how little of a header is
 * read, and what past the IP packet is never taken for one. */

static void test_ipv4_other_l4(void)
{
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = 47,
		.ttl = 64, .ip_len = 24, .frame_len = 38,
	};
	const struct xpp_counters c = {
		.packets = 1, .bytes = 38, .ipv4 = 1, .other = 1, .records = 1,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, 47 /* GRE */, 64, 5, 0);
	pkt_payload(&p, 4, 0x11); /* would be ports if read as TCP/UDP */
	pkt_finish(&p);
	if (expect_one_record(&p, &w))
		expect_counters(&c);
}

/* What tshark does, we do: these cases came out of random damage. */
static void test_udplite_sctp_dccp_ports(void)
{
	static const uint8_t protos[] = { 136, 132, 33 };
	struct pkt p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(protos); i++) {
		const struct want w = {
			.src = V4A, .dst = V4B, .ip_version = 4,
			.proto = protos[i], .ttl = 64, .sport = 3868,
			.dport = 2905, .ip_len = 32, .frame_len = 46,
		};

		if (!xdp_reset())
			return;
		pkt_init(&p);
		pkt_eth(&p, ETH_P_IP);
		pkt_ipv4(&p, V4A, V4B, protos[i], 64, 5, 0);
		pkt_put16(&p, p.len, 0); /* room for the header */
		pkt_payload(&p, 12, 0);
		pkt_put16(&p, 34, 3868);
		pkt_put16(&p, 36, 2905);
		pkt_finish(&p);
		if (!expect_one_record(&p, &w)) {
			tap_diag("protocol %u", protos[i]);
			return;
		}
	}
}

static void test_tcp_bad_data_offset(void)
{
	/* Ports only: like decoders, nothing past them is trusted. */
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = 6,
		.ttl = 64, .sport = 10, .dport = 20, .ip_len = 40,
		.frame_len = 54, .flags = XPP_F_TCP_BAD_DOFF,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	frame_ipv4_tcp(&p, 10, 20);
	p.b[14 + 20 + 12] = 2 << 4;
	expect_one_record(&p, &w);
}

/* ICMP and UDP headers shorter than their fixed part: what is there is
 * read, the rest is 0 and flagged. */
static void test_trunc_icmp_one_byte(void)
{
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = 1,
		.ttl = 64, .sport = 8, .ip_len = 21, .frame_len = 35,
		.flags = XPP_F_L4_TRUNC,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_ICMP, 64, 5, 0);
	pkt_payload(&p, 1, 8); /* type 8, nothing else */
	pkt_finish(&p);
	expect_one_record(&p, &w);
}

/* Ethernet pads short frames to 60 bytes: padding past the IP length is
 * never read as an L4 header. */
static void test_padding_not_read_as_l4(void)
{
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = 17,
		.ttl = 64, .ip_len = 20, .frame_len = 60,
		.flags = XPP_F_L4_TRUNC,
	};
	const struct xpp_counters c = {
		.packets = 1, .bytes = 60, .ipv4 = 1, .udp = 1, .records = 1,
		.malformed[XPP_M_L4_TRUNC] = 1,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_UDP, 64, 5, 0);
	pkt_finish(&p); /* total length 20: no UDP header */
	pkt_payload(&p, 26, 0x77);
	if (expect_one_record(&p, &w))
		expect_counters(&c);
}

TAP_GROUP(xdp_l4_tests,
	  TAP_CASE(test_ipv4_other_l4),
	  TAP_CASE(test_udplite_sctp_dccp_ports),
	  TAP_CASE(test_tcp_bad_data_offset),
	  TAP_CASE(test_trunc_icmp_one_byte),
	  TAP_CASE(test_padding_not_read_as_l4));

/* ==================================================================== */
/* Frames cut short and IP headers that contradict themselves: what is
 * read, what is flagged, and what each counts. */

/* ---- truncation at every length ------------------------------------- */

enum {
	READ_PORTS = 1,
	READ_TCP_FLAGS = 2,
	READ_TCP_WINDOW = 4,
	READ_TCP = READ_PORTS | READ_TCP_FLAGS | READ_TCP_WINDOW,
};

/* What the program makes of the frame cut to a length from .from up to
 * the next band's .from. */
struct trunc_band {
	size_t from;
	/* Besides packets and bytes; .records says whether there is one. */
	struct xpp_counters c;
	/* The record: the whole frame's, with flags added, the protocol
	 * the walk ended at, and of the L4 fields only those read (the
	 * others 0). */
	int proto, flags;
	unsigned int read;
};

#define TRUNC_BANDS_MAX 10

struct trunc_case {
	const char *name;
	void (*build)(struct pkt *p, const char *src, const char *dst);
	size_t len; /* of the whole frame */
	struct want rec; /* of the whole frame, but frame_len and proto */
	struct trunc_band bands[TRUNC_BANDS_MAX]; /* ascending .from */
};

static const struct trunc_case trunc_cases[] = {
{
	.name = "vlan_ipv4_tcp",
	.build = pkt_frame_vlan_tcp4,
	.len = 64, /* 14 + 4 + 20 + 20 + 6 */
	.rec = { .src = V4A, .dst = V4B, .ip_version = 4, .ttl = 64,
		 .sport = 1234, .dport = 80, .ip_len = 46,
		 .tcp_flags = TCP_SYN, .tcp_window = 29200, .vlan = 42,
		 .flags = XPP_F_VLAN },
	.bands = {
		{ .from = 0,
		  .c = { .not_ip = 1, .malformed[XPP_M_ETH_TRUNC] = 1 } },
		{ .from = 14,
		  .c = { .not_ip = 1, .malformed[XPP_M_VLAN_TRUNC] = 1 } },
		{ .from = 18,
		  .c = { .not_ip = 1, .vlan = 1,
			 .malformed[XPP_M_IP4_TRUNC] = 1 } },
		/* The IPv4 header whole: a record from here on. */
		{ .from = 38,
		  .c = { .vlan = 1, .ipv4 = 1, .tcp = 1, .records = 1,
			 .malformed[XPP_M_IP_TRUNC] = 1 },
		  .proto = IPPROTO_TCP,
		  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC },
		{ .from = 42,
		  .c = { .vlan = 1, .ipv4 = 1, .tcp = 1, .records = 1,
			 .malformed[XPP_M_IP_TRUNC] = 1 },
		  .proto = IPPROTO_TCP,
		  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC,
		  .read = READ_PORTS },
		{ .from = 52,
		  .c = { .vlan = 1, .ipv4 = 1, .tcp = 1, .records = 1,
			 .malformed[XPP_M_IP_TRUNC] = 1 },
		  .proto = IPPROTO_TCP,
		  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC,
		  .read = READ_PORTS | READ_TCP_FLAGS },
		{ .from = 54,
		  .c = { .vlan = 1, .ipv4 = 1, .tcp = 1, .records = 1,
			 .malformed[XPP_M_IP_TRUNC] = 1 },
		  .proto = IPPROTO_TCP,
		  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC,
		  .read = READ_TCP },
		/* The TCP header whole, the payload cut. */
		{ .from = 58,
		  .c = { .vlan = 1, .ipv4 = 1, .tcp = 1, .records = 1,
			 .malformed[XPP_M_IP_TRUNC] = 1 },
		  .proto = IPPROTO_TCP,
		  .flags = XPP_F_IP_TRUNC,
		  .read = READ_TCP },
		{ .from = 64,
		  .c = { .vlan = 1, .ipv4 = 1, .tcp = 1, .records = 1 },
		  .proto = IPPROTO_TCP,
		  .read = READ_TCP },
	},
},
{
	.name = "ipv6_ext_udp",
	.build = pkt_frame_hbh_udp6,
	.len = 74, /* 14 + 40 + 8 + 8 + 4 */
	.rec = { .src = V6A, .dst = V6B, .ip_version = 6, .ttl = 64,
		 .sport = 3000, .dport = 4000, .ip_len = 20,
		 .flags = XPP_F_IPV6_EXT },
	.bands = {
		{ .from = 0,
		  .c = { .not_ip = 1, .malformed[XPP_M_ETH_TRUNC] = 1 } },
		{ .from = 14,
		  .c = { .not_ip = 1, .malformed[XPP_M_IP6_TRUNC] = 1 } },
		/* The IPv6 header whole, the extension header itself cut. */
		{ .from = 54,
		  .c = { .ipv6 = 1, .other = 1, .records = 1,
			 .malformed[XPP_M_IP_TRUNC] = 1 },
		  .proto = IPPROTO_HOPOPTS,
		  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC },
		{ .from = 62,
		  .c = { .ipv6 = 1, .udp = 1, .records = 1,
			 .malformed[XPP_M_IP_TRUNC] = 1 },
		  .proto = IPPROTO_UDP,
		  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC },
		{ .from = 66,
		  .c = { .ipv6 = 1, .udp = 1, .records = 1,
			 .malformed[XPP_M_IP_TRUNC] = 1 },
		  .proto = IPPROTO_UDP,
		  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC,
		  .read = READ_PORTS },
		/* The UDP header whole, the payload cut. */
		{ .from = 70,
		  .c = { .ipv6 = 1, .udp = 1, .records = 1,
			 .malformed[XPP_M_IP_TRUNC] = 1 },
		  .proto = IPPROTO_UDP,
		  .flags = XPP_F_IP_TRUNC,
		  .read = READ_PORTS },
		{ .from = 74,
		  .c = { .ipv6 = 1, .udp = 1, .records = 1 },
		  .proto = IPPROTO_UDP,
		  .read = READ_PORTS },
	},
},
};

static const struct trunc_band *trunc_band_at(const struct trunc_case *tc,
					      size_t len)
{
	const struct trunc_band *b = &tc->bands[0];
	size_t i;

	for (i = 1; i < TRUNC_BANDS_MAX && tc->bands[i].from; i++)
		if (tc->bands[i].from <= len)
			b = &tc->bands[i];
	return b;
}

/* Runs tc's frame cut to len and checks record and counters. */
static bool trunc_at(const struct trunc_case *tc, const struct pkt *full,
		     size_t len)
{
	const struct trunc_band *b = trunc_band_at(tc, len);
	struct xpp_counters want = b->c;
	struct want w = tc->rec;
	unsigned long long t0;
	__u32 verdict = ~0u;
	struct pkt p = *full;
	bool ok;
	int err;

	want.packets = 1;
	want.bytes = len;
	w.frame_len = len;
	w.flags |= b->flags;
	w.proto = b->proto;
	if (!(b->read & READ_PORTS))
		w.sport = w.dport = 0;
	if (!(b->read & READ_TCP_FLAGS))
		w.tcp_flags = 0;
	if (!(b->read & READ_TCP_WINDOW))
		w.tcp_window = 0;

	if (!xdp_reset())
		return false;
	p.len = len;
	t0 = now_ns();
	err = xdp_run(&p, &verdict);
	if (xdp_refused_runt(&p, err))
		return expect_refused();
	if (!ASSERT_OK(err, "test run") ||
	    !ASSERT_EQ(verdict, XDP_PASS, "verdict"))
		return false;
	if (want.records)
		ok = ASSERT_EQ(xt.nrecs, 1, "records") &&
		     expect_record(&xt.recs[0], &w, t0);
	else
		ok = ASSERT_EQ(xt.nrecs, 0, "records");
	return expect_counters(&want) && ok;
}

/* Each frame cut at every length from 0 to the whole. */
static void test_trunc_sweep(void)
{
	const struct trunc_case *tc;
	struct pkt full;
	size_t len;

	for (tc = trunc_cases; tc < trunc_cases + ARRAY_SIZE(trunc_cases);
	     tc++) {
		if (!tap_subtest(tc->name))
			continue;
		tc->build(&full, tc->rec.src, tc->rec.dst);
		if (!ASSERT_EQ(full.len, tc->len, "length of the whole frame"))
			continue;
		for (len = 0; len <= full.len; len++) {
			if (!trunc_at(tc, &full, len)) {
				tap_diag("at length %zu", len);
				break;
			}
		}
	}
}

/* ---- cut short -------------------------------------------------------- */

static void test_zero_length_frame(void)
{
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	expect_no_record(&p, XPP_M_ETH_TRUNC, 0);
}

static void test_runt_frame(void)
{
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	p.len = 13;
	expect_no_record(&p, XPP_M_ETH_TRUNC, 0);
}

static void test_ipv4_options_truncated(void)
{
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_UDP, 64, 15, 0);
	pkt_finish(&p);
	p.len = 14 + 40; /* IHL says 60 bytes of header */
	expect_no_record(&p, XPP_M_IP4_TRUNC, 0);
}

/* ---- malformed IP --------------------------------------------------- */

static void test_ipv4_bad_ihl(void)
{
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	p.b[14] = 0x44; /* IHL 4: 16 bytes, shorter than any header */
	expect_no_record(&p, XPP_M_IP4_IHL, 0);
}

static void test_ipv4_bad_version(void)
{
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	p.b[14] = 0x65; /* version 6 behind an IPv4 ethertype */
	expect_no_record(&p, XPP_M_IP4_VERSION, 0);
}

static void test_ipv6_bad_version(void)
{
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, IPPROTO_UDP, 64);
	pkt_udp(&p, 1, 2);
	pkt_finish(&p);
	p.b[14] = 0x40;
	expect_no_record(&p, XPP_M_IP6_VERSION, 0);
}

static void test_ipv4_total_len_below_header(void)
{
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	pkt_put16(&p, 16, 19);
	expect_no_record(&p, XPP_M_IP4_LEN, 0);
}

TAP_GROUP(xdp_malformed_tests,
	  TAP_CASE(test_trunc_sweep),
	  TAP_CASE(test_zero_length_frame),
	  TAP_CASE(test_runt_frame),
	  TAP_CASE(test_ipv4_options_truncated),
	  TAP_CASE(test_ipv4_bad_ihl),
	  TAP_CASE(test_ipv4_bad_version),
	  TAP_CASE(test_ipv6_bad_version),
	  TAP_CASE(test_ipv4_total_len_below_header));

/* ==================================================================== */
/* Counters and the run-time configuration: the per-interface counter
 * slots, sampling, protocol and port filters, the verdict for selected
 * frames, and counters that add up over a mixed batch. */

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

/* ==================================================================== */
/* The per-CPU rings: order and sequence numbers, losses when a ring is
 * full, and wakeups at the mark. */

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
	const __u32 sent = 2000, room = 910; /* 64 KiB / 72 records */
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

/* ==================================================================== */
/* The record as consumers see it: the layout docs/record.md documents,
 * and the interface and rx queue of a frame from a real interface. */

/* ---- the documented numpy dtype ------------------------------------- */

static void json_u8s(FILE *f, const char *name, const __u8 *v, int n)
{
	int i;

	fprintf(f, "\"%s\":[", name);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? "," : "", v[i]);
	fprintf(f, "],");
}

/* The records as JSON, as the C struct reads them. */
static int write_json(const char *path, const struct xpp_record *recs, int n)
{
	FILE *f = fopen(path, "w");
	int i;

	if (!f)
		return -errno;
	fprintf(f, "[");
	for (i = 0; i < n; i++) {
		const struct xpp_record *r = &recs[i];

		fprintf(f, "%s{", i ? "," : "");
		json_u8s(f, "saddr", r->saddr, 16);
		json_u8s(f, "daddr", r->daddr, 16);
		fprintf(f, "\"ts_ns\":%llu,\"seq\":%u,\"ifindex\":%u,"
			   "\"sport\":%u,\"dport\":%u,\"frame_len\":%u,"
			   "\"ip_len\":%u,\"tcp_window\":%u,\"vlan\":%u,"
			   "\"rx_queue\":%u,\"flags\":%u,\"ring\":%u,"
			   "\"version\":%u,\"ip_version\":%u,\"proto\":%u,"
			   "\"ttl\":%u,\"tcp_flags\":%u,\"reserved\":%u}",
			(unsigned long long)r->ts_ns, r->seq, r->ifindex,
			r->sport, r->dport, r->frame_len, r->ip_len,
			r->tcp_window, r->vlan, r->rx_queue, r->flags, r->ring,
			r->version, r->ip_version, r->proto, r->ttl,
			r->tcp_flags, r->reserved);
	}
	fprintf(f, "]\n");
	return fclose(f) ? -errno : 0;
}

/* docs/record.md gives a numpy dtype; read kernel-written records with it
 * and compare every field with the C struct's view of the same bytes. */
static void test_numpy_dtype_from_docs(void)
{
	const char *src = getenv("XPP_SRCDIR");
	char bin[] = "/tmp/xpp-dtype-XXXXXX", json[64], cmd[1024];
	size_t size = sizeof(xt.recs[0]) * 2;
	struct pkt p;
	int fd = -1;

	if (!src) {
		tap_skip("XPP_SRCDIR not set (run through meson test)");
		return;
	}
	if (access("/usr/bin/python3", X_OK) ||
	    system("/usr/bin/python3 -c 'import numpy' 2>/dev/null")) {
		tap_skip("python3-numpy is not installed");
		return;
	}
	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_8021Q);
	pkt_vlan(&p, 0x0fff, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_TCP, 17, 6, 0x2000);
	pkt_tcp(&p, 65535, 1, 0xff, 0xfffe);
	pkt_finish(&p);
	if (!xdp_run_pass(&p))
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, IPPROTO_ICMPV6, 200);
	pkt_icmp(&p, 135, 7);
	pkt_finish(&p);
	if (!xdp_run_pass(&p) || !ASSERT_EQ(xt.nrecs, 2, "records"))
		return;

	fd = mkstemp(bin);
	if (!ASSERT_GE(fd, 0, "mkstemp"))
		return;
	snprintf(json, sizeof(json), "%s.json", bin);
	if (!ASSERT_EQ(write(fd, xt.recs, size), size, "writing the records") ||
	    !ASSERT_OK(write_json(json, xt.recs, 2), "writing the JSON"))
		goto out;
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 %s/tests/bpf/check_dtype.py "
		 "%s/docs/record.md %s %s",
		 src, src, bin, json);
	ASSERT_EQ(system(cmd), 0, "check_dtype.py");
out:
	close(fd);
	unlink(bin);
	unlink(json);
}

/* ---- a real interface: ifindex and rx queue ------------------------- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* In the test's namespace, where xppt0 is up: a frame from its rx queue
 * 3. */
static void ifindex_queue_in_netns(void)
{
	struct xpp_counters c;
	struct xdp_md ctx = {};
	__u32 verdict = ~0u;
	int ifindex, err;
	struct pkt p;

	ifindex = if_nametoindex("xppt0");
	if (!ASSERT_GE(ifindex, 1, "xppt0's ifindex") ||
	    !ASSERT_OK(xpp_datapath__counters_init(xt.dp, ifindex),
		       "counters_init xppt0"))
		return;
	/* Native XDP on veth registers the rx queues test runs need. The
	 * peer stays down, so no other frame reaches xppt0. */
	err = bpf_xdp_attach(ifindex, xpp_datapath__prog_fd(xt.dp),
			     XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		tap_skip("native XDP on veth: %s", strerror(-err));
		return;
	}
	pkt_frame_udp4(&p, V4A, V4B, 9, 9, 0);
	ctx.data_end = p.len;
	ctx.ingress_ifindex = ifindex;
	ctx.rx_queue_index = 3;
	if (!ASSERT_OK(xdp_test_run(xpp_datapath__prog_fd(xt.dp), p.b, p.len,
				    &ctx, &verdict),
		       "test run") ||
	    !ASSERT_GE(xpp_reader__drain(xt.rd), 0, "drain") ||
	    !ASSERT_EQ(verdict, XDP_PASS, "verdict") ||
	    !ASSERT_EQ(xt.nrecs, 1, "records"))
		return;
	ASSERT_EQ(xt.recs[0].ifindex, ifindex, "ifindex");
	ASSERT_EQ(xt.recs[0].rx_queue, 3, "rx_queue");
	if (!ASSERT_OK(xpp_datapath__counters(xt.dp, ifindex, &c),
		       "counters xppt0"))
		return;
	ASSERT_EQ(c.packets, 1, "packets");
	ASSERT_EQ(c.records, 1, "records");
}

static void test_ifindex_and_rx_queue(void)
{
	char ns[64], path[128];
	int self, nsfd = -1;

	if (!xdp_reset())
		return;
	snprintf(ns, sizeof(ns), "xppt-%d", getpid());
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (!ASSERT_GE(self, 0, "open this network namespace"))
		return;
	if (sh("ip netns add %s && ip -n %s link add xppt0 numrxqueues 4 "
	       "type veth peer xppt1 numrxqueues 4 && ip -n %s link set xppt0 up",
	       ns, ns, ns)) {
		tap_skip("cannot create a veth pair in a network namespace");
		goto out;
	}
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (ASSERT_GE(nsfd, 0, "open the test's network namespace") &&
	    ASSERT_OK(setns(nsfd, CLONE_NEWNET) ? -errno : 0, "setns"))
		ifindex_queue_in_netns();
	/* Always back home and clean, whatever happened in there. */
	setns(self, CLONE_NEWNET);
	if (nsfd >= 0)
		close(nsfd);
out:
	close(self);
	sh("ip netns del %s 2>/dev/null", ns);
}

TAP_GROUP(xdp_record_tests,
	  TAP_CASE(test_numpy_dtype_from_docs),
	  TAP_CASE(test_ifindex_and_rx_queue));
