/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The binary record stream (subscribe with format "binary", and
 * `xdpctl extract --format binary`): this 16-byte header, then records of
 * record_size bytes back to back: packet records, or flow records when
 * flags has XPP_STREAM_F_FLOWS. A record whose version byte is 0 is a
 * loss marker: its ts_ns holds how many records the stream lost at that
 * point. See docs/protocol.md.
 */
#ifndef XPP_STREAM_H
#define XPP_STREAM_H

#include <linux/types.h>

/* Bits of xpp_stream_header.flags */
enum {
	/* Records' ts_ns hold wall-clock time (ns since the epoch, as in a
	 * capture file) instead of the kernel's CLOCK_MONOTONIC. */
	XPP_STREAM_F_WALLCLOCK = 1 << 0,
	/* The records are flows, struct xpp_flow_record (xpp/flow.h):
	 * record_version is XPP_FLOW_VERSION. Their times are always
	 * wall-clock. A loss marker is a flow record whose version byte is
	 * 0, with the count lost in flow.bidir.packets. */
	XPP_STREAM_F_FLOWS = 1 << 1,
};

/* "XPPR" as bytes on the wire, read as a little-endian u32. */
#define XPP_STREAM_MAGIC 0x52505058u

struct xpp_stream_header {
	__u32 magic;	      /* XPP_STREAM_MAGIC, host byte order */
	__u16 record_version; /* XPP_RECORD_VERSION */
	__u16 record_size;    /* sizeof(struct xpp_record) */
	__u32 flags;	      /* XPP_STREAM_F_* */
	__u32 reserved;	      /* 0 */
};

_Static_assert(sizeof(struct xpp_stream_header) == 16,
	       "the stream header is 16 bytes");

#endif
