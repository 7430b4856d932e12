/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The loaded XDP program with its maps and per-CPU rings: what the daemon,
 * the offline extractor and the tests load. Library code: it logs at debug
 * level only and returns negative errno values; callers decide what to say.
 */
#ifndef XPP_DATAPATH_H
#define XPP_DATAPATH_H

#include <stdbool.h>
#include <stddef.h>

#include "xpp/maps.h"
#include "xpp/record.h"

#define XPP_RING_BYTES_MIN (64 * 1024)
#define XPP_RING_BYTES_MAX (1024 * 1024 * 1024)
#define XPP_RING_BYTES_DEFAULT (4 * 1024 * 1024)

struct xpp_datapath_opts {
	/* Bytes per CPU ring: a power of two, at least XPP_RING_BYTES_MIN.
	 * 0 selects XPP_RING_BYTES_DEFAULT. */
	unsigned int ring_bytes;
};

struct xpp_datapath;

/* Opens and loads the embedded program, creates one ring per possible CPU.
 * Returns NULL with errno set. */
struct xpp_datapath *xpp_datapath__open(const struct xpp_datapath_opts *opts);
void xpp_datapath__destroy(struct xpp_datapath *dp);

int xpp_datapath__prog_fd(const struct xpp_datapath *dp);
unsigned int xpp_datapath__ring_count(const struct xpp_datapath *dp);
int xpp_datapath__ring_fd(const struct xpp_datapath *dp, unsigned int ring);

int xpp_datapath__config_get(const struct xpp_datapath *dp,
			     struct xpp_config *ret);
int xpp_datapath__config_set(struct xpp_datapath *dp,
			     const struct xpp_config *cfg);

/* Sums the per-CPU counters of one interface. -ENOENT if it has none. */
int xpp_datapath__counters(const struct xpp_datapath *dp, unsigned int ifindex,
			   struct xpp_counters *ret);
/* Counters of interfaces that found the per-interface table full. */
int xpp_datapath__counters_overflow(const struct xpp_datapath *dp,
				    struct xpp_counters *ret);
/* Forgets every interface's counters (the per-CPU state stays). */
int xpp_datapath__counters_clear(struct xpp_datapath *dp);

/* Config helpers. */
void xpp_config_init(struct xpp_config *cfg);
void xpp_config_set_proto(struct xpp_config *cfg, unsigned int proto);
void xpp_config_set_port(struct xpp_config *cfg, unsigned int port);
bool xpp_config_has_proto(const struct xpp_config *cfg, unsigned int proto);
bool xpp_config_has_port(const struct xpp_config *cfg, unsigned int port);

/* Record reader: drains every ring, calling fn once per record in ring
 * order. fn returns 0 to go on, non-zero to stop the drain early. */
typedef int (*xpp_record_fn)(void *ctx, const struct xpp_record *r);

struct xpp_reader;

struct xpp_reader *xpp_reader__new(const struct xpp_datapath *dp,
				   xpp_record_fn fn, void *ctx);
void xpp_reader__free(struct xpp_reader *rd);
/* Consumes what is in the rings now; returns records read or -errno. */
int xpp_reader__drain(struct xpp_reader *rd);
/* Readable when a ring was woken up (see xpp_config.wakeup_bytes). */
int xpp_reader__epoll_fd(const struct xpp_reader *rd);
/* Entries of an unexpected size seen (a foreign writer): never records. */
unsigned long long xpp_reader__bad_size(const struct xpp_reader *rd);

#endif /* XPP_DATAPATH_H */
