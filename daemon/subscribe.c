// SPDX-License-Identifier: GPL-2.0-only
/*
 * Subscriptions: a connection that sent {"cmd":"subscribe"} becomes a
 * stream of packet records, or of flow records ("kind":"flows"). Each
 * subscriber has a bounded queue of raw records; records are encoded
 * only as fast as the peer reads. A full queue loses records for that
 * subscriber alone, counts them and tells it in the stream: a slow reader
 * never stalls the rings, the flow table or the other subscribers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "flows.h"
#include "format.h"
#include "log.h"
#include "request.h"
#include "subscribe.h"
#include "util.h"
#include "xpp/stream.h"

/* Encode no further while this much output waits for the peer. */
#define SUB_OUT_HIGH (256u << 10)

/*
 * Records encoded per flush, over all subscribers. Beyond it the rest
 * waits in the subscribers' queues (which may then lose records, counted):
 * the loop goes back to draining the rings, which must never wait on
 * subscribers.
 */
#define FLUSH_BUDGET 65536

/*
 * Subscribers mostly take the same records in the same order: each text
 * form is encoded once per flush and copied to every subscriber of that
 * format. A direct-mapped cache keyed by the record's ring, sequence
 * number and timestamp, valid for one flush (the wall-clock offset is
 * fixed within it).
 */
#define ENC_CACHE_SLOTS 4096
#define ENC_MAX XPP_FORMAT_MAX
/* A text line of either kind fits. */
#define LINE_MAX_BYTES \
	(XPP_FLOW_FORMAT_MAX > ENC_MAX ? XPP_FLOW_FORMAT_MAX : ENC_MAX)

/* A queue starts this small and doubles up to its size as it fills: a
 * flow record is 1 KiB, and most subscribers keep up. */
#define QUEUE_FIRST 256

enum sub_kind {
	SUB_RECORDS,
	SUB_FLOWS,
};

struct enc_slot {
	uint64_t gen;
	uint64_t ts_ns;
	uint32_t seq;
	uint16_t ring;
	uint16_t len;
	char text[ENC_MAX];
};

struct subscription {
	struct subscription *next;
	struct subscriptions *subs;
	struct conn *c; /* a reference of our own */
	/* The connection's owner's callbacks, told of the end after us. */
	const struct conn_ops *prev_ops;
	void *prev_userdata;
	enum sub_kind kind;
	enum xpp_format fmt;
	enum xpp_flow_columns cols; /* flows */
	/* filter: 0 / -1 mean any */
	char iface[IF_NAMESIZE]; /* by name: followed when it is recreated */
	unsigned int ifindex;	 /* what the name is now */
	int proto;
	int port;
	uint64_t limit; /* records to send, 0: unlimited */
	/* queue of raw records (struct xpp_record or xpp_flow_record, elem
	 * bytes each): cap fixed at the start, alloc of them allocated */
	char *q;
	size_t elem;
	unsigned int cap, alloc, head, len;
	uint64_t queued, sent, lost, lost_unreported;
	uint64_t started_mono_ns;
	bool done; /* limit reached: closing after the output drains */
};

struct subscriptions {
	struct subscription *list;
	unsigned int n;
	struct subscription *flush_start; /* round robin: who goes first */
	struct enc_slot *enc_cache[2];	  /* ndjson, csv */
	uint64_t enc_gen;
	uint64_t flows_lost; /* by every flow subscriber since start */
};

struct subscriptions *subscriptions_new(void)
{
	struct subscriptions *subs = calloc(1, sizeof(*subs));

	if (subs)
		subs->enc_gen = 1;
	return subs;
}

/* A loss marker of the binary stream: a record whose version byte is 0,
 * with the count lost where include/xpp/stream.h says. */
union loss_marker {
	struct xpp_record r;	  /* ts_ns */
	struct xpp_flow_record f; /* flow.bidir.packets */
};

/* Tells the subscriber how many records it lost since the last notice. */
static int report_loss(struct subscription *s)
{
	union loss_marker m;
	char buf[128];
	const void *out = buf;
	int n;

	if (!s->lost_unreported)
		return 0;
	switch (s->fmt) {
	case XPP_FMT_NDJSON:
		n = snprintf(buf, sizeof(buf),
			     "{\"event\":\"lost\",\"count\":%llu,\"total\":%llu}\n",
			     (unsigned long long)s->lost_unreported,
			     (unsigned long long)s->lost);
		break;
	case XPP_FMT_CSV:
		n = snprintf(buf, sizeof(buf), "#lost,%llu,%llu\n",
			     (unsigned long long)s->lost_unreported,
			     (unsigned long long)s->lost);
		break;
	default:
		memset(&m, 0, sizeof(m));
		if (s->kind == SUB_FLOWS)
			m.f.flow.bidir.packets = s->lost_unreported;
		else
			m.r.ts_ns = s->lost_unreported;
		out = &m;
		n = s->elem;
		break;
	}
	if (conn_write(s->c, out, n))
		return -ENOBUFS;
	s->lost_unreported = 0;
	return 0;
}

/* What the filters look at, of a packet record or of a flow. */
struct sub_match {
	unsigned int ifindex;
	int proto, port[2];
};

static bool sub_wants(const struct subscription *s, const struct sub_match *m)
{
	if (s->ifindex && m->ifindex != s->ifindex)
		return false;
	if (s->proto >= 0 && m->proto != s->proto)
		return false;
	if (s->port >= 0 && m->port[0] != s->port && m->port[1] != s->port)
		return false;
	return true;
}

/* Room for one more entry: the queue doubles up to its size. */
static bool queue_room(struct subscription *s)
{
	unsigned int alloc, i;
	char *q;

	if (s->len < s->alloc)
		return true;
	if (s->alloc == s->cap)
		return false;
	alloc = s->alloc * 2 < s->cap ? s->alloc * 2 : s->cap;
	q = malloc((size_t)alloc * s->elem);
	if (!q)
		return false; /* counted as lost, as a full queue */
	for (i = 0; i < s->len; i++)
		memcpy(q + i * s->elem,
		       s->q + ((s->head + i) % s->alloc) * s->elem, s->elem);
	free(s->q);
	s->q = q;
	s->alloc = alloc;
	s->head = 0;
	return true;
}

static void deliver(struct subscriptions *subs, enum sub_kind kind,
		    const void *item, const struct sub_match *m)
{
	struct subscription *s;

	for (s = subs->list; s; s = s->next) {
		if (s->kind != kind || s->done || !sub_wants(s, m))
			continue;
		if (!queue_room(s)) {
			s->lost++;
			s->lost_unreported++;
			if (kind == SUB_FLOWS)
				subs->flows_lost++;
			continue;
		}
		memcpy(s->q + ((s->head + s->len++) % s->alloc) * s->elem,
		       item, s->elem);
		s->queued++;
		/* The stream ends after its count, once the peer has it. */
		if (s->limit && s->queued >= s->limit)
			s->done = true;
	}
}

void subscriptions_deliver(struct subscriptions *subs,
			   const struct xpp_record *r)
{
	const struct sub_match m = { r->ifindex, r->proto,
				     { r->sport, r->dport } };

	deliver(subs, SUB_RECORDS, r, &m);
}

void subscriptions_deliver_flow(struct subscriptions *subs,
				const struct xpp_flow_record *f)
{
	const struct sub_match m = { f->ifindex, f->proto,
				     { f->src_port, f->dst_port } };

	deliver(subs, SUB_FLOWS, f, &m);
}

static int encode_cached(struct subscriptions *subs,
			 const struct xpp_record *r, enum xpp_format fmt,
			 int64_t off, char *scratch, const char **ret)
{
	struct enc_slot *c, *slot;
	int n;

	if (!subs->enc_cache[fmt])
		subs->enc_cache[fmt] =
			calloc(ENC_CACHE_SLOTS, sizeof(struct enc_slot));
	c = subs->enc_cache[fmt];
	if (!c) { /* no cache: encode every time */
		*ret = scratch;
		return xpp_format_text(r, fmt, r->ts_ns + off, scratch, ENC_MAX);
	}
	slot = &c[(r->seq * 31 + r->ring) % ENC_CACHE_SLOTS];
	if (slot->gen == subs->enc_gen && slot->seq == r->seq &&
	    slot->ring == r->ring && slot->ts_ns == r->ts_ns) {
		*ret = slot->text;
		return slot->len;
	}
	n = xpp_format_text(r, fmt, r->ts_ns + off, slot->text, ENC_MAX);
	if (n < 0)
		return n;
	slot->gen = subs->enc_gen;
	slot->seq = r->seq;
	slot->ring = r->ring;
	slot->ts_ns = r->ts_ns;
	slot->len = n;
	*ret = slot->text;
	return n;
}

/* The bytes of one queued entry in the subscriber's format, in *ret
 * (the entry itself, scratch or the cache). Returns their length or -1. */
static int sub_encode(struct subscription *s, const void *item, int64_t off,
		      char *scratch, const char **ret)
{
	if (s->fmt == XPP_FMT_BINARY) {
		*ret = item;
		return s->elem;
	}
	if (s->kind == SUB_RECORDS)
		return encode_cached(s->subs, item, s->fmt, off, scratch, ret);
	*ret = scratch;
	return xpp_flow_format_text(item, s->fmt, s->cols, scratch,
				    LINE_MAX_BYTES);
}

/*
 * Encodes queued records while the peer keeps up, up to *budget records;
 * closes a finished stream once the peer has it all. Returns false when
 * the subscription is gone (closed, and s freed).
 */
static bool sub_pump(struct subscription *s, int64_t off, long *budget)
{
	char scratch[LINE_MAX_BYTES];
	const char *text;
	int n;

	/* A peer that half-closed then went: nothing else would tell us
	 * while there is nothing to send. Seen within one flush. */
	if (conn_hung_up(s->c)) {
		conn_close(s->c); /* frees s */
		return false;
	}

	while (conn_out_pending(s->c) < SUB_OUT_HIGH &&
	       (s->len || s->lost_unreported) && *budget > 0) {
		if (report_loss(s))
			goto overflow;
		if (!s->len)
			break;
		n = sub_encode(s, s->q + s->head * s->elem, off, scratch,
			       &text);
		if (n < 0 || conn_write(s->c, text, n))
			goto overflow;
		s->head = (s->head + 1) % s->alloc;
		s->len--;
		s->sent++;
		(*budget)--;
	}
	if (s->done && !s->len && !s->lost_unreported) {
		conn_close_when_sent(s->c); /* may free s at once */
		return false;
	}
	return true;
overflow:
	pr_warn("subscriber uid %u: output buffer full; closing it",
		conn_peer(s->c)->uid);
	conn_close(s->c); /* frees s */
	return false;
}

void subscriptions_ifaces_changed(struct subscriptions *subs)
{
	struct subscription *s;
	unsigned int ifindex;

	for (s = subs->list; s; s = s->next)
		if (s->iface[0] && (ifindex = if_nametoindex(s->iface)))
			s->ifindex = ifindex;
}

void subscriptions_flush(struct subscriptions *subs)
{
	struct subscription *s = subs->flush_start ? subs->flush_start :
						     subs->list,
			    *next;
	int64_t off = xpp_wall_offset_ns();
	unsigned int left = subs->n; /* one lap at most */
	long budget = FLUSH_BUDGET;

	subs->enc_gen++;
	/* Start where the last flush ran out of budget: no one starves. */
	subs->flush_start = NULL;
	while (s && left-- && budget > 0) {
		next = s->next ? s->next : subs->list;
		/* When s goes, next stays unless it was s itself. */
		if (!sub_pump(s, off, &budget) && next == s)
			next = NULL;
		s = next;
	}
	if (budget <= 0)
		subs->flush_start = s;
}

bool subscriptions_need_tick(const struct subscriptions *subs)
{
	const struct subscription *s;

	if (subs->flush_start)
		return true;
	for (s = subs->list; s; s = s->next)
		if (conn_input_ended(s->c))
			return true;
	return false;
}

void subscriptions_finish(struct subscriptions *subs)
{
	struct subscription *s;

	for (s = subs->list; s; s = s->next)
		s->done = true;
	subscriptions_flush(subs);
}

/* The peer took everything queued: pump its own queue only. */
static void sub_on_drained(struct conn *c, void *userdata)
{
	struct subscription *s = userdata;
	long budget = FLUSH_BUDGET / 8;

	s->subs->enc_gen++;
	sub_pump(s, xpp_wall_offset_ns(), &budget);
}

static void sub_on_close(struct conn *c, void *userdata)
{
	struct subscription *s = userdata, **pp;
	struct subscriptions *subs = s->subs;

	if (subs->flush_start == s)
		subs->flush_start = s->next;
	for (pp = &subs->list; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	subs->n--;
	pr_debug("subscriber uid %u left: %llu sent, %llu lost",
		 conn_peer(c)->uid, (unsigned long long)s->sent,
		 (unsigned long long)s->lost);
	if (s->prev_ops->on_close)
		s->prev_ops->on_close(c, s->prev_userdata);
	conn_unref(s->c);
	free(s->q);
	free(s);
}

static const struct conn_ops sub_ops = {
	.on_drained = sub_on_drained,
	.on_close = sub_on_close,
};

/* An optional integer field within [min, max]: 1 when present, 0 when
 * absent, -EINVAL when bad. */
static int opt_int(json_object *req, const char *key, long long min,
		   long long max, long long *ret, char *msg, size_t msgsz)
{
	json_object *v;

	if (!json_object_object_get_ex(req, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < min || json_object_get_int64(v) > max)
		return xpp_errmsg(msg, msgsz, -EINVAL,
			    "subscribe: '%s' must be an integer from %lld to "
			    "%lld",
			    key, min, max);
	*ret = json_object_get_int64(v);
	return 1;
}

/* The fields of the request into s. */
static int sub_parse(struct subscription *s, json_object *req, char *msg,
		     size_t msgsz)
{
	json_object *v;
	const char *str;
	long long n;
	int r;

	s->proto = s->port = -1;
	if (json_object_object_get_ex(req, "kind", &v)) {
		str = json_object_get_string(v);
		if (!json_object_is_type(v, json_type_string) ||
		    (strcmp(str, "records") && strcmp(str, "flows")))
			return xpp_errmsg(msg, msgsz, -EINVAL,
				    "subscribe: kind must be records or flows");
		s->kind = strcmp(str, "flows") ? SUB_RECORDS : SUB_FLOWS;
	}
	if (json_object_object_get_ex(req, "columns", &v) &&
	    (s->kind != SUB_FLOWS ||
	     !json_object_is_type(v, json_type_string) ||
	     xpp_flow_columns_parse(json_object_get_string(v), &s->cols)))
		return xpp_errmsg(msg, msgsz, -EINVAL,
			    "subscribe: columns must be ns or nfstream, and "
			    "goes with \"kind\":\"flows\"");
	if (json_object_object_get_ex(req, "format", &v) &&
	    (!json_object_is_type(v, json_type_string) ||
	     xpp_format_parse(json_object_get_string(v), &s->fmt)))
		return xpp_errmsg(msg, msgsz, -EINVAL,
			    "subscribe: format must be ndjson, csv or binary");
	if (s->cols == XPP_COLUMNS_NFSTREAM && s->fmt == XPP_FMT_BINARY)
		return xpp_errmsg(msg, msgsz, -EINVAL,
			    "subscribe: columns name text fields: nfstream "
			    "goes with format ndjson or csv, not binary");
	if (json_object_object_get_ex(req, "iface", &v)) {
		str = json_object_get_string(v);
		if (!json_object_is_type(v, json_type_string) ||
		    strlen(str) >= IF_NAMESIZE ||
		    !(s->ifindex = if_nametoindex(str)))
			return xpp_errmsg(msg, msgsz, -ENODEV,
				    "subscribe: no interface '%s'",
				    str ? str : "");
		strcpy(s->iface, str);
	}
	if ((r = opt_int(req, "proto", 0, 255, &n, msg, msgsz)) < 0)
		return r;
	if (r)
		s->proto = n;
	if ((r = opt_int(req, "port", 0, 65535, &n, msg, msgsz)) < 0)
		return r;
	if (r)
		s->port = n;
	if ((r = opt_int(req, "count", 1, (1LL << 62), &n, msg, msgsz)) < 0)
		return r;
	if (r)
		s->limit = n;
	return 0;
}

static const char *sub_kind_name(const struct subscription *s)
{
	return s->kind == SUB_FLOWS ? "flows" : "records";
}

/* The CSV header line of the stream. */
static int sub_csv_header(const struct subscription *s, char *buf, size_t sz)
{
	if (s->kind == SUB_FLOWS)
		return xpp_flow_csv_header(s->cols, buf, sz);
	return snprintf(buf, sz, "%s", xpp_csv_header);
}

/* The reply, then the stream's own header. */
static int sub_greet(struct subscription *s)
{
	json_object *res = json_object_new_object();
	bool flows = s->kind == SUB_FLOWS;
	struct xpp_stream_header h = {
		.magic = XPP_STREAM_MAGIC,
		.record_version = flows ? XPP_FLOW_VERSION : XPP_RECORD_VERSION,
		.record_size = s->elem,
		/* Flow records' times are wall-clock; live packet records
		 * keep the kernel's clock. */
		.flags = flows ? XPP_STREAM_F_FLOWS | XPP_STREAM_F_WALLCLOCK : 0,
	};
	char line[LINE_MAX_BYTES];
	int err, n;

	json_object_object_add(res, "kind",
			       json_object_new_string(sub_kind_name(s)));
	json_object_object_add(res, "format",
			       json_object_new_string(xpp_format_name(s->fmt)));
	if (flows)
		json_object_object_add(
			res, "columns",
			json_object_new_string(s->cols == XPP_COLUMNS_NFSTREAM ?
						       "nfstream" :
						       "ns"));
	json_object_object_add(res, "record_version",
			       json_object_new_int(h.record_version));
	json_object_object_add(res, "record_size",
			       json_object_new_int(h.record_size));
	json_object_object_add(res, "queue", json_object_new_int64(s->cap));
	err = conn_write_json(s->c, reply_ok(res));
	if (!err && s->fmt == XPP_FMT_CSV) {
		n = sub_csv_header(s, line, sizeof(line));
		err = n < 0 ? -ENOMEM : conn_write(s->c, line, n);
	}
	if (!err && s->fmt == XPP_FMT_BINARY)
		err = conn_write(s->c, &h, sizeof(h));
	return err;
}

int subscription_start(struct subscriptions *subs, struct conn *c,
		       json_object *req, unsigned int max,
		       unsigned int queue_len, char *msg, size_t msgsz)
{
	_cleanup_free_ struct subscription *s = NULL;
	int err;

	if (subs->n >= max)
		return xpp_errmsg(msg, msgsz, -EUSERS,
			    "the daemon already has max_subscribers (%u) "
			    "subscribers",
			    max);
	s = calloc(1, sizeof(*s));
	if (!s)
		return xpp_errmsg(msg, msgsz, -ENOMEM, "out of memory");
	err = sub_parse(s, req, msg, msgsz);
	if (err)
		return err;
	s->cap = queue_len;
	s->elem = s->kind == SUB_FLOWS ? sizeof(struct xpp_flow_record) :
					 sizeof(struct xpp_record);
	s->alloc = s->cap < QUEUE_FIRST ? s->cap : QUEUE_FIRST;
	s->q = calloc(s->alloc, s->elem);
	if (!s->q)
		return xpp_errmsg(msg, msgsz, -ENOMEM, "out of memory");
	s->subs = subs;
	s->c = c;
	s->started_mono_ns = xpp_mono_ns();
	err = sub_greet(s);
	if (err) {
		free(s->q);
		return xpp_errmsg(msg, msgsz, err, "out of memory");
	}
	/* The connection is a stream now: its callbacks are ours. */
	conn_ref(c);
	conn_ignore_input(c);
	conn_get_ops(c, &s->prev_ops, &s->prev_userdata);
	conn_set_ops(c, &sub_ops, s);
	s->next = subs->list;
	subs->list = s;
	subs->n++;
	pr_debug("subscriber uid %u: %s %s, queue %u", conn_peer(c)->uid,
		 sub_kind_name(s), xpp_format_name(s->fmt), s->cap);
	TAKE_PTR(s);
	return 0;
}

unsigned int subscriptions_count(const struct subscriptions *subs)
{
	return subs->n;
}

uint64_t subscriptions_flows_lost(const struct subscriptions *subs)
{
	return subs->flows_lost;
}

json_object *subscriptions_json(const struct subscriptions *subs)
{
	json_object *arr = json_object_new_array();
	const struct subscription *s;
	uint64_t now = xpp_mono_ns();

	for (s = subs->list; s; s = s->next) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "uid", json_object_new_int64(
							 conn_peer(s->c)->uid));
		json_object_object_add(o, "kind",
				       json_object_new_string(sub_kind_name(s)));
		json_object_object_add(o, "format", json_object_new_string(
							    xpp_format_name(s->fmt)));
		json_object_object_add(o, "queue", json_object_new_int64(s->cap));
		json_object_object_add(o, "delivered",
				       json_object_new_uint64(s->sent));
		json_object_object_add(o, "queued",
				       json_object_new_uint64(s->len));
		json_object_object_add(o, "lost", json_object_new_uint64(s->lost));
		json_object_object_add(
			o, "age_s",
			json_object_new_double((now - s->started_mono_ns) / 1e9));
		json_object_array_add(arr, o);
	}
	return arr;
}

void subscriptions_free(struct subscriptions *subs)
{
	if (!subs)
		return;
	/* Each close takes its subscription off the list. */
	while (subs->list)
		conn_close(subs->list->c);
	free(subs->enc_cache[0]);
	free(subs->enc_cache[1]);
	free(subs);
}
