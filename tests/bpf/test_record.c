// SPDX-License-Identifier: GPL-2.0-only
/* The record as consumers see it: the layout docs/record.md documents,
 * and the interface and rx queue of a frame from a real interface. */
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>

#include "format.h"
#include "util.h"
#include "xdp_test.h"

/* ---- the documented numpy dtype ------------------------------------- */

static void json_u8s(FILE *f, const char *name, const __u8 *v, int n)
{
	int i;

	fprintf(f, "\"%s\":[", name);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? "," : "", v[i]);
	fprintf(f, "],");
}

/* The records as JSON, as the C struct reads them. */
static int write_json(const char *path, const struct xpp_record *recs, int n)
{
	FILE *f = fopen(path, "w");
	int i;

	if (!f)
		return -errno;
	fprintf(f, "[");
	for (i = 0; i < n; i++) {
		const struct xpp_record *r = &recs[i];

		fprintf(f, "%s{", i ? "," : "");
		json_u8s(f, "saddr", r->saddr, 16);
		json_u8s(f, "daddr", r->daddr, 16);
		fprintf(f, "\"ts_ns\":%llu,\"seq\":%u,\"ifindex\":%u,"
			   "\"sport\":%u,\"dport\":%u,\"frame_len\":%u,"
			   "\"ip_len\":%u,\"tcp_window\":%u,\"vlan\":%u,"
			   "\"rx_queue\":%u,\"flags\":%u,\"ring\":%u,"
			   "\"version\":%u,\"ip_version\":%u,\"proto\":%u,"
			   "\"ttl\":%u,\"tcp_flags\":%u,\"pkt_type\":%u,"
			   "\"reserved\":%u}",
			(unsigned long long)r->ts_ns, r->seq, r->ifindex,
			r->sport, r->dport, r->frame_len, r->ip_len,
			r->tcp_window, r->vlan, r->rx_queue, r->flags, r->ring,
			r->version, r->ip_version, r->proto, r->ttl,
			r->tcp_flags, r->pkt_type, r->reserved);
	}
	fprintf(f, "]\n");
	return fclose(f) ? -errno : 0;
}

/* docs/record.md gives a numpy dtype; read kernel-written records with it
 * and compare every field with the C struct's view of the same bytes. */
static void test_numpy_dtype_from_docs(void)
{
	const char *src = getenv("XPP_SRCDIR");
	char bin[] = "/tmp/xpp-dtype-XXXXXX", json[64], cmd[1024];
	const struct xpp_frame_meta meta = {
		.magic = XPP_FRAME_META_MAGIC, .wire_len = 100000,
		.ts_ns = 1700000000123456789ULL, .ifindex = 0x10203,
		.pkt_type = 4,
	};
	size_t size = sizeof(xt.recs[0]) * 2;
	__u32 verdict;
	struct pkt p;
	int fd = -1;

	if (!src) {
		tap_skip("XPP_SRCDIR not set (run through meson test)");
		return;
	}
	if (access("/usr/bin/python3", X_OK) ||
	    system("/usr/bin/python3 -c 'import numpy' 2>/dev/null")) {
		tap_skip("python3-numpy is not installed");
		return;
	}
	if (!xdp_reset())
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_8021Q);
	pkt_vlan(&p, 0x0fff, ETH_P_IP);
	pkt_ipv4(&p, V4A, V4B, IPPROTO_TCP, 17, 6, 0x2000);
	pkt_tcp(&p, 65535, 1, 0xff, 0xfffe);
	pkt_finish(&p);
	if (!xdp_run_pass(&p))
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, V6A, V6B, IPPROTO_ICMPV6, 200);
	pkt_icmp(&p, 135, 7);
	pkt_finish(&p);
	/* From a capture: a wire length beyond 16 bits, a packet type. */
	if (!ASSERT_OK(xdp_run_meta(&p, &meta, &verdict), "test run") ||
	    !ASSERT_EQ(xt.nrecs, 2, "records"))
		return;

	fd = mkstemp(bin);
	if (!ASSERT_GE(fd, 0, "mkstemp"))
		return;
	snprintf(json, sizeof(json), "%s.json", bin);
	if (!ASSERT_EQ(write(fd, xt.recs, size), size, "writing the records") ||
	    !ASSERT_OK(write_json(json, xt.recs, 2), "writing the JSON"))
		goto out;
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 %s/tests/bpf/check_dtype.py "
		 "%s/docs/record.md %s %s",
		 src, src, bin, json);
	ASSERT_EQ(system(cmd), 0, "check_dtype.py");
out:
	close(fd);
	unlink(bin);
	unlink(json);
}

/* ---- captures: struct xpp_frame_meta in front of the frame ------------------ */

/* 2023-11-14T22:13:20.123456789Z, from a capture file. */
#define CAPTURE_TS 1700000000123456789ULL

/* One TCP frame behind several metadata areas. */
static const struct meta_case {
	const char *name;
	struct xpp_frame_meta meta;
	bool live; /* the metadata is not ours: a live frame's record */
} meta_cases[] = {
	/* Timestamp, interface and packet type are the capture's. */
	{ "fields", { .magic = XPP_FRAME_META_MAGIC, .wire_len = 54,
		      .ts_ns = CAPTURE_TS, .ifindex = 7,
		      .pkt_type = 1 /* PACKET_BROADCAST */ } },
	/* A capture that does not say, and that names no interface. */
	{ "no_pkt_type", { .magic = XPP_FRAME_META_MAGIC, .wire_len = 54,
			   .ts_ns = 1, .pkt_type = XPP_FRAME_META_NO_PKT_TYPE } },
	/* A wire length below the bytes at hand is wrong: the bytes
	 * count. */
	{ "wire_len_below_bytes", { .magic = XPP_FRAME_META_MAGIC, .wire_len = 20,
				    .ts_ns = CAPTURE_TS } },
	/* Metadata that is not ours (another magic) is ignored. */
	{ "other_magic", { .magic = XPP_FRAME_META_MAGIC ^ 1, .wire_len = 100000,
			   .ts_ns = 1, .ifindex = 7 }, .live = true },
};

/* The frame is counted where it ran, with its length on the wire. */
static void test_meta_fields(void)
{
	const struct meta_case *mc;
	unsigned long long t0;
	__u32 verdict;
	struct pkt p;

	frame_ipv4_tcp(&p, 1, 2);
	for (mc = meta_cases; mc < meta_cases + ARRAY_SIZE(meta_cases); mc++) {
		struct want w = {
			.src = V4A, .dst = V4B, .ip_version = 4,
			.proto = IPPROTO_TCP, .ttl = 64, .sport = 1,
			.dport = 2, .ip_len = 40, .frame_len = 54,
			.tcp_flags = TCP_SYN, .tcp_window = 64240,
			.meta = mc->live ? NULL : &mc->meta,
		};

		if (!tap_subtest(mc->name) || !xdp_reset())
			continue;
		t0 = now_ns();
		verdict = ~0u;
		if (!ASSERT_OK(xdp_run_meta(&p, &mc->meta, &verdict),
			       "test run") ||
		    !ASSERT_EQ(verdict, XDP_PASS, "verdict") ||
		    !ASSERT_EQ(xt.nrecs, 1, "records") ||
		    !expect_record(&xt.recs[0], &w, t0))
			continue;
		expect_counters(&(struct xpp_counters){
			.packets = 1, .bytes = 54, .ipv4 = 1, .tcp = 1,
			.records = 1, .ts_capture = !mc->live });
	}
}

/* A 1514-byte frame taken with a snap length of 96: its length on the
 * wire, its IP length, ip_trunc, and the fields within the 96 bytes. */
static void test_meta_snap_length(void)
{
	const struct xpp_frame_meta meta = {
		.magic = XPP_FRAME_META_MAGIC, .wire_len = 1514, .ts_ns = CAPTURE_TS,
		.pkt_type = 0,
	};
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = IPPROTO_UDP,
		.ttl = 64, .sport = 53, .dport = 5353, .ip_len = 1500,
		.frame_len = 1514, .flags = XPP_F_IP_TRUNC, .meta = &meta,
	};
	struct xpp_counters c = {
		.packets = 1, .bytes = 1514, .ipv4 = 1, .udp = 1, .records = 1,
		.ts_capture = 1,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	pkt_frame_udp4(&p, V4A, V4B, 53, 5353, 1472);
	if (!ASSERT_EQ(p.len, 1514, "the whole frame"))
		return;
	p.len = 96;
	if (!expect_one_record(&p, &w))
		return;
	c.malformed[XPP_M_IP_TRUNC] = 1;
	expect_counters(&c);
}

/* IPv4 total length 0 in a 100 000-byte segmentation-offload capture,
 * of which the program has the first bytes: the IP length is the rest
 * of the wire length, and the bytes that are not there are flagged. */
static void test_meta_gso_total_length_zero(void)
{
	const struct xpp_frame_meta meta = {
		.magic = XPP_FRAME_META_MAGIC, .wire_len = 100000,
		.ts_ns = CAPTURE_TS, .pkt_type = 4 /* PACKET_OUTGOING */,
	};
	const struct want w = {
		.src = V4A, .dst = V4B, .ip_version = 4, .proto = IPPROTO_TCP,
		.ttl = 64, .sport = 443, .dport = 50000, .ip_len = 100000 - 14,
		.frame_len = 100000, .tcp_flags = TCP_SYN,
		.tcp_window = 64240, .flags = XPP_F_IP_TRUNC, .meta = &meta,
	};
	struct pkt p;

	if (!xdp_reset())
		return;
	frame_ipv4_tcp(&p, 443, 50000);
	pkt_payload(&p, 1400, 0x77);
	pkt_put16(&p, 16, 0);
	expect_one_record(&p, &w);
}

/*
 * Each frame's timestamp has one source, counted: live frames take the
 * kernel clock (CLOCK_MONOTONIC, between the calls around the run) and
 * are packets - ts_nic - ts_capture; frames behind a capture's metadata
 * count in ts_capture and keep its stamp; no frame counts as NIC-stamped
 * (the shared program never takes the NIC's stamp). Interleaved, so a
 * source cannot leak from one frame into the next.
 */
static void test_timestamp_sources(void)
{
	const struct xpp_frame_meta meta = {
		.magic = XPP_FRAME_META_MAGIC, .wire_len = 54,
		.ts_ns = CAPTURE_TS, .pkt_type = XPP_FRAME_META_NO_PKT_TYPE,
	};
	struct xpp_counters c;
	unsigned long long t0;
	int i, live = 0, capture = 0;
	__u32 verdict;
	struct pkt p;

	if (!xdp_reset())
		return;
	frame_ipv4_tcp(&p, 1, 2);
	for (i = 0; i < 7; i++) {
		bool from_capture = i % 3 == 1;

		t0 = now_ns();
		if (!ASSERT_OK(from_capture ? xdp_run_meta(&p, &meta, &verdict) :
					      xdp_run(&p, &verdict),
			       "test run") ||
		    !ASSERT_EQ(xt.nrecs, i + 1, "records"))
			return;
		if (from_capture) {
			ASSERT_EQ(xt.recs[i].ts_ns, CAPTURE_TS,
				  "ts_ns, the capture's");
			capture++;
		} else {
			ASSERT_GE(xt.recs[i].ts_ns, t0,
				  "ts_ns, CLOCK_MONOTONIC, after the run began");
			ASSERT_LE(xt.recs[i].ts_ns, now_ns(),
				  "ts_ns, CLOCK_MONOTONIC, before now");
			live++;
		}
	}
	c = (struct xpp_counters){
		.packets = 7, .bytes = 7 * 54, .ipv4 = 7, .tcp = 7,
		.records = 7, .ts_capture = capture,
	};
	if (!expect_counters(&c) || !ASSERT_OK(xdp_counters(&c), "counters"))
		return;
	ASSERT_EQ(c.ts_nic, 0, "ts_nic");
	ASSERT_EQ(c.packets - c.ts_nic - c.ts_capture, live,
		  "stamped by the kernel clock");
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

/* In the test's namespace, where xppt0 is up: a frame from its rx queue
 * 3. */
static void ifindex_queue_in_netns(void)
{
	struct xpp_counters c;
	struct xdp_md ctx = {};
	__u32 verdict = ~0u;
	int ifindex, err;
	struct pkt p;

	ifindex = if_nametoindex("xppt0");
	if (!ASSERT_GE(ifindex, 1, "xppt0's ifindex") ||
	    !ASSERT_OK(xpp_datapath__counters_init(xt.dp, ifindex),
		       "counters_init xppt0"))
		return;
	/* Native XDP on veth registers the rx queues test runs need. The
	 * peer stays down, so no other frame reaches xppt0. */
	err = bpf_xdp_attach(ifindex, xpp_datapath__prog_fd(xt.dp),
			     XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		tap_skip("native XDP on veth: %s", strerror(-err));
		return;
	}
	pkt_frame_udp4(&p, V4A, V4B, 9, 9, 0);
	ctx.data_end = p.len;
	ctx.ingress_ifindex = ifindex;
	ctx.rx_queue_index = 3;
	if (!ASSERT_OK(xdp_test_run(xpp_datapath__prog_fd(xt.dp), p.b, p.len,
				    &ctx, &verdict),
		       "test run") ||
	    !ASSERT_GE(xpp_reader__drain(xt.rd), 0, "drain") ||
	    !ASSERT_EQ(verdict, XDP_PASS, "verdict") ||
	    !ASSERT_EQ(xt.nrecs, 1, "records"))
		return;
	ASSERT_EQ(xt.recs[0].ifindex, ifindex, "ifindex");
	ASSERT_EQ(xt.recs[0].rx_queue, 3, "rx_queue");
	if (!ASSERT_OK(xpp_datapath__counters(xt.dp, ifindex, &c),
		       "counters xppt0"))
		return;
	ASSERT_EQ(c.packets, 1, "packets");
	ASSERT_EQ(c.records, 1, "records");
}

static void test_ifindex_and_rx_queue(void)
{
	char ns[64], path[128];
	int self, nsfd = -1;

	if (!xdp_reset())
		return;
	snprintf(ns, sizeof(ns), "xppt-%d", getpid());
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (!ASSERT_GE(self, 0, "open this network namespace"))
		return;
	if (sh("ip netns add %s && ip -n %s link add xppt0 numrxqueues 4 "
	       "type veth peer xppt1 numrxqueues 4 && ip -n %s link set xppt0 up",
	       ns, ns, ns)) {
		tap_skip("cannot create a veth pair in a network namespace");
		goto out;
	}
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (ASSERT_GE(nsfd, 0, "open the test's network namespace") &&
	    ASSERT_OK(setns(nsfd, CLONE_NEWNET) ? -errno : 0, "setns"))
		ifindex_queue_in_netns();
	/* Always back home and clean, whatever happened in there. */
	setns(self, CLONE_NEWNET);
	if (nsfd >= 0)
		close(nsfd);
out:
	close(self);
	sh("ip netns del %s 2>/dev/null", ns);
}

/* The widest text a record can take fits XPP_FORMAT_MAX, the buffer the
 * daemon's subscribers and xdpctl extract format into: every flag set,
 * IPv6 addresses of the longest text form, every number at its widest. */
static void test_text_fits_format_max(void)
{
	struct xpp_record r;
	char buf[XPP_FORMAT_MAX];
	int n;

	memset(&r, 0xff, sizeof(r));
	/* ffff:ffff:...:ffff is 39 bytes; 0:0:...:ffff:a.b.c.d forms are
	 * written as dotted quads, shorter. */
	r.version = XPP_RECORD_VERSION;
	r.ip_version = 6;
	n = xpp_format_text(&r, XPP_FMT_NDJSON, UINT64_MAX, buf, sizeof(buf));
	if (!ASSERT_GE(n, 600, "widest ndjson line"))
		return;
	ASSERT_LE(n, XPP_FORMAT_MAX - 1, "widest ndjson line");
	n = xpp_format_text(&r, XPP_FMT_CSV, UINT64_MAX, buf, sizeof(buf));
	if (!ASSERT_GE(n, 300, "widest csv line"))
		return;
	ASSERT_LE(n, XPP_FORMAT_MAX - 1, "widest csv line");
}

TAP_GROUP(xdp_record_tests,
	  TAP_CASE(test_text_fits_format_max),
	  TAP_CASE(test_numpy_dtype_from_docs),
	  TAP_CASE(test_meta_fields),
	  TAP_CASE(test_meta_snap_length),
	  TAP_CASE(test_meta_gso_total_length_zero),
	  TAP_CASE(test_timestamp_sources),
	  TAP_CASE(test_ifindex_and_rx_queue));
