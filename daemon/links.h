/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Attachments: one XDP bpf_link per interface, pinned under
 * PIN_ROOT/links/IFNAME so that it outlives the daemon. Part of the
 * datapath owner: functions return 0 or a negative errno and, where a
 * user must be told why, a message in the caller's buffer; nothing here
 * knows the control protocol.
 */
#ifndef XPP_LINKS_H
#define XPP_LINKS_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "datapath.h"

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

struct links;

/* Over dp, pinning under PIN_ROOT/links (created if missing). Returns
 * NULL with errno set. */
struct links *links_new(struct xpp_datapath *dp, const char *pin_root);
/* Closes the link descriptors: the pinned links stay attached. */
void links_free(struct links *l);

/* Adopts the links pinned by an earlier run and moves them to our
 * program; removes pins of interfaces that are gone. */
int links_adopt(struct links *l);

/*
 * Attaches to the interface called name. Returns 0, or -ENODEV (no such
 * interface), -EEXIST (attached already), -EBUSY (another XDP program is
 * there), -ENAMETOOLONG (pin path), -ENOMEM, or the kernel's error, with
 * a message naming the interface, the cause and the fix in msg.
 */
int links_attach(struct links *l, const char *name, enum xpp_mode mode,
		 char *msg, size_t msgsz);
/* Detaches and unpins; the interface leaves the list and is freed. */
int links_detach(struct links *l, struct iface *ifc);
/* The interface is gone (the kernel detached the link): forget it. */
void links_forget(struct links *l, struct iface *ifc);
/* The interface was renamed: move its pin. */
int links_rename(struct links *l, struct iface *ifc, const char *name);

struct iface *links_first(const struct links *l);
struct iface *links_find(const struct links *l, const char *name);
struct iface *links_find_index(const struct links *l, unsigned int ifindex);
unsigned int links_count(const struct links *l);
/* Id of the program the links run (0 if unknown). */
unsigned int links_prog_id(const struct links *l);

#endif
