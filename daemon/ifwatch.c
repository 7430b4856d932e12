// SPDX-License-Identifier: GPL-2.0-only
/* rtnetlink link events (ifwatch.h). */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "ifwatch.h"
#include "util.h"

struct ifwatch {
	struct ev_loop *loop;
	ev_io w;
	int fd;
	ifwatch_fn fn;
	void *userdata;
};

static void on_link(struct ifwatch *w, struct nlmsghdr *nh)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	char name[IF_NAMESIZE] = "";
	struct rtattr *rta;

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
	if (nh->nlmsg_type == RTM_DELLINK)
		w->fn(IFWATCH_GONE, ifi->ifi_index, name, w->userdata);
	else if (name[0])
		w->fn(IFWATCH_LINK, ifi->ifi_index, name, w->userdata);
}

static void nl_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct ifwatch *w = io->data;
	char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nh;
	ssize_t n;

	for (;;) {
		n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == ENOBUFS) {
			w->fn(IFWATCH_LOST, 0, "", w->userdata);
			continue;
		}
		if (n <= 0)
			return;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n))
			if (nh->nlmsg_type == RTM_NEWLINK ||
			    nh->nlmsg_type == RTM_DELLINK)
				on_link(w, nh);
	}
}

struct ifwatch *ifwatch_new(struct ev_loop *loop, ifwatch_fn fn,
			    void *userdata)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK,
	};
	_cleanup_free_ struct ifwatch *w = calloc(1, sizeof(*w));
	_cleanup_close_ int fd = -1;
	int rcvbuf = 1 << 20;

	if (!w)
		return NULL;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    NETLINK_ROUTE);
	if (fd < 0)
		return NULL;
	/* Best effort: a smaller buffer only makes overflows likelier,
	 * and those are handled. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return NULL;
	w->loop = loop;
	w->fn = fn;
	w->userdata = userdata;
	w->fd = TAKE_FD(fd);
	ev_io_init(&w->w, nl_cb, w->fd, EV_READ);
	w->w.data = w;
	ev_io_start(loop, &w->w);
	return TAKE_PTR(w);
}

void ifwatch_free(struct ifwatch *w)
{
	if (!w)
		return;
	ev_io_stop(w->loop, &w->w);
	close(w->fd);
	free(w);
}
