// SPDX-License-Identifier: GPL-2.0-only
/* IPv6: the transports a record names and the extension headers walked to
 * find them: chains, fragments, the walk's limit, and options that lie. */
#include <netinet/in.h>

#include <linux/if_ether.h>

#include "util.h"
#include "xdp_test.h"

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
		.frame_len = 142,
		.flags = XPP_F_IPV6_EXT | XPP_F_FRAGMENT | XPP_F_AH,
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

/* ---- jumbograms (RFC 2675) ------------------------------------------- */

/* 70 000 bytes of payload, of which the frame holds the first ones: the
 * length from the option, the bytes not there flagged. */
static void test_ipv6_jumbogram(void)
{
	const struct xpp_frame_meta meta = {
		.magic = XPP_FRAME_META_MAGIC, .wire_len = 14 + 40 + 70000,
		.ts_ns = 1, .pkt_type = XPP_FRAME_META_NO_PKT_TYPE,
	};
	struct want w = {
		.src = V6A, .dst = V6B, .ip_version = 6, .proto = IPPROTO_UDP,
		.ttl = 64, .sport = 3000, .dport = 4000, .ip_len = 70000,
		.frame_len = 74,
		.flags = XPP_F_IPV6_EXT | XPP_F_JUMBO | XPP_F_IP_TRUNC,
	};
	struct xpp_counters c = {
		.packets = 1, .bytes = 74, .ipv6 = 1, .udp = 1, .records = 1,
	};
	struct pkt p;

	c.malformed[XPP_M_IP_TRUNC] = 1;
	pkt_frame_jumbo_udp6(&p, V6A, V6B);
	if (tap_subtest("live") && xdp_reset() && expect_one_record(&p, &w))
		expect_counters(&c);
	/* From a capture: the same, and the wire length. */
	w.frame_len = c.bytes = meta.wire_len;
	w.meta = &meta;
	c.ts_capture = 1;
	if (tap_subtest("capture") && xdp_reset() &&
	    expect_one_record(&p, &w))
		expect_counters(&c);
}

/* Jumbo Payload options RFC 2675 does not allow. */
static const struct jumbo_bad_case {
	const char *name;
	uint8_t opt_len;
	uint32_t jumbo;
	bool plen; /* the payload length is the packet's, not 0 */
} jumbo_bad_cases[] = {
	{ "option_length_2", 2, 70000 },
	{ "not_above_65535", 4, 1000 },
	{ "missing", 0, 0 },
	{ "with_payload_length", 4, 70000, true },
};

static void jumbo_bad_frame(struct pkt *p, const struct jumbo_bad_case *jc)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_IPV6);
	pkt_ipv6(p, V6A, V6B, IPPROTO_HOPOPTS, 64);
	if (jc->opt_len)
		pkt_hbh_jumbo(p, IPPROTO_UDP, jc->opt_len, jc->jumbo);
	else
		pkt_ext(p, IPPROTO_HOPOPTS, IPPROTO_UDP, 0);
	pkt_udp(p, 3000, 4000);
	pkt_finish(p);
	if (!jc->plen)
		pkt_put16(p, 14 + 4, 0);
}

/* With payload length 0 the walk stops at the hop-by-hop header (no
 * length to trust), as tshark does; with a payload length it goes on. */
static void test_ipv6_jumbo_bad(void)
{
	const struct jumbo_bad_case *jc;

	for (jc = jumbo_bad_cases;
	     jc < jumbo_bad_cases + ARRAY_SIZE(jumbo_bad_cases); jc++) {
		struct want w = {
			.src = V6A, .dst = V6B, .ip_version = 6, .ttl = 64,
			.frame_len = 70,
			.flags = XPP_F_IPV6_EXT | XPP_F_JUMBO_BAD |
				 XPP_F_L4_TRUNC,
		};
		struct xpp_counters c = {
			.packets = 1, .bytes = 70, .ipv6 = 1, .other = 1,
			.records = 1,
		};
		struct pkt p;

		if (!tap_subtest(jc->name) || !xdp_reset())
			continue;
		if (jc->plen) {
			w.proto = IPPROTO_UDP;
			w.sport = 3000;
			w.dport = 4000;
			w.ip_len = 16;
			w.flags &= ~XPP_F_L4_TRUNC;
			c.other = 0;
			c.udp = 1;
		}
		c.malformed[XPP_M_JUMBO] = 1;
		jumbo_bad_frame(&p, jc);
		if (expect_one_record(&p, &w))
			expect_counters(&c);
	}
}

static void test_ipv6_jumbo_against_tshark(void)
{
	static struct tshark_frame fr[2 + ARRAY_SIZE(jumbo_bad_cases)];
	size_t i;

	fr[0].name = "jumbogram_live";
	pkt_frame_jumbo_udp6(&fr[0].p, V6A, V6B);
	fr[1].name = "jumbogram_capture";
	fr[1].p = fr[0].p;
	fr[1].wire_len = 14 + 40 + 70000;
	for (i = 0; i < ARRAY_SIZE(jumbo_bad_cases); i++) {
		fr[2 + i].name = jumbo_bad_cases[i].name;
		jumbo_bad_frame(&fr[2 + i].p, &jumbo_bad_cases[i]);
	}
	expect_tshark_agrees(fr, ARRAY_SIZE(fr));
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
	  TAP_CASE(test_ipv6_option_past_packet),
	  TAP_CASE(test_ipv6_jumbogram),
	  TAP_CASE(test_ipv6_jumbo_bad),
	  TAP_CASE(test_ipv6_jumbo_against_tshark));
