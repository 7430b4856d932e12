// SPDX-License-Identifier: GPL-2.0-only
/* Interface receive counters over rtnetlink (rxstats.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "rxstats.h"

struct rxstats {
	int fd;
	uint32_t seq;
};

struct rxstats *rxstats_new(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	/* The kernel answers at once; never hold the loop longer. */
	struct timeval tv = { .tv_usec = 100000 };
	struct rxstats *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		int err = errno;

		if (s->fd >= 0)
			close(s->fd);
		free(s);
		errno = err;
		return NULL;
	}
	return s;
}

void rxstats_free(struct rxstats *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s);
}

static int parse(const struct nlmsghdr *nh, uint64_t *ret_packets,
		 uint64_t *ret_lost)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	const struct rtattr *rta;

	if (len < 0)
		return -EIO;
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		struct rtnl_link_stats64 st;

		if (rta->rta_type != IFLA_STATS64 ||
		    RTA_PAYLOAD(rta) < sizeof(st))
			continue;
		memcpy(&st, RTA_DATA(rta), sizeof(st));
		*ret_packets = st.rx_packets;
		*ret_lost = st.rx_dropped + st.rx_missed_errors +
			    st.rx_fifo_errors + st.rx_over_errors;
		return 0;
	}
	return -EIO;
}

int rxstats_read(struct rxstats *s, unsigned int ifindex,
		 uint64_t *ret_packets, uint64_t *ret_lost)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh.nlmsg_len = sizeof(req),
		.nh.nlmsg_type = RTM_GETLINK,
		.nh.nlmsg_flags = NLM_F_REQUEST,
		.nh.nlmsg_seq = ++s->seq,
		.ifi.ifi_family = AF_UNSPEC,
		.ifi.ifi_index = (int)ifindex,
	};
	/* One link's message: attributes of a few KiB at most. */
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	ssize_t n;

	if (send(s->fd, &req, sizeof(req), 0) != sizeof(req))
		return -errno;
	for (;;) {
		const struct nlmsghdr *nh = (void *)buf;
		size_t len;

		n = recv(s->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len = (size_t)n;
		for (; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_seq != s->seq)
				continue; /* an answer to an earlier request */
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				return e->error ? e->error : -EIO;
			}
			if (nh->nlmsg_type == RTM_NEWLINK)
				return parse(nh, ret_packets, ret_lost);
		}
	}
}
