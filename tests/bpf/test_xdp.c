// SPDX-License-Identifier: GPL-2.0-only
/*
 * The XDP program in the real kernel: crafted frames through
 * BPF_PROG_TEST_RUN, then the verdict, every field of every record read
 * back from the ring, and every counter.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/in.h>

#include "datapath.h"
#include "log.h"
#include "names.h"
#include "pkt.h"
#include "tap.h"
#include "util.h"

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

static struct xpp_datapath *dp;
static struct xpp_reader *rd;
static struct xpp_record recs[MAX_RECS];
static int nrecs;
static int cpu; /* the CPU these tests run on, so the ring they fill */

static int on_record(void *ctx, const struct xpp_record *r)
{
	if (nrecs < MAX_RECS)
		recs[nrecs++] = *r;
	return 0;
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Fresh state for a case: default config, no counters, empty rings. */
static void reset(void)
{
	struct xpp_config cfg;

	xpp_config_init(&cfg);
	ASSERT_OK(xpp_datapath__config_set(dp, &cfg));
	ASSERT_OK(xpp_datapath__counters_clear(dp));
	ASSERT_OK(xpp_datapath__counters_init(dp, 1 /* lo: test runs */));
	ASSERT_OK(xpp_reader__drain(rd));
	nrecs = 0;
}

static int test_run(int prog_fd, const uint8_t *frame, size_t len,
		    struct xdp_md *ctx, __u32 *ret_verdict)
{
	uint8_t buf[PKT_MAX + 32];
	struct xdp_md meta = {};
	LIBBPF_OPTS(bpf_test_run_opts, o, .repeat = 1);

	if (len < ETH_HLEN && !ctx) {
		/* The kernel refuses test frames shorter than an Ethernet
		 * header; a 32-byte metadata prefix carries the runt past
		 * that check and is not part of the frame the program
		 * sees. */
		memset(buf, 0, 32);
		memcpy(buf + 32, frame, len);
		meta.data = 32;
		meta.data_end = 32 + len;
		ctx = &meta;
		frame = buf;
		len += 32;
	}
	o.data_in = frame;
	o.data_size_in = len;
	if (ctx) {
		o.ctx_in = ctx;
		o.ctx_size_in = sizeof(*ctx);
	}
	if (bpf_prog_test_run_opts(prog_fd, &o) < 0)
		return -errno;
	*ret_verdict = o.retval;
	return 0;
}

/* Runs one frame, drains the rings into recs[]. */
static int run(const void *frame, size_t len, __u32 *ret_verdict)
{
	int err;

	err = test_run(xpp_datapath__prog_fd(dp), frame, len, NULL,
		       ret_verdict);
	if (err)
		return err;
	err = xpp_reader__drain(rd);
	return err < 0 ? err : 0;
}

static void run_pass(const struct pkt *p)
{
	__u32 verdict = ~0u;

	ASSERT_OK(run(p->b, p->len, &verdict));
	ASSERT_EQ(verdict, XDP_PASS);
}

static void get_counters(struct xpp_counters *c)
{
	int err = xpp_datapath__counters(dp, 1 /* lo */, c);

	/* No entry yet: the program has not seen a frame on lo. */
	if (err == -ENOENT)
		memset(c, 0, sizeof(*c));
	else
		ASSERT_OK(err);
}

/* Every counter of want, named when one differs. */
static void expect_counters(const struct xpp_counters *want)
{
	struct xpp_counters got;
	size_t i;

	get_counters(&got);
	ASSERT_PASSED();
	for (i = 0; i < xpp_counter_fields_n; i++) {
		const struct xpp_counter_field *f = &xpp_counter_fields[i];

		if (xpp_counter_get(&got, f) != xpp_counter_get(want, f)) {
			tap_fail(__FILE__, __LINE__, "counter %s: got %llu, want %llu",
				 f->name, xpp_counter_get(&got, f),
				 xpp_counter_get(want, f));
			return;
		}
	}
	for (i = 0; i < XPP_M_MAX; i++) {
		if (got.malformed[i] != want->malformed[i]) {
			tap_fail(__FILE__, __LINE__,
				 "malformed.%s: got %llu, want %llu",
				 xpp_malformed_names[i],
				 (unsigned long long)got.malformed[i],
				 (unsigned long long)want->malformed[i]);
			return;
		}
	}
	/* The invariants every consumer relies on (docs/datapath.md). */
	ASSERT_EQ(got.packets, got.records + got.records_lost +
				       got.records_skipped + got.not_ip);
	ASSERT_EQ(got.ipv4 + got.ipv6,
		  got.records + got.records_lost + got.records_skipped);
	ASSERT_EQ(got.tcp + got.udp + got.icmp + got.other,
		  got.ipv4 + got.ipv6);
}

static void addr_mapped(uint8_t out[16], const char *s)
{
	memset(out, 0, 16);
	if (strchr(s, ':')) {
		inet_pton(AF_INET6, s, out);
	} else {
		out[10] = out[11] = 0xff;
		inet_pton(AF_INET, s, out + 12);
	}
}

/* Fields every record of a default lo test run shares. */
struct want {
	const char *src, *dst;
	int ip_version, proto, ttl;
	int sport, dport;
	int ip_len, frame_len;
	int tcp_flags, tcp_window;
	int vlan, flags;
};

static void expect_record(const struct xpp_record *r, const struct want *w,
			  unsigned long long t0)
{
	uint8_t a[16];

	ASSERT_EQ(r->version, XPP_RECORD_VERSION);
	ASSERT_TRUE(r->ts_ns >= t0 && r->ts_ns <= now_ns());
	ASSERT_EQ(r->ifindex, 1);
	ASSERT_EQ(r->rx_queue, 0);
	ASSERT_EQ(r->ring, cpu);
	ASSERT_EQ(r->ip_version, w->ip_version);
	ASSERT_EQ(r->proto, w->proto);
	addr_mapped(a, w->src);
	ASSERT_MEM(r->saddr, a, 16);
	addr_mapped(a, w->dst);
	ASSERT_MEM(r->daddr, a, 16);
	ASSERT_EQ(r->sport, w->sport);
	ASSERT_EQ(r->dport, w->dport);
	ASSERT_EQ(r->frame_len, w->frame_len);
	ASSERT_EQ(r->ip_len, w->ip_len);
	ASSERT_EQ(r->ttl, w->ttl);
	ASSERT_EQ(r->tcp_flags, w->tcp_flags);
	ASSERT_EQ(r->tcp_window, w->tcp_window);
	ASSERT_EQ(r->vlan, w->vlan);
	ASSERT_EQ(r->flags, w->flags);
	ASSERT_EQ(r->reserved, 0);
}

/* Runs p and expects exactly one record matching w. */
static void one_record(const struct pkt *p, const struct want *w)
{
	unsigned long long t0 = now_ns();

	run_pass(p);
	ASSERT_PASSED();
	ASSERT_EQ(nrecs, 1);
	expect_record(&recs[0], w, t0);
}

/*
 * Frames shorter than an Ethernet header: kernels since 6.x refuse to run
 * any XDP program on them (test runs fail with EINVAL, and drivers never
 * hand them over). Returns 1 when this kernel refused, after checking that
 * nothing was counted; 0 when the program ran and must be checked.
 */
static int runt_refused(const struct pkt *p)
{
	__u32 verdict;
	int err;

	if (p->len >= ETH_HLEN)
		return 0;
	err = run(p->b, p->len, &verdict);
	if (err != -EINVAL)
		return 0;
	if (nrecs)
		tap_fail(__FILE__, __LINE__, "refused frame left %d records",
			 nrecs);
	else
		expect_counters(&(struct xpp_counters){ 0 });
	return 1;
}

/* Runs p and expects no record, one frame counted as not IP. */
static void no_record(const struct pkt *p, enum xpp_malformed kind, int vlan)
{
	struct xpp_counters want = {
		.packets = 1, .bytes = p->len, .not_ip = 1, .vlan = vlan,
	};

	if (runt_refused(p) || tap_failed)
		return;
	if ((int)kind >= 0)
		want.malformed[kind] = 1;
	run_pass(p);
	ASSERT_PASSED();
	ASSERT_EQ(nrecs, 0);
	expect_counters(&want);
}

static void ipv4_tcp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_IP);
	pkt_ipv4(p, V4A, V4B, IPPROTO_TCP, 64, 5, 0);
	pkt_tcp(p, sport, dport, TCP_SYN, 64240);
	pkt_finish(p);
}

/* ---- protocols ---------------------------------------------------- */

static void test_ipv4_udp(void)
{
	struct pkt p;

	reset();
	pkt_frame_udp4(&p, V4A, V4B, 40000, 53, 18);
	one_record(&p, &(struct want){
			       .src = V4A, .dst = V4B, .ip_version = 4,
			       .proto = 17, .ttl = 64, .sport = 40000,
			       .dport = 53, .ip_len = 46, .frame_len = 60 });
	ASSERT_PASSED();
	expect_counters(&(struct xpp_counters){
		.packets = 1, .bytes = 60, .ipv4 = 1, .udp = 1, .records = 1 });
}

/* Counters live in per-interface slots that the program finds through a
 * per-CPU cache: every change of the mapping must reach the next frame. */
static void test_counter_slots(void)
{
	struct xpp_counters c, over;
	unsigned int i;
	struct pkt p;
	int err = 0;

	reset();
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	run_pass(&p);
	get_counters(&c);
	ASSERT_EQ(c.packets, 1);
	/* Unregistered: the next frame counts in the overflow slot. */
	ASSERT_OK(xpp_datapath__counters_delete(dp, 1));
	ASSERT_EQ(xpp_datapath__counters(dp, 1, &c), -ENOENT);
	run_pass(&p);
	ASSERT_OK(xpp_datapath__counters_overflow(dp, &over));
	ASSERT_EQ(over.packets, 1);
	/* Registered again: a fresh, zeroed slot from the next frame on. */
	ASSERT_OK(xpp_datapath__counters_init(dp, 1));
	run_pass(&p);
	run_pass(&p);
	get_counters(&c);
	ASSERT_EQ(c.packets, 2);
	ASSERT_EQ(c.records, 2);
	ASSERT_OK(xpp_datapath__counters_overflow(dp, &over));
	ASSERT_EQ(over.packets, 1);
	/* Registering twice keeps the counters. */
	ASSERT_OK(xpp_datapath__counters_init(dp, 1));
	get_counters(&c);
	ASSERT_EQ(c.packets, 2);
	/* Another interface gets a slot of its own. */
	ASSERT_OK(xpp_datapath__counters_init(dp, 77));
	run_pass(&p);
	get_counters(&c);
	ASSERT_EQ(c.packets, 3);
	ASSERT_OK(xpp_datapath__counters(dp, 77, &c));
	ASSERT_EQ(c.packets, 0);
	/* All slots taken: -ENOSPC, and the frames go to the overflow. */
	for (i = 0; i < XPP_MAX_IFACES; i++) {
		err = xpp_datapath__counters_init(dp, 1000 + i);
		if (err)
			break;
	}
	ASSERT_EQ(err, -ENOSPC);
	ASSERT_EQ(i, XPP_MAX_IFACES - 2); /* lo and 77 hold two */
	ASSERT_OK(xpp_datapath__counters_delete(dp, 1));
	ASSERT_EQ(xpp_datapath__counters_init(dp, 5000), 0); /* lo's slot */
	run_pass(&p);
	ASSERT_OK(xpp_datapath__counters_overflow(dp, &over));
	ASSERT_EQ(over.packets, 2);
	ASSERT_OK(xpp_datapath__counters(dp, 5000, &c));
	ASSERT_EQ(c.packets, 0);
	reset();
}

static void test_ipv4_tcp(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IP);
	pkt_ipv4(&p, V4B, V4A, IPPROTO_TCP, 1, 5, 0x4000 /* DF */);
	pkt_tcp(&p, 443, 51000, TCP_ACK | TCP_PSH | TCP_FIN, 501);
	pkt_payload(&p, 100, 0);
	pkt_finish(&p);
	one_record(&p, &(struct want){
			       .src = V4B, .dst = V4A, .ip_version = 4,
			       .proto = 6, .ttl = 1, .sport = 443,
			       .dport = 51000, .ip_len = 140, .frame_len = 154,
			       .tcp_flags = 0x19, .tcp_window = 501 });
	ASSERT_PASSED();
	expect_counters(&(struct xpp_counters){
		.packets = 1, .bytes = 154, .ipv4 = 1, .tcp = 1, .records = 1 });
}

static void test_ipv4_icmp(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_ICMP, 255, 5, 0);
	pkt_icmp(&p, 3, 4); /* unreachable, fragmentation needed */
	pkt_payload(&p, 28, 0x45);
	pkt_finish(&p);
	one_record(&p, &(struct want){
			       .src = V4A, .dst = V4B, .ip_version = 4,
			       .proto = 1, .ttl = 255, .sport = 3, .dport = 4,
			       .ip_len = 56, .frame_len = 70 });
	ASSERT_PASSED();
	expect_counters(&(struct xpp_counters){
		.packets = 1, .bytes = 70, .ipv4 = 1, .icmp = 1, .records = 1 });
}

static void test_ipv6_udp(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, IPPROTO_UDP, 64);
	pkt_udp(&p, 5353, 5353);
	pkt_payload(&p, 10, 1);
	pkt_finish(&p);
	one_record(&p, &(struct want){
			       .src = V6A, .dst = V6B, .ip_version = 6,
			       .proto = 17, .ttl = 64, .sport = 5353,
			       .dport = 5353, .ip_len = 18, .frame_len = 72 });
	ASSERT_PASSED();
	expect_counters(&(struct xpp_counters){
		.packets = 1, .bytes = 72, .ipv6 = 1, .udp = 1, .records = 1 });
}

static void test_ipv6_tcp(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6B, V6A, IPPROTO_TCP, 3);
	pkt_tcp(&p, 22, 60001, TCP_RST | TCP_ACK, 0);
	pkt_finish(&p);
	one_record(&p, &(struct want){
			       .src = V6B, .dst = V6A, .ip_version = 6,
			       .proto = 6, .ttl = 3, .sport = 22,
			       .dport = 60001, .ip_len = 20, .frame_len = 74,
			       .tcp_flags = 0x14 });
	ASSERT_PASSED();
	expect_counters(&(struct xpp_counters){
		.packets = 1, .bytes = 74, .ipv6 = 1, .tcp = 1, .records = 1 });
}

static void test_ipv6_icmpv6(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, IPPROTO_ICMPV6, 255);
	pkt_icmp(&p, 128, 0); /* echo request */
	pkt_finish(&p);
	one_record(&p, &(struct want){
			       .src = V6A, .dst = V6B, .ip_version = 6,
			       .proto = 58, .ttl = 255, .sport = 128,
			       .dport = 0, .ip_len = 8, .frame_len = 62 });
	ASSERT_PASSED();
	expect_counters(&(struct xpp_counters){
		.packets = 1, .bytes = 62, .ipv6 = 1, .icmp = 1, .records = 1 });
}

static void test_ipv4_other_l4(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, 47 /* GRE */, 64, 5, 0);
	pkt_payload(&p, 4, 0x11); /* would be ports if read as TCP/UDP */
	pkt_finish(&p);
	one_record(&p, &(struct want){
			       .src = V4A, .dst = V4B, .ip_version = 4,
			       .proto = 47, .ttl = 64, .ip_len = 24,
			       .frame_len = 38 });
	ASSERT_PASSED();
	expect_counters(&(struct xpp_counters){
		.packets = 1, .bytes = 38, .ipv4 = 1, .other = 1, .records = 1 });
}

/* ---- VLAN ----------------------------------------------------------- */

static void test_vlan_single(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_8021Q);
	pkt_vlan(&p, 0xa000 | 100, ETH_P_IP); /* PCP 5, VID 100 */
	pkt_ipv4(&p, V4A, V4B, IPPROTO_UDP, 64, 5, 0);
	pkt_udp(&p, 1, 2);
	pkt_finish(&p);
	one_record(&p, &(struct want){
			       .src = V4A, .dst = V4B, .ip_version = 4,
			       .proto = 17, .ttl = 64, .sport = 1, .dport = 2,
			       .ip_len = 28, .frame_len = 46, .vlan = 100,
			       .flags = XPP_F_VLAN });
	ASSERT_PASSED();
	expect_counters(&(struct xpp_counters){ .packets = 1, .bytes = 46,
						.ipv4 = 1, .vlan = 1, .udp = 1,
						.records = 1 });
}

static void test_vlan_qinq(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, 0x88a8);
	pkt_vlan(&p, 4094, ETH_P_8021Q); /* outer, service tag */
	pkt_vlan(&p, 7, ETH_P_IPV6);	 /* inner, customer tag */
	pkt_ipv6(&p, V6A, V6B, IPPROTO_TCP, 64);
	pkt_tcp(&p, 8080, 9090, TCP_SYN | TCP_ACK, 1024);
	pkt_finish(&p);
	one_record(&p, &(struct want){
			       .src = V6A, .dst = V6B, .ip_version = 6,
			       .proto = 6, .ttl = 64, .sport = 8080,
			       .dport = 9090, .ip_len = 20, .frame_len = 82,
			       .tcp_flags = 0x12, .tcp_window = 1024,
			       .vlan = 4094,
			       .flags = XPP_F_VLAN | XPP_F_VLAN_QINQ });
	ASSERT_PASSED();
	expect_counters(&(struct xpp_counters){ .packets = 1, .bytes = 82,
						.ipv6 = 1, .vlan = 1, .tcp = 1,
						.records = 1 });
}

static void test_vlan_priority_tag(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_8021Q);
	pkt_vlan(&p, 0x6000, ETH_P_IP); /* PCP 3, VID 0 */
	pkt_ipv4(&p, V4A, V4B, IPPROTO_ICMP, 64, 5, 0);
	pkt_icmp(&p, 0, 0);
	pkt_finish(&p);
	one_record(&p, &(struct want){
			       .src = V4A, .dst = V4B, .ip_version = 4,
			       .proto = 1, .ttl = 64, .ip_len = 28,
			       .frame_len = 46, .flags = XPP_F_VLAN });
}

static void test_vlan_three_tags(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, 0x88a8);
	pkt_vlan(&p, 10, ETH_P_8021Q);
	pkt_vlan(&p, 20, ETH_P_8021Q);
	pkt_vlan(&p, 30, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_UDP, 64, 5, 0);
	pkt_udp(&p, 1, 2);
	pkt_finish(&p);
	/* Deeper than we parse: not read, not misread. */
	no_record(&p, XPP_M_VLAN_DEPTH, 1);
}

/* ---- IPv4 options and fragments ------------------------------------- */

static void test_ipv4_options(void)
{
	unsigned int ihl;
	struct pkt p;

	for (ihl = 6; ihl <= 15; ihl += 9) {
		reset();
		pkt_init(&p);
		pkt_eth(&p, ETH_P_IP);
		pkt_ipv4(&p, V4A, V4B, IPPROTO_TCP, 64, ihl, 0);
		pkt_tcp(&p, 1000 + ihl, 2000, TCP_SYN, 7);
		pkt_finish(&p);
		one_record(&p, &(struct want){
				       .src = V4A, .dst = V4B,
				       .ip_version = 4, .proto = 6, .ttl = 64,
				       .sport = 1000 + ihl, .dport = 2000,
				       .ip_len = ihl * 4 + 20,
				       .frame_len = 14 + ihl * 4 + 20,
				       .tcp_flags = TCP_SYN, .tcp_window = 7,
				       .flags = XPP_F_IP_OPTIONS });
		ASSERT_PASSED();
	}
}

static void ipv4_frag(struct pkt *p, uint16_t frag)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_IP);
	pkt_ipv4(p, V4A, V4B, IPPROTO_UDP, 64, 5, frag);
	pkt_udp(p, 4444, 5555); /* in a later fragment: just payload */
	pkt_payload(p, 16, 0);
	pkt_finish(p);
}

static void test_ipv4_first_fragment(void)
{
	struct pkt p;

	reset();
	ipv4_frag(&p, 0x2000); /* MF, offset 0 */
	one_record(&p, &(struct want){
			       .src = V4A, .dst = V4B, .ip_version = 4,
			       .proto = 17, .ttl = 64, .sport = 4444,
			       .dport = 5555, .ip_len = 44, .frame_len = 58,
			       .flags = XPP_F_FRAGMENT });
}

static void test_ipv4_later_fragment(void)
{
	struct pkt p;

	reset();
	ipv4_frag(&p, 0x2000 | 185); /* MF, offset 1480 */
	one_record(&p, &(struct want){
			       .src = V4A, .dst = V4B, .ip_version = 4,
			       .proto = 17, .ttl = 64, .ip_len = 44,
			       .frame_len = 58,
			       .flags = XPP_F_FRAGMENT | XPP_F_FRAG_LATER });
	ASSERT_PASSED();
	expect_counters(&(struct xpp_counters){
		.packets = 1, .bytes = 58, .ipv4 = 1, .udp = 1, .records = 1 });
}

static void test_ipv4_last_fragment(void)
{
	struct pkt p;

	reset();
	ipv4_frag(&p, 1); /* no MF, offset 8 */
	one_record(&p, &(struct want){
			       .src = V4A, .dst = V4B, .ip_version = 4,
			       .proto = 17, .ttl = 64, .ip_len = 44,
			       .frame_len = 58,
			       .flags = XPP_F_FRAGMENT | XPP_F_FRAG_LATER });
}

/* ---- IPv6 extension headers ----------------------------------------- */

static void test_ipv6_ext_chain(void)
{
	struct pkt p;

	reset();
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
	/* 8 + 16 + 24 + 8 + 24 (AH: (4 + 2) * 4) + 8 */
	one_record(&p, &(struct want){
			       .src = V6A, .dst = V6B, .ip_version = 6,
			       .proto = 17, .ttl = 9, .sport = 500,
			       .dport = 4500, .ip_len = 88, .frame_len = 142,
			       .flags = XPP_F_IPV6_EXT | XPP_F_FRAGMENT });
}

static void test_ipv6_later_fragment(void)
{
	static const uint16_t offsets[] = { 1, 100, 8191 }; /* 8-byte units */
	struct pkt p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(offsets); i++) {
		reset();
		pkt_init(&p);
		pkt_eth(&p, ETH_P_IPV6);
		pkt_ipv6(&p, V6A, V6B, IPPROTO_FRAGMENT, 64);
		pkt_frag6(&p, IPPROTO_TCP, offsets[i], i == 1, 7);
		pkt_tcp(&p, 1, 2, TCP_SYN, 3); /* payload, not a header */
		pkt_finish(&p);
		one_record(&p, &(struct want){
				       .src = V6A, .dst = V6B, .ip_version = 6,
				       .proto = 6, .ttl = 64, .ip_len = 28,
				       .frame_len = 82,
				       .flags = XPP_F_IPV6_EXT | XPP_F_FRAGMENT |
						XPP_F_FRAG_LATER });
		if (tap_failed) {
			printf("# at offset %u\n", offsets[i]);
			return;
		}
	}
}

static void test_ipv6_atomic_fragment(void)
{
	struct pkt p;

	/* Fragment header with offset 0 and M clear (RFC 6946): the
	 * packet is whole, not a fragment. */
	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, IPPROTO_FRAGMENT, 64);
	pkt_frag6(&p, IPPROTO_UDP, 0, 0, 7);
	pkt_udp(&p, 7, 8);
	pkt_finish(&p);
	one_record(&p, &(struct want){
			       .src = V6A, .dst = V6B, .ip_version = 6,
			       .proto = 17, .ttl = 64, .sport = 7, .dport = 8,
			       .ip_len = 16, .frame_len = 70,
			       .flags = XPP_F_IPV6_EXT });
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
	struct pkt p;

	reset();
	ipv6_dst_chain(&p, XPP_IPV6_EXT_MAX);
	one_record(&p, &(struct want){
			       .src = V6A, .dst = V6B, .ip_version = 6,
			       .proto = 17, .ttl = 64, .sport = 1111,
			       .dport = 2222,
			       .ip_len = XPP_IPV6_EXT_MAX * 8 + 8,
			       .frame_len = 62 + XPP_IPV6_EXT_MAX * 8,
			       .flags = XPP_F_IPV6_EXT });
}

static void test_ipv6_ext_over_limit(void)
{
	struct pkt p;
	struct xpp_counters want = {
		.packets = 1, .ipv6 = 1, .other = 1, .records = 1,
	};

	reset();
	ipv6_dst_chain(&p, XPP_IPV6_EXT_MAX + 1);
	one_record(&p, &(struct want){
			       .src = V6A, .dst = V6B, .ip_version = 6,
			       .proto = IPPROTO_DSTOPTS, .ttl = 64,
			       .ip_len = (XPP_IPV6_EXT_MAX + 1) * 8 + 8,
			       .frame_len = 62 + (XPP_IPV6_EXT_MAX + 1) * 8,
			       .flags = XPP_F_IPV6_EXT | XPP_F_EXT_LIMIT });
	ASSERT_PASSED();
	want.bytes = p.len;
	want.malformed[XPP_M_EXT_LIMIT] = 1;
	expect_counters(&want);
}

static void test_ipv6_no_next_header(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, IPPROTO_HOPOPTS, 1);
	pkt_ext(&p, IPPROTO_HOPOPTS, 59 /* no next header */, 0);
	pkt_payload(&p, 8, 0x22);
	pkt_finish(&p);
	one_record(&p, &(struct want){
			       .src = V6A, .dst = V6B, .ip_version = 6,
			       .proto = 59, .ttl = 1, .ip_len = 16,
			       .frame_len = 70, .flags = XPP_F_IPV6_EXT });
}

/* ---- truncation at every length ------------------------------------- */

/* VLAN + IPv4 + TCP + 6 bytes, cut at every length from 0 to the whole. */
static void test_trunc_sweep_vlan_ipv4_tcp(void)
{
	struct pkt full, p;
	size_t len;

	pkt_frame_vlan_tcp4(&full, V4A, V4B);
	ASSERT_EQ(full.len, 64);

	for (len = 0; len <= full.len; len++) {
		struct xpp_counters want = { .packets = 1, .bytes = len };
		struct want w = {
			.src = V4A, .dst = V4B, .ip_version = 4, .proto = 6,
			.ttl = 64, .ip_len = 46, .frame_len = len, .vlan = 42,
			.flags = XPP_F_VLAN,
		};
		unsigned long long t0 = now_ns();

		reset();
		p = full;
		p.len = len;
		if (runt_refused(&p)) {
			ASSERT_PASSED();
			continue;
		}
		ASSERT_PASSED();
		run_pass(&p);
		ASSERT_PASSED();
		if (len < 14) {
			want.not_ip = 1;
			want.malformed[XPP_M_ETH_TRUNC] = 1;
		} else if (len < 18) {
			want.not_ip = 1;
			want.malformed[XPP_M_VLAN_TRUNC] = 1;
		} else if (len < 38) {
			want.not_ip = 1;
			want.vlan = 1;
			want.malformed[XPP_M_IP4_TRUNC] = 1;
		} else {
			want.vlan = want.ipv4 = want.tcp = want.records = 1;
			if (len < 64) {
				w.flags |= XPP_F_IP_TRUNC;
				want.malformed[XPP_M_IP_TRUNC] = 1;
			}
			if (len < 58)
				w.flags |= XPP_F_L4_TRUNC;
			if (len >= 42) {
				w.sport = 1234;
				w.dport = 80;
			}
			if (len >= 52)
				w.tcp_flags = TCP_SYN;
			if (len >= 54)
				w.tcp_window = 29200;
		}
		if (tap_failed)
			return;
		if (want.records) {
			ASSERT_EQ(nrecs, 1);
			expect_record(&recs[0], &w, t0);
		} else {
			ASSERT_EQ(nrecs, 0);
		}
		expect_counters(&want);
		if (tap_failed) {
			printf("# at length %zu\n", len);
			return;
		}
	}
}

/* IPv6 + hop-by-hop + UDP + 4 bytes, cut at every length. */
static void test_trunc_sweep_ipv6_ext_udp(void)
{
	struct pkt full, p;
	size_t len;

	pkt_frame_hbh_udp6(&full, V6A, V6B);
	ASSERT_EQ(full.len, 74);

	for (len = 0; len <= full.len; len++) {
		struct xpp_counters want = { .packets = 1, .bytes = len };
		struct want w = {
			.src = V6A, .dst = V6B, .ip_version = 6, .proto = 17,
			.ttl = 64, .ip_len = 20, .frame_len = len,
			.flags = XPP_F_IPV6_EXT,
		};
		unsigned long long t0 = now_ns();

		reset();
		p = full;
		p.len = len;
		if (runt_refused(&p)) {
			ASSERT_PASSED();
			continue;
		}
		ASSERT_PASSED();
		run_pass(&p);
		ASSERT_PASSED();
		if (len < 14) {
			want.not_ip = 1;
			want.malformed[XPP_M_ETH_TRUNC] = 1;
		} else if (len < 54) {
			want.not_ip = 1;
			want.malformed[XPP_M_IP6_TRUNC] = 1;
		} else {
			want.ipv6 = want.records = 1;
			if (len < 74) {
				w.flags |= XPP_F_IP_TRUNC;
				want.malformed[XPP_M_IP_TRUNC] = 1;
			}
			if (len < 62) {
				/* The extension header itself is cut. */
				w.proto = IPPROTO_HOPOPTS;
				w.flags |= XPP_F_L4_TRUNC;
				want.other = 1;
			} else {
				want.udp = 1;
				if (len < 70)
					w.flags |= XPP_F_L4_TRUNC;
				if (len >= 66) {
					w.sport = 3000;
					w.dport = 4000;
				}
			}
		}
		if (want.records) {
			ASSERT_EQ(nrecs, 1);
			expect_record(&recs[0], &w, t0);
		} else {
			ASSERT_EQ(nrecs, 0);
		}
		expect_counters(&want);
		if (tap_failed) {
			printf("# at length %zu\n", len);
			return;
		}
	}
}

/* ICMP and UDP headers shorter than their fixed part: what is there is
 * read, the rest is 0 and flagged. */
static void test_trunc_icmp_one_byte(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_ICMP, 64, 5, 0);
	pkt_payload(&p, 1, 8); /* type 8, nothing else */
	pkt_finish(&p);
	one_record(&p, &(struct want){
			       .src = V4A, .dst = V4B, .ip_version = 4,
			       .proto = 1, .ttl = 64, .sport = 8,
			       .ip_len = 21, .frame_len = 35,
			       .flags = XPP_F_L4_TRUNC });
}

/* ---- malformed IP --------------------------------------------------- */

static void test_ipv4_bad_ihl(void)
{
	struct pkt p;

	reset();
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	p.b[14] = 0x44; /* IHL 4: 16 bytes, shorter than any header */
	no_record(&p, XPP_M_IP4_IHL, 0);
}

static void test_ipv4_bad_version(void)
{
	struct pkt p;

	reset();
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	p.b[14] = 0x65; /* version 6 behind an IPv4 ethertype */
	no_record(&p, XPP_M_IP4_VERSION, 0);
}

static void test_ipv6_bad_version(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, IPPROTO_UDP, 64);
	pkt_udp(&p, 1, 2);
	pkt_finish(&p);
	p.b[14] = 0x40;
	no_record(&p, XPP_M_IP6_VERSION, 0);
}

static void test_ipv4_total_len_below_header(void)
{
	struct pkt p;

	reset();
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	pkt_put16(&p, 16, 19);
	no_record(&p, XPP_M_IP4_LEN, 0);
}

static void test_ipv4_options_truncated(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_UDP, 64, 15, 0);
	pkt_finish(&p);
	p.len = 14 + 40; /* IHL says 60 bytes of header */
	no_record(&p, XPP_M_IP4_TRUNC, 0);
}

/* Ethernet pads short frames to 60 bytes: padding past the IP length is
 * never read as an L4 header. */
static void test_padding_not_read_as_l4(void)
{
	struct pkt p;
	struct xpp_counters want = {
		.packets = 1, .bytes = 60, .ipv4 = 1, .udp = 1, .records = 1,
	};

	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_UDP, 64, 5, 0);
	pkt_finish(&p); /* total length 20: no UDP header */
	pkt_payload(&p, 26, 0x77);
	one_record(&p, &(struct want){
			       .src = V4A, .dst = V4B, .ip_version = 4,
			       .proto = 17, .ttl = 64, .ip_len = 20,
			       .frame_len = 60, .flags = XPP_F_L4_TRUNC });
	ASSERT_PASSED();
	want.malformed[XPP_M_L4_TRUNC] = 1;
	expect_counters(&want);
}

static void test_tcp_bad_data_offset(void)
{
	struct pkt p;

	reset();
	ipv4_tcp(&p, 10, 20);
	p.b[14 + 20 + 12] = 2 << 4;
	/* Ports only: like decoders, nothing past them is trusted. */
	one_record(&p, &(struct want){
			       .src = V4A, .dst = V4B, .ip_version = 4,
			       .proto = 6, .ttl = 64, .sport = 10, .dport = 20,
			       .ip_len = 40, .frame_len = 54,
			       .flags = XPP_F_TCP_BAD_DOFF });
}

/* What tshark does, we do: these cases came out of random damage. */
static void test_ipv4_total_length_zero(void)
{
	struct pkt p;

	reset();
	pkt_frame_udp4(&p, V4A, V4B, 7, 8, 10);
	pkt_put16(&p, 16, 0); /* segmentation offload: length 0 */
	one_record(&p, &(struct want){
			       .src = V4A, .dst = V4B, .ip_version = 4,
			       .proto = 17, .ttl = 64, .sport = 7, .dport = 8,
			       .ip_len = 38, .frame_len = 52 });
}

static void test_vlan_tpid_9100(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, 0x9100);
	pkt_vlan(&p, 33, ETH_P_8021Q);
	pkt_vlan(&p, 44, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_UDP, 64, 5, 0);
	pkt_udp(&p, 1, 2);
	pkt_finish(&p);
	one_record(&p, &(struct want){
			       .src = V4A, .dst = V4B, .ip_version = 4,
			       .proto = 17, .ttl = 64, .sport = 1, .dport = 2,
			       .ip_len = 28, .frame_len = 50, .vlan = 33,
			       .flags = XPP_F_VLAN | XPP_F_VLAN_QINQ });
}

static void test_udplite_sctp_dccp_ports(void)
{
	static const uint8_t protos[] = { 136, 132, 33 };
	struct pkt p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(protos); i++) {
		reset();
		pkt_init(&p);
		pkt_eth(&p, ETH_P_IP);
		pkt_ipv4(&p, V4A, V4B, protos[i], 64, 5, 0);
		pkt_put16(&p, p.len, 0); /* room for the header */
		pkt_payload(&p, 12, 0);
		pkt_put16(&p, 34, 3868);
		pkt_put16(&p, 36, 2905);
		pkt_finish(&p);
		one_record(&p, &(struct want){
				       .src = V4A, .dst = V4B, .ip_version = 4,
				       .proto = protos[i], .ttl = 64,
				       .sport = 3868, .dport = 2905,
				       .ip_len = 32, .frame_len = 46 });
		ASSERT_PASSED();
	}
}

static void test_ipv6_mobility_header_walked(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, 135, 64);
	pkt_ext(&p, 135, IPPROTO_UDP, 1);
	pkt_udp(&p, 9, 10);
	pkt_finish(&p);
	one_record(&p, &(struct want){
			       .src = V6A, .dst = V6B, .ip_version = 6,
			       .proto = 17, .ttl = 64, .sport = 9, .dport = 10,
			       .ip_len = 24, .frame_len = 78,
			       .flags = XPP_F_IPV6_EXT });
}

static void test_ipv6_option_past_packet(void)
{
	struct pkt p;
	struct xpp_counters want = {
		.packets = 1, .ipv6 = 1, .other = 1, .records = 1,
	};

	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, IPPROTO_DSTOPTS, 64);
	pkt_ext(&p, IPPROTO_DSTOPTS, IPPROTO_UDP, 0);
	pkt_udp(&p, 9, 10);
	pkt_finish(&p);
	p.b[54 + 3] = 200; /* PadN of 200 bytes: past the packet's end */
	one_record(&p, &(struct want){
			       .src = V6A, .dst = V6B, .ip_version = 6,
			       .proto = IPPROTO_DSTOPTS, .ttl = 64, .ip_len = 16,
			       .frame_len = 70,
			       .flags = XPP_F_IPV6_EXT | XPP_F_EXT_BAD });
	ASSERT_PASSED();
	want.bytes = p.len;
	want.malformed[XPP_M_EXT_BAD] = 1;
	expect_counters(&want);
	ASSERT_PASSED();
	/* Past its header but inside the packet: tolerated. */
	reset();
	p.b[54 + 3] = 5;
	one_record(&p, &(struct want){
			       .src = V6A, .dst = V6B, .ip_version = 6,
			       .proto = 17, .ttl = 64, .sport = 9, .dport = 10,
			       .ip_len = 16, .frame_len = 70,
			       .flags = XPP_F_IPV6_EXT });
}

/* ---- frames without IP ---------------------------------------------- */

static void test_zero_length_frame(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	no_record(&p, XPP_M_ETH_TRUNC, 0);
}

static void test_runt_frame(void)
{
	struct pkt p;

	reset();
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	p.len = 13;
	no_record(&p, XPP_M_ETH_TRUNC, 0);
}

static void test_arp(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_ARP);
	pkt_payload(&p, 28, 0);
	no_record(&p, -1, 0);
}

static void test_ieee8023_length_frame(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, 46); /* a length, not an ethertype: LLC follows */
	pkt_payload(&p, 46, 0x42);
	no_record(&p, -1, 0);
}

static void test_vlan_then_arp(void)
{
	struct pkt p;

	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_8021Q);
	pkt_vlan(&p, 5, ETH_P_ARP);
	pkt_payload(&p, 28, 0);
	no_record(&p, -1, 1);
}

/* ---- configuration: sampling, filters, verdict ---------------------- */

static void test_sampling_one_in_three(void)
{
	struct xpp_config cfg;
	struct pkt p;
	int i;

	reset();
	xpp_config_init(&cfg);
	cfg.sample_n = 3;
	ASSERT_OK(xpp_datapath__config_set(dp, &cfg));
	for (i = 0; i < 9; i++) {
		pkt_frame_udp4(&p, V4A, V4B, 1000 + i, 53, 0);
		run_pass(&p);
		ASSERT_PASSED();
	}
	/* Per-CPU count based: frames 0, 3 and 6 of this CPU. */
	ASSERT_EQ(nrecs, 3);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(recs[i].sport, 1000 + 3 * i);
		if (i)
			ASSERT_EQ(recs[i].seq, recs[i - 1].seq + 1);
	}
	expect_counters(&(struct xpp_counters){
		.packets = 9, .bytes = 9 * 42, .ipv4 = 9, .udp = 9,
		.records = 3, .records_skipped = 6 });
}

static void test_proto_filter(void)
{
	struct xpp_config cfg;
	struct pkt p;

	reset();
	xpp_config_init(&cfg);
	cfg.flags = XPP_CFG_PROTO_FILTER;
	xpp_config_set_proto(&cfg, IPPROTO_TCP);
	ASSERT_OK(xpp_datapath__config_set(dp, &cfg));
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	run_pass(&p);
	ipv4_tcp(&p, 3, 4);
	run_pass(&p);
	ASSERT_PASSED();
	ASSERT_EQ(nrecs, 1);
	ASSERT_EQ(recs[0].proto, IPPROTO_TCP);
	ASSERT_EQ(recs[0].sport, 3);
	expect_counters(&(struct xpp_counters){
		.packets = 2, .bytes = 42 + 54, .ipv4 = 2, .udp = 1, .tcp = 1,
		.records = 1, .records_skipped = 1, .filtered = 1 });
}

static void test_port_filter(void)
{
	struct xpp_config cfg;
	struct pkt p;

	reset();
	xpp_config_init(&cfg);
	cfg.flags = XPP_CFG_PORT_FILTER;
	xpp_config_set_port(&cfg, 53);
	xpp_config_set_port(&cfg, 65535);
	ASSERT_OK(xpp_datapath__config_set(dp, &cfg));
	pkt_frame_udp4(&p, V4A, V4B, 40000, 53, 0); /* dport matches */
	run_pass(&p);
	pkt_frame_udp4(&p, V4A, V4B, 53, 40000, 0); /* sport matches */
	run_pass(&p);
	pkt_frame_udp4(&p, V4A, V4B, 54, 52, 0); /* neither */
	run_pass(&p);
	ipv4_tcp(&p, 65535, 1); /* TCP, highest port */
	run_pass(&p);
	ipv4_frag(&p, 0x2000 | 100); /* later fragment: no ports */
	run_pass(&p);
	ASSERT_PASSED();
	ASSERT_EQ(nrecs, 3);
	ASSERT_EQ(recs[0].dport, 53);
	ASSERT_EQ(recs[1].sport, 53);
	ASSERT_EQ(recs[2].sport, 65535);
	expect_counters(&(struct xpp_counters){
		.packets = 5, .bytes = 3 * 42 + 54 + 58, .ipv4 = 5, .udp = 4,
		.tcp = 1, .records = 3, .records_skipped = 2, .filtered = 2 });
}

static void test_drop_selected(void)
{
	struct xpp_config cfg;
	__u32 verdict;
	struct pkt p;

	reset();
	xpp_config_init(&cfg);
	cfg.flags = XPP_CFG_PROTO_FILTER | XPP_CFG_DROP_SELECTED;
	xpp_config_set_proto(&cfg, IPPROTO_UDP);
	cfg.sample_n = 2;
	ASSERT_OK(xpp_datapath__config_set(dp, &cfg));

	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	ASSERT_OK(run(p.b, p.len, &verdict));
	ASSERT_EQ(verdict, XDP_DROP);
	/* Selected but sampled out: still the selected verdict. */
	ASSERT_OK(run(p.b, p.len, &verdict));
	ASSERT_EQ(verdict, XDP_DROP);
	ipv4_tcp(&p, 1, 2);
	ASSERT_OK(run(p.b, p.len, &verdict));
	ASSERT_EQ(verdict, XDP_PASS);
	pkt_init(&p);
	pkt_eth(&p, ETH_P_ARP);
	pkt_payload(&p, 28, 0);
	ASSERT_OK(run(p.b, p.len, &verdict));
	ASSERT_EQ(verdict, XDP_PASS);
	ASSERT_EQ(nrecs, 1);
	expect_counters(&(struct xpp_counters){
		.packets = 4, .bytes = 42 * 2 + 54 + 42, .ipv4 = 3, .udp = 2,
		.tcp = 1, .not_ip = 1, .records = 1, .records_skipped = 2,
		.filtered = 1, .dropped = 2 });
}

/* ---- the ring ------------------------------------------------------- */

static void test_seq_consecutive(void)
{
	struct pkt p;
	int i;

	reset();
	for (i = 0; i < 100; i++) {
		pkt_frame_udp4(&p, V4A, V4B, i, i, 0);
		run_pass(&p);
		ASSERT_PASSED();
	}
	ASSERT_EQ(nrecs, 100);
	for (i = 1; i < 100; i++) {
		ASSERT_EQ(recs[i].seq, (__u32)(recs[0].seq + i));
		ASSERT_TRUE(recs[i].ts_ns >= recs[i - 1].ts_ns);
		ASSERT_EQ(recs[i].sport, i);
	}
}

/* A ring that fills up loses records: each loss is counted, and the
 * sequence numbers show the gap. */
static void test_ring_full_counted(void)
{
	struct xpp_datapath_opts o = { .ring_bytes = XPP_RING_BYTES_MIN };
	struct xpp_datapath *small;
	struct xpp_reader *srd;
	struct xpp_counters c;
	struct pkt p;
	__u32 verdict, i, sent = 2000, first_lost = 0;
	int n;

	small = xpp_datapath__open(&o);
	ASSERT_TRUE(small);
	ASSERT_OK(xpp_datapath__counters_init(small, 1));
	srd = xpp_reader__new(small, on_record, NULL);
	if (!srd) {
		xpp_datapath__destroy(small);
		ASSERT_TRUE(srd);
	}
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	for (i = 0; i < sent; i++)
		if (test_run(xpp_datapath__prog_fd(small), p.b, p.len, NULL,
			     &verdict) < 0)
			break;
	/* Room for 64 KiB / 72 = 910 records. */
	nrecs = 0;
	n = xpp_reader__drain(srd);
	if (!xpp_datapath__counters(small, 1, &c) && nrecs > 0)
		first_lost = recs[nrecs - 1].seq + 1;
	/* One more record after draining: its seq jumps over the loss. */
	test_run(xpp_datapath__prog_fd(small), p.b, p.len, NULL, &verdict);
	xpp_reader__drain(srd);
	xpp_reader__free(srd);
	xpp_datapath__destroy(small);

	ASSERT_EQ(i, sent);
	ASSERT_EQ(n, 910);
	ASSERT_EQ(c.packets, sent);
	ASSERT_EQ(c.records, 910);
	ASSERT_EQ(c.records_lost, sent - 910);
	ASSERT_EQ(nrecs, 911);
	ASSERT_EQ(recs[910].seq - first_lost, sent - 910);
	nrecs = 0;
}

/* Runs p n times without draining the rings in between. */
static void run_n_undrained(const struct pkt *p, int n)
{
	__u32 verdict;
	int i;

	for (i = 0; i < n; i++)
		ASSERT_OK(test_run(xpp_datapath__prog_fd(dp), p->b, p->len,
				   NULL, &verdict));
}

static void test_wakeup_only_past_mark(void)
{
	unsigned long long w;
	struct epoll_event ev;
	struct xpp_config cfg;
	struct pkt p;
	int efd = xpp_reader__epoll_fd(rd);

	reset();
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	run_n_undrained(&p, 200);
	ASSERT_PASSED();
	/* Default: records wait, nobody is woken. Wakeups are delivered
	 * asynchronously (irq_work), so give a stray one time to show. */
	ASSERT_EQ(epoll_wait(efd, &ev, 1, 100), 0);
	ASSERT_EQ(xpp_reader__drain(rd), 200);

	xpp_config_init(&cfg);
	cfg.wakeup_records = 64;
	ASSERT_OK(xpp_datapath__config_set(dp, &cfg));
	/* Below the mark: still no wakeup. */
	run_n_undrained(&p, 63);
	ASSERT_PASSED();
	ASSERT_EQ(epoll_wait(efd, &ev, 1, 100), 0);
	/* The 64th record crosses it. */
	run_n_undrained(&p, 1);
	ASSERT_PASSED();
	ASSERT_EQ(epoll_wait(efd, &ev, 1, 2000), 1);
	/* Further records do not wake again: one wakeup per crossing (the
	 * drain below consumes exactly one token). */
	run_n_undrained(&p, 136);
	ASSERT_PASSED();
	w = xpp_reader__wakeups(rd);
	ASSERT_EQ(xpp_reader__drain(rd), 200);
	ASSERT_EQ(nrecs, 400);
	ASSERT_EQ(xpp_reader__wakeups(rd) - w, 1);
	ASSERT_EQ(epoll_wait(efd, &ev, 1, 100), 0);
	/* Drained: the next crossing wakes again. */
	run_n_undrained(&p, 64);
	ASSERT_PASSED();
	ASSERT_EQ(epoll_wait(efd, &ev, 1, 2000), 1);
	ASSERT_EQ(xpp_reader__drain(rd), 64);
	ASSERT_EQ(xpp_reader__wakeups(rd) - w, 2);
}

/* A mixed batch: the counters must add up exactly. */
static void test_counters_add_up(void)
{
	struct xpp_counters c;
	struct xpp_config cfg;
	struct pkt p;
	int i;

	reset();
	xpp_config_init(&cfg);
	cfg.sample_n = 4;
	cfg.flags = XPP_CFG_PROTO_FILTER;
	xpp_config_set_proto(&cfg, IPPROTO_UDP);
	xpp_config_set_proto(&cfg, IPPROTO_TCP);
	ASSERT_OK(xpp_datapath__config_set(dp, &cfg));
	for (i = 0; i < 300; i++) {
		switch (i % 5) {
		case 0:
			pkt_frame_udp4(&p, V4A, V4B, i, 1, i % 7);
			break;
		case 1:
			ipv4_tcp(&p, i, 2);
			break;
		case 2:
			pkt_init(&p);
			pkt_eth(&p, ETH_P_IPV6);
			pkt_ipv6(&p, V6A, V6B, IPPROTO_ICMPV6, 64);
			pkt_icmp(&p, 135, 0);
			pkt_finish(&p);
			break;
		case 3:
			pkt_init(&p);
			pkt_eth(&p, ETH_P_ARP);
			pkt_payload(&p, 28, 0);
			break;
		default:
			pkt_frame_udp4(&p, V4A, V4B, i, 1, 0);
			p.len = 14 + i % 20; /* truncated IPv4 */
		}
		run_pass(&p);
		ASSERT_PASSED();
	}
	get_counters(&c);
	ASSERT_EQ(c.packets, 300);
	ASSERT_EQ(c.not_ip, 120);
	ASSERT_EQ(c.filtered, 60);
	/* 120 UDP/TCP selected, one in four recorded. */
	ASSERT_EQ(c.records, 30);
	ASSERT_EQ(c.records_skipped, 60 + 90);
	ASSERT_EQ(c.records_lost, 0);
	ASSERT_EQ(c.packets, c.records + c.records_lost + c.records_skipped +
				     c.not_ip);
	ASSERT_EQ(c.malformed[XPP_M_IP4_TRUNC], 60);
	ASSERT_EQ(nrecs, 30);
}

/* ---- the documented numpy dtype ------------------------------------- */

static void json_u8s(FILE *f, const char *name, const __u8 *v, int n)
{
	int i;

	fprintf(f, "\"%s\":[", name);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? "," : "", v[i]);
	fprintf(f, "],");
}

/* docs/record.md gives a numpy dtype; read kernel-written records with it
 * and compare every field with the C struct's view of the same bytes. */
static void test_numpy_dtype_from_docs(void)
{
	const char *src = getenv("XPP_SRCDIR");
	char bin[] = "/tmp/xpp-dtype-XXXXXX", json[64], cmd[1024];
	struct pkt p;
	FILE *f;
	int i, fd, rc;

	if (!src)
		SKIP("XPP_SRCDIR not set (run through meson test)");
	if (access("/usr/bin/python3", X_OK) ||
	    system("/usr/bin/python3 -c 'import numpy' 2>/dev/null"))
		SKIP("python3-numpy is not installed");
	reset();
	pkt_init(&p);
	pkt_eth(&p, ETH_P_8021Q);
	pkt_vlan(&p, 0x0fff, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_TCP, 17, 6, 0x2000);
	pkt_tcp(&p, 65535, 1, 0xff, 0xfffe);
	pkt_finish(&p);
	run_pass(&p);
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, IPPROTO_ICMPV6, 200);
	pkt_icmp(&p, 135, 7);
	pkt_finish(&p);
	run_pass(&p);
	ASSERT_PASSED();
	ASSERT_EQ(nrecs, 2);

	fd = mkstemp(bin);
	ASSERT_TRUE(fd >= 0);
	rc = write(fd, recs, sizeof(recs[0]) * nrecs);
	close(fd);
	snprintf(json, sizeof(json), "%s.json", bin);
	f = fopen(json, "w");
	if (rc != (int)sizeof(recs[0]) * nrecs || !f) {
		unlink(bin);
		ASSERT_TRUE(!"writing the records");
	}
	fprintf(f, "[");
	for (i = 0; i < nrecs; i++) {
		const struct xpp_record *r = &recs[i];

		fprintf(f, "%s{", i ? "," : "");
		json_u8s(f, "saddr", r->saddr, 16);
		json_u8s(f, "daddr", r->daddr, 16);
		fprintf(f, "\"ts_ns\":%llu,\"seq\":%u,\"ifindex\":%u,"
			   "\"sport\":%u,\"dport\":%u,\"frame_len\":%u,"
			   "\"ip_len\":%u,\"tcp_window\":%u,\"vlan\":%u,"
			   "\"rx_queue\":%u,\"flags\":%u,\"ring\":%u,"
			   "\"version\":%u,\"ip_version\":%u,\"proto\":%u,"
			   "\"ttl\":%u,\"tcp_flags\":%u,\"reserved\":%u}",
			(unsigned long long)r->ts_ns, r->seq, r->ifindex,
			r->sport, r->dport, r->frame_len, r->ip_len,
			r->tcp_window, r->vlan, r->rx_queue, r->flags, r->ring,
			r->version, r->ip_version, r->proto, r->ttl,
			r->tcp_flags, r->reserved);
	}
	fprintf(f, "]\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 %s/tests/bpf/check_dtype.py "
		 "%s/docs/record.md %s %s",
		 src, src, bin, json);
	rc = system(cmd);
	unlink(bin);
	unlink(json);
	ASSERT_EQ(rc, 0);
}

/* ---- a real interface: ifindex and rx queue ------------------------- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void ifindex_queue_body(const char *ns, int *ret_nsfd)
{
	char path[128];
	struct xdp_md ctx = {};
	struct pkt p;
	__u32 verdict = ~0u;
	int nsfd, ifindex, err;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(nsfd >= 0);
	*ret_nsfd = nsfd;
	ASSERT_OK(setns(nsfd, CLONE_NEWNET) ? -errno : 0);
	ifindex = if_nametoindex("xppt0");
	ASSERT_TRUE(ifindex > 0);
	ASSERT_OK(xpp_datapath__counters_init(dp, ifindex));
	/* Native XDP on veth registers the rx queues test runs need. The
	 * peer stays down, so no other frame reaches xppt0. */
	err = bpf_xdp_attach(ifindex, xpp_datapath__prog_fd(dp),
			     XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		SKIP("native XDP on veth: %s", strerror(-err));
	pkt_frame_udp4(&p, V4A, V4B, 9, 9, 0);
	ctx.data_end = p.len;
	ctx.ingress_ifindex = ifindex;
	ctx.rx_queue_index = 3;
	ASSERT_OK(test_run(xpp_datapath__prog_fd(dp), p.b, p.len, &ctx,
			   &verdict));
	ASSERT_OK(xpp_reader__drain(rd));
	ASSERT_EQ(verdict, XDP_PASS);
	ASSERT_EQ(nrecs, 1);
	ASSERT_EQ(recs[0].ifindex, ifindex);
	ASSERT_EQ(recs[0].rx_queue, 3);
	{
		struct xpp_counters c;

		ASSERT_OK(xpp_datapath__counters(dp, ifindex, &c));
		ASSERT_EQ(c.packets, 1);
		ASSERT_EQ(c.records, 1);
	}
}

static void test_ifindex_and_rx_queue(void)
{
	char ns[64];
	int self, nsfd = -1;

	reset();
	snprintf(ns, sizeof(ns), "xppt-%d", getpid());
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(self >= 0);
	if (sh("ip netns add %s && ip -n %s link add xppt0 numrxqueues 4 "
	       "type veth peer xppt1 numrxqueues 4 && ip -n %s link set xppt0 up",
	       ns, ns, ns)) {
		sh("ip netns del %s 2>/dev/null", ns);
		close(self);
		SKIP("cannot create a veth pair in a network namespace");
	}
	ifindex_queue_body(ns, &nsfd);
	/* Always back home and clean, whatever the body did. */
	setns(self, CLONE_NEWNET);
	close(self);
	if (nsfd >= 0)
		close(nsfd);
	sh("ip netns del %s", ns);
}

static const struct tap_case cases[] = {
	TAP_CASE(test_ipv4_udp),
	TAP_CASE(test_counter_slots),
	TAP_CASE(test_ipv4_tcp),
	TAP_CASE(test_ipv4_icmp),
	TAP_CASE(test_ipv6_udp),
	TAP_CASE(test_ipv6_tcp),
	TAP_CASE(test_ipv6_icmpv6),
	TAP_CASE(test_ipv4_other_l4),
	TAP_CASE(test_vlan_single),
	TAP_CASE(test_vlan_qinq),
	TAP_CASE(test_vlan_priority_tag),
	TAP_CASE(test_vlan_three_tags),
	TAP_CASE(test_ipv4_options),
	TAP_CASE(test_ipv4_first_fragment),
	TAP_CASE(test_ipv4_later_fragment),
	TAP_CASE(test_ipv4_last_fragment),
	TAP_CASE(test_ipv6_ext_chain),
	TAP_CASE(test_ipv6_later_fragment),
	TAP_CASE(test_ipv6_atomic_fragment),
	TAP_CASE(test_ipv6_ext_at_limit),
	TAP_CASE(test_ipv6_ext_over_limit),
	TAP_CASE(test_ipv6_no_next_header),
	TAP_CASE(test_trunc_sweep_vlan_ipv4_tcp),
	TAP_CASE(test_trunc_sweep_ipv6_ext_udp),
	TAP_CASE(test_trunc_icmp_one_byte),
	TAP_CASE(test_ipv4_bad_ihl),
	TAP_CASE(test_ipv4_bad_version),
	TAP_CASE(test_ipv6_bad_version),
	TAP_CASE(test_ipv4_total_len_below_header),
	TAP_CASE(test_ipv4_options_truncated),
	TAP_CASE(test_padding_not_read_as_l4),
	TAP_CASE(test_tcp_bad_data_offset),
	TAP_CASE(test_ipv4_total_length_zero),
	TAP_CASE(test_vlan_tpid_9100),
	TAP_CASE(test_udplite_sctp_dccp_ports),
	TAP_CASE(test_ipv6_mobility_header_walked),
	TAP_CASE(test_ipv6_option_past_packet),
	TAP_CASE(test_zero_length_frame),
	TAP_CASE(test_runt_frame),
	TAP_CASE(test_arp),
	TAP_CASE(test_ieee8023_length_frame),
	TAP_CASE(test_vlan_then_arp),
	TAP_CASE(test_sampling_one_in_three),
	TAP_CASE(test_proto_filter),
	TAP_CASE(test_port_filter),
	TAP_CASE(test_drop_selected),
	TAP_CASE(test_seq_consecutive),
	TAP_CASE(test_ring_full_counted),
	TAP_CASE(test_wakeup_only_past_mark),
	TAP_CASE(test_counters_add_up),
	TAP_CASE(test_numpy_dtype_from_docs),
	TAP_CASE(test_ifindex_and_rx_queue),
};

int main(int argc, char **argv)
{
	cpu_set_t set;
	int ret;

	xpp_log_init("test_xdp", getenv("XPP_DEBUG") ? LOG_DEBUG : LOG_WARNING);
	if (geteuid() != 0) {
		/* Every case needs the kernel: skip them all, with the
		 * reason, rather than pretend they passed. */
		printf("1..0 # SKIP BPF_PROG_TEST_RUN needs root\n");
		return 0;
	}
	/* All test runs on one CPU, so all records land in one ring in the
	 * order the frames were sent. */
	cpu = sched_getcpu();
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		perror("sched_setaffinity");
		return 1;
	}
	dp = xpp_datapath__open(NULL);
	if (!dp) {
		printf("Bail out! loading the XDP program: %s\n",
		       strerror(errno));
		return 1;
	}
	rd = xpp_reader__new(dp, on_record, NULL);
	if (!rd) {
		printf("Bail out! ring reader: %s\n", strerror(errno));
		return 1;
	}
	ret = tap_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
	xpp_reader__free(rd);
	xpp_datapath__destroy(dp);
	return ret;
}
