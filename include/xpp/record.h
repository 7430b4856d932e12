/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The feature record: one per selected packet, written by the XDP program
 * into a per-CPU ring buffer and read by the daemon and every consumer.
 *
 * Shared verbatim by the BPF program (bpf/), the daemon, xdpctl and any C
 * consumer. docs/record.md describes it field by field, with a numpy dtype.
 *
 * Rules of the layout: fixed size, every field naturally aligned, no
 * implicit padding (checked below), numeric fields in host byte order,
 * addresses in network byte order. Changing the layout means bumping
 * XPP_RECORD_VERSION.
 */
#ifndef XPP_RECORD_H
#define XPP_RECORD_H

#include <linux/types.h>

#define XPP_RECORD_VERSION 2
#define XPP_RECORD_SIZE 80

/* xpp_record.pkt_type when nothing says (live frames, captures without
 * a packet type). */
#define XPP_PKT_TYPE_NONE 0xff

/* Bits of xpp_record.flags */
enum {
	/* IPv4 MF set or fragment offset non-zero; IPv6 fragment header with
	 * M set or offset non-zero. */
	XPP_F_FRAGMENT = 1 << 0,
	/* A fragment other than the first: no L4 header, ports are 0. */
	XPP_F_FRAG_LATER = 1 << 1,
	/* IPv4 header longer than 20 bytes (IHL > 5). */
	XPP_F_IP_OPTIONS = 1 << 2,
	/* IPv6 extension headers were walked before the L4 header. */
	XPP_F_IPV6_EXT = 1 << 3,
	/* The L4 header (or an IPv6 extension header, or AH) is cut short
	 * by the end of the frame or of the IP packet: the fields it would
	 * have filled and that are missing are 0. */
	XPP_F_L4_TRUNC = 1 << 4,
	/* The IPv6 extension header walk (or a chain of IPv4 AH headers)
	 * hit its limit (XPP_IPV6_EXT_MAX): proto holds the next-header
	 * value where the walk stopped. */
	XPP_F_EXT_LIMIT = 1 << 5,
	/* The IP packet, as its length says, is longer than the bytes the
	 * program has of it: a frame cut by a capture's snap length, or a
	 * lying length field. */
	XPP_F_IP_TRUNC = 1 << 6,
	/* Two VLAN tags (QinQ); vlan holds the outer one. */
	XPP_F_VLAN_QINQ = 1 << 7,
	/* TCP data offset below 5 words: flags and window are still read
	 * from their fixed positions, as decoders do. */
	XPP_F_TCP_BAD_DOFF = 1 << 8,
	/* At least one VLAN tag (vlan may still be 0: a priority tag). */
	XPP_F_VLAN = 1 << 9,
	/* An IPv6 hop-by-hop or destination options header with an option
	 * that runs past the end of the packet: the walk stopped there
	 * (as decoders do), proto is that header's type. */
	XPP_F_EXT_BAD = 1 << 10,
	/* An authentication header (AH, RFC 4302) came after the IP header
	 * (IPv4) or among the extension headers (IPv6): the walk stepped
	 * over it, proto is what follows. */
	XPP_F_AH = 1 << 11,
	/* An IPv6 jumbogram (RFC 2675): payload length 0 and a Jumbo
	 * Payload option in the hop-by-hop header; ip_len is the option's
	 * length. */
	XPP_F_JUMBO = 1 << 12,
	/* A Jumbo Payload option where RFC 2675 forbids it (with a non-zero
	 * payload length: the walk goes on), or payload length 0 and a
	 * hop-by-hop header without a valid one (the walk stops there). */
	XPP_F_JUMBO_BAD = 1 << 13,
	/* An MPLS label stack (ethertype 0x8847 or 0x8848) came before the
	 * IP header: IPv4 or IPv6 by its first nibble, as decoders tell. */
	XPP_F_MPLS = 1 << 14,
	/* A PPPoE session header (0x8864) and PPP came before the IP
	 * header. */
	XPP_F_PPPOE = 1 << 15,
	/* An 802.3 frame with LLC/SNAP (RFC 1042) carried the IP header. */
	XPP_F_LLC_SNAP = 1 << 16,
};

/* MPLS label stack entries walked before giving up. */
#define XPP_MPLS_MAX 8

/* Number of IPv6 extension headers (or IPv4 AH headers) walked before
 * giving up. */
#define XPP_IPV6_EXT_MAX 8

struct xpp_record {
	__u64 ts_ns;	  /*  0: live: bpf_ktime_get_ns(), CLOCK_MONOTONIC;
			   *     from a capture: its timestamp, Unix epoch */
	__u32 seq;	  /*  8: per-ring sequence, +1 per record attempt */
	__u32 ifindex;	  /* 12: ingress interface (capture: the one it names) */
	__u8 saddr[16];	  /* 16: network order; IPv4 as ::ffff:a.b.c.d */
	__u8 daddr[16];	  /* 32: network order; IPv4 as ::ffff:a.b.c.d */
	__u16 sport;	  /* 48: TCP/UDP source port; ICMP(v6) type */
	__u16 dport;	  /* 50: TCP/UDP destination port; ICMP(v6) code */
	__u32 frame_len;  /* 52: length on the wire from the Ethernet header
			   *     on, no FCS */
	__u32 ip_len;	  /* 56: IPv4 total length / IPv6 payload length
			   *     (jumbogram: the Jumbo Payload option's) */
	__u32 flags;	  /* 60: XPP_F_* */
	__u16 tcp_window; /* 64: TCP window, unscaled */
	__u16 vlan;	  /* 66: outermost VLAN id (12 bits), 0 if untagged */
	__u16 rx_queue;	  /* 68: rx queue index */
	__u16 ring;	  /* 70: ring (CPU) the record was written to */
	__u8 version;	  /* 72: XPP_RECORD_VERSION */
	__u8 ip_version;  /* 73: 4 or 6 */
	__u8 proto;	  /* 74: L4 protocol (after IPv6 extension headers
			   *     and AH) */
	__u8 ttl;	  /* 75: IPv4 TTL / IPv6 hop limit */
	__u8 tcp_flags;	  /* 76: CWR ECE URG ACK PSH RST SYN FIN, bit 7..0 */
	__u8 pkt_type;	  /* 77: SLL packet type from a capture (PACKET_HOST
			   *     ...), XPP_PKT_TYPE_NONE when none */
	__u16 reserved;	  /* 78: 0 */
};

_Static_assert(sizeof(struct xpp_record) == XPP_RECORD_SIZE,
	       "struct xpp_record must stay XPP_RECORD_SIZE bytes");
_Static_assert(__builtin_offsetof(struct xpp_record, frame_len) == 52 &&
		       __builtin_offsetof(struct xpp_record, tcp_window) == 64 &&
		       __builtin_offsetof(struct xpp_record, version) == 72 &&
		       __builtin_offsetof(struct xpp_record, reserved) == 78,
	       "struct xpp_record has unexpected padding");

#endif /* XPP_RECORD_H */
