// SPDX-License-Identifier: GPL-2.0-only
/*
 * prog_cost: kernel cost per packet of the xdp-preprocd program, measured
 * with BPF_PROG_TEST_RUN next to a bare XDP_DROP, the benchmark's
 * touch-and-drop hooks (bench/hook.bpf.c: read the headers and drop; the
 * same plus bpf_ktime_get_ns()) and a parse-only build of the same parser,
 * in the same run, rounds interleaved so that machine noise hits every
 * program alike. Reports min/median/max ns per packet and the ratios of
 * the medians. Test-run hands the program the same frame each time, in
 * cache: the frame's cache miss that a live receive path takes is not in
 * these figures (bench/run measures that), the timestamp's cost is
 * (touch_ts_drop - touch_drop).
 *
 * The full program runs in three configurations: packet records only
 * (the default: row xdp_preprocd), flows only (flows = on, records = off:
 * row flows) and both (records+flows). Records
 * are drained between batches (drain time not counted), so the figure is
 * the producer's own cost with a warm, non-full ring; with flows, every
 * packet of a batch hits the one flow of its frame (the table's hit path;
 * bench/flow_map_cost measures inserts).
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <unistd.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/in.h>
#include <linux/in6.h>

#include "datapath.h"
#include "log.h"
#include "pkt.h"
#include "testrun.h"
#include "xpp_drop.skel.h"
#include "xpp_hook.skel.h"
#include "xpp_parse.skel.h"

#define MAX_ROUNDS 64

struct frame {
	const char *name;
	struct pkt p;
};

struct prog {
	const char *name;
	int fd;
	/* The full program's configuration for this row; NULL: another
	 * program. */
	const struct xpp_config *cfg;
	double ns[MAX_ROUNDS];
};

/* The rows, in the order printed; the ratios are against P_PARSE and
 * P_RECORDS. */
enum { P_DROP, P_TOUCH, P_TOUCH_TS, P_PARSE, P_RECORDS, P_FLOWS, P_BOTH,
       NPROGS };

static unsigned long long discard;

static int count_record(void *ctx, const struct xpp_record *r)
{
	discard += r->seq;
	return 0;
}

static void build_frames(struct frame *f)
{
	f[0].name = "ipv4-udp-64";
	pkt_init(&f[0].p);
	pkt_eth(&f[0].p, ETH_P_IP);
	pkt_ipv4(&f[0].p, "198.18.0.1", "198.19.0.1", IPPROTO_UDP, 64, 5, 0);
	pkt_udp(&f[0].p, 1024, 9);
	pkt_payload(&f[0].p, 64 - 42, 0);
	pkt_finish(&f[0].p);

	f[1].name = "ipv6-tcp-ext-90";
	pkt_init(&f[1].p);
	pkt_eth(&f[1].p, ETH_P_IPV6);
	pkt_ipv6(&f[1].p, "2001:2::1", "2001:2::2", IPPROTO_HOPOPTS, 64);
	pkt_ext(&f[1].p, IPPROTO_HOPOPTS, IPPROTO_TCP, 0);
	pkt_tcp(&f[1].p, 443, 50000, 0x10, 512);
	pkt_finish(&f[1].p);

	f[2].name = "vlan-ipv4-tcp-512";
	pkt_init(&f[2].p);
	pkt_eth(&f[2].p, ETH_P_8021Q);
	pkt_vlan(&f[2].p, 100, ETH_P_IP);
	pkt_ipv4(&f[2].p, "198.18.0.1", "198.19.0.1", IPPROTO_TCP, 64, 5, 0);
	pkt_tcp(&f[2].p, 80, 40000, 0x18, 1000);
	pkt_payload(&f[2].p, 512 - 58, 0);
	pkt_finish(&f[2].p);
}

/* Each program attached to a veth of a private namespace while it runs
 * (bench_netns_enter says why). */
static int dispatcher_pin(struct prog *progs, int n)
{
	char dev[16];
	int i, ifindex;

	if (bench_netns_enter("xpp-cost", "pc", n))
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(dev, sizeof(dev), "pc%d", i);
		ifindex = if_nametoindex(dev);
		if (!ifindex || bpf_xdp_attach(ifindex, progs[i].fd,
					       XDP_FLAGS_DRV_MODE, NULL))
			return -1;
	}
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: prog_cost [--rounds N] [--repeat N] [--json FILE]\n"
		"Kernel cost per packet (BPF_PROG_TEST_RUN) of the xdp-preprocd\n"
		"program next to XDP_DROP, touch-and-drop (with and without a\n"
		"timestamp) and a parse-only build.\n"
		"  --rounds N   interleaved rounds per program (default 7, max %d)\n"
		"  --repeat N   packets per round (default 2000000)\n"
		"  --json FILE  also write the results as JSON to FILE\n",
		MAX_ROUNDS);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct xpp_datapath_opts dpo = { .ring_bytes = 64 << 20 };
	unsigned int rounds = 7, repeat = 2000000, batch, i, r, f;
	const char *json = NULL;
	struct frame frames[3];
	struct xpp_datapath *dp;
	struct xpp_reader *rd;
	struct xpp_parse_bpf *parse;
	struct xpp_drop_bpf *drop;
	struct xpp_hook_bpf *hook;
	struct prog progs[NPROGS];
	struct xpp_config records, flows, both;
	cpu_set_t set;
	FILE *jf = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rounds = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			repeat = strtoul(optarg, NULL, 10);
			break;
		case 'j':
			json = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || repeat < 1000) {
		fprintf(stderr, "prog_cost: --rounds must be 1..%d and "
				"--repeat at least 1000\n", MAX_ROUNDS);
		return 2;
	}
	xpp_log_init("prog_cost", LOG_WARNING);
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu(), &set);
	sched_setaffinity(0, sizeof(set), &set);

	dp = xpp_datapath__open(&dpo);
	parse = xpp_parse_bpf__open_and_load();
	drop = xpp_drop_bpf__open_and_load();
	hook = xpp_hook_bpf__open_and_load();
	if (!dp || !parse || !drop || !hook) {
		fprintf(stderr, "prog_cost: loading the programs failed: %s "
				"(run as root)\n", strerror(errno));
		return 1;
	}
	rd = xpp_reader__new(dp, count_record, NULL);
	if (!rd) {
		fprintf(stderr, "prog_cost: ring reader: %s\n", strerror(errno));
		return 1;
	}
	xpp_config_init(&records);
	flows = records;
	flows.flags |= XPP_CFG_FLOWS | XPP_CFG_NO_RECORDS;
	both = records;
	both.flags |= XPP_CFG_FLOWS;
	progs[P_DROP] = (struct prog){ "xdp_drop",
				       bpf_program__fd(drop->progs.xpp_drop) };
	progs[P_TOUCH] = (struct prog){ "touch_drop",
			bpf_program__fd(hook->progs.xpp_touch_drop) };
	progs[P_TOUCH_TS] = (struct prog){ "touch_ts_drop",
			bpf_program__fd(hook->progs.xpp_touch_ts_drop) };
	progs[P_PARSE] = (struct prog){ "parse_only",
				bpf_program__fd(parse->progs.xpp_xdp) };
	progs[P_RECORDS] = (struct prog){ "xdp_preprocd",
				xpp_datapath__prog_fd(dp), &records };
	progs[P_FLOWS] = (struct prog){ "flows", xpp_datapath__prog_fd(dp),
				&flows };
	progs[P_BOTH] = (struct prog){ "records+flows",
				xpp_datapath__prog_fd(dp), &both };
	if (dispatcher_pin(progs, NPROGS))
		fprintf(stderr, "prog_cost: warning: could not attach the "
				"programs to a private veth; figures include "
				"the XDP dispatcher's rebuild per call\n");
	build_frames(frames);
	/* A batch must fit the 64 MiB ring (80 bytes per record). */
	batch = (64u << 20) / sizeof(struct xpp_record) / 2;

	if (json) {
		jf = fopen(json, "w");
		if (!jf) {
			fprintf(stderr, "prog_cost: %s: %s\n", json,
				strerror(errno));
			return 1;
		}
		fprintf(jf, "{\"bench\":\"prog_cost\",\"rounds\":%u,"
			    "\"repeat\":%u,\"frames\":[", rounds, repeat);
	}
	printf("%-18s %-13s %8s %8s %8s %10s %10s\n", "frame", "program",
	       "min_ns", "med_ns", "max_ns", "vs_parse", "vs_records");
	for (f = 0; f < 3; f++) {
		double med[NPROGS];

		for (r = 0; r < rounds; r++) {
			for (i = 0; i < NPROGS; i++) {
				unsigned int left = repeat;
				double sum = 0;

				if (progs[i].cfg &&
				    xpp_datapath__config_set(dp, progs[i].cfg)) {
					fprintf(stderr, "prog_cost: config: "
							"%s\n", strerror(errno));
					return 1;
				}
				while (left) {
					unsigned int n = left < batch ? left :
									batch;

					sum += bench_run_batch(progs[i].fd,
							 &frames[f].p, n) * n;
					left -= n;
					xpp_reader__drain(rd);
				}
				progs[i].ns[r] = sum / repeat;
			}
		}
		for (i = 0; i < NPROGS; i++) {
			qsort(progs[i].ns, rounds, sizeof(double), bench_cmp_double);
			med[i] = progs[i].ns[rounds / 2];
		}
		if (jf)
			fprintf(jf, "%s{\"frame\":\"%s\",\"len\":%zu,"
				    "\"programs\":[",
				f ? "," : "", frames[f].name, frames[f].p.len);
		for (i = 0; i < NPROGS; i++) {
			printf("%-18s %-13s %8.2f %8.2f %8.2f %9.2fx %9.2fx\n",
			       frames[f].name, progs[i].name, progs[i].ns[0],
			       med[i], progs[i].ns[rounds - 1],
			       med[i] / med[P_PARSE], med[i] / med[P_RECORDS]);
			if (jf)
				fprintf(jf, "%s{\"name\":\"%s\",\"min_ns\":%.3f,"
					    "\"median_ns\":%.3f,\"max_ns\":%.3f,"
					    "\"vs_parse_only\":%.3f,"
					    "\"vs_xdp_drop\":%.3f,"
					    "\"vs_records\":%.3f}",
					i ? "," : "", progs[i].name,
					progs[i].ns[0], med[i],
					progs[i].ns[rounds - 1],
					med[i] / med[P_PARSE],
					med[i] / med[P_DROP],
					med[i] / med[P_RECORDS]);
		}
		if (jf)
			fprintf(jf, "]}");
	}
	if (jf) {
		fprintf(jf, "]}\n");
		fclose(jf);
	}
	xpp_reader__free(rd);
	xpp_datapath__destroy(dp);
	xpp_parse_bpf__destroy(parse);
	xpp_drop_bpf__destroy(drop);
	xpp_hook_bpf__destroy(hook);
	return 0;
}
