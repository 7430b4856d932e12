// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * flow_map: one XDP program per flow-table layout, for bench/flow_map_cost.
 * Each parses Ethernet, one optional VLAN tag, IPv4/IPv6 and the TCP/UDP
 * ports, builds a canonical bidirectional key (the lower address/port side
 * first, so both directions meet in one entry) and updates per-direction
 * counters, then drops the frame. The baseline does the same parse and key
 * and touches no map; xdp_ktime only reads the clock.
 *
 * mode: 0 = the frame's own flow, 1 = one of 4 flows (a counter picks
 * the source port), 2 = a new flow per packet (a 64-bit counter in the
 * key's addresses).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct flow_key {
	__u32 ifindex;
	__u16 vlan;
	__u8 ipver;
	__u8 proto;
	__u32 a[4], b[4];	/* canonical: a <= b (with the ports) */
	__u16 pa, pb;
};

struct dir_stats {
	__u64 packets, bytes, len_sq, len_min, len_max;
	__u64 first_ns, last_ns, iat_sum, iat_sq;
};

struct flow_val {
	struct bpf_spin_lock lock;
	__u32 pad;
	struct dir_stats d[2];	/* [0]: a -> b, [1]: b -> a */
};

struct flow_val_pc {
	__u64 pad;		/* same size as flow_val */
	struct dir_stats d[2];
};

#define FLOW_MAP(name, t, v)					\
	struct {						\
		__uint(type, t);				\
		__uint(max_entries, 65536);			\
		__type(key, struct flow_key);			\
		__type(value, v);				\
	} name SEC(".maps")

FLOW_MAP(hash_lock_map, BPF_MAP_TYPE_HASH, struct flow_val);
FLOW_MAP(hash_atomic_map, BPF_MAP_TYPE_HASH, struct flow_val);
FLOW_MAP(pcpu_map, BPF_MAP_TYPE_PERCPU_HASH, struct flow_val_pc);
FLOW_MAP(lru_lock_map, BPF_MAP_TYPE_LRU_HASH, struct flow_val);
FLOW_MAP(lru_atomic_map, BPF_MAP_TYPE_LRU_HASH, struct flow_val);
FLOW_MAP(lru_pcpu_map, BPF_MAP_TYPE_LRU_PERCPU_HASH, struct flow_val_pc);

/* Set from user space between runs. Plain (racy) counters: exact in the
 * single-thread runs that read them. */
__u32 mode;
__u64 seq;
__u64 inserted, exist_races, full_errs, other_errs, no_key;

static __always_inline int build_key(struct xdp_md *ctx, struct flow_key *k,
				     int *dir, __u64 *len)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u16 proto, sp = 0, dp = 0;
	void *l4;
	int i, swap = 0;

	if ((void *)(eth + 1) > end)
		return -1;
	__builtin_memset(k, 0, sizeof(*k));
	k->ifindex = ctx->ingress_ifindex;
	proto = eth->h_proto;
	l4 = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		__u16 *tag = l4;

		if ((void *)(tag + 2) > end)
			return -1;
		k->vlan = bpf_ntohs(tag[0]) & 0xfff;
		proto = tag[1];
		l4 = tag + 2;
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l4;

		if ((void *)(ip + 1) > end)
			return -1;
		k->ipver = 4;
		k->proto = ip->protocol;
		k->a[3] = ip->saddr;
		k->b[3] = ip->daddr;
		l4 = (void *)ip + ip->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l4;

		if ((void *)(ip6 + 1) > end)
			return -1;
		k->ipver = 6;
		k->proto = ip6->nexthdr;
		__builtin_memcpy(k->a, &ip6->saddr, 16);
		__builtin_memcpy(k->b, &ip6->daddr, 16);
		l4 = ip6 + 1;
	} else {
		return -1;
	}
	if (k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) <= end) {
			sp = bpf_ntohs(uh->source);
			dp = bpf_ntohs(uh->dest);
		}
	}
	if (mode == 1) {
		sp ^= seq++ & 3;
	} else if (mode == 2) {
		__u64 s = seq++;

		k->a[0] ^= (__u32)s;
		k->a[1] ^= (__u32)(s >> 32);
	}
	k->pa = sp;
	k->pb = dp;
	*len = (__u64)(end - data);
	/* Any total order will do: compare the addresses word by word,
	 * then the ports. */
#pragma unroll
	for (i = 0; i < 4; i++) {
		if (k->a[i] != k->b[i]) {
			swap = k->a[i] > k->b[i];
			goto decided;
		}
	}
	swap = sp > dp;
decided:
	if (swap) {
#pragma unroll
		for (i = 0; i < 4; i++) {
			__u32 t = k->a[i];

			k->a[i] = k->b[i];
			k->b[i] = t;
		}
		k->pa = dp;
		k->pb = sp;
	}
	*dir = swap;
	return 0;
}

static __always_inline void dir_update(struct dir_stats *d, __u64 len,
				       __u64 now)
{
	if (d->packets) {
		__u64 iat = now - d->last_ns;

		d->iat_sum += iat;
		d->iat_sq += iat * iat;
	} else {
		d->first_ns = now;
		d->len_min = len;
	}
	d->packets++;
	d->bytes += len;
	d->len_sq += len * len;
	if (len < d->len_min)
		d->len_min = len;
	if (len > d->len_max)
		d->len_max = len;
	d->last_ns = now;
}

static __always_inline void dir_update_atomic(struct dir_stats *d, __u64 len,
					      __u64 now)
{
	/* Sums atomically; min, max and the timestamps can only be plain
	 * (racy) stores: no atomic min/max in BPF. */
	__u64 last = d->last_ns;

	if (last) {
		__u64 iat = now - last;

		__sync_fetch_and_add(&d->iat_sum, iat);
		__sync_fetch_and_add(&d->iat_sq, iat * iat);
	}
	__sync_fetch_and_add(&d->packets, 1);
	__sync_fetch_and_add(&d->bytes, len);
	__sync_fetch_and_add(&d->len_sq, len * len);
	if (len < d->len_min)
		d->len_min = len;
	if (len > d->len_max)
		d->len_max = len;
	d->last_ns = now;
}

#define EEXIST 17
#define E2BIG 7

static __always_inline void count_insert(long err)
{
	if (!err)
		inserted++;
	else if (err == -EEXIST)
		exist_races++;
	else if (err == -E2BIG)
		full_errs++;
	else
		other_errs++;
}

enum { UPD_LOCK, UPD_ATOMIC, UPD_PLAIN };

/*
 * Look the flow up, insert it with BPF_NOEXIST on a miss (a lost race is
 * -EEXIST: look it up again), then update one direction: under the
 * value's spin lock, with atomics, or with plain adds (per-CPU maps: the
 * values have the same size and layout, the lock's place unused).
 */
static __always_inline int upd(struct xdp_md *ctx, void *map, int how)
{
	struct flow_key k;
	struct flow_val *v, init;
	struct dir_stats *d;
	__u64 len, now;
	int dir;
	long err;

	if (build_key(ctx, &k, &dir, &len)) {
		no_key++;
		return XDP_DROP;
	}
	now = bpf_ktime_get_ns();
	v = bpf_map_lookup_elem(map, &k);
	if (!v) {
		/* A per-CPU insert sets this CPU's copy; the others start
		 * zeroed. */
		__builtin_memset(&init, 0, sizeof(init));
		d = dir ? &init.d[1] : &init.d[0];
		d->packets = 1;
		d->bytes = len;
		d->len_sq = len * len;
		d->len_min = len;
		d->len_max = len;
		d->first_ns = now;
		d->last_ns = now;
		err = bpf_map_update_elem(map, &k, &init, BPF_NOEXIST);
		count_insert(err);
		if (err != -EEXIST)
			return XDP_DROP;
		v = bpf_map_lookup_elem(map, &k);
		if (!v)
			return XDP_DROP;
	}
	d = dir ? &v->d[1] : &v->d[0];
	if (how == UPD_ATOMIC) {
		dir_update_atomic(d, len, now);
	} else if (how == UPD_LOCK) {
		bpf_spin_lock(&v->lock);
		dir_update(d, len, now);
		bpf_spin_unlock(&v->lock);
	} else {
		dir_update(d, len, now);
	}
	return XDP_DROP;
}

SEC("xdp")
int xdp_base(struct xdp_md *ctx)
{
	struct flow_key k;
	__u64 len;
	int dir;

	if (build_key(ctx, &k, &dir, &len)) {
		no_key++;
		return XDP_DROP;
	}
	/* Keep the key alive without a map: fold it into a counter. */
	other_errs += (k.pa ^ k.a[0] ^ dir) == 0xffffffff;
	return XDP_DROP;
}

SEC("xdp")
int xdp_ktime(struct xdp_md *ctx)
{
	other_errs += bpf_ktime_get_ns() == 0;
	return XDP_DROP;
}

SEC("xdp")
int xdp_hash_lock(struct xdp_md *ctx)
{
	return upd(ctx, &hash_lock_map, UPD_LOCK);
}

SEC("xdp")
int xdp_hash_atomic(struct xdp_md *ctx)
{
	return upd(ctx, &hash_atomic_map, UPD_ATOMIC);
}

SEC("xdp")
int xdp_pcpu(struct xdp_md *ctx)
{
	return upd(ctx, &pcpu_map, UPD_PLAIN);
}

SEC("xdp")
int xdp_lru_lock(struct xdp_md *ctx)
{
	return upd(ctx, &lru_lock_map, UPD_LOCK);
}

/* The kernel refuses a bpf_spin_lock in an LRU map's value
 * (EOPNOTSUPP); the same map with atomics is the measurable LRU shared
 * layout. */
SEC("xdp")
int xdp_lru_atomic(struct xdp_md *ctx)
{
	return upd(ctx, &lru_atomic_map, UPD_ATOMIC);
}

SEC("xdp")
int xdp_lru_pcpu(struct xdp_md *ctx)
{
	return upd(ctx, &lru_pcpu_map, UPD_PLAIN);
}
