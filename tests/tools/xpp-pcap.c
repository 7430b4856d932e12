// SPDX-License-Identifier: GPL-2.0-only
/*
 * xpp-pcap: writes test captures (pcap, nanosecond timestamps).
 *
 *   xpp-pcap corpus FILE        every kind of frame the parser knows,
 *                               valid, truncated and malformed
 *   xpp-pcap bulk FILE N        N frames cycling through common kinds
 *   xpp-pcap fuzz FILE N SEED   N frames damaged at random (deterministic)
 *   xpp-pcap link FILE LINKTYPE the corpus in another link type: 113
 *                               (LINUX_SLL), 276 (LINUX_SLL2), 12, 14,
 *                               101 (raw IP), 228 (IPv4), 229 (IPv6),
 *                               0 (BSD loopback), 108 (LOOP); frames the
 *                               link type cannot carry are left out.
 *                               fcs: Ethernet with a 4-byte FCS (the FCS
 *                               bits of the header say so)
 *   xpp-pcap pcapng FILE        interfaces of several link types and snap
 *                               lengths, FCS, two sections (the second
 *                               big-endian), if_tsoffset, timestamps at
 *                               2^31 s, before 1970 and past 2554
 *
 * Addresses come from 198.18.0.0/15 and 2001:2::/48.
 */
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"

#define A4 "198.18.0.1"
#define B4 "198.19.255.254"
#define A6 "2001:2::1"
#define B6 "2001:2:0:ffff::2"

static FILE *out;
static unsigned long long ts_ns = 1700000000123456789ULL;
/* The link type frames are written in (LINKTYPE_*), and the FCS length
 * in bytes of Ethernet frames. */
static uint32_t linktype = 1;
static unsigned int fcs_len;

static void put32(uint32_t v)
{
	fwrite(&v, 4, 1, out);
}

static void header(void)
{
	put32(0xa1b23c4d); /* nanosecond pcap */
	put32(2 | 4 << 16); /* version 2.4 */
	put32(0);
	put32(0);
	put32(65535);
	/* The FCS length in 16-bit words and its "present" bit. */
	put32(linktype | (fcs_len ? (fcs_len / 2) << 28 | 0x04000000 : 0));
}

static void put_be16(uint8_t *b, uint16_t v)
{
	b[0] = v >> 8;
	b[1] = v;
}

/* The Ethernet frame p in the link type being written: its header
 * replaced by that link type's, into b. Returns the new length, and in
 * *delta what that added to p's length; 0 when the link type cannot carry
 * the frame. */
static size_t relink(const struct pkt *p, uint8_t *b, long *delta)
{
	uint16_t type = p->b[12] << 8 | p->b[13];
	size_t h = 0, body = p->len - 14;
	uint32_t af = type == ETH_P_IP ? 2 : 30;

	switch (linktype) {
	case 1:
		memcpy(b, p->b, p->len);
		*delta = fcs_len;
		/* Any value: tshark does not check it unless asked. */
		memset(b + p->len, 0xfc, fcs_len);
		return p->len + fcs_len;
	case 113: /* LINUX_SLL: type, ARPHRD, address length and address,
		   * protocol */
		h = 16;
		memset(b, 0, h);
		put_be16(b, 4); /* PACKET_OUTGOING */
		put_be16(b + 2, 1); /* ARPHRD_ETHER */
		put_be16(b + 4, 6);
		memcpy(b + 6, p->b + 6, 6);
		put_be16(b + 14, type);
		break;
	case 276: /* LINUX_SLL2: protocol, reserved, ifindex, ARPHRD,
		   * type, address length and address */
		h = 20;
		memset(b, 0, h);
		put_be16(b, type);
		b[4] = 0;
		b[5] = 0;
		put_be16(b + 6, 7); /* ifindex 7 */
		put_be16(b + 8, 1);
		b[10] = 0; /* PACKET_HOST */
		b[11] = 6;
		memcpy(b + 12, p->b + 6, 6);
		break;
	case 12:
	case 14:
	case 101:
	case 228:
	case 229:
		if (type != ETH_P_IP && type != ETH_P_IPV6)
			return 0;
		if ((linktype == 228 && type != ETH_P_IP) ||
		    (linktype == 229 && type != ETH_P_IPV6))
			return 0;
		break;
	case 0: /* little-endian, as a little-endian BSD writes it */
		if (type != ETH_P_IP && type != ETH_P_IPV6)
			return 0;
		h = 4;
		memcpy(b, &af, 4);
		break;
	case 108:
		if (type != ETH_P_IP && type != ETH_P_IPV6)
			return 0;
		h = 4;
		b[0] = b[1] = b[2] = 0;
		b[3] = af;
		break;
	}
	memcpy(b + h, p->b + 14, body);
	*delta = (long)h - 14;
	return h + body;
}

/* Writes the first caplen bytes of p (all when caplen is 0). */
static void frame_cut(const struct pkt *p, size_t caplen)
{
	static uint8_t b[PKT_MAX + 64];
	size_t n = caplen && caplen < p->len ? caplen : p->len;
	size_t len = p->len;
	long delta = 0;

	if (linktype != 1 || fcs_len) {
		if (p->len < 14 || (caplen && caplen < 14))
			return; /* runts are Ethernet's */
		len = relink(p, b, &delta);
		if (!len)
			return;
		/* A cut keeps its place in the frame; the FCS is gone with
		 * it. */
		n = caplen && caplen < p->len ? caplen + delta -
			(linktype == 1 ? (long)fcs_len : 0) : len;
	}
	put32(ts_ns / 1000000000ULL);
	put32(ts_ns % 1000000000ULL);
	put32(n);
	put32(len);
	fwrite(linktype != 1 || fcs_len ? b : p->b, 1, n, out);
	ts_ns += 1234567;
}

static void frame(const struct pkt *p)
{
	frame_cut(p, 0);
}

static void tcp4(struct pkt *p, unsigned int ihl, uint8_t flags)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_IP);
	pkt_ipv4(p, B4, A4, IPPROTO_TCP, 128, ihl, 0x4000);
	pkt_tcp(p, 443, 50123, flags, 29200);
	pkt_payload(p, 10, 0x11);
	pkt_finish(p);
}

static void tcp6_ext(struct pkt *p, int n_ext)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_IPV6);
	pkt_ipv6_dstopts(p, A6, B6, 33, n_ext, IPPROTO_TCP);
	pkt_tcp(p, 8080, 61000, 0x18, 1000);
	pkt_payload(p, 8, 0x22);
	pkt_finish(p);
}

static void corpus(void)
{
	struct pkt p;
	size_t len;
	int i;

	/* The plain kinds. */
	pkt_frame_udp4(&p, A4, B4, 5353, 53, 20);
	frame(&p);
	tcp4(&p, 5, 0x12);
	frame(&p);
	tcp4(&p, 8, 0x02); /* options */
	frame(&p);
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IP);
	pkt_ipv4(&p, A4, B4, IPPROTO_ICMP, 1, 5, 0);
	pkt_icmp(&p, 8, 0);
	pkt_payload(&p, 32, 0x61);
	pkt_finish(&p);
	frame(&p);
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, A6, B6, IPPROTO_UDP, 255);
	pkt_udp(&p, 546, 547);
	pkt_payload(&p, 12, 0);
	pkt_finish(&p);
	frame(&p);
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, B6, A6, IPPROTO_ICMPV6, 255);
	pkt_icmp(&p, 135, 0);
	pkt_payload(&p, 16, 0);
	pkt_finish(&p);
	frame(&p);
	/* VLAN, QinQ, priority tag. */
	pkt_init(&p);
	pkt_eth(&p, ETH_P_8021Q);
	pkt_vlan(&p, 0x2000 | 42, ETH_P_IP);
	pkt_ipv4(&p, A4, B4, IPPROTO_UDP, 64, 5, 0);
	pkt_udp(&p, 1000, 2000);
	pkt_finish(&p);
	frame(&p);
	pkt_init(&p);
	pkt_eth(&p, 0x88a8);
	pkt_vlan(&p, 300, ETH_P_8021Q);
	pkt_vlan(&p, 4000, ETH_P_IPV6);
	pkt_ipv6(&p, A6, B6, IPPROTO_TCP, 64);
	pkt_tcp(&p, 22, 40000, 0x11, 512);
	pkt_finish(&p);
	frame(&p);
	pkt_init(&p);
	pkt_eth(&p, ETH_P_8021Q);
	pkt_vlan(&p, 0xe000, ETH_P_IP);
	pkt_ipv4(&p, A4, B4, IPPROTO_TCP, 64, 5, 0);
	pkt_tcp(&p, 1, 2, 0x04, 0);
	pkt_finish(&p);
	frame(&p);
	/* IPv4 fragments: first, middle, last. */
	for (i = 0; i < 3; i++) {
		static const uint16_t fo[] = { 0x2000, 0x2000 | 185, 370 };

		pkt_init(&p);
		pkt_eth(&p, ETH_P_IP);
		pkt_ipv4(&p, A4, B4, IPPROTO_UDP, 64, 5, fo[i]);
		pkt_udp(&p, 7777, 8888);
		pkt_payload(&p, 40, 0x33);
		pkt_finish(&p);
		frame(&p);
	}
	/* IPv6 extension chains: 1, 3, 8 (the walk's limit) and 9. */
	tcp6_ext(&p, 1);
	frame(&p);
	tcp6_ext(&p, 3);
	frame(&p);
	tcp6_ext(&p, 8);
	frame(&p);
	tcp6_ext(&p, 9);
	frame(&p);
	/* Hop-by-hop, routing, fragment (first and later), AH. */
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, A6, B6, IPPROTO_HOPOPTS, 64);
	pkt_ext(&p, IPPROTO_HOPOPTS, IPPROTO_ROUTING, 0);
	pkt_ext(&p, IPPROTO_ROUTING, IPPROTO_FRAGMENT, 0);
	pkt_frag6(&p, IPPROTO_AH, 0, 1, 99);
	pkt_ext(&p, IPPROTO_AH, IPPROTO_UDP, 4);
	pkt_udp(&p, 500, 4500);
	pkt_payload(&p, 8, 0);
	pkt_finish(&p);
	frame(&p);
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ipv6(&p, A6, B6, IPPROTO_FRAGMENT, 64);
	pkt_frag6(&p, IPPROTO_UDP, 100, 0, 99);
	pkt_payload(&p, 24, 0x44);
	pkt_finish(&p);
	frame(&p);
	/* Non-IP. */
	pkt_init(&p);
	pkt_eth(&p, ETH_P_ARP);
	pkt_payload(&p, 28, 0);
	frame(&p);
	/* Malformed IP headers. */
	pkt_frame_udp4(&p, A4, B4, 1, 2, 4);
	p.b[14] = 0x44; /* IHL 4 */
	frame(&p);
	pkt_frame_udp4(&p, A4, B4, 1, 2, 4);
	p.b[14] = 0x55; /* version 5 */
	frame(&p);
	pkt_frame_udp4(&p, A4, B4, 1, 2, 4);
	pkt_put16(&p, 16, 12); /* total length below the header */
	frame(&p);
	/* Padding past the IP packet (an IP header alone, padded). */
	pkt_init(&p);
	pkt_eth(&p, ETH_P_IP);
	pkt_ipv4(&p, A4, B4, IPPROTO_UDP, 64, 5, 0);
	pkt_finish(&p);
	pkt_payload(&p, 26, 0x77);
	frame(&p);
	/* Truncated at every length (as cut by a capture snap length): the
	 * two frames the BPF tests' truncation sweeps cut. */
	pkt_frame_vlan_tcp4(&p, A4, B4);
	for (len = 14; len < p.len; len++)
		frame_cut(&p, len);
	pkt_frame_hbh_udp6(&p, A6, B6);
	for (len = 14; len < p.len; len++)
		frame_cut(&p, len);
	/* L4 headers cut inside the IP packet itself (the IP length says
	 * so), at every length short of the fixed header. */
	for (len = 1; len < 20; len++) {
		static const uint8_t protos4[] = { IPPROTO_ICMP, IPPROTO_UDP,
						   IPPROTO_TCP };
		static const uint8_t protos6[] = { IPPROTO_ICMPV6, IPPROTO_UDP,
						   IPPROTO_TCP };
		static const uint8_t hdr[20] = { 3, 1, 0xab, 0xcd, 0x12, 0x34,
						 0, 0, 0, 0, 0, 0, 0x50, 0x12,
						 0x01, 0x02 };

		for (i = 0; i < 3; i++) {
			if (len >= (size_t)(i == 2 ? 20 : 8))
				continue;
			pkt_init(&p);
			pkt_eth(&p, ETH_P_IP);
			pkt_ipv4(&p, A4, B4, protos4[i], 64, 5, 0);
			memcpy(p.b + p.len, hdr, len);
			p.len += len;
			pkt_finish(&p);
			frame(&p);
			pkt_init(&p);
			pkt_eth(&p, ETH_P_IPV6);
			pkt_ipv6(&p, A6, B6, protos6[i], 64);
			memcpy(p.b + p.len, hdr, len);
			p.len += len;
			pkt_finish(&p);
			frame(&p);
		}
	}
	/* Runt: shorter than an Ethernet header. */
	pkt_frame_udp4(&p, A4, B4, 1, 2, 0);
	frame_cut(&p, 10);
}

/* Frames of the corpus kinds, then damaged at random: bytes of the
 * headers flipped, lengths rewritten, the frame cut short. Deterministic
 * for a seed. */
static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return rng_state >> 33;
}

static void fuzz(unsigned long n, unsigned long seed)
{
	struct pkt base[8], p;
	unsigned long i;
	int k, m;

	rng_state = seed * 2654435761ULL + 1;
	pkt_frame_udp4(&base[0], A4, B4, 53, 5353, 12);
	tcp4(&base[1], 7, 0x18);
	tcp6_ext(&base[2], 2);
	tcp6_ext(&base[3], 9);
	pkt_init(&base[4]);
	pkt_eth(&base[4], ETH_P_8021Q);
	pkt_vlan(&base[4], 99, ETH_P_IP);
	pkt_ipv4(&base[4], A4, B4, IPPROTO_ICMP, 64, 5, 0);
	pkt_icmp(&base[4], 8, 0);
	pkt_finish(&base[4]);
	pkt_init(&base[5]);
	pkt_eth(&base[5], 0x88a8);
	pkt_vlan(&base[5], 5, ETH_P_8021Q);
	pkt_vlan(&base[5], 6, ETH_P_IPV6);
	pkt_ipv6(&base[5], A6, B6, IPPROTO_FRAGMENT, 64);
	pkt_frag6(&base[5], IPPROTO_UDP, 0, 1, 1);
	pkt_udp(&base[5], 1, 2);
	pkt_finish(&base[5]);
	pkt_init(&base[6]);
	pkt_eth(&base[6], ETH_P_IPV6);
	pkt_ipv6(&base[6], A6, B6, IPPROTO_ICMPV6, 64);
	pkt_icmp(&base[6], 1, 4);
	pkt_finish(&base[6]);
	pkt_init(&base[7]);
	pkt_eth(&base[7], ETH_P_IP);
	pkt_ipv4(&base[7], A4, B4, IPPROTO_UDP, 64, 7, 0x2000 | 3);
	pkt_udp(&base[7], 9, 10);
	pkt_finish(&base[7]);
	for (i = 0; i < n; i++) {
		p = base[rnd() % 8];
		m = 1 + rnd() % 4;
		for (k = 0; k < m; k++) {
			size_t span = p.len > 92 ? 80 : p.len > 13 ? p.len - 12 : 1;
			size_t at = 12 + rnd() % span;

			switch (rnd() % 4) {
			case 0: /* one bit */
				p.b[at] ^= 1 << (rnd() % 8);
				break;
			case 1: /* one byte */
				p.b[at] = rnd();
				break;
			case 2: /* a length field: ends of the byte range */
				p.b[at] = rnd() % 2 ? 0 : 0xff;
				break;
			default: /* cut */
				if (at < p.len)
					p.len = at;
			}
		}
		if (p.len < 14)
			p.len = 14;
		frame(&p);
	}
}

static void bulk(unsigned long n)
{
	struct pkt kinds[4];
	unsigned long i;

	pkt_frame_udp4(&kinds[0], A4, B4, 40000, 53, 22);
	tcp4(&kinds[1], 5, 0x10);
	tcp6_ext(&kinds[2], 1);
	pkt_init(&kinds[3]);
	pkt_eth(&kinds[3], ETH_P_8021Q);
	pkt_vlan(&kinds[3], 10, ETH_P_IP);
	pkt_ipv4(&kinds[3], A4, B4, IPPROTO_ICMP, 64, 5, 0);
	pkt_icmp(&kinds[3], 0, 0);
	pkt_finish(&kinds[3]);
	for (i = 0; i < n; i++) {
		struct pkt *p = &kinds[i % 4];

		/* Vary a port so records differ. */
		if (i % 4 == 0)
			pkt_put16(p, 34, 1024 + i % 60000);
		frame(p);
	}
}

/* pcapng, in either byte order. */
static int big_endian;

static void ng32(uint32_t v)
{
	put32(big_endian ? __builtin_bswap32(v) : v);
}

static void ng16x2(uint16_t a, uint16_t b)
{
	ng32(big_endian ? (uint32_t)a << 16 | b : (uint32_t)b << 16 | a);
}

static void ng_opt(uint16_t code, const void *v, uint16_t len)
{
	static const uint8_t zero[4];

	ng16x2(code, len);
	/* opt_endofopt has no value and comes with v NULL; fwrite wants a
	 * valid pointer even for no bytes (glibc declares it nonnull). */
	if (len)
		fwrite(v, 1, len, out);
	fwrite(zero, 1, -len & 3, out);
}

static void ng_shb(int be)
{
	big_endian = be;
	ng32(0x0a0d0d0a);
	ng32(28);
	ng32(0x1a2b3c4d);
	ng16x2(1, 0);
	ng32(0xffffffff); /* section length unknown */
	ng32(0xffffffff);
	ng32(28);
}

/* An IDB: link type, snap length, timestamp resolution (10^-tsresol),
 * FCS length (0: no option), if_tsoffset (0: no option). */
static void ng_idb(uint16_t lt, uint32_t snap, uint8_t tsresol, uint8_t fcs,
		   int64_t tsoffset)
{
	uint32_t len = 20 + 8 + (fcs ? 8 : 0) + (tsoffset ? 12 : 0) + 4;
	uint64_t off = big_endian ? __builtin_bswap64(tsoffset) : (uint64_t)tsoffset;

	ng32(1);
	ng32(len);
	ng16x2(lt, 0);
	ng32(snap);
	ng_opt(9, &tsresol, 1);
	if (fcs)
		ng_opt(13, &fcs, 1);
	if (tsoffset)
		ng_opt(14, &off, 8);
	ng_opt(0, NULL, 0);
	ng32(len);
}

/* An EPB: the first caplen bytes of b, of wire length len, timestamp in
 * the interface's units. */
static void ng_epb(uint32_t ifid, uint64_t ts, const uint8_t *b, uint32_t len,
		   uint32_t caplen)
{
	static const uint8_t zero[4];
	uint32_t blen = 32 + ((caplen + 3) & ~3u);

	ng32(6);
	ng32(blen);
	ng32(ifid);
	ng32(ts >> 32);
	ng32(ts);
	ng32(caplen);
	ng32(len);
	fwrite(b, 1, caplen, out);
	fwrite(zero, 1, -caplen & 3, out);
	ng32(blen);
}

/* What Wireshark writes after merging captures of several interfaces:
 * every frame has a timestamp of its own, so records can be matched to
 * frames by it. */
static void pcapng(void)
{
	static uint8_t b[PKT_MAX + 64];
	const uint64_t s = 1700000000;
	struct pkt p, q;
	size_t n;
	long d;

	pkt_frame_udp4(&p, A4, B4, 5353, 53, 20);
	tcp6_ext(&q, 1);
	ng_shb(0);
	ng_idb(1, 65535, 9, 0, 0);	/* 0: Ethernet, ns */
	ng_idb(1, 60, 9, 4, 0);		/* 1: Ethernet, FCS, snap 60 */
	ng_idb(276, 262144, 6, 0, 0);	/* 2: SLL2, us */
	ng_epb(0, s * 1000000000 + 1, p.b, p.len, p.len);
	ng_epb(0, 0x80000000ULL * 1000000000, q.b, q.len, q.len); /* 2^31 s */
	linktype = 1;
	fcs_len = 4;
	n = relink(&p, b, &d);
	ng_epb(1, s * 1000000000 + 2, b, n, n);
	n = relink(&q, b, &d);
	ng_epb(1, s * 1000000000 + 3, b, n, 60); /* cut by the snap length */
	fcs_len = 0;
	linktype = 276;
	n = relink(&q, b, &d);
	ng_epb(2, s * 1000000 + 4, b, n, n);
	ng_epb(2, 18446744073709552ULL, b, n, n); /* past 2554 */
	ng_shb(1);
	ng_idb(101, 65535, 9, 0, -1000000000);	/* 0: raw IP, offset */
	ng_idb(1, 65535, 6, 0, 0);		/* 1: Ethernet, us */
	ng_idb(108, 65535, 9, 0, 0);		/* 2: LOOP */
	linktype = 101;
	n = relink(&q, b, &d);
	ng_epb(0, s * 1000000000 + 5, b, n, n);
	ng_epb(0, 5, b, n, n); /* before 1970 with the offset */
	ng_epb(1, s * 1000000 + 6, p.b, p.len, p.len);
	linktype = 108;
	n = relink(&p, b, &d);
	ng_epb(2, s * 1000000000 + 7, b, n, n);
	linktype = 1;
}

int main(int argc, char **argv)
{
	if (argc < 3 ||
	    (strcmp(argv[1], "corpus") && strcmp(argv[1], "bulk") &&
	     strcmp(argv[1], "fuzz") && strcmp(argv[1], "link") &&
	     strcmp(argv[1], "pcapng")) ||
	    (!strcmp(argv[1], "bulk") && argc != 4) ||
	    (!strcmp(argv[1], "link") && argc != 4) ||
	    (!strcmp(argv[1], "fuzz") && argc != 5)) {
		fprintf(stderr, "usage: xpp-pcap corpus FILE | bulk FILE N | "
				"fuzz FILE N SEED | link FILE LINKTYPE|fcs | "
				"pcapng FILE\n");
		return 2;
	}
	if (!strcmp(argv[1], "link")) {
		if (!strcmp(argv[3], "fcs"))
			fcs_len = 4;
		else
			linktype = strtoul(argv[3], NULL, 10);
	}
	out = fopen(argv[2], "w");
	if (!out) {
		perror(argv[2]);
		return 1;
	}
	if (!strcmp(argv[1], "pcapng"))
		pcapng();
	else
		header();
	if (!strcmp(argv[1], "corpus") || !strcmp(argv[1], "link"))
		corpus();
	else if (!strcmp(argv[1], "pcapng"))
		; /* written above */
	else if (!strcmp(argv[1], "fuzz"))
		fuzz(strtoul(argv[3], NULL, 10), strtoul(argv[4], NULL, 10));
	else
		bulk(strtoul(argv[3], NULL, 10));
	if (fclose(out)) {
		perror(argv[2]);
		return 1;
	}
	return 0;
}
