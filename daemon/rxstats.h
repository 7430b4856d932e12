/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel's own receive counters of an interface (rtnetlink
 * RTM_GETLINK, IFLA_STATS64: struct rtnl_link_stats64 in
 * linux/if_link.h), read to tell when frames are lost before the XDP
 * program sees them: the receive ring overflowed because the CPU that
 * empties it was busy. Not a statistic we report: a signal for the drain
 * (drain.c).
 */
#ifndef XPP_RXSTATS_H
#define XPP_RXSTATS_H

#include <stdint.h>

struct rxstats;

/* A NETLINK_ROUTE socket in the daemon's network namespace. Returns NULL
 * with errno set. */
struct rxstats *rxstats_new(void);
void rxstats_free(struct rxstats *s);

/*
 * Frames ifindex received (rx_packets) and lost before reaching the stack
 * or the XDP program (rx_dropped + rx_missed_errors + rx_fifo_errors +
 * rx_over_errors; veth counts frames its full ring refused in
 * rx_dropped), since the interface was created. Returns 0, or -errno
 * (-ENODEV: no such interface; -EIO: an answer without IFLA_STATS64).
 */
int rxstats_read(struct rxstats *s, unsigned int ifindex,
		 uint64_t *ret_packets, uint64_t *ret_lost);

#endif
