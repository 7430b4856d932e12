/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The configuration: defaults, the file format of xdp-preprocd.conf(5), and
 * the values that `xdpctl config set` may change at run time. File and
 * socket go through the same value parsers, so they accept the same
 * spellings and reject the same mistakes.
 */
#ifndef XPP_CONF_H
#define XPP_CONF_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "xpp/maps.h"

#define XPP_CONF_MAX_ATTACH 64

enum xpp_mode {
	XPP_MODE_AUTO,
	XPP_MODE_NATIVE,
	XPP_MODE_GENERIC,
};

struct xpp_conf_attach {
	char name[IF_NAMESIZE];
	enum xpp_mode mode;
};

struct xpp_conf {
	char pin_root[PATH_MAX];
	char socket_path[108]; /* sizeof(sun_path) */
	char admin_group[64];
	unsigned int ring_bytes;
	unsigned int flow_entries; /* the kernel's flow table */
	unsigned int flush_ms;	/* subscriptions' tick when needed */
	unsigned int poll_us;	/* the drain's interval under load */
	unsigned int wakeup_percent;
	unsigned int wakeup_bytes; /* when non-zero, instead of the percent */
	unsigned int max_clients;
	unsigned int max_request;
	unsigned int max_subscribers;
	unsigned int subscriber_queue;
	int log_level;
	bool reattach; /* attach again interfaces that come back */
	/* metrics_listen: where /metrics is served; len 0 when off. */
	struct sockaddr_storage metrics_addr;
	socklen_t metrics_addr_len;
	struct xpp_config dp; /* sampling, filters, verdict, flows */
	struct xpp_conf_attach attach[XPP_CONF_MAX_ATTACH];
	unsigned int n_attach;
	/* IPFIX export (daemon/ipfix.h): off while ipfix_host is empty. */
	char ipfix_host[256];
	char ipfix_port[6];
	bool ipfix_tcp;
	unsigned int ipfix_domain;
	unsigned int ipfix_queue; /* flows held while the collector lags */
	unsigned int ipfix_refresh_s; /* UDP: templates sent again */
};

void xpp_conf_defaults(struct xpp_conf *c);

/*
 * Reads a config file over c. On error returns -errno and writes
 * "FILE:LINE: what is wrong" into err. A missing file is -ENOENT with a
 * message too; the caller decides whether that matters.
 */
int xpp_conf_load(struct xpp_conf *c, const char *path, char *err,
		  size_t errsz);

/*
 * Sets one key from its text form, as in the file. runtime_only refuses
 * keys that need a restart. On error returns -EINVAL with a message.
 */
int xpp_conf_set(struct xpp_conf *c, const char *key, const char *value,
		 bool runtime_only, char *err, size_t errsz);

/* Text form of a key's value, as xpp_conf_set reads it back. */
int xpp_conf_get(const struct xpp_conf *c, const char *key, char *buf,
		 size_t sz);

/*
 * A reload: keeps in next the running values (cur) of the keys that take
 * effect at the next start only (every key not settable at run time but
 * attach, which a reload applies), and writes the names of those next
 * would have changed, comma-separated, into ret_changed ("" when none).
 * Returns 0, or -EINVAL when a running value does not read back (a bug).
 */
int xpp_conf_keep_start_only(struct xpp_conf *next, const struct xpp_conf *cur,
			     char *ret_changed, size_t sz);

/* metrics_listen as the file spells it: off, ADDR:PORT or [ADDR]:PORT. */
int xpp_conf_metrics_listen_str(const struct xpp_conf *c, char *buf,
				size_t sz);

/* Keys in documentation order, NULL-terminated. */
extern const char *const xpp_conf_keys[];

const char *xpp_mode_name(enum xpp_mode m);
int xpp_mode_parse(const char *s, enum xpp_mode *ret);

#endif
