// SPDX-License-Identifier: GPL-2.0-only
/*
 * IPFIX export (ipfix.h). Two threads meet in the queue: the loop appends
 * at the tail (or drops, when it is full), the exporter's thread copies a
 * batch from the head, sends it, and only then removes it. A batch that
 * could not be sent stays at the head and goes again after the next
 * connection: a collector that goes away and comes back loses what the
 * queue could not hold, counted as dropped, and nothing else that the
 * exporter could know of.
 *
 * Transport. UDP: libfixbuf's network exporter (fbExporterAllocNet); the
 * templates go again every ipfix_template_refresh s (RFC 7011, 8.4). TCP:
 * the daemon connects the socket itself, with a timeout, and hands it to
 * libfixbuf (fbExporterAllocFP); libfixbuf's own TCP exporter connects
 * without a timeout and cannot tell that the collector closed the
 * connection until a write fails, by when the message before it is gone.
 * Before each message the socket is checked for the collector's close,
 * and after a loss the thread connects again after 0.25 s, doubling up to
 * 8 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>

#include <fixbuf/public.h>

#include "ipfix.h"
#include "log.h"
#include "util.h"

#define IPFIX_BATCH 64
#define IPFIX_BACKOFF_MIN_MS 250
#define IPFIX_BACKOFF_MAX_MS 8000
#define IPFIX_IO_TIMEOUT_MS 5000
#define IPFIX_TID4 0x0400
#define IPFIX_TID6 0x0600

/* 1900-01-01 to 1970-01-01, for the NTP format of dateTimeNanoseconds. */
#define NTP_EPOCH_OFFSET 2208988800ULL

enum ipfix_state {
	ST_CONNECTING,
	ST_UP,
	ST_DOWN,
	ST_STOPPED,
};

static const char *const state_names[] = {
	[ST_CONNECTING] = "connecting",
	[ST_UP] = "up",
	[ST_DOWN] = "down",
	[ST_STOPPED] = "stopped",
};

/*
 * The enterprise-specific elements (docs/flows.md, "IPFIX"). Reversible
 * ones describe src2dst; their reverse (RFC 5103: the same number with
 * bit 0x4000, the same PEN) describes dst2src. Those named bidir... are
 * of both directions together.
 */
/* An element of ours: integers and floats in network order. */
#define XPP_IE(name, num, len, flags, type, desc)                            \
	FB_IE_INIT_FULL(name, XPP_IPFIX_PEN, num, len, FB_IE_F_ENDIAN | (flags), \
			0, 0, type, desc)
/* One that has a reverse. */
#define XPP_RIE(name, num, len, flags, type, desc)                           \
	XPP_IE(name, num, len, FB_IE_F_REVERSIBLE | (flags), type, desc)

static fbInfoElement_t xpp_elements[] = {
	XPP_RIE("xppMeanPacketSize", 1, 8, FB_UNITS_OCTETS, FB_FLOAT_64,
		"mean packet size"),
	XPP_RIE("xppStddevPacketSize", 2, 8, FB_UNITS_OCTETS, FB_FLOAT_64,
		"sample standard deviation of the packet sizes"),
	XPP_RIE("xppMinPacketSize", 3, 4, FB_UNITS_OCTETS, FB_UINT_32,
		"smallest packet size"),
	XPP_RIE("xppMaxPacketSize", 4, 4, FB_UNITS_OCTETS, FB_UINT_32,
		"largest packet size"),
	XPP_RIE("xppMeanPiat", 5, 8, FB_UNITS_NANOSECONDS, FB_FLOAT_64,
		"mean packet inter-arrival time"),
	XPP_RIE("xppStddevPiat", 6, 8, FB_UNITS_NANOSECONDS, FB_FLOAT_64,
		"sample standard deviation of the inter-arrival times"),
	XPP_RIE("xppMinPiat", 7, 8, FB_UNITS_NANOSECONDS, FB_UINT_64,
		"smallest inter-arrival time"),
	XPP_RIE("xppMaxPiat", 8, 8, FB_UNITS_NANOSECONDS, FB_UINT_64,
		"largest inter-arrival time"),
	XPP_IE("xppBidirMeanPacketSize", 9, 8, FB_UNITS_OCTETS, FB_FLOAT_64,
	       "mean packet size, both directions"),
	XPP_IE("xppBidirStddevPacketSize", 10, 8, FB_UNITS_OCTETS,
	       FB_FLOAT_64,
	       "standard deviation of the packet sizes, both directions"),
	XPP_IE("xppBidirMinPacketSize", 11, 4, FB_UNITS_OCTETS, FB_UINT_32,
	       "smallest packet size, both directions"),
	XPP_IE("xppBidirMaxPacketSize", 12, 4, FB_UNITS_OCTETS, FB_UINT_32,
	       "largest packet size, both directions"),
	XPP_IE("xppBidirMeanPiat", 13, 8, FB_UNITS_NANOSECONDS, FB_FLOAT_64,
	       "mean inter-arrival time, both directions"),
	XPP_IE("xppBidirStddevPiat", 14, 8, FB_UNITS_NANOSECONDS, FB_FLOAT_64,
	       "standard deviation of the inter-arrival times, both "
	       "directions"),
	XPP_IE("xppBidirMinPiat", 15, 8, FB_UNITS_NANOSECONDS, FB_UINT_64,
	       "smallest inter-arrival time, both directions"),
	XPP_IE("xppBidirMaxPiat", 16, 8, FB_UNITS_NANOSECONDS, FB_UINT_64,
	       "largest inter-arrival time, both directions"),
	XPP_RIE("xppFirstTtl", 17, 1, FB_UNITS_HOPS, FB_UINT_8,
		"IPv4 TTL or IPv6 hop limit of the first packet"),
	XPP_RIE("xppFirstTcpWindow", 18, 2, 0, FB_UINT_16,
		"TCP window of the first packet, unscaled"),
	XPP_RIE("xppEcePackets", 19, 8, FB_IE_DELTACOUNTER | FB_UNITS_PACKETS,
		FB_UINT_64, "TCP packets with ECE"),
	XPP_RIE("xppCwrPackets", 20, 8, FB_IE_DELTACOUNTER | FB_UNITS_PACKETS,
		FB_UINT_64, "TCP packets with CWR"),
	XPP_IE("xppAccounting", 21, 1, FB_IE_IDENTIFIER, FB_UINT_8,
	       "what a packet's size is: 0 link, 1 ip, 2 transport, "
	       "3 payload"),
	XPP_IE("xppSpltDirection", 22, FB_IE_VARLEN, 0, FB_OCTET_ARRAY,
	       "early flow: one octet per packet, 0 src2dst, 1 dst2src"),
	XPP_IE("xppSpltPacketSize", 23, FB_IE_VARLEN, FB_UNITS_OCTETS,
	       FB_OCTET_ARRAY,
	       "early flow: packet sizes, unsigned32 each, network order"),
	XPP_IE("xppSpltPiat", 24, FB_IE_VARLEN, FB_UNITS_NANOSECONDS,
	       FB_OCTET_ARRAY,
	       "early flow: inter-arrival times in ns, unsigned64 each, "
	       "network order"),
	FB_IE_NULL,
};

/*
 * The record as libfixbuf reads it: the template's elements in order,
 * without padding. The addresses come first, 4 or 16 bytes each, in one
 * of the two templates.
 */
struct ipfix_body {
	uint64_t start_ntp, end_ntp;	/* flowStart/EndNanoseconds */
	uint64_t start_ms, end_ms;	/* flowStart/EndMilliseconds */
	uint64_t packets, rpackets, octets, roctets;
	uint64_t syn, rsyn, fin, rfin, rst, rrst, psh, rpsh, ack, rack, urg,
		rurg, ece, rece, cwr, rcwr;
	double mean_ps, rmean_ps, stddev_ps, rstddev_ps;
	double mean_piat, rmean_piat, stddev_piat, rstddev_piat;
	uint64_t min_piat, rmin_piat, max_piat, rmax_piat;
	double bmean_ps, bstddev_ps, bmean_piat, bstddev_piat;
	uint64_t bmin_piat, bmax_piat;
	uint32_t ingress;
	uint32_t min_ps, rmin_ps, max_ps, rmax_ps, bmin_ps, bmax_ps;
	uint16_t sport, dport, vlan, window, rwindow;
	uint8_t tcp_flags, rtcp_flags; /* reduced size: FIN to CWR */
	uint8_t proto, end_reason, ttl, rttl, accounting;
	fbVarfield_t splt_dir, splt_ps, splt_piat;
} __attribute__((packed));

struct ipfix_rec4 {
	uint32_t src, dst; /* host order, as libfixbuf wants unsigned32 */
	struct ipfix_body b;
} __attribute__((packed));

struct ipfix_rec6 {
	uint8_t src[16], dst[16];
	struct ipfix_body b;
} __attribute__((packed));

#define SPEC(name, len) { (char *)(name), len, 0 }

static fbInfoElementSpec_t spec4[] = {
	SPEC("sourceIPv4Address", 4), SPEC("destinationIPv4Address", 4),
	{ NULL, 0, 0 },
};

static fbInfoElementSpec_t spec6[] = {
	SPEC("sourceIPv6Address", 16), SPEC("destinationIPv6Address", 16),
	{ NULL, 0, 0 },
};

/* In the order of struct ipfix_body. */
static fbInfoElementSpec_t spec_body[] = {
	SPEC("flowStartNanoseconds", 8), SPEC("flowEndNanoseconds", 8),
	SPEC("flowStartMilliseconds", 8), SPEC("flowEndMilliseconds", 8),
	SPEC("packetDeltaCount", 8), SPEC("reversePacketDeltaCount", 8),
	SPEC("octetDeltaCount", 8), SPEC("reverseOctetDeltaCount", 8),
	SPEC("tcpSynTotalCount", 8), SPEC("reverseTcpSynTotalCount", 8),
	SPEC("tcpFinTotalCount", 8), SPEC("reverseTcpFinTotalCount", 8),
	SPEC("tcpRstTotalCount", 8), SPEC("reverseTcpRstTotalCount", 8),
	SPEC("tcpPshTotalCount", 8), SPEC("reverseTcpPshTotalCount", 8),
	SPEC("tcpAckTotalCount", 8), SPEC("reverseTcpAckTotalCount", 8),
	SPEC("tcpUrgTotalCount", 8), SPEC("reverseTcpUrgTotalCount", 8),
	SPEC("xppEcePackets", 8), SPEC("reverseXppEcePackets", 8),
	SPEC("xppCwrPackets", 8), SPEC("reverseXppCwrPackets", 8),
	SPEC("xppMeanPacketSize", 8), SPEC("reverseXppMeanPacketSize", 8),
	SPEC("xppStddevPacketSize", 8), SPEC("reverseXppStddevPacketSize", 8),
	SPEC("xppMeanPiat", 8), SPEC("reverseXppMeanPiat", 8),
	SPEC("xppStddevPiat", 8), SPEC("reverseXppStddevPiat", 8),
	SPEC("xppMinPiat", 8), SPEC("reverseXppMinPiat", 8),
	SPEC("xppMaxPiat", 8), SPEC("reverseXppMaxPiat", 8),
	SPEC("xppBidirMeanPacketSize", 8), SPEC("xppBidirStddevPacketSize", 8),
	SPEC("xppBidirMeanPiat", 8), SPEC("xppBidirStddevPiat", 8),
	SPEC("xppBidirMinPiat", 8), SPEC("xppBidirMaxPiat", 8),
	SPEC("ingressInterface", 4),
	SPEC("xppMinPacketSize", 4), SPEC("reverseXppMinPacketSize", 4),
	SPEC("xppMaxPacketSize", 4), SPEC("reverseXppMaxPacketSize", 4),
	SPEC("xppBidirMinPacketSize", 4), SPEC("xppBidirMaxPacketSize", 4),
	SPEC("sourceTransportPort", 2), SPEC("destinationTransportPort", 2),
	SPEC("vlanId", 2),
	SPEC("xppFirstTcpWindow", 2), SPEC("reverseXppFirstTcpWindow", 2),
	/* One octet (RFC 7011, 6.2): the eight flags the record counts, and
	 * what collectors such as nfdump read. */
	SPEC("tcpControlBits", 1), SPEC("reverseTcpControlBits", 1),
	SPEC("protocolIdentifier", 1), SPEC("flowEndReason", 1),
	SPEC("xppFirstTtl", 1), SPEC("reverseXppFirstTtl", 1),
	SPEC("xppAccounting", 1),
	SPEC("xppSpltDirection", FB_IE_VARLEN),
	SPEC("xppSpltPacketSize", FB_IE_VARLEN),
	SPEC("xppSpltPiat", FB_IE_VARLEN),
	{ NULL, 0, 0 },
};

struct ipfix_exporter {
	/* Shared, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct xpp_flow_record *q;
	unsigned int cap, head, len;
	bool stop;
	int stop_fd; /* readable once stopping: ends a connection attempt */
	uint64_t stop_deadline_ns;
	enum ipfix_state state;
	uint64_t exported, dropped, reconnects, send_errors;
	char last_error[160];

	/* The thread's own. */
	pthread_t thread;
	bool started;
	char host[256], port[6];
	bool tcp;
	uint32_t domain;
	uint64_t refresh_ns;
	bool said_down;		/* warned since the last connection */
	fbInfoModel_t *model;
	fBuf_t *fbuf;
	FILE *fp;		/* TCP: the socket, as libfixbuf writes it */
	int fd;
	bool ever_connected;
	uint64_t templates_ns;	/* when the templates went last (UDP) */
	unsigned int backoff_ms;
	struct xpp_flow_record *batch;
	/* The SPLT arrays of one record, in network order. */
	uint8_t splt_dir[XPP_SPLT_MAX];
	uint32_t splt_ps[XPP_SPLT_MAX];
	uint64_t splt_piat[XPP_SPLT_MAX];
};

static uint64_t ntp_of_ns(uint64_t ns)
{
	uint64_t s = ns / 1000000000ULL, frac = ns % 1000000000ULL;

	/* The fraction in units of 2^-32 s, rounded down. */
	return (s + NTP_EPOCH_OFFSET) << 32 | (frac << 32) / 1000000000ULL;
}

static uint8_t tcp_bits(const struct xpp_flow_dir *d)
{
	uint8_t bits = 0;
	unsigned int i;

	for (i = 0; i < XPP_TCP_FLAGS; i++)
		if (d->flag_packets[i])
			bits |= 1u << i;
	return bits;
}

static void set_error(struct ipfix_exporter *x, const char *what,
		      const char *why)
{
	pthread_mutex_lock(&x->lock);
	snprintf(x->last_error, sizeof(x->last_error), "%s: %s", what, why);
	pthread_mutex_unlock(&x->lock);
}

static void set_state(struct ipfix_exporter *x, enum ipfix_state st)
{
	pthread_mutex_lock(&x->lock);
	x->state = st;
	pthread_mutex_unlock(&x->lock);
}

static void fill_body(struct ipfix_exporter *x, const struct xpp_flow_record *r,
		      struct ipfix_body *b)
{
	const struct xpp_flow *f = &r->flow;
	const struct xpp_flow_dir *s = &f->src2dst, *d = &f->dst2src,
				  *bi = &f->bidir;
	unsigned int i, n = f->splt_len;

	memset(b, 0, sizeof(*b));
	b->start_ntp = ntp_of_ns(bi->first_seen_ns);
	b->end_ntp = ntp_of_ns(bi->last_seen_ns);
	b->start_ms = bi->first_seen_ns / 1000000;
	b->end_ms = bi->last_seen_ns / 1000000;
	b->packets = s->packets;
	b->rpackets = d->packets;
	b->octets = s->bytes;
	b->roctets = d->bytes;
	b->syn = s->flag_packets[XPP_TCP_SYN];
	b->rsyn = d->flag_packets[XPP_TCP_SYN];
	b->fin = s->flag_packets[XPP_TCP_FIN];
	b->rfin = d->flag_packets[XPP_TCP_FIN];
	b->rst = s->flag_packets[XPP_TCP_RST];
	b->rrst = d->flag_packets[XPP_TCP_RST];
	b->psh = s->flag_packets[XPP_TCP_PSH];
	b->rpsh = d->flag_packets[XPP_TCP_PSH];
	b->ack = s->flag_packets[XPP_TCP_ACK];
	b->rack = d->flag_packets[XPP_TCP_ACK];
	b->urg = s->flag_packets[XPP_TCP_URG];
	b->rurg = d->flag_packets[XPP_TCP_URG];
	b->ece = s->flag_packets[XPP_TCP_ECE];
	b->rece = d->flag_packets[XPP_TCP_ECE];
	b->cwr = s->flag_packets[XPP_TCP_CWR];
	b->rcwr = d->flag_packets[XPP_TCP_CWR];
	b->mean_ps = r->mean_ps[1];
	b->rmean_ps = r->mean_ps[2];
	b->stddev_ps = r->stddev_ps[1];
	b->rstddev_ps = r->stddev_ps[2];
	b->mean_piat = r->mean_piat_ns[1];
	b->rmean_piat = r->mean_piat_ns[2];
	b->stddev_piat = r->stddev_piat_ns[1];
	b->rstddev_piat = r->stddev_piat_ns[2];
	b->min_piat = s->min_piat_ns;
	b->rmin_piat = d->min_piat_ns;
	b->max_piat = s->max_piat_ns;
	b->rmax_piat = d->max_piat_ns;
	b->bmean_ps = r->mean_ps[0];
	b->bstddev_ps = r->stddev_ps[0];
	b->bmean_piat = r->mean_piat_ns[0];
	b->bstddev_piat = r->stddev_piat_ns[0];
	b->bmin_piat = bi->min_piat_ns;
	b->bmax_piat = bi->max_piat_ns;
	b->ingress = r->ifindex;
	b->min_ps = s->min_ps;
	b->rmin_ps = d->min_ps;
	b->max_ps = s->max_ps;
	b->rmax_ps = d->max_ps;
	b->bmin_ps = bi->min_ps;
	b->bmax_ps = bi->max_ps;
	b->sport = r->src_port;
	b->dport = r->dst_port;
	b->vlan = r->vlan_id;
	b->tcp_flags = tcp_bits(s);
	b->rtcp_flags = tcp_bits(d);
	b->window = s->first_window;
	b->rwindow = d->first_window;
	b->proto = r->proto;
	b->end_reason = r->end_reason;
	b->ttl = s->first_ttl;
	b->rttl = d->first_ttl;
	b->accounting = r->accounting;
	if (n > XPP_SPLT_MAX)
		n = XPP_SPLT_MAX;
	for (i = 0; i < n; i++) {
		x->splt_dir[i] = (f->splt_direction >> i) & 1;
		x->splt_ps[i] = htonl(f->splt_ps[i]);
		x->splt_piat[i] = htobe64(f->splt_piat_ns[i]);
	}
	b->splt_dir = (fbVarfield_t){ n, x->splt_dir };
	b->splt_ps = (fbVarfield_t){ n * 4, (uint8_t *)x->splt_ps };
	b->splt_piat = (fbVarfield_t){ n * 8, (uint8_t *)x->splt_piat };
}

/* Appends one flow to the message buffer (libfixbuf emits full
 * messages on its own). */
static bool append_flow(struct ipfix_exporter *x,
			const struct xpp_flow_record *r, GError **err)
{
	uint16_t tid = r->ip_version == 6 ? IPFIX_TID6 : IPFIX_TID4;

	if (!fBufSetInternalTemplate(x->fbuf, tid, err) ||
	    !fBufSetExportTemplate(x->fbuf, tid, err))
		return false;
	if (tid == IPFIX_TID6) {
		struct ipfix_rec6 rec;

		memcpy(rec.src, r->src_ip, 16);
		memcpy(rec.dst, r->dst_ip, 16);
		fill_body(x, r, &rec.b);
		return fBufAppend(x->fbuf, (uint8_t *)&rec, sizeof(rec), err);
	} else {
		struct ipfix_rec4 rec;
		uint32_t a;

		memcpy(&a, r->src_ip + 12, 4);
		rec.src = ntohl(a);
		memcpy(&a, r->dst_ip + 12, 4);
		rec.dst = ntohl(a);
		fill_body(x, r, &rec.b);
		return fBufAppend(x->fbuf, (uint8_t *)&rec, sizeof(rec), err);
	}
}

static fbTemplate_t *template_make(fbInfoModel_t *model,
				   fbInfoElementSpec_t *addrs, GError **err)
{
	fbTemplate_t *t = fbTemplateAlloc(model);

	if (!fbTemplateAppendSpecArray(t, addrs, 0, err) ||
	    !fbTemplateAppendSpecArray(t, spec_body, 0, err)) {
		fbTemplateFreeUnused(t);
		return NULL;
	}
	return t;
}

/* A session with both templates, internal and external. */
static fbSession_t *session_make(struct ipfix_exporter *x, GError **err)
{
	fbSession_t *s = fbSessionAlloc(x->model);
	fbTemplate_t *t4 = NULL, *t6 = NULL;

	/* First: external templates belong to the domain set when they are
	 * added. */
	fbSessionSetDomain(s, x->domain);
	/* Names and types of the enterprise elements (RFC 5610), for
	 * collectors that read them (ipfixDump --rfc5610). */
	if (!fbSessionSetMetadataExportElements(s, TRUE, FB_TID_AUTO, err))
		goto fail;
	t4 = template_make(x->model, spec4, err);
	if (!t4 || !fbSessionAddTemplate(s, TRUE, IPFIX_TID4, t4, err) ||
	    !fbSessionAddTemplate(s, FALSE, IPFIX_TID4, t4, err))
		goto fail;
	t4 = NULL;
	t6 = template_make(x->model, spec6, err);
	if (!t6 || !fbSessionAddTemplate(s, TRUE, IPFIX_TID6, t6, err) ||
	    !fbSessionAddTemplate(s, FALSE, IPFIX_TID6, t6, err))
		goto fail;
	return s;
fail:
	/* A template added to the session is the session's. */
	if (t4 && !fbSessionGetTemplate(s, TRUE, IPFIX_TID4, NULL))
		fbTemplateFreeUnused(t4);
	if (t6 && !fbSessionGetTemplate(s, TRUE, IPFIX_TID6, NULL))
		fbTemplateFreeUnused(t6);
	fbSessionFree(s);
	return NULL;
}

/* TCP: a connected socket, within IPFIX_IO_TIMEOUT_MS, writes bounded by
 * the same; -errno with the cause in x->last_error. */
static int tcp_connect(struct ipfix_exporter *x)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	struct timeval tv = { IPFIX_IO_TIMEOUT_MS / 1000, 0 };
	int fd = -1, r, e = ECONNREFUSED;

	r = getaddrinfo(x->host, x->port, &hints, &res);
	if (r) {
		set_error(x, "resolving the collector", gai_strerror(r));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		socklen_t len = sizeof(e);

		fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		if (e == EINPROGRESS) {
			struct pollfd p[2] = {
				{ .fd = fd, .events = POLLOUT },
				{ .fd = x->stop_fd, .events = POLLIN },
			};

			e = ETIMEDOUT;
			if (poll(p, 2, IPFIX_IO_TIMEOUT_MS) > 0) {
				if (p[1].revents)
					e = ECANCELED;
				else if (!getsockopt(fd, SOL_SOCKET, SO_ERROR,
						     &e, &len) &&
					 !e)
					break;
			}
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		set_error(x, "connecting to the collector", strerror(e));
		return -e;
	}
	/* Blocking from here, each write bounded. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Whether the collector closed the TCP connection (it sends nothing). */
static bool tcp_closed(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };

	return poll(&p, 1, 0) == 1 &&
	       (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLIN));
}

static void disconnect(struct ipfix_exporter *x)
{
	if (x->fbuf)
		fBufFree(x->fbuf); /* the session and the exporter too */
	x->fbuf = NULL;
	if (x->fp)
		fclose(x->fp);
	x->fp = NULL;
	x->fd = -1;
}

static bool send_templates(struct ipfix_exporter *x, GError **err)
{
	if (!fbSessionExportTemplates(fBufGetSession(x->fbuf), err) ||
	    !fBufEmit(x->fbuf, err))
		return false;
	x->templates_ns = xpp_mono_ns();
	return true;
}

static bool do_connect(struct ipfix_exporter *x)
{
	fbConnSpec_t spec = FB_CONNSPEC_INIT;
	fbExporter_t *exp;
	fbSession_t *s;
	GError *err = NULL;
	int fd;

	set_state(x, ST_CONNECTING);
	s = session_make(x, &err);
	if (!s)
		goto fail;
	if (x->tcp) {
		fd = tcp_connect(x);
		if (fd < 0) {
			fbSessionFree(s);
			return false;
		}
		x->fp = fdopen(fd, "w");
		if (!x->fp) {
			close(fd);
			fbSessionFree(s);
			set_error(x, "connecting", strerror(errno));
			return false;
		}
		setvbuf(x->fp, NULL, _IONBF, 0);
		x->fd = fd;
		exp = fbExporterAllocFP(x->fp);
	} else {
		spec.transport = FB_UDP;
		spec.host = x->host;
		spec.svc = x->port;
		exp = fbExporterAllocNet(&spec);
	}
	x->fbuf = fBufAllocForExport(s, exp);
	if (!send_templates(x, &err))
		goto fail;
	pthread_mutex_lock(&x->lock);
	x->state = ST_UP;
	if (x->ever_connected)
		x->reconnects++;
	pthread_mutex_unlock(&x->lock);
	pr_info("ipfix: exporting to %s port %s over %s", x->host, x->port,
		x->tcp ? "TCP" : "UDP");
	x->ever_connected = true;
	x->said_down = false;
	x->backoff_ms = 0;
	return true;
fail:
	set_error(x, "connecting", err ? err->message : "failed");
	g_clear_error(&err);
	if (x->fbuf)
		disconnect(x);
	else if (s)
		fbSessionFree(s);
	return false;
}

/* Sends n flows from the batch in one message (or as many as libfixbuf
 * needs). */
static bool send_batch(struct ipfix_exporter *x, unsigned int n)
{
	GError *err = NULL;
	unsigned int i;

	if (x->tcp && tcp_closed(x->fd)) {
		set_error(x, "sending", "the collector closed the connection");
		return false;
	}
	if (!x->tcp &&
	    xpp_mono_ns() - x->templates_ns >= x->refresh_ns &&
	    !send_templates(x, &err))
		goto fail;
	if (!n)
		return true;
	for (i = 0; i < n; i++)
		if (!append_flow(x, &x->batch[i], &err))
			goto fail;
	if (!fBufEmit(x->fbuf, &err))
		goto fail;
	return true;
fail:
	set_error(x, "sending", err ? err->message : "failed");
	g_clear_error(&err);
	return false;
}

static void add_ns(struct timespec *ts, uint64_t ns)
{
	ns += ts->tv_nsec;
	ts->tv_sec += ns / 1000000000ULL;
	ts->tv_nsec = ns % 1000000000ULL;
}

/* Waits (lock held) until woken, stopped or ms have passed. */
static void wait_locked(struct ipfix_exporter *x, unsigned int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	add_ns(&ts, ms * 1000000ULL);
	pthread_cond_timedwait(&x->cond, &x->lock, &ts);
}

/* Whether an error looks like the unit's sandbox (no IP sockets, no IP
 * addresses): the cause is then in the unit, not the collector. */
static bool sandboxed(const char *error)
{
	return strstr(error, strerror(EAFNOSUPPORT)) ||
	       strstr(error, strerror(EPERM));
}

/* How long a connected, idle thread sleeps (a flow or the stop wakes
 * it): until the UDP templates are due, or an hour (the daemon's loop
 * sleeps without a timer when no traffic comes; this thread does not tick
 * either). */
static unsigned int idle_wait_ms(const struct ipfix_exporter *x)
{
	uint64_t now = xpp_mono_ns(), due = x->templates_ns + x->refresh_ns;

	if (x->tcp)
		return 3600 * 1000;
	return due > now ? (due - now) / 1000000 + 1 : 1;
}

static void *exporter_main(void *arg)
{
	struct ipfix_exporter *x = arg;
	unsigned int n, i, idx;

	for (;;) {
		pthread_mutex_lock(&x->lock);
		/* Connected and nothing to send: sleep. Not connected: connect
		 * now (the backoff below paces the attempts), so that the
		 * state says whether the collector is there. */
		if (!x->len && !x->stop && x->fbuf)
			wait_locked(x, idle_wait_ms(x));
		if (x->stop && (!x->len || xpp_mono_ns() >= x->stop_deadline_ns)) {
			pthread_mutex_unlock(&x->lock);
			break;
		}
		/* Copy the head; it stays queued until it was sent. */
		n = x->len < IPFIX_BATCH ? x->len : IPFIX_BATCH;
		for (i = 0; i < n; i++) {
			idx = (x->head + i) % x->cap;
			x->batch[i] = x->q[idx];
		}
		pthread_mutex_unlock(&x->lock);

		if (!x->fbuf && !do_connect(x)) {
			set_state(x, ST_DOWN);
			if (!x->said_down)
				pr_warn("ipfix: %s; trying again, with backoff%s",
					x->last_error,
					sandboxed(x->last_error) ?
						" (under the systemd unit: "
						"see docs/systemd.md, IPFIX)" :
						"");
			x->said_down = true;
			/* Stopping: no waiting for a collector that is not
			 * there. */
			if (x->stop)
				break;
			x->backoff_ms = x->backoff_ms ?
						x->backoff_ms * 2 :
						IPFIX_BACKOFF_MIN_MS;
			if (x->backoff_ms > IPFIX_BACKOFF_MAX_MS)
				x->backoff_ms = IPFIX_BACKOFF_MAX_MS;
			pthread_mutex_lock(&x->lock);
			if (!x->stop)
				wait_locked(x, x->backoff_ms);
			pthread_mutex_unlock(&x->lock);
			continue;
		}
		if (!n && !(x->fbuf && !x->tcp))
			continue;
		if (!send_batch(x, n)) {
			pr_warn("ipfix: %s; connecting again", x->last_error);
			x->said_down = true;
			disconnect(x);
			pthread_mutex_lock(&x->lock);
			x->send_errors++;
			x->state = ST_DOWN;
			pthread_mutex_unlock(&x->lock);
			continue;
		}
		pthread_mutex_lock(&x->lock);
		x->head = (x->head + n) % x->cap;
		x->len -= n;
		x->exported += n;
		pthread_mutex_unlock(&x->lock);
	}
	disconnect(x);
	set_state(x, ST_STOPPED);
	return NULL;
}

/* The body's spec describes struct ipfix_body, field for field. */
static bool spec_matches_body(void)
{
	size_t sum = 0;
	unsigned int i;

	for (i = 0; spec_body[i].name; i++)
		sum += spec_body[i].len_override == FB_IE_VARLEN ?
			       sizeof(fbVarfield_t) :
			       spec_body[i].len_override;
	return sum == sizeof(struct ipfix_body);
}

struct ipfix_exporter *ipfix_exporter_new(const struct xpp_conf *conf)
{
	struct ipfix_exporter *x = calloc(1, sizeof(*x));
	pthread_condattr_t ca;
	sigset_t all, old;
	int r;

	if (!x)
		return NULL;
	if (!spec_matches_body()) {
		free(x);
		errno = EPROTO;
		return NULL;
	}
	x->stop_fd = -1;
	x->cap = conf->ipfix_queue;
	x->q = calloc(x->cap, sizeof(*x->q));
	x->batch = calloc(IPFIX_BATCH, sizeof(*x->batch));
	if (!x->q || !x->batch) {
		r = ENOMEM;
		goto fail;
	}
	snprintf(x->host, sizeof(x->host), "%s", conf->ipfix_host);
	snprintf(x->port, sizeof(x->port), "%s", conf->ipfix_port);
	x->tcp = conf->ipfix_tcp;
	x->domain = conf->ipfix_domain;
	x->refresh_ns = conf->ipfix_refresh_s * 1000000000ULL;
	x->fd = -1;
	x->state = ST_CONNECTING;
	x->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (x->stop_fd < 0) {
		r = errno;
		goto fail;
	}
	x->model = fbInfoModelAlloc();
	fbInfoModelAddElementArray(x->model, xpp_elements);
	pthread_mutex_init(&x->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&x->cond, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals are the loop's (signalfd): none for this thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&x->thread, NULL, exporter_main, x);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		goto fail_model;
	x->started = true;
	return x;
fail_model:
	pthread_cond_destroy(&x->cond);
	pthread_mutex_destroy(&x->lock);
	fbInfoModelFree(x->model);
fail:
	if (x->stop_fd >= 0)
		close(x->stop_fd);
	free(x->q);
	free(x->batch);
	free(x);
	errno = r;
	return NULL;
}

void ipfix_exporter_free(struct ipfix_exporter *x, unsigned int grace_ms)
{
	if (!x)
		return;
	if (x->started) {
		pthread_mutex_lock(&x->lock);
		x->stop = true;
		x->stop_deadline_ns = xpp_mono_ns() + grace_ms * 1000000ULL;
		pthread_cond_signal(&x->cond);
		pthread_mutex_unlock(&x->lock);
		if (eventfd_write(x->stop_fd, 1) < 0)
			pr_debug("ipfix: waking the exporter: %m");
		pthread_join(x->thread, NULL);
		if (x->len)
			pr_warn("ipfix: %u flow%s not sent at shutdown", x->len,
				x->len == 1 ? "" : "s");
	}
	pthread_cond_destroy(&x->cond);
	pthread_mutex_destroy(&x->lock);
	fbInfoModelFree(x->model);
	close(x->stop_fd);
	free(x->q);
	free(x->batch);
	free(x);
}

void ipfix_exporter_push(struct ipfix_exporter *x,
			 const struct xpp_flow_record *r)
{
	pthread_mutex_lock(&x->lock);
	if (x->len == x->cap) {
		x->dropped++;
	} else {
		x->q[(x->head + x->len) % x->cap] = *r;
		if (!x->len++)
			pthread_cond_signal(&x->cond);
	}
	pthread_mutex_unlock(&x->lock);
}

void ipfix_exporter_status(struct ipfix_exporter *x,
			   struct ipfix_status *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!x) {
		ret->state = "off";
		return;
	}
	pthread_mutex_lock(&x->lock);
	ret->enabled = true;
	ret->state = state_names[x->state];
	ret->exported = x->exported;
	ret->dropped = x->dropped;
	ret->queued = x->len;
	ret->queue_size = x->cap;
	ret->reconnects = x->reconnects;
	ret->send_errors = x->send_errors;
	snprintf(ret->last_error, sizeof(ret->last_error), "%s",
		 x->last_error);
	pthread_mutex_unlock(&x->lock);
}
