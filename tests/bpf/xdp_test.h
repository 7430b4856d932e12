/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the BPF test files share: the XDP program loaded once, frames run
 * through BPF_PROG_TEST_RUN on one CPU, the records drained from its ring
 * and the checks of a record and of the counters. Each test_*.c file holds
 * the cases of one area and exports them as a tap_group.
 */
#ifndef XPP_TEST_XDP_TEST_H
#define XPP_TEST_XDP_TEST_H

#include <stdbool.h>

#include <linux/bpf.h>

#include "datapath.h"
#include "xpp/meta.h"
#include "pkt.h"
#include "tap.h"

#define V4A "198.18.0.1"
#define V4B "198.19.0.2"
#define V6A "2001:2::1"
#define V6B "2001:2:0:1::2"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define MAX_RECS 8192

struct xdp_test {
	struct xpp_datapath *dp;
	struct xpp_reader *rd;
	/* What the reader drained since the last reset, in ring order. */
	struct xpp_record recs[MAX_RECS];
	int nrecs;
	int cpu; /* the CPU the test runs on, so the ring it fills */
};

extern struct xdp_test xt;

/* The reader's callback: appends to xt.recs. */
int xdp_collect(void *ctx, const struct xpp_record *r);
unsigned long long now_ns(void);

/* Fresh state for a case: default config, no counters but lo's (where
 * test runs count), empty rings. */
bool xdp_reset(void);

/* Runs frame through prog_fd (ctx may be NULL) and returns 0 with the
 * verdict, or -errno. Runts travel behind a metadata prefix. */
int xdp_test_run(int prog_fd, const uint8_t *frame, size_t len,
		 struct xdp_md *ctx, __u32 *ret_verdict);
/* Runs p through the program, drains the rings into xt.recs: 0 or
 * -errno. */
int xdp_run(const struct pkt *p, __u32 *ret_verdict);
/* Runs p and checks the verdict; xdp_run_pass(): that it passes. */
bool xdp_run_verdict(const struct pkt *p, __u32 want);
bool xdp_run_pass(const struct pkt *p);
/* Runs p behind the metadata m, as xdpctl extract runs a capture's
 * frame, and drains the rings: 0 or -errno. */
int xdp_run_meta(const struct pkt *p, const struct xpp_frame_meta *m,
		 __u32 *ret_verdict);
/* Runs p n times without draining the rings in between: 0 or -errno. */
int xdp_run_undrained(const struct pkt *p, int n);

/* lo's counters (all 0 before the program counted anything there). */
int xdp_counters(struct xpp_counters *ret);
/* Every counter of want, named when one differs, then the invariants
 * every consumer relies on. */
bool expect_counters(const struct xpp_counters *want);

/* The fields of a record of a default lo test run that a case sets. */
struct want {
	const char *src, *dst;
	int ip_version, proto, ttl;
	int sport, dport;
	int ip_len, frame_len;
	int tcp_flags, tcp_window;
	int vlan, flags;
	/* The frame goes behind this metadata: ts_ns, ifindex and pkt_type
	 * are its (frame_len is still the case's). NULL: a live frame. */
	const struct xpp_frame_meta *meta;
};

/* Every field of r: w's, and those of a record written after t0 on lo. */
bool expect_record(const struct xpp_record *r, const struct want *w,
		   unsigned long long t0);
/* Runs p and expects exactly one record, matching w. */
bool expect_one_record(const struct pkt *p, const struct want *w);

/*
 * Frames shorter than an Ethernet header: kernels since 6.x refuse to run
 * any XDP program on them (test runs fail with EINVAL, and drivers never
 * hand them over). True when err is that refusal.
 */
bool xdp_refused_runt(const struct pkt *p, int err);
/* After a refused runt: nothing recorded, nothing counted. */
bool expect_refused(void);
/* Runs p and expects no record and one frame counted as not IP, with
 * malformed counter kind (none when negative) and vlan tagged frames. */
bool expect_no_record(const struct pkt *p, int kind, int vlan);

/* Frames that cases of several areas send. */
/* V4A > V4B, TCP SYN, window 64240. */
void frame_ipv4_tcp(struct pkt *p, uint16_t sport, uint16_t dport);
/* V4A > V4B, UDP 4444 > 5555 and 16 bytes, with the fragment field frag
 * (host order flags and offset). */
void frame_ipv4_frag(struct pkt *p, uint16_t frag);

/* A frame to hold against tshark (tshark.c). */
struct tshark_frame {
	const char *name;
	struct pkt p;	 /* the bytes at hand */
	__u32 wire_len;	 /* non-zero: run behind a struct xpp_frame_meta with
			  * this wire length, and so in the capture */
};

/* Runs each frame through the program, writes them to a capture and
 * checks every field tshark decodes against the record (and that tshark
 * decodes no IP header where there is no record). Skips without
 * tshark. */
void expect_tshark_agrees(const struct tshark_frame *frames, size_t n);

/* The areas, one file each. */
extern const struct tap_group xdp_l2_tests;	   /* test_l2.c */
extern const struct tap_group xdp_ipv4_tests;	   /* test_ipv4.c */
extern const struct tap_group xdp_ipv6_tests;	   /* test_ipv6.c */
extern const struct tap_group xdp_l4_tests;	   /* test_l4.c */
extern const struct tap_group xdp_malformed_tests; /* test_malformed.c */
extern const struct tap_group xdp_config_tests;	   /* test_config.c */
extern const struct tap_group xdp_ring_tests;	   /* test_ring.c */
extern const struct tap_group xdp_record_tests;	   /* test_record.c */
extern const struct tap_group xdp_encap_tests;	   /* test_encap.c */
extern const struct tap_group xdp_flow_tests;	   /* test_flows.c */

#endif
