// SPDX-License-Identifier: GPL-2.0-only
/* Encapsulations between Ethernet and IP: MPLS label stacks, PPPoE
 * sessions, 802.3 frames with LLC/SNAP; what is read, what is flagged,
 * what each counts, and what tshark reads of the same frames. */
#include <netinet/in.h>
#include <string.h>

#include <linux/if_ether.h>

#include "util.h"
#include "xdp_test.h"

#define PPP_IP 0x0021
#define PPP_IPV6 0x0057
#define PPP_LCP 0xc021

static void ipv4_udp(struct pkt *p)
{
	pkt_ipv4(p, V4A, V4B, IPPROTO_UDP, 64, 5, 0);
	pkt_udp(p, 5000, 53);
	pkt_payload(p, 4, 0);
}

static void ipv6_tcp(struct pkt *p)
{
	pkt_ipv6(p, V6A, V6B, IPPROTO_TCP, 64);
	pkt_tcp(p, 443, 50000, TCP_ACK, 1024);
}

static void mpls_ipv4(struct pkt *p)
{
	pkt_eth(p, ETH_P_MPLS_UC);
	pkt_mpls(p, 100, 0);
	pkt_mpls(p, 200, 1);
	ipv4_udp(p);
	pkt_finish(p);
}

static void mpls_ipv6(struct pkt *p)
{
	pkt_eth(p, ETH_P_MPLS_MC);
	pkt_mpls(p, 16, 1);
	ipv6_tcp(p);
	pkt_finish(p);
}

static void vlan_mpls_ipv4(struct pkt *p)
{
	pkt_eth(p, ETH_P_8021Q);
	pkt_vlan(p, 7, ETH_P_MPLS_UC);
	pkt_mpls(p, 100, 1);
	ipv4_udp(p);
	pkt_finish(p);
}

/* A pseudowire control word (first nibble 0) after the stack. */
static void mpls_control_word(struct pkt *p)
{
	pkt_eth(p, ETH_P_MPLS_UC);
	pkt_mpls(p, 100, 1);
	pkt_payload(p, 4, 0);
	ipv4_udp(p);
	pkt_finish(p);
}

static void mpls_no_bottom(struct pkt *p)
{
	pkt_eth(p, ETH_P_MPLS_UC);
	pkt_mpls(p, 100, 0);
	pkt_mpls(p, 200, 0);
}

static void mpls_too_deep(struct pkt *p)
{
	int i;

	pkt_eth(p, ETH_P_MPLS_UC);
	for (i = 0; i <= XPP_MPLS_MAX; i++)
		pkt_mpls(p, 100 + i, i == XPP_MPLS_MAX);
	ipv4_udp(p);
	pkt_finish(p);
}

static void pppoe_ipv4(struct pkt *p)
{
	pkt_eth(p, ETH_P_PPP_SES);
	pkt_pppoe(p, 0x1234, PPP_IP);
	ipv4_udp(p);
	pkt_finish(p);
}

static void pppoe_ipv6(struct pkt *p)
{
	pkt_eth(p, ETH_P_PPP_SES);
	pkt_pppoe(p, 0x1234, PPP_IPV6);
	ipv6_tcp(p);
	pkt_finish(p);
}

/* The PPP protocol field compressed to one byte (0x21). */
static void pppoe_pfc(struct pkt *p)
{
	pppoe_ipv4(p);
	memmove(p->b + 20, p->b + 21, p->len - 21);
	p->len--;
	p->l3--;
	p->l4--;
	pkt_put16(p, 18, p->len - 20);
}

static void pppoe_lcp(struct pkt *p)
{
	pkt_eth(p, ETH_P_PPP_SES);
	pkt_pppoe(p, 0x1234, PPP_LCP);
	pkt_payload(p, 4, 1);
	pkt_finish(p);
}

static void pppoe_short(struct pkt *p)
{
	pkt_eth(p, ETH_P_PPP_SES);
	pkt_payload(p, 3, 0x11);
}

/* A PPPoE length that ends inside the IP header: decoders stop there. */
static void pppoe_length_short(struct pkt *p)
{
	pppoe_ipv4(p);
	pkt_put16(p, 18, 10);
}

static void snap_ipv4(struct pkt *p)
{
	pkt_eth(p, 0);
	pkt_llc_snap(p, 0, ETH_P_IP);
	ipv4_udp(p);
	pkt_finish(p);
}

static void snap_ipv6(struct pkt *p)
{
	pkt_eth(p, 0);
	pkt_llc_snap(p, 0, ETH_P_IPV6);
	ipv6_tcp(p);
	pkt_finish(p);
}

static void vlan_snap_ipv4(struct pkt *p)
{
	pkt_eth(p, ETH_P_8021Q);
	pkt_vlan(p, 9, 0);
	pkt_llc_snap(p, 0, ETH_P_IP);
	ipv4_udp(p);
	pkt_finish(p);
}

/* SNAP with another organisation's code (Cisco's): not RFC 1042. */
static void snap_bad_oui(struct pkt *p)
{
	pkt_eth(p, 0);
	pkt_llc_snap(p, 0x00000c, ETH_P_IP);
	ipv4_udp(p);
	pkt_finish(p);
}

/* The SNAP header cut by the end of the frame. */
static void snap_short(struct pkt *p)
{
	pkt_eth(p, 0);
	pkt_llc_snap(p, 0, ETH_P_IP);
	pkt_finish(p);
	p->len -= 3;
}

static const struct encap_case {
	const char *name;
	void (*build)(struct pkt *p);
	struct want w; /* .src NULL: no record */
	__u32 mpls, pppoe, llc_snap;
	int malformed; /* kind, -1 for none */
	bool not_tshark; /* tshark reads on where we stop on purpose */
} encap_cases[] = {
	{ "mpls_ipv4", mpls_ipv4,
	  { V4A, V4B, 4, IPPROTO_UDP, 64, 5000, 53, 32, 54,
	    .flags = XPP_F_MPLS }, .mpls = 1, .malformed = -1 },
	{ "mpls_ipv6", mpls_ipv6,
	  { V6A, V6B, 6, IPPROTO_TCP, 64, 443, 50000, 20, 78,
	    .tcp_flags = TCP_ACK, .tcp_window = 1024, .flags = XPP_F_MPLS },
	  .mpls = 1, .malformed = -1 },
	{ "vlan_mpls_ipv4", vlan_mpls_ipv4,
	  { V4A, V4B, 4, IPPROTO_UDP, 64, 5000, 53, 32, 54, .vlan = 7,
	    .flags = XPP_F_MPLS | XPP_F_VLAN }, .mpls = 1, .malformed = -1 },
	{ "mpls_control_word", mpls_control_word, { 0 }, .mpls = 1,
	  .malformed = -1 },
	{ "mpls_no_bottom", mpls_no_bottom, { 0 },
	  .malformed = XPP_M_MPLS_TRUNC },
	{ "mpls_too_deep", mpls_too_deep, { 0 },
	  .malformed = XPP_M_MPLS_DEPTH, .not_tshark = true },
	{ "pppoe_ipv4", pppoe_ipv4,
	  { V4A, V4B, 4, IPPROTO_UDP, 64, 5000, 53, 32, 54,
	    .flags = XPP_F_PPPOE }, .pppoe = 1, .malformed = -1 },
	{ "pppoe_ipv6", pppoe_ipv6,
	  { V6A, V6B, 6, IPPROTO_TCP, 64, 443, 50000, 20, 82,
	    .tcp_flags = TCP_ACK, .tcp_window = 1024,
	    .flags = XPP_F_PPPOE }, .pppoe = 1, .malformed = -1 },
	{ "pppoe_protocol_compressed", pppoe_pfc,
	  { V4A, V4B, 4, IPPROTO_UDP, 64, 5000, 53, 32, 53,
	    .flags = XPP_F_PPPOE }, .pppoe = 1, .malformed = -1 },
	{ "pppoe_lcp", pppoe_lcp, { 0 }, .pppoe = 1, .malformed = -1 },
	{ "pppoe_short", pppoe_short, { 0 },
	  .malformed = XPP_M_PPPOE_TRUNC },
	{ "pppoe_length_short", pppoe_length_short, { 0 }, .pppoe = 1,
	  .malformed = XPP_M_IP4_TRUNC },
	{ "snap_ipv4", snap_ipv4,
	  { V4A, V4B, 4, IPPROTO_UDP, 64, 5000, 53, 32, 54,
	    .flags = XPP_F_LLC_SNAP }, .llc_snap = 1, .malformed = -1 },
	{ "snap_ipv6", snap_ipv6,
	  { V6A, V6B, 6, IPPROTO_TCP, 64, 443, 50000, 20, 82,
	    .tcp_flags = TCP_ACK, .tcp_window = 1024,
	    .flags = XPP_F_LLC_SNAP }, .llc_snap = 1, .malformed = -1 },
	{ "vlan_snap_ipv4", vlan_snap_ipv4,
	  { V4A, V4B, 4, IPPROTO_UDP, 64, 5000, 53, 32, 58, .vlan = 9,
	    .flags = XPP_F_LLC_SNAP | XPP_F_VLAN }, .llc_snap = 1,
	  .malformed = -1 },
	{ "snap_bad_oui", snap_bad_oui, { 0 }, .malformed = -1 },
	{ "snap_short", snap_short, { 0 }, .malformed = XPP_M_LLC_TRUNC },
};

static void encap_frame(struct pkt *p, const struct encap_case *ec)
{
	pkt_init(p);
	ec->build(p);
}

static void test_encap(void)
{
	const struct encap_case *ec;

	for (ec = encap_cases; ec < encap_cases + ARRAY_SIZE(encap_cases);
	     ec++) {
		struct xpp_counters c = {
			.packets = 1, .mpls = ec->mpls, .pppoe = ec->pppoe,
			.llc_snap = ec->llc_snap,
			.vlan = !!(ec->w.flags & XPP_F_VLAN),
		};
		struct pkt p;

		if (!tap_subtest(ec->name) || !xdp_reset())
			continue;
		encap_frame(&p, ec);
		c.bytes = p.len;
		if (ec->malformed >= 0)
			c.malformed[ec->malformed] = 1;
		if (ec->w.src) {
			if (!ASSERT_EQ(p.len, ec->w.frame_len, "frame length") ||
			    !expect_one_record(&p, &ec->w))
				continue;
			c.records = 1;
			if (ec->w.ip_version == 4)
				c.ipv4 = 1;
			else
				c.ipv6 = 1;
			if (ec->w.proto == IPPROTO_TCP)
				c.tcp = 1;
			else
				c.udp = 1;
		} else {
			if (!xdp_run_pass(&p) ||
			    !ASSERT_EQ(xt.nrecs, 0, "records"))
				continue;
			c.not_ip = 1;
		}
		expect_counters(&c);
	}
}

static void test_encap_against_tshark(void)
{
	static struct tshark_frame fr[ARRAY_SIZE(encap_cases)];
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(encap_cases); i++) {
		if (encap_cases[i].not_tshark)
			continue;
		fr[n].name = encap_cases[i].name;
		encap_frame(&fr[n++].p, &encap_cases[i]);
	}
	expect_tshark_agrees(fr, n);
}

TAP_GROUP(xdp_encap_tests,
	  TAP_CASE(test_encap),
	  TAP_CASE(test_encap_against_tshark));
