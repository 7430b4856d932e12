/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared between the benchmark's hook programs and their loaders. */
#ifndef XPP_BENCH_HOOK_H
#define XPP_BENCH_HOOK_H

#include <linux/types.h>

/* The per-CPU value of the hooks' one map. */
struct xpp_hook_count {
	__u64 packets; /* frames seen at the hook */
	__u64 sum;     /* what the touch programs read, kept live */
};

#endif
