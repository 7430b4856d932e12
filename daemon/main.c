// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdp-preprocd: owns the XDP program, its pinned maps and the
 * per-interface attachments; drains the rings and serves the control
 * socket. Runs in the foreground in one libev loop, as systemd expects.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "caps.h"
#include "cli.h"
#include "control.h"
#include "daemon.h"
#include "dp-owner.h"
#include "ipfix.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "subscribe.h"
#include "util.h"

enum {
	OPT_CHECK = 256,
};

/* How long streams may take at shutdown to get what was queued for them. */
#define STOP_GRACE_S 1

static const struct xpp_option options[] = {
	{ "config", 'c', "FILE",
	  "configuration file (default " XPP_DEFAULT_CONFIG ")" },
	{ "pin-root", 'p', "DIR",
	  "bpffs directory for pinned maps and links (overrides pin_root)" },
	{ "socket", 's', "PATH", "control socket path (overrides socket)" },
	{ "log-level", 'l', "LEVEL",
	  "err, warning, notice, info or debug (overrides log_level)" },
	{ "check-config", OPT_CHECK, NULL,
	  "read the configuration, report any error and exit" },
	{ "version", 'V', NULL, "print the version and exit" },
	{ "help", 'h', NULL, "print this help and exit" },
	{ NULL },
};

struct cli {
	const char *config;
	const char *pin_root;
	const char *socket;
	const char *log_level;
	bool check;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: xdp-preprocd [OPTION]...\n"
		"Turn packets into feature records in the kernel (XDP) and "
		"deliver them.\n"
		"Runs in the foreground; control it with xdpctl(8).\n\n");
	xpp_options_help(out, options);
	fprintf(out, "\nSee xdp-preprocd(8) and xdp-preprocd.conf(5).\n");
}

static int parse_cli(int argc, char **argv, struct cli *cli)
{
	struct xpp_getopt g;
	int c;

	xpp_getopt_init(&g, options);
	while ((c = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'c':
			cli->config = optarg;
			break;
		case 'p':
			cli->pin_root = optarg;
			break;
		case 's':
			cli->socket = optarg;
			break;
		case 'l':
			cli->log_level = optarg;
			break;
		case OPT_CHECK:
			cli->check = true;
			break;
		case 'V':
			printf("xdp-preprocd %s (record version %d, schema %d)\n",
			       XPP_VERSION, XPP_RECORD_VERSION,
			       XPP_SCHEMA_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "Try 'xdp-preprocd --help'.\n");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			"xdp-preprocd: unexpected argument '%s'\nTry "
			"'xdp-preprocd --help'.\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* Defaults, then the file, then the command line. */
static int conf_build(const struct cli *cli, struct xpp_conf *c,
		      bool *ret_missing)
{
	const char *path = cli->config ? cli->config : XPP_DEFAULT_CONFIG;
	char err[1024];
	int r;

	xpp_conf_defaults(c);
	*ret_missing = false;
	r = xpp_conf_load(c, path, err, sizeof(err));
	if (r == -ENOENT && !cli->config) {
		*ret_missing = true;
	} else if (r) {
		pr_err("%s", err);
		return r;
	}
	if (cli->pin_root && xpp_conf_set(c, "pin_root", cli->pin_root, false,
					  err, sizeof(err)))
		goto bad;
	if (cli->socket &&
	    xpp_conf_set(c, "socket", cli->socket, false, err, sizeof(err)))
		goto bad;
	if (cli->log_level && xpp_conf_set(c, "log_level", cli->log_level,
					   false, err, sizeof(err)))
		goto bad;
	return 0;
bad:
	pr_err("command line: %s", err);
	return -EINVAL;
}

/* STATUS= for systemctl status: interfaces, record rate, subscribers. */
static void notify_status(struct manager *m, const char *extra)
{
	struct dp_status st;
	uint64_t now = xpp_mono_ns();
	unsigned int n_if = dp_owner_iface_count(m->dp),
		     n_sub = subscriptions_count(m->subs);
	double rate = 0;

	dp_owner_status(m->dp, &st);
	if (m->status_last_ns && now > m->status_last_ns)
		rate = (st.records_delivered - m->status_last_delivered) * 1e9 /
		       (now - m->status_last_ns);
	m->status_last_ns = now;
	m->status_last_delivered = st.records_delivered;
	sd_notifyf(0,
		   "%sSTATUS=%u interface%s attached, %.0f records/s, %llu "
		   "delivered, %u subscriber%s",
		   extra ? extra : "", n_if, n_if == 1 ? "" : "s", rate,
		   (unsigned long long)st.records_delivered, n_sub,
		   n_sub == 1 ? "" : "s");
}

int manager_apply_conf(struct manager *m)
{
	xpp_log_set_level(m->conf.log_level);
	return dp_owner_apply_conf(m->dp);
}

static void reload(struct manager *m, const struct cli *cli)
{
	struct xpp_conf next;
	char changed[512];
	bool missing;

	sd_notify(0, "RELOADING=1");
	pr_info("reloading the configuration");
	if (conf_build(cli, &next, &missing)) {
		pr_err("configuration not reloaded: the running one stays");
		goto out;
	}
	if (xpp_conf_keep_start_only(&next, &m->conf, changed,
				     sizeof(changed))) {
		pr_err("configuration not reloaded: a running value does not "
		       "read back; the running one stays");
		goto out;
	}
	if (changed[0])
		pr_warn("%s: take effect at the next restart only", changed);
	m->conf = next;
	manager_apply_conf(m);
	dp_owner_attach_configured(m->dp);
out:
	notify_status(m, "READY=1\n");
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct manager *m = w->data;

	if (w->signum == SIGHUP) {
		reload(m, m->cli);
		return;
	}
	pr_info("received %s, stopping", strsignal(w->signum));
	ev_break(loop, EVBREAK_ALL);
}

/*
 * STATUS= says the record rate every 5 s while records flow and once
 * after they stop; an idle daemon has nothing new to say and does not
 * wake up to say it.
 */
static void status_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct manager *m = w->data;
	uint64_t before = m->status_last_delivered;

	notify_status(m, NULL);
	if (m->status_last_delivered != before)
		ev_timer_start(loop, w);
}

/*
 * A subscription that the drain's flushes alone would leave waiting: a
 * flush that ran out of budget, a peer that half-closed (only a look at
 * its socket tells when it goes). Ticked at flush_interval_ms while one
 * is there, never otherwise.
 */
static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct manager *m = w->data;

	subscriptions_flush(m->subs);
	if (!subscriptions_need_tick(m->subs))
		ev_timer_stop(loop, w);
}

static void tick_check_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	struct manager *m = w->data;
	ev_tstamp iv = m->conf.flush_ms / 1000.0;

	if (ev_is_active(&m->tick_w) || !subscriptions_need_tick(m->subs))
		return;
	ev_timer_set(&m->tick_w, iv, iv);
	ev_timer_start(loop, &m->tick_w);
}

static void watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	sd_notify(0, "WATCHDOG=1");
}

/* The drain's records go to the subscriptions. */
static void sink_record(const struct xpp_record *r, void *userdata)
{
	struct manager *m = userdata;

	subscriptions_deliver(m->subs, r);
}

static void sink_flow(const struct xpp_flow_record *f, void *userdata)
{
	struct manager *m = userdata;

	subscriptions_deliver_flow(m->subs, f);
	if (m->ipfix)
		ipfix_exporter_push(m->ipfix, f);
}

static void sink_flushed(void *userdata)
{
	struct manager *m = userdata;

	subscriptions_flush(m->subs);
	if (m->notify && !ev_is_active(&m->status_w))
		ev_timer_start(m->loop, &m->status_w);
}

static void sink_ifaces_changed(void *userdata)
{
	struct manager *m = userdata;

	subscriptions_ifaces_changed(m->subs);
}

static int manager_start(struct manager *m)
{
	const struct drain_sink sink = {
		.record = sink_record,
		.flow = sink_flow,
		.flushed = sink_flushed,
		.ifaces_changed = sink_ifaces_changed,
		.userdata = m,
	};
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct dp_status st;
	uint64_t usec;
	size_t i;

	m->subs = subscriptions_new();
	if (!m->subs)
		return log_error_errno(ENOMEM, "out of memory");
	if (m->conf.ipfix_host[0]) {
		m->ipfix = ipfix_exporter_new(&m->conf);
		if (!m->ipfix)
			return log_error_errno(errno,
					       "starting the IPFIX exporter: %m");
	}
	m->dp = dp_owner_new(m->loop, &m->conf, &sink);
	if (!m->dp)
		return -errno;
	m->control = control_new(m);
	if (!m->control)
		return -errno;
	if (m->conf.metrics_addr_len) {
		m->metrics = metrics_new(m);
		if (!m->metrics)
			return -errno;
	}
	xpp_log_set_level(m->conf.log_level);
	dp_owner_attach_configured(m->dp);
	/* Mounting, loading and the socket are done: keep only what is
	 * needed from here on. */
	caps_drop();

	for (i = 0; i < ARRAY_SIZE(sigs); i++) {
		ev_signal_init(&m->sig_w[i], signal_cb, sigs[i]);
		m->sig_w[i].data = m;
		ev_signal_start(m->loop, &m->sig_w[i]);
	}
	m->notify = getenv("NOTIFY_SOCKET");
	ev_timer_init(&m->status_w, status_cb, 5, 0);
	m->status_w.data = m;
	ev_init(&m->tick_w, tick_cb);
	m->tick_w.data = m;
	ev_check_init(&m->tick_check_w, tick_check_cb);
	m->tick_check_w.data = m;
	ev_check_start(m->loop, &m->tick_check_w);
	if (sd_watchdog_enabled(0, &usec) > 0) {
		ev_timer_init(&m->watchdog_w, watchdog_cb, usec / 2e6,
			      usec / 2e6);
		m->watchdog_w.data = m;
		ev_timer_start(m->loop, &m->watchdog_w);
	}
	dp_owner_status(m->dp, &st);
	pr_notice("xdp-preprocd %s ready: program id %u, %u interface%s, "
		  "control socket %s",
		  XPP_VERSION, st.prog_id, dp_owner_iface_count(m->dp),
		  dp_owner_iface_count(m->dp) == 1 ? "" : "s",
		  m->conf.socket_path);
	notify_status(m, "READY=1\n");
	return 0;
}

static void grace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
}

/*
 * Every flow still in the kernel's table ends now (docs/flows.md,
 * "forced"), and the streams get what was queued for them, the ended
 * flows included, for up to STOP_GRACE_S; a peer that does not read by
 * then loses the rest when its connection closes.
 */
static void manager_finish_streams(struct manager *m)
{
	uint64_t deadline = xpp_mono_ns() + STOP_GRACE_S * 1000000000ULL;
	ev_timer tick;

	dp_owner_flows_end(m->dp);
	subscriptions_finish(m->subs);
	/* The tick bounds each turn of the loop. */
	ev_timer_init(&tick, grace_cb, 0.05, 0.05);
	ev_timer_start(m->loop, &tick);
	while (subscriptions_count(m->subs) && xpp_mono_ns() < deadline)
		ev_run(m->loop, EVRUN_ONCE);
	ev_timer_stop(m->loop, &tick);
}

static void manager_stop(struct manager *m)
{
	sd_notify(0, "STOPPING=1");
	if (m->dp && m->subs && m->control)
		manager_finish_streams(m);
	metrics_free(m->metrics);
	m->metrics = NULL;
	/* Connections first: subscriptions hold references to them. */
	control_free(m->control);
	m->control = NULL;
	subscriptions_free(m->subs);
	m->subs = NULL;
	/* After the flows forced out above: up to the grace to send them. */
	ipfix_exporter_free(m->ipfix, STOP_GRACE_S * 1000);
	m->ipfix = NULL;
	/* Links stay pinned and attached: the datapath keeps running. */
	dp_owner_free(m->dp);
	m->dp = NULL;
}

/* Every connection is a descriptor and max_clients may be 65536: take the
 * hard limit (epoll has no FD_SETSIZE), as systemd advises for daemons. */
static void nofile_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			pr_debug("raising the open files limit: %m");
	}
}

int main(int argc, char **argv)
{
	struct manager m = {};
	struct cli cli = {};
	bool missing;
	int r;

	xpp_log_init("xdp-preprocd", LOG_INFO);
	if (parse_cli(argc, argv, &cli))
		return 2;
	m.cli = &cli;
	if (conf_build(&cli, &m.conf, &missing))
		return cli.check ? 1 : 78; /* EX_CONFIG */
	if (cli.check) {
		printf("%s: configuration is valid\n",
		       cli.config ? cli.config : XPP_DEFAULT_CONFIG);
		return 0;
	}
	xpp_log_set_level(m.conf.log_level);
	if (missing)
		pr_info("no %s: running with the defaults", XPP_DEFAULT_CONFIG);
	signal(SIGPIPE, SIG_IGN);
	nofile_raise();
	/* Signals are handled in the loop, not asynchronously. */
	m.loop = ev_default_loop(EVFLAG_AUTO | EVFLAG_SIGNALFD);
	if (!m.loop) {
		pr_err("cannot create the event loop");
		return 1;
	}
	m.start_mono_ns = xpp_mono_ns();
	r = manager_start(&m);
	if (r) {
		sd_notifyf(0, "STATUS=Failed to start: %s\nERRNO=%d",
			   strerror(-r), -r);
		manager_stop(&m);
		return 1;
	}
	ev_run(m.loop, 0);
	pr_notice("stopped; attachments stay in place (%u interface%s)",
		  dp_owner_iface_count(m.dp),
		  dp_owner_iface_count(m.dp) == 1 ? "" : "s");
	manager_stop(&m);
	ev_loop_destroy(m.loop);
	return 0;
}
