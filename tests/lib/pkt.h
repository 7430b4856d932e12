/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Frame builder for tests: layers are appended in order, lengths and
 * checksums are filled in by pkt_finish() unless a test overrides them
 * afterwards to make the frame malformed.
 */
#ifndef XPP_TEST_PKT_H
#define XPP_TEST_PKT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 2048

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;
	/* Offsets of the last headers added, -1 when absent. */
	int l3, l4;
	/* Offsets of a PPPoE header and of an 802.3 length field whose
	 * lengths pkt_finish() fills in, -1 when absent. */
	int pppoe, len8023;
	int ip_version;
	uint8_t l4_proto;
};

void pkt_init(struct pkt *p);
/* Ethernet header with the given ethertype; fixed test MAC addresses. */
void pkt_eth(struct pkt *p, uint16_t ethertype);
/* One VLAN tag body (TCI and the next ethertype); the TPID is the
 * previous header's ethertype. */
void pkt_vlan(struct pkt *p, uint16_t tci, uint16_t ethertype);
/* One MPLS label stack entry: label, bottom-of-stack bit, TTL 64. */
void pkt_mpls(struct pkt *p, uint32_t label, int bos);
/* PPPoE session header (session id) and a 2-byte PPP protocol. */
void pkt_pppoe(struct pkt *p, uint16_t session, uint16_t ppp_proto);
/* LLC (AA AA 03) and SNAP with oui (3 bytes) and ethertype; the previous
 * header's ethertype field is the 802.3 length (pkt_eth(p, 0)). */
void pkt_llc_snap(struct pkt *p, uint32_t oui, uint16_t ethertype);
/* IPv4 header; ihl_words >= 5 adds (ihl_words - 5) * 4 bytes of NOP
 * options. frag is the host-order flags+offset field. */
void pkt_ipv4(struct pkt *p, const char *src, const char *dst, uint8_t proto,
	      uint8_t ttl, unsigned int ihl_words, uint16_t frag);
void pkt_ipv6(struct pkt *p, const char *src, const char *dst,
	      uint8_t nexthdr, uint8_t hop_limit);
/* IPv6 extension headers. len_units is the header's own length field. */
void pkt_ext(struct pkt *p, uint8_t type, uint8_t nexthdr, uint8_t len_units);
void pkt_frag6(struct pkt *p, uint8_t nexthdr, uint16_t offset_units, int more,
	       uint32_t id);
/* An authentication header (RFC 4302) of (len_units + 2) * 4 bytes, in
 * IPv4 or IPv6: SPI and sequence number set, ICV zero. */
void pkt_ah(struct pkt *p, uint8_t nexthdr, uint8_t len_units);
/* A hop-by-hop header of 8 bytes holding a Jumbo Payload option with
 * option length opt_len (4 when valid) and value jumbo, padded. */
void pkt_hbh_jumbo(struct pkt *p, uint8_t nexthdr, uint8_t opt_len,
		   uint32_t jumbo);
void pkt_udp(struct pkt *p, uint16_t sport, uint16_t dport);
void pkt_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint8_t flags,
	     uint16_t window);
void pkt_icmp(struct pkt *p, uint8_t type, uint8_t code);
void pkt_payload(struct pkt *p, size_t n, uint8_t fill);
/* Sets IP and L4 lengths and checksums from what was built. */
void pkt_finish(struct pkt *p);

/* An IPv6 header and n destination-options headers (none when n is 0),
 * the last naming nexthdr. */
void pkt_ipv6_dstopts(struct pkt *p, const char *src, const char *dst,
		      uint8_t hop_limit, int n, uint8_t nexthdr);

/* Whole frames, finished, that both the BPF tests and the captures use. */
/* Ethernet, IPv4 (TTL 64), UDP, payload bytes of 0x5a. */
void pkt_frame_udp4(struct pkt *p, const char *src, const char *dst,
		    uint16_t sport, uint16_t dport, size_t payload);
/* The two frames cut at every length, 64 and 74 bytes whole:
 * Ethernet, VLAN 42, IPv4, TCP 1234 > 80 SYN window 29200, 6 bytes;
 * Ethernet, IPv6, hop-by-hop options, UDP 3000 > 4000, 4 bytes. */
void pkt_frame_vlan_tcp4(struct pkt *p, const char *src, const char *dst);
void pkt_frame_hbh_udp6(struct pkt *p, const char *src, const char *dst);
/* Ethernet, IPv6 with payload length 0, hop-by-hop with a Jumbo Payload
 * of 70000 bytes, UDP 3000 > 4000, 4 bytes: the first 74 bytes of a
 * 70054-byte frame. */
void pkt_frame_jumbo_udp6(struct pkt *p, const char *src, const char *dst);
/* Ethernet, IPv4, AH (24 bytes), TCP 179 > 4000 ACK window 16384: 78
 * bytes. */
void pkt_frame_ah_tcp4(struct pkt *p, const char *src, const char *dst);

void pkt_put16(struct pkt *p, size_t off, uint16_t v); /* network order */
uint16_t pkt_get16(const struct pkt *p, size_t off);

#endif
