// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The benchmark's hook for the variants that are not xdp-preprocd: count
 * each frame at the XDP hook (so every variant has the same arrival
 * count) and return a fixed verdict: XDP_PASS for the socket baselines,
 * XDP_DROP for the ceiling of the set-up.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 verdict = XDP_PASS;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} arrivals SEC(".maps");

SEC("xdp")
int xpp_hook(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&arrivals, &zero);

	if (n)
		(*n)++;
	return verdict;
}
