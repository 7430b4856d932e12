// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdp-preprocd: owns the XDP program, its pinned maps and the
 * per-interface attachments; drains the rings and serves the control
 * socket. Runs in the foreground in one libev loop, as systemd expects.
 */
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <systemd/sd-daemon.h>

#include "caps.h"
#include "cli.h"
#include "daemon.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

enum {
	OPT_CHECK = 256,
};

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

static struct cli cli;

/* Defaults, then the file, then the command line. */
static int conf_build(struct xpp_conf *c, bool *ret_missing)
{
	const char *path = cli.config ? cli.config : XPP_DEFAULT_CONFIG;
	char err[1024];
	int r;

	xpp_conf_defaults(c);
	*ret_missing = false;
	r = xpp_conf_load(c, path, err, sizeof(err));
	if (r == -ENOENT && !cli.config) {
		*ret_missing = true;
	} else if (r) {
		pr_err("%s", err);
		return r;
	}
	if (cli.pin_root && xpp_conf_set(c, "pin_root", cli.pin_root, false,
					 err, sizeof(err)))
		goto bad;
	if (cli.socket &&
	    xpp_conf_set(c, "socket", cli.socket, false, err, sizeof(err)))
		goto bad;
	if (cli.log_level && xpp_conf_set(c, "log_level", cli.log_level, false,
					  err, sizeof(err)))
		goto bad;
	return 0;
bad:
	pr_err("command line: %s", err);
	return -EINVAL;
}

/* The pin root must be on a bpffs: mount one on its parent if needed. */
static int pin_root_prepare(const char *root)
{
	char parent[PATH_MAX];
	struct statfs st;

	if (statfs(root, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	snprintf(parent, sizeof(parent), "%s", root);
	dirname(parent);
	if (!strcmp(parent, "/"))
		return log_error_errno(EINVAL,
				       "pin root %s: needs a parent directory "
				       "to mount bpffs on, such as /sys/fs/bpf",
				       root);
	if (statfs(parent, &st) < 0) {
		if (errno != ENOENT)
			return log_error_errno(errno, "pin root %s: %m", root);
		if (mkdir(parent, 0700) < 0)
			return log_error_errno(
				errno, "cannot create %s for the pin root: %m",
				parent);
		st.f_type = 0;
	}
	if (st.f_type != BPF_FS_MAGIC) {
		if (mount("bpf", parent, "bpf", 0, "mode=0700") < 0)
			return log_error_errno(
				errno,
				"%s is not a BPF filesystem and mounting one "
				"there failed: %m (mount it yourself: mount -t "
				"bpf bpf %s)",
				parent, parent);
		pr_notice("mounted a BPF filesystem on %s", parent);
	}
	if (mkdir(root, 0700) < 0 && errno != EEXIST)
		return log_error_errno(errno, "cannot create pin root %s: %m",
				       root);
	return 0;
}

static unsigned int prog_id_of(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* STATUS= for systemctl status: interfaces, record rate, subscribers. */
static void notify_status(struct daemon *d, const char *extra)
{
	static uint64_t last_ns, last_delivered;
	uint64_t now = mono_ns();
	double rate = 0;

	if (last_ns && now > last_ns)
		rate = (d->delivered - last_delivered) * 1e9 / (now - last_ns);
	last_ns = now;
	last_delivered = d->delivered;
	sd_notifyf(0,
		   "%sSTATUS=%u interface%s attached, %.0f records/s, %llu "
		   "delivered, %u subscriber%s",
		   extra ? extra : "", ifaces_count(d),
		   ifaces_count(d) == 1 ? "" : "s", rate,
		   (unsigned long long)d->delivered, d->n_subscribers,
		   d->n_subscribers == 1 ? "" : "s");
}

int daemon_apply_conf(struct daemon *d)
{
	xpp_log_set_level(d->conf.log_level);
	drain_apply_conf(d);
	return 0;
}

static void attach_configured(struct daemon *d)
{
	unsigned int i;

	for (i = 0; i < d->conf.n_attach; i++) {
		const struct xpp_conf_attach *a = &d->conf.attach[i];
		json_object *err = NULL;

		if (iface_find(d, a->name))
			continue;
		if (iface_attach(d, a->name, a->mode, &err)) {
			json_object *e = json_object_object_get(err, "error");

			ifc_err(a->name, "cannot attach to configured interface %s: %s",
			       a->name,
			       json_object_get_string(
				       json_object_object_get(e, "message")));
			json_object_put(err);
		}
	}
}

static void reload(struct daemon *d)
{
	struct xpp_conf next;
	bool missing;

	sd_notify(0, "RELOADING=1");
	pr_info("reloading the configuration");
	if (conf_build(&next, &missing)) {
		pr_err("configuration not reloaded: the running one stays");
		goto out;
	}
	if (strcmp(next.pin_root, d->conf.pin_root) ||
	    strcmp(next.socket_path, d->conf.socket_path) ||
	    strcmp(next.admin_group, d->conf.admin_group) ||
	    next.ring_bytes != d->conf.ring_bytes)
		pr_warn("pin_root, socket, admin_group and ring_size take "
			"effect at the next restart only");
	strcpy(next.pin_root, d->conf.pin_root);
	strcpy(next.socket_path, d->conf.socket_path);
	strcpy(next.admin_group, d->conf.admin_group);
	next.ring_bytes = d->conf.ring_bytes;
	d->conf = next;
	daemon_apply_conf(d);
	attach_configured(d);
out:
	notify_status(d, "READY=1\n");
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;

	if (w->signum == SIGHUP) {
		reload(d);
		return;
	}
	pr_info("received %s, stopping", strsignal(w->signum));
	ev_break(loop, EVBREAK_ALL);
}

static void status_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	notify_status(w->data, NULL);
}

static void watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	sd_notify(0, "WATCHDOG=1");
}

static int daemon_start(struct daemon *d)
{
	struct xpp_datapath_opts o = {};
	char err[1024];
	uint64_t usec;
	int r;
	size_t i;
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };

	r = pin_root_prepare(d->conf.pin_root);
	if (r)
		return r;
	if ((size_t)snprintf(d->pin_links, sizeof(d->pin_links), "%s/links",
			     d->conf.pin_root) >= sizeof(d->pin_links))
		return log_error_errno(ENAMETOOLONG, "pin root is too long");
	o.ring_bytes = d->conf.ring_bytes;
	o.pin_root = d->conf.pin_root;
	o.errbuf = err;
	o.errbuf_sz = sizeof(err);
	d->dp = xpp_datapath__open(&o);
	if (!d->dp)
		return log_error_errno(errno, "%s",
				       err[0] ? err : strerror(errno));
	d->prog_id = prog_id_of(xpp_datapath__prog_fd(d->dp));
	if (xpp_datapath__adopted(d->dp)) {
		pr_info("adopted the maps pinned under %s", d->conf.pin_root);
		if (xpp_datapath__ring_bytes(d->dp) != d->conf.ring_bytes)
			pr_warn("the pinned rings hold %u bytes each, not the "
				"configured ring_size %u: to resize, detach "
				"everything, stop the daemon and remove %s",
				xpp_datapath__ring_bytes(d->dp),
				d->conf.ring_bytes, d->conf.pin_root);
	} else {
		pr_info("created and pinned the maps under %s",
			d->conf.pin_root);
	}
	r = links_adopt(d);
	if (r)
		return r;
	r = drain_start(d);
	if (r)
		return r;
	r = control_start(d);
	if (r)
		return r;
	r = netlink_start(d);
	if (r)
		return r;
	attach_configured(d);
	/* Mounting, loading and the socket are done: keep only what is
	 * needed from here on. */
	caps_drop();

	for (i = 0; i < ARRAY_SIZE(sigs); i++) {
		ev_signal_init(&d->sig_w[i], signal_cb, sigs[i]);
		d->sig_w[i].data = d;
		ev_signal_start(d->loop, &d->sig_w[i]);
	}
	ev_timer_init(&d->status_w, status_cb, 5, 5);
	d->status_w.data = d;
	ev_timer_start(d->loop, &d->status_w);
	if (sd_watchdog_enabled(0, &usec) > 0) {
		ev_timer_init(&d->watchdog_w, watchdog_cb, usec / 2e6,
			      usec / 2e6);
		d->watchdog_w.data = d;
		ev_timer_start(d->loop, &d->watchdog_w);
	}
	pr_notice("xdp-preprocd %s ready: program id %u, %u interface%s, "
		  "control socket %s",
		  XPP_VERSION, d->prog_id, ifaces_count(d),
		  ifaces_count(d) == 1 ? "" : "s", d->conf.socket_path);
	notify_status(d, "READY=1\n");
	return 0;
}

static void daemon_stop(struct daemon *d)
{
	struct iface *i;

	sd_notify(0, "STOPPING=1");
	netlink_stop(d);
	control_stop(d);
	drain_stop(d);
	/* Links stay pinned and attached: the datapath keeps running. */
	while ((i = d->ifaces)) {
		d->ifaces = i->next;
		close(i->link_fd);
		free(i);
	}
	xpp_datapath__destroy(d->dp);
}

int main(int argc, char **argv)
{
	static struct daemon d = { .listen_fd = -1 };
	bool missing;
	int r;

	xpp_log_init("xdp-preprocd", LOG_INFO);
	if (parse_cli(argc, argv, &cli))
		return 2;
	if (conf_build(&d.conf, &missing))
		return cli.check ? 1 : 78; /* EX_CONFIG */
	if (cli.check) {
		printf("%s: configuration is valid\n",
		       cli.config ? cli.config : XPP_DEFAULT_CONFIG);
		return 0;
	}
	xpp_log_set_level(d.conf.log_level);
	if (missing)
		pr_info("no %s: running with the defaults", XPP_DEFAULT_CONFIG);
	signal(SIGPIPE, SIG_IGN);
	/* Signals are handled in the loop, not asynchronously. */
	d.loop = ev_default_loop(EVFLAG_AUTO | EVFLAG_SIGNALFD);
	if (!d.loop) {
		pr_err("cannot create the event loop");
		return 1;
	}
	d.start_mono_ns = mono_ns();
	r = daemon_start(&d);
	if (r) {
		sd_notifyf(0, "STATUS=Failed to start: %s\nERRNO=%d",
			   strerror(-r), -r);
		daemon_stop(&d);
		return 1;
	}
	ev_run(d.loop, 0);
	pr_notice("stopped; attachments stay in place (%u interface%s)",
		  ifaces_count(&d), ifaces_count(&d) == 1 ? "" : "s");
	daemon_stop(&d);
	ev_loop_destroy(d.loop);
	return 0;
}
