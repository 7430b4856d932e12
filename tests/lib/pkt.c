// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"

/* Test frames are built from constants: a bad one is a bug in the test. */
static void must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "pkt: %s\n", what);
		abort();
	}
}

static uint8_t *grow(struct pkt *p, size_t n)
{
	uint8_t *at = p->b + p->len;

	must(p->len + n <= PKT_MAX, "frame larger than PKT_MAX");
	memset(at, 0, n);
	p->len += n;
	return at;
}

void pkt_put16(struct pkt *p, size_t off, uint16_t v)
{
	p->b[off] = v >> 8;
	p->b[off + 1] = v & 0xff;
}

uint16_t pkt_get16(const struct pkt *p, size_t off)
{
	return p->b[off] << 8 | p->b[off + 1];
}

void pkt_init(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->l3 = p->l4 = -1;
	p->pppoe = p->len8023 = -1;
}

void pkt_eth(struct pkt *p, uint16_t ethertype)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	uint8_t *h = grow(p, 14);

	memcpy(h, dst, 6);
	memcpy(h + 6, src, 6);
	pkt_put16(p, p->len - 2, ethertype);
}

void pkt_vlan(struct pkt *p, uint16_t tci, uint16_t ethertype)
{
	grow(p, 4);
	pkt_put16(p, p->len - 4, tci);
	pkt_put16(p, p->len - 2, ethertype);
}

void pkt_mpls(struct pkt *p, uint32_t label, int bos)
{
	uint8_t *h = grow(p, 4);

	h[0] = label >> 12;
	h[1] = label >> 4;
	h[2] = (label & 0xf) << 4 | (bos ? 1 : 0);
	h[3] = 64;
}

void pkt_pppoe(struct pkt *p, uint16_t session, uint16_t ppp_proto)
{
	size_t off = p->len;
	uint8_t *h = grow(p, 8);

	h[0] = 0x11; /* version 1, type 1 */
	pkt_put16(p, off + 2, session);
	pkt_put16(p, off + 6, ppp_proto);
	p->pppoe = off;
}

void pkt_llc_snap(struct pkt *p, uint32_t oui, uint16_t ethertype)
{
	size_t off = p->len;
	uint8_t *h = grow(p, 8);

	h[0] = h[1] = 0xaa;
	h[2] = 0x03;
	h[3] = oui >> 16;
	h[4] = oui >> 8;
	h[5] = oui;
	pkt_put16(p, off + 6, ethertype);
	p->len8023 = off - 2;
}

void pkt_ipv4(struct pkt *p, const char *src, const char *dst, uint8_t proto,
	      uint8_t ttl, unsigned int ihl_words, uint16_t frag)
{
	size_t hl = ihl_words * 4, off = p->len;
	uint8_t *h = grow(p, hl < 20 ? 20 : hl);

	h[0] = 0x40 | (ihl_words & 0xf);
	pkt_put16(p, off + 4, 0x1234); /* id */
	pkt_put16(p, off + 6, frag);
	h[8] = ttl;
	h[9] = proto;
	must(inet_pton(AF_INET, src, h + 12) == 1, "bad address");
	must(inet_pton(AF_INET, dst, h + 16) == 1, "bad address");
	if (hl > 20)
		memset(h + 20, 1, hl - 20); /* NOP options */
	p->l3 = off;
	p->ip_version = 4;
	p->l4_proto = proto;
}

void pkt_ipv6(struct pkt *p, const char *src, const char *dst,
	      uint8_t nexthdr, uint8_t hop_limit)
{
	size_t off = p->len;
	uint8_t *h = grow(p, 40);

	h[0] = 0x60;
	h[6] = nexthdr;
	h[7] = hop_limit;
	must(inet_pton(AF_INET6, src, h + 8) == 1, "bad address");
	must(inet_pton(AF_INET6, dst, h + 24) == 1, "bad address");
	p->l3 = off;
	p->ip_version = 6;
	p->l4_proto = nexthdr;
}

void pkt_ext(struct pkt *p, uint8_t type, uint8_t nexthdr, uint8_t len_units)
{
	size_t n = type == 51 ? (len_units + 2) * 4 : (len_units + 1) * 8;
	uint8_t *h = grow(p, n);

	h[0] = nexthdr;
	h[1] = len_units;
	if (type != 51 && n > 2) {
		/* PadN option covering the rest of the header. */
		h[2] = 1;
		h[3] = n - 4;
	}
	p->l4_proto = nexthdr;
}

void pkt_frag6(struct pkt *p, uint8_t nexthdr, uint16_t offset_units, int more,
	       uint32_t id)
{
	size_t off = p->len;
	uint8_t *h = grow(p, 8);

	h[0] = nexthdr;
	pkt_put16(p, off + 2, offset_units << 3 | (more ? 1 : 0));
	h[4] = id >> 24;
	h[5] = id >> 16;
	h[6] = id >> 8;
	h[7] = id;
	p->l4_proto = nexthdr;
}

void pkt_ah(struct pkt *p, uint8_t nexthdr, uint8_t len_units)
{
	size_t off = p->len;

	pkt_ext(p, 51 /* IPPROTO_AH */, nexthdr, len_units);
	if (p->len - off >= 12) {
		pkt_put16(p, off + 6, 0x1000); /* SPI 0x1000 */
		pkt_put16(p, off + 10, 1);     /* sequence number 1 */
	}
}

void pkt_hbh_jumbo(struct pkt *p, uint8_t nexthdr, uint8_t opt_len,
		   uint32_t jumbo)
{
	uint8_t *h = grow(p, 8); /* Pad1 (0) after a short option */
	int i;

	must(opt_len <= 4, "jumbo option longer than 4 bytes");
	h[0] = nexthdr;
	h[2] = 0xc2; /* IPV6_TLV_JUMBO */
	h[3] = opt_len;
	for (i = 0; i < opt_len; i++)
		h[4 + i] = jumbo >> (8 * (opt_len - 1 - i));
	p->l4_proto = nexthdr;
}

void pkt_udp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	size_t off = p->len;

	grow(p, 8);
	pkt_put16(p, off, sport);
	pkt_put16(p, off + 2, dport);
	p->l4 = off;
}

void pkt_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint8_t flags,
	     uint16_t window)
{
	size_t off = p->len;
	uint8_t *h = grow(p, 20);

	pkt_put16(p, off, sport);
	pkt_put16(p, off + 2, dport);
	h[4] = 0x11; /* sequence number, arbitrary */
	h[12] = 5 << 4;
	h[13] = flags;
	pkt_put16(p, off + 14, window);
	p->l4 = off;
}

void pkt_icmp(struct pkt *p, uint8_t type, uint8_t code)
{
	size_t off = p->len;
	uint8_t *h = grow(p, 8);

	h[0] = type;
	h[1] = code;
	h[5] = 1; /* echo identifier/sequence, arbitrary */
	p->l4 = off;
}

void pkt_payload(struct pkt *p, size_t n, uint8_t fill)
{
	memset(grow(p, n), fill, n);
}

static uint32_t sum16(const uint8_t *b, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += b[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

void pkt_finish(struct pkt *p)
{
	size_t l4len = p->l4 >= 0 ? p->len - p->l4 : 0;
	uint32_t pseudo = 0;
	int ck = -1;

	if (p->pppoe >= 0)
		pkt_put16(p, p->pppoe + 4, p->len - p->pppoe - 6);
	if (p->len8023 >= 0)
		pkt_put16(p, p->len8023, p->len - p->len8023 - 2);
	if (p->l3 < 0)
		return;
	if (p->ip_version == 4) {
		size_t hl = (p->b[p->l3] & 0xf) * 4;

		pkt_put16(p, p->l3 + 2, p->len - p->l3);
		pkt_put16(p, p->l3 + 10, 0);
		pkt_put16(p, p->l3 + 10, fold(sum16(p->b + p->l3, hl, 0)));
		pseudo = sum16(p->b + p->l3 + 12, 8, 0) + p->l4_proto + l4len;
	} else {
		pkt_put16(p, p->l3 + 4, p->len - p->l3 - 40);
		pseudo = sum16(p->b + p->l3 + 8, 32, 0) + p->l4_proto + l4len;
	}
	if (p->l4 < 0)
		return;
	switch (p->l4_proto) {
	case 17:
		pkt_put16(p, p->l4 + 4, l4len);
		ck = 6;
		break;
	case 6:
		ck = 16;
		break;
	case 1:
		pseudo = 0; /* ICMPv4 has no pseudo-header */
		/* fall through */
	case 58:
		ck = 2;
		break;
	}
	if (ck < 0)
		return;
	pkt_put16(p, p->l4 + ck, 0);
	pkt_put16(p, p->l4 + ck, fold(sum16(p->b + p->l4, l4len, pseudo)));
}

void pkt_ipv6_dstopts(struct pkt *p, const char *src, const char *dst,
		      uint8_t hop_limit, int n, uint8_t nexthdr)
{
	int i;

	pkt_ipv6(p, src, dst, n ? IPPROTO_DSTOPTS : nexthdr, hop_limit);
	for (i = 0; i < n; i++)
		pkt_ext(p, IPPROTO_DSTOPTS,
			i == n - 1 ? nexthdr : IPPROTO_DSTOPTS, 0);
}

void pkt_frame_udp4(struct pkt *p, const char *src, const char *dst,
		    uint16_t sport, uint16_t dport, size_t payload)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_IP);
	pkt_ipv4(p, src, dst, IPPROTO_UDP, 64, 5, 0);
	pkt_udp(p, sport, dport);
	pkt_payload(p, payload, 0x5a);
	pkt_finish(p);
}

void pkt_frame_vlan_tcp4(struct pkt *p, const char *src, const char *dst)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_8021Q);
	pkt_vlan(p, 42, ETH_P_IP);
	pkt_ipv4(p, src, dst, IPPROTO_TCP, 64, 5, 0);
	pkt_tcp(p, 1234, 80, 0x02 /* SYN */, 29200);
	pkt_payload(p, 6, 0x55);
	pkt_finish(p);
}

void pkt_frame_ah_tcp4(struct pkt *p, const char *src, const char *dst)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_IP);
	pkt_ipv4(p, src, dst, IPPROTO_AH, 64, 5, 0);
	pkt_ah(p, IPPROTO_TCP, 4);
	pkt_tcp(p, 179, 4000, 0x10 /* ACK */, 16384);
	pkt_finish(p);
}

void pkt_frame_jumbo_udp6(struct pkt *p, const char *src, const char *dst)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_IPV6);
	pkt_ipv6(p, src, dst, IPPROTO_HOPOPTS, 64);
	pkt_hbh_jumbo(p, IPPROTO_UDP, 4, 70000);
	pkt_udp(p, 3000, 4000);
	pkt_payload(p, 4, 0x66);
	pkt_finish(p);
	pkt_put16(p, 14 + 4, 0); /* payload length 0: see the option */
}

void pkt_frame_hbh_udp6(struct pkt *p, const char *src, const char *dst)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_IPV6);
	pkt_ipv6(p, src, dst, IPPROTO_HOPOPTS, 64);
	pkt_ext(p, IPPROTO_HOPOPTS, IPPROTO_UDP, 0);
	pkt_udp(p, 3000, 4000);
	pkt_payload(p, 4, 0x66);
	pkt_finish(p);
}
