/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The output formats of records, shared by live subscriptions (the daemon)
 * and offline extraction (xdpctl extract), so both write the same bytes
 * for the same record. docs/protocol.md describes them.
 */
#ifndef XPP_FORMAT_H
#define XPP_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "xpp/record.h"

enum xpp_format {
	XPP_FMT_NDJSON,
	XPP_FMT_CSV,
	XPP_FMT_BINARY,
};

int xpp_format_parse(const char *s, enum xpp_format *ret);
const char *xpp_format_name(enum xpp_format f);

/* The CSV header line, with its newline. */
extern const char xpp_csv_header[];

/* CLOCK_REALTIME minus CLOCK_MONOTONIC, now. */
int64_t xpp_wall_offset_ns(void);

/* Address as text: dotted quad for IPv4-mapped, IPv6 otherwise. */
void xpp_addr_str(const __u8 a[16], char *buf, size_t sz);

/* Bytes a text line of one record never reaches: every flag set, IPv6
 * addresses of the longest text form and every number at its widest come
 * to 631 bytes of NDJSON (checked by tests/bpf/test_record.c). */
#define XPP_FORMAT_MAX 1024

/*
 * One record as an NDJSON or CSV line, newline included; wall_ns is its
 * wall-clock time (ns since the epoch). Returns the length, or -1 when
 * buf is too small (XPP_FORMAT_MAX bytes always suffice).
 */
int xpp_format_text(const struct xpp_record *r, enum xpp_format fmt,
		    uint64_t wall_ns, char *buf, size_t sz);

#endif
