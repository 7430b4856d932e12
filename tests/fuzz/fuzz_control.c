// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the daemon's protocol layer as a state machine. The
 * input is a sequence of events over up to MAX_SLOTS peers: connect,
 * bytes, newline, config_set of any key to any value, subscribe, a
 * command, half-close, close, the peer reading, and records arriving.
 * Each event goes in by the real way: peers are real Unix stream sockets
 * connected to the real control socket, and the daemon's side runs in
 * its real libev loop (ev_run), so accept_cb, conn.c's read and write
 * callbacks, the commands, the subscriptions and the configuration code
 * are the daemon's own. Records enter where the drain hands them over
 * (subscriptions_deliver, subscriptions_flush), and flows with them where
 * the flow drain hands them over (subscriptions_deliver_flow).
 *
 * Below the protocol, this file is the datapath owner (dp-owner.h): a
 * few named interfaces kept in memory, so that attach, detach, list and
 * stats have something to act on without a kernel.
 *
 * Checked on top of ASan/UBSan/LSan: the number of connections the
 * daemon holds never exceeds the peers connected, subscriptions never
 * exceed connections, and once every peer has gone, both are zero.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>

#include "conf.h"
#include "control.h"
#include "daemon.h"
#include "dp-owner.h"
#include "ipfix.h"
#include "log.h"
#include "subscribe.h"
#include "util.h"

#define MAX_SLOTS 8
#define MAX_FAKE_IFACES 4

/* ---- the datapath owner, in memory ------------------------------------ */

static const char *const fake_names[] = { "fz0", "fz1", "fz2", "fz3" };

struct dp_owner {
	const struct xpp_conf *conf;
	struct iface ifaces[MAX_FAKE_IFACES];
	struct iface *list;
	struct latency lat;
	uint64_t delivered;
	struct xpp_flow_record top[3];
};

static struct dp_owner fake;

static void fake_relink(void)
{
	struct iface **pp = &fake.list;
	size_t i;

	for (i = 0; i < MAX_FAKE_IFACES; i++) {
		if (!fake.ifaces[i].ifindex)
			continue;
		*pp = &fake.ifaces[i];
		pp = &fake.ifaces[i].next;
	}
	*pp = NULL;
}

int dp_owner_apply_conf(struct dp_owner *o)
{
	/* What drain_apply_conf derives must hold for any value. */
	if (o->conf->flush_ms < 1 || o->conf->flush_ms > 1000 ||
	    o->conf->wakeup_percent > 100)
		abort();
	return 0;
}

void dp_owner_attach_configured(struct dp_owner *o)
{
}

int dp_owner_attach(struct dp_owner *o, const char *name, enum xpp_mode mode,
		    char *msg, size_t msgsz)
{
	size_t i;

	for (i = 0; i < MAX_FAKE_IFACES; i++) {
		if (strcmp(name, fake_names[i]))
			continue;
		if (o->ifaces[i].ifindex)
			return xpp_errmsg(msg, msgsz, -EEXIST,
					  "interface %s is already attached",
					  name);
		memset(&o->ifaces[i], 0, sizeof(o->ifaces[i]));
		snprintf(o->ifaces[i].name, sizeof(o->ifaces[i].name), "%s",
			 name);
		o->ifaces[i].ifindex = 100 + i;
		o->ifaces[i].mode = mode == XPP_MODE_GENERIC ?
					    XPP_MODE_GENERIC :
					    XPP_MODE_NATIVE;
		o->ifaces[i].link_fd = -1;
		fake_relink();
		return 0;
	}
	return xpp_errmsg(msg, msgsz, -ENODEV, "no interface '%s'", name);
}

int dp_owner_detach(struct dp_owner *o, const char *name, char *msg,
		    size_t msgsz)
{
	size_t i;

	for (i = 0; i < MAX_FAKE_IFACES; i++) {
		if (o->ifaces[i].ifindex && !strcmp(o->ifaces[i].name, name)) {
			o->ifaces[i].ifindex = 0;
			fake_relink();
			return 0;
		}
	}
	return xpp_errmsg(msg, msgsz, -ENOENT, "interface %s is not attached",
			  name);
}

const struct iface *dp_owner_ifaces(const struct dp_owner *o)
{
	return o->list;
}

const struct iface *dp_owner_iface(const struct dp_owner *o, const char *name)
{
	const struct iface *i;

	for (i = o->list; i; i = i->next)
		if (!strcmp(i->name, name))
			return i;
	return NULL;
}

unsigned int dp_owner_iface_count(const struct dp_owner *o)
{
	const struct iface *i;
	unsigned int n = 0;

	for (i = o->list; i; i = i->next)
		n++;
	return n;
}

int dp_owner_iface_counters(const struct dp_owner *o, unsigned int ifindex,
			    struct xpp_counters *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->packets = ifindex;
	return 0;
}

int dp_owner_overflow_counters(const struct dp_owner *o,
			       struct xpp_counters *ret)
{
	memset(ret, 0, sizeof(*ret));
	return 0;
}

void dp_owner_status(const struct dp_owner *o, struct dp_status *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->prog_id = 42;
	ret->rings = 2;
	ret->records_delivered = o->delivered;
	ret->latency = &o->lat;
}

/* No IPFIX export here (daemon/ipfix.c needs libfixbuf). */
void ipfix_exporter_status(struct ipfix_exporter *x, struct ipfix_status *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->state = "off";
}

/* A few flows, one of them on an interface never attached. */
int dp_owner_flows_top(struct dp_owner *o, unsigned int n,
		       const struct xpp_flow_record **ret, unsigned int *ret_n,
		       unsigned int *ret_total)
{
	unsigned int i;

	if (n < 1 || n > FLOW_TOP_MAX)
		abort(); /* commands.c checks the count */
	for (i = 0; i < ARRAY_SIZE(o->top); i++) {
		memset(&o->top[i], 0, sizeof(o->top[i]));
		o->top[i].version = XPP_FLOW_VERSION;
		o->top[i].ifindex = 100 + i * 3;
		o->top[i].ip_version = 4;
		o->top[i].proto = 6;
		o->top[i].flow.bidir.packets = 10 - i;
		o->top[i].flow.bidir.bytes = 1000 - i;
	}
	*ret = o->top;
	*ret_n = n < ARRAY_SIZE(o->top) ? n : ARRAY_SIZE(o->top);
	*ret_total = ARRAY_SIZE(o->top);
	return 0;
}

/* main.c's, without the log level: the fuzzer's output stays quiet. */
int manager_apply_conf(struct manager *m)
{
	return dp_owner_apply_conf(m->dp);
}

/* ---- the peers -------------------------------------------------------- */

struct input {
	const uint8_t *p;
	size_t left;
};

static unsigned int take(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static char sock_path[108];
static struct ev_loop *loop;
static uint32_t seq;

static void run_loop(void)
{
	int i;

	/* A few rounds: a reply can need a read, then a write. */
	for (i = 0; i < 3; i++)
		ev_run(loop, EVRUN_NOWAIT);
}

static void peer_send(int fd, const void *buf, size_t len)
{
	if (fd >= 0)
		(void)!send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void peer_send_str(int fd, const char *s)
{
	peer_send(fd, s, strlen(s));
}

/* The peer reads what waits for it. */
static void peer_read(int fd)
{
	char buf[65536];

	while (fd >= 0 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static int peer_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		abort();
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Values config_set is tried with, beside arbitrary bytes. */
static const char *const values[] = {
	"0",	"1",	 "2",	  "15",	   "16",     "100",	"101",
	"255",	"256",	 "1000",  "1001",  "1024",   "65536",	"1048576",
	"16777216", "16777217", "1K", "64K", "1M", "1G", "2G", "4294967296",
	"-1",	"",	 " ",	  "any",   "tcp",    "udp icmp", "53 80-90",
	"1-0",	"yes",	 "no",	  "pass",  "drop",   "debug",	"err",
	"eth0 native", "x",
};

static const char *const commands[] = {
	"{\"cmd\":\"version\"}",
	"{\"cmd\":\"list\"}",
	"{\"cmd\":\"stats\"}",
	"{\"cmd\":\"stats\",\"iface\":\"fz1\"}",
	"{\"cmd\":\"config_get\"}",
	"{\"cmd\":\"attach\",\"iface\":\"fz0\"}",
	"{\"cmd\":\"attach\",\"iface\":\"fz1\",\"mode\":\"generic\"}",
	"{\"cmd\":\"attach\",\"iface\":\"nosuch\"}",
	"{\"cmd\":\"detach\",\"iface\":\"fz0\"}",
	"{\"cmd\":\"detach\",\"all\":true}",
	"{\"cmd\":\"detach\",\"iface\":\"fz3\"}",
	"{\"cmd\":\"nosuch\",\"id\":7}",
	"{\"cmd\":\"flows_top\"}",
	"{\"cmd\":\"flows_top\",\"count\":1000}",
	"{\"cmd\":\"flows_top\",\"count\":0}",
	"{\"cmd\":\"subscribe\",\"kind\":\"flows\",\"columns\":\"x\"}",
	"{\"cmd\":\"subscribe\",\"columns\":\"nfstream\"}",
};

static const char *const formats[] = { "ndjson", "csv", "binary" };

/* A string as a JSON string body: bytes outside printable ASCII, quotes
 * and backslashes as \u escapes. */
static void json_escape(const char *s, size_t n, char *out, size_t outsz)
{
	size_t o = 0, i;

	for (i = 0; i < n && o + 7 < outsz; i++) {
		unsigned char ch = s[i];

		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
			o += snprintf(out + o, outsz - o, "\\u%04x", ch);
		else
			out[o++] = ch;
	}
	out[o] = '\0';
}

static void event_config_set(struct input *in, int fd)
{
	unsigned int k = take(in), v = take(in), nkeys = 0;
	char val[256], esc[256 * 6 + 1], line[2048];

	while (xpp_conf_keys[nkeys])
		nkeys++;
	if (v < ARRAY_SIZE(values)) {
		snprintf(val, sizeof(val), "%s", values[v]);
	} else { /* arbitrary bytes from the input */
		size_t n = (v - ARRAY_SIZE(values)) % 32, i;

		for (i = 0; i < n; i++)
			val[i] = take(in);
		val[n] = '\0';
	}
	json_escape(val, strlen(val), esc, sizeof(esc));
	snprintf(line, sizeof(line),
		 "{\"cmd\":\"config_set\",\"set\":{\"%s\":\"%s\"}}\n",
		 xpp_conf_keys[k % nkeys], esc);
	peer_send_str(fd, line);
}

static void event_subscribe(struct input *in, int fd)
{
	unsigned int f = take(in), count = take(in);
	/* Flows in either column set, or packet records. */
	const char *kind = f & 4 ? f & 8 ? "\"kind\":\"flows\",\"columns\":\"nfstream\"," :
					 "\"kind\":\"flows\"," :
				 "";
	char line[256];

	if (count % 4 == 0)
		snprintf(line, sizeof(line),
			 "{\"cmd\":\"subscribe\",%s\"format\":\"%s\"}\n", kind,
			 formats[f % 3]);
	else
		snprintf(line, sizeof(line),
			 "{\"cmd\":\"subscribe\",%s\"format\":\"%s\",\"count\":%u,"
			 "\"proto\":%u}\n",
			 kind, formats[f % 3], count, count % 2 ? 17 : 6);
	peer_send_str(fd, line);
}

/* Records as the drain hands them over. */
static void event_records(struct manager *m, struct input *in)
{
	unsigned int n = take(in), i;
	struct xpp_flow_record f;
	struct xpp_record r;

	for (i = 0; i < n * 4; i++) {
		memset(&r, 0, sizeof(r));
		r.version = XPP_RECORD_VERSION;
		r.ts_ns = 1000000000ULL + seq;
		r.seq = seq++;
		r.ifindex = 100 + i % MAX_FAKE_IFACES;
		r.ip_version = 4;
		r.proto = i % 2 ? 17 : 6;
		r.sport = i;
		r.dport = 80;
		fake.delivered++;
		subscriptions_deliver(m->subs, &r);
		/* A flow ends now and then, as the flow drain hands it over. */
		if (i % 8 == 0) {
			memset(&f, 0, sizeof(f));
			f.version = XPP_FLOW_VERSION;
			f.end_reason = XPP_END_IDLE + i % 5;
			f.ifindex = r.ifindex;
			f.ip_version = 4;
			f.proto = r.proto;
			f.src_port = r.sport;
			f.dst_port = r.dport;
			f.splt_max = i % (XPP_SPLT_MAX + 1);
			f.flow.bidir.packets = i + 1;
			subscriptions_deliver_flow(m->subs, &f);
		}
	}
	subscriptions_flush(m->subs);
}

static int open_slots(const int *slots)
{
	int i, n = 0;

	for (i = 0; i < MAX_SLOTS; i++)
		n += slots[i] >= 0;
	return n;
}

static void check(struct manager *m, const int *slots)
{
	unsigned int clients = control_client_count(m->control),
		     subs = subscriptions_count(m->subs);

	if (clients > (unsigned int)open_slots(slots) + MAX_SLOTS ||
	    subs > clients) {
		fprintf(stderr, "fuzz_control: %u clients, %u subscriptions, "
				"%d peers\n",
			clients, subs, open_slots(slots));
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[] = "/tmp/xpp-fuzz-control.XXXXXX";

	xpp_log_init("fuzz_control", LOG_CRIT);
	if (!mkdtemp(dir))
		abort();
	snprintf(sock_path, sizeof(sock_path), "%s/ctl.sock", dir);
	loop = ev_loop_new(EVBACKEND_EPOLL);
	if (!loop)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct manager m = { .loop = loop };
	int slots[MAX_SLOTS], i;
	char buf[256];

	for (i = 0; i < MAX_SLOTS; i++)
		slots[i] = -1;
	xpp_conf_defaults(&m.conf);
	snprintf(m.conf.socket_path, sizeof(m.conf.socket_path), "%s",
		 sock_path);
	m.conf.admin_group[0] = '\0';
	m.conf.max_clients = 4; /* so that the limit is reached */
	m.conf.max_subscribers = 3;
	m.conf.subscriber_queue = 16;
	memset(&fake, 0, sizeof(fake));
	fake.conf = &m.conf;
	m.dp = &fake;
	m.subs = subscriptions_new();
	m.control = control_new(&m);
	if (!m.subs || !m.control)
		abort();

	while (in.left) {
		unsigned int op = take(&in), s = take(&in) % MAX_SLOTS, n;
		int *fd = &slots[s];

		switch (op % 11) {
		case 0: /* connect */
			if (*fd < 0)
				*fd = peer_connect();
			break;
		case 1: /* bytes */
			n = take(&in);
			n = n < in.left ? n : in.left;
			peer_send(*fd, in.p, n);
			in.p += n;
			in.left -= n;
			break;
		case 2: /* newline */
			peer_send_str(*fd, "\n");
			break;
		case 3:
			event_config_set(&in, *fd);
			break;
		case 4:
			event_subscribe(&in, *fd);
			break;
		case 5: /* another command */
			snprintf(buf, sizeof(buf), "%s\n",
				 commands[take(&in) % ARRAY_SIZE(commands)]);
			peer_send_str(*fd, buf);
			break;
		case 6: /* a long line, past small limits */
			n = (take(&in) + 1) * 1024;
			while (n && *fd >= 0) {
				char fill[1024];

				memset(fill, 'x', sizeof(fill));
				peer_send(*fd, fill, sizeof(fill));
				n -= sizeof(fill);
				run_loop();
			}
			break;
		case 7: /* the peer is done sending, still reads */
			if (*fd >= 0)
				shutdown(*fd, SHUT_WR);
			break;
		case 8: /* close */
			if (*fd >= 0)
				close(*fd);
			*fd = -1;
			break;
		case 9: /* the peer reads */
			peer_read(*fd);
			break;
		case 10:
			event_records(&m, &in);
			break;
		}
		run_loop();
		check(&m, slots);
	}

	/* Every peer goes: the daemon must let go of everything. */
	for (i = 0; i < MAX_SLOTS; i++) {
		if (slots[i] >= 0)
			close(slots[i]);
		slots[i] = -1;
	}
	for (i = 0; i < 4; i++) {
		run_loop();
		/* As the subscriptions' tick does while one needs it: it is
		 * what notices a half-closed subscriber's final close. */
		subscriptions_flush(m.subs);
	}
	if (control_client_count(m.control) || subscriptions_count(m.subs)) {
		fprintf(stderr,
			"fuzz_control: %u clients and %u subscriptions left "
			"after every peer closed\n",
			control_client_count(m.control),
			subscriptions_count(m.subs));
		abort();
	}
	control_free(m.control);
	subscriptions_free(m.subs);
	return 0;
}
