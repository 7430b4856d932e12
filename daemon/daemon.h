/* SPDX-License-Identifier: GPL-2.0-only */
/* State of the running daemon, shared by its modules. */
#ifndef XPP_DAEMON_H
#define XPP_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>
#include <json-c/json.h>

#include "conf.h"
#include "datapath.h"
#include "latency.h"
#include "request.h"

/* An interface carrying our program through a pinned bpf_link. */
struct iface {
	struct iface *next;
	char name[IF_NAMESIZE];
	unsigned int ifindex;
	enum xpp_mode mode; /* NATIVE or GENERIC: what the kernel did */
	int link_fd;
	unsigned int link_id;
	uint64_t attached_mono_ns;
};

struct client;

struct daemon {
	struct ev_loop *loop;
	struct xpp_conf conf;
	const char *conf_path;
	bool conf_required; /* given with --config: must exist */
	char pin_links[PATH_MAX];

	struct xpp_datapath *dp;
	struct xpp_reader *rd;
	unsigned int prog_id;
	struct iface *ifaces;

	int listen_fd;
	bool socket_activated;
	gid_t admin_gid; /* (gid_t)-1: no such group, root only */
	struct client *clients;
	unsigned int n_clients;
	unsigned int n_subscribers;

	ev_io listen_w;
	ev_io ring_w;
	ev_timer flush_w;
	ev_timer status_w;
	ev_timer watchdog_w;
	ev_signal sig_w[3];

	uint64_t start_mono_ns;
	uint64_t delivered;	/* records drained since start */
	struct latency lat;
};

uint64_t mono_ns(void);

/* links.c: attachments */
int links_adopt(struct daemon *d);
int iface_attach(struct daemon *d, const char *name, enum xpp_mode mode,
		 json_object **ret_err);
int iface_detach(struct daemon *d, struct iface *ifc);
struct iface *iface_find(struct daemon *d, const char *name);
/* PIN_ROOT/links/NAME; -ENAMETOOLONG when it does not fit. */
int link_pin_path(struct daemon *d, const char *name, char *buf, size_t sz);
unsigned int ifaces_count(const struct daemon *d);

/* netlink.c: interfaces coming and going */
int netlink_start(struct daemon *d);
void netlink_stop(struct daemon *d);

/* drain.c: rings to consumers */
int drain_start(struct daemon *d);
void drain_stop(struct daemon *d);
void drain_now(struct daemon *d);
void drain_apply_conf(struct daemon *d);
void ring_totals(const struct daemon *d, uint64_t *ret_written,
		 uint64_t *ret_consumed);

/* control.c: the socket and its clients */
int control_start(struct daemon *d);
void control_stop(struct daemon *d);

/* commands.c: requests */
json_object *command_run(struct daemon *d, struct client *c,
			 json_object *req);
json_object *stats_build(struct daemon *d, const char *only);

/* subscribe.c: streams of records */
struct client_sub;
int subscribe_start(struct daemon *d, struct client *c, json_object *req,
		    json_object **ret_err);
void subscribers_deliver(struct daemon *d, const struct xpp_record *r);
void subscribers_flush(struct daemon *d);

/* control.c helpers used by subscribe.c */
int client_write(struct client *c, const char *buf, size_t len);
size_t client_out_pending(const struct client *c);
void client_close(struct daemon *d, struct client *c);

/* main.c */
int daemon_apply_conf(struct daemon *d);

#endif
