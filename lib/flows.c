// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "flows.h"
#include "util.h"

/* The table's value as the program defines it (struct xpp_flow_entry in
 * bpf/xpp.bpf.c): a struct bpf_spin_lock (4 bytes), then the flow. */
struct flow_entry {
	__u32 lock;
	__u32 reserved;
	struct xpp_flow f;
};

/* Entries read per batch by the scan. */
#define SCAN_BATCH 256

/* A flow the scan found due (why 0: forced). */
struct due {
	struct xpp_flow_key key;
	__u32 why;
	__u64 first_seen_ns;
};

struct xpp_flows {
	int table_fd;
	struct ring_buffer *ring;
	xpp_flow_fn fn;
	void *ctx;
	int stop; /* the callback's negative value, passed on */
	struct xpp_flow_key *keys;
	struct flow_entry *vals;
	/* The flows a scan ends, sorted before they go out. */
	struct due *due;
	size_t ndue, due_cap;
};

static int on_ring(void *ctx, void *data, size_t size)
{
	struct xpp_flows *fl = ctx;
	struct xpp_flow_export x;

	if (size < sizeof(x))
		return 0; /* cannot happen: the program writes whole ones */
	memcpy(&x, data, sizeof(x));
	fl->stop = fl->fn(fl->ctx, &x);
	return fl->stop < 0 ? fl->stop : 0;
}

struct xpp_flows *xpp_flows__new(const struct xpp_datapath *dp, xpp_flow_fn fn,
				 void *ctx)
{
	struct xpp_flows *fl = calloc(1, sizeof(*fl));
	int err;

	if (!fl)
		return NULL;
	fl->table_fd = xpp_datapath__flows_fd(dp);
	fl->fn = fn;
	fl->ctx = ctx;
	fl->keys = calloc(SCAN_BATCH, sizeof(*fl->keys));
	fl->vals = calloc(SCAN_BATCH, sizeof(*fl->vals));
	if (!fl->keys || !fl->vals) {
		err = -ENOMEM;
		goto fail;
	}
	fl->ring = ring_buffer__new(xpp_datapath__flow_ring_fd(dp), on_ring, fl,
				    NULL);
	if (!fl->ring) {
		err = -errno;
		goto fail;
	}
	return fl;
fail:
	xpp_flows__free(fl);
	errno = -err;
	return NULL;
}

void xpp_flows__free(struct xpp_flows *fl)
{
	if (!fl)
		return;
	ring_buffer__free(fl->ring);
	free(fl->keys);
	free(fl->vals);
	free(fl->due);
	free(fl);
}

int xpp_flows__epoll_fd(const struct xpp_flows *fl)
{
	return ring_buffer__epoll_fd(fl->ring);
}

int xpp_flows__consume(struct xpp_flows *fl)
{
	int n;

	fl->stop = 0;
	n = ring_buffer__consume(fl->ring);
	return fl->stop < 0 ? fl->stop : n;
}

/* Ends the flow of key k, due for why (0: forced), if it is still in the
 * table. Returns 1 when it was, 0 when not, or a negative errno (the
 * callback's included). */
static int flow_end(struct xpp_flows *fl, const struct xpp_flow_key *k,
		    unsigned int why)
{
	struct xpp_flow_export x = { .key = *k };
	struct flow_entry e;
	int ret;

	/* Under the entry's lock: a packet on another CPU is either in the
	 * copy or finds the entry gone and begins a new flow. */
	if (bpf_map_lookup_and_delete_elem_flags(fl->table_fd, k, &e,
						 BPF_F_LOCK) < 0)
		return errno == ENOENT ? 0 : -errno;
	/* Forced out, but a TCP flow whose end was seen has ended. */
	x.end_reason = why                        ? why :
		       e.f.tcp_state & XPP_FLOW_ENDED ? XPP_END_END :
							XPP_END_FORCED;
	x.flow = e.f;
	ret = fl->fn(fl->ctx, &x);
	return ret < 0 ? ret : 1;
}

static int due_add(struct xpp_flows *fl, const struct xpp_flow_key *k,
		   __u32 why, __u64 first_seen_ns)
{
	if (fl->ndue == fl->due_cap) {
		size_t cap = fl->due_cap ? fl->due_cap * 2 : SCAN_BATCH;
		struct due *d = reallocarray(fl->due, cap, sizeof(*d));

		if (!d)
			return -ENOMEM;
		fl->due = d;
		fl->due_cap = cap;
	}
	fl->due[fl->ndue++] = (struct due){ *k, why, first_seen_ns };
	return 0;
}

/* The order flows of one scan go out in: by first packet, then key, so
 * that a capture gives its flows in the same order on every run (the
 * table's own order depends on its random hash seed). */
static int due_cmp(const void *a, const void *b)
{
	const struct due *x = a, *y = b;

	if (x->first_seen_ns != y->first_seen_ns)
		return x->first_seen_ns < y->first_seen_ns ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* What a walk of the table does with each batch of entries it read. */
typedef int (*batch_fn)(struct xpp_flows *fl, unsigned int count, void *ctx);

/*
 * Reads the whole table in batches (lookup_batch) and hands each to fn.
 * Returns fn's first negative value, or 0.
 */
static int table_walk(struct xpp_flows *fl, __u64 elem_flags, batch_fn fn,
		      void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = elem_flags);
	__u32 in = 0, out = 0, count;
	bool first = true, last = false;
	int ret;

	while (!last) {
		count = SCAN_BATCH;
		ret = bpf_map_lookup_batch(fl->table_fd, first ? NULL : &in,
					   &out, fl->keys, fl->vals, &count,
					   &opts);
		if (ret < 0) {
			if (errno != ENOENT)
				return -errno;
			last = true;
		}
		first = false;
		in = out;
		ret = fn(fl, count, ctx);
		if (ret < 0)
			return ret;
	}
	return 0;
}

struct scan {
	uint64_t now;
	const struct xpp_config *cfg;
	bool force;
	bool one_iface; /* force only the flows of ifindex */
	unsigned int ifindex;
	unsigned int active;
};

/* Notes the due (or forced) flows of one batch; they end after the walk. */
static int scan_batch(struct xpp_flows *fl, unsigned int count, void *ctx)
{
	struct scan *sc = ctx;
	unsigned int i;
	int ret;

	for (i = 0; i < count; i++) {
		const struct xpp_flow *f = &fl->vals[i].f;
		unsigned int why = xpp_flow_due(f, sc->now,
						sc->cfg->idle_timeout_ns,
						sc->cfg->active_timeout_ns,
						sc->cfg->end_grace_ns);
		bool forced = sc->force && (!sc->one_iface ||
					    fl->keys[i].ifindex == sc->ifindex);

		if (!why && !forced) {
			sc->active++;
			continue;
		}
		ret = due_add(fl, &fl->keys[i], why, f->bidir.first_seen_ns);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int scan(struct xpp_flows *fl, struct scan *sc, unsigned int *ret_active)
{
	int n, ended = 0, ret;
	size_t j;

	n = xpp_flows__consume(fl);
	if (n < 0)
		return n;
	ret = table_walk(fl, 0, scan_batch, sc);
	if (ret < 0) {
		fl->ndue = 0;
		return ret;
	}
	if (fl->ndue)
		qsort(fl->due, fl->ndue, sizeof(*fl->due), due_cmp);
	for (j = 0; j < fl->ndue && ret >= 0; j++) {
		ret = flow_end(fl, &fl->due[j].key, fl->due[j].why);
		ended += ret > 0;
	}
	fl->ndue = 0;
	if (ret < 0)
		return ret;
	if (ret_active)
		*ret_active = sc->active;
	return ended;
}

int xpp_flows__scan(struct xpp_flows *fl, uint64_t now,
		    const struct xpp_config *cfg, bool force,
		    unsigned int *ret_active)
{
	struct scan sc = { .now = now, .cfg = cfg, .force = force };

	return scan(fl, &sc, ret_active);
}

int xpp_flows__scan_iface(struct xpp_flows *fl, uint64_t now,
			  const struct xpp_config *cfg, unsigned int ifindex,
			  unsigned int *ret_active)
{
	struct scan sc = { .now = now, .cfg = cfg, .force = true,
			   .one_iface = true, .ifindex = ifindex };

	return scan(fl, &sc, ret_active);
}

struct top {
	struct xpp_flow_export *heap; /* a min-heap on bidirectional bytes */
	unsigned int cap, n, total;
};

static uint64_t top_bytes(const struct top *t, unsigned int i)
{
	return t->heap[i].flow.bidir.bytes;
}

static void top_swap(struct top *t, unsigned int a, unsigned int b)
{
	struct xpp_flow_export x = t->heap[a];

	t->heap[a] = t->heap[b];
	t->heap[b] = x;
}

/* Moves entry i down to its place among the first n (the smallest on
 * top). */
static void top_sift_down(struct top *t, unsigned int i, unsigned int n)
{
	for (;;) {
		unsigned int l = 2 * i + 1, r = l + 1, m = i;

		if (l < n && top_bytes(t, l) < top_bytes(t, m))
			m = l;
		if (r < n && top_bytes(t, r) < top_bytes(t, m))
			m = r;
		if (m == i)
			return;
		top_swap(t, i, m);
		i = m;
	}
}

static void top_add(struct top *t, const struct xpp_flow_key *k,
		    const struct xpp_flow *f)
{
	unsigned int i;

	if (t->n == t->cap) {
		if (f->bidir.bytes <= top_bytes(t, 0))
			return;
		t->heap[0].key = *k;
		t->heap[0].flow = *f;
		top_sift_down(t, 0, t->n);
		return;
	}
	i = t->n++;
	t->heap[i].key = *k;
	t->heap[i].end_reason = 0;
	t->heap[i].flow = *f;
	while (i && top_bytes(t, (i - 1) / 2) > top_bytes(t, i)) {
		top_swap(t, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static int top_batch(struct xpp_flows *fl, unsigned int count, void *ctx)
{
	struct top *t = ctx;
	unsigned int i;

	for (i = 0; i < count; i++)
		top_add(t, &fl->keys[i], &fl->vals[i].f);
	t->total += count;
	return 0;
}

int xpp_flows__top(struct xpp_flows *fl, struct xpp_flow_export *ret,
		   unsigned int n, unsigned int *ret_n,
		   unsigned int *ret_total)
{
	struct top t = { .heap = ret, .cap = n };
	unsigned int i;
	int err;

	if (!n)
		return -EINVAL;
	/* Each entry copied under its lock: no half-updated flow. */
	err = table_walk(fl, BPF_F_LOCK, top_batch, &t);
	if (err)
		return err;
	/* Heap order to largest first: take the smallest to the end. */
	for (i = t.n; i > 1; i--) {
		top_swap(&t, 0, i - 1);
		top_sift_down(&t, 0, i - 1);
	}
	*ret_n = t.n;
	if (ret_total)
		*ret_total = t.total;
	return 0;
}

double xpp_flow_mean(uint64_t n, uint64_t s)
{
	return n ? (double)s / (double)n : 0;
}

double xpp_flow_stddev(uint64_t n, uint64_t s, const __u64 q[2])
{
	unsigned __int128 sq = (unsigned __int128)q[1] << 64 | q[0];
	unsigned __int128 num, s2 = (unsigned __int128)s * s;

	if (n < 2)
		return 0;
	/* n * Q - S^2 >= 0 (Cauchy-Schwarz); n * Q fits 128 bits unless the
	 * flow summed more than 2^64 squared bytes or ns per packet. */
	num = (unsigned __int128)n * sq;
	num = num > s2 ? num - s2 : 0;
	return sqrt((double)num / ((double)n * (double)(n - 1)));
}

static void dir_stats(const struct xpp_flow_dir *d, struct xpp_flow_record *r,
		      int i)
{
	uint64_t piats = d->packets ? d->packets - 1 : 0;

	r->mean_ps[i] = xpp_flow_mean(d->packets, d->bytes);
	r->stddev_ps[i] = xpp_flow_stddev(d->packets, d->bytes, d->ps_sumsq);
	r->mean_piat_ns[i] = xpp_flow_mean(piats, d->piat_sum_ns);
	r->stddev_piat_ns[i] =
		xpp_flow_stddev(piats, d->piat_sum_ns, d->piat_sumsq);
}

static void dir_shift(struct xpp_flow_dir *d, int64_t off)
{
	if (!d->packets)
		return;
	d->first_seen_ns += off;
	d->last_seen_ns += off;
}

void xpp_flow_record_make(const struct xpp_flow_export *x,
			  int64_t wall_offset_ns, unsigned int accounting,
			  unsigned int splt_len, struct xpp_flow_record *ret)
{
	const struct xpp_flow_key *k = &x->key;
	unsigned int s = x->flow.src_end ? 1 : 0;

	memset(ret, 0, sizeof(*ret));
	ret->version = XPP_FLOW_VERSION;
	ret->end_reason = x->end_reason;
	ret->ip_version = k->ip_version;
	ret->proto = k->proto;
	ret->ifindex = k->ifindex;
	memcpy(ret->src_ip, k->addr[s], 16);
	memcpy(ret->dst_ip, k->addr[!s], 16);
	ret->src_port = k->port[s];
	ret->dst_port = k->port[!s];
	ret->vlan_id = k->vlan;
	ret->accounting = accounting;
	ret->splt_max = splt_len;
	ret->flow = x->flow;
	dir_shift(&ret->flow.bidir, wall_offset_ns);
	dir_shift(&ret->flow.src2dst, wall_offset_ns);
	dir_shift(&ret->flow.dst2src, wall_offset_ns);
	if (ret->flow.tcp_state & XPP_FLOW_ENDED)
		ret->flow.end_ns += wall_offset_ns;
	dir_stats(&ret->flow.bidir, ret, 0);
	dir_stats(&ret->flow.src2dst, ret, 1);
	dir_stats(&ret->flow.dst2src, ret, 2);
}

static const char *const end_names[] = {
	[XPP_END_IDLE] = "idle",     [XPP_END_ACTIVE] = "active",
	[XPP_END_END] = "end",	     [XPP_END_FORCED] = "forced",
	[XPP_END_RESOURCES] = "resources",
};

static const char *const accounting_names[] = {
	[XPP_ACCT_LINK] = "link",
	[XPP_ACCT_IP] = "ip",
	[XPP_ACCT_TRANSPORT] = "transport",
	[XPP_ACCT_PAYLOAD] = "payload",
};

const char *xpp_flow_end_name(unsigned int reason)
{
	if (reason < ARRAY_SIZE(end_names) && end_names[reason])
		return end_names[reason];
	return "unknown";
}

const char *xpp_flow_accounting_name(unsigned int a)
{
	return a < ARRAY_SIZE(accounting_names) ? accounting_names[a] :
						  "unknown";
}

int xpp_flow_accounting_parse(const char *s, unsigned int *ret)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(accounting_names); i++) {
		if (!strcmp(s, accounting_names[i])) {
			*ret = i;
			return 0;
		}
	}
	return -1;
}

int xpp_flow_columns_parse(const char *s, enum xpp_flow_columns *ret)
{
	if (!strcmp(s, "ns") || !strcmp(s, "xdp-preprocd"))
		*ret = XPP_COLUMNS_NS;
	else if (!strcmp(s, "nfstream"))
		*ret = XPP_COLUMNS_NFSTREAM;
	else
		return -1;
	return 0;
}

/* A line being written: text formats share one walk over the fields. */
struct line {
	char *buf;
	size_t sz, len;
	bool over;
	enum xpp_format fmt;
	enum xpp_flow_columns cols;
	bool header; /* write the names (CSV header), not the values */
	int fields;
};

static void put(struct line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, l->sz - l->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= l->sz - l->len)
		l->over = true;
	else
		l->len += n;
}

/* Opens field name (prefix + name, with the unit of the columns when
 * time is set) and says whether its value is to be written. */
static bool field(struct line *l, const char *prefix, const char *name,
		  bool time)
{
	const char *unit = !time ? "" :
			   l->cols == XPP_COLUMNS_NFSTREAM ? "_ms" :
							     "_ns";

	if (l->fields++)
		put(l, ",");
	if (l->header) {
		put(l, "%s%s%s", prefix, name, unit);
		return false;
	}
	if (l->fmt == XPP_FMT_NDJSON)
		put(l, "\"%s%s%s\":", prefix, name, unit);
	return true;
}

static void put_u64(struct line *l, const char *prefix, const char *name,
		    uint64_t v)
{
	if (field(l, prefix, name, false))
		put(l, "%llu", (unsigned long long)v);
}

static void put_str(struct line *l, const char *name, const char *v)
{
	if (!field(l, "", name, false))
		return;
	if (l->fmt == XPP_FMT_NDJSON)
		put(l, "\"%s\"", v);
	else
		put(l, "%s", v);
}

/* A time or duration in ns: as is, or in whole ms (rounded down). */
static void put_time(struct line *l, const char *prefix, const char *name,
		     uint64_t ns)
{
	if (!field(l, prefix, name, true))
		return;
	if (l->cols == XPP_COLUMNS_NFSTREAM)
		ns /= 1000000;
	put(l, "%llu", (unsigned long long)ns);
}

static void put_double(struct line *l, const char *prefix, const char *name,
		       double v, bool time)
{
	char text[32];

	if (!field(l, prefix, name, time))
		return;
	if (time && l->cols == XPP_COLUMNS_NFSTREAM)
		v /= 1e6;
	/* Read back as the same double; and as a double: a whole number
	 * keeps a decimal point, so that a column has one JSON type. */
	snprintf(text, sizeof(text), "%.17g", v);
	put(l, strpbrk(text, ".eEn") ? "%s" : "%s.0", text);
}

static void put_dir(struct line *l, const struct xpp_flow_record *r, int i)
{
	static const char *const prefixes[] = { "bidirectional_", "src2dst_",
						"dst2src_" };
	/* NFStream's order of the flag counts. */
	static const struct {
		const char *name;
		int bit;
	} flags[] = {
		{ "syn_packets", XPP_TCP_SYN }, { "cwr_packets", XPP_TCP_CWR },
		{ "ece_packets", XPP_TCP_ECE }, { "urg_packets", XPP_TCP_URG },
		{ "ack_packets", XPP_TCP_ACK }, { "psh_packets", XPP_TCP_PSH },
		{ "rst_packets", XPP_TCP_RST }, { "fin_packets", XPP_TCP_FIN },
	};
	const struct xpp_flow_dir *d = i == 0 ? &r->flow.bidir :
				       i == 1 ? &r->flow.src2dst :
						&r->flow.dst2src;
	const char *p = prefixes[i];
	size_t j;

	put_time(l, p, "first_seen", d->first_seen_ns);
	put_time(l, p, "last_seen", d->last_seen_ns);
	/* NFStream's duration is the difference of its ms times. */
	if (l->cols == XPP_COLUMNS_NFSTREAM)
		put_u64(l, p, "duration_ms",
			d->last_seen_ns / 1000000 - d->first_seen_ns / 1000000);
	else
		put_time(l, p, "duration", d->last_seen_ns - d->first_seen_ns);
	put_u64(l, p, "packets", d->packets);
	put_u64(l, p, "bytes", d->bytes);
	put_u64(l, p, "min_ps", d->min_ps);
	put_double(l, p, "mean_ps", r->mean_ps[i], false);
	put_double(l, p, "stddev_ps", r->stddev_ps[i], false);
	put_u64(l, p, "max_ps", d->max_ps);
	put_time(l, p, "min_piat", d->min_piat_ns);
	put_double(l, p, "mean_piat", r->mean_piat_ns[i], true);
	put_double(l, p, "stddev_piat", r->stddev_piat_ns[i], true);
	put_time(l, p, "max_piat", d->max_piat_ns);
	for (j = 0; j < ARRAY_SIZE(flags); j++)
		put_u64(l, p, flags[j].name, d->flag_packets[flags[j].bit]);
}

/* One SPLT array: n slots of which the flow filled f, -1 after. */
static void put_splt(struct line *l, const struct xpp_flow_record *r,
		     const char *name, bool time, int which)
{
	const struct xpp_flow *f = &r->flow;
	unsigned int i, n = r->splt_max;

	if (!field(l, "", name, time))
		return;
	if (n > XPP_SPLT_MAX)
		n = XPP_SPLT_MAX;
	put(l, l->fmt == XPP_FMT_CSV ? "\"[" : "[");
	for (i = 0; i < n; i++) {
		long long v = -1;

		if (i < f->splt_len) {
			if (which == 0)
				v = f->splt_direction >> i & 1;
			else if (which == 1)
				v = f->splt_ps[i];
			else
				v = l->cols == XPP_COLUMNS_NFSTREAM ?
					    f->splt_piat_ns[i] / 1000000 :
					    f->splt_piat_ns[i];
		}
		put(l, i ? ",%lld" : "%lld", v);
	}
	put(l, l->fmt == XPP_FMT_CSV ? "]\"" : "]");
}

static void put_flow(struct line *l, const struct xpp_flow_record *r)
{
	char src[64] = "", dst[64] = "";
	int i;

	if (!l->header) {
		xpp_addr_str(r->src_ip, src, sizeof(src));
		xpp_addr_str(r->dst_ip, dst, sizeof(dst));
	}
	put_u64(l, "", "ifindex", r->ifindex);
	put_u64(l, "", "vlan_id", r->vlan_id);
	put_u64(l, "", "ip_version", r->ip_version);
	put_u64(l, "", "protocol", r->proto);
	put_str(l, "src_ip", src);
	put_u64(l, "", "src_port", r->src_port);
	put_str(l, "dst_ip", dst);
	put_u64(l, "", "dst_port", r->dst_port);
	put_str(l, "end_reason", xpp_flow_end_name(r->end_reason));
	put_str(l, "accounting", xpp_flow_accounting_name(r->accounting));
	for (i = 0; i < 3; i++)
		put_dir(l, r, i);
	put_u64(l, "", "src2dst_first_ttl", r->flow.src2dst.first_ttl);
	put_u64(l, "", "dst2src_first_ttl", r->flow.dst2src.first_ttl);
	put_u64(l, "", "src2dst_first_window", r->flow.src2dst.first_window);
	put_u64(l, "", "dst2src_first_window", r->flow.dst2src.first_window);
	put_splt(l, r, "splt_direction", false, 0);
	put_splt(l, r, "splt_ps", false, 1);
	put_splt(l, r, "splt_piat", true, 2);
}

int xpp_flow_csv_header(enum xpp_flow_columns cols, char *buf, size_t sz)
{
	struct xpp_flow_record r = { 0 };
	struct line l = { .buf = buf, .sz = sz, .fmt = XPP_FMT_CSV,
			  .cols = cols, .header = true };

	if (!sz)
		return -1;
	put_flow(&l, &r);
	put(&l, "\n");
	return l.over ? -1 : (int)l.len;
}

int xpp_flow_format_text(const struct xpp_flow_record *f,
			 enum xpp_format fmt, enum xpp_flow_columns cols,
			 char *buf, size_t sz)
{
	struct line l = { .buf = buf, .sz = sz, .fmt = fmt, .cols = cols };

	if (!sz || fmt == XPP_FMT_BINARY)
		return -1;
	if (fmt == XPP_FMT_NDJSON)
		put(&l, "{");
	put_flow(&l, f);
	put(&l, fmt == XPP_FMT_NDJSON ? "}\n" : "\n");
	return l.over ? -1 : (int)l.len;
}
