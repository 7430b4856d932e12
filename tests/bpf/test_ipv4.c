// SPDX-License-Identifier: GPL-2.0-only
/* IPv4: the transports a record names, options, fragments, and lengths
 * the header gets wrong in ways decoders accept. */
#include <netinet/in.h>

#include <linux/if_ether.h>

#include "util.h"
#include "xdp_test.h"

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

/* ---- AH (RFC 4302): walked, as in IPv6 ------------------------------- */

static void test_ipv4_ah_tcp(void)
{
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = IPPROTO_TCP,
		.ttl = 64, .sport = 179, .dport = 4000, .ip_len = 64,
		.frame_len = 78, .tcp_flags = TCP_ACK, .tcp_window = 16384,
		.flags = XPP_F_AH,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_frame_ah_tcp4(&p, V4A, V4B);
	if (!expect_one_record(&p, &w))
		return;
	expect_counters(&(struct xpp_counters){
		.packets = 1, .bytes = 78, .ipv4 = 1, .tcp = 1, .records = 1 });
}

/* Two AH headers (nested security associations), then UDP. */
static void test_ipv4_ah_chain(void)
{
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = IPPROTO_UDP,
		.ttl = 64, .sport = 500, .dport = 4500, .ip_len = 88,
		.frame_len = 102, .flags = XPP_F_AH,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_AH, 64, 5, 0);
	pkt_ah(&p, IPPROTO_AH, 4);
	pkt_ah(&p, IPPROTO_UDP, 6);
	pkt_udp(&p, 500, 4500);
	pkt_payload(&p, 4, 0);
	pkt_finish(&p);
	expect_one_record(&p, &w);
}

/* An AH whose length runs past the packet: the walk stops on it, as
 * tshark does; proto is AH's. */
static void test_ipv4_ah_past_packet(void)
{
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = IPPROTO_AH,
		.ttl = 64, .ip_len = 64, .frame_len = 78,
		.flags = XPP_F_AH | XPP_F_L4_TRUNC,
	};
	struct xpp_counters c = {
		.packets = 1, .bytes = 78, .ipv4 = 1, .other = 1, .records = 1,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_frame_ah_tcp4(&p, V4A, V4B);
	p.b[14 + 20 + 1] = 40; /* (40 + 2) * 4 = 168 bytes */
	if (!expect_one_record(&p, &w))
		return;
	c.malformed[XPP_M_AH_TRUNC] = 1;
	expect_counters(&c);
}

/* A later fragment: no AH to walk, proto stays AH's. */
static void test_ipv4_ah_later_fragment(void)
{
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = IPPROTO_AH,
		.ttl = 64, .ip_len = 64, .frame_len = 78,
		.flags = XPP_F_FRAGMENT | XPP_F_FRAG_LATER,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_frame_ah_tcp4(&p, V4A, V4B);
	pkt_put16(&p, 14 + 6, 100); /* offset 800 bytes */
	expect_one_record(&p, &w);
}

/* Where tshark reads a field, we read the same. */
static void test_ipv4_ah_against_tshark(void)
{
	static struct tshark_frame fr[6];
	struct pkt *p;

	fr[0].name = "ah_tcp";
	pkt_frame_ah_tcp4(&fr[0].p, V4A, V4B);
	fr[1].name = "ah_past_packet";
	fr[1].p = fr[0].p;
	fr[1].p.b[14 + 20 + 1] = 40;
	fr[2].name = "ah_len_0"; /* 8 bytes: no ICV */
	p = &fr[2].p;
	pkt_init(p);
	pkt_eth(p, ETH_P_IP);
	pkt_ipv4(p, V4A, V4B, IPPROTO_AH, 64, 5, 0);
	pkt_ah(p, IPPROTO_UDP, 0);
	pkt_udp(p, 1, 2);
	pkt_finish(p);
	fr[3].name = "ah_ah_udp";
	p = &fr[3].p;
	pkt_init(p);
	pkt_eth(p, ETH_P_IP);
	pkt_ipv4(p, V4A, V4B, IPPROTO_AH, 64, 5, 0);
	pkt_ah(p, IPPROTO_AH, 4);
	pkt_ah(p, IPPROTO_UDP, 4);
	pkt_udp(p, 500, 4500);
	pkt_finish(p);
	fr[4].name = "ah_tcp_cut_in_ah";
	fr[4].p = fr[0].p;
	fr[4].p.len = 14 + 20 + 10;
	fr[5].name = "ah_ipv6_tcp";
	p = &fr[5].p;
	pkt_init(p);
	pkt_eth(p, ETH_P_IPV6);
	pkt_ipv6(p, V6A, V6B, IPPROTO_AH, 64);
	pkt_ah(p, IPPROTO_TCP, 4);
	pkt_tcp(p, 22, 40000, TCP_ACK | TCP_PSH, 501);
	pkt_finish(p);
	expect_tshark_agrees(fr, ARRAY_SIZE(fr));
}

TAP_GROUP(xdp_ipv4_tests,
	  TAP_CASE(test_ipv4_udp),
	  TAP_CASE(test_ipv4_tcp),
	  TAP_CASE(test_ipv4_icmp),
	  TAP_CASE(test_ipv4_options),
	  TAP_CASE(test_ipv4_first_fragment),
	  TAP_CASE(test_ipv4_later_fragment),
	  TAP_CASE(test_ipv4_last_fragment),
	  TAP_CASE(test_ipv4_total_length_zero),
	  TAP_CASE(test_ipv4_ah_tcp),
	  TAP_CASE(test_ipv4_ah_chain),
	  TAP_CASE(test_ipv4_ah_past_packet),
	  TAP_CASE(test_ipv4_ah_later_fragment),
	  TAP_CASE(test_ipv4_ah_against_tshark));
