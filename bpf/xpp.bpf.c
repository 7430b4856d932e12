// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The xdp-preprocd datapath: parse each frame, count it, and write one
 * feature record per selected frame into this CPU's ring buffer.
 *
 * Every read of packet data is bounds-checked twice: against data_end (for
 * the verifier and for safety) and against the end of the IP packet as its
 * length field states (so Ethernet padding is never read as L4 data). A
 * frame that fails a check is counted by kind and passed; a field that
 * cannot be read is left 0 and the record says so in its flags.
 *
 * Build variants (compiled from this file, for benchmarks):
 *   XPP_PARSE_ONLY  parse into a per-CPU scratch record, no counters, no
 *                   ring: the cost of parsing alone.
 */
#include <linux/bpf.h>
#include <linux/errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/in6.h>
#include <linux/ipv6.h>
/* struct icmp6hdr is ICMP's layout too (linux/icmp.h needs libc). */
#include <linux/icmpv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xpp/flow.h"
#include "xpp/maps.h"
#include "xpp/meta.h"
#include "xpp/record.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#ifndef offsetofend
#define offsetofend(TYPE, MEMBER) \
	(__builtin_offsetof(TYPE, MEMBER) + sizeof(((TYPE *)0)->MEMBER))
#endif

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif
#ifndef ETH_P_QINQ1
#define ETH_P_QINQ1 0x9100
#endif
/* IPv6 extension headers of the generic format, beyond linux/in6.h. */
#ifndef IPPROTO_HIP
#define IPPROTO_HIP 139
#endif
#ifndef IPPROTO_SHIM6
#define IPPROTO_SHIM6 140
#endif

/* Header layouts that uapi does not export, as the kernel (and
 * progs/bpf_flow.c, xdp-tools' parsing_helpers.h) define them. */
struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

/* PPPoE session header (linux/if_pppox.h needs more than uapi). */
struct pppoe_hdr {
	__u8 ver_type;
	__u8 code;
	__be16 sid;
	__be16 length;
};

/* 802.2 LLC with a SNAP extension (RFC 1042). */
struct llc_snap_hdr {
	__u8 dsap;
	__u8 ssap;
	__u8 ctrl;
	__u8 oui[3];
	__be16 ethertype;
};

struct frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

/* One option of a hop-by-hop or destination options header (RFC 8200
 * 4.2); Pad1 (IPV6_TLV_PAD1) is the type byte alone. */
struct ipv6_opt_tlv {
	__u8 type;
	__u8 len;
};

/* SCTP common header and DCCP generic header: ports, then fields the
 * program does not read (linux/sctp.h, linux/dccp.h). */
#define SCTP_HDR_LEN 12
#define DCCP_HDR_LEN 12

#define VLAN_MAX_DEPTH 2
/* MPLS: the bottom-of-stack bit of a label stack entry (RFC 3032). */
#define MPLS_LS_S 0x00000100
/* PPP protocol numbers (linux/ppp_defs.h) of IPv4 and IPv6. */
#define PPP_IP 0x0021
#define PPP_IPV6 0x0057
/* LLC in a frame longer than an 802.3 length can say (the Jumbo LLC
 * ethertype of IEEE 802.3 drafts; scapy and tshark know it): LLC as after
 * a length field, bounded by the frame alone. */
#define ETH_P_JUMBO_LLC 0x8870

/* LLC: the SNAP SAP and the unnumbered-information control byte; the
 * LLC header without SNAP is 3 bytes. */
#define LLC_SAP_SNAP 0xaa
#define LLC_UI 0x03
#define LLC_HDR_LEN 3
#define VLAN_VID_MASK 0x0fff
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define IP6_MF 0x0001
#define IP6_OFFSET 0xfff8

/* Extension header lengths, as the kernel's net/ipv6.h computes them. */
#define ipv6_optlen(h) (((h)->hdrlen + 1) << 3)
#define ipv6_authlen(h) (((h)->hdrlen + 2) << 2)
/* The longest a generic extension header can be (hdrlen 255). */
#define IPV6_OPTLEN_MAX ((0xff + 1) << 3)
/* The largest payload length of a packet that is not a jumbogram. */
#define IPV6_PLEN_MAX 0xffff
/* Options of one extension header looked at before taking it as good. */
#define IPV6_OPTS_WALK_MAX 16

/* The TCP header bytes with the data offset (in 32-bit words, the high
 * nibble) and with the flags, CWR..FIN (the kernel's tcp_flag_byte()).
 * Read as bytes: struct tcphdr has them as bit-fields of one __u16, and
 * th->doff loads both bytes, one past a bound that ends with the first. */
#define TCP_DOFF_OFF offsetofend(struct tcphdr, ack_seq)
#define TCP_FLAGS_OFF (TCP_DOFF_OFF + 1)
#define tcp_doff(b) ((b)[TCP_DOFF_OFF] >> 4)

/* Packet offsets are kept below this so the verifier can bound them:
 * offset + length must stay under its 64 KiB packet range limit. */
#define XPP_MAX_OFF 0x7fff
/* ptr_at() bounds offsets by masking them with XPP_MAX_OFF: that keeps
 * every offset up to it only if it is all ones, and the mask is an ALU
 * immediate, a sign-extended 32-bit value. */
_Static_assert((XPP_MAX_OFF & (XPP_MAX_OFF + 1)) == 0 &&
		       XPP_MAX_OFF <= 0x7fffffff,
	       "XPP_MAX_OFF must be 2^n - 1 (a mask), n < 32");
/* The verifier's packet range limit (kernel/bpf/verifier.c), against
 * the longest read: a whole IPv6 extension header. */
#define MAX_PACKET_OFF 0xffff
_Static_assert(XPP_MAX_OFF + IPV6_OPTLEN_MAX <= MAX_PACKET_OFF,
	       "XPP_MAX_OFF leaves no room for the longest read");

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * The record being filled, and what the flow table needs besides it: where
 * the IP header and the L4 header are (for the packet's size under each
 * accounting mode, docs/flows.md). The parse helpers take &pk->r; the two
 * global functions take the whole (a global function may touch only the
 * bytes its argument's type has).
 */
struct xpp_pkt {
	struct xpp_record r; /* first: pkt_of() goes back from it */
	__u32 ip_off;	     /* the IP header */
	__u32 l4_off;	     /* where the walk past IP stopped: L4 header */
	__u32 l4_hdr;	     /* L4 header length (docs/flows.md, payload) */
	__u32 reserved;
};
#define pkt_of(r) ((struct xpp_pkt *)(r))

#ifndef XPP_PARSE_ONLY
/* Records per CPU ring; the loader sets it (and the map sizes below). */
const volatile __u32 ring_slots = 1;

/*
 * One ring per possible CPU (struct xpp_ring_pos in xpp/maps.h): CPU c's
 * records are entries c * ring_slots ... of xpp_ring_data. Plain memory
 * with a single producer and a single consumer: no lock, no helper call,
 * no per-record header (a BPF ring buffer's reserve and submit cost as
 * much as parsing the frame; see docs/benchmarks.md). Both arrays are
 * BPF_F_MMAPABLE: the reader maps them.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* set to CPUs * ring_slots */
	__type(key, __u32);
	__type(value, struct xpp_record);
} xpp_ring_data SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* set to the number of possible CPUs */
	__type(key, __u32);
	__type(value, struct xpp_ring_pos);
} xpp_ring_pos SEC(".maps");

/* Wakeups only: a token here wakes the reader's epoll (the rings above
 * have no wait queue). Written once per crossing of the wakeup mark. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} xpp_wake SEC(".maps");

/* ifindex -> counters slot; user space writes it, the program reads. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XPP_MAX_IFACES);
	__type(key, __u32);
	__type(value, __u32);
} xpp_ifslots SEC(".maps");

/* Slot XPP_SLOT_OVERFLOW, then one per registered interface. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XPP_MAX_IFACES + 1);
	__type(key, __u32);
	__type(value, struct xpp_counters);
} xpp_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xpp_config);
} xpp_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xpp_cpu_state);
} xpp_cpu_state SEC(".maps");

/* Not used by the program: user space records what created the pins. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xpp_pin_meta);
} xpp_meta SEC(".maps");

/*
 * The flow table (docs/flows.md): one entry per bidirectional flow,
 * shared by every CPU, each entry guarded by its own lock (the two
 * directions of a flow may arrive on two CPUs; the inter-arrival times,
 * the SPLT slots and the TCP end need one ordered read-modify-write per
 * packet, which atomic adds alone do not give: docs/benchmarks.md has the
 * cost of each layout). Not LRU: a full table says so (-E2BIG) instead of
 * evicting a flow silently. The loader sets max_entries (flow_table_size).
 */
struct xpp_flow_entry {
	struct bpf_spin_lock lock;
	__u32 reserved;
	struct xpp_flow f;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* set to flow_table_size */
	__type(key, struct xpp_flow_key);
	__type(value, struct xpp_flow_entry);
} xpp_flows SEC(".maps");

/* Flows the program ends itself (struct xpp_flow_export): a packet that
 * found its flow due, or a packet the full table could not take. One
 * per flow, not per packet: the shared ring's cost does not matter here. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* the loader may set more */
} xpp_flow_ring SEC(".maps");

/* struct xpp_flow_entry's bytes with a plain word for the lock: a
 * per-CPU map may not hold a bpf_spin_lock (the kernel refuses its BTF),
 * and the table's update takes the value as bytes, the lock word
 * ignored. */
struct xpp_flow_image {
	__u32 lock;
	__u32 reserved;
	struct xpp_flow f;
};
_Static_assert(sizeof(struct xpp_flow_image) ==
			       sizeof(struct xpp_flow_entry) &&
		       __builtin_offsetof(struct xpp_flow_image, f) ==
			       __builtin_offsetof(struct xpp_flow_entry, f),
	       "xpp_flow_image must lay out as xpp_flow_entry");

/* A new flow is built here before it goes into the table (too big for the
 * stack), and an ended one is copied here, under its lock, before it goes
 * to the ring (no helper may be called under the lock). */
struct xpp_flow_scratch {
	struct xpp_flow_image e;
	struct xpp_flow_export x;
	__u64 fence; /* flow_wake()'s barrier: a word of this CPU's own */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xpp_flow_scratch);
} xpp_flow_scratch SEC(".maps");
#else
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xpp_pkt);
} xpp_scratch SEC(".maps");
#endif

/* Parse state shared by the helpers below. Offsets are from ctx->data. */
struct parse {
	struct xdp_md *ctx;
	void *data;
	void *data_end;
	__u32 lim;	 /* end of the IP packet, clamped to the frame */
	__u32 wire;	 /* the frame's length on the wire (>= its bytes) */
	__u32 malformed; /* XPP_M_* + 1 of the first problem seen, or 0 */
	__u32 tags;	 /* complete VLAN tags seen */
};

/* Pointer to len bytes at off, or NULL when they are not in the frame. */
static __always_inline void *ptr_at(struct parse *p, __u32 off, __u32 len)
{
	__u64 o = off;
	void *ptr;

	if (o > XPP_MAX_OFF)
		return NULL;
	/* Bound the very register that is added to the packet pointer:
	 * clang may otherwise check one copy and add another. */
	asm volatile("%0 &= %1" : "+r"(o) : "i"(XPP_MAX_OFF));
	ptr = p->data + o;
	if (ptr + len > p->data_end)
		return NULL;
	return ptr;
}

/* Like ptr_at, but also within the IP packet. */
static __always_inline void *l4_at(struct parse *p, __u32 off, __u32 len)
{
	if (off + len > p->lim)
		return NULL;
	return ptr_at(p, off, len);
}

static __always_inline struct parse parse_init(struct xdp_md *ctx)
{
	struct parse p = {
		.ctx = ctx,
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
	};

	p.lim = p.data_end - p.data;
	return p;
}

/*
 * The record's fields that come from the frame's circumstances, not its
 * headers. A capture run through the program (xdpctl extract) puts a
 * struct xpp_frame_meta in the metadata area: its timestamp, wire length,
 * interface and packet type stand in for the kernel's. A live frame has
 * no metadata (data_meta == data), so the cost there is one compare.
 *
 * A live frame's timestamp is the kernel clock's, CLOCK_MONOTONIC, on
 * every interface alike. Not the NIC's (bpf_xdp_metadata_rx_timestamp()):
 * that reaches only a program loaded for one device, and it is on the
 * NIC's clock, not this one (docs/datapath.md, "Timestamps").
 */
static __always_inline struct xpp_frame_meta *frame_meta(struct xdp_md *ctx)
{
	struct xpp_frame_meta *m = (void *)(long)ctx->data_meta;

	if ((void *)(m + 1) <= (void *)(long)ctx->data &&
	    m->magic == XPP_FRAME_META_MAGIC)
		return m;
	return NULL;
}

static __always_inline void record_init(struct parse *p,
					struct xpp_record *r)
{
	struct xdp_md *ctx = p->ctx;
	struct xpp_frame_meta *m = frame_meta(ctx);

	p->wire = p->lim;
	if (m) {
		r->ts_ns = m->ts_ns;
		r->ifindex = m->ifindex;
		r->pkt_type = m->pkt_type < XPP_PKT_TYPE_NONE ?
				      m->pkt_type :
				      XPP_PKT_TYPE_NONE;
		/* Never fewer than the bytes at hand. */
		if (m->wire_len > p->wire)
			p->wire = m->wire_len;
	} else {
		r->ts_ns = bpf_ktime_get_ns();
		r->ifindex = ctx->ingress_ifindex;
		r->pkt_type = XPP_PKT_TYPE_NONE;
	}
	r->rx_queue = ctx->rx_queue_index;
	r->frame_len = p->wire;
	r->version = XPP_RECORD_VERSION;
}

static __always_inline void note(struct parse *p, enum xpp_malformed kind)
{
	if (!p->malformed)
		p->malformed = kind + 1;
}

static __always_inline void map_v4(__u8 *dst, __be32 addr)
{
	*(__u64 *)dst = 0;
	*(__u32 *)(dst + 8) = bpf_htonl(0x0000ffff);
	*(__u32 *)(dst + 12) = addr;
}

static __always_inline void copy_v6(__u8 *dst, const __u8 *src)
{
	/* IPv6 addresses in the packet are only 4-byte aligned at best. */
	*(__u32 *)dst = *(const __u32 *)src;
	*(__u32 *)(dst + 4) = *(const __u32 *)(src + 4);
	*(__u32 *)(dst + 8) = *(const __u32 *)(src + 8);
	*(__u32 *)(dst + 12) = *(const __u32 *)(src + 12);
}

/* TCP, UDP, UDP-Lite, SCTP and DCCP headers all open with the ports. */
static __always_inline void read_ports(struct parse *p, struct xpp_record *r,
				       __u32 off)
{
	struct udphdr *uh = l4_at(p, off, offsetofend(struct udphdr, dest));

	if (uh) {
		r->sport = bpf_ntohs(uh->source);
		r->dport = bpf_ntohs(uh->dest);
	}
}

/* The fixed part of a header that opens with the ports. */
static __always_inline __u32 l4_fixed_len(__u8 proto)
{
	switch (proto) {
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE: /* UDP's header */
		return sizeof(struct udphdr);
	case IPPROTO_SCTP:
		return SCTP_HDR_LEN;
	default:
		return DCCP_HDR_LEN;
	}
}

/*
 * Ports (or ICMP type and code), TCP flags and window, read field by field
 * so that a header cut short still yields what it does contain, from the
 * L4 header at off to the end of the IP packet (p->lim). A problem found
 * is noted in p.
 *
 * Inline everywhere: a BPF-to-BPF call costs about as much as this parse
 * (docs/benchmarks.md). Within the IPv6 walk, a global function verified
 * once, it adds next to nothing to the verifier's work; on the IPv4 and
 * plain IPv6 paths it adds a verification per way of reaching them
 * (docs/architecture.md).
 */
static __always_inline void parse_l4(struct parse *p, struct xpp_record *r,
				     __u32 off)
{
	struct xpp_pkt *pk = pkt_of(r);
	struct icmp6hdr *icmp;
	struct tcphdr *th;
	__u8 *b;

	pk->l4_off = off;
	switch (r->proto) {
	case IPPROTO_TCP:
		read_ports(p, r, off);
		if ((b = l4_at(p, off, TCP_DOFF_OFF + 1)))
			pk->l4_hdr = tcp_doff(b) * 4;
		if (b && tcp_doff(b) < sizeof(struct tcphdr) / 4) {
			/* A header shorter than its fixed part: decoders
			 * stop after the ports, and so do we. */
			r->flags |= XPP_F_TCP_BAD_DOFF;
			note(p, XPP_M_TCP_DOFF);
			return;
		}
		if ((b = l4_at(p, off, TCP_FLAGS_OFF + 1)))
			r->tcp_flags = b[TCP_FLAGS_OFF];
		if ((th = l4_at(p, off, offsetofend(struct tcphdr, window))))
			r->tcp_window = bpf_ntohs(th->window);
		if (!l4_at(p, off, sizeof(struct tcphdr)))
			goto trunc;
		return;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP: {
		__u32 fixed = l4_fixed_len(r->proto);

		if (r->proto == IPPROTO_UDP || r->proto == IPPROTO_UDPLITE)
			pk->l4_hdr = fixed;
		read_ports(p, r, off);
		if (!l4_at(p, off, fixed))
			goto trunc;
		return;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* Type, code, checksum and 4 bytes the type defines, in
		 * ICMP as in ICMPv6. */
		pk->l4_hdr = sizeof(struct icmp6hdr);
		if ((icmp = l4_at(p, off,
				  offsetofend(struct icmp6hdr, icmp6_type))))
			r->sport = icmp->icmp6_type;
		if ((icmp = l4_at(p, off,
				  offsetofend(struct icmp6hdr, icmp6_code))))
			r->dport = icmp->icmp6_code;
		if (!l4_at(p, off, sizeof(struct icmp6hdr)))
			goto trunc;
		return;
	default:
		return;
	}
trunc:
	r->flags |= XPP_F_L4_TRUNC;
	note(p, XPP_M_L4_TRUNC);
}

/*
 * Whether the options of a hop-by-hop or destination options header of
 * len bytes at off lie within the IP packet (which ends at lim). An option
 * that runs past the header but not past the packet is only odd; one that
 * runs past the packet is where decoders stop, so the walk stops too.
 * Walks up to IPV6_OPTS_WALK_MAX options; longer runs are taken as good.
 * A Jumbo Payload option (RFC 2675) leaves its length in *jumbo, or 1
 * when the option has a length other than 4; *jumbo is 0 without one.
 * A global function: verified once.
 */
__noinline int xpp_opts_ok(struct xdp_md *ctx, __u32 off, __u32 len,
			   __u32 lim, __u32 *jumbo)
{
	struct parse pp = parse_init(ctx), *p = &pp;
	/* 32-bit like pos: a size_t would widen the sums below. */
	const __u32 tlv_len = sizeof(struct ipv6_opt_tlv);
	__u32 pos = sizeof(struct ipv6_opt_hdr), avail;
	struct ipv6_opt_tlv *opt;
	__be32 *val;
	int i;

	if (!jumbo || len > IPV6_OPTLEN_MAX || lim < off)
		return 1;
	avail = lim - off;
	for (i = 0; i < IPV6_OPTS_WALK_MAX; i++) {
		if (pos >= len)
			return 1;
		if (pos >= avail ||
		    !(opt = ptr_at(p, off + pos,
				   offsetofend(struct ipv6_opt_tlv, type))))
			return 0;
		if (opt->type == IPV6_TLV_PAD1) {
			pos++;
			continue;
		}
		if (pos + tlv_len > avail ||
		    !(opt = ptr_at(p, off + pos, tlv_len)))
			return 0;
		if (opt->type == IPV6_TLV_JUMBO) {
			*jumbo = 1;
			if (opt->len == sizeof(*val) &&
			    pos + tlv_len + sizeof(*val) <= avail &&
			    (val = ptr_at(p, off + pos + tlv_len,
					  sizeof(*val))))
				*jumbo = bpf_ntohl(*val);
		}
		pos += tlv_len + opt->len;
		if (pos > avail)
			return 0;
	}
	return 1;
}

/* The IP packet ends at end, as its length field says, or with the frame
 * if that comes first (flagged: the frame was cut or the field lies).
 * 64 bits: an offset plus a 32-bit length. */
static __always_inline void ip_end(struct parse *p, struct xpp_record *r,
				   __u64 end)
{
	/* p->lim is the end of the frame, or of the encapsulation's
	 * payload when that says how long it is (PPPoE, 802.3). */
	if (end > p->lim) {
		r->flags |= XPP_F_IP_TRUNC;
		note(p, XPP_M_IP_TRUNC);
	} else {
		p->lim = end;
	}
}

/* Whether the walk steps over nh: in IPv6 every extension header, in
 * IPv4 AH alone (IPv4 has no extension headers; AH sits between it and
 * the L4 header as it does in IPv6). */
static __always_inline int is_ext(__u8 nh, int v6)
{
	switch (nh) {
	case IPPROTO_AH:
		return 1;
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_FRAGMENT:
	case IPPROTO_MH:
	case IPPROTO_HIP:
	case IPPROTO_SHIM6:
		return v6;
	default:
		return 0;
	}
}

/*
 * The walk over the headers between the IP header and the L4 header, from
 * off (just past the IP header) up to lim, then the L4 header: IPv6
 * extension headers, and AH in both versions (r->ip_version says which).
 * Sets r->proto and flags; returns XPP_M_* + 1 of a problem found, or 0.
 * A global function, verified once: inlined, the walk's paths multiply
 * past the verifier's budget.
 */
__noinline int xpp_ext_walk(struct xdp_md *ctx, struct xpp_pkt *pk,
			    __u32 off, __u32 lim, __u8 nexthdr)
{
	struct parse pp = parse_init(ctx), *p = &pp;
	struct ipv6_opt_hdr *eh;
	struct xpp_record *r;
	struct frag_hdr *fh;
	__u32 len, ext;
	__u8 nh;
	int i, v6;

	if (!pk)
		return 0;
	r = &pk->r;
	p->lim = lim;
	nh = nexthdr;
	v6 = r->ip_version == 6;
	ext = v6 ? XPP_F_IPV6_EXT : 0;
	for (i = 0; i < XPP_IPV6_EXT_MAX; i++) {
		if (!is_ext(nh, v6))
			goto l4;
		switch (nh) {
		case IPPROTO_AH:
			/* Opens as the generic format, length in 4-byte
			 * units less 2 (RFC 4302). */
			r->flags |= XPP_F_AH;
			if (!(eh = l4_at(p, off, sizeof(*eh))))
				goto ext_trunc;
			len = ipv6_authlen(eh);
			break;
		case IPPROTO_FRAGMENT: {
			__u16 fo;

			if (!(fh = l4_at(p, off, sizeof(*fh))))
				goto ext_trunc;
			eh = (struct ipv6_opt_hdr *)fh; /* nexthdr first */
			len = sizeof(*fh);
			fo = bpf_ntohs(fh->frag_off);
			if (fo & (IP6_OFFSET | IP6_MF))
				r->flags |= XPP_F_FRAGMENT;
			if (fo & IP6_OFFSET) {
				r->flags |= XPP_F_IPV6_EXT | XPP_F_FRAG_LATER;
				r->proto = fh->nexthdr;
				pk->l4_off = off + len;
				return p->malformed;
			}
			break;
		}
		default:
			/* The generic extension header format (RFC 6564). */
			if (!(eh = l4_at(p, off, sizeof(*eh))))
				goto ext_trunc;
			len = ipv6_optlen(eh);
			break;
		}
		r->flags |= ext;
		/* The whole extension header must be there, as decoders
		 * require, before its next-header value is trusted. */
		if (!l4_at(p, off, len))
			goto ext_trunc;
		if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_DSTOPTS) {
			__u32 jumbo = 0;

			if (!xpp_opts_ok(p->ctx, off, len, p->lim, &jumbo))
				goto ext_bad;
			/* RFC 2675: only with a payload length of 0 (a
			 * jumbogram, found before the walk). */
			if (jumbo && !(r->flags & XPP_F_JUMBO)) {
				r->flags |= XPP_F_JUMBO_BAD;
				note(p, XPP_M_JUMBO);
			}
		}
		nh = eh->nexthdr;
		off += len;
	}
	if (is_ext(nh, v6)) {
		r->flags |= XPP_F_EXT_LIMIT;
		note(p, XPP_M_EXT_LIMIT);
		r->proto = nh;
		pk->l4_off = off;
		return p->malformed;
	}
l4:
	r->proto = nh;
	parse_l4(p, r, off);
	return p->malformed;

ext_trunc:
	pk->l4_off = off;
	r->flags |= ext | XPP_F_L4_TRUNC;
	r->proto = nh;
	note(p, v6 ? XPP_M_EXT_TRUNC : XPP_M_AH_TRUNC);
	return p->malformed;
ext_bad:
	pk->l4_off = off;
	r->flags |= XPP_F_IPV6_EXT | XPP_F_EXT_BAD;
	r->proto = nh;
	note(p, XPP_M_EXT_BAD);
	return p->malformed;
}

/* The walk's problem, if it is the frame's first. */
static __always_inline void ext_walk(struct parse *p, struct xpp_record *r,
				     __u32 off, __u8 nexthdr)
{
	int m = xpp_ext_walk(p->ctx, pkt_of(r), off, p->lim, nexthdr);

	if (m && !p->malformed)
		p->malformed = m;
}

/* Returns 0 when r holds an IPv4 header's fields, -1 when there is none. */
static __always_inline int parse_ipv4(struct parse *p, struct xpp_record *r,
				      __u32 off)
{
	struct iphdr *ip = l4_at(p, off, sizeof(*ip));
	__u32 hlen, tot;
	__u16 frag;

	if (!ip) {
		note(p, XPP_M_IP4_TRUNC);
		return -1;
	}
	if (ip->version != 4) {
		note(p, XPP_M_IP4_VERSION);
		return -1;
	}
	hlen = ip->ihl * 4;
	if (hlen < sizeof(*ip)) {
		note(p, XPP_M_IP4_IHL);
		return -1;
	}
	if (!l4_at(p, off, hlen)) {
		note(p, XPP_M_IP4_TRUNC);
		return -1;
	}
	tot = bpf_ntohs(ip->tot_len);
	if (!tot) {
		/* Total length 0: a segmentation-offload capture. Like
		 * decoders, take the IP packet to end with the frame, as
		 * long as it was on the wire (the bytes at hand may be
		 * fewer: ip_trunc). */
		tot = p->wire - off;
	}
	if (tot < hlen) {
		note(p, XPP_M_IP4_LEN);
		return -1;
	}

	r->ip_version = 4;
	pkt_of(r)->ip_off = off;
	pkt_of(r)->l4_off = off + hlen;
	r->proto = ip->protocol;
	r->ttl = ip->ttl;
	r->ip_len = tot;
	map_v4(r->saddr, ip->saddr);
	map_v4(r->daddr, ip->daddr);
	if (hlen > sizeof(*ip))
		r->flags |= XPP_F_IP_OPTIONS;

	ip_end(p, r, (__u64)off + tot);

	frag = bpf_ntohs(ip->frag_off);
	if (frag & (IP_MF | IP_OFFSET))
		r->flags |= XPP_F_FRAGMENT;
	if (frag & IP_OFFSET) {
		r->flags |= XPP_F_FRAG_LATER;
		return 0;
	}
	/* The walk costs a call: only AH needs it. */
	if (ip->protocol == IPPROTO_AH)
		ext_walk(p, r, off + hlen, IPPROTO_AH);
	else
		parse_l4(p, r, off + hlen);
	return 0;
}

/*
 * A jumbogram (RFC 2675): payload length 0 and a Jumbo Payload option in
 * the hop-by-hop header at off, whose length ip_len takes. Without a valid
 * one (missing, not 4 bytes long, or not above 65535) the walk stops at
 * the hop-by-hop header, as tshark stops. A hop-by-hop header the frame
 * does not hold whole is left to the walk (a cut header).
 */
static __always_inline void jumbogram(struct parse *p, struct xpp_record *r,
				      __u32 off)
{
	struct ipv6_opt_hdr *eh = ptr_at(p, off, sizeof(*eh));
	__u32 jumbo = 0, len;

	if (!eh)
		return;
	len = ipv6_optlen(eh);
	if (!ptr_at(p, off, len))
		return;
	xpp_opts_ok(p->ctx, off, len, p->lim, &jumbo);
	if (jumbo > IPV6_PLEN_MAX) {
		r->ip_len = jumbo;
		r->flags |= XPP_F_JUMBO;
	} else {
		r->flags |= XPP_F_JUMBO_BAD;
		note(p, XPP_M_JUMBO);
	}
}

static __always_inline int parse_ipv6(struct parse *p, struct xpp_record *r,
				      __u32 off)
{
	struct ipv6hdr *ip6 = l4_at(p, off, sizeof(*ip6));

	if (!ip6) {
		note(p, XPP_M_IP6_TRUNC);
		return -1;
	}
	if (ip6->version != 6) {
		note(p, XPP_M_IP6_VERSION);
		return -1;
	}

	r->ip_version = 6;
	pkt_of(r)->ip_off = off;
	r->ttl = ip6->hop_limit;
	r->ip_len = bpf_ntohs(ip6->payload_len);
	copy_v6(r->saddr, (__u8 *)&ip6->saddr);
	copy_v6(r->daddr, (__u8 *)&ip6->daddr);

	off += sizeof(*ip6);
	if (!r->ip_len && ip6->nexthdr == IPPROTO_HOPOPTS)
		jumbogram(p, r, off);
	ip_end(p, r, (__u64)off + r->ip_len);

	/* The walk costs a call: only extension headers need it. */
	if (is_ext(ip6->nexthdr, 1)) {
		ext_walk(p, r, off, ip6->nexthdr);
	} else {
		r->proto = ip6->nexthdr;
		parse_l4(p, r, off);
	}
	return 0;
}

/* 802.1Q, 802.1ad, and 0x9100 (QinQ before 802.1ad). */
static __always_inline int is_vlan_tpid(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) ||
	       proto == bpf_htons(ETH_P_8021AD) ||
	       proto == bpf_htons(ETH_P_QINQ1);
}

/* The payload of an encapsulation ends at end (its own length field):
 * the IP packet cannot run past it, as decoders take it. */
static __always_inline void l2_end(struct parse *p, __u32 end)
{
	if (end < p->lim)
		p->lim = end;
	if (end < p->wire)
		p->wire = end;
}

/* The ethertype of an IP header whose version nibble is at off, as
 * decoders choose after an MPLS label stack; 0 for anything else. */
static __always_inline __be16 ip_by_version(struct parse *p, __u32 off)
{
	__u8 *b = ptr_at(p, off, 1);

	if (!b)
		return 0;
	switch (*b >> 4) {
	case 4:
		return bpf_htons(ETH_P_IP);
	case 6:
		return bpf_htons(ETH_P_IPV6);
	default:
		return 0;
	}
}

/* An MPLS label stack (RFC 3032) at *off: walked to its bottom. */
static __always_inline __be16 parse_mpls(struct parse *p,
					 struct xpp_record *r, __u32 *off)
{
	__be32 *label;
	int i;

#pragma unroll
	for (i = 0; i < XPP_MPLS_MAX; i++) {
		if (!(label = ptr_at(p, *off, sizeof(*label)))) {
			note(p, XPP_M_MPLS_TRUNC);
			return 0;
		}
		*off += sizeof(*label);
		if (*label & bpf_htonl(MPLS_LS_S)) {
			r->flags |= XPP_F_MPLS;
			return ip_by_version(p, *off);
		}
	}
	note(p, XPP_M_MPLS_DEPTH);
	return 0;
}

/* A PPPoE session header (RFC 2516) and the PPP protocol field, which
 * may be compressed to its odd low byte (RFC 1661 6.5), as decoders
 * accept. */
static __always_inline __be16 parse_pppoe(struct parse *p,
					  struct xpp_record *r, __u32 *off)
{
	struct pppoe_hdr *ph = ptr_at(p, *off, sizeof(*ph));
	__u32 start = *off + sizeof(*ph);
	__u16 ppp;
	__u8 *b;

	if (!ph || !(b = ptr_at(p, start, 1)))
		goto trunc;
	if (*b & 1) {
		ppp = *b;
		*off = start + 1;
	} else {
		if (!(b = ptr_at(p, start, 2)))
			goto trunc;
		ppp = b[0] << 8 | b[1];
		*off = start + 2;
	}
	r->flags |= XPP_F_PPPOE;
	l2_end(p, start + bpf_ntohs(ph->length));
	switch (ppp) {
	case PPP_IP:
		return bpf_htons(ETH_P_IP);
	case PPP_IPV6:
		return bpf_htons(ETH_P_IPV6);
	default:
		return 0;
	}
trunc:
	note(p, XPP_M_PPPOE_TRUNC);
	return 0;
}

/* An 802.3 frame: length (given; 0 for a Jumbo LLC frame, which has
 * none), LLC, and IP in a SNAP header with OUI 00-00-00 (RFC 1042);
 * other LLC frames carry no IP. */
static __always_inline __be16 parse_llc(struct parse *p,
					struct xpp_record *r, __u32 *off,
					__u16 len)
{
	struct llc_snap_hdr *h;

	if (len)
		l2_end(p, *off + len);
	if (!l4_at(p, *off, LLC_HDR_LEN))
		goto trunc;
	h = ptr_at(p, *off, LLC_HDR_LEN);
	if (!h || h->dsap != LLC_SAP_SNAP || h->ssap != LLC_SAP_SNAP ||
	    h->ctrl != LLC_UI)
		return 0;
	if (!(h = l4_at(p, *off, sizeof(*h))))
		goto trunc;
	if (h->oui[0] || h->oui[1] || h->oui[2])
		return 0;
	r->flags |= XPP_F_LLC_SNAP;
	*off += sizeof(*h);
	return h->ethertype;
trunc:
	note(p, XPP_M_LLC_TRUNC);
	return 0;
}

/* The encapsulations walked between Ethernet (and VLAN tags) and IP:
 * the ethertype of the IP header found at *off, or 0. */
static __always_inline __be16 parse_encap(struct parse *p,
					  struct xpp_record *r, __u32 *off,
					  __be16 proto)
{
	__u16 type = bpf_ntohs(proto);

	if (type <= ETH_DATA_LEN)
		return parse_llc(p, r, off, type);
	if (type == ETH_P_JUMBO_LLC)
		return parse_llc(p, r, off, 0);
	if (type == ETH_P_MPLS_UC || type == ETH_P_MPLS_MC)
		return parse_mpls(p, r, off);
	if (type == ETH_P_PPP_SES)
		return parse_pppoe(p, r, off);
	return 0;
}

/*
 * Fills r from the frame. Returns 0 when the frame has a usable IP header
 * (r is then a record), -1 otherwise.
 */
static __always_inline int parse_frame(struct parse *p, struct xpp_record *r)
{
	struct ethhdr *eth = ptr_at(p, 0, sizeof(*eth));
	__u32 off = sizeof(*eth);
	struct vlan_hdr *tag;
	__u16 proto;
	int i;

	if (!eth) {
		note(p, XPP_M_ETH_TRUNC);
		return -1;
	}
	proto = eth->h_proto;

#pragma unroll
	for (i = 0; i < VLAN_MAX_DEPTH; i++) {
		if (!is_vlan_tpid(proto))
			break;
		if (!(tag = ptr_at(p, off, sizeof(*tag)))) {
			note(p, XPP_M_VLAN_TRUNC);
			return -1;
		}
		if (i == 0) {
			r->vlan = bpf_ntohs(tag->h_vlan_TCI) & VLAN_VID_MASK;
			r->flags |= XPP_F_VLAN;
		} else {
			r->flags |= XPP_F_VLAN_QINQ;
		}
		p->tags++;
		proto = tag->h_vlan_encapsulated_proto;
		off += sizeof(*tag);
	}
	if (is_vlan_tpid(proto)) {
		note(p, XPP_M_VLAN_DEPTH);
		return -1;
	}

	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		proto = parse_encap(p, r, &off, proto);
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(p, r, off);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(p, r, off);
	return -1;
}

#ifndef XPP_PARSE_ONLY
/* The interface's counters: an array slot, found through a per-CPU cache
 * (a hash lookup per frame would cost as much as the whole ring write). */
static __always_inline struct xpp_counters *
counters_get(const struct xpp_config *cfg, struct xpp_cpu_state *st,
	     __u32 ifindex)
{
	__u32 slot;

	if (st->slot_ifindex != ifindex || st->slot_gen != cfg->slot_gen) {
		__u32 *s = bpf_map_lookup_elem(&xpp_ifslots, &ifindex);

		st->slot = s && *s <= XPP_MAX_IFACES ? *s : XPP_SLOT_OVERFLOW;
		st->slot_ifindex = ifindex;
		st->slot_gen = cfg->slot_gen;
	}
	slot = st->slot;
	return bpf_map_lookup_elem(&xpp_counters, &slot);
}

static __always_inline int bit_set(const __u64 *map, __u32 bit, __u32 words)
{
	__u32 w = bit / 64;

	if (w >= words)
		return 0;
	return (map[w] >> (bit % 64)) & 1;
}

static __always_inline int selected(const struct xpp_config *cfg,
				    const struct xpp_record *r)
{
	if (cfg->flags & XPP_CFG_PROTO_FILTER &&
	    !bit_set(cfg->proto_map, r->proto, ARRAY_SIZE(cfg->proto_map)))
		return 0;
	if (cfg->flags & XPP_CFG_PORT_FILTER) {
		if (r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP)
			return 0;
		if (r->flags & (XPP_F_FRAG_LATER | XPP_F_L4_TRUNC) &&
		    !r->sport && !r->dport)
			return 0;
		if (!bit_set(cfg->port_map, r->sport,
			     ARRAY_SIZE(cfg->port_map)) &&
		    !bit_set(cfg->port_map, r->dport,
			     ARRAY_SIZE(cfg->port_map)))
			return 0;
	}
	return 1;
}

#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))

/*
 * Stores v to *p after every store before it, and orders it before every
 * load after it (a full barrier): the waiting word is read right after
 * (wake_reader()). An atomic exchange: BPF's fetching atomics are fully
 * ordered and the JITs emit them so (x86: xchg, which is locked; arm64:
 * an acquire-release swap and a barrier). A plain store would let the
 * load of the word pass it in the store buffer, and a reader that looked
 * at the ring in that instant would block with the record in it.
 */
static __always_inline void publish(__u64 *p, __u64 v)
{
	__sync_lock_test_and_set(p, v);
}

/*
 * The reader is blocked, or about to: clear its waiting word and wake it,
 * once. The exchange lets exactly one producer (of every CPU's) take the
 * word, so one token is sent per wait however many records follow. The
 * token is only a wakeup (the records are in the rings); were the token
 * ring full, the reader has tokens to read already and is not blocked.
 */
static __always_inline void wake_reader(struct xpp_ring_pos *pos0, __u32 cpu)
{
	if (__sync_lock_test_and_set(&pos0->wait, 0))
		bpf_ringbuf_output(&xpp_wake, &cpu, sizeof(cpu),
				   BPF_RB_FORCE_WAKEUP);
}

/* Returns 1 when the record was written, 0 when the ring had no room. */
static __always_inline int emit(const struct xpp_config *cfg,
				struct xpp_cpu_state *st,
				struct xpp_record *r, __u32 cpu)
{
	struct xpp_ring_pos *pos, *pos0;
	struct xpp_record *slot;
	__u32 idx, next, zero = 0;
	__u64 prod, fill;

	r->seq = st->seq++;
	r->ring = cpu;
	pos = bpf_map_lookup_elem(&xpp_ring_pos, &cpu);
	pos0 = bpf_map_lookup_elem(&xpp_ring_pos, &zero);
	/* One producer per ring: a run of the program that interrupts
	 * another on this CPU (a test run under softirq) loses its record. */
	if (!pos || !pos0 || st->busy)
		return 0;
	prod = pos->prod;
	fill = prod - READ_ONCE(pos->cons);
	if (fill >= ring_slots)
		return 0;
	idx = pos->widx;
	if (idx >= ring_slots)
		return 0; /* cannot happen: kept below ring_slots */
	next = idx + 1;
	idx += cpu * ring_slots;
	slot = bpf_map_lookup_elem(&xpp_ring_data, &idx);
	if (!slot)
		return 0;
	st->busy = 1;
	/* Ten 8-byte loads and stores, as the record is 8-byte aligned
	 * (measured: the same instructions as a __u64 loop, not bytes). */
	*slot = *r;
	pos->widx = next < ring_slots ? next : 0;
	publish(&pos->prod, prod + 1);
	st->busy = 0;
	/* The reader is woken only when it said it waits for records:
	 * never while it drains or polls, and nothing it has to poll for
	 * when it does not. */
	if (READ_ONCE(pos0->wait) & XPP_WAIT_RECORDS)
		wake_reader(pos0, cpu);
	return 1;
}

static __always_inline void count_l4(struct xpp_counters *c, __u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		c->tcp++;
		break;
	case IPPROTO_UDP:
		c->udp++;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		c->icmp++;
		break;
	default:
		c->other++;
	}
}

/* A TCP flag's bit in the flags byte (xpp_record.tcp_flags). */
#define TCPF(name) (1U << XPP_TCP_##name)

/* What xpp_flow_packet() did, for the caller's counters. */
enum {
	FLOW_NEW = 1 << 0,    /* a flow began */
	FLOW_FULL = 1 << 1,   /* the table was full */
	FLOW_LOST = 1 << 2,   /* an ended flow found no room in the ring */
	FLOW_ERROR = 1 << 3,  /* the table refused otherwise */
};

/* One packet as the flow table sees it. */
struct flow_pkt {
	__u64 ts;
	__u32 ps;	/* size under the accounting mode */
	__u16 window;
	__u8 ttl;
	__u8 tcp_flags; /* 0 unless TCP */
	__u8 tcp;
	__u8 end;	/* the key endpoint (0 or 1) that sent it */
	__u8 splt_len;
};

/* The packet's size as docs/flows.md's accounting modes count it. */
static __always_inline __u32 pkt_size(const struct xpp_pkt *pk, __u8 mode)
{
	const struct xpp_record *r = &pk->r;
	__u32 ip = r->ip_version == 4 ? r->ip_len :
					 r->ip_len + sizeof(struct ipv6hdr);
	__u32 hdr = pk->l4_off - pk->ip_off;
	__u32 tr = ip > hdr ? ip - hdr : 0;

	switch (mode) {
	case XPP_ACCT_IP:
		return ip;
	case XPP_ACCT_TRANSPORT:
		return tr;
	case XPP_ACCT_PAYLOAD:
		return tr > pk->l4_hdr ? tr - pk->l4_hdr : 0;
	default:
		return r->frame_len;
	}
}

/* q += x * x, q a 128-bit {low, high} sum (BPF has no 128-bit multiply:
 * x = h * 2^32 + l, x^2 = h^2 * 2^64 + 2hl * 2^32 + l^2). */
static __always_inline void add_square(__u64 *q, __u64 x)
{
	__u64 l = x & 0xffffffff, h = x >> 32;
	__u64 ll = l * l, hl = h * l;
	__u64 lo = ll + (hl << 33);
	__u64 hi = h * h + (hl >> 31) + (lo < ll);
	__u64 sum = q[0] + lo;

	q[1] += hi + (sum < lo);
	q[0] = sum;
}

static __always_inline void dir_add(struct xpp_flow_dir *d,
				    const struct flow_pkt *in)
{
	if (!d->packets) {
		d->first_seen_ns = in->ts;
		d->last_seen_ns = in->ts;
		d->min_ps = in->ps;
		d->max_ps = in->ps;
		d->first_ttl = in->ttl;
		d->first_window = in->window;
	} else {
		__u64 piat = 0;

		if (in->ts > d->last_seen_ns) {
			piat = in->ts - d->last_seen_ns;
			d->last_seen_ns = in->ts;
		}
		d->piat_sum_ns += piat;
		add_square(d->piat_sumsq, piat);
		if (d->packets == 1 || piat < d->min_piat_ns)
			d->min_piat_ns = piat;
		if (piat > d->max_piat_ns)
			d->max_piat_ns = piat;
		if (in->ps < d->min_ps)
			d->min_ps = in->ps;
		if (in->ps > d->max_ps)
			d->max_ps = in->ps;
	}
	d->packets++;
	d->bytes += in->ps;
	add_square(d->ps_sumsq, in->ps);
	if (in->tcp) {
		int i;

#pragma unroll
		for (i = 0; i < XPP_TCP_FLAGS; i++)
			d->flag_packets[i] += (in->tcp_flags >> i) & 1;
	}
}

/* Counts the packet in f (under f's lock, or before f is in the table). */
static __always_inline void flow_add(struct xpp_flow *f,
				     const struct flow_pkt *in)
{
	int back = in->end != f->src_end;
	__u64 prev = f->bidir.last_seen_ns;
	__u32 i = f->splt_len;

	if (i < in->splt_len && i < XPP_SPLT_MAX) {
		f->splt_ps[i] = in->ps;
		f->splt_piat_ns[i] = f->bidir.packets && in->ts > prev ?
					     in->ts - prev :
					     0;
		if (back)
			f->splt_direction |= 1U << i;
		f->splt_len = i + 1;
	}
	dir_add(&f->bidir, in);
	dir_add(back ? &f->dst2src : &f->src2dst, in);
	if (!in->tcp)
		return;
	/* The end: an RST, or an ACK after FINs both ways (docs/flows.md). */
	if (!(f->tcp_state & XPP_FLOW_ENDED) &&
	    (in->tcp_flags & TCPF(RST) ||
	     ((f->tcp_state & (XPP_FLOW_FIN_SRC | XPP_FLOW_FIN_DST)) ==
		      (XPP_FLOW_FIN_SRC | XPP_FLOW_FIN_DST) &&
	      in->tcp_flags & TCPF(ACK)))) {
		f->tcp_state |= XPP_FLOW_ENDED;
		f->end_ns = in->ts;
	}
	if (in->tcp_flags & TCPF(FIN))
		f->tcp_state |= back ? XPP_FLOW_FIN_DST : XPP_FLOW_FIN_SRC;
	if (in->tcp_flags & TCPF(RST))
		f->tcp_state |= XPP_FLOW_RST;
}

/* Makes f a new flow that in begins: its sender is the initiator, but
 * the receiver of a SYN-ACK. */
static __always_inline void flow_begin(struct xpp_flow *f,
				       const struct flow_pkt *in)
{
	__u8 synack = TCPF(SYN) | TCPF(ACK);

	__builtin_memset(f, 0, sizeof(*f));
	f->src_end = in->end;
	if (in->tcp && (in->tcp_flags & synack) == synack)
		f->src_end = !in->end;
	flow_add(f, in);
}

/* Ports that key a flow: the protocols whose header opens with them. */
static __always_inline int has_ports(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		return 1;
	default:
		return 0;
	}
}

/* The canonical key of r's flow; returns the key endpoint that sent r. */
static __always_inline __u8 flow_key(const struct xpp_record *r,
				     struct xpp_flow_key *k)
{
	const __u64 *s = (const __u64 *)r->saddr, *d = (const __u64 *)r->daddr;
	__u16 sp = 0, dp = 0;
	int swap;

	if (has_ports(r->proto)) {
		sp = r->sport;
		dp = r->dport;
	}
	swap = s[0] != d[0] ? s[0] > d[0] : s[1] != d[1] ? s[1] > d[1] :
							    sp > dp;
	if (swap) {
		const __u64 *t = s;

		s = d;
		d = t;
		k->port[0] = dp;
		k->port[1] = sp;
	} else {
		k->port[0] = sp;
		k->port[1] = dp;
	}
	((__u64 *)k->addr[0])[0] = s[0];
	((__u64 *)k->addr[0])[1] = s[1];
	((__u64 *)k->addr[1])[0] = d[0];
	((__u64 *)k->addr[1])[1] = d[1];
	k->ifindex = r->ifindex;
	k->vlan = r->vlan;
	k->ip_version = r->ip_version;
	k->proto = r->proto;
	return swap;
}

/*
 * A flow was added to the table: when the reader stopped scanning it (it
 * was empty, XPP_WAIT_FLOWS), wake it to scan again. The exchange on this
 * CPU's own scratch word is the full barrier between the insert and the
 * load of the waiting word (the reader's side: it sets the word, then
 * looks at the table once more), without moving the shared line for
 * every new flow.
 */
static __always_inline void flow_wake(struct xpp_flow_scratch *s)
{
	struct xpp_ring_pos *pos0;
	__u32 zero = 0;

	__sync_lock_test_and_set(&s->fence, 0);
	pos0 = bpf_map_lookup_elem(&xpp_ring_pos, &zero);
	if (pos0 && (READ_ONCE(pos0->wait) & XPP_WAIT_FLOWS))
		wake_reader(pos0, bpf_get_smp_processor_id());
}

/* Hands an ended flow (in s->x) to user space. */
static __always_inline int flow_export(struct xpp_flow_scratch *s,
				       const struct xpp_flow_key *k,
				       __u32 reason)
{
	s->x.key = *k;
	s->x.end_reason = reason;
	return bpf_ringbuf_output(&xpp_flow_ring, &s->x, sizeof(s->x), 0) ?
		       FLOW_LOST :
		       0;
}

/* Counts in in the entry e of the table; a flow that in finds due is
 * exported and in begins its successor in its place. */
static __always_inline int flow_update(struct xpp_flow_entry *e,
				       struct xpp_flow_scratch *s,
				       const struct xpp_flow_key *k,
				       const struct flow_pkt *in,
				       const struct xpp_config *cfg)
{
	__u32 why;

	bpf_spin_lock(&e->lock);
	why = xpp_flow_due(&e->f, in->ts, cfg->idle_timeout_ns,
			   cfg->active_timeout_ns, cfg->end_grace_ns);
	/* A new connection after the end does not wait for the grace. */
	if (!why && e->f.tcp_state & XPP_FLOW_ENDED && in->tcp &&
	    (in->tcp_flags & (TCPF(SYN) | TCPF(ACK))) == TCPF(SYN))
		why = XPP_END_END;
	if (why) {
		s->x.flow = e->f;
		flow_begin(&e->f, in);
	} else {
		flow_add(&e->f, in);
	}
	bpf_spin_unlock(&e->lock);
	if (!why)
		return 0;
	return FLOW_NEW | flow_export(s, k, why);
}

/*
 * Counts the packet pk in its flow (docs/flows.md). Returns FLOW_* bits.
 * A global function: verified once.
 */
__noinline int xpp_flow_packet(struct xpp_pkt *pk)
{
	struct xpp_flow_scratch *s;
	struct xpp_flow_entry *e;
	struct xpp_config *cfg;
	struct xpp_flow_key k = {};
	struct flow_pkt in = {};
	__u32 zero = 0;
	long err;

	if (!pk)
		return 0;
	cfg = bpf_map_lookup_elem(&xpp_config, &zero);
	s = bpf_map_lookup_elem(&xpp_flow_scratch, &zero);
	if (!cfg || !s)
		return 0;
	in.end = flow_key(&pk->r, &k);
	in.ts = pk->r.ts_ns;
	in.ps = pkt_size(pk, cfg->flow_accounting);
	in.ttl = pk->r.ttl;
	in.splt_len = cfg->splt_len;
	if (pk->r.proto == IPPROTO_TCP) {
		in.tcp = 1;
		in.tcp_flags = pk->r.tcp_flags;
		in.window = pk->r.tcp_window;
	}

	e = bpf_map_lookup_elem(&xpp_flows, &k);
	if (e)
		return flow_update(e, s, &k, &in, cfg);
	flow_begin(&s->e.f, &in);
	err = bpf_map_update_elem(&xpp_flows, &k, &s->e, BPF_NOEXIST);
	if (!err) {
		flow_wake(s);
		return FLOW_NEW;
	}
	if (err == -EEXIST) {
		/* Another CPU put it there first. */
		e = bpf_map_lookup_elem(&xpp_flows, &k);
		if (e)
			return flow_update(e, s, &k, &in, cfg);
		return FLOW_ERROR;
	}
	if (err != -E2BIG && err != -ENOMEM)
		return FLOW_ERROR;
	/* Full: the packet goes out alone, as a flow of its own. */
	s->x.flow = s->e.f;
	return FLOW_FULL | flow_export(s, &k, XPP_END_RESOURCES);
}

/*
 * What the configuration does with an IP frame before its record: flows,
 * filters, the verdict, records off, sampling. Returns 1 when the frame is
 * to be recorded; *verdict is its verdict either way (XDP_PASS unless
 * dropped).
 */
static __always_inline int chosen(const struct xpp_config *cfg,
				  struct xpp_cpu_state *st,
				  struct xpp_counters *c, struct xpp_pkt *pk,
				  int *verdict)
{
	const struct xpp_record *r = &pk->r;

	if (cfg->flags & XPP_CFG_FLOWS) {
		int fl = xpp_flow_packet(pk);

		c->flows += !!(fl & FLOW_NEW);
		if (fl & (FLOW_FULL | FLOW_LOST | FLOW_ERROR)) {
			c->flows_table_full += !!(fl & FLOW_FULL);
			c->flows_lost += !!(fl & FLOW_LOST);
			c->flows_errors += !!(fl & FLOW_ERROR);
		}
	}
	if (!selected(cfg, r)) {
		c->records_skipped++;
		c->filtered++;
		return 0;
	}
	if (cfg->flags & XPP_CFG_DROP_SELECTED) {
		*verdict = XDP_DROP;
		c->dropped++;
	}
	/* The verdict stands without records: flows only still drops. */
	if (cfg->flags & XPP_CFG_NO_RECORDS) {
		c->records_skipped++;
		return 0;
	}
	if (cfg->sample_n > 1) {
		__u32 k = st->sample_ctr;

		st->sample_ctr = k + 1 >= cfg->sample_n ? 0 : k + 1;
		if (k) {
			c->records_skipped++;
			return 0;
		}
	}
	return 1;
}

SEC("xdp")
int xpp_xdp(struct xdp_md *ctx)
{
	struct parse p = parse_init(ctx);
	struct xpp_pkt pk = {};
	struct xpp_record *r = &pk.r;
	struct xpp_counters *c;
	struct xpp_config *cfg;
	struct xpp_cpu_state *st;
	__u32 zero = 0, cpu;
	int ip, verdict = XDP_PASS;

	record_init(&p, r);
	ip = parse_frame(&p, r);

	cfg = bpf_map_lookup_elem(&xpp_config, &zero);
	st = bpf_map_lookup_elem(&xpp_cpu_state, &zero);
	if (!cfg || !st)
		return XDP_PASS; /* cannot happen: single-entry arrays */
	/* Counted where the program runs, whatever the record says. */
	c = counters_get(cfg, st, ctx->ingress_ifindex);
	if (!c)
		return XDP_PASS; /* cannot happen: the slot is in range */

	c->packets++;
	c->bytes += r->frame_len;
	/* Asked again rather than carried through the parse: a flag
	 * there would double the states the verifier walks. */
	if (frame_meta(ctx))
		c->ts_capture++;
	if (p.tags)
		c->vlan++;
	if (r->flags & (XPP_F_MPLS | XPP_F_PPPOE | XPP_F_LLC_SNAP)) {
		c->mpls += !!(r->flags & XPP_F_MPLS);
		c->pppoe += !!(r->flags & XPP_F_PPPOE);
		c->llc_snap += !!(r->flags & XPP_F_LLC_SNAP);
	}
	if (p.malformed) {
		__u32 k = p.malformed - 1;

		if (k < XPP_M_MAX)
			c->malformed[k]++;
	}
	if (ip) {
		c->not_ip++;
		return XDP_PASS;
	}
	if (r->ip_version == 4)
		c->ipv4++;
	else
		c->ipv6++;
	count_l4(c, r->proto);

	/* The defaults (no filter, no flows, every frame recorded) go from
	 * here to the ring on one test. */
	if ((cfg->flags || cfg->sample_n > 1) &&
	    !chosen(cfg, st, c, &pk, &verdict))
		return verdict;

	cpu = bpf_get_smp_processor_id();
	if (emit(cfg, st, r, cpu))
		c->records++;
	else
		c->records_lost++;
	return verdict;
}
#else
SEC("xdp")
int xpp_xdp(struct xdp_md *ctx)
{
	struct parse p = parse_init(ctx);
	struct xpp_pkt *pk;
	__u32 zero = 0;

	pk = bpf_map_lookup_elem(&xpp_scratch, &zero);
	if (!pk)
		return XDP_PASS;
	__builtin_memset(pk, 0, sizeof(*pk));
	record_init(&p, &pk->r);
	parse_frame(&p, &pk->r);
	return XDP_PASS;
}
#endif
