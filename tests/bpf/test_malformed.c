// SPDX-License-Identifier: GPL-2.0-only
/* Frames cut short and IP headers that contradict themselves: what is
 * read, what is flagged, and what each counts. */
#include <netinet/in.h>

#include <linux/if_ether.h>

#include "util.h"
#include "xdp_test.h"

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
	/* The hop-by-hop header is not all there: ip_len is the payload
	 * length field (0), not the Jumbo Payload option's length. */
	bool no_jumbo_len;
};

#define TRUNC_BANDS_MAX 10

struct trunc_case {
	const char *name;
	void (*build)(struct pkt *p, const char *src, const char *dst);
	size_t len; /* of the whole frame */
	struct want rec; /* of the whole frame, but frame_len and proto */
	struct trunc_band bands[TRUNC_BANDS_MAX]; /* ascending .from */
};

/* The encapsulations cut at every length: each walks to the same IP
 * parser, so the bands say where each header becomes whole. */
#define PPP_IP 0x0021
#define PPP_IPV6 0x0057

static void ipv4_udp_tail(struct pkt *p, const char *src, const char *dst)
{
	pkt_ipv4(p, src, dst, IPPROTO_UDP, 64, 5, 0);
	pkt_udp(p, 5000, 53);
	pkt_payload(p, 4, 0x77);
	pkt_finish(p);
}

static void ipv6_tcp_tail(struct pkt *p, const char *src, const char *dst)
{
	pkt_ipv6(p, src, dst, IPPROTO_TCP, 64);
	pkt_tcp(p, 443, 50000, TCP_ACK, 1024);
	pkt_finish(p);
}

/* Ethernet, one MPLS label (bottom), IPv4, UDP 5000 > 53, 4 bytes. */
static void frame_mpls1_udp4(struct pkt *p, const char *src, const char *dst)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_MPLS_UC);
	pkt_mpls(p, 100, 1);
	ipv4_udp_tail(p, src, dst);
}

/* Ethernet, three MPLS labels, IPv6, TCP 443 > 50000 ACK. */
static void frame_mpls3_tcp6(struct pkt *p, const char *src, const char *dst)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_MPLS_MC);
	pkt_mpls(p, 100, 0);
	pkt_mpls(p, 200, 0);
	pkt_mpls(p, 300, 1);
	ipv6_tcp_tail(p, src, dst);
}

static void frame_pppoe_udp4(struct pkt *p, const char *src, const char *dst)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_PPP_SES);
	pkt_pppoe(p, 0x1234, PPP_IP);
	ipv4_udp_tail(p, src, dst);
}

static void frame_pppoe_tcp6(struct pkt *p, const char *src, const char *dst)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_PPP_SES);
	pkt_pppoe(p, 0x1234, PPP_IPV6);
	ipv6_tcp_tail(p, src, dst);
}

/* 802.3 (length 40), LLC/SNAP, IPv4, UDP. */
static void frame_snap_udp4(struct pkt *p, const char *src, const char *dst)
{
	pkt_init(p);
	pkt_eth(p, 0);
	pkt_llc_snap(p, 0, ETH_P_IP);
	ipv4_udp_tail(p, src, dst);
}

/* VLAN 9, then the 802.3 length, LLC/SNAP, IPv4, UDP. */
static void frame_vlan_snap_udp4(struct pkt *p, const char *src,
				 const char *dst)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_8021Q);
	pkt_vlan(p, 9, 0);
	pkt_llc_snap(p, 0, ETH_P_IP);
	ipv4_udp_tail(p, src, dst);
}

/* The bands of an IPv4 UDP packet (20 + 8 + 4 bytes) at off, behind an
 * encapsulation counted by the counters given after off. */
#define UDP4_BANDS(off, ...)						\
	{ .from = (off) + 20,						\
	  .c = { __VA_ARGS__, .ipv4 = 1, .udp = 1, .records = 1,		\
		 .malformed[XPP_M_IP_TRUNC] = 1 },			\
	  .proto = IPPROTO_UDP,						\
	  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC },			\
	{ .from = (off) + 24,						\
	  .c = { __VA_ARGS__, .ipv4 = 1, .udp = 1, .records = 1,		\
		 .malformed[XPP_M_IP_TRUNC] = 1 },			\
	  .proto = IPPROTO_UDP,						\
	  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC,			\
	  .read = READ_PORTS },						\
	/* The UDP header whole, the payload cut. */			\
	{ .from = (off) + 28,						\
	  .c = { __VA_ARGS__, .ipv4 = 1, .udp = 1, .records = 1,		\
		 .malformed[XPP_M_IP_TRUNC] = 1 },			\
	  .proto = IPPROTO_UDP,						\
	  .flags = XPP_F_IP_TRUNC,					\
	  .read = READ_PORTS },						\
	{ .from = (off) + 32,						\
	  .c = { __VA_ARGS__, .ipv4 = 1, .udp = 1, .records = 1 },		\
	  .proto = IPPROTO_UDP,						\
	  .read = READ_PORTS }

/* The same for an IPv6 TCP packet without payload (40 + 20 bytes). */
#define TCP6_BANDS(off, ...)						\
	{ .from = (off) + 40,						\
	  .c = { __VA_ARGS__, .ipv6 = 1, .tcp = 1, .records = 1,		\
		 .malformed[XPP_M_IP_TRUNC] = 1 },			\
	  .proto = IPPROTO_TCP,						\
	  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC },			\
	{ .from = (off) + 44,						\
	  .c = { __VA_ARGS__, .ipv6 = 1, .tcp = 1, .records = 1,		\
		 .malformed[XPP_M_IP_TRUNC] = 1 },			\
	  .proto = IPPROTO_TCP,						\
	  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC,			\
	  .read = READ_PORTS },						\
	{ .from = (off) + 54,						\
	  .c = { __VA_ARGS__, .ipv6 = 1, .tcp = 1, .records = 1,		\
		 .malformed[XPP_M_IP_TRUNC] = 1 },			\
	  .proto = IPPROTO_TCP,						\
	  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC,			\
	  .read = READ_PORTS | READ_TCP_FLAGS },			\
	{ .from = (off) + 56,						\
	  .c = { __VA_ARGS__, .ipv6 = 1, .tcp = 1, .records = 1,		\
		 .malformed[XPP_M_IP_TRUNC] = 1 },			\
	  .proto = IPPROTO_TCP,						\
	  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC,			\
	  .read = READ_TCP },						\
	{ .from = (off) + 60,						\
	  .c = { __VA_ARGS__, .ipv6 = 1, .tcp = 1, .records = 1 },		\
	  .proto = IPPROTO_TCP,						\
	  .read = READ_TCP }

#define REC_UDP4(fl)							\
	{ .src = V4A, .dst = V4B, .ip_version = 4, .ttl = 64,		\
	  .sport = 5000, .dport = 53, .ip_len = 32, .flags = (fl) }
#define REC_TCP6(fl)							\
	{ .src = V6A, .dst = V6B, .ip_version = 6, .ttl = 64,		\
	  .sport = 443, .dport = 50000, .ip_len = 20,			\
	  .tcp_flags = TCP_ACK, .tcp_window = 1024, .flags = (fl) }
/* From off on, no record: the first problem is kind, and the frame
 * counts in the encapsulation counters given after it. */
#define NOT_IP_BAND(off, kind, ...)					\
	{ .from = (off),						\
	  .c = { .not_ip = 1, .malformed[kind] = 1, ##__VA_ARGS__ } }

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
		NOT_IP_BAND(0, XPP_M_ETH_TRUNC),
		NOT_IP_BAND(14, XPP_M_VLAN_TRUNC),
		NOT_IP_BAND(18, XPP_M_IP4_TRUNC, .vlan = 1),
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
		NOT_IP_BAND(0, XPP_M_ETH_TRUNC),
		NOT_IP_BAND(14, XPP_M_IP6_TRUNC),
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
{
	.name = "ipv4_ah_tcp",
	.build = pkt_frame_ah_tcp4,
	.len = 78, /* 14 + 20 + 24 + 20 */
	.rec = { .src = V4A, .dst = V4B, .ip_version = 4, .ttl = 64,
		 .sport = 179, .dport = 4000, .ip_len = 64,
		 .tcp_flags = TCP_ACK, .tcp_window = 16384,
		 .flags = XPP_F_AH },
	.bands = {
		NOT_IP_BAND(0, XPP_M_ETH_TRUNC),
		NOT_IP_BAND(14, XPP_M_IP4_TRUNC),
		/* The IPv4 header whole, AH cut: the walk stops on it. */
		{ .from = 34,
		  .c = { .ipv4 = 1, .other = 1, .records = 1,
			 .malformed[XPP_M_IP_TRUNC] = 1 },
		  .proto = IPPROTO_AH,
		  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC },
		/* AH whole, TCP cut. */
		{ .from = 58,
		  .c = { .ipv4 = 1, .tcp = 1, .records = 1,
			 .malformed[XPP_M_IP_TRUNC] = 1 },
		  .proto = IPPROTO_TCP,
		  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC },
		{ .from = 62,
		  .c = { .ipv4 = 1, .tcp = 1, .records = 1,
			 .malformed[XPP_M_IP_TRUNC] = 1 },
		  .proto = IPPROTO_TCP,
		  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC,
		  .read = READ_PORTS },
		{ .from = 72,
		  .c = { .ipv4 = 1, .tcp = 1, .records = 1,
			 .malformed[XPP_M_IP_TRUNC] = 1 },
		  .proto = IPPROTO_TCP,
		  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC,
		  .read = READ_PORTS | READ_TCP_FLAGS },
		{ .from = 74,
		  .c = { .ipv4 = 1, .tcp = 1, .records = 1,
			 .malformed[XPP_M_IP_TRUNC] = 1 },
		  .proto = IPPROTO_TCP,
		  .flags = XPP_F_IP_TRUNC | XPP_F_L4_TRUNC,
		  .read = READ_TCP },
		{ .from = 78,
		  .c = { .ipv4 = 1, .tcp = 1, .records = 1 },
		  .proto = IPPROTO_TCP,
		  .read = READ_TCP },
	},
},
{
	.name = "mpls_one_label_ipv4_udp",
	.build = frame_mpls1_udp4,
	.len = 50, /* 14 + 4 + 20 + 8 + 4 */
	.rec = REC_UDP4(XPP_F_MPLS),
	.bands = {
		NOT_IP_BAND(0, XPP_M_ETH_TRUNC),
		NOT_IP_BAND(14, XPP_M_MPLS_TRUNC),
		/* The stack whole, nothing after it to tell the version:
		 * not IP, and nothing malformed in what is there. */
		{ .from = 18, .c = { .not_ip = 1, .mpls = 1 } },
		NOT_IP_BAND(19, XPP_M_IP4_TRUNC, .mpls = 1),
		UDP4_BANDS(18, .mpls = 1),
	},
},
{
	.name = "mpls_three_labels_ipv6_tcp",
	.build = frame_mpls3_tcp6,
	.len = 86, /* 14 + 3 * 4 + 40 + 20 */
	.rec = REC_TCP6(XPP_F_MPLS),
	.bands = {
		NOT_IP_BAND(0, XPP_M_ETH_TRUNC),
		/* Every label before the bottom one, whole or not: no
		 * bottom of the stack within the frame. */
		NOT_IP_BAND(14, XPP_M_MPLS_TRUNC),
		{ .from = 26, .c = { .not_ip = 1, .mpls = 1 } },
		NOT_IP_BAND(27, XPP_M_IP6_TRUNC, .mpls = 1),
		TCP6_BANDS(26, .mpls = 1),
	},
},
{
	.name = "pppoe_ipv4_udp",
	.build = frame_pppoe_udp4,
	.len = 54, /* 14 + 6 + 2 + 20 + 8 + 4 */
	.rec = REC_UDP4(XPP_F_PPPOE),
	.bands = {
		NOT_IP_BAND(0, XPP_M_ETH_TRUNC),
		/* The session header or the PPP protocol cut. */
		NOT_IP_BAND(14, XPP_M_PPPOE_TRUNC),
		NOT_IP_BAND(22, XPP_M_IP4_TRUNC, .pppoe = 1),
		UDP4_BANDS(22, .pppoe = 1),
	},
},
{
	.name = "pppoe_ipv6_tcp",
	.build = frame_pppoe_tcp6,
	.len = 82, /* 14 + 6 + 2 + 40 + 20 */
	.rec = REC_TCP6(XPP_F_PPPOE),
	.bands = {
		NOT_IP_BAND(0, XPP_M_ETH_TRUNC),
		NOT_IP_BAND(14, XPP_M_PPPOE_TRUNC),
		NOT_IP_BAND(22, XPP_M_IP6_TRUNC, .pppoe = 1),
		TCP6_BANDS(22, .pppoe = 1),
	},
},
{
	.name = "llc_snap_ipv4_udp",
	.build = frame_snap_udp4,
	.len = 54, /* 14 + 3 + 5 + 20 + 8 + 4 */
	.rec = REC_UDP4(XPP_F_LLC_SNAP),
	.bands = {
		NOT_IP_BAND(0, XPP_M_ETH_TRUNC),
		/* LLC or SNAP cut. */
		NOT_IP_BAND(14, XPP_M_LLC_TRUNC),
		NOT_IP_BAND(22, XPP_M_IP4_TRUNC, .llc_snap = 1),
		UDP4_BANDS(22, .llc_snap = 1),
	},
},
{
	.name = "vlan_llc_snap_ipv4_udp",
	.build = frame_vlan_snap_udp4,
	.len = 58, /* 14 + 4 + 3 + 5 + 20 + 8 + 4 */
	.rec = { .src = V4A, .dst = V4B, .ip_version = 4, .ttl = 64,
		 .sport = 5000, .dport = 53, .ip_len = 32, .vlan = 9,
		 .flags = XPP_F_LLC_SNAP | XPP_F_VLAN },
	.bands = {
		NOT_IP_BAND(0, XPP_M_ETH_TRUNC),
		NOT_IP_BAND(14, XPP_M_VLAN_TRUNC),
		NOT_IP_BAND(18, XPP_M_LLC_TRUNC, .vlan = 1),
		NOT_IP_BAND(26, XPP_M_IP4_TRUNC, .vlan = 1, .llc_snap = 1),
		UDP4_BANDS(26, .vlan = 1, .llc_snap = 1),
	},
},
{
	/* 74 bytes of a 70 054-byte frame: the IP packet is never whole. */
	.name = "ipv6_jumbogram_udp",
	.build = pkt_frame_jumbo_udp6,
	.len = 74, /* 14 + 40 + 8 + 8 + 4 */
	.rec = { .src = V6A, .dst = V6B, .ip_version = 6, .ttl = 64,
		 .sport = 3000, .dport = 4000, .ip_len = 70000,
		 .flags = XPP_F_IPV6_EXT },
	.bands = {
		NOT_IP_BAND(0, XPP_M_ETH_TRUNC),
		NOT_IP_BAND(14, XPP_M_IP6_TRUNC),
		/* The hop-by-hop header cut: no option to take a length
		 * from, the payload length (0) ends the packet there. */
		{ .from = 54,
		  .c = { .ipv6 = 1, .other = 1, .records = 1,
			 .malformed[XPP_M_EXT_TRUNC] = 1 },
		  .proto = IPPROTO_HOPOPTS,
		  .flags = XPP_F_L4_TRUNC, .no_jumbo_len = true },
		/* The option whole: 70 000 bytes that are not there. */
		{ .from = 62,
		  .c = { .ipv6 = 1, .udp = 1, .records = 1,
			 .malformed[XPP_M_IP_TRUNC] = 1 },
		  .proto = IPPROTO_UDP,
		  .flags = XPP_F_JUMBO | XPP_F_IP_TRUNC | XPP_F_L4_TRUNC },
		{ .from = 66,
		  .c = { .ipv6 = 1, .udp = 1, .records = 1,
			 .malformed[XPP_M_IP_TRUNC] = 1 },
		  .proto = IPPROTO_UDP,
		  .flags = XPP_F_JUMBO | XPP_F_IP_TRUNC | XPP_F_L4_TRUNC,
		  .read = READ_PORTS },
		{ .from = 70,
		  .c = { .ipv6 = 1, .udp = 1, .records = 1,
			 .malformed[XPP_M_IP_TRUNC] = 1 },
		  .proto = IPPROTO_UDP,
		  .flags = XPP_F_JUMBO | XPP_F_IP_TRUNC,
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
	if (b->no_jumbo_len)
		w.ip_len = 0;
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
