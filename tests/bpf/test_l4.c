// SPDX-License-Identifier: GPL-2.0-only
/* Transport headers: which protocols have ports, how little of a header is
 * read, and what past the IP packet is never taken for one. */
#include <netinet/in.h>

#include <linux/if_ether.h>

#include "util.h"
#include "xdp_test.h"

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
