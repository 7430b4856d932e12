// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interfaces coming and going: rtnetlink link events in the event loop.
 * An attached interface that disappears is reported and its pin removed
 * (the kernel has already detached the link); when an interface of the
 * same name appears again it is attached again (reattach = yes, or listed
 * with attach = in the config). A rename moves the pin. When the kernel
 * drops events (ENOBUFS), everything is checked again from scratch.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "daemon.h"
#include "log.h"
#include "util.h"

static ev_io nl_w;
static int nl_fd = -1;

/* Names that vanished while attached, to attach again when they return. */
struct vanished {
	struct vanished *next;
	char name[IF_NAMESIZE];
	enum xpp_mode mode;
};
static struct vanished *vanished;

static void vanished_add(const char *name, enum xpp_mode mode)
{
	struct vanished *v;

	for (v = vanished; v; v = v->next)
		if (!strcmp(v->name, name))
			return;
	v = calloc(1, sizeof(*v));
	if (!v)
		return;
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->mode = mode;
	v->next = vanished;
	vanished = v;
}

static bool vanished_take(const char *name, enum xpp_mode *ret_mode)
{
	struct vanished **pp, *v;

	for (pp = &vanished; (v = *pp); pp = &v->next) {
		if (!strcmp(v->name, name)) {
			*ret_mode = v->mode;
			*pp = v->next;
			free(v);
			return true;
		}
	}
	return false;
}

static struct iface *iface_by_index(struct daemon *d, unsigned int ifindex)
{
	struct iface *i;

	for (i = d->ifaces; i; i = i->next)
		if (i->ifindex == ifindex)
			return i;
	return NULL;
}

static void iface_gone(struct daemon *d, struct iface *ifc)
{
	ifc_warn(ifc->name,
		 "interface %s (ifindex %u) disappeared; its XDP attachment "
		 "went with it%s",
		 ifc->name, ifc->ifindex,
		 d->conf.reattach ? "; it will be attached again if it comes "
				    "back" :
				    "");
	/* Remembered whatever reattach says now: it is read when the
	 * interface comes back, so a change in between takes effect. */
	vanished_add(ifc->name, ifc->mode == XPP_MODE_GENERIC ?
					XPP_MODE_GENERIC :
					XPP_MODE_AUTO);
	iface_detach(d, ifc);
}

static void iface_renamed(struct daemon *d, struct iface *ifc,
			  const char *name)
{
	char from[PATH_MAX], to[PATH_MAX];

	if (link_pin_path(d, ifc->name, from, sizeof(from)) ||
	    link_pin_path(d, name, to, sizeof(to)) || rename(from, to) < 0)
		ifc_warn(name, "interface %s renamed to %s; moving its pin: %m",
			 ifc->name, name);
	ifc_notice(name, "interface %s is now called %s", ifc->name, name);
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
}

/* An interface of this name exists (again): attach it if wanted. */
static void maybe_reattach(struct daemon *d, const char *name)
{
	enum xpp_mode mode = XPP_MODE_AUTO;
	json_object *err = NULL;
	bool wanted = false;
	unsigned int i;

	if (iface_find(d, name))
		return;
	for (i = 0; i < d->conf.n_attach; i++) {
		if (!strcmp(d->conf.attach[i].name, name)) {
			mode = d->conf.attach[i].mode;
			wanted = true;
		}
	}
	if (vanished_take(name, &mode) && d->conf.reattach)
		wanted = true;
	if (!wanted)
		return;
	if (iface_attach(d, name, mode, &err)) {
		ifc_err(name, "interface %s is back but attaching failed: %s",
			name,
			json_object_get_string(json_object_object_get(
				json_object_object_get(err, "error"),
				"message")));
		json_object_put(err);
		return;
	}
	ifc_notice(name, "interface %s is back; attached again", name);
}

static void on_link(struct daemon *d, struct nlmsghdr *nh)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	char name[IF_NAMESIZE] = "";
	struct rtattr *rta;
	struct iface *ifc;

	if (len < 0)
		return;
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFLA_IFNAME) {
			size_t n = RTA_PAYLOAD(rta);

			if (n > sizeof(name))
				n = sizeof(name);
			memcpy(name, RTA_DATA(rta), n);
			name[sizeof(name) - 1] = '\0';
		}
	}
	ifc = iface_by_index(d, ifi->ifi_index);
	if (nh->nlmsg_type == RTM_DELLINK) {
		if (ifc)
			iface_gone(d, ifc);
		return;
	}
	if (!name[0])
		return;
	if (ifc && strcmp(ifc->name, name))
		iface_renamed(d, ifc, name);
	else if (!ifc)
		maybe_reattach(d, name);
}

/* Events were lost: look at every attachment and name again. */
static void resync(struct daemon *d)
{
	struct vanished *v, *vnext;
	struct iface *i, *next;
	char name[IF_NAMESIZE];
	unsigned int k;

	pr_warn("missed interface events (netlink buffer overflow); "
		"checking every attachment again");
	for (i = d->ifaces; i; i = next) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);

		next = i->next;
		if (bpf_obj_get_info_by_fd(i->link_fd, &info, &len) < 0 ||
		    !info.xdp.ifindex || !if_indextoname(i->ifindex, name)) {
			iface_gone(d, i);
			continue;
		}
		if (strcmp(name, i->name))
			iface_renamed(d, i, name);
	}
	for (k = 0; k < d->conf.n_attach; k++)
		if (if_nametoindex(d->conf.attach[k].name))
			maybe_reattach(d, d->conf.attach[k].name);
	for (v = vanished; v; v = vnext) {
		vnext = v->next; /* maybe_reattach frees v when it takes it */
		if (if_nametoindex(v->name))
			maybe_reattach(d, v->name);
	}
}

static void nl_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct daemon *d = w->data;
	char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nh;
	ssize_t n;

	for (;;) {
		n = recv(nl_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == ENOBUFS) {
			resync(d);
			continue;
		}
		if (n <= 0)
			return;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n))
			if (nh->nlmsg_type == RTM_NEWLINK ||
			    nh->nlmsg_type == RTM_DELLINK)
				on_link(d, nh);
	}
}

int netlink_start(struct daemon *d)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK,
	};
	int rcvbuf = 1 << 20;

	nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       NETLINK_ROUTE);
	if (nl_fd < 0)
		return log_error_errno(errno, "netlink socket: %m");
	setsockopt(nl_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(nl_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = log_error_errno(errno, "netlink bind: %m");

		close(nl_fd);
		nl_fd = -1;
		return err;
	}
	ev_io_init(&nl_w, nl_cb, nl_fd, EV_READ);
	nl_w.data = d;
	ev_io_start(d->loop, &nl_w);
	return 0;
}

void netlink_stop(struct daemon *d)
{
	if (nl_fd < 0)
		return;
	ev_io_stop(d->loop, &nl_w);
	close(nl_fd);
	nl_fd = -1;
	while (vanished) {
		struct vanished *v = vanished;

		vanished = v->next;
		free(v);
	}
}
