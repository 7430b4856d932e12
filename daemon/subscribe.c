// SPDX-License-Identifier: GPL-2.0-only
/*
 * Subscriptions: a connection that sent {"cmd":"subscribe"} becomes a
 * stream of records. Each subscriber has a bounded queue of raw records;
 * records are encoded only as fast as the peer reads. A full queue loses
 * records for that subscriber alone, counts them and tells it in the
 * stream: a slow reader never stalls the rings or the other subscribers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "format.h"
#include "log.h"
#include "names.h"
#include "proto.h"
#include "subscribe.h"
#include "util.h"
#include "xpp/stream.h"

/* Encode no further while this much output waits for the peer. */
#define SUB_OUT_HIGH (256u << 10)


struct client_sub {
	struct client_sub *next;
	struct client *c;
	enum xpp_format fmt;
	/* filter: 0 / -1 mean any */
	unsigned int ifindex;
	int proto;
	int port;
	uint64_t limit; /* records to send, 0: unlimited */
	/* queue of raw records */
	struct xpp_record *q;
	unsigned int cap, head, len;
	uint64_t queued, sent, lost, lost_unreported;
	uint64_t started_mono_ns;
	bool done; /* limit reached: closing after the output drains */
};

static struct client_sub *subs;

/* Tells the subscriber how many records it lost since the last notice. */
static int report_loss(struct client_sub *s)
{
	char buf[128];
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
	default: {
		struct xpp_record m = {};

		/* A loss marker: version 0, ts_ns the count lost. */
		m.ts_ns = s->lost_unreported;
		if (client_write(s->c, (const char *)&m, sizeof(m)))
			return -ENOBUFS;
		s->lost_unreported = 0;
		return 0;
	}
	}
	if (client_write(s->c, buf, n))
		return -ENOBUFS;
	s->lost_unreported = 0;
	return 0;
}

static bool sub_wants(const struct client_sub *s, const struct xpp_record *r)
{
	if (s->ifindex && r->ifindex != s->ifindex)
		return false;
	if (s->proto >= 0 && r->proto != s->proto)
		return false;
	if (s->port >= 0 && r->sport != s->port && r->dport != s->port)
		return false;
	return true;
}

void subscribers_deliver(struct daemon *d, const struct xpp_record *r)
{
	struct client_sub *s;

	for (s = subs; s; s = s->next) {
		if (s->done || !sub_wants(s, r))
			continue;
		if (s->len == s->cap) {
			s->lost++;
			s->lost_unreported++;
			continue;
		}
		s->q[(s->head + s->len++) % s->cap] = *r;
		s->queued++;
		/* The stream ends after its count, once the peer has it. */
		if (s->limit && s->queued >= s->limit)
			s->done = true;
	}
}

/*
 * Subscribers mostly take the same records in the same order: each text
 * form is encoded once per flush and copied to every subscriber of that
 * format. A direct-mapped cache keyed by the record's ring, sequence
 * number and timestamp, valid for one flush (the wall-clock offset is
 * fixed within it).
 */
#define ENC_CACHE_SLOTS 4096
#define ENC_MAX 512

struct enc_slot {
	uint64_t gen;
	uint64_t ts_ns;
	uint32_t seq;
	uint16_t ring;
	uint16_t len;
	char text[ENC_MAX];
};

static struct enc_slot *enc_cache[2]; /* ndjson, csv */
static uint64_t enc_gen = 1;

static int encode_cached(const struct xpp_record *r, enum xpp_format fmt,
			 int64_t off, char *scratch, const char **ret)
{
	struct enc_slot *c, *slot;
	int n;

	if (!enc_cache[fmt])
		enc_cache[fmt] = calloc(ENC_CACHE_SLOTS, sizeof(struct enc_slot));
	c = enc_cache[fmt];
	if (!c) { /* no cache: encode every time */
		*ret = scratch;
		return xpp_format_text(r, fmt, r->ts_ns + off, scratch, ENC_MAX);
	}
	slot = &c[(r->seq * 31 + r->ring) % ENC_CACHE_SLOTS];
	if (slot->gen == enc_gen && slot->seq == r->seq &&
	    slot->ring == r->ring && slot->ts_ns == r->ts_ns) {
		*ret = slot->text;
		return slot->len;
	}
	n = xpp_format_text(r, fmt, r->ts_ns + off, slot->text, ENC_MAX);
	if (n < 0)
		return n;
	slot->gen = enc_gen;
	slot->seq = r->seq;
	slot->ring = r->ring;
	slot->ts_ns = r->ts_ns;
	slot->len = n;
	*ret = slot->text;
	return n;
}

/*
 * Encodes queued records while the peer keeps up, up to *budget records.
 * Returns -1 if the client was closed.
 */
static int sub_pump(struct daemon *d, struct client_sub *s, int64_t off,
		    long *budget)
{
	char scratch[ENC_MAX];
	const char *text;
	int n;

	while (client_out_pending(s->c) < SUB_OUT_HIGH &&
	       (s->len || s->lost_unreported) && *budget > 0) {
		if (report_loss(s))
			goto overflow;
		if (!s->len)
			break;
		if (s->fmt == XPP_FMT_BINARY) {
			if (client_write(s->c, (const char *)&s->q[s->head],
					 sizeof(struct xpp_record)))
				goto overflow;
		} else {
			n = encode_cached(&s->q[s->head], s->fmt, off, scratch,
					  &text);
			if (n < 0 || client_write(s->c, text, n))
				goto overflow;
		}
		s->head = (s->head + 1) % s->cap;
		s->len--;
		s->sent++;
		(*budget)--;
	}
	return 0;
overflow:
	pr_warn("subscriber uid %u: output buffer full; closing it",
		client_uid(s->c));
	client_close(d, s->c);
	return -1;
}

/* After the pump: close a finished stream (returns -1), or wait for the
 * peer to read. */
static int sub_after_pump(struct daemon *d, struct client_sub *s)
{
	if (s->done && !s->len && !s->lost_unreported &&
	    !client_out_pending(s->c)) {
		client_close(d, s->c);
		return -1;
	}
	if (client_out_pending(s->c))
		client_want_write(s->c);
	return 0;
}

/*
 * Records encoded per flush, over all subscribers. Beyond it the rest
 * waits in the subscribers' queues (which may then lose records, counted):
 * the loop goes back to draining the rings, which must never wait on
 * subscribers.
 */
#define FLUSH_BUDGET 65536

static struct client_sub *flush_start; /* round-robin: who goes first */

void subscribers_flush(struct daemon *d)
{
	struct client_sub *s = flush_start ? flush_start : subs, *next;
	int64_t off = xpp_wall_offset_ns();
	unsigned int left = d->n_subscribers; /* one lap at most */
	long budget = FLUSH_BUDGET;

	enc_gen++;
	/* Start where the last flush ran out of budget: no one starves. */
	flush_start = NULL;
	while (s && left-- && budget > 0) {
		next = s->next ? s->next : subs;
		if (sub_pump(d, s, off, &budget) < 0 ||
		    sub_after_pump(d, s) < 0) {
			/* s is gone; next is not, unless it was s itself. */
			if (next == s)
				next = NULL;
		}
		s = next;
	}
	if (budget <= 0)
		flush_start = s;
}

/* The peer can take more: pump its own queue only. */
void subscriber_writable(struct daemon *d, struct client *c)
{
	struct client_sub *s = *client_sub_slot(c);
	long budget = FLUSH_BUDGET / 8;

	if (!s)
		return;
	enc_gen++;
	if (sub_pump(d, s, xpp_wall_offset_ns(), &budget) < 0)
		return;
	sub_after_pump(d, s);
}

void subscribe_end(struct daemon *d, struct client *c)
{
	struct client_sub **slot = client_sub_slot(c), *s = *slot, **pp;

	if (!s)
		return;
	if (flush_start == s)
		flush_start = s->next;
	for (pp = &subs; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	pr_debug("subscriber uid %u left: %llu sent, %llu lost",
		 client_uid(c), (unsigned long long)s->sent,
		 (unsigned long long)s->lost);
	free(s->q);
	free(s);
	*slot = NULL;
	d->n_subscribers--;
}

static int opt_int(json_object *req, const char *key, long long min,
		   long long max, long long *ret, json_object **ret_err)
{
	json_object *v;

	if (!json_object_object_get_ex(req, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < min || json_object_get_int64(v) > max) {
		*ret_err = reply_error(XPP_E_BAD_REQUEST,
				       "subscribe: '%s' must be an integer from "
				       "%lld to %lld",
				       key, min, max);
		return -EINVAL;
	}
	*ret = json_object_get_int64(v);
	return 1;
}

int subscribe_start(struct daemon *d, struct client *c, json_object *req,
		    json_object **ret_err)
{
	struct client_sub *s;
	json_object *v, *res;
	const char *str;
	long long n;
	int r;

	if (d->n_subscribers >= d->conf.max_subscribers) {
		*ret_err = reply_error(XPP_E_TOO_MANY_SUBSCRIBERS,
				       "the daemon already has max_subscribers "
				       "(%u) subscribers",
				       d->conf.max_subscribers);
		return -EBUSY;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		*ret_err = reply_error(XPP_E_INTERNAL, "out of memory");
		return -ENOMEM;
	}
	s->proto = s->port = -1;
	if (json_object_object_get_ex(req, "format", &v) &&
	    (!json_object_is_type(v, json_type_string) ||
	     xpp_format_parse(json_object_get_string(v), &s->fmt))) {
		*ret_err = reply_error(XPP_E_BAD_REQUEST,
				       "subscribe: format must be ndjson, csv or "
				       "binary");
		goto fail;
	}
	if (json_object_object_get_ex(req, "iface", &v)) {
		str = json_object_get_string(v);
		if (!json_object_is_type(v, json_type_string) ||
		    strlen(str) >= IF_NAMESIZE ||
		    !(s->ifindex = if_nametoindex(str))) {
			*ret_err = reply_error(XPP_E_NO_INTERFACE,
					       "subscribe: no interface '%s'",
					       str ? str : "");
			goto fail;
		}
	}
	if ((r = opt_int(req, "proto", 0, 255, &n, ret_err)) < 0)
		goto fail;
	if (r)
		s->proto = n;
	if ((r = opt_int(req, "port", 0, 65535, &n, ret_err)) < 0)
		goto fail;
	if (r)
		s->port = n;
	if ((r = opt_int(req, "count", 1, (1LL << 62), &n, ret_err)) < 0)
		goto fail;
	if (r)
		s->limit = n;
	s->cap = d->conf.subscriber_queue;
	s->q = calloc(s->cap, sizeof(*s->q));
	if (!s->q) {
		*ret_err = reply_error(XPP_E_INTERNAL, "out of memory");
		goto fail;
	}
	s->c = c;
	s->started_mono_ns = mono_ns();

	res = json_object_new_object();
	json_object_object_add(res, "format",
			       json_object_new_string(xpp_format_name(s->fmt)));
	json_object_object_add(res, "record_version",
			       json_object_new_int(XPP_RECORD_VERSION));
	json_object_object_add(res, "record_size",
			       json_object_new_int(sizeof(struct xpp_record)));
	json_object_object_add(res, "queue", json_object_new_int(s->cap));
	{
		json_object *ok = reply_ok(res);
		const char *line = json_object_to_json_string_ext(
			ok, JSON_C_TO_STRING_PLAIN);
		int err = client_write(c, line, strlen(line));

		if (!err)
			err = client_write(c, "\n", 1);
		json_object_put(ok);
		if (!err && s->fmt == XPP_FMT_CSV)
			err = client_write(c, xpp_csv_header,
					   strlen(xpp_csv_header));
		if (!err && s->fmt == XPP_FMT_BINARY) {
			struct xpp_stream_header h = {
				.magic = XPP_STREAM_MAGIC,
				.record_version = XPP_RECORD_VERSION,
				.record_size = sizeof(struct xpp_record),
			};

			err = client_write(c, (const char *)&h, sizeof(h));
		}
		if (err) {
			*ret_err = reply_error(XPP_E_INTERNAL, "out of memory");
			goto fail;
		}
	}
	*client_sub_slot(c) = s;
	s->next = subs;
	subs = s;
	d->n_subscribers++;
	pr_debug("subscriber uid %u: %s, queue %u", client_uid(c),
		 xpp_format_name(s->fmt), s->cap);
	return 0;
fail:
	free(s->q);
	free(s);
	return -EINVAL;
}

json_object *subscribers_json(struct daemon *d)
{
	json_object *arr = json_object_new_array();
	struct client_sub *s;

	for (s = subs; s; s = s->next) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "uid", json_object_new_int64(
							 client_uid(s->c)));
		json_object_object_add(o, "format", json_object_new_string(
							    xpp_format_name(s->fmt)));
		json_object_object_add(o, "delivered",
				       json_object_new_uint64(s->sent));
		json_object_object_add(o, "queued",
				       json_object_new_uint64(s->len));
		json_object_object_add(o, "lost", json_object_new_uint64(s->lost));
		json_object_object_add(
			o, "age_s",
			json_object_new_double(
				(mono_ns() - s->started_mono_ns) / 1e9));
		json_object_array_add(arr, o);
	}
	return arr;
}
