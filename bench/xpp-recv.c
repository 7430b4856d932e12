// SPDX-License-Identifier: GPL-2.0-only
/*
 * xpp-recv: the receiving side of one benchmark variant, pinned to the
 * receive core. Every variant turns each frame into the same feature
 * record (struct xpp_record) in user space and hands it to the same sink,
 * which counts it and measures its latency from the kernel's timestamp.
 *
 *   drop           XDP_DROP at the hook (counting arrivals): the ceiling
 *   touch-drop     the headers read at the hook, then XDP_DROP: the
 *                  ceiling of any parser (bench/hook.bpf.c)
 *   touch-ts-drop  the same plus bpf_ktime_get_ns() per frame
 *   tpacket        AF_PACKET TPACKET_V3 ring, records built from the frames
 *   recvmmsg       a UDP socket read with recvmmsg(), records built from
 *                  the datagrams and their control messages
 *   sub            a binary subscription to a running xdp-preprocd
 *   flows          a binary flow subscription to a running xdp-preprocd
 *                  with flows = on: delivered counts the packets in the
 *                  flows that come (no latency: a flow is delivered when
 *                  it ends)
 *
 * For the drops, tpacket and recvmmsg a counting XDP program is attached
 * to the interface, so each variant has an arrival count at the same hook
 * (xdp-preprocd counts its own). Runs until SIGTERM or SIGINT, printing
 * {"ready":true} once receiving and one JSON object of results at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "latency.h"
#include "xpp/record.h"
#include "xpp/flow.h"
#include "xpp/stream.h"
#include "hook.h"
#include "xpp_hook.skel.h"

#ifndef UDP_NO_CHECK6_RX
#define UDP_NO_CHECK6_RX 102
#endif
#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif

#define BATCH 64

static volatile sig_atomic_t stop;

/* The sink every variant delivers its records to. */
static struct {
	uint64_t records;
	uint64_t lost;	/* dropped after the hook, as the variant reports */
	uint64_t sum;	/* keeps the record fields live */
	struct latency lat;
} sink;

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static __attribute__((noinline)) void deliver(const struct xpp_record *r,
					      uint64_t now)
{
	sink.records++;
	sink.sum += r->sport + r->dport + r->frame_len + r->proto +
		    r->saddr[15] + r->daddr[15];
	latency_add(&sink.lat, now > r->ts_ns ? now - r->ts_ns : 0);
}

static void on_signal(int sig)
{
	stop = 1;
}

/* Fields of an Ethernet frame, as the XDP program reads them (without
 * its IPv6 extension walk and malformation checks: a lighter parser than
 * ours, which favours the baseline). */
static void record_from_frame(struct xpp_record *r, const uint8_t *f,
			      unsigned int len)
{
	unsigned int off = 14, l4 = 0;
	uint16_t type;

	memset(r->saddr, 0, 32);
	r->frame_len = len;
	r->ip_version = 0;
	if (len < 14)
		return;
	type = f[12] << 8 | f[13];
	while ((type == ETH_P_8021Q || type == ETH_P_8021AD) &&
	       off + 4 <= len) {
		if (!r->vlan)
			r->vlan = (f[off] << 8 | f[off + 1]) & 0xfff;
		type = f[off + 2] << 8 | f[off + 3];
		off += 4;
	}
	if (type == ETH_P_IP && off + 20 <= len) {
		r->ip_version = 4;
		r->ip_len = f[off + 2] << 8 | f[off + 3];
		r->ttl = f[off + 8];
		r->proto = f[off + 9];
		r->saddr[10] = r->saddr[11] = 0xff;
		r->daddr[10] = r->daddr[11] = 0xff;
		memcpy(r->saddr + 12, f + off + 12, 4);
		memcpy(r->daddr + 12, f + off + 16, 4);
		l4 = off + (f[off] & 15) * 4;
	} else if (type == ETH_P_IPV6 && off + 40 <= len) {
		r->ip_version = 6;
		r->ip_len = f[off + 4] << 8 | f[off + 5];
		r->proto = f[off + 6];
		r->ttl = f[off + 7];
		memcpy(r->saddr, f + off + 8, 16);
		memcpy(r->daddr, f + off + 24, 16);
		l4 = off + 40;
	}
	if (l4 && l4 + 4 <= len) {
		r->sport = f[l4] << 8 | f[l4 + 1];
		r->dport = f[l4 + 2] << 8 | f[l4 + 3];
		if (r->proto == IPPROTO_TCP && l4 + 16 <= len) {
			r->tcp_flags = f[l4 + 13];
			r->tcp_window = f[l4 + 14] << 8 | f[l4 + 15];
		}
	}
}

static int run_tpacket(int ifindex)
{
	struct tpacket_req3 req = {
		.tp_block_size = 1 << 20,
		.tp_block_nr = 64,
		.tp_frame_size = 2048,
		.tp_frame_nr = (1 << 20) / 2048 * 64,
		.tp_retire_blk_tov = 1, /* ms: a block is handed over then */
	};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex,
	};
	struct tpacket_stats_v3 st;
	socklen_t sl = sizeof(st);
	int fd, v = TPACKET_V3, one = 1;
	unsigned int b = 0;
	uint8_t *ring;

	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
		       sizeof(one))) {
		fprintf(stderr, "xpp-recv: TPACKET_V3 socket: %s\n",
			strerror(errno));
		return -1;
	}
	ring = mmap(NULL, (size_t)req.tp_block_size * req.tp_block_nr,
		    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd, 0);
	if (ring == MAP_FAILED ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "xpp-recv: TPACKET_V3 ring: %s\n",
			strerror(errno));
		return -1;
	}
	printf("{\"ready\":true}\n");
	fflush(stdout);
	while (!stop) {
		struct tpacket_block_desc *bd = (void *)(ring +
					(size_t)b * req.tp_block_size);
		struct tpacket3_hdr *h;
		struct xpp_record r;
		uint64_t now;
		unsigned int i;

		if (!(__atomic_load_n(&bd->hdr.bh1.block_status,
				      __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			poll(&p, 1, 100);
			continue;
		}
		now = clock_ns(CLOCK_REALTIME);
		h = (void *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
		for (i = 0; i < bd->hdr.bh1.num_pkts; i++) {
			memset(&r, 0, sizeof(r));
			record_from_frame(&r, (uint8_t *)h + h->tp_mac,
					  h->tp_snaplen);
			r.ts_ns = h->tp_sec * 1000000000ULL + h->tp_nsec;
			r.ifindex = ifindex;
			r.frame_len = h->tp_len;
			r.version = XPP_RECORD_VERSION;
			r.pkt_type = XPP_PKT_TYPE_NONE; /* as live XDP */
			deliver(&r, now);
			h = (void *)((uint8_t *)h + h->tp_next_offset);
		}
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
		b = (b + 1) % req.tp_block_nr;
	}
	if (!getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl))
		sink.lost += st.tp_drops;
	return 0;
}

static int run_recvmmsg(int v6)
{
	static uint8_t bufs[BATCH][2048];
	static uint8_t ctl[BATCH][256];
	static struct sockaddr_in6 from[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int fd, one = 1, size = 64 << 20, i, n;
	uint32_t ovfl = 0;

	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)))
		goto fail;
	if (v6) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6,
					  .sin6_port = htons(9) };

		if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
			       sizeof(one)) ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one,
			       sizeof(one)) ||
		    setsockopt(fd, IPPROTO_UDP, UDP_NO_CHECK6_RX, &one,
			       sizeof(one)) ||
		    bind(fd, (struct sockaddr *)&a, sizeof(a)))
			goto fail;
	} else {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = htons(9) };

		if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) ||
		    setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one)) ||
		    bind(fd, (struct sockaddr *)&a, sizeof(a)))
			goto fail;
	}
	printf("{\"ready\":true}\n");
	fflush(stdout);
	while (!stop) {
		uint64_t now;

		for (i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
			msgs[i].msg_hdr = (struct msghdr){
				.msg_name = &from[i],
				.msg_namelen = sizeof(from[i]),
				.msg_iov = &iov[i], .msg_iovlen = 1,
				.msg_control = ctl[i],
				.msg_controllen = sizeof(ctl[i]),
			};
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		now = clock_ns(CLOCK_REALTIME);
		for (i = 0; i < n; i++) {
			struct msghdr *m = &msgs[i].msg_hdr;
			struct xpp_record r = {
				.version = XPP_RECORD_VERSION,
				.pkt_type = XPP_PKT_TYPE_NONE,
			};
			unsigned int payload = msgs[i].msg_len;
			struct cmsghdr *c;

			r.proto = IPPROTO_UDP;
			r.dport = 9;
			r.ip_version = v6 ? 6 : 4;
			r.ip_len = v6 ? payload + 8 : payload + 28;
			r.frame_len = r.ip_len + (v6 ? 54 : 14);
			if (v6) {
				memcpy(r.saddr, &from[i].sin6_addr, 16);
				r.sport = ntohs(from[i].sin6_port);
			} else {
				struct sockaddr_in *s = (void *)&from[i];

				r.saddr[10] = r.saddr[11] = 0xff;
				memcpy(r.saddr + 12, &s->sin_addr, 4);
				r.sport = ntohs(s->sin_port);
			}
			for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
				if (c->cmsg_level == SOL_SOCKET &&
				    c->cmsg_type == SO_TIMESTAMPNS) {
					struct timespec ts;

					memcpy(&ts, CMSG_DATA(c), sizeof(ts));
					r.ts_ns = ts.tv_sec * 1000000000ULL +
						  ts.tv_nsec;
				} else if (c->cmsg_level == SOL_SOCKET &&
					   c->cmsg_type == SO_RXQ_OVFL) {
					memcpy(&ovfl, CMSG_DATA(c), 4);
				} else if (c->cmsg_type == IP_PKTINFO &&
					   c->cmsg_level == IPPROTO_IP) {
					struct in_pktinfo pi;

					memcpy(&pi, CMSG_DATA(c), sizeof(pi));
					r.ifindex = pi.ipi_ifindex;
					r.daddr[10] = r.daddr[11] = 0xff;
					memcpy(r.daddr + 12, &pi.ipi_addr, 4);
				} else if (c->cmsg_type == IPV6_PKTINFO &&
					   c->cmsg_level == IPPROTO_IPV6) {
					struct in6_pktinfo pi;

					memcpy(&pi, CMSG_DATA(c), sizeof(pi));
					r.ifindex = pi.ipi6_ifindex;
					memcpy(r.daddr, &pi.ipi6_addr, 16);
				} else if ((c->cmsg_level == IPPROTO_IP &&
					    c->cmsg_type == IP_TTL) ||
					   (c->cmsg_level == IPPROTO_IPV6 &&
					    c->cmsg_type == IPV6_HOPLIMIT)) {
					int ttl;

					memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
					r.ttl = ttl;
				}
			}
			deliver(&r, now);
		}
	}
	sink.lost += ovfl;
	return 0;
fail:
	fprintf(stderr, "xpp-recv: UDP socket: %s\n", strerror(errno));
	return -1;
}

/* Flow records of a flow stream: their packets count as delivered. */
static size_t take_flows(const uint8_t *buf, size_t have)
{
	size_t off;

	for (off = 0; off + sizeof(struct xpp_flow_record) <= have;
	     off += sizeof(struct xpp_flow_record)) {
		struct xpp_flow_record f;

		memcpy(&f, buf + off, sizeof(f));
		if (!f.version)
			sink.lost += f.flow.bidir.packets; /* loss marker */
		else
			sink.records += f.flow.bidir.packets;
	}
	return off;
}

static int run_sub(const char *path, bool flows)
{
	const char *req = flows ? "{\"cmd\":\"subscribe\",\"kind\":\"flows\","
				  "\"format\":\"binary\"}\n" :
				  "{\"cmd\":\"subscribe\",\"format\":\"binary\"}\n";
	const size_t size = flows ? sizeof(struct xpp_flow_record) :
				    sizeof(struct xpp_record);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct xpp_stream_header hdr;
	size_t have = 0, cap = 4 << 20, got_hdr = 0;
	uint8_t *buf = malloc(cap);
	char line[512];
	size_t ll = 0;
	int fd;

	if (!buf || strlen(path) >= sizeof(a.sun_path))
		return -1;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		fprintf(stderr, "xpp-recv: daemon socket %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	/* The reply line, byte by byte: the stream follows it at once. */
	while (ll < sizeof(line) - 1) {
		if (read(fd, line + ll, 1) != 1)
			goto eof;
		if (line[ll++] == '\n')
			break;
	}
	line[ll] = '\0';
	if (!strstr(line, "\"ok\":true")) {
		fprintf(stderr, "xpp-recv: subscribe refused: %s", line);
		return -1;
	}
	printf("{\"ready\":true}\n");
	fflush(stdout);
	while (!stop) {
		ssize_t n = read(fd, buf + have, cap - have);
		uint64_t now = clock_ns(CLOCK_MONOTONIC);
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto eof;
		have += n;
		if (!got_hdr) {
			if (have < sizeof(hdr))
				continue;
			memcpy(&hdr, buf, sizeof(hdr));
			if (hdr.magic != XPP_STREAM_MAGIC ||
			    hdr.record_size != size ||
			    !(hdr.flags & XPP_STREAM_F_FLOWS) != !flows) {
				fprintf(stderr, "xpp-recv: not a %s stream\n",
					flows ? "flow" : "record");
				return -1;
			}
			off = got_hdr = sizeof(hdr);
		}
		if (flows)
			off += take_flows(buf + off, have - off);
		for (; !flows && off + sizeof(struct xpp_record) <= have;
		     off += sizeof(struct xpp_record)) {
			const struct xpp_record *r = (void *)(buf + off);

			if (!r->version)
				sink.lost += r->ts_ns; /* loss marker */
			else
				deliver(r, now);
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	free(buf);
	return 0;
eof:
	fprintf(stderr, "xpp-recv: the daemon closed the stream\n");
	free(buf);
	return -1;
}

static void usage(FILE *out)
{
	fprintf(out,
"Usage: xpp-recv --mode MODE --dev DEV [options]\n"
"The receiving side of a benchmark variant; prints JSON results on\n"
"SIGTERM or SIGINT.\n"
"  --mode M       drop, touch-drop, touch-ts-drop, tpacket, recvmmsg, sub\n"
"                 or flows (bench/xpp-recv.c)\n"
"  --dev DEV      receiving interface (in this network namespace)\n"
"  --ipv6         recvmmsg: an IPv6 socket\n"
"  --socket PATH  sub, flows: the daemon's control socket\n"
"  --cpu N        pin to CPU N\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "dev", required_argument, NULL, 'd' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "socket", required_argument, NULL, 's' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *mode = NULL, *dev = NULL, *sock = NULL;
	bool sub, drop;
	struct xpp_hook_bpf *hook = NULL;
	struct bpf_program *prog;
	uint64_t arrivals = 0;
	int c, v6 = 0, cpu = -1, ifindex, err;
	struct sigaction sa = { .sa_handler = on_signal };

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			mode = optarg;
			break;
		case 'd':
			dev = optarg;
			break;
		case '6':
			v6 = 1;
			break;
		case 's':
			sock = optarg;
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	sub = mode && (!strcmp(mode, "sub") || !strcmp(mode, "flows"));
	if (!mode || !dev || (sub && !sock)) {
		usage(stderr);
		return 2;
	}
	ifindex = if_nametoindex(dev);
	if (!ifindex) {
		fprintf(stderr, "xpp-recv: interface %s: %s\n", dev,
			strerror(errno));
		return 1;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "xpp-recv: CPU %d: %s\n", cpu,
				strerror(errno));
			return 1;
		}
	}
	/* No SA_RESTART: a blocking read returns to see the flag. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	drop = !strcmp(mode, "drop") || !strcmp(mode, "touch-drop") ||
	       !strcmp(mode, "touch-ts-drop");
	if (!sub) {
		hook = xpp_hook_bpf__open();
		if (!hook)
			return 1;
		hook->rodata->verdict = drop ? XDP_DROP : XDP_PASS;
		prog = hook->progs.xpp_hook;
		if (!strcmp(mode, "touch-drop"))
			prog = hook->progs.xpp_touch_drop;
		else if (!strcmp(mode, "touch-ts-drop"))
			prog = hook->progs.xpp_touch_ts_drop;
		if (xpp_hook_bpf__load(hook) ||
		    bpf_xdp_attach(ifindex, bpf_program__fd(prog),
				   XDP_FLAGS_DRV_MODE, NULL)) {
			fprintf(stderr, "xpp-recv: attaching to %s: %s\n", dev,
				strerror(errno));
			return 1;
		}
	}
	if (drop) {
		printf("{\"ready\":true}\n");
		fflush(stdout);
		while (!stop)
			pause();
		err = 0;
	} else if (!strcmp(mode, "tpacket")) {
		err = run_tpacket(ifindex);
	} else if (!strcmp(mode, "recvmmsg")) {
		err = run_recvmmsg(v6);
	} else if (sub) {
		err = run_sub(sock, !strcmp(mode, "flows"));
	} else {
		fprintf(stderr, "xpp-recv: unknown mode %s\n", mode);
		err = -1;
	}
	if (hook) {
		int ncpu = libbpf_num_possible_cpus(), i;
		struct xpp_hook_count v[ncpu > 0 ? ncpu : 1];
		__u32 zero = 0;

		if (ncpu > 0 && !bpf_map__lookup_elem(hook->maps.arrivals,
				&zero, sizeof(zero), v, sizeof(v), 0))
			for (i = 0; i < ncpu; i++) {
				arrivals += v[i].packets;
				sink.sum += v[i].sum;
			}
		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
		xpp_hook_bpf__destroy(hook);
	}
	printf("{\"mode\":\"%s\",\"arrivals\":%llu,\"delivered\":%llu,"
	       "\"lost_after_hook\":%llu,\"latency_ns\":{\"count\":%llu,"
	       "\"p50\":%llu,\"p99\":%llu,\"p999\":%llu,\"max\":%llu},"
	       "\"sum\":%llu,\"ok\":%s}\n",
	       mode, (unsigned long long)arrivals,
	       (unsigned long long)sink.records,
	       (unsigned long long)sink.lost,
	       (unsigned long long)sink.lat.count,
	       (unsigned long long)latency_quantile_max(&sink.lat, 0.5),
	       (unsigned long long)latency_quantile_max(&sink.lat, 0.99),
	       (unsigned long long)latency_quantile_max(&sink.lat, 0.999),
	       (unsigned long long)sink.lat.max_ns,
	       (unsigned long long)sink.sum, err ? "false" : "true");
	return err ? 1 : 0;
}
