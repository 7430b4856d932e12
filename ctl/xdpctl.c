// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdpctl: the command-line client of xdp-preprocd. One request per run
 * (or per interval with --watch), human tables by default, the protocol's
 * own JSON with --json. Each command declares the options it takes in a
 * table of its own (commands[]): its --help comes from it, and an option
 * it does not take is a usage error rather than silently ignored. Exit
 * status: 0 success, 1 the daemon refused, 2 usage error, 3 no daemon or
 * a broken connection.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "extract.h"
#include "flows.h"
#include "proto.h"
#include "log.h"
#include "util.h"
#include "xpp/record.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_CONNECT 3
#define REPLY_MAX (64u << 20)

enum {
	OPT_ALL = 256,
	OPT_ITER,
	OPT_PROTO,
	OPT_PORT,
	OPT_QUIET,
	OPT_FLOWS,
	OPT_IDLE,
	OPT_ACTIVE,
	OPT_ACCOUNTING,
	OPT_SPLT,
	OPT_COLUMNS,
	OPT_TABLE,
	OPT_TOP,
};

/* What the options fill in; each command reads the fields its table sets. */
struct args {
	const char *socket;
	bool json;
	const char *mode;
	bool all;
	long long watch;
	long long iterations;
	const char *format;
	long long count;
	long long proto, port;
	const char *output;
	bool quiet;
	bool flows;
	long long idle_timeout, active_timeout, splt, table_size;
	long long top;
	const char *accounting, *columns;
};

static struct args args = {
	.socket = XPP_DEFAULT_SOCKET,
	.proto = -1,
	.port = -1,
	.idle_timeout = XPP_IDLE_TIMEOUT_DEFAULT,
	.active_timeout = XPP_ACTIVE_TIMEOUT_DEFAULT,
	.splt = XPP_SPLT_DEFAULT,
};

static const char *const modes[] = { "native", "generic", "auto", NULL };
static const char *const formats[] = { "ndjson", "csv", "binary", NULL };
static const char *const accountings[] = { "link", "ip", "transport",
					   "payload", NULL };
static const char *const columns[] = { "ns", "nfstream", NULL };

/*
 * Options of several commands, spelled once. --socket goes to every
 * command that talks to the daemon, --json to those that print its reply:
 * tail prints records in its own --format, extract needs no daemon.
 */
#define OPT_SOCKET                                                     \
	{ "socket", 's', "PATH",                                       \
	  "daemon control socket (default " XPP_DEFAULT_SOCKET ")",    \
	  XPP_STRING(struct args, socket) }
#define OPT_JSON                                                       \
	{ "json", 'j', NULL, "print the daemon's JSON reply",          \
	  XPP_BOOL(struct args, json) }
#define OPT_FORMAT                                                     \
	{ "format", 'f', "FORMAT", "ndjson (default), csv or binary",  \
	  XPP_ENUM(struct args, format, formats) }
#define OPT_COUNT(what)                                                \
	{ "count", 'n', "N", "stop after N " what,                     \
	  XPP_NUM(struct args, count, 1, 1LL << 62) }
#define OPT_WATCH(what)                                                \
	{ "watch", 'w', "SECONDS", what "print again every SECONDS",   \
	  XPP_NUM(struct args, watch, 1, 86400) }
#define OPT_ITERATIONS                                                 \
	{ "iterations", OPT_ITER, "N", "with --watch: stop after N prints", \
	  XPP_NUM(struct args, iterations, 1, 1LL << 30) }
#define OPT_COLUMNS(what)                                              \
	{ "columns", OPT_COLUMNS, "NAMES",                             \
	  what "ns (default), or nfstream: NFStream's names, ms",      \
	  XPP_ENUM(struct args, columns, columns) }
#define OPT_HELP { "help", 'h', NULL, "print this help and exit" }
#define OPT_END { NULL }

static const struct xpp_option attach_options[] = {
	{ "mode", 'm', "MODE",
	  "native, generic or auto (default: native, else generic)",
	  XPP_ENUM(struct args, mode, modes) },
	OPT_SOCKET, OPT_JSON, OPT_HELP, OPT_END,
};

static const struct xpp_option detach_options[] = {
	{ "all", OPT_ALL, NULL, "every attached interface",
	  XPP_BOOL(struct args, all) },
	OPT_SOCKET, OPT_JSON, OPT_HELP, OPT_END,
};

static const struct xpp_option list_options[] = {
	OPT_SOCKET, OPT_JSON, OPT_HELP, OPT_END,
};

static const struct xpp_option stats_options[] = {
	OPT_WATCH(""), OPT_ITERATIONS, OPT_SOCKET, OPT_JSON, OPT_HELP, OPT_END,
};

/* The filters of a stream, records or flows. */
#define OPT_STREAM_FILTERS                                              \
	{ "proto", OPT_PROTO, "PROTO", "only this L4 protocol number",  \
	  XPP_NUM(struct args, proto, 0, 255) },                        \
	{ "port", OPT_PORT, "PORT", "only this source or destination port", \
	  XPP_NUM(struct args, port, 0, 65535) }

static const struct xpp_option tail_options[] = {
	OPT_FORMAT,
	OPT_COUNT("records"),
	OPT_STREAM_FILTERS,
	OPT_SOCKET, OPT_HELP, OPT_END,
};

static const struct xpp_option extract_options[] = {
	OPT_FORMAT,
	{ "output", 'o', "PATH", "write the records to PATH (default: stdout)",
	  XPP_STRING(struct args, output) },
	{ "quiet", OPT_QUIET, NULL, "no summary on stderr",
	  XPP_BOOL(struct args, quiet) },
	{ "flows", OPT_FLOWS, NULL,
	  "write flows (docs/flows.md) instead of packet records",
	  XPP_BOOL(struct args, flows) },
	{ "idle-timeout", OPT_IDLE, "SECONDS",
	  "with --flows: end a flow this long after its last packet "
	  "(default 120)",
	  XPP_NUM(struct args, idle_timeout, 1, XPP_TIMEOUT_MAX) },
	{ "active-timeout", OPT_ACTIVE, "SECONDS",
	  "with --flows: end a flow this long after its first packet "
	  "(default 1800)",
	  XPP_NUM(struct args, active_timeout, 1, XPP_TIMEOUT_MAX) },
	{ "accounting", OPT_ACCOUNTING, "MODE",
	  "with --flows: packet size: link (default), ip, transport or "
	  "payload",
	  XPP_ENUM(struct args, accounting, accountings) },
	{ "splt", OPT_SPLT, "N",
	  "with --flows: early-flow packets kept (default 8, up to 32)",
	  XPP_NUM(struct args, splt, 1, XPP_SPLT_MAX) },
	OPT_COLUMNS("with --flows: "),
	{ "flow-table-size", OPT_TABLE, "N",
	  "with --flows: flows the kernel's table holds (default 65536)",
	  XPP_NUM(struct args, table_size, XPP_FLOW_ENTRIES_MIN,
		  XPP_FLOW_ENTRIES_MAX) },
	OPT_HELP, OPT_END,
};

static const struct xpp_option flows_options[] = {
	OPT_FORMAT,
	OPT_COUNT("flows"),
	OPT_COLUMNS(""),
	OPT_STREAM_FILTERS,
	{ "top", OPT_TOP, "N",
	  "the N largest flows in the kernel's table now (by bytes, both "
	  "ways)",
	  XPP_NUM(struct args, top, 1, 1000) },
	OPT_WATCH("the --top table (20 flows unless --top says): "),
	OPT_ITERATIONS,
	OPT_SOCKET, OPT_JSON, OPT_HELP, OPT_END,
};

static const struct xpp_option config_options[] = {
	OPT_SOCKET, OPT_JSON, OPT_HELP, OPT_END,
};

static const struct xpp_option version_options[] = {
	OPT_SOCKET, OPT_JSON, OPT_HELP, OPT_END,
};

struct command {
	const char *name;
	/* What follows "xdpctl NAME [OPTION]...", one line per form. */
	const char *synopsis[2];
	const char *doc;
	const struct xpp_option *options;
	int (*run)(int argc, char **argv);
};

/* The command of this run, once known: usage errors point at its help. */
static const struct command *command;

static void __attribute__((noreturn)) die_try_help(void)
{
	fprintf(stderr, "Try 'xdpctl%s%s --help'.\n", command ? " " : "",
		command ? command->name : "");
	exit(EXIT_USAGE);
}

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xdpctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	die_try_help();
}

static int sock_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!args.socket[0])
		die_usage("--socket needs a path");
	if (strlen(args.socket) >= sizeof(sa.sun_path))
		die_usage("socket path '%s' is too long", args.socket);
	strcpy(sa.sun_path, args.socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		fprintf(stderr, "xdpctl: cannot connect to %s: %s%s\n",
			args.socket, strerror(e),
			e == ENOENT || e == ECONNREFUSED ?
				" (is xdp-preprocd running? systemctl status "
				"xdp-preprocd)" :
			e == EACCES ? " (root and members of group "
				      "xdp-preprocd may connect)" :
				      "");
		exit(EXIT_CONNECT);
	}
	return fd;
}

static void send_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "xdpctl: sending to %s: %s\n",
				args.socket, strerror(errno));
			exit(EXIT_CONNECT);
		}
		buf += n;
		len -= n;
	}
}

/* Reads one line (without the newline); bytes after it stay in *rest. */
struct linebuf {
	char *buf;
	size_t len, cap;
};

static char *read_line(int fd, struct linebuf *lb)
{
	char *nl;
	ssize_t n;

	for (;;) {
		nl = lb->len ? memchr(lb->buf, '\n', lb->len) : NULL;
		if (nl) {
			*nl = '\0';
			return lb->buf;
		}
		if (lb->len + 65536 > lb->cap) {
			if (lb->cap >= REPLY_MAX) {
				fprintf(stderr, "xdpctl: reply too large\n");
				exit(EXIT_CONNECT);
			}
			lb->cap = lb->cap ? lb->cap * 2 : 131072;
			lb->buf = realloc(lb->buf, lb->cap);
			if (!lb->buf) {
				perror("xdpctl");
				exit(EXIT_CONNECT);
			}
		}
		n = recv(fd, lb->buf + lb->len, lb->cap - lb->len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr,
				"xdpctl: %s closed the connection without a "
				"reply%s%s\n",
				args.socket, n < 0 ? ": " : "",
				n < 0 ? strerror(errno) : "");
			exit(EXIT_CONNECT);
		}
		lb->len += n;
	}
}

/* Sends req (consumed), returns the parsed reply; exits on failure. */
static json_object *request(int fd, json_object *req, struct linebuf *lb)
{
	const char *s = json_object_to_json_string_ext(req,
						       JSON_C_TO_STRING_PLAIN);
	json_object *reply;
	char *line;

	send_all(fd, s, strlen(s));
	send_all(fd, "\n", 1);
	json_object_put(req);
	line = read_line(fd, lb);
	reply = json_tokener_parse(line);
	if (!reply || !json_object_is_type(reply, json_type_object)) {
		fprintf(stderr, "xdpctl: the daemon's reply is not JSON: %.200s\n",
			line);
		exit(EXIT_CONNECT);
	}
	/* Keep what followed the line (a stream's first bytes). */
	lb->len -= strlen(line) + 1;
	memmove(lb->buf, line + strlen(line) + 1, lb->len);
	return reply;
}

static json_object *new_req(const char *cmd)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "cmd", json_object_new_string(cmd));
	return r;
}

/* The reply's result, or exit 1 with its message. */
static json_object *result_or_die(json_object *reply, const char *what)
{
	json_object *ok, *res, *err;

	if (json_object_object_get_ex(reply, "ok", &ok) &&
	    json_object_get_boolean(ok) &&
	    json_object_object_get_ex(reply, "result", &res))
		return res;
	if (json_object_object_get_ex(reply, "error", &err)) {
		fprintf(stderr, "xdpctl: %s: %s [%s]\n", what,
			json_object_get_string(
				json_object_object_get(err, "message")),
			json_object_get_string(json_object_object_get(err, "code")));
		exit(EXIT_REFUSED);
	}
	fprintf(stderr, "xdpctl: %s: malformed reply\n", what);
	exit(EXIT_CONNECT);
}

static json_object *call(json_object *req, const char *what)
{
	struct linebuf lb = {};
	_cleanup_close_ int fd = sock_connect();
	json_object *reply;

	reply = request(fd, req, &lb);
	free(lb.buf);
	result_or_die(reply, what);
	return reply;
}

static void print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

static uint64_t jget(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v))
		return 0;
	return json_object_get_uint64(v);
}

static uint64_t malformed_sum(json_object *o)
{
	json_object *m;
	uint64_t sum = 0;

	if (!json_object_object_get_ex(o, "malformed", &m))
		return 0;
	json_object_object_foreach(m, k, v)
	{
		(void)k;
		sum += json_object_get_uint64(v);
	}
	return sum;
}

/* Columns of the stats table; key NULL: the sum of malformed.* */
static const struct {
	const char *title, *key;
	int width;
} stat_cols[] = {
	{ "PACKETS", "packets", 10 },	  { "BYTES", "bytes", 12 },
	{ "IPV4", "ipv4", 9 },		  { "IPV6", "ipv6", 9 },
	{ "VLAN", "vlan", 7 },		  { "TCP", "tcp", 9 },
	{ "UDP", "udp", 9 },		  { "ICMP", "icmp", 7 },
	{ "OTHER", "other", 7 },	  { "NOT_IP", "not_ip", 8 },
	{ "RECORDS", "records", 10 },	  { "LOST", "records_lost", 8 },
	{ "SKIPPED", "records_skipped", 8 }, { "MALFORMED", NULL, 9 },
};

static void stats_row(const char *name, const char *mode, json_object *o)
{
	size_t i;

	printf("%-12s %-7s", name, mode);
	for (i = 0; i < ARRAY_SIZE(stat_cols); i++) {
		uint64_t v = stat_cols[i].key ? jget(o, stat_cols[i].key) :
						malformed_sum(o);

		printf(" %*llu", stat_cols[i].width, (unsigned long long)v);
	}
	printf("\n");
}

static void stats_header(void)
{
	size_t i;

	printf("%-12s %-7s", "INTERFACE", "MODE");
	for (i = 0; i < ARRAY_SIZE(stat_cols); i++)
		printf(" %*s", stat_cols[i].width, stat_cols[i].title);
	printf("\n");
}

static void fmt_ns(uint64_t ns, char *buf, size_t sz)
{
	if (ns >= 1000000000ULL)
		snprintf(buf, sz, "%.2fs", ns / 1e9);
	else if (ns >= 1000000)
		snprintf(buf, sz, "%.2fms", ns / 1e6);
	else if (ns >= 1000)
		snprintf(buf, sz, "%.1fus", ns / 1e3);
	else
		snprintf(buf, sz, "%lluns", (unsigned long long)ns);
}

/* One line per interface: the counters keys[], each followed by its
 * words[]. */
static void print_iface_counts(json_object *ifs, const char *const *keys,
			       const char *const *words, size_t n)
{
	size_t i, j;

	for (i = 0; ifs && i < json_object_array_length(ifs); i++) {
		json_object *o = json_object_array_get_idx(ifs, i);

		printf("  %-12s",
		       json_object_get_string(json_object_object_get(o, "name")));
		for (j = 0; j < n; j++)
			printf("%s %llu %s", j ? "," : "",
			       (unsigned long long)jget(o, keys[j]), words[j]);
		printf("\n");
	}
}

/* The flow figures, when flows are on or have been. */
static void print_flow_stats(json_object *ifs, json_object *dm)
{
	static const char *const reasons[] = { "idle", "active", "end",
					       "forced", "resources" };
	static const char *const keys[] = { "flows", "flows_table_full",
					    "flows_lost", "flows_errors" };
	static const char *const words[] = { "flows begun", "table full",
					     "lost in the kernel", "errors" };
	json_object *fl, *ex;
	uint64_t total = 0;
	size_t i;

	if (!json_object_object_get_ex(dm, "flows", &fl) ||
	    !json_object_object_get_ex(fl, "exported", &ex))
		return;
	for (i = 0; i < ARRAY_SIZE(reasons); i++)
		total += jget(ex, reasons[i]);
	if (!json_object_get_boolean(json_object_object_get(fl, "enabled")) &&
	    !total)
		return;
	printf("flows: %s, %llu in the table (of %llu), %llu lost to slow "
	       "subscribers; exported:",
	       json_object_get_boolean(json_object_object_get(fl, "enabled")) ?
		       "on" :
		       "off",
	       (unsigned long long)jget(fl, "active"),
	       (unsigned long long)jget(fl, "table_size"),
	       (unsigned long long)jget(fl, "lost_to_subscribers"));
	for (i = 0; i < ARRAY_SIZE(reasons); i++)
		printf(" %llu %s", (unsigned long long)jget(ex, reasons[i]),
		       reasons[i]);
	printf("\n");
	print_iface_counts(ifs, keys, words, ARRAY_SIZE(keys));
}

/* Where the timestamps came from: the source live frames take, then per
 * interface the frames each source stamped. */
static void print_ts_stats(json_object *ifs, json_object *dm)
{
	static const char *const keys[] = { "ts_kernel", "ts_nic",
					    "ts_capture" };
	static const char *const words[] = { "by the kernel clock",
					     "by the NIC", "by a capture" };
	json_object *ts;

	if (!json_object_object_get_ex(dm, "timestamps", &ts))
		return;
	printf("timestamps: %s clock (%s) for live frames; NIC stamps %s\n",
	       json_object_get_string(json_object_object_get(ts, "source")),
	       json_object_get_string(json_object_object_get(ts, "clock")),
	       json_object_get_boolean(json_object_object_get(ts, "nic")) ?
		       "on" :
		       "off (another clock; see xdpctl(8))");
	print_iface_counts(ifs, keys, words, ARRAY_SIZE(keys));
}

static void print_stats_table(json_object *res)
{
	json_object *ifs, *tot, *dm, *lat, *subs;
	char p50[32], p99[32], max[32], iv[32] = "";
	size_t i, n;

	json_object_object_get_ex(res, "interfaces", &ifs);
	json_object_object_get_ex(res, "totals", &tot);
	json_object_object_get_ex(res, "daemon", &dm);
	stats_header();
	n = ifs ? json_object_array_length(ifs) : 0;
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(ifs, i);

		stats_row(json_object_get_string(json_object_object_get(o, "name")),
			  json_object_get_string(json_object_object_get(o, "mode")),
			  o);
	}
	if (tot)
		stats_row("total", "", tot);
	if (!dm)
		return;
	json_object_object_get_ex(dm, "delivery_latency_ns", &lat);
	fmt_ns(jget(lat, "p50"), p50, sizeof(p50));
	fmt_ns(jget(lat, "p99"), p99, sizeof(p99));
	fmt_ns(jget(lat, "max"), max, sizeof(max));
	printf("\ndaemon: up %.1fs, program id %llu, delivered %llu records "
	       "(%llu pending in the rings), latency p50 %s p99 %s max %s\n",
	       json_object_get_double(json_object_object_get(dm, "uptime_s")),
	       (unsigned long long)jget(dm, "prog_id"),
	       (unsigned long long)jget(dm, "records_delivered"),
	       (unsigned long long)jget(dm, "records_pending"), p50, p99, max);
	if (jget(dm, "ring_poll_interval_ns"))
		fmt_ns(jget(dm, "ring_poll_interval_ns"), iv, sizeof(iv));
	printf("drain: woken %llu times, polled %llu times, now %s%s\n",
	       (unsigned long long)jget(dm, "ring_wakeups"),
	       (unsigned long long)jget(dm, "ring_polls"),
	       jget(dm, "ring_poll_interval_ns") ? "polling every " :
						    "woken by records",
	       jget(dm, "ring_poll_interval_ns") ? iv : "");
	print_flow_stats(ifs, dm);
	print_ts_stats(ifs, dm);
	if (json_object_object_get_ex(res, "subscribers", &subs) &&
	    json_object_array_length(subs)) {
		printf("subscribers:\n");
		for (i = 0; i < json_object_array_length(subs); i++) {
			json_object *s = json_object_array_get_idx(subs, i);

			printf("  uid %llu %-6s delivered %llu lost %llu queued "
			       "%llu\n",
			       (unsigned long long)jget(s, "uid"),
			       json_object_get_string(
				       json_object_object_get(s, "format")),
			       (unsigned long long)jget(s, "delivered"),
			       (unsigned long long)jget(s, "lost"),
			       (unsigned long long)jget(s, "queued"));
		}
	}
}

static volatile sig_atomic_t stop;

static void on_sigint(int sig)
{
	stop = 1;
}

/*
 * Sends req and prints the result, by the table printer unless --json;
 * with --watch, again every args.watch seconds (a fresh copy of req each
 * time) until --iterations or a signal. what names the command.
 */
static int watch(json_object *req, const char *what,
		 void (*print_table)(json_object *res))
{
	long i;

	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	for (i = 0; !stop; i++) {
		json_object *reply, *copy = NULL;

		json_object_deep_copy(req, &copy, NULL);
		reply = call(copy, what);
		if (args.json) {
			print_json(json_object_object_get(reply, "result"));
		} else {
			if (args.watch > 0) {
				time_t t = time(NULL);
				char ts[32];

				strftime(ts, sizeof(ts), "%H:%M:%S",
					 localtime(&t));
				if (isatty(STDOUT_FILENO))
					printf("\033[H\033[2J");
				printf("xdp-preprocd %s at %s (every %llds)\n\n",
				       what, ts, args.watch);
			}
			print_table(json_object_object_get(reply, "result"));
		}
		fflush(stdout);
		json_object_put(reply);
		if (args.watch <= 0 ||
		    (args.iterations && i + 1 >= args.iterations))
			break;
		if (!stop)
			sleep(args.watch); /* whole seconds; a signal ends it */
		if (!args.json && !isatty(STDOUT_FILENO))
			printf("\n");
	}
	json_object_put(req);
	return 0;
}

static int cmd_stats(int argc, char **argv)
{
	json_object *req = new_req("stats");

	if (argc > 1)
		die_usage("stats takes at most one interface");
	if (argc)
		json_object_object_add(req, "iface",
				       json_object_new_string(argv[0]));
	return watch(req, "stats", print_stats_table);
}

static int cmd_list(int argc, char **argv)
{
	json_object *reply = call(new_req("list"), "list"), *ifs;
	size_t i, n;

	if (argc)
		die_usage("list takes no argument");
	if (args.json) {
		print_json(json_object_object_get(reply, "result"));
		json_object_put(reply);
		return 0;
	}
	ifs = json_object_object_get(json_object_object_get(reply, "result"),
				     "interfaces");
	n = json_object_array_length(ifs);
	printf("%-16s %8s %-8s %8s %8s %12s\n", "INTERFACE", "IFINDEX", "MODE",
	       "PROG_ID", "LINK_ID", "ATTACHED");
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(ifs, i);

		printf("%-16s %8llu %-8s %8llu %8llu %11.0fs\n",
		       json_object_get_string(json_object_object_get(o, "name")),
		       (unsigned long long)jget(o, "ifindex"),
		       json_object_get_string(json_object_object_get(o, "mode")),
		       (unsigned long long)jget(o, "prog_id"),
		       (unsigned long long)jget(o, "link_id"),
		       json_object_get_double(
			       json_object_object_get(o, "attached_s")));
	}
	if (!n)
		printf("(no interface attached: xdpctl attach IFACE)\n");
	json_object_put(reply);
	return 0;
}

static int cmd_attach(int argc, char **argv)
{
	json_object *req, *reply, *res;

	if (argc != 1)
		die_usage("attach takes one interface");
	req = new_req("attach");
	json_object_object_add(req, "iface", json_object_new_string(argv[0]));
	if (args.mode)
		json_object_object_add(req, "mode",
				       json_object_new_string(args.mode));
	reply = call(req, "attach");
	res = json_object_object_get(reply, "result");
	if (args.json)
		print_json(res);
	else
		printf("attached to %s (ifindex %llu, %s mode, program id %llu)\n",
		       json_object_get_string(json_object_object_get(res, "name")),
		       (unsigned long long)jget(res, "ifindex"),
		       json_object_get_string(json_object_object_get(res, "mode")),
		       (unsigned long long)jget(res, "prog_id"));
	json_object_put(reply);
	return 0;
}

static int cmd_detach(int argc, char **argv)
{
	json_object *req, *reply, *arr;
	size_t i;

	if (args.all ? argc != 0 : argc != 1)
		die_usage("detach takes one interface, or --all");
	req = new_req("detach");
	if (args.all)
		json_object_object_add(req, "all", json_object_new_boolean(1));
	else
		json_object_object_add(req, "iface",
				       json_object_new_string(argv[0]));
	reply = call(req, "detach");
	if (args.json) {
		print_json(json_object_object_get(reply, "result"));
	} else {
		arr = json_object_object_get(
			json_object_object_get(reply, "result"), "detached");
		for (i = 0; i < json_object_array_length(arr); i++)
			printf("detached from %s\n",
			       json_object_get_string(
				       json_object_array_get_idx(arr, i)));
		if (!json_object_array_length(arr))
			printf("nothing was attached\n");
	}
	json_object_put(reply);
	return 0;
}

static int cmd_config(int argc, char **argv)
{
	json_object *req, *reply, *res, *set;
	int i;

	if (argc < 1)
		die_usage("config needs 'get' or 'set'");
	if (!strcmp(argv[0], "get")) {
		if (argc > 2)
			die_usage("config get takes at most one key");
		reply = call(new_req("config_get"), "config get");
	} else if (!strcmp(argv[0], "set")) {
		if (argc < 2)
			die_usage("config set needs KEY=VALUE");
		req = new_req("config_set");
		set = json_object_new_object();
		for (i = 1; i < argc; i++) {
			char *eq = strchr(argv[i], '=');

			if (!eq || eq == argv[i])
				die_usage("config set: '%s' is not KEY=VALUE",
					  argv[i]);
			*eq = '\0';
			/* Both would be sent and the last would win. */
			if (json_object_object_get_ex(set, argv[i], NULL))
				die_usage("config set: %s is given twice",
					  argv[i]);
			json_object_object_add(set, argv[i],
					       json_object_new_string(eq + 1));
		}
		json_object_object_add(req, "set", set);
		reply = call(req, "config set");
	} else {
		die_usage("config: unknown action '%s' (get or set)", argv[0]);
	}
	res = json_object_object_get(reply, "result");
	if (argc == 2 && !strcmp(argv[0], "get")) {
		json_object *v;

		if (!json_object_object_get_ex(res, argv[1], &v)) {
			fprintf(stderr, "xdpctl: config get: no key '%s'\n",
				argv[1]);
			json_object_put(reply);
			return EXIT_REFUSED;
		}
		printf("%s\n", json_object_get_string(v));
	} else if (args.json) {
		print_json(res);
	} else {
		json_object_object_foreach(res, k, v)
			printf("%s = %s\n", k, json_object_get_string(v));
	}
	json_object_put(reply);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	json_object *reply, *res;

	if (argc)
		die_usage("version takes no arguments");
	reply = call(new_req("version"), "version");

	res = json_object_object_get(reply, "result");
	if (args.json)
		print_json(res);
	else
		printf("xdpctl %s\nxdp-preprocd %s (protocol %llu, record version "
		       "%llu, %llu bytes)\n",
		       XPP_VERSION,
		       json_object_get_string(json_object_object_get(res, "version")),
		       (unsigned long long)jget(res, "protocol"),
		       (unsigned long long)jget(res, "record_version"),
		       (unsigned long long)jget(res, "record_size"));
	json_object_put(reply);
	return 0;
}

/* A subscribe request with the options tail and flows share: --format,
 * the interface, --count. */
static json_object *subscribe_req(const char *kind, int argc, char **argv)
{
	const char *fmt = args.format ? args.format : "ndjson";
	json_object *req;

	if (argc > 1)
		die_usage("%s takes at most one interface", command->name);
	if (!strcmp(fmt, "binary") && isatty(STDOUT_FILENO))
		die_usage("--format binary writes raw records: redirect it to "
			  "a file or a pipe");
	req = new_req("subscribe");
	json_object_object_add(req, "kind", json_object_new_string(kind));
	json_object_object_add(req, "format", json_object_new_string(fmt));
	if (argc)
		json_object_object_add(req, "iface",
				       json_object_new_string(argv[0]));
	if (args.count)
		json_object_object_add(req, "count",
				       json_object_new_int64(args.count));
	if (args.proto >= 0)
		json_object_object_add(req, "proto",
				       json_object_new_int(args.proto));
	if (args.port >= 0)
		json_object_object_add(req, "port", json_object_new_int(args.port));
	return req;
}

/* Subscribes with req and copies the stream to stdout until it ends. */
static int stream(json_object *req)
{
	struct linebuf lb = {};
	json_object *reply;
	char buf[65536];
	_cleanup_close_ int fd = sock_connect();
	ssize_t n;

	reply = request(fd, req, &lb);
	result_or_die(reply, command->name);
	json_object_put(reply);
	signal(SIGPIPE, SIG_IGN);
	n = lb.len && fwrite(lb.buf, 1, lb.len, stdout) != lb.len;
	free(lb.buf);
	if (n)
		return 0; /* reader went away */
	fflush(stdout);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "xdpctl: %s: %s\n", command->name,
				strerror(errno));
			return EXIT_CONNECT;
		}
		if (fwrite(buf, 1, n, stdout) != (size_t)n)
			break; /* reader went away */
		fflush(stdout);
	}
	return 0;
}

static int cmd_tail(int argc, char **argv)
{
	json_object *req = subscribe_req("records", argc, argv);

	return stream(req);
}

/* A time span for people: 1.25s, 3m05s, 2h10m. */
static void fmt_span(uint64_t ns, char *buf, size_t sz)
{
	uint64_t s = ns / 1000000000ULL;

	if (s >= 3600)
		snprintf(buf, sz, "%lluh%02llum", (unsigned long long)s / 3600,
			 (unsigned long long)s / 60 % 60);
	else if (s >= 60)
		snprintf(buf, sz, "%llum%02llus", (unsigned long long)s / 60,
			 (unsigned long long)s % 60);
	else
		snprintf(buf, sz, "%.2fs", ns / 1e9);
}

static void print_top_table(json_object *res)
{
	json_object *arr = json_object_object_get(res, "flows");
	size_t i, n = arr ? json_object_array_length(arr) : 0;
	char src[80], dst[80], dur[32], age[32];

	printf("flows %s, %llu in the table (of %llu); the %zu largest:\n",
	       json_object_get_boolean(json_object_object_get(res, "enabled")) ?
		       "on" :
		       "off",
	       (unsigned long long)jget(res, "in_table"),
	       (unsigned long long)jget(res, "table_size"), n);
	printf("%-12s %-41s %-41s %5s %10s %12s %9s %9s\n", "INTERFACE",
	       "SRC", "DST", "PROTO", "PACKETS", "BYTES", "DURATION", "AGE");
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		const char *name =
			json_object_get_string(json_object_object_get(o, "iface"));
		const char *s = json_object_get_string(
			json_object_object_get(o, "src_ip"));
		const char *d = json_object_get_string(
			json_object_object_get(o, "dst_ip"));
		bool v6 = jget(o, "ip_version") == 6;

		snprintf(src, sizeof(src), v6 ? "[%s]:%llu" : "%s:%llu", s,
			 (unsigned long long)jget(o, "src_port"));
		snprintf(dst, sizeof(dst), v6 ? "[%s]:%llu" : "%s:%llu", d,
			 (unsigned long long)jget(o, "dst_port"));
		fmt_span(jget(o, "bidirectional_duration_ns"), dur, sizeof(dur));
		fmt_span(jget(o, "age_ns"), age, sizeof(age));
		printf("%-12s %-41s %-41s %5llu %10llu %12llu %9s %9s\n",
		       name ? name : "-", src, dst,
		       (unsigned long long)jget(o, "protocol"),
		       (unsigned long long)jget(o, "bidirectional_packets"),
		       (unsigned long long)jget(o, "bidirectional_bytes"), dur,
		       age);
	}
}

/* --columns names text fields (flows and extract --flows alike). */
static void refuse_columns_binary(void)
{
	if (args.columns && !strcmp(args.columns, "nfstream") && args.format &&
	    !strcmp(args.format, "binary"))
		die_usage("--columns nfstream names text fields: it goes with "
			  "--format ndjson or csv, not binary");
}

/* A flow stream of a daemon that keeps no flows stays silent: say why
 * (and wait all the same: flows may be turned on later). */
static void flows_off_notice(void)
{
	json_object *reply = call(new_req("config_get"), "flows"), *res, *v;

	res = json_object_object_get(reply, "result");
	if (json_object_object_get_ex(res, "flows", &v) &&
	    !strcmp(json_object_get_string(v), "off"))
		fprintf(stderr,
			"xdpctl: flows: the daemon keeps no flows (flows = "
			"off): no flow will come until they are turned on "
			"('xdpctl config set flows=on', or flows = on in its "
			"configuration file); waiting\n");
	json_object_put(reply);
}

/* Flows in the table --watch shows without --top. */
#define FLOWS_TOP_DEFAULT 20

static int cmd_flows(int argc, char **argv)
{
	json_object *req;

	/* A live table of flows is what --watch asks for. */
	if (!args.top && args.watch)
		args.top = FLOWS_TOP_DEFAULT;
	if (!args.top) {
		if (args.iterations || args.json)
			die_usage("--iterations and --json go with --top or "
				  "--watch");
		refuse_columns_binary();
		flows_off_notice();
		req = subscribe_req("flows", argc, argv);
		if (args.columns)
			json_object_object_add(
				req, "columns",
				json_object_new_string(args.columns));
		return stream(req);
	}
	if (argc || args.format || args.count || args.columns ||
	    args.proto >= 0 || args.port >= 0)
		die_usage("--top takes no interface, --format, --count, "
			  "--columns, --proto or --port");
	req = new_req("flows_top");
	json_object_object_add(req, "count", json_object_new_int64(args.top));
	return watch(req, "flows", print_top_table);
}

static int cmd_extract(int argc, char **argv)
{
	struct extract_opts o = { .out = stdout, .out_name = "stdout" };
	int ret;

	if (argc != 1)
		die_usage("extract takes one capture file");
	if (xpp_format_parse(args.format ? args.format : "ndjson", &o.format))
		die_usage("--format '%s': want ndjson, csv or binary",
			  args.format);
	o.file = argv[0];
	o.quiet_summary = args.quiet;
	if (!args.flows && (args.accounting || args.columns ||
			    args.table_size ||
			    args.idle_timeout != XPP_IDLE_TIMEOUT_DEFAULT ||
			    args.active_timeout != XPP_ACTIVE_TIMEOUT_DEFAULT ||
			    args.splt != XPP_SPLT_DEFAULT))
		die_usage("--idle-timeout, --active-timeout, --accounting, "
			  "--splt, --columns and --flow-table-size go with "
			  "--flows");
	o.flows = args.flows;
	o.idle_timeout_s = args.idle_timeout;
	o.active_timeout_s = args.active_timeout;
	o.splt_len = args.splt;
	o.flow_entries = args.table_size;
	if (args.accounting)
		xpp_flow_accounting_parse(args.accounting, &o.accounting);
	if (args.columns)
		xpp_flow_columns_parse(args.columns, &o.columns);
	refuse_columns_binary();
	if (args.output && strcmp(args.output, "-")) {
		o.out = fopen(args.output, "we");
		if (!o.out) {
			fprintf(stderr, "xdpctl: extract: cannot write %s: %s\n",
				args.output, strerror(errno));
			return EXTRACT_FAILED;
		}
		o.out_name = args.output;
	} else if (o.format == XPP_FMT_BINARY && isatty(STDOUT_FILENO)) {
		die_usage("--format binary writes raw records: use --output or "
			  "a pipe");
	}
	xpp_log_init("xdpctl", LOG_WARNING);
	ret = extract_run(&o);
	if (o.out != stdout && fclose(o.out) && ret == EXTRACT_OK) {
		fprintf(stderr, "xdpctl: extract: writing %s: %s\n", o.out_name,
			strerror(errno));
		ret = EXTRACT_FAILED;
	}
	return ret;
}

static const struct command commands[] = {
	{ "attach", { "IFACE" }, "Attach the program to IFACE", attach_options,
	  cmd_attach },
	{ "detach", { "IFACE", "--all" },
	  "Detach from IFACE, or from every interface",
	  detach_options, cmd_detach },
	{ "list", {}, "The attached interfaces", list_options, cmd_list },
	{ "stats", { "[IFACE]" }, "Counters, the daemon's figures and clients",
	  stats_options, cmd_stats },
	{ "tail", { "[IFACE]" }, "Records as they come", tail_options,
	  cmd_tail },
	{ "flows", { "[IFACE]", "--top N | --watch SECONDS" },
	  "Flows as they end, or the largest in the kernel now",
	  flows_options, cmd_flows },
	{ "extract", { "FILE" }, "Records of a pcap/pcapng FILE, no daemon",
	  extract_options, cmd_extract },
	{ "config", { "get [KEY]", "set KEY=VALUE..." },
	  "The running configuration, or changes to it", config_options,
	  cmd_config },
	{ "version", {}, "Versions of xdpctl, daemon, protocol, record",
	  version_options, cmd_version },
};

static void usage(FILE *out)
{
	size_t i, j;

	fprintf(out, "Usage: xdpctl [OPTION]... COMMAND [ARG]...\n"
		     "Control xdp-preprocd over its socket.\n\n"
		     "Commands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct command *cmd = &commands[i];

		for (j = 0; j < ARRAY_SIZE(cmd->synopsis); j++) {
			char left[64];

			if (j && !cmd->synopsis[j])
				break;
			snprintf(left, sizeof(left), "%s%s%s", cmd->name,
				 cmd->synopsis[j] ? " " : "",
				 cmd->synopsis[j] ? cmd->synopsis[j] : "");
			if (j)
				fprintf(out, "  %s\n", left);
			else
				fprintf(out, "  %-28s %s\n", left, cmd->doc);
		}
	}
	fprintf(out,
		"\nEach command takes its own options, before or after it;\n"
		"'xdpctl COMMAND --help' lists them. Those that talk to the\n"
		"daemon take -s, --socket PATH (default " XPP_DEFAULT_SOCKET
		"),\n"
		"those that print its reply -j, --json.\n"
		"\nExit status: 0 success, 1 the daemon refused the request "
		"(extract:\n"
		"the capture is unreadable or damaged), 2 usage error, 3 cannot\n"
		"reach the daemon, 4 extract failed (kernel or output).\n"
		"See xdpctl(8).\n");
}

static void command_usage(FILE *out, const struct command *cmd)
{
	size_t j;

	for (j = 0; j < ARRAY_SIZE(cmd->synopsis); j++) {
		if (j && !cmd->synopsis[j])
			break;
		fprintf(out, "%s xdpctl %s [OPTION]...%s%s\n",
			j ? "   or:" : "Usage:", cmd->name,
			cmd->synopsis[j] ? " " : "",
			cmd->synopsis[j] ? cmd->synopsis[j] : "");
	}
	fprintf(out, "%s.\n\nOptions:\n", cmd->doc);
	xpp_options_help(out, cmd->options);
	fprintf(out, "\nSee xdpctl(8).\n");
}

static const struct command *command_find(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/* An option of another command: name it as it was given, show ours. */
static void __attribute__((noreturn))
die_not_here(const struct xpp_getopt *g, int key, int longindex)
{
	if (longindex >= 0)
		fprintf(stderr, "xdpctl %s: option '--%s' is not valid here\n",
			command->name, g->longopts[longindex].name);
	else
		fprintf(stderr, "xdpctl %s: option '-%c' is not valid here\n",
			command->name, key);
	command_usage(stderr, command);
	exit(EXIT_USAGE);
}

int main(int argc, char **argv)
{
	static const struct xpp_option help_only[] = { OPT_HELP, OPT_END };
	const struct xpp_option *o;
	struct xpp_getopt g;
	bool help = false;
	char *pos[64];
	int npos = 0, c, longindex;
	size_t i;

	/*
	 * getopt_long must know every option of every command: which ones
	 * take an argument decides where the command's name is, and an
	 * option may come before it. The command's own table then decides
	 * what is valid.
	 */
	xpp_getopt_init(&g, help_only);
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (xpp_getopt_add(&g, commands[i].options)) {
			fprintf(stderr, "xdpctl: the options of %s clash with "
					"another command's\n",
				commands[i].name);
			abort();
		}
	}
	/* Options may come before or after the command and its arguments. */
	g.shortopts[0] = '-';
	while ((c = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) !=
	       -1) {
		if (c == 'h') {
			help = true;
		} else if (c == 1) {
			if (npos >= (int)ARRAY_SIZE(pos))
				die_usage("too many arguments");
			pos[npos++] = optarg;
			if (npos == 1 && !(command = command_find(optarg)))
				die_usage("unknown command '%s'", optarg);
		} else if (c == '?' || c == ':') {
			die_try_help(); /* getopt_long said what was wrong */
		}
	}
	if (!command) {
		usage(help ? stdout : stderr);
		return help ? 0 : EXIT_USAGE;
	}
	/* Asked for help: it says what is valid, before any refusal. */
	if (help && xpp_option_find(command->options, 'h')) {
		command_usage(stdout, command);
		return 0;
	}

	optind = 0; /* a second pass, from a fresh start (GNU getopt) */
	for (;;) {
		longindex = -1;
		c = getopt_long(argc, argv, g.shortopts, g.longopts,
				&longindex);
		if (c == -1)
			break;
		if (c == 1)
			continue;
		o = xpp_option_find(command->options, c);
		if (!o)
			die_not_here(&g, c, longindex);
		if (o->type == XPP_OPT_CALLER)
			continue; /* --help, answered above */
		if (xpp_option_set(o, optarg, &args)) {
			char want[128];

			xpp_option_want(o, want, sizeof(want));
			die_usage("--%s '%s': want %s", o->name, optarg, want);
		}
	}
	return command->run(npos - 1, pos + 1);
}
