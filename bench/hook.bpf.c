// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The benchmark's hooks for the variants that are not xdp-preprocd. Each
 * counts the frames at the XDP hook (so every variant has the same arrival
 * count):
 *
 *   xpp_hook           a fixed verdict, the frame never read: XDP_PASS for
 *                      the socket baselines, XDP_DROP for the ceiling of
 *                      the set-up (bare drop)
 *   xpp_touch_drop     reads the Ethernet, IP and L4 headers (the loads a
 *                      parser cannot avoid, so the frame's cache line is
 *                      taken) and drops: the ceiling of any parser
 *   xpp_touch_ts_drop  the same plus bpf_ktime_get_ns() per frame: the
 *                      ceiling of a parser that timestamps each frame
 *
 * The touch programs fold what they read (and the timestamp) into the
 * per-CPU value, so that no load is optimised away.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "hook.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 verdict = XDP_PASS;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xpp_hook_count);
} arrivals SEC(".maps");

SEC("xdp")
int xpp_hook(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct xpp_hook_count *n = bpf_map_lookup_elem(&arrivals, &zero);

	if (n)
		n->packets++;
	return verdict;
}

/* The header fields a flow parser needs, summed: EtherType (after one
 * VLAN tag), addresses, protocol, TTL or hop limit, ports. */
static __always_inline __u64 touch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *p = data;
	__u64 sum = 0;
	__u16 type;
	__u8 proto;

	if (p + 14 > (__u8 *)end)
		return 0;
	type = *(__u16 *)(p + 12);
	p += 14;
	if (type == bpf_htons(ETH_P_8021Q) || type == bpf_htons(ETH_P_8021AD)) {
		if (p + 4 > (__u8 *)end)
			return 1;
		sum += *(__u16 *)p;
		type = *(__u16 *)(p + 2);
		p += 4;
	}
	sum += type;
	if (type == bpf_htons(ETH_P_IP)) {
		if (p + 20 > (__u8 *)end)
			return sum;
		proto = p[9];
		sum += (__u64)proto + p[8] + *(__u32 *)(p + 12) +
		       *(__u32 *)(p + 16);
		p += (p[0] & 15) * 4;
	} else if (type == bpf_htons(ETH_P_IPV6)) {
		if (p + 40 > (__u8 *)end)
			return sum;
		proto = p[6];
		sum += (__u64)proto + p[7] + *(__u64 *)(p + 8) +
		       *(__u64 *)(p + 16) + *(__u64 *)(p + 24) +
		       *(__u64 *)(p + 32);
		p += 40;
	} else {
		return sum;
	}
	if ((proto == IPPROTO_UDP || proto == IPPROTO_TCP) &&
	    p + 4 <= (__u8 *)end)
		sum += *(__u32 *)p;
	return sum;
}

static __always_inline int touch_drop(struct xdp_md *ctx, int stamp)
{
	__u32 zero = 0;
	struct xpp_hook_count *n = bpf_map_lookup_elem(&arrivals, &zero);

	if (n) {
		n->packets++;
		n->sum += touch(ctx) + (stamp ? bpf_ktime_get_ns() : 0);
	}
	return XDP_DROP;
}

SEC("xdp")
int xpp_touch_drop(struct xdp_md *ctx)
{
	return touch_drop(ctx, 0);
}

SEC("xdp")
int xpp_touch_ts_drop(struct xdp_md *ctx)
{
	return touch_drop(ctx, 1);
}
