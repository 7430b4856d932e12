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

/* Flows the kernel's table holds (config flow_table_size). */
#define XPP_FLOW_ENTRIES_MIN 1024
#define XPP_FLOW_ENTRIES_MAX (16 * 1024 * 1024)
#define XPP_FLOW_ENTRIES_DEFAULT 65536
/* The ring of flows the program ends itself (struct xpp_flow_export,
 * 952 bytes with the ring's header: about 4 400 flows). */
#define XPP_FLOW_RING_BYTES (4 * 1024 * 1024)
/* Flow timeouts by default (docs/flows.md), in seconds, and the TCP end's
 * grace in ns. */
#define XPP_IDLE_TIMEOUT_DEFAULT 120
#define XPP_ACTIVE_TIMEOUT_DEFAULT 1800
#define XPP_TIMEOUT_MAX (10 * 365 * 24 * 3600)
#define XPP_END_GRACE_NS 1000000000ULL

struct xpp_datapath_opts {
	/* Bytes per CPU ring: a power of two, at least XPP_RING_BYTES_MIN.
	 * 0 selects XPP_RING_BYTES_DEFAULT. Ignored when pinned rings are
	 * adopted: they keep the size they were made with. */
	unsigned int ring_bytes;
	/* Flows the kernel's table holds, XPP_FLOW_ENTRIES_MIN to _MAX; 0
	 * selects XPP_FLOW_ENTRIES_DEFAULT. Adopted pins keep theirs. */
	unsigned int flow_entries;
	/* bpffs directory to pin the maps in (must exist), or NULL to keep
	 * them private to this process. Maps pinned there by the same
	 * schema are adopted; others are refused. */
	const char *pin_root;
	/* Where to put a message for the user when open fails. */
	char *errbuf;
	size_t errbuf_sz;
};

struct xpp_datapath;

/* Opens and loads the embedded program, creates one ring per possible CPU
 * (ring_bytes / 80 records each).
 * Returns NULL with errno set. */
struct xpp_datapath *xpp_datapath__open(const struct xpp_datapath_opts *opts);
void xpp_datapath__destroy(struct xpp_datapath *dp);
/* The maps came from pins left by an earlier run. */
bool xpp_datapath__adopted(const struct xpp_datapath *dp);
unsigned int xpp_datapath__ring_bytes(const struct xpp_datapath *dp);
/* Records consumed from and written to a ring since it was made: they
 * only grow, and survive restarts with the pinned rings. */
void xpp_datapath__ring_positions(const struct xpp_datapath *dp,
				  unsigned int ring,
				  unsigned long long *ret_consumed,
				  unsigned long long *ret_produced);
/* Records a ring holds: ring_bytes / sizeof(struct xpp_record). */
unsigned int xpp_datapath__ring_slots(const struct xpp_datapath *dp);

int xpp_datapath__prog_fd(const struct xpp_datapath *dp);
/* The flow table (struct xpp_flow_key -> entry with a struct xpp_flow
 * after its lock) and the ring of flows the program ended itself. */
/* The reader's waiting word now (struct xpp_ring_pos.wait): XPP_WAIT_*
 * bits, 0 while the reader is not waiting. */
unsigned long long xpp_datapath__wait_word(const struct xpp_datapath *dp);
int xpp_datapath__flows_fd(const struct xpp_datapath *dp);
int xpp_datapath__flow_ring_fd(const struct xpp_datapath *dp);
unsigned int xpp_datapath__flow_entries(const struct xpp_datapath *dp);
unsigned int xpp_datapath__ring_count(const struct xpp_datapath *dp);

int xpp_datapath__config_get(const struct xpp_datapath *dp,
			     struct xpp_config *ret);
int xpp_datapath__config_set(struct xpp_datapath *dp,
			     const struct xpp_config *cfg);

/* Sums the per-CPU counters of one interface. -ENOENT if it has none
 * (never registered with xpp_datapath__counters_init: its frames are
 * counted in the overflow slot). */
int xpp_datapath__counters(const struct xpp_datapath *dp, unsigned int ifindex,
			   struct xpp_counters *ret);
/* Adds every counter of c to sum. */
void xpp_counters_add(struct xpp_counters *sum, const struct xpp_counters *c);
/* Counters of frames from interfaces without a slot of their own. */
int xpp_datapath__counters_overflow(const struct xpp_datapath *dp,
				    struct xpp_counters *ret);
/* Gives ifindex a zeroed counters slot unless it has one; -ENOSPC when
 * all XPP_MAX_IFACES slots are taken (its frames count as overflow). */
int xpp_datapath__counters_init(struct xpp_datapath *dp, unsigned int ifindex);
int xpp_datapath__counters_delete(struct xpp_datapath *dp,
				  unsigned int ifindex);
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
/* Consumes what is in the rings now (the one reader of the rings);
 * returns records read, or the callback's negative error. */
int xpp_reader__drain(struct xpp_reader *rd);
/*
 * Before blocking: sets the waiting word to bits (XPP_WAIT_*), then looks
 * at every ring once more. Returns true when the caller may block (the
 * first record to come wakes it through the epoll fd), false when a ring
 * holds records (the word is clear again: drain instead).
 */
bool xpp_reader__wait_prepare(struct xpp_reader *rd, unsigned int bits);
/* After blocking, whatever woke it: clears the word so that no producer
 * sends a wakeup while the caller is busy. Returns true when the word was
 * still set (nothing in the rings woke it). */
bool xpp_reader__wait_end(struct xpp_reader *rd);
/* Readable when a producer found the waiting word set. */
int xpp_reader__epoll_fd(const struct xpp_reader *rd);
/* Wakeup tokens the program sent (one per wait), as drained. */
unsigned long long xpp_reader__wakeups(const struct xpp_reader *rd);

#endif /* XPP_DATAPATH_H */
