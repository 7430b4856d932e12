// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The benchmark's traffic generator: run with BPF_PROG_RUN and
 * BPF_F_TEST_XDP_LIVE_FRAMES, each run of the program is one chance to
 * send the template frame out of an interface (XDP_REDIRECT). Pacing is a
 * token bucket inside the program: a run that comes before its time
 * returns XDP_DROP, which recycles the frame and costs little. User space
 * only calls the kernel with large repeat counts and reads the counters.
 *
 * The frame length follows a table of XPP_GEN_SLOTS sizes (one size for
 * fixed-size runs, the IMIX mix otherwise); length fields and the IPv4
 * header checksum are rewritten when the length changes. Live frames keep
 * what the program wrote and where data_end was left, from run to run.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "gen.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 out_ifindex;
const volatile __u32 ipv6;
/* Tables of 16 so that a masked index is always in bounds. */
const volatile __u16 sizes[16];
const volatile __u16 ip_csum[16]; /* IPv4 header checksums */

/* Written by user space before each run; read here. */
struct xpp_gen_ctl ctl[XPP_GEN_MAX_CPUS];
/* Written here, read by user space. */
struct xpp_gen_state state[XPP_GEN_MAX_CPUS];

static long wait_cb(__u64 i, void *ctx)
{
	return bpf_ktime_get_ns() * 1000 >= *(__u64 *)ctx;
}

static __always_inline int set_len(struct xdp_md *ctx, __u32 want)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 have = end - data;
	__u8 *p;

	if (have != want &&
	    bpf_xdp_adjust_tail(ctx, (int)want - (int)have))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	p = data;
	if (data + 14 + 40 + 8 > end)
		return -1;
	if (ipv6) {
		*(__u16 *)(p + 14 + 4) = bpf_htons(want - 14 - 40);
		*(__u16 *)(p + 14 + 40 + 4) = bpf_htons(want - 14 - 40);
	} else {
		*(__u16 *)(p + 14 + 2) = bpf_htons(want - 14);
		*(__u16 *)(p + 14 + 20 + 4) = bpf_htons(want - 14 - 20);
	}
	return 0;
}

SEC("xdp")
int xpp_gen(struct xdp_md *ctx)
{
	__u32 cpu = bpf_get_smp_processor_id() & (XPP_GEN_MAX_CPUS - 1);
	struct xpp_gen_state *s = &state[cpu];
	struct xpp_gen_ctl *c = &ctl[cpu];
	__u64 now = bpf_ktime_get_ns();
	__u32 slot;

	if (now >= c->deadline_ns || s->sent >= c->limit)
		return XDP_DROP;
	if (c->interval_ps) {
		/* Credit in picoseconds: sub-ns intervals stay exact. Do not
		 * save up more than a small burst after a stall. */
		__u64 now_ps = now * 1000;

		if (now_ps < s->next_ps) {
			__u64 until = s->next_ps;

			/* At most ~20 ms here; then drop and come back. */
			bpf_loop(1 << 20, wait_cb, &until, 0);
			now = bpf_ktime_get_ns();
			now_ps = now * 1000;
			if (now_ps < s->next_ps || now >= c->deadline_ns)
				return XDP_DROP;
		}
		if (now_ps - s->next_ps > XPP_GEN_BURST * c->interval_ps)
			s->next_ps = now_ps;
		s->next_ps += c->interval_ps;
	}
	slot = s->slot;
	s->slot = slot + 1 >= XPP_GEN_SLOTS ? 0 : slot + 1;
	asm volatile("%0 &= 15" : "+r"(slot));
	if (set_len(ctx, sizes[slot])) {
		s->errors++;
		return XDP_DROP;
	}
	if (!ipv6) {
		void *data = (void *)(long)ctx->data;
		void *end = (void *)(long)ctx->data_end;

		if (data + 14 + 20 > end)
			return XDP_DROP;
		*(__u16 *)(data + 14 + 10) = ip_csum[slot];
	}
	if (!s->sent)
		s->first_ns = now;
	s->last_ns = now;
	s->sent++;
	s->bytes += sizes[slot];
	return bpf_redirect(out_ifindex, 0);
}
