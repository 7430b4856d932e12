// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "conf.h"
#include "datapath.h"
#include "flows.h"
#include "proto.h"
#include "util.h"

#define LINE_MAX_LEN 4096

struct key {
	const char *name;
	bool runtime; /* may change without a restart */
	int (*set)(struct xpp_conf *c, const char *v, char *err, size_t sz);
	int (*get)(const struct xpp_conf *c, char *buf, size_t sz);
};

static int fail(char *err, size_t sz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t sz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, sz, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Whole-string unsigned number within [min, max]. */
static int parse_uint(const char *v, unsigned long long min,
		      unsigned long long max, unsigned long long *ret)
{
	unsigned long long n;
	char *end;

	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return -EINVAL;
	*ret = n;
	return 0;
}

static int set_path(char *dst, size_t dsz, const char *key, const char *v,
		    char *err, size_t sz)
{
	if (v[0] != '/')
		return fail(err, sz, "%s must be an absolute path, not '%s'",
			    key, v);
	if (strlen(v) >= dsz)
		return fail(err, sz, "%s is longer than %zu bytes", key,
			    dsz - 1);
	strcpy(dst, v);
	return 0;
}

static int set_pin_root(struct xpp_conf *c, const char *v, char *err,
			size_t sz)
{
	return set_path(c->pin_root, sizeof(c->pin_root), "pin_root", v, err,
			sz);
}

static int get_pin_root(const struct xpp_conf *c, char *buf, size_t sz)
{
	return snprintf(buf, sz, "%s", c->pin_root);
}

static int set_socket(struct xpp_conf *c, const char *v, char *err, size_t sz)
{
	return set_path(c->socket_path, sizeof(c->socket_path), "socket", v,
			err, sz);
}

static int get_socket(const struct xpp_conf *c, char *buf, size_t sz)
{
	return snprintf(buf, sz, "%s", c->socket_path);
}

static int set_admin_group(struct xpp_conf *c, const char *v, char *err,
			   size_t sz)
{
	const char *p;

	if (strlen(v) >= sizeof(c->admin_group))
		return fail(err, sz, "admin_group is too long");
	for (p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_-.", *p))
			return fail(err, sz,
				    "admin_group '%s' is not a group name", v);
	strcpy(c->admin_group, v);
	return 0;
}

static int get_admin_group(const struct xpp_conf *c, char *buf, size_t sz)
{
	return snprintf(buf, sz, "%s", c->admin_group);
}

/* A byte count up to max, with an optional K, M or G suffix (powers of
 * 1024). */
static int parse_size(const char *v, unsigned long long max,
		      unsigned long long *ret)
{
	unsigned long long n, mult = 1;
	char num[32];
	size_t len = strlen(v);

	if (len == 0 || len >= sizeof(num))
		return -EINVAL;
	strcpy(num, v);
	switch (toupper((unsigned char)num[len - 1])) {
	case 'K':
		mult = 1ULL << 10;
		break;
	case 'M':
		mult = 1ULL << 20;
		break;
	case 'G':
		mult = 1ULL << 30;
		break;
	}
	if (mult > 1)
		num[len - 1] = '\0';
	if (parse_uint(num, 0, max, &n) || n * mult > max)
		return -EINVAL;
	*ret = n * mult;
	return 0;
}

static int print_size(char *buf, size_t sz, unsigned long long n)
{
	if (n && !(n % (1 << 30)))
		return snprintf(buf, sz, "%lluG", n >> 30);
	if (n && !(n % (1 << 20)))
		return snprintf(buf, sz, "%lluM", n >> 20);
	if (n && !(n % (1 << 10)))
		return snprintf(buf, sz, "%lluK", n >> 10);
	return snprintf(buf, sz, "%llu", n);
}

static int set_ring_size(struct xpp_conf *c, const char *v, char *err,
			 size_t sz)
{
	unsigned long long n;

	if (parse_size(v, XPP_RING_BYTES_MAX, &n) || n < XPP_RING_BYTES_MIN ||
	    (n & (n - 1)))
		goto bad;
	c->ring_bytes = n;
	return 0;
bad:
	return fail(err, sz,
		    "ring_size '%s': want a power of two from 64K to 1G "
		    "(suffix K, M or G)",
		    v);
}

static int get_ring_size(const struct xpp_conf *c, char *buf, size_t sz)
{
	return print_size(buf, sz, c->ring_bytes);
}

static int set_wakeup_bytes(struct xpp_conf *c, const char *v, char *err,
			    size_t sz)
{
	unsigned long long n;

	if (parse_size(v, XPP_RING_BYTES_MAX, &n))
		return fail(err, sz,
			    "wakeup_bytes '%s': want a size from 0 to 1G "
			    "(suffix K, M or G; 0: use wakeup_fill_percent)",
			    v);
	c->wakeup_bytes = n;
	return 0;
}

static int get_wakeup_bytes(const struct xpp_conf *c, char *buf, size_t sz)
{
	return print_size(buf, sz, c->wakeup_bytes);
}

/* A whole number within [lo, hi], stored times scale (seconds as ns). */
#define SCALED_KEY(fn, field, key, lo, hi, scale)                             \
	static int set_##fn(struct xpp_conf *c, const char *v, char *err,    \
			    size_t sz)                                        \
	{                                                                     \
		unsigned long long n;                                         \
		if (parse_uint(v, lo, hi, &n))                                \
			return fail(err, sz,                                  \
				    key " '%s': want a whole number from %llu " \
					"to %llu",                            \
				    v, (unsigned long long)(lo),              \
				    (unsigned long long)(hi));                \
		c->field = n * (scale);                                       \
		return 0;                                                     \
	}                                                                     \
	static int get_##fn(const struct xpp_conf *c, char *buf, size_t sz)  \
	{                                                                     \
		return snprintf(buf, sz, "%llu",                              \
				(unsigned long long)c->field / (scale));      \
	}
#define UINT_KEY(fn, field, key, lo, hi) SCALED_KEY(fn, field, key, lo, hi, 1)

UINT_KEY(flush, flush_ms, "flush_interval_ms", 1, 1000)
UINT_KEY(poll, poll_us, "poll_interval_us", 10, 1000000)
UINT_KEY(wakeup, wakeup_percent, "wakeup_fill_percent", 0, 100)
UINT_KEY(max_clients, max_clients, "max_clients", 1, 65536)
UINT_KEY(max_request, max_request, "max_request_bytes", 256, 16 << 20)
UINT_KEY(max_subscribers, max_subscribers, "max_subscribers", 0, 65536)
UINT_KEY(subscriber_queue, subscriber_queue, "subscriber_queue", 16,
	 1 << 20)
UINT_KEY(sample, dp.sample_n, "sample", 1, 1U << 31)
SCALED_KEY(idle_timeout, dp.idle_timeout_ns, "idle_timeout", 1,
	   XPP_TIMEOUT_MAX, 1000000000ULL)
SCALED_KEY(active_timeout, dp.active_timeout_ns, "active_timeout", 1,
	   XPP_TIMEOUT_MAX, 1000000000ULL)
UINT_KEY(flow_splt, dp.splt_len, "flow_splt", 1, XPP_SPLT_MAX)
UINT_KEY(flow_table_size, flow_entries, "flow_table_size",
	 XPP_FLOW_ENTRIES_MIN, XPP_FLOW_ENTRIES_MAX)

/* An on|off key: a bit of the program's configuration, set by on (or by
 * off, when inverted). */
static int set_switch(struct xpp_conf *c, const char *key, __u32 bit,
		      bool inverted, const char *v, char *err, size_t sz)
{
	bool on;

	if (!strcmp(v, "on"))
		on = true;
	else if (!strcmp(v, "off"))
		on = false;
	else
		return fail(err, sz, "%s '%s': want on or off", key, v);
	if (on != inverted)
		c->dp.flags |= bit;
	else
		c->dp.flags &= ~bit;
	return 0;
}

static int get_switch(const struct xpp_conf *c, __u32 bit, bool inverted,
		      char *buf, size_t sz)
{
	return snprintf(buf, sz, "%s",
			!(c->dp.flags & bit) == inverted ? "on" : "off");
}

static int set_records(struct xpp_conf *c, const char *v, char *err, size_t sz)
{
	return set_switch(c, "records", XPP_CFG_NO_RECORDS, true, v, err, sz);
}

static int get_records(const struct xpp_conf *c, char *buf, size_t sz)
{
	return get_switch(c, XPP_CFG_NO_RECORDS, true, buf, sz);
}

static int set_flows(struct xpp_conf *c, const char *v, char *err, size_t sz)
{
	return set_switch(c, "flows", XPP_CFG_FLOWS, false, v, err, sz);
}

static int get_flows(const struct xpp_conf *c, char *buf, size_t sz)
{
	return get_switch(c, XPP_CFG_FLOWS, false, buf, sz);
}

static int set_flow_accounting(struct xpp_conf *c, const char *v, char *err,
			       size_t sz)
{
	unsigned int a;

	if (xpp_flow_accounting_parse(v, &a))
		return fail(err, sz,
			    "flow_accounting '%s': want link, ip, transport or "
			    "payload",
			    v);
	c->dp.flow_accounting = a;
	return 0;
}

static int get_flow_accounting(const struct xpp_conf *c, char *buf,
			       size_t sz)
{
	return snprintf(buf, sz, "%s",
			xpp_flow_accounting_name(c->dp.flow_accounting));
}

static const char *const level_names[] = {
	[LOG_ERR] = "err",	   [LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice", [LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

static int set_log_level(struct xpp_conf *c, const char *v, char *err,
			 size_t sz)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (level_names[i] && !strcmp(v, level_names[i])) {
			c->log_level = i;
			return 0;
		}
	}
	return fail(err, sz,
		    "log_level '%s': want err, warning, notice, info or debug",
		    v);
}

static int get_log_level(const struct xpp_conf *c, char *buf, size_t sz)
{
	return snprintf(buf, sz, "%s", level_names[c->log_level]);
}

static const struct {
	const char *name;
	unsigned int proto;
} proto_names[] = {
	{ "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "gre", 47 },
	{ "esp", 50 }, { "ah", 51 }, { "icmpv6", 58 }, { "sctp", 132 },
};

/* Space- or comma-separated words of v, each handed to fn. */
static int for_words(const char *v, int (*fn)(void *ctx, const char *w),
		     void *ctx)
{
	char buf[LINE_MAX_LEN], *w, *save = NULL;
	int err;

	if (strlen(v) >= sizeof(buf))
		return -E2BIG;
	strcpy(buf, v);
	for (w = strtok_r(buf, " \t,", &save); w;
	     w = strtok_r(NULL, " \t,", &save)) {
		err = fn(ctx, w);
		if (err)
			return err;
	}
	return 0;
}

struct words {
	struct xpp_config *dp;
	char *err;
	size_t sz;
	int n;
};

static int proto_word(void *ctx, const char *w)
{
	struct words *x = ctx;
	unsigned long long n;
	size_t i;

	x->n++;
	for (i = 0; i < ARRAY_SIZE(proto_names); i++) {
		if (!strcasecmp(w, proto_names[i].name)) {
			xpp_config_set_proto(x->dp, proto_names[i].proto);
			return 0;
		}
	}
	if (parse_uint(w, 0, 255, &n))
		return fail(x->err, x->sz,
			    "filter_proto: '%s' is not a protocol (tcp, udp, "
			    "icmp, icmpv6, gre, esp, ah, sctp or a number "
			    "0-255)",
			    w);
	xpp_config_set_proto(x->dp, n);
	return 0;
}

/*
 * A filter list: "any" clears it, otherwise every word goes through fn
 * into a copy of the datapath config, which replaces the running one only
 * when all of them were good.
 */
static int set_filter_list(struct xpp_conf *c, const char *key,
			   const char *v, __u64 *map, size_t map_bytes,
			   __u32 flag, int (*fn)(void *ctx, const char *w),
			   char *err, size_t sz)
{
	struct xpp_config dp = c->dp;
	struct words x = { &dp, err, sz, 0 };
	int e;

	/* map points into c->dp: clear the same field of the copy. */
	memset((char *)&dp + ((char *)map - (char *)&c->dp), 0, map_bytes);
	dp.flags &= ~flag;
	if (strcasecmp(v, "any")) { /* as the names: any case */
		e = for_words(v, fn, &x);
		if (e == -E2BIG)
			return fail(err, sz, "%s is too long", key);
		if (e)
			return e;
		if (!x.n)
			return fail(err, sz,
				    "%s is empty: say 'any' for no filter", key);
		dp.flags |= flag;
	}
	c->dp = dp;
	return 0;
}

static int set_filter_proto(struct xpp_conf *c, const char *v, char *err,
			    size_t sz)
{
	return set_filter_list(c, "filter_proto", v, c->dp.proto_map,
			       sizeof(c->dp.proto_map), XPP_CFG_PROTO_FILTER,
			       proto_word, err, sz);
}

static int get_filter_proto(const struct xpp_conf *c, char *buf, size_t sz)
{
	size_t off = 0, i;
	unsigned int p;

	if (!(c->dp.flags & XPP_CFG_PROTO_FILTER))
		return snprintf(buf, sz, "any");
	buf[0] = '\0';
	for (p = 0; p < 256 && off < sz; p++) {
		const char *name = NULL;

		if (!xpp_config_has_proto(&c->dp, p))
			continue;
		for (i = 0; i < ARRAY_SIZE(proto_names); i++)
			if (proto_names[i].proto == p)
				name = proto_names[i].name;
		if (name)
			off += snprintf(buf + off, sz - off, "%s%s",
					off ? " " : "", name);
		else
			off += snprintf(buf + off, sz - off, "%s%u",
					off ? " " : "", p);
	}
	return off;
}

static int port_word(void *ctx, const char *w)
{
	struct words *x = ctx;
	unsigned long long lo, hi;
	char a[16], *dash;

	x->n++;
	if (strlen(w) >= sizeof(a))
		goto bad;
	strcpy(a, w);
	dash = strchr(a, '-');
	if (dash)
		*dash = '\0';
	if (parse_uint(a, 0, 65535, &lo))
		goto bad;
	hi = lo;
	if (dash && parse_uint(dash + 1, lo, 65535, &hi))
		goto bad;
	for (; lo <= hi; lo++)
		xpp_config_set_port(x->dp, lo);
	return 0;
bad:
	return fail(x->err, x->sz,
		    "filter_ports: '%s' is not a port (0-65535) or a range "
		    "(LOW-HIGH)",
		    w);
}

static int set_filter_ports(struct xpp_conf *c, const char *v, char *err,
			    size_t sz)
{
	return set_filter_list(c, "filter_ports", v, c->dp.port_map,
			       sizeof(c->dp.port_map), XPP_CFG_PORT_FILTER,
			       port_word, err, sz);
}

static int get_filter_ports(const struct xpp_conf *c, char *buf, size_t sz)
{
	size_t off = 0;
	unsigned int p, q;

	if (!(c->dp.flags & XPP_CFG_PORT_FILTER))
		return snprintf(buf, sz, "any");
	buf[0] = '\0';
	for (p = 0; p < 65536 && off < sz; p++) {
		if (!xpp_config_has_port(&c->dp, p))
			continue;
		for (q = p; q + 1 < 65536 && xpp_config_has_port(&c->dp, q + 1);)
			q++;
		if (q > p)
			off += snprintf(buf + off, sz - off, "%s%u-%u",
					off ? " " : "", p, q);
		else
			off += snprintf(buf + off, sz - off, "%s%u",
					off ? " " : "", p);
		p = q;
	}
	return off;
}

static int set_reattach(struct xpp_conf *c, const char *v, char *err,
			size_t sz)
{
	if (!strcmp(v, "yes"))
		c->reattach = true;
	else if (!strcmp(v, "no"))
		c->reattach = false;
	else
		return fail(err, sz, "reattach '%s': want yes or no", v);
	return 0;
}

static int get_reattach(const struct xpp_conf *c, char *buf, size_t sz)
{
	return snprintf(buf, sz, "%s", c->reattach ? "yes" : "no");
}

static int set_verdict(struct xpp_conf *c, const char *v, char *err,
		       size_t sz)
{
	if (!strcmp(v, "pass"))
		c->dp.flags &= ~XPP_CFG_DROP_SELECTED;
	else if (!strcmp(v, "drop"))
		c->dp.flags |= XPP_CFG_DROP_SELECTED;
	else
		return fail(err, sz, "verdict '%s': want pass or drop", v);
	return 0;
}

static int get_verdict(const struct xpp_conf *c, char *buf, size_t sz)
{
	return snprintf(buf, sz, "%s",
			c->dp.flags & XPP_CFG_DROP_SELECTED ? "drop" : "pass");
}

const char *xpp_mode_name(enum xpp_mode m)
{
	switch (m) {
	case XPP_MODE_NATIVE:
		return "native";
	case XPP_MODE_GENERIC:
		return "generic";
	default:
		return "auto";
	}
}

int xpp_mode_parse(const char *s, enum xpp_mode *ret)
{
	if (!strcmp(s, "auto"))
		*ret = XPP_MODE_AUTO;
	else if (!strcmp(s, "native"))
		*ret = XPP_MODE_NATIVE;
	else if (!strcmp(s, "generic"))
		*ret = XPP_MODE_GENERIC;
	else
		return -EINVAL;
	return 0;
}

static bool ifname_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

static int set_attach(struct xpp_conf *c, const char *v, char *err,
		      size_t sz)
{
	char name[64], mode[64], extra[8];
	struct xpp_conf_attach *a;
	enum xpp_mode m = XPP_MODE_AUTO;
	unsigned int i;
	int n;

	n = sscanf(v, "%63s %63s %7s", name, mode, extra);
	if (n < 1 || n > 2)
		return fail(err, sz,
			    "attach '%s': want 'IFACE [native|generic|auto]'",
			    v);
	if (!ifname_valid(name))
		return fail(err, sz, "attach: '%s' is not an interface name",
			    name);
	if (n == 2 && xpp_mode_parse(mode, &m))
		return fail(err, sz,
			    "attach %s: mode '%s': want native, generic or auto",
			    name, mode);
	for (i = 0; i < c->n_attach; i++)
		if (!strcmp(c->attach[i].name, name))
			return fail(err, sz, "attach: %s is listed twice", name);
	if (c->n_attach >= XPP_CONF_MAX_ATTACH)
		return fail(err, sz, "attach: more than %d interfaces",
			    XPP_CONF_MAX_ATTACH);
	a = &c->attach[c->n_attach++];
	strcpy(a->name, name);
	a->mode = m;
	return 0;
}

static int get_attach(const struct xpp_conf *c, char *buf, size_t sz)
{
	size_t off = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < c->n_attach && off < sz; i++)
		off += snprintf(buf + off, sz - off, "%s%s %s", i ? ", " : "",
				c->attach[i].name,
				xpp_mode_name(c->attach[i].mode));
	return off;
}

/*
 * metrics_listen: off, PORT (loopback), IPV4:PORT or [IPV6]:PORT. Numeric
 * addresses only: a name would need the resolver while the file is read.
 */
static int set_metrics_listen(struct xpp_conf *c, const char *v, char *err,
			      size_t sz)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	unsigned long long port;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(v, ':'), *port_s = v;
	size_t hl;

	if (!strcmp(v, "off") || !*v) {
		c->metrics_addr_len = 0;
		return 0;
	}
	if (!colon) {
		strcpy(host, "127.0.0.1");
	} else {
		hl = colon - v;
		if (hl == 0 || hl >= sizeof(host))
			goto bad;
		memcpy(host, v, hl);
		host[hl] = '\0';
		port_s = colon + 1;
	}
	if (parse_uint(port_s, 1, 65535, &port))
		goto bad;
	if (host[0] == '[') {
		hl = strlen(host);
		if (hl < 3 || host[hl - 1] != ']')
			goto bad;
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			goto bad;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		c->metrics_addr_len = sizeof(*in6);
	} else {
		if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
			goto bad;
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		c->metrics_addr_len = sizeof(*in4);
	}
	c->metrics_addr = ss;
	return 0;
bad:
	return fail(err, sz,
		    "metrics_listen '%s': want off, PORT, IPV4:PORT or "
		    "[IPV6]:PORT (numeric address, port 1 to 65535)",
		    v);
}

int xpp_conf_metrics_listen_str(const struct xpp_conf *c, char *buf,
				size_t sz)
{
	const struct sockaddr_in *in4 = (const void *)&c->metrics_addr;
	const struct sockaddr_in6 *in6 = (const void *)&c->metrics_addr;
	char a[INET6_ADDRSTRLEN];

	if (!c->metrics_addr_len)
		return snprintf(buf, sz, "off");
	if (c->metrics_addr.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		return snprintf(buf, sz, "[%s]:%u", a, ntohs(in6->sin6_port));
	}
	inet_ntop(AF_INET, &in4->sin_addr, a, sizeof(a));
	return snprintf(buf, sz, "%s:%u", a, ntohs(in4->sin_port));
}

/*
 * ipfix_collector = HOST:PORT[/tcp|/udp], an IPv6 address in brackets;
 * off (or nothing) turns the export off. The name is resolved when the
 * exporter connects, not here: a collector that is not up yet is no
 * configuration error.
 */
static int set_ipfix_collector(struct xpp_conf *c, const char *v, char *err,
			       size_t sz)
{
	char buf[300], *host, *port, *slash, *colon;
	unsigned long long n;
	bool tcp = false;
	const char *p;

	if (!*v || !strcmp(v, "off")) {
		c->ipfix_host[0] = c->ipfix_port[0] = '\0';
		c->ipfix_tcp = false;
		return 0;
	}
	if (strlen(v) >= sizeof(buf))
		return fail(err, sz, "ipfix_collector is too long");
	strcpy(buf, v);
	slash = strrchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (!strcmp(slash + 1, "tcp"))
			tcp = true;
		else if (strcmp(slash + 1, "udp"))
			return fail(err, sz,
				    "ipfix_collector '%s': transport '%s': want "
				    "tcp or udp",
				    v, slash + 1);
	}
	host = buf;
	if (*host == '[') {
		colon = strchr(host, ']');
		if (!colon || colon[1] != ':')
			goto bad;
		*colon = '\0';
		host++;
		port = colon + 2;
	} else {
		colon = strrchr(host, ':');
		if (!colon)
			goto bad;
		*colon = '\0';
		port = colon + 1;
		if (strchr(host, ':'))
			return fail(err, sz,
				    "ipfix_collector '%s': an IPv6 address goes "
				    "in brackets: [ADDR]:PORT",
				    v);
	}
	if (!*host || strlen(host) >= sizeof(c->ipfix_host))
		goto bad;
	for (p = host; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-_:", *p))
			return fail(err, sz,
				    "ipfix_collector '%s': '%s' is not a host "
				    "name or address",
				    v, host);
	if (parse_uint(port, 1, 65535, &n))
		return fail(err, sz,
			    "ipfix_collector '%s': port '%s': want 1 to 65535",
			    v, port);
	strcpy(c->ipfix_host, host);
	snprintf(c->ipfix_port, sizeof(c->ipfix_port), "%llu", n);
	c->ipfix_tcp = tcp;
	return 0;
bad:
	return fail(err, sz,
		    "ipfix_collector '%s': want HOST:PORT, [IPV6]:PORT, either "
		    "with /tcp or /udp (default), or off",
		    v);
}

static int get_ipfix_collector(const struct xpp_conf *c, char *buf,
			       size_t sz)
{
	if (!c->ipfix_host[0])
		return snprintf(buf, sz, "off");
	return snprintf(buf, sz, strchr(c->ipfix_host, ':') ? "[%s]:%s/%s" :
							      "%s:%s/%s",
			c->ipfix_host, c->ipfix_port,
			c->ipfix_tcp ? "tcp" : "udp");
}

UINT_KEY(ipfix_domain, ipfix_domain, "ipfix_observation_domain", 0,
	 UINT32_MAX)
UINT_KEY(ipfix_queue, ipfix_queue, "ipfix_queue", 16, 1 << 20)
UINT_KEY(ipfix_refresh, ipfix_refresh_s, "ipfix_template_refresh", 1, 86400)

static const struct key keys[] = {
	{ "pin_root", false, set_pin_root, get_pin_root },
	{ "socket", false, set_socket, get_socket },
	{ "admin_group", false, set_admin_group, get_admin_group },
	{ "ring_size", false, set_ring_size, get_ring_size },
	{ "flush_interval_ms", true, set_flush, get_flush },
	{ "poll_interval_us", true, set_poll, get_poll },
	{ "wakeup_fill_percent", true, set_wakeup, get_wakeup },
	{ "wakeup_bytes", true, set_wakeup_bytes, get_wakeup_bytes },
	{ "max_clients", true, set_max_clients, get_max_clients },
	{ "max_request_bytes", true, set_max_request, get_max_request },
	{ "max_subscribers", true, set_max_subscribers, get_max_subscribers },
	{ "subscriber_queue", true, set_subscriber_queue, get_subscriber_queue },
	{ "log_level", true, set_log_level, get_log_level },
	{ "sample", true, set_sample, get_sample },
	{ "filter_proto", true, set_filter_proto, get_filter_proto },
	{ "filter_ports", true, set_filter_ports, get_filter_ports },
	{ "verdict", true, set_verdict, get_verdict },
	{ "reattach", true, set_reattach, get_reattach },
	{ "records", true, set_records, get_records },
	{ "flows", true, set_flows, get_flows },
	{ "idle_timeout", true, set_idle_timeout, get_idle_timeout },
	{ "active_timeout", true, set_active_timeout, get_active_timeout },
	{ "flow_accounting", true, set_flow_accounting, get_flow_accounting },
	{ "flow_splt", true, set_flow_splt, get_flow_splt },
	{ "flow_table_size", false, set_flow_table_size, get_flow_table_size },
	{ "attach", false, set_attach, get_attach },
	{ "metrics_listen", false, set_metrics_listen,
	  xpp_conf_metrics_listen_str },
	{ "ipfix_collector", false, set_ipfix_collector, get_ipfix_collector },
	{ "ipfix_observation_domain", false, set_ipfix_domain,
	  get_ipfix_domain },
	{ "ipfix_queue", false, set_ipfix_queue, get_ipfix_queue },
	{ "ipfix_template_refresh", false, set_ipfix_refresh,
	  get_ipfix_refresh },
};

const char *const xpp_conf_keys[] = {
	"pin_root",	    "socket",	       "admin_group",
	"ring_size",	    "flush_interval_ms", "poll_interval_us", "wakeup_fill_percent",
	"wakeup_bytes",	    "max_clients",	  "max_request_bytes",
	"max_subscribers",  "subscriber_queue",  "log_level",
	"sample",	    "filter_proto",	  "filter_ports",
	"verdict",	    "reattach",		  "records",
	"flows",	    "idle_timeout",	  "active_timeout",
	"flow_accounting",  "flow_splt",	  "flow_table_size",
	"attach",	    "metrics_listen",	  "ipfix_collector",
	"ipfix_observation_domain", "ipfix_queue", "ipfix_template_refresh",
	NULL,
};

static const struct key *key_find(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

void xpp_conf_defaults(struct xpp_conf *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->pin_root, XPP_DEFAULT_PIN_ROOT);
	strcpy(c->socket_path, XPP_DEFAULT_SOCKET);
	strcpy(c->admin_group, XPP_DEFAULT_ADMIN_GROUP);
	c->ring_bytes = XPP_RING_BYTES_DEFAULT;
	c->flow_entries = XPP_FLOW_ENTRIES_DEFAULT;
	c->flush_ms = 1;
	c->poll_us = 50;
	c->wakeup_percent = 50;
	c->max_clients = 64;
	c->max_request = 64 * 1024;
	c->max_subscribers = 32;
	c->subscriber_queue = 8192;
	c->log_level = LOG_INFO;
	c->reattach = true;
	c->ipfix_queue = 4096;
	c->ipfix_refresh_s = 60;
	xpp_config_init(&c->dp);
}

int xpp_conf_set(struct xpp_conf *c, const char *key, const char *value,
		 bool runtime_only, char *err, size_t errsz)
{
	const struct key *k = key_find(key);

	if (!k)
		return fail(err, errsz,
			    "unknown key '%s' (see xdp-preprocd.conf(5) for "
			    "the keys)",
			    key);
	if (runtime_only && !k->runtime)
		return fail(err, errsz,
			    "%s cannot change at run time: edit the config "
			    "file and restart xdp-preprocd",
			    key);
	return k->set(c, value, err, errsz);
}

int xpp_conf_get(const struct xpp_conf *c, const char *key, char *buf,
		 size_t sz)
{
	const struct key *k = key_find(key);

	if (!k)
		return -ENOENT;
	k->get(c, buf, sz);
	return 0;
}

int xpp_conf_keep_start_only(struct xpp_conf *next, const struct xpp_conf *cur,
			     char *ret_changed, size_t sz)
{
	char want[PATH_MAX + 64], have[PATH_MAX + 64], err[256];
	size_t i, off = 0;

	ret_changed[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct key *k = &keys[i];

		if (k->runtime || !strcmp(k->name, "attach"))
			continue;
		k->get(next, want, sizeof(want));
		k->get(cur, have, sizeof(have));
		if (!strcmp(want, have))
			continue;
		if (off < sz)
			off += snprintf(ret_changed + off, sz - off, "%s%s",
					off ? ", " : "", k->name);
		if (k->set(next, have, err, sizeof(err)))
			return -EINVAL;
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int xpp_conf_load(struct xpp_conf *c, const char *path, char *err,
		  size_t errsz)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	char msg[512];
	bool seen[ARRAY_SIZE(keys)] = {};
	struct xpp_conf tmp = *c;
	unsigned int lineno = 0;
	struct stat st = {};
	FILE *f;
	int fd;
	int ret = 0;

	/* Non-blocking: a FIFO must not hang the daemon on reload. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		int e = errno;

		snprintf(err, errsz, "%s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "%s: %s", path,
			 S_ISDIR(st.st_mode) ?
				 "is a directory, not a configuration file" :
				 "not a regular file (a FIFO, device or "
				 "socket cannot be a configuration file)");
		close(fd);
		return -EINVAL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		int e = errno;

		close(fd);
		snprintf(err, errsz, "%s: %s", path, strerror(e));
		return -e;
	}
	tmp.n_attach = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *s, *eq, *key, *val;
		const struct key *k;

		lineno++;
		if (memchr(line, '\0', n)) {
			snprintf(err, errsz, "%s:%u: the line holds a NUL byte",
				 path, lineno);
			ret = -EINVAL;
			break;
		}
		if (n > LINE_MAX_LEN + 1 ||
		    (n == LINE_MAX_LEN + 1 && line[n - 1] != '\n')) {
			snprintf(err, errsz, "%s:%u: line longer than %d bytes",
				 path, lineno, LINE_MAX_LEN);
			ret = -EINVAL;
			break;
		}
		s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errsz,
				 "%s:%u: '%s' is not 'key = value'", path,
				 lineno, s);
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		k = key_find(key);
		if (k && k->set != set_attach) {
			if (seen[k - keys]) {
				snprintf(err, errsz,
					 "%s:%u: %s is set twice", path, lineno,
					 key);
				ret = -EINVAL;
				break;
			}
			seen[k - keys] = true;
		}
		ret = xpp_conf_set(&tmp, key, val, false, msg, sizeof(msg));
		if (ret) {
			snprintf(err, errsz, "%s:%u: %s", path, lineno, msg);
			break;
		}
	}
	if (!ret && ferror(f)) {
		snprintf(err, errsz, "%s: read error", path);
		ret = -EIO;
	}
	fclose(f);
	if (!ret)
		*c = tmp;
	return ret;
}
