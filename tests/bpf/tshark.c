// SPDX-License-Identifier: GPL-2.0-only
/*
 * The program against tshark, the reference decoder: crafted frames run
 * through the program, written to a capture with their wire lengths, and
 * decoded by tshark; where tshark reads a field, the record must hold the
 * same value.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "util.h"
#include "xdp_test.h"

/* tshark's fields, in the order of its output columns. */
enum {
	T_FRAME_LEN,
	T_PROTOCOLS,
	T_IP_SRC,
	T_IP_DST,
	T_IP_LEN,
	T_IP_TTL,
	T_IP_PROTO,
	T_IP6_SRC,
	T_IP6_DST,
	T_IP6_PLEN,
	T_IP6_HLIM,
	T_IP6_JUMBO,
	T_AH_NEXT,
	T_TCP_SPORT,
	T_TCP_DPORT,
	T_TCP_FLAGS,
	T_TCP_WINDOW,
	T_UDP_SPORT,
	T_UDP_DPORT,
	T_VLAN_ID,
	T_FIELDS,
};

static const char *const tshark_fields[T_FIELDS] = {
	"frame.len",	 "frame.protocols",
	"ip.src",	 "ip.dst",
	"ip.len",	 "ip.ttl",
	"ip.proto",	 "ipv6.src",
	"ipv6.dst",	 "ipv6.plen",
	"ipv6.hlim",	 "ipv6.opt.jumbo",
	"ah.next_header", "tcp.srcport",
	"tcp.dstport",	 "tcp.flags",
	"tcp.window_size_value", "udp.srcport",
	"udp.dstport",	 "vlan.id",
};

/* Layers of frame.protocols, and the record flag that says the program
 * went through the same. */
static const struct {
	const char *layer;
	__u32 flag;
} tshark_layers[] = {
	{ "ah", XPP_F_AH },
	{ "mpls", XPP_F_MPLS },
	{ "pppoes", XPP_F_PPPOE },
	{ "llc", XPP_F_LLC_SNAP },
};

static bool tshark_present(void)
{
	return !access("/usr/bin/tshark", X_OK);
}

static void put32(FILE *f, uint32_t v)
{
	fwrite(&v, sizeof(v), 1, f);
}

/* A classic pcap (host byte order, microseconds, Ethernet): frame i at
 * second i, with its wire length. */
static int write_pcap(const char *path, const struct tshark_frame *fr,
		      size_t n)
{
	FILE *f = fopen(path, "w");
	size_t i;

	if (!f)
		return -errno;
	put32(f, 0xa1b2c3d4);
	put32(f, 2 | 4 << 16); /* version 2.4 */
	put32(f, 0);	       /* thiszone */
	put32(f, 0);	       /* sigfigs */
	put32(f, 262144);      /* snaplen */
	put32(f, 1);	       /* LINKTYPE_ETHERNET */
	for (i = 0; i < n; i++) {
		put32(f, i);
		put32(f, 0);
		put32(f, fr[i].p.len);
		put32(f, fr[i].wire_len ? fr[i].wire_len : fr[i].p.len);
		fwrite(fr[i].p.b, 1, fr[i].p.len, f);
	}
	return fclose(f) ? -errno : 0;
}

/* The first value of a comma-separated field, or of its last with last. */
static const char *pick(char *v, bool last)
{
	char *c = last ? strrchr(v, ',') : strchr(v, ',');

	if (!c)
		return v;
	if (last)
		return c + 1;
	*c = '\0';
	return v;
}

static long num(const char *v)
{
	return strtol(v, NULL, 0);
}

/* One frame's tshark line against its record (or none). */
static bool compare(char **t, const struct xpp_record *r)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], layers[512];
	const char *ip_src = pick(t[T_IP_SRC], false);
	const char *ip6_src = pick(t[T_IP6_SRC], false);
	bool ok = true;
	size_t i;

	if (!r)
		return ASSERT_TRUE(!*ip_src && !*ip6_src,
				   "no record: tshark decodes no IP header");
	ok &= ASSERT_EQ(r->frame_len, num(t[T_FRAME_LEN]), "frame_len");
	xpp_addr_str(r->saddr, src, sizeof(src));
	xpp_addr_str(r->daddr, dst, sizeof(dst));
	if (*ip_src) {
		ok &= ASSERT_EQ(r->ip_version, 4, "ip_version");
		ok &= ASSERT_TRUE(!strcmp(src, ip_src), "ip.src");
		ok &= ASSERT_TRUE(!strcmp(dst, pick(t[T_IP_DST], false)),
				  "ip.dst");
		ok &= ASSERT_EQ(r->ip_len, num(pick(t[T_IP_LEN], false)),
				"ip.len");
		ok &= ASSERT_EQ(r->ttl, num(pick(t[T_IP_TTL], false)),
				"ip.ttl");
	} else if (*ip6_src) {
		const char *plen = pick(t[T_IP6_PLEN], false);
		const char *jumbo = pick(t[T_IP6_JUMBO], false);

		ok &= ASSERT_EQ(r->ip_version, 6, "ip_version");
		ok &= ASSERT_TRUE(!strcmp(src, ip6_src), "ipv6.src");
		ok &= ASSERT_TRUE(!strcmp(dst, pick(t[T_IP6_DST], false)),
				  "ipv6.dst");
		ok &= ASSERT_EQ(r->ip_len,
				num(plen) || !*jumbo ? num(plen) : num(jumbo),
				"ipv6.plen, or the jumbo payload length");
		ok &= ASSERT_EQ(r->ttl, num(pick(t[T_IP6_HLIM], false)),
				"ipv6.hlim");
	} else {
		return ASSERT_TRUE(false, "a record, tshark decodes no IP");
	}
	if (*t[T_TCP_SPORT]) {
		ok &= ASSERT_EQ(r->proto, 6, "proto: tshark decodes TCP");
		ok &= ASSERT_EQ(r->sport, num(t[T_TCP_SPORT]), "tcp.srcport");
		ok &= ASSERT_EQ(r->dport, num(t[T_TCP_DPORT]), "tcp.dstport");
		if (*t[T_TCP_FLAGS])
			ok &= ASSERT_EQ(r->tcp_flags,
					num(t[T_TCP_FLAGS]) & 0xff,
					"tcp.flags");
		if (*t[T_TCP_WINDOW])
			ok &= ASSERT_EQ(r->tcp_window, num(t[T_TCP_WINDOW]),
					"tcp.window_size_value");
	} else if (*t[T_UDP_SPORT]) {
		ok &= ASSERT_EQ(r->proto, 17, "proto: tshark decodes UDP");
		ok &= ASSERT_EQ(r->sport, num(t[T_UDP_SPORT]), "udp.srcport");
		ok &= ASSERT_EQ(r->dport, num(t[T_UDP_DPORT]), "udp.dstport");
	} else if (*t[T_AH_NEXT]) {
		/* tshark stops after AH: the protocol its last AH names,
		 * or AH itself when that one is cut short. */
		if (!(r->flags & XPP_F_L4_TRUNC))
			ok &= ASSERT_EQ(r->proto,
					num(pick(t[T_AH_NEXT], true)),
					"proto: after the last AH");
	} else if (*ip_src) {
		ok &= ASSERT_EQ(r->proto, num(pick(t[T_IP_PROTO], false)),
				"ip.proto");
	}
	if (*t[T_VLAN_ID])
		ok &= ASSERT_EQ(r->vlan, num(pick(t[T_VLAN_ID], false)),
				"vlan.id");
	snprintf(layers, sizeof(layers), ":%s:", t[T_PROTOCOLS]);
	for (i = 0; i < ARRAY_SIZE(tshark_layers); i++) {
		char want[64];

		snprintf(want, sizeof(want), ":%s:", tshark_layers[i].layer);
		ok &= ASSERT_EQ(!!(r->flags & tshark_layers[i].flag),
				!!strstr(layers, want), tshark_layers[i].layer);
	}
	return ok;
}

/* Splits a tab-separated line into its T_FIELDS columns, in place. */
static bool columns(char *line, char **t)
{
	int i;

	line[strcspn(line, "\n")] = '\0';
	for (i = 0; i < T_FIELDS; i++) {
		t[i] = line;
		line = strchr(line, '\t');
		if (!line)
			return i == T_FIELDS - 1;
		*line++ = '\0';
	}
	return false;
}

void expect_tshark_agrees(const struct tshark_frame *fr, size_t n)
{
	char path[] = "/tmp/xpp-tshark-XXXXXX", cmd[2048], line[8192];
	struct xpp_record *recs;
	char *t[T_FIELDS];
	size_t i, off;
	bool *has;
	FILE *out;
	int fd;

	if (!tshark_present()) {
		tap_skip("tshark is not installed");
		return;
	}
	recs = calloc(n, sizeof(*recs));
	has = calloc(n, sizeof(*has));
	if (!ASSERT_OK_PTR(recs, "calloc") || !ASSERT_OK_PTR(has, "calloc"))
		goto out;
	for (i = 0; i < n; i++) {
		struct xpp_frame_meta meta = {
			.magic = XPP_FRAME_META_MAGIC, .wire_len = fr[i].wire_len,
			.pkt_type = XPP_FRAME_META_NO_PKT_TYPE,
		};
		__u32 verdict;
		int err;

		if (!xdp_reset())
			goto out;
		err = fr[i].wire_len ? xdp_run_meta(&fr[i].p, &meta, &verdict) :
				       xdp_run(&fr[i].p, &verdict);
		if (!ASSERT_OK(err, fr[i].name) ||
		    !ASSERT_LE(xt.nrecs, 1, "records of one frame"))
			goto out;
		has[i] = xt.nrecs;
		if (has[i])
			recs[i] = xt.recs[0];
	}
	fd = mkstemp(path);
	if (!ASSERT_GE(fd, 0, "mkstemp"))
		goto out;
	close(fd);
	if (!ASSERT_OK(write_pcap(path, fr, n), "writing the capture"))
		goto unlink;
	off = snprintf(cmd, sizeof(cmd),
		       "LC_ALL=C tshark -n -r %s -o ip.defragment:FALSE "
		       "-o ipv6.defragment:FALSE -T fields -E separator=/t "
		       "-E occurrence=a -E aggregator=,",
		       path);
	for (i = 0; i < T_FIELDS; i++)
		off += snprintf(cmd + off, sizeof(cmd) - off, " -e %s",
				tshark_fields[i]);
	snprintf(cmd + off, sizeof(cmd) - off, " 2>/dev/null");
	out = popen(cmd, "r");
	if (!ASSERT_OK_PTR(out, "running tshark"))
		goto unlink;
	for (i = 0; i < n && fgets(line, sizeof(line), out); i++) {
		if (!ASSERT_TRUE(columns(line, t), "tshark's columns"))
			break;
		if (!compare(t, has[i] ? &recs[i] : NULL))
			tap_diag("frame %zu (%s, tshark: %s) disagrees", i,
				 fr[i].name, t[T_PROTOCOLS]);
	}
	ASSERT_EQ(pclose(out), 0, "tshark's exit status");
	ASSERT_EQ(i, n, "frames tshark decoded");
unlink:
	unlink(path);
out:
	free(recs);
	free(has);
}
