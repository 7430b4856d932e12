/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Flows out of the kernel: the ring of flows the program ended itself, the
 * scan that ends the flows no packet came for, and the flow record's text
 * formats. Shared by the daemon (live, on the kernel's clock) and xdpctl
 * extract (on the capture's clock), so both export the same flows the same
 * way. docs/flows.md defines what a flow holds and when it ends.
 *
 * Library code: returns negative errno values and logs nothing.
 */
#ifndef XPP_FLOWS_H
#define XPP_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datapath.h"
#include "format.h"
#include "xpp/flow.h"

/* How often the table is scanned for due flows: live on the kernel's
 * clock, offline on the capture's. */
#define XPP_FLOW_SCAN_NS 1000000000ULL

/* Called once per ended flow, in the order they ended. Returns 0 to go
 * on, or a negative errno to stop (passed on to the caller). */
typedef int (*xpp_flow_fn)(void *ctx, const struct xpp_flow_export *x);

struct xpp_flows;

/* The flows of dp. NULL with errno set. */
struct xpp_flows *xpp_flows__new(const struct xpp_datapath *dp, xpp_flow_fn fn,
				 void *ctx);
void xpp_flows__free(struct xpp_flows *fl);
/* Readable when the program has ended flows waiting in its ring. */
int xpp_flows__epoll_fd(const struct xpp_flows *fl);
/* Hands over the flows the program ended itself. Returns how many, or
 * the callback's value, or a negative errno. */
int xpp_flows__consume(struct xpp_flows *fl);
/*
 * Ends every flow of the table that is due at now (ns, the clock of the
 * flows' timestamps: CLOCK_MONOTONIC live, the capture's offline) under
 * the timeouts of cfg, and with force every other flow too (reason
 * forced). The ring is consumed first, so flows come out in the order
 * they ended. Returns the flows ended (and *ret_active, when not NULL,
 * the flows left in the table), or a negative errno.
 */
int xpp_flows__scan(struct xpp_flows *fl, uint64_t now,
		    const struct xpp_config *cfg, bool force,
		    unsigned int *ret_active);
/* A scan that forces the flows of one interface (an interface detached
 * or gone) and ends the others only when due. */
int xpp_flows__scan_iface(struct xpp_flows *fl, uint64_t now,
			  const struct xpp_config *cfg, unsigned int ifindex,
			  unsigned int *ret_active);
/*
 * A read-only snapshot of the table: the n flows with the most
 * bidirectional bytes into ret (largest first, end_reason 0), how many
 * in *ret_n and the flows read in *ret_total. Deletes nothing and takes
 * no flow from the ring. Returns 0 or a negative errno.
 */
int xpp_flows__top(struct xpp_flows *fl, struct xpp_flow_export *ret,
		   unsigned int n, unsigned int *ret_n,
		   unsigned int *ret_total);

/*
 * The flow record of an ended flow: oriented from its initiator, times
 * moved by wall_offset_ns (live: CLOCK_REALTIME - CLOCK_MONOTONIC; 0 for a
 * capture), means and standard deviations by docs/flows.md's formulas.
 * accounting and splt_len: the configuration the flow was counted under.
 */
void xpp_flow_record_make(const struct xpp_flow_export *x,
			  int64_t wall_offset_ns, unsigned int accounting,
			  unsigned int splt_len, struct xpp_flow_record *ret);

/* mean and sample standard deviation of n values with sum s and 128-bit
 * sum of squares q ({low, high}): docs/flows.md, "The formulas". */
double xpp_flow_mean(uint64_t n, uint64_t s);
double xpp_flow_stddev(uint64_t n, uint64_t s, const __u64 q[2]);

/* Column names and units: ours (ns) or NFStream's (ms). */
enum xpp_flow_columns {
	XPP_COLUMNS_NS,
	XPP_COLUMNS_NFSTREAM,
};

int xpp_flow_columns_parse(const char *s, enum xpp_flow_columns *ret);
int xpp_flow_accounting_parse(const char *s, unsigned int *ret);
const char *xpp_flow_accounting_name(unsigned int a);
const char *xpp_flow_end_name(unsigned int reason);

/* A text line of one flow never reaches this many bytes. */
#define XPP_FLOW_FORMAT_MAX 16384

/* The CSV header line (newline included) into buf; returns its length,
 * or -1 when buf is too small. */
int xpp_flow_csv_header(enum xpp_flow_columns cols, char *buf, size_t sz);
/* One flow as an NDJSON or CSV line, newline included. Returns its
 * length, or -1 when buf is too small (XPP_FLOW_FORMAT_MAX suffices). */
int xpp_flow_format_text(const struct xpp_flow_record *f,
			 enum xpp_format fmt, enum xpp_flow_columns cols,
			 char *buf, size_t sz);

#endif
