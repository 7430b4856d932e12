/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Everything besides the record that crosses the kernel/user boundary: the
 * per-interface counters and the runtime configuration. Shared by the BPF
 * program and user space.
 */
#ifndef XPP_MAPS_H
#define XPP_MAPS_H

#include <linux/types.h>

/*
 * Bumped whenever a map's key, value or meaning changes. The daemon refuses
 * pinned maps written by another schema (see docs/architecture.md).
 */
#define XPP_SCHEMA_VERSION 8

/* Interfaces with counters of their own; more share the overflow slot. */
#define XPP_MAX_IFACES 1024
/* The counters slot of frames from interfaces that have no slot of their
 * own (xpp_ifslots full, or an interface user space never registered). */
#define XPP_SLOT_OVERFLOW 0

/* Why a frame was judged malformed. Indexes xpp_counters.malformed[]. */
enum xpp_malformed {
	XPP_M_ETH_TRUNC,   /* shorter than an Ethernet header */
	XPP_M_VLAN_TRUNC,  /* VLAN tag cut short */
	XPP_M_VLAN_DEPTH,  /* more than two VLAN tags */
	XPP_M_IP4_TRUNC,   /* IPv4 header cut short */
	XPP_M_IP4_VERSION, /* IPv4 ethertype, version field not 4 */
	XPP_M_IP4_IHL,	   /* IHL below 5 */
	XPP_M_IP4_LEN,	   /* total length below the header length */
	XPP_M_IP6_TRUNC,   /* IPv6 header cut short */
	XPP_M_IP6_VERSION, /* IPv6 ethertype, version field not 6 */
	XPP_M_EXT_TRUNC,   /* IPv6 extension header cut short */
	XPP_M_EXT_LIMIT,   /* IPv6 extension chain longer than the walk */
	XPP_M_L4_TRUNC,	   /* TCP/UDP/ICMP header cut short */
	XPP_M_TCP_DOFF,	   /* TCP data offset below 5 */
	XPP_M_IP_TRUNC,	   /* IP length beyond the end of the frame */
	XPP_M_EXT_BAD,	   /* IPv6 option runs past the packet */
	XPP_M_AH_TRUNC,	   /* IPv4 AH cut short (IPv6: XPP_M_EXT_TRUNC) */
	XPP_M_JUMBO,	   /* IPv6 Jumbo Payload option missing or misplaced */
	XPP_M_MPLS_TRUNC,  /* no bottom-of-stack MPLS label within the frame */
	XPP_M_MPLS_DEPTH,  /* more than XPP_MPLS_MAX labels */
	XPP_M_PPPOE_TRUNC, /* PPPoE header or PPP protocol cut short */
	XPP_M_LLC_TRUNC,   /* 802.3 LLC (or its SNAP header) cut short */
	XPP_M_MAX,
};

/*
 * One per interface per CPU, summed in user space: xpp_counters is a
 * BPF_MAP_TYPE_PERCPU_ARRAY of XPP_MAX_IFACES + 1 slots, and xpp_ifslots
 * (a hash, written only by user space) maps an ifindex to its slot. The
 * program caches the slot of the last interface per CPU (xpp_cpu_state),
 * so the hash is looked up only when the interface or the mapping
 * (xpp_config.slot_gen) changes, not per frame. Every frame lands in exactly one of records,
 * records_lost, records_skipped (sampled or filtered out) or not_ip, so
 *   packets == records + records_lost + records_skipped + not_ip.
 * The protocol and malformed counters break the same frames down further
 * and overlap with those four.
 *
 * Every frame's timestamp (xpp_record.ts_ns) comes from one source: the
 * kernel clock (bpf_ktime_get_ns(), CLOCK_MONOTONIC), the NIC, or a
 * capture's metadata (xdpctl extract). The program counts the last two;
 * frames stamped by the kernel clock are the rest,
 *   packets - ts_nic - ts_capture,
 * so the default path pays no increment for them.
 */
struct xpp_counters {
	__u64 packets;
	__u64 bytes;
	__u64 ipv4;
	__u64 ipv6;
	__u64 vlan;  /* frames with at least one VLAN tag */
	__u64 mpls;  /* frames with a whole MPLS label stack */
	__u64 pppoe; /* frames with a whole PPPoE session and PPP header */
	__u64 llc_snap; /* 802.3 frames with a whole LLC/SNAP header */
	__u64 tcp;
	__u64 udp;
	__u64 icmp;  /* ICMP and ICMPv6 */
	__u64 other; /* IP with any other L4 protocol (or none) */
	__u64 not_ip; /* no usable IP header: other ethertype or malformed */
	__u64 records;
	__u64 records_lost;    /* ring full or missing: record dropped */
	__u64 records_skipped; /* sampled out or not selected by a filter */
	__u64 filtered;	       /* part of records_skipped: filters */
	__u64 dropped;	       /* frames given XDP_DROP by configuration */
	/* Flows (docs/flows.md), counted on the interface of the packet
	 * that caused them. */
	__u64 flows;		/* flows begun in the table */
	__u64 flows_table_full; /* packets of new flows the full table could
				 * not take: each exported alone, reason
				 * resources (or lost, below) */
	__u64 flows_lost;	/* flows ended in the kernel that the export
				 * ring had no room for */
	__u64 flows_errors;	/* table updates that failed otherwise */
	/* Timestamp sources (above). ts_nic stays 0: the NIC's stamp is on
	 * another clock than CLOCK_MONOTONIC and reaches only a program
	 * bound to one device (docs/datapath.md, "Timestamps"). */
	__u64 ts_nic;
	__u64 ts_capture;
	__u64 malformed[XPP_M_MAX];
};

/* Bits of xpp_config.flags */
enum {
	/* Give XDP_DROP to selected frames instead of XDP_PASS. */
	XPP_CFG_DROP_SELECTED = 1 << 0,
	/* Only frames whose L4 protocol is set in proto_map are selected. */
	XPP_CFG_PROTO_FILTER = 1 << 1,
	/* Only frames whose source or destination port is set in port_map
	 * are selected (TCP and UDP; other protocols never match). */
	XPP_CFG_PORT_FILTER = 1 << 2,
	/* Write no packet records (config records = off): every IP frame
	 * is counted in records_skipped. */
	XPP_CFG_NO_RECORDS = 1 << 3,
	/* Keep the flow table (config flows = on): every IP frame, before
	 * sampling and filters, is counted in one flow. */
	XPP_CFG_FLOWS = 1 << 4,
};

/*
 * Runtime configuration, the only value of a one-entry array map. A frame
 * with an IP header is "selected" when it passes the enabled filters;
 * selected frames are recorded one in sample_n per CPU (0 and 1 mean every
 * frame) and get the configured verdict. Everything else passes.
 */
struct xpp_config {
	__u32 flags;
	__u32 sample_n;
	/* Was the wakeup mark (schema 6); the reader's waiting word
	 * (struct xpp_ring_pos.wait) replaced it. */
	__u32 reserved0;
	/* Bumped by user space whenever xpp_ifslots changes, so that the
	 * program drops its cached slots. */
	__u32 slot_gen;
	/* Flows (docs/flows.md): enum xpp_flow_accounting, the SPLT slots
	 * used (1..XPP_SPLT_MAX), the timeouts in ns. */
	__u8 flow_accounting;
	__u8 splt_len;
	__u16 reserved;
	__u32 reserved2;
	__u64 idle_timeout_ns;
	__u64 active_timeout_ns;
	__u64 end_grace_ns;
	__u64 proto_map[256 / 64];
	__u64 port_map[65536 / 64];
};

/*
 * Written once by the loader that created the maps, so that a later
 * loader can tell whether pinned maps are its own (the map xpp_meta, one
 * entry). Not struct xpp_frame_meta (xpp/meta.h): that one travels with a
 * frame.
 */
struct xpp_pin_meta {
	__u32 schema;	      /* XPP_SCHEMA_VERSION */
	__u32 record_version; /* XPP_RECORD_VERSION */
	__u32 record_size;    /* sizeof(struct xpp_record) */
	__u32 ring_bytes;     /* ring_size the rings were made with */
	__u32 nr_rings;
	__u32 flow_entries;   /* the flow table's max_entries */
	__u32 reserved[2];
};

/*
 * Positions of one CPU's ring (xpp_ring_pos, a BPF_F_MMAPABLE array with
 * one entry per ring, mapped by the reader). The ring itself is the
 * CPU's run of ring_slots records in xpp_ring_data (BPF_F_MMAPABLE too).
 * One producer (the program on that CPU) and one consumer (the reader):
 * prod and cons count records since the ring was made and only grow;
 * the ring holds prod - cons records, from slot cons % ring_slots on.
 * The producer publishes prod after writing the record (store-release
 * order); the consumer publishes cons after reading its records.
 *
 * wait, in entry 0 only (unused in the others), is the reader's waiting
 * word: the reader sets it (XPP_WAIT_*) just before it blocks, after one
 * more look at every ring, and the first producer that finds it set
 * after publishing a record clears it (an atomic exchange: exactly one
 * wins) and sends the one wakeup (a token in xpp_wake). While it is 0
 * the reader is draining and no producer wakes it. Why no wakeup is lost:
 * docs/architecture.md, "The reader says when it waits".
 */
struct xpp_ring_pos {
	__u64 prod;	/* written by the program */
	__u32 widx;	/* prod % ring_slots, kept by the program */
	__u32 reserved;
	__u64 pad1[6];	/* prod and cons on cache lines of their own */
	__u64 cons;	/* written by the reader */
	__u64 wait;	/* entry 0: XPP_WAIT_* while the reader blocks (64
			 * bits: BPF's atomics on 32 bits need -mcpu=v3) */
	__u64 pad2[6];
};

/* Bits of xpp_ring_pos.wait (entry 0). */
enum {
	/* The reader is blocked: the next record wakes it. */
	XPP_WAIT_RECORDS = 1 << 0,
	/* The flow scan is stopped (the table was empty): the next flow
	 * begun wakes the reader too. */
	XPP_WAIT_FLOWS = 1 << 1,
};

/* Per-CPU state of the program (BPF_MAP_TYPE_PERCPU_ARRAY, one entry). */
struct xpp_cpu_state {
	__u32 seq;	   /* next record sequence number of this CPU's ring */
	__u32 sample_ctr;  /* frames selected since the last sampled one */
	__u32 slot_ifindex; /* the interface whose slot is cached ... */
	__u32 slot;	    /* ... its counters slot ... */
	__u32 slot_gen;	    /* ... as of this xpp_config.slot_gen */
	__u32 busy;	    /* writing to this CPU's ring (nesting guard) */
};

#endif /* XPP_MAPS_H */
