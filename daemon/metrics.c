// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "daemon.h"
#include "flows.h"
#include "latency.h"
#include "log.h"
#include "metrics.h"
#include "names.h"
#include "stats.h"
#include "util.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics {
	struct manager *m;
	struct MHD_Daemon *mhd;
	int fd; /* the listening socket, MHD's to close */
	ev_io io_w;
	ev_timer timer_w;
	unsigned int n_conns;
	uint64_t refused;
	uint64_t scrapes;
};

/*
 * The per-interface counters (struct xpp_counters) and their metric
 * names. Counters sharing a name differ by the label in the fourth
 * column, and follow each other so that HELP and TYPE come once.
 */
#define C(field) offsetof(struct xpp_counters, field)
#define TS_KERNEL SIZE_MAX /* packets less the other sources */
static const struct iface_metric {
	size_t offset;
	const char *name;
	const char *help;
	const char *label;
} iface_metrics[] = {
	{ C(packets), "packets_total", "Frames the XDP program saw.", NULL },
	{ C(bytes), "bytes_total", "Bytes of the frames the XDP program saw.",
	  NULL },
	{ C(ipv4), "ipv4_packets_total", "Frames with an IPv4 header.", NULL },
	{ C(ipv6), "ipv6_packets_total", "Frames with an IPv6 header.", NULL },
	{ C(vlan), "vlan_packets_total", "Frames with at least one VLAN tag.",
	  NULL },
	{ C(mpls), "mpls_packets_total",
	  "Frames with a whole MPLS label stack.", NULL },
	{ C(pppoe), "pppoe_packets_total",
	  "Frames with a whole PPPoE session and PPP header.", NULL },
	{ C(llc_snap), "llc_snap_packets_total",
	  "802.3 frames with a whole LLC/SNAP header.", NULL },
	{ C(tcp), "tcp_packets_total", "TCP frames.", NULL },
	{ C(udp), "udp_packets_total", "UDP frames.", NULL },
	{ C(icmp), "icmp_packets_total", "ICMP and ICMPv6 frames.", NULL },
	{ C(other), "other_l4_packets_total",
	  "IP frames with any other layer 4 protocol, or none.", NULL },
	{ C(not_ip), "not_ip_packets_total",
	  "Frames without a usable IP header.", NULL },
	{ C(records), "records_total", "Records written into the rings.",
	  NULL },
	{ C(records_lost), "records_lost_total",
	  "Records dropped: ring full or missing.", NULL },
	{ C(records_skipped), "records_skipped_total",
	  "Frames without a record: sampled out or not selected by a filter.",
	  NULL },
	{ C(filtered), "filtered_packets_total",
	  "Frames not selected by filter_proto or filter_ports (part of "
	  "records_skipped).",
	  NULL },
	{ C(dropped), "dropped_packets_total",
	  "Frames given XDP_DROP by the verdict key.", NULL },
	{ C(flows), "flows_total", "Flows begun in the kernel's flow table.",
	  NULL },
	{ C(flows_table_full), "flows_table_full_packets_total",
	  "Packets of new flows that the full flow table could not take.",
	  NULL },
	{ C(flows_lost), "flows_lost_total",
	  "Flows ended in the kernel that the export ring had no room for.",
	  NULL },
	{ C(flows_errors), "flow_errors_total",
	  "Flow table updates that failed otherwise.", NULL },
	{ C(ts_nic), "timestamps_total",
	  "Frames by the source of their timestamp.", "source=\"nic\"" },
	{ C(ts_capture), "timestamps_total", NULL, "source=\"capture\"" },
	{ TS_KERNEL, "timestamps_total", NULL, "source=\"kernel\"" },
};
#undef C

/* Every counter but malformed[] and ts_kernel (derived) is listed once. */
_Static_assert((ARRAY_SIZE(iface_metrics) - 1) * 8 + XPP_M_MAX * 8 ==
		       sizeof(struct xpp_counters),
	       "every counter needs a metric");

/* Delivery latency bounds (seconds, as Prometheus wants them). */
static const double latency_bounds[] = {
	1e-6,  2.5e-6, 5e-6,	1e-5,  2.5e-5, 5e-5,  1e-4, 2.5e-4,
	5e-4,  1e-3,   2.5e-3, 5e-3,  1e-2,   2.5e-2, 5e-2, 0.1,
	0.25,  0.5,    1,      2.5,   5,      10,
};

static uint64_t counter_value(const struct xpp_counters *c, size_t offset)
{
	if (offset == TS_KERNEL)
		return c->packets - c->ts_nic - c->ts_capture;
	return *(const uint64_t *)((const char *)c + offset);
}

/* A label value, escaped as the text format wants. */
static void put_label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void put_head(FILE *f, const char *name, const char *type,
		     const char *help)
{
	fprintf(f, "# HELP xdp_preprocd_%s %s\n# TYPE xdp_preprocd_%s %s\n",
		name, help, name, type);
}

/* One line: name{interface="...",extra} value. */
static void put_iface_sample(FILE *f, const char *name, const char *iface,
			     const char *extra, uint64_t v)
{
	fprintf(f, "xdp_preprocd_%s{interface=\"", name);
	put_label_value(f, iface);
	fprintf(f, "\"%s%s} %llu\n", extra ? "," : "", extra ? extra : "",
		(unsigned long long)v);
}

static void put_ifaces(FILE *f, const struct stats *s)
{
	const char *prev = NULL;
	char kind[64];
	unsigned int i, j, k;

	for (j = 0; j < ARRAY_SIZE(iface_metrics); j++) {
		const struct iface_metric *im = &iface_metrics[j];

		if (!prev || strcmp(prev, im->name))
			put_head(f, im->name, "counter", im->help);
		prev = im->name;
		for (i = 0; i < s->n_ifaces; i++)
			put_iface_sample(f, im->name, s->ifaces[i].iface->name,
					 im->label,
					 counter_value(&s->ifaces[i].c,
						       im->offset));
	}
	put_head(f, "malformed_packets_total", "counter",
		 "Malformed frames by what was wrong (docs/datapath.md).");
	for (k = 0; k < XPP_M_MAX; k++) {
		snprintf(kind, sizeof(kind), "kind=\"%s\"",
			 xpp_malformed_names[k]);
		for (i = 0; i < s->n_ifaces; i++)
			put_iface_sample(f, "malformed_packets_total",
					 s->ifaces[i].iface->name, kind,
					 s->ifaces[i].c.malformed[k]);
	}
}

static void put_value(FILE *f, const char *name, const char *type,
		      const char *help, uint64_t v)
{
	put_head(f, name, type, help);
	fprintf(f, "xdp_preprocd_%s %llu\n", name, (unsigned long long)v);
}

static void put_latency(FILE *f, const struct latency *l)
{
	const char *n = "delivery_latency_seconds";
	size_t i;

	put_head(f, n, "histogram",
		 "Time from a frame's timestamp to its record's delivery to "
		 "the subscribers; a bucket counts the values known to be at "
		 "most its bound.");
	for (i = 0; i < ARRAY_SIZE(latency_bounds); i++)
		fprintf(f, "xdp_preprocd_%s_bucket{le=\"%g\"} %llu\n", n,
			latency_bounds[i],
			(unsigned long long)latency_count_le(
				l, (uint64_t)(latency_bounds[i] * 1e9 + 0.5)));
	fprintf(f, "xdp_preprocd_%s_bucket{le=\"+Inf\"} %llu\n", n,
		(unsigned long long)l->count);
	fprintf(f, "xdp_preprocd_%s_sum %.9f\n", n, l->sum_ns / 1e9);
	fprintf(f, "xdp_preprocd_%s_count %llu\n", n,
		(unsigned long long)l->count);
}

static void put_daemon(FILE *f, const struct metrics *mx, const struct stats *s)
{
	const struct dp_status *st = &s->dp;
	unsigned int why;

	put_head(f, "info", "gauge", "The daemon's version and program id.");
	fprintf(f, "xdp_preprocd_info{version=\"%s\",prog_id=\"%u\"} 1\n",
		XPP_VERSION, st->prog_id);
	put_head(f, "uptime_seconds", "gauge", "Time since the daemon started.");
	fprintf(f, "xdp_preprocd_uptime_seconds %.3f\n", s->uptime_ns / 1e9);
	put_value(f, "records_delivered_total", "counter",
		  "Records this process drained from the rings.",
		  st->records_delivered);
	put_value(f, "ring_records_consumed_total", "counter",
		  "Records consumed from the rings since they were made, by "
		  "any daemon.",
		  st->records_consumed);
	put_value(f, "records_pending", "gauge",
		  "Records in the rings not yet drained.",
		  st->records_written - st->records_consumed);
	put_value(f, "rings", "gauge", "Per-CPU record rings.", st->rings);
	put_value(f, "ring_size_bytes", "gauge", "The size of each ring.",
		  st->ring_bytes);
	put_value(f, "ring_capacity_records", "gauge",
		  "Records each ring holds.", st->ring_slots);
	put_value(f, "ring_wakeups_total", "counter",
		  "Times the program woke the waiting daemon.", st->ring_wakeups);
	put_value(f, "ring_polls_total", "counter",
		  "Looks at the rings by the polling timer (under load).",
		  st->ring_polls);
	put_head(f, "ring_poll_interval_seconds", "gauge",
		 "The polling interval now; 0 while records wake the daemon.");
	fprintf(f, "xdp_preprocd_ring_poll_interval_seconds %.9f\n",
		st->poll_interval_ns / 1e9);
	put_latency(f, st->latency);
	put_value(f, "clients", "gauge", "Control socket connections.",
		  s->clients);
	put_value(f, "subscribers", "gauge", "Record and flow subscriptions.",
		  s->subscribers);
	put_value(f, "flows_enabled", "gauge", "1 when flows = on.",
		  st->flows_on);
	put_value(f, "flows_active", "gauge",
		  "Flows in the kernel's table at the last scan.",
		  st->flows.active);
	put_value(f, "flow_table_entries", "gauge",
		  "Flows the kernel's table holds at most.",
		  st->flows.table_size);
	put_head(f, "flows_exported_total", "counter",
		 "Flows the daemon exported, by end reason (docs/flows.md).");
	for (why = XPP_END_IDLE; why <= XPP_END_RESOURCES; why++)
		fprintf(f, "xdp_preprocd_flows_exported_total{reason=\"%s\"} %llu\n",
			xpp_flow_end_name(why),
			(unsigned long long)st->flows.exported[why]);
	put_value(f, "flows_lost_to_subscribers_total", "counter",
		  "Flows that flow subscribers lost (queue full).",
		  s->flows_lost_to_subscribers);
	if (s->ipfix.enabled) {
		put_value(f, "ipfix_up", "gauge",
			  "1 while the IPFIX exporter is connected.",
			  !strcmp(s->ipfix.state, "up"));
		put_value(f, "ipfix_exported_flows_total", "counter",
			  "Flows sent to the IPFIX collector.",
			  s->ipfix.exported);
		put_value(f, "ipfix_dropped_flows_total", "counter",
			  "Flows the full IPFIX queue could not take.",
			  s->ipfix.dropped);
		put_value(f, "ipfix_queued_flows", "gauge",
			  "Flows waiting for the IPFIX collector.",
			  s->ipfix.queued);
		put_value(f, "ipfix_queue_flows", "gauge",
			  "Flows the IPFIX queue holds at most (ipfix_queue).",
			  s->ipfix.queue_size);
		put_value(f, "ipfix_reconnects_total", "counter",
			  "Connections to the collector made again after a loss.",
			  s->ipfix.reconnects);
		put_value(f, "ipfix_send_errors_total", "counter",
			  "Losses of the connection or failed sends.",
			  s->ipfix.send_errors);
	}
	put_value(f, "metrics_scrapes_total", "counter",
		  "Requests for /metrics, this one included.", mx->scrapes);
	put_value(f, "metrics_refused_total", "counter",
		  "HTTP connections closed at once: the connection limit was "
		  "reached.",
		  mx->refused);
}

/* The page, or NULL when out of memory. */
static char *metrics_text(struct metrics *mx, size_t *ret_len)
{
	struct stats s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (stats_collect(mx->m, NULL, &s))
		return NULL;
	f = open_memstream(&buf, &len);
	if (f) {
		put_ifaces(f, &s);
		put_daemon(f, mx, &s);
		if (fclose(f)) {
			free(buf);
			buf = NULL;
		}
	}
	stats_release(&s);
	*ret_len = len;
	return buf;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *text, bool allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
					    MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct metrics *mx = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len;
	char *text;

	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND,
			     "not found: the only page is /metrics\n", false);
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			     "method not allowed: /metrics takes GET\n", true);
	mx->scrapes++; /* this one included */
	text = metrics_text(mx, &len);
	if (!text)
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			     "out of memory\n", false);
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* The connection limit: MHD_run calls this before it takes a
 * connection, and notify() below keeps the count. */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr,
				     socklen_t addrlen)
{
	struct metrics *mx = cls;

	if (mx->n_conns < METRICS_MAX_CONNECTIONS)
		return MHD_YES;
	mx->refused++;
	pr_debug("refused a metrics connection: %d connections already",
		 METRICS_MAX_CONNECTIONS);
	return MHD_NO;
}

static void notify(void *cls, struct MHD_Connection *conn, void **socket_ctx,
		   enum MHD_ConnectionNotificationCode toe)
{
	struct metrics *mx = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		mx->n_conns++;
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && mx->n_conns)
		mx->n_conns--;
}

/* MHD's own messages (a client's bad request, a failed send): a client
 * can cause them at will, so they stay at debug. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	pr_debug("metrics: %s", buf);
}

/* Does what is due, then waits for the descriptor or MHD's timeout. */
static void metrics_run(struct metrics *mx)
{
	struct ev_loop *loop = mx->m->loop;
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(mx->mhd);
	ev_timer_stop(loop, &mx->timer_w);
	if (MHD_get_timeout(mx->mhd, &ms) == MHD_YES) {
		ev_timer_set(&mx->timer_w, ms / 1e3, 0.);
		ev_timer_start(loop, &mx->timer_w);
	}
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	metrics_run(w->data);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	metrics_run(w->data);
}

/* The listening socket, made here so that a failure names its cause. */
static int listen_socket(const struct xpp_conf *conf, const char *where)
{
	int fd, one = 1;

	fd = socket(conf->metrics_addr.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* The shipped unit allows no IP sockets: docs/metrics.md has the
	 * drop-in that does. */
	if (fd < 0 && (errno == EAFNOSUPPORT || errno == EPERM))
		return log_error_errno(errno,
				       "metrics_listen %s: socket: %m (under "
				       "systemd: RestrictAddressFamilies= must "
				       "allow AF_INET/AF_INET6, see "
				       "docs/metrics.md)",
				       where);
	if (fd < 0)
		return log_error_errno(errno, "metrics_listen %s: socket: %m",
				       where);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&conf->metrics_addr,
		 conf->metrics_addr_len) < 0 ||
	    listen(fd, 64) < 0) {
		int err = errno;

		close(fd);
		return log_error_errno(err, "metrics_listen %s: cannot listen: %m",
				       where);
	}
	return fd;
}

struct metrics *metrics_new(struct manager *m)
{
	struct metrics *mx;
	const union MHD_DaemonInfo *info;
	char where[80];
	int err;

	xpp_conf_metrics_listen_str(&m->conf, where, sizeof(where));
	mx = calloc(1, sizeof(*mx));
	if (!mx) {
		log_error_errno(ENOMEM, "metrics_listen %s: out of memory", where);
		errno = ENOMEM;
		return NULL;
	}
	mx->m = m;
	mx->fd = listen_socket(&m->conf, where);
	if (mx->fd < 0) {
		err = -mx->fd;
		goto fail;
	}
	mx->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			(m->conf.metrics_addr.ss_family == AF_INET6 ?
				 MHD_USE_IPv6 :
				 0),
		0, accept_policy, mx, handle, mx, MHD_OPTION_LISTEN_SOCKET,
		mx->fd,
		/* A backstop: accept_policy refuses before this. */
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)METRICS_MAX_CONNECTIONS + 1,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_TIMEOUT_S,
		MHD_OPTION_NOTIFY_CONNECTION, notify, mx,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, mx, MHD_OPTION_END);
	if (!mx->mhd) {
		close(mx->fd);
		err = EINVAL;
		log_error_errno(err, "metrics_listen %s: libmicrohttpd would "
				     "not start (see the debug log)",
				where);
		goto fail;
	}
	info = MHD_get_daemon_info(mx->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		err = EINVAL;
		log_error_errno(err, "metrics_listen %s: no epoll descriptor",
				where);
		goto fail;
	}
	ev_io_init(&mx->io_w, io_cb, info->epoll_fd, EV_READ);
	mx->io_w.data = mx;
	ev_io_start(m->loop, &mx->io_w);
	ev_init(&mx->timer_w, timer_cb);
	mx->timer_w.data = mx;
	metrics_run(mx);
	pr_info("serving /metrics at http://%s/metrics", where);
	return mx;
fail:
	metrics_free(mx);
	errno = err;
	return NULL;
}

void metrics_free(struct metrics *mx)
{
	if (!mx)
		return;
	if (mx->mhd) {
		ev_io_stop(mx->m->loop, &mx->io_w);
		ev_timer_stop(mx->m->loop, &mx->timer_w);
		MHD_stop_daemon(mx->mhd);
	}
	free(mx);
}
