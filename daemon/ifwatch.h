/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Interfaces coming and going: rtnetlink link events in the event loop,
 * reported and nothing more. What to do about them is decided by the
 * datapath owner (dp-owner.c), in one place.
 */
#ifndef XPP_IFWATCH_H
#define XPP_IFWATCH_H

#include <ev.h>

enum ifwatch_event {
	/* ifindex exists and is called name: new, renamed or changed. */
	IFWATCH_LINK,
	/* ifindex is gone (name is its last name, or empty). */
	IFWATCH_GONE,
	/* The kernel dropped events (ENOBUFS): look at everything again.
	 * ifindex 0, name empty. */
	IFWATCH_LOST,
};

typedef void (*ifwatch_fn)(enum ifwatch_event event, unsigned int ifindex,
			   const char *name, void *userdata);

struct ifwatch;

/* Returns NULL with errno set. */
struct ifwatch *ifwatch_new(struct ev_loop *loop, ifwatch_fn fn,
			    void *userdata);
void ifwatch_free(struct ifwatch *w);

#endif
