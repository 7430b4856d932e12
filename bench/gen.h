/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared between the traffic generator's BPF program and its loader. */
#ifndef XPP_BENCH_GEN_H
#define XPP_BENCH_GEN_H

#include <linux/types.h>

#define XPP_GEN_MAX_CPUS 64 /* power of two */
#define XPP_GEN_SLOTS 12    /* IMIX 7:4:1 fits a 12-slot table */
#define XPP_GEN_BURST 64    /* frames sent back to back after a stall */

struct xpp_gen_ctl {
	__u64 deadline_ns; /* CLOCK_MONOTONIC: send nothing after this */
	__u64 limit;	   /* frames to send in all */
	__u64 interval_ps; /* time between frames; 0: as fast as possible */
};

struct xpp_gen_state {
	__u64 sent;
	__u64 bytes;
	__u64 errors;
	__u64 next_ps;
	__u64 first_ns;
	__u64 last_ns;
	__u64 slot;   /* next entry of the size table */
	__u64 pad;    /* one cache line per CPU */
};

#endif
