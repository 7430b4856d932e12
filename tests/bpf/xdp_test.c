// SPDX-License-Identifier: GPL-2.0-only
/*
 * The XDP program in the real kernel: crafted frames through
 * BPF_PROG_TEST_RUN, then the verdict, every field of every record read
 * back from the ring, and every counter. This file loads the program,
 * runs frames and checks records and counters; the cases are in
 * test_*.c, one file per area.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/if_ether.h>

#include "log.h"
#include "names.h"
#include "util.h"
#include "xdp_test.h"

struct xdp_test xt;

int xdp_collect(void *ctx, const struct xpp_record *r)
{
	if (xt.nrecs < MAX_RECS)
		xt.recs[xt.nrecs++] = *r;
	return 0;
}

unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

bool xdp_reset(void)
{
	struct xpp_config cfg;

	xpp_config_init(&cfg);
	if (!ASSERT_OK(xpp_datapath__config_set(xt.dp, &cfg), "config_set") ||
	    !ASSERT_OK(xpp_datapath__counters_clear(xt.dp), "counters_clear") ||
	    !ASSERT_OK(xpp_datapath__counters_init(xt.dp, 1 /* lo */),
		       "counters_init lo") ||
	    !ASSERT_GE(xpp_reader__drain(xt.rd), 0, "drain"))
		return false;
	xt.nrecs = 0;
	return true;
}

int xdp_test_run(int prog_fd, const uint8_t *frame, size_t len,
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

int xdp_run(const struct pkt *p, __u32 *ret_verdict)
{
	int err;

	err = xdp_test_run(xpp_datapath__prog_fd(xt.dp), p->b, p->len, NULL,
			   ret_verdict);
	if (err)
		return err;
	err = xpp_reader__drain(xt.rd);
	return err < 0 ? err : 0;
}

bool xdp_run_verdict(const struct pkt *p, __u32 want)
{
	__u32 verdict = ~0u;

	return ASSERT_OK(xdp_run(p, &verdict), "test run") &&
	       ASSERT_EQ(verdict, want, "verdict");
}

bool xdp_run_pass(const struct pkt *p)
{
	return xdp_run_verdict(p, XDP_PASS);
}

int xdp_run_meta(const struct pkt *p, const struct xpp_frame_meta *m,
		 __u32 *ret_verdict)
{
	uint8_t buf[sizeof(*m) + PKT_MAX];
	struct xdp_md ctx = {
		.data = sizeof(*m),
		.data_end = sizeof(*m) + p->len,
	};
	int err;

	memcpy(buf, m, sizeof(*m));
	memcpy(buf + sizeof(*m), p->b, p->len);
	err = xdp_test_run(xpp_datapath__prog_fd(xt.dp), buf,
			   sizeof(*m) + p->len, &ctx, ret_verdict);
	if (err)
		return err;
	err = xpp_reader__drain(xt.rd);
	return err < 0 ? err : 0;
}

int xdp_run_undrained(const struct pkt *p, int n)
{
	__u32 verdict;
	int i, err;

	for (i = 0; i < n; i++) {
		err = xdp_test_run(xpp_datapath__prog_fd(xt.dp), p->b, p->len,
				   NULL, &verdict);
		if (err)
			return err;
	}
	return 0;
}

int xdp_counters(struct xpp_counters *ret)
{
	int err = xpp_datapath__counters(xt.dp, 1 /* lo */, ret);

	/* No entry yet: the program has not seen a frame on lo. */
	if (err == -ENOENT) {
		memset(ret, 0, sizeof(*ret));
		return 0;
	}
	return err;
}

bool expect_counters(const struct xpp_counters *want)
{
	struct xpp_counters got;
	char name[64];
	bool ok = true;
	size_t i;

	if (!ASSERT_OK(xdp_counters(&got), "counters"))
		return false;
	for (i = 0; i < xpp_counter_fields_n; i++) {
		const struct xpp_counter_field *f = &xpp_counter_fields[i];

		snprintf(name, sizeof(name), "counter %s", f->name);
		ok &= ASSERT_EQ(xpp_counter_get(&got, f),
				xpp_counter_get(want, f), name);
	}
	for (i = 0; i < XPP_M_MAX; i++) {
		snprintf(name, sizeof(name), "malformed.%s",
			 xpp_malformed_names[i]);
		ok &= ASSERT_EQ(got.malformed[i], want->malformed[i], name);
	}
	/* The invariants every consumer relies on (docs/datapath.md). */
	ok &= ASSERT_EQ(got.packets,
			got.records + got.records_lost + got.records_skipped +
				got.not_ip,
			"packets = records + lost + skipped + not IP");
	ok &= ASSERT_EQ(got.ipv4 + got.ipv6,
			got.records + got.records_lost + got.records_skipped,
			"ipv4 + ipv6 = records + lost + skipped");
	ok &= ASSERT_EQ(got.tcp + got.udp + got.icmp + got.other,
			got.ipv4 + got.ipv6,
			"tcp + udp + icmp + other = ipv4 + ipv6");
	ok &= ASSERT_LE(got.ts_nic + got.ts_capture, got.packets,
			"ts_nic + ts_capture <= packets");
	return ok;
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

bool expect_record(const struct xpp_record *r, const struct want *w,
		   unsigned long long t0)
{
	uint8_t saddr[16], daddr[16];
	bool ok = true;

	addr_mapped(saddr, w->src);
	addr_mapped(daddr, w->dst);
	ok &= ASSERT_EQ(r->version, XPP_RECORD_VERSION, "version");
	if (w->meta) {
		ok &= ASSERT_EQ(r->ts_ns, w->meta->ts_ns, "ts_ns, the meta's");
		ok &= ASSERT_EQ(r->ifindex, w->meta->ifindex,
				"ifindex, the meta's");
		ok &= ASSERT_EQ(r->pkt_type,
				w->meta->pkt_type < XPP_PKT_TYPE_NONE ?
					w->meta->pkt_type :
					XPP_PKT_TYPE_NONE,
				"pkt_type, the meta's");
	} else {
		ok &= ASSERT_GE(r->ts_ns, t0, "ts_ns, from the start of the run");
		ok &= ASSERT_LE(r->ts_ns, now_ns(), "ts_ns, before now");
		ok &= ASSERT_EQ(r->ifindex, 1, "ifindex");
		ok &= ASSERT_EQ(r->pkt_type, XPP_PKT_TYPE_NONE, "pkt_type");
	}
	ok &= ASSERT_EQ(r->rx_queue, 0, "rx_queue");
	ok &= ASSERT_EQ(r->ring, xt.cpu, "ring");
	ok &= ASSERT_EQ(r->ip_version, w->ip_version, "ip_version");
	ok &= ASSERT_EQ(r->proto, w->proto, "proto");
	ok &= ASSERT_MEMEQ(r->saddr, saddr, 16, "saddr");
	ok &= ASSERT_MEMEQ(r->daddr, daddr, 16, "daddr");
	ok &= ASSERT_EQ(r->sport, w->sport, "sport");
	ok &= ASSERT_EQ(r->dport, w->dport, "dport");
	ok &= ASSERT_EQ(r->frame_len, w->frame_len, "frame_len");
	ok &= ASSERT_EQ(r->ip_len, w->ip_len, "ip_len");
	ok &= ASSERT_EQ(r->ttl, w->ttl, "ttl");
	ok &= ASSERT_EQ(r->tcp_flags, w->tcp_flags, "tcp_flags");
	ok &= ASSERT_EQ(r->tcp_window, w->tcp_window, "tcp_window");
	ok &= ASSERT_EQ(r->vlan, w->vlan, "vlan");
	ok &= ASSERT_EQ(r->flags, w->flags, "flags");
	ok &= ASSERT_EQ(r->reserved, 0, "reserved");
	return ok;
}

bool expect_one_record(const struct pkt *p, const struct want *w)
{
	unsigned long long t0 = now_ns();
	__u32 verdict = ~0u;
	bool ran;

	if (w->meta)
		ran = ASSERT_OK(xdp_run_meta(p, w->meta, &verdict),
				"test run") &&
		      ASSERT_EQ(verdict, XDP_PASS, "verdict");
	else
		ran = xdp_run_pass(p);
	return ran && ASSERT_EQ(xt.nrecs, 1, "records") &&
	       expect_record(&xt.recs[0], w, t0);
}

bool xdp_refused_runt(const struct pkt *p, int err)
{
	return p->len < ETH_HLEN && err == -EINVAL;
}

bool expect_refused(void)
{
	return ASSERT_EQ(xt.nrecs, 0, "records of a refused frame") &&
	       expect_counters(&(struct xpp_counters){ 0 });
}

bool expect_no_record(const struct pkt *p, int kind, int vlan)
{
	struct xpp_counters want = {
		.packets = 1, .bytes = p->len, .not_ip = 1, .vlan = vlan,
	};
	__u32 verdict = ~0u;
	int err;

	if (kind >= 0)
		want.malformed[kind] = 1;
	err = xdp_run(p, &verdict);
	if (xdp_refused_runt(p, err))
		return expect_refused();
	return ASSERT_OK(err, "test run") &&
	       ASSERT_EQ(verdict, XDP_PASS, "verdict") &&
	       ASSERT_EQ(xt.nrecs, 0, "records") && expect_counters(&want);
}

void frame_ipv4_tcp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_IP);
	pkt_ipv4(p, V4A, V4B, IPPROTO_TCP, 64, 5, 0);
	pkt_tcp(p, sport, dport, TCP_SYN, 64240);
	pkt_finish(p);
}

void frame_ipv4_frag(struct pkt *p, uint16_t frag)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_IP);
	pkt_ipv4(p, V4A, V4B, IPPROTO_UDP, 64, 5, frag);
	pkt_udp(p, 4444, 5555); /* in a later fragment: just payload */
	pkt_payload(p, 16, 0);
	pkt_finish(p);
}

static const struct tap_group *const groups[] = {
	&xdp_l2_tests,	       &xdp_ipv4_tests,	  &xdp_ipv6_tests,
	&xdp_l4_tests,	       &xdp_malformed_tests, &xdp_config_tests,
	&xdp_ring_tests,       &xdp_record_tests,	  &xdp_encap_tests,
	&xdp_flow_tests,
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
	xt.cpu = sched_getcpu();
	CPU_ZERO(&set);
	CPU_SET(xt.cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		perror("sched_setaffinity");
		return 1;
	}
	xt.dp = xpp_datapath__open(NULL);
	if (!xt.dp) {
		printf("Bail out! loading the XDP program: %s\n",
		       strerror(errno));
		return 1;
	}
	xt.rd = xpp_reader__new(xt.dp, xdp_collect, NULL);
	if (!xt.rd) {
		printf("Bail out! ring reader: %s\n", strerror(errno));
		xpp_datapath__destroy(xt.dp);
		return 1;
	}
	ret = tap_main(groups, ARRAY_SIZE(groups), argc, argv);
	xpp_reader__free(xt.rd);
	xpp_datapath__destroy(xt.dp);
	return ret;
}
