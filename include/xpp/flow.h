/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Flows: the kernel's bidirectional flow table and the flow record every
 * consumer reads. Shared verbatim by the BPF program (bpf/), the daemon,
 * xdpctl and any C consumer. docs/flows.md defines every field, how the
 * kernel fills it and how the derived features (means, standard
 * deviations) are computed from it; it gives the numpy dtype of
 * struct xpp_flow_record.
 *
 * Rules of the layout, as in xpp/record.h: fixed size, naturally aligned,
 * no implicit padding (checked below), numbers in host byte order,
 * addresses in network byte order (IPv4 as ::ffff:a.b.c.d). Times are
 * nanoseconds; sizes are bytes as the accounting mode counts them
 * (enum xpp_flow_accounting). Changing a layout means bumping
 * XPP_FLOW_VERSION (and XPP_SCHEMA_VERSION in xpp/maps.h for the map).
 */
#ifndef XPP_FLOW_H
#define XPP_FLOW_H

#include <linux/types.h>

#define XPP_FLOW_VERSION 1

/* The early-flow (SPLT) slots the kernel keeps; xpp_config.splt_len
 * (1..XPP_SPLT_MAX, default XPP_SPLT_DEFAULT) says how many are used. */
#define XPP_SPLT_MAX 32
#define XPP_SPLT_DEFAULT 8

/* Why a flow was exported: the values of IPFIX flowEndReason (IANA
 * element 136, RFC 5102). */
enum xpp_flow_end {
	XPP_END_IDLE = 1,      /* idle timeout */
	XPP_END_ACTIVE = 2,    /* active timeout: the flow goes on, anew */
	XPP_END_END = 3,       /* TCP end (FIN both ways and the last ACK, or
				* RST) and the grace after it */
	XPP_END_FORCED = 4,    /* detach, shutdown, end of a capture (a TCP
				* flow whose end was seen: XPP_END_END) */
	XPP_END_RESOURCES = 5, /* flow table full: the packet is exported
				* alone, as a flow of one packet */
};

/* What a packet's size is, as NFStream's accounting modes. */
enum xpp_flow_accounting {
	XPP_ACCT_LINK = 0,	/* the frame on the wire without FCS */
	XPP_ACCT_IP = 1,	/* the IP packet: IPv4 total length, IPv6 40 +
				 * payload length (jumbogram: its option) */
	XPP_ACCT_TRANSPORT = 2, /* the IP packet less its IP header, IPv6
				 * extension headers and IPv4 AH */
	XPP_ACCT_PAYLOAD = 3,	/* transport less the L4 header (TCP: data
				 * offset, UDP 8, ICMP 8, others 0) */
};

/*
 * Index of a TCP flag in xpp_flow_dir.flag_packets: the bit's position in
 * the flags byte (FIN is bit 0, CWR bit 7), as in xpp_record.tcp_flags.
 */
enum xpp_tcp_flag {
	XPP_TCP_FIN,
	XPP_TCP_SYN,
	XPP_TCP_RST,
	XPP_TCP_PSH,
	XPP_TCP_ACK,
	XPP_TCP_URG,
	XPP_TCP_ECE,
	XPP_TCP_CWR,
	XPP_TCP_FLAGS,
};

/*
 * The key of the kernel's flow table: both directions of a conversation
 * meet in it. The two endpoints (address, port) are stored in canonical
 * order, the smaller first (its address's two 64-bit words, then the
 * port, compared as numbers in host order); which of them began the flow
 * is in xpp_flow.src_end. Ports are TCP/UDP/UDP-Lite/SCTP/DCCP ports;
 * every other protocol (ICMP, ICMPv6 included) and every later fragment
 * has ports 0.
 */
struct xpp_flow_key {
	__u8 addr[2][16]; /*  0: endpoint addresses, network order */
	__u16 port[2];	  /* 32: endpoint ports, host order */
	__u32 ifindex;	  /* 36: ingress interface (capture: as named) */
	__u16 vlan;	  /* 40: outermost VLAN id, 0 if untagged */
	__u8 ip_version;  /* 42: 4 or 6 */
	__u8 proto;	  /* 43: L4 protocol */
};

/*
 * The integers the kernel keeps for one direction of a flow, or for both
 * (xpp_flow.bidir). 128-bit sums are {low, high} 64-bit words.
 * piat: packet inter-arrival time, this packet's time less the previous
 * packet's of the same direction (of either, in bidir); packets - 1 of
 * them. A time that goes back (another CPU's clock) counts as 0.
 */
struct xpp_flow_dir {
	__u64 first_seen_ns;	/*   0 */
	__u64 last_seen_ns;	/*   8 */
	__u64 packets;		/*  16 */
	__u64 bytes;		/*  24: sum of the packet sizes */
	__u64 ps_sumsq[2];	/*  32: sum of their squares */
	__u64 piat_sum_ns;	/*  48 */
	__u64 piat_sumsq[2];	/*  56: sum of their squares, ns^2 */
	__u64 min_piat_ns;	/*  72: 0 until a second packet */
	__u64 max_piat_ns;	/*  80 */
	__u32 min_ps;		/*  88 */
	__u32 max_ps;		/*  92 */
	__u64 flag_packets[XPP_TCP_FLAGS]; /* 96: TCP packets with each flag */
	__u16 first_window;	/* 160: TCP window of the first packet,
				 * unscaled (0: not TCP, no packet) */
	__u8 first_ttl;		/* 162: IPv4 TTL / IPv6 hop limit of the
				 * first packet */
	__u8 reserved[5];	/* 163 */
};

/* Bits of xpp_flow.tcp_state */
enum {
	XPP_FLOW_FIN_SRC = 1 << 0, /* FIN seen from the initiator */
	XPP_FLOW_FIN_DST = 1 << 1, /* FIN seen from the responder */
	XPP_FLOW_RST = 1 << 2,	   /* RST seen */
	XPP_FLOW_ENDED = 1 << 3,   /* the TCP end was seen: end_ns holds
				    * when */
};

/* The state of one flow: the value of the kernel's table (after its
 * lock) and the body of every exported flow record. */
struct xpp_flow {
	struct xpp_flow_dir bidir;    /*    0 */
	struct xpp_flow_dir src2dst;  /*  168 */
	struct xpp_flow_dir dst2src;  /*  336 */
	__u64 end_ns;		      /*  504: when the TCP end was seen
				       *  (RST, or the ACK after both
				       *  FINs), 0 before */
	__u8 src_end;		      /*  512: the key endpoint (0 or 1)
				       *  that began the flow */
	__u8 tcp_state;		      /*  513: XPP_FLOW_* */
	__u8 splt_len;		      /*  514: SPLT slots filled */
	__u8 reserved;		      /*  515 */
	__u32 splt_direction;	      /*  516: bit i: packet i was dst2src */
	__u32 splt_ps[XPP_SPLT_MAX];  /*  520 */
	__u64 splt_piat_ns[XPP_SPLT_MAX]; /* 648: 0 for the first packet */
};

/*
 * What the kernel hands user space when it ends a flow itself (a packet
 * found it expired, or the table was full), through the ring buffer
 * xpp_flow_ring; user space builds the same from the table when it
 * expires a flow that no packet came for.
 */
struct xpp_flow_export {
	struct xpp_flow_key key; /*  0 */
	__u32 end_reason;	 /* 44: enum xpp_flow_end */
	struct xpp_flow flow;	 /* 48 */
};

/*
 * One flow as delivered (binary stream, xdpctl extract --flows --format
 * binary): endpoints oriented src (initiator) to dst, times in
 * nanoseconds since the Unix epoch, the kernel's integers, and the derived
 * statistics (docs/flows.md: mean = sum / n; stddev = the sample standard
 * deviation, sqrt((n * sumsq - sum^2) / (n * (n - 1))), 0 for n < 2; piat
 * statistics over packets - 1 values).
 */
struct xpp_flow_record {
	__u8 version;	   /*    0: XPP_FLOW_VERSION */
	__u8 end_reason;   /*    1: enum xpp_flow_end */
	__u8 ip_version;   /*    2 */
	__u8 proto;	   /*    3 */
	__u32 ifindex;	   /*    4 */
	__u8 src_ip[16];   /*    8 */
	__u8 dst_ip[16];   /*   24 */
	__u16 src_port;	   /*   40 */
	__u16 dst_port;	   /*   42 */
	__u16 vlan_id;	   /*   44 */
	__u8 accounting;   /*   46: enum xpp_flow_accounting */
	__u8 splt_max;	   /*   47: SPLT slots asked for (padding -1) */
	/* 48: [0] bidirectional, [1] src2dst, [2] dst2src */
	double mean_ps[3];	/*  48 */
	double stddev_ps[3];	/*  72 */
	double mean_piat_ns[3]; /*  96 */
	double stddev_piat_ns[3]; /* 120 */
	struct xpp_flow flow;	/* 144 */
};

#define XPP_FLOW_RECORD_SIZE 1048

_Static_assert(sizeof(struct xpp_flow_key) == 44, "xpp_flow_key: 44 bytes");
_Static_assert(sizeof(struct xpp_flow_dir) == 168, "xpp_flow_dir: 168 bytes");
_Static_assert(sizeof(struct xpp_flow) == 904, "xpp_flow: 904 bytes");
_Static_assert(__builtin_offsetof(struct xpp_flow_export, flow) == 48,
	       "xpp_flow_export has unexpected padding");
_Static_assert(sizeof(struct xpp_flow_record) == XPP_FLOW_RECORD_SIZE &&
		       __builtin_offsetof(struct xpp_flow_record, flow) == 144,
	       "xpp_flow_record has unexpected padding");

/*
 * Whether the flow f is due at time now (ns, the clock of its
 * timestamps), and why: the earliest of its TCP end plus end_grace_ns,
 * its last packet plus idle_ns and its first packet plus active_ns; on a
 * tie end, then idle, then active; a TCP flow whose end came before the
 * active timeout is due for its end (reason end) when the active timeout
 * comes first. Returns an enum xpp_flow_end, or 0 when the flow is not
 * due. The kernel (for a packet that finds its flow)
 * and user space (scanning the table, live and offline) decide with this
 * one function (docs/flows.md, "Expiry").
 */
static inline __u32 xpp_flow_due(const struct xpp_flow *f, __u64 now,
				 __u64 idle_ns, __u64 active_ns,
				 __u64 end_grace_ns)
{
	__u64 due = f->bidir.last_seen_ns + idle_ns;
	__u32 why = XPP_END_IDLE;

	if (f->tcp_state & XPP_FLOW_ENDED &&
	    f->end_ns + end_grace_ns <= due) {
		due = f->end_ns + end_grace_ns;
		why = XPP_END_END;
	}
	if (f->bidir.first_seen_ns + active_ns < due) {
		due = f->bidir.first_seen_ns + active_ns;
		why = XPP_END_ACTIVE;
		/* A TCP flow that ended before its active timeout came, in
		 * the grace after its end, ended: it is not cut. */
		if (f->tcp_state & XPP_FLOW_ENDED && f->end_ns <= due)
			why = XPP_END_END;
	}
	return now >= due ? why : 0;
}

#endif /* XPP_FLOW_H */
