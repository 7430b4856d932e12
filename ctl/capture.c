// SPDX-License-Identifier: GPL-2.0-only
/*
 * Captures through libwiretap (Wireshark's capture library): pcap with any
 * timestamp precision and FCS bits, pcapng with interfaces of different
 * link types and snap lengths, several sections of either byte order,
 * if_tsoffset, if_tsresol, if_fcslen. The program parses Ethernet, so
 * frames of other link types get a synthesized Ethernet header carrying
 * the protocol their own header names; what that header tells beyond it
 * (SLL's interface index and packet type) goes into the metadata.
 *
 * The common case, a plain pcap file of Ethernet frames, is read here
 * without libwiretap once libwiretap has opened it and named it so: its
 * records cost a few dozen instructions instead of wiretap's allocations
 * per record. A record this reader is not sure of (lengths or timestamp
 * out of range, cut short, longer than its buffer) hands the rest of the
 * file to libwiretap, which reads past the records already handed over
 * and goes on; tests/fuzz/fuzz_pcap checks that both give the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <wireshark.h>
#include <wiretap/wtap.h>
#include <wsutil/wslog.h>

#include "capture.h"
#include "xpp/meta.h"

_Static_assert(sizeof(struct xpp_frame_meta) <= CAPTURE_META_MAX,
	       "struct xpp_frame_meta: at most the kernel's 32 bytes");

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
/* ARPHRD_* in SLL headers whose protocol field is not an ethertype. */
#define ARPHRD_NETLINK 824

/* u64 ns since 1970 ends at 18446744073.709551615 s (2554-07-21). */
#define TS_MAX_SEC 18446744073LL
#define TS_MAX_NSEC 709551615

const char *const capture_refusal_names[CAPTURE_REFUSE_MAX] = {
	[CAPTURE_REFUSE_LINK_TYPE] = "link type",
	[CAPTURE_REFUSE_LINK_HEADER] = "link header cut",
	[CAPTURE_REFUSE_NO_TS] = "no timestamp",
	[CAPTURE_REFUSE_BEFORE_1970] = "before 1970",
	[CAPTURE_REFUSE_AFTER_2554] = "after 2554",
	[CAPTURE_REFUSE_NOT_PACKET] = "not a packet",
};

/* The file as read without libwiretap: buf holds FAST_ROOM bytes, then
 * size bytes read from the file, of which [pos, end) are not handed over
 * yet. The room, or the bytes in front of a record's frame (its header,
 * the end of the frame before it), take the metadata, so that a frame is
 * handed over where it lies. */
#define FAST_ROOM    32
#define FAST_BUF     (1u << 20)
#define PCAP_HDR     24
#define PCAP_REC_HDR 16

struct fast {
	int fd; /* -1: libwiretap reads */
	bool be, nsec;
	bool failed; /* read(2) failed: libwiretap reads and says why */
	uint8_t *buf;
	size_t size, pos, end;
	uint64_t records; /* handed over, for libwiretap to read past */
};

_Static_assert(PCAP_REC_HDR + FAST_ROOM >= sizeof(struct xpp_frame_meta),
	       "the metadata goes in front of a frame in the read buffer");

struct capture {
	wtap *w;
	wtap_rec rec;
	Buffer buf;
	struct fast fast;
	uint32_t max_len;
	uint8_t *out; /* struct xpp_frame_meta + max_len bytes */
	char err[512];
	struct capture_stats st;
	int n_encaps;
	uint64_t *per_encap; /* frames by WTAP_ENCAP_*; [0] also out of range */
};

static uint16_t get16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint32_t get32le(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | p[2] << 16 | p[1] << 8 | p[0];
}

static void init_once(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	/* Wiretap's own messages are for Wireshark's console; the errors
	 * that matter come back through wtap_read. */
	ws_log_set_level(LOG_LEVEL_CRITICAL);
	wtap_init(FALSE);
}

static void set_wtap_error(struct capture *c, int err, char *info)
{
	snprintf(c->err, sizeof(c->err), "%s%s%s", wtap_strerror(err),
		 info ? ": " : "", info ? info : "");
	g_free(info);
}

/* A field of the file's header or a record's, in the file's order. */
static uint32_t fast32(const struct fast *s, const uint8_t *p)
{
	return s->be ? get32(p) : get32le(p);
}

static uint16_t fast16(const struct fast *s, const uint8_t *p)
{
	return s->be ? get16(p) : (uint16_t)(p[1] << 8 | p[0]);
}

static void fast_close(struct fast *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->buf);
	s->buf = NULL;
}

/* Makes n bytes not handed over ready in the buffer, if the file and the
 * buffer have them (what is left moves to the front, the rest is read);
 * returns how many are ready. */
static size_t fast_fill(struct fast *s, size_t n)
{
	ssize_t r;

	if (s->end - s->pos >= n)
		return s->end - s->pos;
	if (n > s->size)
		return s->end - s->pos;
	memmove(s->buf + FAST_ROOM, s->buf + FAST_ROOM + s->pos,
		s->end - s->pos);
	s->end -= s->pos;
	s->pos = 0;
	while (s->end < n) {
		r = read(s->fd, s->buf + FAST_ROOM + s->end, s->size - s->end);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			s->failed = r < 0;
			break;
		}
		s->end += r;
	}
	return s->end;
}

/* Reads the file here when libwiretap has opened it as plain pcap of
 * Ethernet frames, uncompressed, a regular file, and its header is the
 * one of version 2.4 without FCS bits; else leaves it to libwiretap. */
static void fast_open(struct capture *c, const char *file)
{
	struct fast *s = &c->fast;
	int type = wtap_file_type_subtype(c->w);
	struct stat st;
	uint32_t magic;
	uint8_t *h;

	/* "-": libwiretap reads standard input. */
	if (!strcmp(file, "-") ||
	    (type != wtap_pcap_file_type_subtype() &&
	     type != wtap_pcap_nsec_file_type_subtype()) ||
	    wtap_get_compression_type(c->w) != WTAP_UNCOMPRESSED ||
	    wtap_file_encap(c->w) != WTAP_ENCAP_ETHERNET)
		return;
	s->fd = open(file, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0)
		return;
	if (fstat(s->fd, &st) || !S_ISREG(st.st_mode))
		goto no;
	/* The whole file, or room for the largest record libwiretap takes. */
	s->size = st.st_size < FAST_BUF ? st.st_size : FAST_BUF;
	if (s->size < PCAP_HDR)
		goto no;
	s->buf = malloc(FAST_ROOM + s->size);
	if (!s->buf || fast_fill(s, PCAP_HDR) < PCAP_HDR)
		goto no;
	h = s->buf + FAST_ROOM;
	magic = get32le(h);
	s->be = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
	if (s->be)
		magic = __builtin_bswap32(magic);
	s->nsec = magic == 0xa1b23c4d;
	if ((magic != 0xa1b2c3d4 && !s->nsec) ||
	    s->nsec != (type == wtap_pcap_nsec_file_type_subtype()))
		goto no;
	/* Version 2.4, link type 1 (EN10MB) without FCS bits. */
	if (fast16(s, h + 4) != 2 || fast16(s, h + 6) != 4 ||
	    fast32(s, h + 20) != 1)
		goto no;
	s->pos = PCAP_HDR;
	return;
no:
	fast_close(s);
}

struct capture *capture_open(const char *file, uint32_t max_len, char *err,
			     size_t errsz)
{
	struct capture *c;
	struct stat st;
	char *info = NULL;
	int e = 0;

	init_once();
	c = calloc(1, sizeof(*c));
	if (c)
		c->fast.fd = -1;
	if (!c || max_len < ETH_HLEN ||
	    !(c->out = malloc(sizeof(struct xpp_frame_meta) + max_len))) {
		snprintf(err, errsz, max_len < ETH_HLEN ? "max_len too small" :
							   "out of memory");
		if (c)
			free(c);
		return NULL;
	}
	c->max_len = max_len;
	c->w = wtap_open_offline(file, WTAP_TYPE_AUTO, &e, &info, FALSE);
	if (!c->w) {
		set_wtap_error(c, e, info);
		snprintf(err, errsz, "%s: %s", file, c->err);
		free(c->out);
		free(c);
		return NULL;
	}
	/* Wiretap takes an empty file for an ERF capture without records;
	 * it is no capture. A pipe has no size to ask (tcpdump -w - |). */
	if ((strcmp(file, "-") ? stat(file, &st) : fstat(STDIN_FILENO, &st)) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size == 0) {
		snprintf(err, errsz, "%s: an empty file is not a capture", file);
		capture_close(c);
		return NULL;
	}
	c->n_encaps = wtap_get_num_encap_types();
	c->per_encap = calloc(c->n_encaps > 0 ? c->n_encaps : 1,
			      sizeof(*c->per_encap));
	if (!c->per_encap) {
		snprintf(err, errsz, "out of memory");
		capture_close(c);
		return NULL;
	}
	wtap_rec_init(&c->rec);
	ws_buffer_init(&c->buf, 2048);
	fast_open(c, file);
	return c;
}

void capture_wiretap_only(struct capture *c)
{
	fast_close(&c->fast);
}

static int refuse(struct capture_frame *f, enum capture_refusal r,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int refuse(struct capture_frame *f, enum capture_refusal r,
		  const char *fmt, ...)
{
	va_list ap;

	f->refusal = r;
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
	return CAPTURE_REFUSED;
}

/*
 * The ethertype of a synthesized header whose payload is neither IP nor
 * 802.2: a value the program walks into nothing. 0 would not do: an
 * ethertype field below 0x0600 is an 802.3 length, and the frame would be
 * parsed as LLC (and counted malformed) instead of counted not IP.
 */
#define ETHERTYPE_NOT_IP 0xffff /* reserved (IEEE) */
/* SLL's protocol for a payload that is an 802.2 LLC frame (ETH_P_802_2):
 * the synthesized header carries an 802.3 length instead. */
#define SLL_PROTO_802_2 0x0004
#define ETH_802_3_MAX 1500
#define ETH_P_JUMBO_LLC 0x8870
/* PPP protocol numbers (RFC 1332, RFC 5072) */
#define PPP_IP 0x0021
#define PPP_IPV6 0x0057

/* BSD loopback: the address family, in the byte order of the machine that
 * wrote it (NULL) or in network order (LOOP). As tshark: 2 is IPv4; 24,
 * 28, 30 are the BSDs' IPv6. */
static uint16_t af_to_ethertype(uint32_t af)
{
	switch (af) {
	case 2:
		return ETH_P_IP;
	case 24:
	case 28:
	case 30:
		return ETH_P_IPV6;
	}
	return 0;
}

static uint16_t null_ethertype(const uint8_t *p, bool network_order)
{
	uint32_t af = get32(p);

	/* As tshark's null dissector: PPP in HDLC-like framing (FF 03, then
	 * the PPP protocol), and past 1500 an ethertype, not a family. */
	if (!network_order && p[0] == 0xff && p[1] == 0x03)
		return get16(p + 2) == PPP_IP ? ETH_P_IP :
		       get16(p + 2) == PPP_IPV6 ? ETH_P_IPV6 : 0;

	/* NULL: written in the writer's order, most often little-endian;
	 * a family is small, so the order it fits in is the right one. */
	if (!network_order)
		af = __builtin_bswap32(af);
	if (!network_order && af & 0xffff0000)
		af = __builtin_bswap32(af);
	if (!network_order && af > ETH_802_3_MAX)
		return af <= 0xffff ? af : 0;
	return af_to_ethertype(af);
}


/* The link-layer header of a frame: how long it is, and what the
 * synthesized Ethernet header says in its place. */
struct link {
	uint32_t hlen;	     /* bytes of the capture's own header */
	bool synth;	     /* an Ethernet header goes in its place */
	uint16_t ethertype;  /* of the synthesized header */
	bool llc;	     /* an 802.2 frame: an 802.3 length instead */
	const uint8_t *addr; /* source address of the synthesized header */
	uint32_t ifindex;    /* from the header, 0 when it says none */
	uint16_t pkt_type;
};

/* CAPTURE_REFUSE_MAX, or the refusal. */
static enum capture_refusal read_link(int encap, const uint8_t *d,
				      uint32_t caplen, struct link *l)
{
	*l = (struct link){ .pkt_type = XPP_FRAME_META_NO_PKT_TYPE };
	switch (encap) {
	case WTAP_ENCAP_ETHERNET:
		return CAPTURE_REFUSE_MAX;
	case WTAP_ENCAP_SLL: /* packet type, ARPHRD, address length,
			      * address[8], protocol */
		l->hlen = 16;
		if (caplen < l->hlen)
			return CAPTURE_REFUSE_LINK_HEADER;
		l->pkt_type = get16(d);
		l->ethertype = get16(d + 14);
		if (get16(d + 4) == 6)
			l->addr = d + 6;
		/* Netlink's protocol is a netlink family, not an
		 * ethertype; IPGRE's is the GRE protocol type, which is the
		 * ethertype for what it carries (tshark reads it so). */
		if (get16(d + 2) == ARPHRD_NETLINK)
			l->ethertype = 0;
		break;
	case WTAP_ENCAP_SLL2: /* protocol, reserved, ifindex, ARPHRD,
			       * packet type, address length, address[8] */
		l->hlen = 20;
		if (caplen < l->hlen)
			return CAPTURE_REFUSE_LINK_HEADER;
		l->ethertype = get16(d);
		l->ifindex = get32(d + 4);
		l->pkt_type = d[10];
		if (d[11] == 6)
			l->addr = d + 12;
		if (get16(d + 8) == ARPHRD_NETLINK)
			l->ethertype = 0;
		break;
	case WTAP_ENCAP_RAW_IP: /* DLT 12, 14, LINKTYPE 101 */
	case WTAP_ENCAP_RAW_IP4: /* LINKTYPE 228, 229: tshark too goes by */
	case WTAP_ENCAP_RAW_IP6: /* the version, whatever the link type says */
		/* No link header: an empty frame is not IP, not cut. */
		l->ethertype = caplen < 1 ? 0 :
			       d[0] >> 4 == 4 ? ETH_P_IP :
			       d[0] >> 4 == 6 ? ETH_P_IPV6 :
						0;
		break;
	case WTAP_ENCAP_NULL:
	case WTAP_ENCAP_LOOP:
		l->hlen = 4;
		if (caplen < l->hlen)
			return CAPTURE_REFUSE_LINK_HEADER;
		l->ethertype = null_ethertype(d, encap == WTAP_ENCAP_LOOP);
		break;
	default:
		return CAPTURE_REFUSE_LINK_TYPE;
	}
	if ((encap == WTAP_ENCAP_SLL || encap == WTAP_ENCAP_SLL2) &&
	    l->ethertype == SLL_PROTO_802_2)
		l->llc = true;
	else if (l->ethertype < 0x0600)
		l->ethertype = ETHERTYPE_NOT_IP;
	l->synth = true;
	return CAPTURE_REFUSE_MAX;
}

static int set_time(struct capture *c, struct capture_frame *f,
		    struct xpp_frame_meta *m)
{
	long long sec = c->rec.ts.secs;
	long long nsec = c->rec.ts.nsecs;

	if (!(c->rec.presence_flags & WTAP_HAS_TS))
		return refuse(f, CAPTURE_REFUSE_NO_TS,
			      "the record has no timestamp");
	sec += nsec / 1000000000;
	nsec %= 1000000000;
	if (nsec < 0) {
		sec--;
		nsec += 1000000000;
	}
	if (sec < 0)
		return refuse(f, CAPTURE_REFUSE_BEFORE_1970,
			      "timestamp %lld.%09lld s is before 1970", sec,
			      nsec);
	if (sec > TS_MAX_SEC || (sec == TS_MAX_SEC && nsec > TS_MAX_NSEC))
		return refuse(f, CAPTURE_REFUSE_AFTER_2554,
			      "timestamp %lld.%09lld s is past 2554-07-21, "
			      "the end of u64 ns since 1970",
			      sec, nsec);
	m->ts_ns = (uint64_t)sec * 1000000000ULL + (uint64_t)nsec;
	return 0;
}

/* The record in c->rec, its bytes at d, handed over at out: metadata,
 * then the frame (d may already be there). */
static int frame(struct capture *c, struct capture_frame *f, const uint8_t *d,
		 uint8_t *out)
{
	const wtap_packet_header *h = &c->rec.rec_header.packet_header;
	struct xpp_frame_meta m;
	uint32_t caplen = h->caplen, wire = h->len, room = c->max_len;
	uint8_t *to = out + sizeof(m);
	enum capture_refusal why;
	struct link l;
	int r, encap = h->pkt_encap;

	if (encap > 0 && encap < c->n_encaps)
		c->per_encap[encap]++;
	else
		c->per_encap[0]++;
	why = read_link(encap, d, caplen, &l);
	if (why == CAPTURE_REFUSE_LINK_HEADER)
		return refuse(f, why, "%u bytes, shorter than its %s header",
			      caplen, wtap_encap_name(encap));
	if (why != CAPTURE_REFUSE_MAX)
		return refuse(f, why, "link type %s (%s) is not supported",
			      wtap_encap_name(encap),
			      wtap_encap_description(encap));
	m = (struct xpp_frame_meta){.magic = XPP_FRAME_META_MAGIC,
				    .pkt_type = l.pkt_type,
				    .ifindex = l.ifindex};
	r = set_time(c, f, &m);
	if (r)
		return r;
	if (!m.ifindex && c->rec.presence_flags & WTAP_HAS_INTERFACE_ID)
		m.ifindex = h->interface_id + 1;
	if (caplen > wire)
		wire = caplen; /* cannot be; tshark believes the bytes too */
	if (encap == WTAP_ENCAP_ETHERNET &&
	    h->pseudo_header.eth.fcs_len > 0) {
		/* The FCS ends the frame on the wire: gone from both
		 * lengths, and from the bytes where the capture holds it. */
		/* 2 or 4 bytes; any other if_fcslen, as tshark, means the
		 * Ethernet FCS of 4. */
		uint32_t fcs = h->pseudo_header.eth.fcs_len == 2 ? 2 : 4;

		wire = wire > fcs ? wire - fcs : 0;
		if (caplen > wire)
			caplen = wire;
	}
	if (caplen < wire)
		c->st.snap_cut++;
	d += l.hlen;
	caplen -= l.hlen;
	wire = wire > l.hlen ? wire - l.hlen : 0;
	if (l.synth) {
		memset(to, 0, ETH_HLEN);
		if (l.addr)
			memcpy(to + 6, l.addr, 6);
		/* The 802.3 length of what follows, or, past what a length
		 * can say, the Jumbo LLC ethertype (no length, as tshark). */
		if (l.llc)
			l.ethertype = wire <= ETH_802_3_MAX ? wire : ETH_P_JUMBO_LLC;
		to[12] = l.ethertype >> 8;
		to[13] = l.ethertype;
		to += ETH_HLEN;
		room -= ETH_HLEN;
		wire += ETH_HLEN;
		f->len = ETH_HLEN;
	} else {
		f->len = 0;
	}
	if (caplen > room) {
		caplen = room;
		c->st.clipped++;
	}
	if (to != d)
		memcpy(to, d, caplen);
	f->len += caplen;
	m.wire_len = wire;
	/* out is where the frame lies in the file's bytes: not aligned. */
	memcpy(out, &m, sizeof(m));
	f->buf = out;
	f->meta_len = sizeof(m);
	f->ts_ns = m.ts_ns;
	f->wire_len = m.wire_len;
	f->ifindex = m.ifindex;
	f->pkt_type = m.pkt_type;
	return CAPTURE_FRAME;
}

#define FAST_LEAVE (-2)

/* The next record of a plain pcap file, or FAST_LEAVE: libwiretap is to
 * read it. What wiretap 4.0 makes of such a record: no options, no
 * interface, no FCS length (-1). */
static int fast_next(struct capture *c, struct capture_frame *f)
{
	struct fast *s = &c->fast;
	wtap_packet_header *ph = &c->rec.rec_header.packet_header;
	uint32_t sec, frac, caplen, wire;
	uint8_t *h, *d;
	size_t n;

	n = fast_fill(s, PCAP_REC_HDR);
	if (n == 0 && !s->failed)
		return 0;
	if (n < PCAP_REC_HDR)
		return FAST_LEAVE; /* cut short or unreadable: wiretap says */
	h = s->buf + FAST_ROOM + s->pos;
	sec = fast32(s, h);
	frac = fast32(s, h + 4);
	caplen = fast32(s, h + 8);
	wire = fast32(s, h + 12);
	if (frac >= (s->nsec ? 1000000000u : 1000000u) || caplen > wire ||
	    caplen > WTAP_MAX_PACKET_SIZE_STANDARD)
		return FAST_LEAVE;
	if (fast_fill(s, PCAP_REC_HDR + caplen) < PCAP_REC_HDR + caplen)
		return FAST_LEAVE;
	d = s->buf + FAST_ROOM + s->pos + PCAP_REC_HDR;
	s->pos += PCAP_REC_HDR + caplen;
	s->records++;
	c->rec.rec_type = REC_TYPE_PACKET;
	c->rec.presence_flags = WTAP_HAS_TS | WTAP_HAS_CAP_LEN;
	c->rec.ts.secs = sec;
	c->rec.ts.nsecs = s->nsec ? frac : frac * 1000;
	ph->caplen = caplen;
	ph->len = wire;
	ph->pkt_encap = WTAP_ENCAP_ETHERNET;
	ph->interface_id = 0;
	ph->pseudo_header.eth.fcs_len = -1;
	return frame(c, f, d, d - sizeof(struct xpp_frame_meta));
}

/* libwiretap reads the rest of the file: past the records handed over. */
static int fast_leave(struct capture *c)
{
	uint64_t i, n = c->fast.records;
	char *info = NULL;
	int64_t off;
	int e = 0;

	fast_close(&c->fast);
	for (i = 0; i < n; i++) {
		if (!wtap_read(c->w, &c->rec, &c->buf, &e, &info, &off)) {
			if (e) {
				set_wtap_error(c, e, info);
				return -1;
			}
			g_free(info);
			snprintf(c->err, sizeof(c->err),
				 "libwiretap ends the file after %llu records, "
				 "not %llu",
				 (unsigned long long)i, (unsigned long long)n);
			return -1;
		}
		g_free(info);
		info = NULL;
		wtap_rec_reset(&c->rec);
	}
	return 0;
}

int capture_next(struct capture *c, struct capture_frame *f)
{
	char *info = NULL;
	int64_t off;
	int e = 0, r;

	if (c->fast.fd >= 0) {
		r = fast_next(c, f);
		if (r != FAST_LEAVE) {
			if (r > 0)
				c->st.frames++;
			if (r == CAPTURE_REFUSED)
				c->st.refused[f->refusal]++;
			return r;
		}
		if (fast_leave(c))
			return -1;
	}
	if (!wtap_read(c->w, &c->rec, &c->buf, &e, &info, &off)) {
		if (!e) {
			g_free(info);
			return 0;
		}
		set_wtap_error(c, e, info);
		return -1;
	}
	/* Some readers leave a note here with a good record. */
	g_free(info);
	c->st.frames++;
	if (c->rec.rec_type != REC_TYPE_PACKET)
		r = refuse(f, CAPTURE_REFUSE_NOT_PACKET,
			   "a record of type %u, not a packet",
			   c->rec.rec_type);
	else
		r = frame(c, f, ws_buffer_start_ptr(&c->buf), c->out);
	if (r == CAPTURE_REFUSED)
		c->st.refused[f->refusal]++;
	/* Options (comments, hashes...) are not ours to keep. */
	wtap_rec_reset(&c->rec);
	return r;
}

const char *capture_error(struct capture *c)
{
	return c->err;
}

const struct capture_stats *capture_stats(struct capture *c)
{
	return &c->st;
}

void capture_link_counts(struct capture *c,
			 void (*fn)(void *ctx, const char *name,
				    uint64_t frames),
			 void *ctx)
{
	int i;

	for (i = 1; i < c->n_encaps; i++)
		if (c->per_encap[i])
			fn(ctx, wtap_encap_name(i), c->per_encap[i]);
	if (c->per_encap[0])
		fn(ctx, "unknown", c->per_encap[0]);
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	if (c->per_encap) {
		wtap_rec_cleanup(&c->rec);
		ws_buffer_free(&c->buf);
	}
	fast_close(&c->fast);
	wtap_close(c->w);
	free(c->per_encap);
	free(c->out);
	free(c);
}
