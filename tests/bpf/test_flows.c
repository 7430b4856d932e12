// SPDX-License-Identifier: GPL-2.0-only
/*
 * The flow table (docs/flows.md) through the real program: crafted
 * conversations with capture timestamps in the frame metadata, the flows
 * the program ends itself (its ring) and those the scan ends, field by
 * field.
 */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <netinet/in.h>

#include <bpf/bpf.h>

#include "flows.h"
#include "util.h"
#include "xdp_test.h"

#define SEC_NS 1000000000ULL
#define T0 (1700000000ULL * SEC_NS)

#define MAX_FLOWS 2048

/* Flows ended since the last flows_reset(), in order. */
static struct xpp_flow_export ended[MAX_FLOWS];
static int nended;
static struct xpp_flows *fl;
static struct xpp_config fcfg;

static int collect(void *ctx, const struct xpp_flow_export *x)
{
	if (nended < MAX_FLOWS)
		ended[nended] = *x;
	nended++;
	return 0;
}

/* Flows on, records off, every flow of an earlier case gone. */
static bool flows_reset(void)
{
	if (!xdp_reset())
		return false;
	if (!fl) {
		fl = xpp_flows__new(xt.dp, collect, NULL);
		if (!ASSERT_OK_PTR(fl, "flow reader"))
			return false;
	}
	xpp_config_init(&fcfg);
	fcfg.flags |= XPP_CFG_FLOWS | XPP_CFG_NO_RECORDS;
	if (!ASSERT_OK(xpp_datapath__config_set(xt.dp, &fcfg), "config_set") ||
	    !ASSERT_GE(xpp_flows__scan(fl, 0, &fcfg, true, NULL), 0,
		       "forced scan"))
		return false;
	nended = 0;
	return true;
}

static bool set_config(void)
{
	return ASSERT_OK(xpp_datapath__config_set(xt.dp, &fcfg), "config_set");
}

/* Runs p as captured at t (ns since the epoch) on interface ifindex,
 * then takes what the program ended. */
static bool run_on(const struct pkt *p, __u64 t, __u32 ifindex)
{
	struct xpp_frame_meta m = {
		.magic = XPP_FRAME_META_MAGIC,
		.wire_len = p->len,
		.ts_ns = t,
		.ifindex = ifindex,
		.pkt_type = XPP_FRAME_META_NO_PKT_TYPE,
	};
	__u32 verdict;

	return ASSERT_OK(xdp_run_meta(p, &m, &verdict), "test run") &&
	       ASSERT_EQ(verdict, XDP_PASS, "verdict") &&
	       ASSERT_GE(xpp_flows__consume(fl), 0, "consume");
}

static bool run_at(const struct pkt *p, __u64 t)
{
	return run_on(p, t, 0);
}

static void tcp4(struct pkt *p, const char *src, const char *dst,
		 uint16_t sport, uint16_t dport, uint8_t flags, uint8_t ttl,
		 uint16_t window, size_t payload)
{
	pkt_init(p);
	pkt_eth(p, 0x0800);
	pkt_ipv4(p, src, dst, IPPROTO_TCP, ttl, 5, 0);
	pkt_tcp(p, sport, dport, flags, window);
	pkt_payload(p, payload, 0x61);
	pkt_finish(p);
}

/* One flow still in the table, or ended by a forced scan now. */
static bool end_all(void)
{
	return ASSERT_GE(xpp_flows__scan(fl, 0, &fcfg, true, NULL), 0,
			 "forced scan");
}

static bool expect_dir(const struct xpp_flow_dir *d, __u64 packets,
		       __u64 bytes, __u64 first, __u64 last, const char *name)
{
	bool ok = ASSERT_EQ(d->packets, packets, "packets") &&
		  ASSERT_EQ(d->bytes, bytes, "bytes") &&
		  ASSERT_EQ(d->first_seen_ns, first, "first_seen_ns") &&
		  ASSERT_EQ(d->last_seen_ns, last, "last_seen_ns");

	if (!ok)
		tap_diag("in %s", name);
	return ok;
}

/*
 * SYN, SYN-ACK, ACK, data both ways, FIN both ways, the last ACK: one
 * flow from the SYN's sender, ended (reason end) once the grace after
 * the last ACK is over, with every feature as counted by hand.
 */
static void test_tcp_conversation(void)
{
	static const struct {
		int back;
		uint8_t flags;
		size_t payload;
		__u64 at_us;
	} c[] = {
		{ 0, TCP_SYN, 0, 0 },	       { 1, TCP_SYN | TCP_ACK, 0, 100 },
		{ 0, TCP_ACK, 0, 250 },	       { 0, TCP_PSH | TCP_ACK, 100, 300 },
		{ 1, TCP_PSH | TCP_ACK, 300, 1300 },
		{ 0, TCP_FIN | TCP_ACK, 0, 1400 },
		{ 1, TCP_FIN | TCP_ACK, 0, 1500 }, { 0, TCP_ACK, 0, 1600 },
	};
	const struct xpp_flow *f;
	struct xpp_flow_record r;
	__u64 bytes[2] = {}, n[2] = {};
	struct pkt p;
	size_t i;

	if (!flows_reset())
		return;
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		if (c[i].back)
			tcp4(&p, V4B, V4A, 80, 40000, c[i].flags, 50, 1000,
			     c[i].payload);
		else
			tcp4(&p, V4A, V4B, 40000, 80, c[i].flags, 64, 2000,
			     c[i].payload);
		if (!run_at(&p, T0 + c[i].at_us * 1000))
			return;
		bytes[c[i].back] += p.len;
		n[c[i].back]++;
	}
	if (!ASSERT_EQ(nended, 0, "flows ended before the grace"))
		return;
	/* Within the grace: a straggler still counts in the flow. */
	tcp4(&p, V4B, V4A, 80, 40000, TCP_ACK, 50, 1000, 0);
	if (!run_at(&p, T0 + 1600000 + SEC_NS - 1))
		return;
	bytes[1] += p.len;
	n[1]++;
	if (!ASSERT_EQ(nended, 0, "flows ended within the grace"))
		return;
	/* Past it: the next packet finds the flow ended and begins one. */
	tcp4(&p, V4A, V4B, 40000, 80, TCP_SYN, 64, 2000, 0);
	if (!run_at(&p, T0 + 1600000 + SEC_NS) ||
	    !ASSERT_EQ(nended, 1, "flows ended by the new SYN"))
		return;
	f = &ended[0].flow;
	if (!ASSERT_EQ(ended[0].end_reason, XPP_END_END, "end_reason") ||
	    !ASSERT_EQ(ended[0].key.proto, IPPROTO_TCP, "proto") ||
	    !ASSERT_TRUE(f->tcp_state & XPP_FLOW_ENDED, "ended") ||
	    !ASSERT_EQ(f->end_ns, T0 + 1600000, "end_ns: the last ACK") ||
	    !expect_dir(&f->src2dst, n[0], bytes[0], T0, T0 + 1600000,
			"src2dst") ||
	    !expect_dir(&f->dst2src, n[1], bytes[1], T0 + 100000,
			T0 + 1600000 + SEC_NS - 1, "dst2src") ||
	    !expect_dir(&f->bidir, n[0] + n[1], bytes[0] + bytes[1], T0,
			T0 + 1600000 + SEC_NS - 1, "bidirectional"))
		return;
	xpp_flow_record_make(&ended[0], 0, XPP_ACCT_LINK, 8, &r);
	if (!ASSERT_MEMEQ(r.src_ip + 12, "\xc6\x12\x00\x01", 4, "src_ip") ||
	    !ASSERT_EQ(r.src_port, 40000, "src_port") ||
	    !ASSERT_EQ(r.dst_port, 80, "dst_port") ||
	    !ASSERT_EQ(f->src2dst.flag_packets[XPP_TCP_SYN], 1, "src2dst syn") ||
	    !ASSERT_EQ(f->dst2src.flag_packets[XPP_TCP_SYN], 1, "dst2src syn") ||
	    !ASSERT_EQ(f->bidir.flag_packets[XPP_TCP_ACK], 8, "ack packets") ||
	    !ASSERT_EQ(f->bidir.flag_packets[XPP_TCP_FIN], 2, "fin packets") ||
	    !ASSERT_EQ(f->bidir.flag_packets[XPP_TCP_PSH], 2, "psh packets") ||
	    !ASSERT_EQ(f->src2dst.first_ttl, 64, "src2dst_first_ttl") ||
	    !ASSERT_EQ(f->dst2src.first_ttl, 50, "dst2src_first_ttl") ||
	    !ASSERT_EQ(f->src2dst.first_window, 2000, "src2dst window") ||
	    !ASSERT_EQ(f->dst2src.first_window, 1000, "dst2src window") ||
	    !ASSERT_EQ(f->bidir.min_ps, 54, "min_ps") ||
	    !ASSERT_EQ(f->bidir.max_ps, 354, "max_ps") ||
	    /* 100, 150, 50, 1000, 100, 100, 100 us, then the straggler */
	    !ASSERT_EQ(f->bidir.min_piat_ns, 50000, "min_piat_ns") ||
	    !ASSERT_EQ(f->bidir.max_piat_ns, SEC_NS - 1, "max_piat_ns") ||
	    !ASSERT_EQ(f->src2dst.min_piat_ns, 50000, "src2dst min piat") ||
	    !ASSERT_EQ(f->src2dst.max_piat_ns, 1100000, "src2dst max piat") ||
	    !ASSERT_EQ(f->splt_len, 8, "splt_len") ||
	    !ASSERT_EQ(f->splt_direction, 0x52, "splt_direction bits") ||
	    !ASSERT_EQ(f->splt_piat_ns[1], 100000, "splt_piat_ns[1]") ||
	    !ASSERT_EQ(f->splt_piat_ns[4], 1000000, "splt_piat_ns[4]") ||
	    !ASSERT_EQ(f->splt_ps[4], 354, "splt_ps[4]"))
		return;
	/* mean and sample stddev of the src2dst sizes 54 54 154 54 54. */
	ASSERT_TRUE(r.mean_ps[1] == 370.0 / 5, "src2dst mean_ps");
	ASSERT_TRUE(r.stddev_ps[1] == sqrt((5.0 * (4 * 54 * 54 + 154 * 154) -
					    370.0 * 370) /
					   20),
		    "src2dst stddev_ps");
	end_all();
}

/* A SYN-ACK seen first: its receiver began the flow. */
static void test_synack_first(void)
{
	struct xpp_flow_record r;
	struct pkt p;

	if (!flows_reset())
		return;
	tcp4(&p, V4B, V4A, 80, 40000, TCP_SYN | TCP_ACK, 64, 1, 0);
	if (!run_at(&p, T0))
		return;
	tcp4(&p, V4A, V4B, 40000, 80, TCP_ACK, 64, 1, 0);
	if (!run_at(&p, T0 + 10) || !end_all() ||
	    !ASSERT_EQ(nended, 1, "flows") ||
	    !ASSERT_EQ(ended[0].end_reason, XPP_END_FORCED, "end_reason"))
		return;
	xpp_flow_record_make(&ended[0], 0, XPP_ACCT_LINK, 8, &r);
	ASSERT_EQ(r.src_port, 40000, "src_port: the SYN-ACK's receiver");
	ASSERT_EQ(r.flow.src2dst.packets, 1, "src2dst packets: the ACK");
	ASSERT_EQ(r.flow.dst2src.flag_packets[XPP_TCP_SYN], 1,
		  "dst2src syn: the SYN-ACK");
	ASSERT_EQ(r.flow.splt_direction, 1, "splt_direction: 1, 0");
}

/* An RST ends the flow (after the grace); FIN one way only does not. */
static void test_rst_and_half_close(void)
{
	struct pkt p;

	if (!flows_reset())
		return;
	tcp4(&p, V4A, V4B, 1000, 2000, TCP_SYN, 64, 1, 0);
	run_at(&p, T0);
	tcp4(&p, V4B, V4A, 2000, 1000, TCP_RST | TCP_ACK, 64, 1, 0);
	run_at(&p, T0 + 5);
	tcp4(&p, V4A, V4B, 1001, 2000, TCP_FIN | TCP_ACK, 64, 1, 0);
	run_at(&p, T0 + 10);
	tcp4(&p, V4B, V4A, 2000, 1001, TCP_ACK, 64, 1, 0);
	run_at(&p, T0 + 20);
	/* 1 s after the RST: that flow is due, the half-closed one not. */
	if (!ASSERT_EQ(xpp_flows__scan(fl, T0 + 5 + SEC_NS, &fcfg, false,
				       NULL),
		       1, "flows the scan ended") ||
	    !ASSERT_EQ(nended, 1, "flows") ||
	    !ASSERT_EQ(ended[0].end_reason, XPP_END_END, "end_reason") ||
	    !ASSERT_TRUE(ended[0].flow.tcp_state & XPP_FLOW_RST, "rst seen"))
		return;
	/* The half-closed one ends idle, 120 s after its last packet. */
	if (!ASSERT_EQ(xpp_flows__scan(fl, T0 + 20 + 120 * SEC_NS - 1, &fcfg,
				       false, NULL),
		       0, "before the idle timeout") ||
	    !ASSERT_EQ(xpp_flows__scan(fl, T0 + 20 + 120 * SEC_NS, &fcfg,
				       false, NULL),
		       1, "at the idle timeout"))
		return;
	ASSERT_EQ(ended[1].end_reason, XPP_END_IDLE, "end_reason");
	ASSERT_EQ(ended[1].flow.tcp_state, XPP_FLOW_FIN_SRC, "tcp_state");
}

/* A new connection (SYN without ACK) within the grace after an end
 * begins a new flow at once; an ACK there is a straggler. */
static void test_syn_after_end(void)
{
	struct pkt p;

	if (!flows_reset())
		return;
	tcp4(&p, V4A, V4B, 40404, 8080, TCP_SYN, 64, 1, 0);
	run_at(&p, T0);
	tcp4(&p, V4B, V4A, 8080, 40404, TCP_RST | TCP_ACK, 64, 1, 0);
	run_at(&p, T0 + 1000);
	tcp4(&p, V4A, V4B, 40404, 8080, TCP_ACK, 64, 1, 0);
	run_at(&p, T0 + 2000);
	if (!ASSERT_EQ(nended, 0, "an ACK in the grace: a straggler"))
		return;
	tcp4(&p, V4A, V4B, 40404, 8080, TCP_SYN, 64, 1, 0);
	if (!run_at(&p, T0 + SEC_NS / 2) ||
	    !ASSERT_EQ(nended, 1, "ended by the SYN in the grace") ||
	    !ASSERT_EQ(ended[0].end_reason, XPP_END_END, "end_reason") ||
	    !ASSERT_EQ(ended[0].flow.bidir.packets, 3, "packets") || !end_all())
		return;
	ASSERT_EQ(nended, 2, "flows");
	ASSERT_EQ(ended[1].flow.bidir.packets, 1, "the new connection");
	ASSERT_EQ(ended[1].flow.bidir.first_seen_ns, T0 + SEC_NS / 2,
		  "its first packet");
}

/* A TCP flow that ended is not cut by its active timeout, nor forced:
 * it ends `end` either way. */
static void test_ended_not_cut(void)
{
	struct pkt p;

	if (!flows_reset())
		return;
	fcfg.active_timeout_ns = SEC_NS;
	if (!set_config())
		return;
	tcp4(&p, V4A, V4B, 5000, 80, TCP_SYN, 64, 1, 0);
	run_at(&p, T0);
	tcp4(&p, V4B, V4A, 80, 5000, TCP_RST | TCP_ACK, 64, 1, 0);
	run_at(&p, T0 + 1000);
	/* The active timeout (T0 + 1 s) comes before the grace ends. */
	tcp4(&p, V4A, V4B, 5000, 80, TCP_ACK, 64, 1, 0);
	if (!run_at(&p, T0 + SEC_NS) || !ASSERT_EQ(nended, 1, "ended") ||
	    !ASSERT_EQ(ended[0].end_reason, XPP_END_END, "not active"))
		return;
	/* Forced out in its grace: end, not forced. */
	tcp4(&p, V4A, V4B, 5001, 80, TCP_SYN, 64, 1, 0);
	run_at(&p, T0 + SEC_NS);
	tcp4(&p, V4B, V4A, 80, 5001, TCP_RST | TCP_ACK, 64, 1, 0);
	run_at(&p, T0 + SEC_NS + 1000);
	if (!end_all() || !ASSERT_EQ(nended, 3, "flows"))
		return;
	ASSERT_EQ(ended[1].end_reason == XPP_END_END ||
			  ended[2].end_reason == XPP_END_END,
		  1, "the forced one that had ended: end");
	ASSERT_EQ(ended[1].end_reason == XPP_END_FORCED ||
			  ended[2].end_reason == XPP_END_FORCED,
		  1, "the ACK's flow, not ended: forced");
}

/* Idle and active timeouts, found by a packet: the flow is exported and
 * the packet begins the next one. */
static void test_timeouts_by_packet(void)
{
	struct pkt p;
	int i;

	if (!flows_reset())
		return;
	fcfg.idle_timeout_ns = 5 * SEC_NS;
	fcfg.active_timeout_ns = 10 * SEC_NS;
	if (!set_config())
		return;
	pkt_frame_udp4(&p, V4A, V4B, 53, 5353, 10);
	run_at(&p, T0);
	run_at(&p, T0 + 5 * SEC_NS - 1);
	if (!ASSERT_EQ(nended, 0, "ended within the idle timeout"))
		return;
	run_at(&p, T0 + 10 * SEC_NS - 1);
	if (!ASSERT_EQ(nended, 1, "ended at the idle timeout") ||
	    !ASSERT_EQ(ended[0].end_reason, XPP_END_IDLE, "end_reason") ||
	    !ASSERT_EQ(ended[0].flow.bidir.packets, 2, "packets"))
		return;
	/* A packet every 4 s: never idle, active after 10 s. */
	for (i = 1; i <= 3; i++)
		run_at(&p, T0 + 10 * SEC_NS - 1 + i * 4 * SEC_NS);
	if (!ASSERT_EQ(nended, 2, "ended by the active timeout") ||
	    !ASSERT_EQ(ended[1].end_reason, XPP_END_ACTIVE, "end_reason") ||
	    !ASSERT_EQ(ended[1].flow.bidir.packets, 3, "packets") ||
	    !ASSERT_EQ(ended[1].key.port[0], 53, "ports kept"))
		return;
	end_all();
	ASSERT_EQ(ended[2].flow.bidir.packets, 1, "the successor: 1 packet");
}

/* Keys: ICMP and later fragments have no ports; VLAN, interface and IP
 * version part of the key; both directions meet. */
static void test_keys(void)
{
	struct pkt p;
	int i, icmp = -1, frag = -1, first = -1, v6 = -1, vlan = -1;

	if (!flows_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, 0x0800);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_ICMP, 64, 5, 0);
	pkt_icmp(&p, 8, 0);
	pkt_finish(&p);
	run_at(&p, T0);
	pkt_init(&p);
	pkt_eth(&p, 0x0800);
	pkt_ipv4(&p, V4B, V4A, IPPROTO_ICMP, 64, 5, 0);
	pkt_icmp(&p, 0, 0);
	pkt_finish(&p);
	run_at(&p, T0 + 1);
	frame_ipv4_frag(&p, 0x2000); /* first fragment: ports */
	run_at(&p, T0 + 2);
	frame_ipv4_frag(&p, 185); /* a later one: none */
	run_at(&p, T0 + 3);
	pkt_init(&p);
	pkt_eth(&p, 0x86dd);
	pkt_ipv6(&p, V6A, V6B, IPPROTO_UDP, 64);
	pkt_udp(&p, 1, 2);
	pkt_finish(&p);
	run_at(&p, T0 + 4);
	pkt_frame_vlan_tcp4(&p, V4A, V4B);
	run_at(&p, T0 + 5);
	if (!end_all() || !ASSERT_EQ(nended, 5, "flows"))
		return;
	for (i = 0; i < nended; i++) {
		const struct xpp_flow_key *k = &ended[i].key;

		if (k->proto == IPPROTO_ICMP)
			icmp = i;
		else if (k->ip_version == 6)
			v6 = i;
		else if (k->vlan)
			vlan = i;
		else if (k->port[0] || k->port[1])
			first = i;
		else
			frag = i;
	}
	if (!ASSERT_GE(icmp, 0, "the ICMP flow") ||
	    !ASSERT_GE(frag, 0, "the later fragment's flow") ||
	    !ASSERT_GE(first, 0, "the first fragment's flow") ||
	    !ASSERT_GE(v6, 0, "the IPv6 flow") ||
	    !ASSERT_GE(vlan, 0, "the VLAN flow"))
		return;
	ASSERT_EQ(ended[icmp].flow.bidir.packets, 2, "ICMP: both ways, one");
	ASSERT_EQ(ended[icmp].flow.dst2src.packets, 1, "ICMP reply");
	ASSERT_EQ(ended[icmp].key.port[0] | ended[icmp].key.port[1], 0,
		  "ICMP ports");
	ASSERT_EQ(ended[vlan].key.vlan, 42, "vlan");
	ASSERT_EQ(ended[v6].key.port[0] + ended[v6].key.port[1], 3, "v6 ports");
}

/* Each accounting mode's size of one frame: Ethernet 14, IPv4 with 4
 * bytes of options, TCP with a 32-byte header (12 of options), 100
 * bytes of payload. */
static void test_accounting(void)
{
	static const __u32 want[] = {
		[XPP_ACCT_LINK] = 14 + 24 + 32 + 100,
		[XPP_ACCT_IP] = 24 + 32 + 100,
		[XPP_ACCT_TRANSPORT] = 32 + 100,
		[XPP_ACCT_PAYLOAD] = 100,
	};
	struct pkt p;
	unsigned int a;

	pkt_init(&p);
	pkt_eth(&p, 0x0800);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_TCP, 64, 6, 0);
	pkt_tcp(&p, 1, 2, TCP_ACK, 1);
	pkt_payload(&p, 112, 0);
	pkt_finish(&p);
	p.b[p.l4 + 12] = 8 << 4; /* data offset: 32 bytes */
	for (a = 0; a < ARRAY_SIZE(want); a++) {
		if (!flows_reset())
			return;
		fcfg.flow_accounting = a;
		if (!set_config() || !run_at(&p, T0) || !end_all() ||
		    !ASSERT_EQ(nended, 1, "flows"))
			return;
		if (!ASSERT_EQ(ended[0].flow.bidir.bytes, want[a], "bytes")) {
			tap_diag("accounting %s", xpp_flow_accounting_name(a));
			return;
		}
	}
}

/* Inter-arrival times whose squares pass 2^64: the 128-bit sums. */
static void test_wide_squares(void)
{
	const __u64 gap = 10 * SEC_NS; /* 1e10 ns; squared 1e20 > 2^64 */
	unsigned __int128 q;
	struct pkt p;

	if (!flows_reset())
		return;
	pkt_frame_udp4(&p, V4A, V4B, 7, 7, 0);
	run_at(&p, T0);
	run_at(&p, T0 + gap);
	run_at(&p, T0 + 3 * gap);
	if (!end_all() || !ASSERT_EQ(nended, 1, "flows"))
		return;
	q = (unsigned __int128)ended[0].flow.bidir.piat_sumsq[1] << 64 |
	    ended[0].flow.bidir.piat_sumsq[0];
	ASSERT_TRUE(q == (unsigned __int128)gap * gap * 5, "sum of squares");
	ASSERT_EQ(ended[0].flow.bidir.piat_sum_ns, 3 * gap, "sum");
}

/* A full table: every packet of a flow it cannot take is exported alone
 * (reason resources) and counted; no packet is left out. */
static void test_table_full(void)
{
	struct xpp_datapath_opts o = { .ring_bytes = XPP_RING_BYTES_MIN,
				       .flow_entries = XPP_FLOW_ENTRIES_MIN };
	const unsigned int sent = XPP_FLOW_ENTRIES_MIN + 100;
	struct xpp_flows *sfl = NULL;
	struct xpp_datapath *small;
	struct xpp_counters c;
	struct xpp_config cfg;
	unsigned int i, active = 0;
	__u64 packets = 0;
	__u32 verdict;
	struct pkt p;
	int n;

	nended = 0;
	small = xpp_datapath__open(&o);
	if (!ASSERT_OK_PTR(small, "open with the smallest table"))
		return;
	xpp_config_init(&cfg);
	cfg.flags |= XPP_CFG_FLOWS | XPP_CFG_NO_RECORDS;
	if (!ASSERT_OK(xpp_datapath__config_set(small, &cfg), "config_set") ||
	    !ASSERT_OK(xpp_datapath__counters_init(small, 1), "counters_init"))
		goto out;
	sfl = xpp_flows__new(small, collect, NULL);
	if (!ASSERT_OK_PTR(sfl, "flow reader"))
		goto out;
	for (i = 0; i < sent; i++) {
		pkt_frame_udp4(&p, V4A, V4B, i / 256 + 1, i % 256 + 1, 0);
		if (!ASSERT_OK(xdp_test_run(xpp_datapath__prog_fd(small), p.b,
					    p.len, NULL, &verdict),
			       "test run") ||
		    !ASSERT_GE(xpp_flows__consume(sfl), 0, "consume"))
			goto out;
	}
	if (!ASSERT_OK(xpp_datapath__counters(small, 1, &c), "counters") ||
	    !ASSERT_EQ(c.flows_table_full, 100, "flows_table_full") ||
	    !ASSERT_EQ(c.flows, XPP_FLOW_ENTRIES_MIN, "flows") ||
	    !ASSERT_EQ(c.flows_lost, 0, "flows_lost") ||
	    !ASSERT_EQ(nended, 100, "flows exported by the program"))
		goto out;
	for (i = 0; i < (unsigned int)nended; i++) {
		if (!ASSERT_EQ(ended[i].end_reason, XPP_END_RESOURCES,
			       "end_reason"))
			goto out;
		packets += ended[i].flow.bidir.packets;
	}
	n = xpp_flows__scan(sfl, 0, &cfg, false, &active);
	if (!ASSERT_EQ(n, 0, "due at 0") ||
	    !ASSERT_EQ(active, XPP_FLOW_ENTRIES_MIN, "flows in the table"))
		goto out;
	n = xpp_flows__scan(sfl, 0, &cfg, true, NULL);
	if (!ASSERT_EQ(n, XPP_FLOW_ENTRIES_MIN, "flows forced out"))
		goto out;
	for (i = 100; i < (unsigned int)nended && i < MAX_FLOWS; i++)
		packets += ended[i].flow.bidir.packets;
	ASSERT_EQ(packets, sent, "packets in flows");
out:
	xpp_flows__free(sfl);
	xpp_datapath__destroy(small);
	nended = 0;
}

struct sender {
	int cpu;
	int n;
	bool back;
	int err;
};

static void *send_on_cpu(void *arg)
{
	struct sender *s = arg;
	cpu_set_t set;
	__u32 verdict;
	struct pkt p;
	int i;

	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	s->err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (s->back)
		pkt_frame_udp4(&p, V4B, V4A, 2, 1, 0);
	else
		pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	for (i = 0; i < s->n && !s->err; i++)
		s->err = xdp_test_run(xpp_datapath__prog_fd(xt.dp), p.b, p.len,
				      NULL, &verdict);
	return NULL;
}

/* The two directions of one flow on two CPUs at once (RSS is not
 * symmetric): one flow, every packet counted. */
static void test_two_cpus(void)
{
	struct sender s[2] = { { .cpu = 0, .n = 100000 },
			       { .cpu = 1, .n = 100000, .back = true } };
	pthread_t th[2];
	int i;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		tap_skip("one CPU online");
		return;
	}
	if (!flows_reset())
		return;
	for (i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, send_on_cpu, &s[i]);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	if (!ASSERT_OK(s[0].err, "sender on CPU 0") ||
	    !ASSERT_OK(s[1].err, "sender on CPU 1") || !end_all() ||
	    !ASSERT_EQ(nended, 1, "flows"))
		return;
	ASSERT_EQ(ended[0].flow.bidir.packets, 200000, "packets");
	ASSERT_EQ(ended[0].flow.src2dst.packets +
			  ended[0].flow.dst2src.packets,
		  200000, "packets by direction");
	ASSERT_EQ(ended[0].flow.src2dst.packets, 100000, "src2dst packets");
}

/*
 * The top view reads the table and ends nothing; a scan for one
 * interface forces its flows out and leaves the others (those not due)
 * in the table: what the daemon does at a detach.
 */
static void test_top_and_scan_iface(void)
{
	static const struct {
		__u32 ifindex;
		uint16_t port;
		int packets;
	} c[] = { { 7, 1, 3 }, { 8, 2, 1 }, { 8, 3, 5 } };
	struct xpp_flow_export top[4];
	unsigned int n, total, active;
	struct pkt p;
	size_t i;
	int k;

	if (!flows_reset())
		return;
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		pkt_frame_udp4(&p, V4A, V4B, c[i].port, 99, 0);
		for (k = 0; k < c[i].packets; k++)
			if (!run_on(&p, T0 + k, c[i].ifindex))
				return;
	}
	if (!ASSERT_OK(xpp_flows__top(fl, top, 2, &n, &total), "top") ||
	    !ASSERT_EQ(n, 2, "flows in the top") ||
	    !ASSERT_EQ(total, 3, "flows read"))
		return;
	ASSERT_EQ(top[0].flow.bidir.packets, 5, "largest first");
	ASSERT_EQ(top[0].key.ifindex, 8, "its interface");
	ASSERT_EQ(top[1].flow.bidir.packets, 3, "then the next");
	ASSERT_EQ(top[1].end_reason, 0, "no end reason");
	if (!ASSERT_OK(xpp_flows__top(fl, top, 4, &n, NULL), "top of 4") ||
	    !ASSERT_EQ(n, 3, "every flow") ||
	    !ASSERT_EQ(top[2].flow.bidir.packets, 1, "the smallest last") ||
	    !ASSERT_EQ(nended, 0, "the top ended nothing"))
		return;
	if (!ASSERT_EQ(xpp_flows__scan_iface(fl, T0 + 10, &fcfg, 7, &active),
		       1, "flows of interface 7 ended") ||
	    !ASSERT_EQ(active, 2, "the others stay"))
		return;
	ASSERT_EQ(ended[0].key.ifindex, 7, "interface");
	ASSERT_EQ(ended[0].end_reason, XPP_END_FORCED, "end_reason");
	ASSERT_EQ(ended[0].flow.bidir.packets, 3, "packets");
	end_all();
	ASSERT_EQ(nended, 3, "then the rest");
}

/* Records off leaves the verdict and the filters as they were: selected
 * frames are still dropped when the verdict says so, and counted in
 * flows; frames a filter leaves out pass. */
static void test_records_off_keeps_verdict(void)
{
	struct xpp_counters c;
	struct pkt p;

	if (!flows_reset())
		return;
	fcfg.flags |= XPP_CFG_DROP_SELECTED | XPP_CFG_PROTO_FILTER;
	xpp_config_set_proto(&fcfg, IPPROTO_UDP);
	if (!set_config())
		return;
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	if (!xdp_run_verdict(&p, XDP_DROP))
		return;
	tcp4(&p, V4A, V4B, 1, 2, TCP_SYN, 64, 1, 0);
	if (!xdp_run_verdict(&p, XDP_PASS) ||
	    !ASSERT_OK(xdp_counters(&c), "counters") ||
	    !ASSERT_EQ(c.dropped, 1, "dropped") ||
	    !ASSERT_EQ(c.records, 0, "records") ||
	    !ASSERT_EQ(c.records_skipped, 2, "records_skipped") ||
	    !ASSERT_EQ(c.filtered, 1, "filtered") ||
	    !ASSERT_EQ(c.flows, 2, "flows: filters do not apply to them"))
		return;
	ASSERT_EQ(xt.nrecs, 0, "records read");
}

/* Flows off: nothing in the table, records as before. */
static void test_flows_off(void)
{
	struct xpp_counters c;
	unsigned int active = 1;
	struct pkt p;

	if (!flows_reset())
		return;
	xpp_config_init(&fcfg);
	if (!set_config())
		return;
	pkt_frame_udp4(&p, V4A, V4B, 1, 2, 0);
	if (!xdp_run_pass(&p) || !ASSERT_EQ(xt.nrecs, 1, "records") ||
	    !ASSERT_OK(xdp_counters(&c), "counters") ||
	    !ASSERT_EQ(c.flows, 0, "flows") ||
	    !ASSERT_GE(xpp_flows__scan(fl, 0, &fcfg, false, &active), 0,
		       "scan"))
		return;
	ASSERT_EQ(active, 0, "flows in the table");
}

TAP_GROUP(xdp_flow_tests,
	  TAP_CASE(test_tcp_conversation),
	  TAP_CASE(test_synack_first),
	  TAP_CASE(test_rst_and_half_close),
	  TAP_CASE(test_syn_after_end),
	  TAP_CASE(test_ended_not_cut),
	  TAP_CASE(test_timeouts_by_packet),
	  TAP_CASE(test_keys),
	  TAP_CASE(test_accounting),
	  TAP_CASE(test_wide_squares),
	  TAP_CASE(test_table_full),
	  TAP_CASE(test_two_cpus),
	  TAP_CASE(test_top_and_scan_iface),
	  TAP_CASE(test_records_off_keeps_verdict),
	  TAP_CASE(test_flows_off));
