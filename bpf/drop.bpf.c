// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The floor every benchmark is measured against: drop, touch nothing. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int xpp_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}
