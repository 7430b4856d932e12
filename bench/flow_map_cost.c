// SPDX-License-Identifier: GPL-2.0-only
/*
 * flow_map_cost: kernel cost per packet of updating a bidirectional flow
 * table from XDP, for each map layout the flow table could use
 * (bench/flow_map.bpf.c), measured with BPF_PROG_TEST_RUN next to a
 * baseline that parses the same frame and builds the same key without a
 * map, and next to bpf_ktime_get_ns() alone, rounds interleaved.
 *
 * Cases, per table size:
 *   hit       4 flows, all present, one CPU;
 *   insert    a new flow per packet into an empty table until it holds
 *             max_entries packets' worth;
 *   full      as many new flows again into the full table (hash: -E2BIG,
 *             LRU: eviction), with the counts of each;
 *   2 CPUs    one flow, one direction on each CPU at once (RSS), threads
 *             pinned with sched_setaffinity, and whether every packet was
 *             counted.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/in.h>

#include "pkt.h"
#include "testrun.h"
#include "xpp_flow_map.skel.h"

#define MAX_ROUNDS 64
#define MAX_SIZES 4
#define KEY_SIZE 44		/* struct flow_key */
#define VAL_SIZE 152		/* struct flow_val, flow_val_pc */
#define DIR_U64 9		/* u64 fields of struct dir_stats */

enum { V_BASE, V_KTIME, V_HASH_LOCK, V_HASH_ATOMIC, V_PCPU, V_LRU_LOCK,
       V_LRU_ATOMIC, V_LRU_PCPU, NV };

struct variant {
	const char *name;
	const char *desc;
	int percpu, fd, map_fd;
	char err[384];		/* why it could not be measured */
};

static struct variant vs[NV] = {
	{ "baseline", "parse + key, no map" },
	{ "ktime", "bpf_ktime_get_ns() only" },
	{ "hash_lock", "HASH, bpf_spin_lock" },
	{ "hash_atomic", "HASH, atomic adds" },
	{ "pcpu", "PERCPU_HASH, plain adds", 1 },
	{ "lru_lock", "LRU_HASH, bpf_spin_lock" },
	{ "lru_atomic", "LRU_HASH, atomic adds" },
	{ "lru_pcpu", "LRU_PERCPU_HASH, plain adds", 1 },
};

static struct xpp_flow_map_bpf *skel;
static struct pkt fwd, rev;
static int ncpus;

static void attach_all(void)
{
	char dev[16];
	int i, ifindex;

	for (i = 0; i < NV; i++) {
		if (vs[i].fd < 0)
			continue;
		snprintf(dev, sizeof(dev), "fm%d", i);
		ifindex = if_nametoindex(dev);
		if (!ifindex || bpf_xdp_attach(ifindex, vs[i].fd,
					       XDP_FLAGS_DRV_MODE, NULL)) {
			fprintf(stderr, "flow_map_cost: warning: could not "
					"attach %s to a private veth; figures "
					"include the XDP dispatcher's rebuild\n",
				vs[i].name);
		}
	}
}

static struct bpf_map *variant_map(int i)
{
	switch (i) {
	case V_HASH_LOCK: return skel->maps.hash_lock_map;
	case V_HASH_ATOMIC: return skel->maps.hash_atomic_map;
	case V_PCPU: return skel->maps.pcpu_map;
	case V_LRU_LOCK: return skel->maps.lru_lock_map;
	case V_LRU_ATOMIC: return skel->maps.lru_atomic_map;
	case V_LRU_PCPU: return skel->maps.lru_pcpu_map;
	}
	return NULL;
}

static struct bpf_program *variant_prog(int i)
{
	switch (i) {
	case V_BASE: return skel->progs.xdp_base;
	case V_KTIME: return skel->progs.xdp_ktime;
	case V_HASH_LOCK: return skel->progs.xdp_hash_lock;
	case V_HASH_ATOMIC: return skel->progs.xdp_hash_atomic;
	case V_PCPU: return skel->progs.xdp_pcpu;
	case V_LRU_LOCK: return skel->progs.xdp_lru_lock;
	case V_LRU_ATOMIC: return skel->progs.xdp_lru_atomic;
	case V_LRU_PCPU: return skel->progs.xdp_lru_pcpu;
	}
	return NULL;
}

/* The first lines of libbpf's log that say why a load failed. */
static char why[256];

static int log_why(enum libbpf_print_level level, const char *fmt,
		   va_list ap) __attribute__((format(printf, 2, 0)));
static int log_why(enum libbpf_print_level level, const char *fmt,
		   va_list ap)
{
	char line[512];
	size_t n = strlen(why);

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	if ((strstr(line, "Error in") || strstr(line, "has to have")) &&
	    n + strlen(line) + 3 < sizeof(why))
		snprintf(why + n, sizeof(why) - n, "%s%s", n ? "; " : "",
			 strstr(line, "Error in") ? strstr(line, "Error in") :
						    line);
	return 0;
}

static int skel_open(unsigned int size, int skip)
{
	int i;

	skel = xpp_flow_map_bpf__open();
	if (!skel)
		return -errno;
	for (i = V_HASH_LOCK; i < NV; i++) {
		bpf_map__set_max_entries(variant_map(i), size);
		if (i == skip || vs[i].err[0]) {
			bpf_program__set_autoload(variant_prog(i), false);
			bpf_map__set_autocreate(variant_map(i), false);
		}
	}
	return xpp_flow_map_bpf__load(skel) ? -errno : 0;
}

/*
 * Load with every variant. A variant the kernel refuses is recorded with
 * its error and left out: each is tried on its own to find which.
 */
static int load(unsigned int size)
{
	int i, err;

	libbpf_set_print(log_why);
	err = skel_open(size, -1);
	if (err) {
		xpp_flow_map_bpf__destroy(skel);
		for (i = V_HASH_LOCK; i < NV; i++) {
			int j, e;

			if (vs[i].err[0])
				continue;
			/* Load this one with all the others left out. */
			for (j = V_HASH_LOCK; j < NV; j++)
				if (j != i && !vs[j].err[0])
					vs[j].err[0] = '?';
			why[0] = '\0';
			e = skel_open(size, -1);
			for (j = V_HASH_LOCK; j < NV; j++)
				if (vs[j].err[0] == '?')
					vs[j].err[0] = '\0';
			if (e)
				snprintf(vs[i].err, sizeof(vs[i].err),
					 "load failed: %s (%d): %s",
					 strerror(-e), e, why);
			xpp_flow_map_bpf__destroy(skel);
		}
		err = skel_open(size, -1);
	}
	if (err)
		return err;
	for (i = 0; i < NV; i++) {
		vs[i].fd = vs[i].err[0] ? -1 : bpf_program__fd(variant_prog(i));
		vs[i].map_fd = i >= V_HASH_LOCK && !vs[i].err[0] ?
			bpf_map__fd(variant_map(i)) : -1;
	}
	attach_all();
	return 0;
}

static void reset_counters(void)
{
	skel->bss->inserted = skel->bss->exist_races = 0;
	skel->bss->full_errs = skel->bss->other_errs = 0;
	skel->bss->no_key = 0;
}

/* Entries in a map; with del, delete them too. */
static long map_entries(int fd, int del)
{
	static unsigned char *keys;
	static size_t cap;
	unsigned char *prev = NULL;
	size_t n = 0, i;

	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1 << 16;
			keys = realloc(keys, cap * KEY_SIZE);
			if (!keys) {
				perror("flow_map_cost");
				exit(1);
			}
			if (n)
				prev = keys + (n - 1) * KEY_SIZE;
		}
		if (bpf_map_get_next_key(fd, prev, keys + n * KEY_SIZE))
			break;
		prev = keys + n * KEY_SIZE;
		n++;
	}
	if (del) {
		__u32 count = n;

		if (n && bpf_map_delete_batch(fd, keys, &count, NULL))
			for (i = 0; i < n; i++)
				bpf_map_delete_elem(fd, keys + i * KEY_SIZE);
	}
	return n;
}

static void stats(double *ns, unsigned int rounds, double *mn, double *med,
		  double *mx)
{
	qsort(ns, rounds, sizeof(double), bench_cmp_double);
	*mn = ns[0];
	*med = ns[rounds / 2];
	*mx = ns[rounds - 1];
}

static void print_row(const char *name, const char *desc, double *ns,
		      unsigned int rounds, double base)
{
	double mn, med, mx;

	stats(ns, rounds, &mn, &med, &mx);
	printf("| %-12s | %-28s | %7.1f | %7.1f | %7.1f | %5.2fx | %+7.1f |\n",
	       name, desc, mn, med, mx, med / base, med - base);
}

static void table_head(const char *title)
{
	printf("\n%s\n\n", title);
	printf("| %-12s | %-28s | %7s | %7s | %7s | %6s | %7s |\n", "variant",
	       "layout", "min ns", "med ns", "max ns", "x base", "+ns");
	printf("|--------------|------------------------------|---------|"
	       "---------|---------|--------|---------|\n");
}

static double ns[NV][MAX_ROUNDS];

static void case_hit(unsigned int rounds, unsigned int repeat)
{
	double mn, mx, base;
	unsigned int r;
	int i;

	skel->bss->mode = 1;
	for (i = 0; i < NV; i++)
		if (vs[i].fd >= 0)
			bench_run_batch(vs[i].fd, &fwd, 1000);	/* insert */
	for (r = 0; r < rounds; r++)
		for (i = 0; i < NV; i++)
			if (vs[i].fd >= 0)
				ns[i][r] = bench_run_batch(vs[i].fd, &fwd, repeat);
	stats(ns[V_BASE], rounds, &mn, &base, &mx);
	table_head("Hit: 4 flows, all present, 1 CPU");
	for (i = 0; i < NV; i++)
		if (vs[i].fd >= 0)
			print_row(vs[i].name, vs[i].desc, ns[i], rounds, base);
		else
			printf("| %-12s | %-28s | %s |\n", vs[i].name,
			       vs[i].desc, vs[i].err);
}

static void case_miss(unsigned int rounds, unsigned int size)
{
	static double full[NV][MAX_ROUNDS];
	__u64 ins1[NV] = {0}, ins2[NV] = {0}, big2[NV] = {0}, big1[NV] = {0};
	long pres1[NV] = {0}, pres2[NV] = {0};
	double mn, mx, base, fbase;
	unsigned int r;
	int i;

	skel->bss->mode = 2;
	for (r = 0; r < rounds; r++) {
		ns[V_BASE][r] = bench_run_batch(vs[V_BASE].fd, &fwd, size);
		full[V_BASE][r] = bench_run_batch(vs[V_BASE].fd, &fwd, size);
		for (i = V_HASH_LOCK; i < NV; i++) {
			if (vs[i].fd < 0)
				continue;
			map_entries(vs[i].map_fd, 1);
			reset_counters();
			ns[i][r] = bench_run_batch(vs[i].fd, &fwd, size);
			ins1[i] = skel->bss->inserted;
			big1[i] = skel->bss->full_errs;
			pres1[i] = map_entries(vs[i].map_fd, 0);
			reset_counters();
			full[i][r] = bench_run_batch(vs[i].fd, &fwd, size);
			ins2[i] = skel->bss->inserted;
			big2[i] = skel->bss->full_errs;
			pres2[i] = map_entries(vs[i].map_fd, 0);
		}
	}
	stats(ns[V_BASE], rounds, &mn, &base, &mx);
	stats(full[V_BASE], rounds, &mn, &fbase, &mx);
	table_head("Insert: a new flow per packet, empty table, "
		   "max_entries packets");
	for (i = 0; i < NV; i++)
		if (i != V_KTIME && vs[i].fd >= 0)
			print_row(vs[i].name, vs[i].desc, ns[i], rounds, base);
	table_head("Full: as many new flows again into the full table");
	for (i = 0; i < NV; i++)
		if (i != V_KTIME && vs[i].fd >= 0)
			print_row(vs[i].name, vs[i].desc, full[i], rounds, fbase);
	printf("\nWhat each table did (last round; %u new flows per phase)\n\n",
	       size);
	printf("| variant | insert: ok | -E2BIG | entries after | evicted | "
	       "full: ok | -E2BIG | entries after | evicted |\n");
	printf("|---|---|---|---|---|---|---|---|---|\n");
	for (i = V_HASH_LOCK; i < NV; i++) {
		if (vs[i].fd < 0)
			continue;
		/* Evictions are silent: inserted minus what is there. */
		printf("| %s | %llu | %llu | %ld | %lld | %llu | %llu | %ld | "
		       "%lld |\n", vs[i].name, (unsigned long long)ins1[i],
		       (unsigned long long)big1[i], pres1[i],
		       (long long)ins1[i] - pres1[i],
		       (unsigned long long)ins2[i],
		       (unsigned long long)big2[i], pres2[i],
		       (long long)(pres1[i] + ins2[i]) - pres2[i]);
	}
}

struct worker {
	int cpu, fd;
	const struct pkt *p;
	unsigned int repeat;
	pthread_barrier_t *bar;
	double ns;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("flow_map_cost: sched_setaffinity");
		exit(1);
	}
	pthread_barrier_wait(w->bar);
	w->ns = bench_run_batch(w->fd, w->p, w->repeat);
	return NULL;
}

/* Packets counted in the flow of fwd/rev, both directions, all CPUs. */
static __u64 flow_packets(int i)
{
	unsigned char key[KEY_SIZE], *val;
	__u64 sum = 0;
	int n = vs[i].percpu ? ncpus : 1, c;

	val = calloc(n, (VAL_SIZE + 7) / 8 * 8);
	if (bpf_map_get_next_key(vs[i].map_fd, NULL, key) ||
	    bpf_map_lookup_elem(vs[i].map_fd, key, val)) {
		free(val);
		return 0;
	}
	for (c = 0; c < n; c++) {
		__u64 *d = (__u64 *)(val + c * ((VAL_SIZE + 7) / 8 * 8) + 8);

		sum += d[0] + d[DIR_U64];
	}
	free(val);
	return sum;
}

static void case_two_cpus(unsigned int rounds, unsigned int repeat)
{
	static double one[NV][MAX_ROUNDS];
	__u64 counted[NV] = {0};
	double mn, mx, base, base1;
	pthread_barrier_t bar;
	unsigned int r;
	int i, t;

	if (ncpus < 2) {
		printf("\n2 CPUs: not measured: %d CPU online\n", ncpus);
		return;
	}
	skel->bss->mode = 0;
	for (i = V_HASH_LOCK; i < NV; i++)
		if (vs[i].fd >= 0)
			map_entries(vs[i].map_fd, 1);
	pthread_barrier_init(&bar, NULL, 2);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < NV; i++) {
			struct worker w[2];
			pthread_t th[2];

			if (vs[i].fd < 0)
				continue;
			for (t = 0; t < 2; t++) {
				w[t] = (struct worker){ t, vs[i].fd,
					t ? &rev : &fwd, repeat, &bar };
				pthread_create(&th[t], NULL, worker_run, &w[t]);
			}
			for (t = 0; t < 2; t++)
				pthread_join(th[t], NULL);
			ns[i][r] = (w[0].ns + w[1].ns) / 2;
			one[i][r] = bench_run_batch(vs[i].fd, &fwd, repeat);
		}
	}
	pthread_barrier_destroy(&bar);
	for (i = V_HASH_LOCK; i < NV; i++)
		if (vs[i].fd >= 0)
			counted[i] = flow_packets(i);
	stats(ns[V_BASE], rounds, &mn, &base, &mx);
	stats(one[V_BASE], rounds, &mn, &base1, &mx);
	table_head("2 CPUs: one flow, one direction per CPU at once "
		   "(ns per packet per CPU)");
	for (i = 0; i < NV; i++)
		if (vs[i].fd >= 0)
			print_row(vs[i].name, vs[i].desc, ns[i], rounds, base);
	table_head("The same flow from 1 CPU, same rounds");
	for (i = 0; i < NV; i++)
		if (vs[i].fd >= 0)
			print_row(vs[i].name, vs[i].desc, one[i], rounds, base1);
	printf("\nPackets counted in the flow (both directions, all CPUs) "
	       "vs sent: %llu sent per variant\n\n",
	       (unsigned long long)rounds * repeat * 3);
	for (i = V_HASH_LOCK; i < NV; i++)
		if (vs[i].fd >= 0)
			printf("- %s: %llu counted (%lld lost)\n", vs[i].name,
			       (unsigned long long)counted[i],
			       (long long)rounds * repeat * 3 -
			       (long long)counted[i]);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: flow_map_cost [--rounds N] [--repeat N] [--size N]...\n"
		"Kernel cost per packet (BPF_PROG_TEST_RUN) of updating a\n"
		"bidirectional flow table in each map layout.\n"
		"  --rounds N   interleaved rounds (default 5, max %d)\n"
		"  --repeat N   packets per round, hit and 2-CPU cases\n"
		"               (default 2000000)\n"
		"  --size N     table size (max_entries); repeat for more\n"
		"               (default 65536 and 1048576)\n",
		MAX_ROUNDS);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	unsigned int rounds = 5, repeat = 2000000, sizes[MAX_SIZES];
	unsigned int nsizes = 0, s;
	cpu_set_t set;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rounds = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			repeat = strtoul(optarg, NULL, 10);
			break;
		case 's':
			if (nsizes == MAX_SIZES) {
				usage(stderr);
				return 2;
			}
			sizes[nsizes++] = strtoul(optarg, NULL, 10);
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
		fprintf(stderr, "flow_map_cost: --rounds must be 1..%d and "
				"--repeat at least 1000\n", MAX_ROUNDS);
		return 2;
	}
	if (!nsizes) {
		sizes[nsizes++] = 65536;
		sizes[nsizes++] = 1048576;
	}
	ncpus = libbpf_num_possible_cpus();
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu(), &set);
	sched_setaffinity(0, sizeof(set), &set);

	pkt_init(&fwd);
	pkt_eth(&fwd, ETH_P_IP);
	pkt_ipv4(&fwd, "198.18.0.1", "198.19.0.1", IPPROTO_UDP, 64, 5, 0);
	pkt_udp(&fwd, 1024, 9);
	pkt_payload(&fwd, 64 - 42, 0);
	pkt_finish(&fwd);
	pkt_init(&rev);
	pkt_eth(&rev, ETH_P_IP);
	pkt_ipv4(&rev, "198.19.0.1", "198.18.0.1", IPPROTO_UDP, 64, 5, 0);
	pkt_udp(&rev, 9, 1024);
	pkt_payload(&rev, 64 - 42, 0);
	pkt_finish(&rev);

	if (bench_netns_enter("xpp-flow", "fm", NV))
		fprintf(stderr, "flow_map_cost: warning: no private netns; "
				"figures include the XDP dispatcher's "
				"rebuild per call\n");
	printf("# flow_map_cost: %u rounds, %u packets per round (hit, "
	       "2 CPUs), IPv4 UDP 64 bytes, %d CPUs\n", rounds, repeat, ncpus);
	for (s = 0; s < nsizes; s++) {
		err = load(sizes[s]);
		if (err) {
			fprintf(stderr, "flow_map_cost: loading the programs "
					"failed: %s (run as root)\n",
				strerror(-err));
			return 1;
		}
		printf("\n## max_entries %u\n", sizes[s]);
		case_hit(rounds, repeat);
		case_miss(rounds, sizes[s]);
		case_two_cpus(rounds, repeat);
		fflush(stdout);
		xpp_flow_map_bpf__destroy(skel);
		skel = NULL;
	}
	return 0;
}
