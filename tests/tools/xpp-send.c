// SPDX-License-Identifier: GPL-2.0-only
/*
 * xpp-send: sends crafted frames out of an interface with AF_PACKET, for
 * tests and the demo. Known count, known content, bounded in packets and
 * time, addresses from the benchmarking ranges only (198.18.0.0/15,
 * 2001:2::/48).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pkt.h"

static const char *const kinds[] = {
	"udp4", "tcp4", "icmp4", "udp6", "tcp6", "icmp6", "vlan-udp4",
	"qinq-tcp6", "frag4", "ext6", "arp", "trunc4",
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))
/* Encapsulations between Ethernet and IP, sent only when asked for by
 * name: the mix stays what the tests count on. */
static const char *const encap_kinds[] = {
	"mpls4", "mpls6", "pppoe4", "pppoe6", "snap4", "vlan-snap4",
};
#define NENCAP (sizeof(encap_kinds) / sizeof(encap_kinds[0]))

#define PPP_IP 0x0021
#define PPP_IPV6 0x0057

static void usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"Usage: xpp-send --iface IFACE [--kind KIND] [--count N]\n"
		"                [--pps N] [--src ADDR] [--dst ADDR] [--sport N]\n"
		"                [--dport N] [--sports N] [--max-seconds N]\n"
		"Sends N crafted frames out of IFACE (AF_PACKET).\n"
		"--sports N: frame i has source port sport + i %% N, so that\n"
		"  the frames make N flows.\n"
		"Addresses must be in 198.18.0.0/15 or 2001:2::/48.\n"
		"KIND: mix (cycles through all)");
	for (i = 0; i < NKINDS; i++)
		fprintf(out, ", %s", kinds[i]);
	fprintf(out, ";\n  not in the mix:");
	for (i = 0; i < NENCAP; i++)
		fprintf(out, "%s %s", i ? "," : "", encap_kinds[i]);
	fprintf(out, "\n"
		"  mpls4: one label (100), IPv4, UDP; mpls6: two labels (100,\n"
		"  200), IPv6, TCP ACK; pppoe4, pppoe6: session 0x1234, UDP;\n"
		"  snap4: 802.3 LLC/SNAP, IPv4, TCP SYN; vlan-snap4: VLAN 100,\n"
		"  802.3 LLC/SNAP, IPv4, UDP\n");
}

static int in_bench_range(const char *a)
{
	unsigned char b[16];

	if (inet_pton(AF_INET, a, b) == 1)
		return b[0] == 198 && (b[1] & 0xfe) == 18;
	if (inet_pton(AF_INET6, a, b) == 1)
		return b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 2 &&
		       b[4] == 0 && b[5] == 0;
	return 0;
}

struct addrs {
	const char *src4, *dst4, *src6, *dst6;
	unsigned int sport, dport;
	unsigned int sports; /* source ports cycled through */
};

static void build(struct pkt *p, const char *kind, const struct addrs *a,
		  unsigned int i)
{
	uint16_t sp = a->sport + i % a->sports, dp = a->dport;

	pkt_init(p);
	if (!strcmp(kind, "udp4") || !strcmp(kind, "trunc4")) {
		pkt_eth(p, ETH_P_IP);
		pkt_ipv4(p, a->src4, a->dst4, IPPROTO_UDP, 64, 5, 0);
		pkt_udp(p, sp, dp);
		pkt_payload(p, 18, i & 0xff);
		pkt_finish(p);
		if (!strcmp(kind, "trunc4"))
			p->len = 14 + 20 + 2; /* UDP header cut after 2 bytes */
	} else if (!strcmp(kind, "tcp4")) {
		pkt_eth(p, ETH_P_IP);
		pkt_ipv4(p, a->src4, a->dst4, IPPROTO_TCP, 64, 5, 0x4000);
		pkt_tcp(p, sp, dp, 0x02, 64240);
		pkt_finish(p);
	} else if (!strcmp(kind, "icmp4")) {
		pkt_eth(p, ETH_P_IP);
		pkt_ipv4(p, a->src4, a->dst4, IPPROTO_ICMP, 64, 5, 0);
		pkt_icmp(p, 8, 0);
		pkt_payload(p, 56, 0x61);
		pkt_finish(p);
	} else if (!strcmp(kind, "udp6")) {
		pkt_eth(p, ETH_P_IPV6);
		pkt_ipv6(p, a->src6, a->dst6, IPPROTO_UDP, 64);
		pkt_udp(p, sp, dp);
		pkt_payload(p, 32, i & 0xff);
		pkt_finish(p);
	} else if (!strcmp(kind, "tcp6")) {
		pkt_eth(p, ETH_P_IPV6);
		pkt_ipv6(p, a->src6, a->dst6, IPPROTO_TCP, 64);
		pkt_tcp(p, sp, dp, 0x12, 65535);
		pkt_finish(p);
	} else if (!strcmp(kind, "icmp6")) {
		pkt_eth(p, ETH_P_IPV6);
		pkt_ipv6(p, a->src6, a->dst6, IPPROTO_ICMPV6, 64);
		pkt_icmp(p, 128, 0);
		pkt_payload(p, 56, 0x61);
		pkt_finish(p);
	} else if (!strcmp(kind, "vlan-udp4")) {
		pkt_eth(p, ETH_P_8021Q);
		pkt_vlan(p, 100, ETH_P_IP);
		pkt_ipv4(p, a->src4, a->dst4, IPPROTO_UDP, 64, 5, 0);
		pkt_udp(p, sp, dp);
		pkt_payload(p, 18, 0);
		pkt_finish(p);
	} else if (!strcmp(kind, "qinq-tcp6")) {
		pkt_eth(p, 0x88a8);
		pkt_vlan(p, 200, ETH_P_8021Q);
		pkt_vlan(p, 300, ETH_P_IPV6);
		pkt_ipv6(p, a->src6, a->dst6, IPPROTO_TCP, 64);
		pkt_tcp(p, sp, dp, 0x10, 512);
		pkt_finish(p);
	} else if (!strcmp(kind, "frag4")) {
		pkt_eth(p, ETH_P_IP);
		pkt_ipv4(p, a->src4, a->dst4, IPPROTO_UDP, 64, 5,
			 i & 1 ? 185 : 0x2000);
		pkt_udp(p, sp, dp);
		pkt_payload(p, 32, 0);
		pkt_finish(p);
	} else if (!strcmp(kind, "ext6")) {
		pkt_eth(p, ETH_P_IPV6);
		pkt_ipv6(p, a->src6, a->dst6, IPPROTO_HOPOPTS, 64);
		pkt_ext(p, IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, 0);
		pkt_ext(p, IPPROTO_DSTOPTS, IPPROTO_UDP, 1);
		pkt_udp(p, sp, dp);
		pkt_finish(p);
	} else if (!strcmp(kind, "mpls4")) {
		pkt_eth(p, ETH_P_MPLS_UC);
		pkt_mpls(p, 100, 1);
		pkt_ipv4(p, a->src4, a->dst4, IPPROTO_UDP, 64, 5, 0);
		pkt_udp(p, sp, dp);
		pkt_payload(p, 18, 0);
		pkt_finish(p);
	} else if (!strcmp(kind, "mpls6")) {
		pkt_eth(p, ETH_P_MPLS_UC);
		pkt_mpls(p, 100, 0);
		pkt_mpls(p, 200, 1);
		pkt_ipv6(p, a->src6, a->dst6, IPPROTO_TCP, 64);
		pkt_tcp(p, sp, dp, 0x10, 1024);
		pkt_finish(p);
	} else if (!strcmp(kind, "pppoe4") || !strcmp(kind, "pppoe6")) {
		int v6 = kind[5] == '6';

		pkt_eth(p, ETH_P_PPP_SES);
		pkt_pppoe(p, 0x1234, v6 ? PPP_IPV6 : PPP_IP);
		if (v6)
			pkt_ipv6(p, a->src6, a->dst6, IPPROTO_UDP, 64);
		else
			pkt_ipv4(p, a->src4, a->dst4, IPPROTO_UDP, 64, 5, 0);
		pkt_udp(p, sp, dp);
		pkt_payload(p, 18, 0);
		pkt_finish(p);
	} else if (!strcmp(kind, "snap4")) {
		pkt_eth(p, 0); /* the 802.3 length, filled in */
		pkt_llc_snap(p, 0, ETH_P_IP);
		pkt_ipv4(p, a->src4, a->dst4, IPPROTO_TCP, 64, 5, 0x4000);
		pkt_tcp(p, sp, dp, 0x02, 64240);
		pkt_finish(p);
	} else if (!strcmp(kind, "vlan-snap4")) {
		pkt_eth(p, ETH_P_8021Q);
		pkt_vlan(p, 100, 0);
		pkt_llc_snap(p, 0, ETH_P_IP);
		pkt_ipv4(p, a->src4, a->dst4, IPPROTO_UDP, 64, 5, 0);
		pkt_udp(p, sp, dp);
		pkt_payload(p, 18, 0);
		pkt_finish(p);
	} else { /* arp */
		pkt_eth(p, ETH_P_ARP);
		pkt_payload(p, 28, 0);
	}
	/* Broadcast destination: every kind reaches the peer's XDP. */
	memset(p->b, 0xff, 6);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "kind", required_argument, NULL, 'k' },
		{ "count", required_argument, NULL, 'n' },
		{ "pps", required_argument, NULL, 'r' },
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "sport", required_argument, NULL, 'S' },
		{ "dport", required_argument, NULL, 'D' },
		{ "sports", required_argument, NULL, 'P' },
		{ "max-seconds", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct addrs a = { "198.18.0.2", "198.18.0.1", "2001:2::2",
			   "2001:2::1", 40000, 5000, 1 };
	const char *iface = NULL, *kind = "mix";
	unsigned long count = 1, pps = 0, max_s = 60, i, sent = 0;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct timespec t0, now;
	size_t k;
	int c, fd;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			iface = optarg;
			break;
		case 'k':
			kind = optarg;
			break;
		case 'n':
			count = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			pps = strtoul(optarg, NULL, 10);
			break;
		case 's':
		case 'd':
			if (!in_bench_range(optarg)) {
				fprintf(stderr,
					"xpp-send: %s is outside 198.18.0.0/15 "
					"and 2001:2::/48\n",
					optarg);
				return 2;
			}
			if (strchr(optarg, ':')) {
				if (c == 's')
					a.src6 = optarg;
				else
					a.dst6 = optarg;
			} else if (c == 's') {
				a.src4 = optarg;
			} else {
				a.dst4 = optarg;
			}
			break;
		case 'S':
			a.sport = strtoul(optarg, NULL, 10) & 0xffff;
			break;
		case 'D':
			a.dport = strtoul(optarg, NULL, 10) & 0xffff;
			break;
		case 'P':
			a.sports = strtoul(optarg, NULL, 10);
			break;
		case 't':
			max_s = strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!iface || count == 0 || count > 100000000 || max_s == 0 ||
	    max_s > 3600 || a.sports == 0 || a.sports > 65536) {
		usage(stderr);
		return 2;
	}
	if (strcmp(kind, "mix")) {
		for (k = 0; k < NKINDS; k++)
			if (!strcmp(kind, kinds[k]))
				break;
		for (i = 0; k == NKINDS && i < NENCAP; i++)
			if (!strcmp(kind, encap_kinds[i]))
				k = 0;
		if (k == NKINDS) {
			fprintf(stderr, "xpp-send: unknown kind '%s'\n", kind);
			return 2;
		}
	}
	sll.sll_ifindex = if_nametoindex(iface);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "xpp-send: no interface %s\n", iface);
		return 1;
	}
	sll.sll_halen = ETH_ALEN;
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("xpp-send: socket(AF_PACKET)");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < count; i++) {
		const char *kd = strcmp(kind, "mix") ? kind : kinds[i % NKINDS];
		double el;
		struct pkt p;

		build(&p, kd, &a, i);
		clock_gettime(CLOCK_MONOTONIC, &now);
		el = (now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9;
		if (el > max_s)
			break;
		if (pps && i > el * pps)
			usleep((i / (double)pps - el) * 1e6);
		while (sendto(fd, p.b, p.len, 0, (struct sockaddr *)&sll,
			      sizeof(sll)) < 0) {
			if (errno != ENOBUFS && errno != EAGAIN) {
				perror("xpp-send: sendto");
				return 1;
			}
			usleep(100);
		}
		sent++;
	}
	printf("%lu\n", sent);
	return sent == count ? 0 : 1;
}
