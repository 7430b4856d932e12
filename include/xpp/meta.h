/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a capture file knows about a frame and a live frame has from the
 * kernel: handed to the XDP program by xdpctl extract in the XDP metadata
 * area in front of the frame (BPF_PROG_TEST_RUN with ctx_in.data_meta = 0,
 * ctx_in.data = sizeof(struct xpp_frame_meta); kernel selftests
 * prog_tests/xdp_context_test_run.c). On the live path there is no
 * metadata (data_meta == data) and the program uses the frame itself and
 * bpf_ktime_get_ns(). The magic tells ours from metadata another program
 * may have put there.
 *
 * Host byte order. Size a multiple of 4 and at most 32 bytes (the
 * kernel's limit for test-run metadata).
 */
#ifndef XPP_FRAME_META_H
#define XPP_FRAME_META_H

#include <linux/types.h>

#define XPP_FRAME_META_MAGIC 0x4d505058 /* "XPPM" in little-endian memory */

/* xpp_frame_meta.pkt_type when the capture does not say. */
#define XPP_FRAME_META_NO_PKT_TYPE 0xffff

struct xpp_frame_meta {
	__u32 magic;	/* 0: XPP_FRAME_META_MAGIC */
	__u32 wire_len; /* 4: frame length on the wire without FCS, >= the
			 * bytes handed to the program (which may be cut by
			 * the snap length or the test-run limit) */
	__u64 ts_ns;	/* 8: capture timestamp, ns since the Unix epoch */
	__u32 ifindex;	/* 16: interface the capture names (SLL/SLL2 index,
			 * pcapng interface id + 1), 0 when none */
	__u16 pkt_type; /* 20: SLL packet type (PACKET_HOST...), or
			 * XPP_FRAME_META_NO_PKT_TYPE */
	__u16 reserved; /* 22: 0 */
};

_Static_assert(sizeof(struct xpp_frame_meta) == 24 &&
		       sizeof(struct xpp_frame_meta) % 4 == 0,
	       "struct xpp_frame_meta: 24 bytes, a multiple of 4, at most 32");

#endif /* XPP_FRAME_META_H */
