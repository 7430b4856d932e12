// SPDX-License-Identifier: GPL-2.0-only
/*
 * xpp-gen: the benchmark's traffic generator. One thread per CPU given,
 * each pinned to its CPU, each calling BPF_PROG_RUN in live-frames mode
 * on the program in gen.bpf.c, which paces and redirects the template
 * frame out of the interface given (a veth: the frames arrive at its
 * peer's XDP hook as received frames). Run it inside the network
 * namespace of that interface. Prints one JSON object when done.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>

#include "gen.h"
#include "pkt.h"
#include "xpp_gen.skel.h"

/* Runs per BPF_PROG_RUN call: each call costs ~24 ms of set-up here, a
 * gap in the traffic, so there is one long call per worker; the main
 * thread ends it with a signal (the kernel checks for one between
 * batches). */
#define GEN_REPEAT 0xffffffffu

static const unsigned int imix[XPP_GEN_SLOTS] = {
	64, 590, 64, 64, 590, 64, 1514, 64, 590, 64, 590, 64,
};

struct worker {
	pthread_t tid;
	int cpu;
	int err;
};

static struct xpp_gen_bpf *skel;
/* Frames per batch of a BPF_PROG_RUN: the kernel sends a batch's frames
 * together when it ends, so a paced batch must span little time or the
 * frames leave in bursts (at 100 pps, 64 frames every 0.64 s) and the
 * receiver's latency is the burst's, not the path's. */
static unsigned int batch_size = 64;
static struct pkt frame;
static volatile sig_atomic_t stop;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void on_signal(int sig)
{
	stop = 1;
}

static void on_wake(int sig)
{
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct xdp_md ctx_in = {
		.data_end = frame.len,
	};
	LIBBPF_OPTS(bpf_test_run_opts, o,
		    .data_in = frame.b,
		    .data_size_in = frame.len,
		    .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in),
		    .repeat = GEN_REPEAT,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		    .batch_size = batch_size);
	int fd = bpf_program__fd(skel->progs.xpp_gen);
	struct xpp_gen_ctl *c = &skel->bss->ctl[w->cpu];
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set)) {
		w->err = EINVAL;
		return NULL;
	}
	while (!stop && mono_ns() < c->deadline_ns &&
	       skel->bss->state[w->cpu].sent < c->limit) {
		if (bpf_prog_test_run_opts(fd, &o) < 0 && errno != EINTR &&
		    errno != EAGAIN) {
			w->err = errno;
			break;
		}
	}
	return NULL;
}

static int parse_cpus(const char *s, int *cpus, int max)
{
	int n = 0;
	char *end;

	while (*s && n < max) {
		long v = strtol(s, &end, 10);

		if (end == s || v < 0 || v >= XPP_GEN_MAX_CPUS)
			return -1;
		cpus[n++] = v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return *s ? -1 : n;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		      &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -1;
}

static uint16_t ipv4_csum(const uint8_t *h)
{
	uint32_t sum = 0;
	int i;

	for (i = 0; i < 20; i += 2)
		if (i != 10)
			sum += h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

static void usage(FILE *out)
{
	fprintf(out,
"Usage: xpp-gen --dev DEV --dst-mac MAC [options]\n"
"Sends UDP frames out of DEV (in this network namespace) with XDP live\n"
"frames, paced inside BPF, until the time or the frame count is reached.\n"
"  --dev DEV        interface to send on (a veth; frames reach its peer)\n"
"  --dst-mac MAC    destination MAC (the receiving interface's)\n"
"  --src-mac MAC    source MAC (default 02:00:00:00:00:01)\n"
"  --ipv6           IPv6 (2001:2::1 -> 2001:2::2) instead of IPv4\n"
"                   (198.18.0.1 -> 198.18.0.2), UDP 1024 -> 9\n"
"  --size N|imix    frame length without FCS, 64..1514 (default 64), or\n"
"                   the IMIX mix 64:590:1514 in the ratio 7:4:1\n"
"  --rate PPS       frames per second in all, 0 = as fast as possible\n"
"  --seconds S      how long to send (default 5, max 3600)\n"
"  --packets N      stop after N frames in all (default: no limit)\n"
"  --cpus LIST      CPUs to send from, e.g. 0 or 0,1 (default 0)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "dst-mac", required_argument, NULL, 'm' },
		{ "src-mac", required_argument, NULL, 'M' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "size", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 't' },
		{ "packets", required_argument, NULL, 'n' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	uint8_t dmac[6], smac[6] = { 2, 0, 0, 0, 0, 1 };
	const char *dev = NULL, *size_arg = "64";
	double rate = 0, seconds = 5;
	unsigned long long packets = ~0ULL;
	int cpus[XPP_GEN_MAX_CPUS] = { 0 }, ncpu = 1, v6 = 0, have_dmac = 0;
	unsigned int sizes[XPP_GEN_SLOTS], max_size = 0, i;
	struct worker w[XPP_GEN_MAX_CPUS];
	uint64_t t0, sent = 0, bytes = 0, errors = 0, first = ~0ULL, last = 0;
	int ifindex, c, idx = 0, err = 0;
	char *end;

	while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		switch (c) {
		case 'd':
			dev = optarg;
			break;
		case 'm':
			if (parse_mac(optarg, dmac))
				goto bad;
			have_dmac = 1;
			break;
		case 'M':
			if (parse_mac(optarg, smac))
				goto bad;
			break;
		case '6':
			v6 = 1;
			break;
		case 's':
			size_arg = optarg;
			break;
		case 'r':
			rate = strtod(optarg, &end);
			if (*end || rate < 0 || rate > 1e9)
				goto bad;
			break;
		case 't':
			seconds = strtod(optarg, &end);
			if (*end || seconds <= 0 || seconds > 3600)
				goto bad;
			break;
		case 'n':
			packets = strtoull(optarg, &end, 10);
			if (*end || !packets)
				goto bad;
			break;
		case 'c':
			ncpu = parse_cpus(optarg, cpus, XPP_GEN_MAX_CPUS);
			if (ncpu < 1)
				goto bad;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!dev || !have_dmac || optind != argc) {
		fprintf(stderr, "xpp-gen: --dev and --dst-mac are required\n");
		usage(stderr);
		return 2;
	}
	for (i = 0; i < XPP_GEN_SLOTS; i++) {
		if (!strcmp(size_arg, "imix")) {
			sizes[i] = imix[i];
		} else {
			sizes[i] = strtoul(size_arg, &end, 10);
			if (*end || sizes[i] < (v6 ? 62u : 60u) ||
			    sizes[i] > 1514) {
				fprintf(stderr, "xpp-gen: --size %s: want %u..1514"
						" or imix\n", size_arg,
					v6 ? 62 : 60);
				return 2;
			}
		}
		if (sizes[i] > max_size)
			max_size = sizes[i];
	}
	ifindex = if_nametoindex(dev);
	if (!ifindex) {
		fprintf(stderr, "xpp-gen: interface %s: %s (run inside its "
				"network namespace)\n", dev, strerror(errno));
		return 1;
	}

	/* The template has the largest size; the program cuts it. */
	pkt_init(&frame);
	pkt_eth(&frame, v6 ? ETH_P_IPV6 : ETH_P_IP);
	memcpy(frame.b, dmac, 6);
	memcpy(frame.b + 6, smac, 6);
	if (v6)
		pkt_ipv6(&frame, "2001:2::1", "2001:2::2", IPPROTO_UDP, 64);
	else
		pkt_ipv4(&frame, "198.18.0.1", "198.18.0.2", IPPROTO_UDP, 64,
			 5, 0);
	pkt_udp(&frame, 1024, 9);
	pkt_payload(&frame, max_size - frame.len, 0x5a);
	pkt_finish(&frame);
	/* UDP checksum 0: none (IPv4); receivers of IPv6 accept it with
	 * UDP_NO_CHECK6_RX. The program rewrites lengths, not payload. */
	pkt_put16(&frame, frame.l4 + 6, 0);

	skel = xpp_gen_bpf__open();
	if (!skel) {
		fprintf(stderr, "xpp-gen: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->out_ifindex = ifindex;
	skel->rodata->ipv6 = v6;
	for (i = 0; i < XPP_GEN_SLOTS; i++) {
		uint8_t h[20];

		skel->rodata->sizes[i] = sizes[i];
		memcpy(h, frame.b + 14, 20);
		h[2] = (sizes[i] - 14) >> 8;
		h[3] = (sizes[i] - 14) & 0xff;
		skel->rodata->ip_csum[i] = ipv4_csum(h);
	}
	if (xpp_gen_bpf__load(skel)) {
		fprintf(stderr, "xpp-gen: loading the generator: %s (root and "
				"a kernel with XDP live frames, 5.18+)\n",
			strerror(errno));
		return 1;
	}
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_signal },
		  NULL);
	/* No SA_RESTART: the signal ends a worker's BPF_PROG_RUN. */
	sigaction(SIGUSR1, &(struct sigaction){ .sa_handler = on_wake }, NULL);
	/* At most about 10 us of the schedule per batch, 1 to 64 frames. */
	if (rate > 0)
		batch_size = rate / ncpu * 10e-6 < 1 ? 1 :
			     rate / ncpu * 10e-6 > 64 ? 64 :
							(unsigned int)(rate / ncpu * 10e-6);
	t0 = mono_ns();
	for (i = 0; i < (unsigned int)ncpu; i++) {
		struct xpp_gen_ctl *ctl = &skel->bss->ctl[cpus[i]];

		ctl->deadline_ns = t0 + (uint64_t)(seconds * 1e9);
		ctl->limit = packets / ncpu + (i < packets % ncpu);
		ctl->interval_ps = rate > 0 ? (uint64_t)(1e12 * ncpu / rate) : 0;
	}
	for (i = 0; i < (unsigned int)ncpu; i++) {
		w[i] = (struct worker){ .cpu = cpus[i] };
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i])) {
			fprintf(stderr, "xpp-gen: thread: %s\n", strerror(errno));
			return 1;
		}
	}
	/* Wait for the deadline, the frame count or a signal, then end
	 * the workers' calls. */
	for (;;) {
		uint64_t total = 0;

		for (i = 0; i < (unsigned int)ncpu; i++)
			total += skel->bss->state[cpus[i]].sent;
		if (stop || total >= packets ||
		    mono_ns() >= t0 + (uint64_t)(seconds * 1e9))
			break;
		usleep(2000);
	}
	stop = 1;
	for (i = 0; i < (unsigned int)ncpu; i++)
		pthread_kill(w[i].tid, SIGUSR1);
	for (i = 0; i < (unsigned int)ncpu; i++) {
		struct xpp_gen_state *s = &skel->bss->state[cpus[i]];

		pthread_join(w[i].tid, NULL);
		if (w[i].err && !err)
			err = w[i].err;
		sent += s->sent;
		bytes += s->bytes;
		errors += s->errors;
		if (s->sent && s->first_ns < first)
			first = s->first_ns;
		if (s->last_ns > last)
			last = s->last_ns;
	}
	if (err) {
		fprintf(stderr, "xpp-gen: BPF_PROG_RUN on %s: %s\n", dev,
			strerror(err));
		return 1;
	}
	printf("{\"sent\":%llu,\"bytes\":%llu,\"errors\":%llu,"
	       "\"seconds\":%.6f,\"rate_pps\":%.1f,\"ipv6\":%s,\"size\":\"%s\","
	       "\"cpus\":%d}\n",
	       (unsigned long long)sent, (unsigned long long)bytes,
	       (unsigned long long)errors,
	       sent ? (last - first) / 1e9 : 0.0,
	       sent > 1 && last > first ? (sent - 1) * 1e9 / (last - first) : 0,
	       v6 ? "true" : "false", size_arg, ncpu);
	xpp_gen_bpf__destroy(skel);
	return 0;
bad:
	fprintf(stderr, "xpp-gen: bad value for --%s: %s\n",
		opts[idx].name, optarg);
	usage(stderr);
	return 2;
}
