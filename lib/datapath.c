// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath.h"
#include "log.h"
#include "util.h"
#include "xpp.skel.h"

struct xpp_datapath {
	struct xpp_bpf *skel;
	unsigned int nr_rings;
	int *ring_fds;
	int ncpus; /* possible CPUs: per-CPU map values come in this many */
};

static bool is_pow2(unsigned int v)
{
	return v && !(v & (v - 1));
}

/* One ring per CPU. Created before the program is loaded: the first one
 * also serves as the outer map's inner-map template (libbpf 1.1 cannot
 * resize the template it would build from BTF). */
static int rings_create(struct xpp_datapath *dp, unsigned int bytes)
{
	unsigned int i;

	dp->ring_fds = calloc(dp->nr_rings, sizeof(*dp->ring_fds));
	if (!dp->ring_fds)
		return -ENOMEM;
	for (i = 0; i < dp->nr_rings; i++)
		dp->ring_fds[i] = -1;
	for (i = 0; i < dp->nr_rings; i++) {
		char name[32]; /* libbpf cuts it to BPF_OBJ_NAME_LEN */
		int fd;

		snprintf(name, sizeof(name), "xpp_ring%u", i);
		fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, name, 0, 0, bytes,
				    NULL);
		if (fd < 0)
			return log_debug_errno(errno, "creating ring %u: %m", i);
		dp->ring_fds[i] = fd;
	}
	return 0;
}

static int rings_insert(struct xpp_datapath *dp)
{
	int outer = bpf_map__fd(dp->skel->maps.xpp_rings);
	unsigned int i;

	for (i = 0; i < dp->nr_rings; i++)
		if (bpf_map_update_elem(outer, &i, &dp->ring_fds[i], BPF_ANY) < 0)
			return log_debug_errno(errno,
					       "inserting ring %u: %m", i);
	return 0;
}

struct xpp_datapath *xpp_datapath__open(const struct xpp_datapath_opts *opts)
{
	unsigned int bytes = opts && opts->ring_bytes ? opts->ring_bytes :
						       XPP_RING_BYTES_DEFAULT;
	struct xpp_datapath *dp;
	struct xpp_config cfg;
	int err;

	if (!is_pow2(bytes) || bytes < XPP_RING_BYTES_MIN ||
	    bytes > XPP_RING_BYTES_MAX) {
		errno = EINVAL;
		return NULL;
	}
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return NULL;
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0) {
		err = dp->ncpus ? dp->ncpus : -EINVAL;
		goto fail;
	}
	dp->nr_rings = dp->ncpus;

	dp->skel = xpp_bpf__open();
	if (!dp->skel) {
		err = -errno;
		goto fail;
	}
	err = rings_create(dp, bytes);
	if (err)
		goto fail;
	err = bpf_map__set_max_entries(dp->skel->maps.xpp_rings, dp->nr_rings);
	if (!err)
		err = bpf_map__set_inner_map_fd(dp->skel->maps.xpp_rings,
						dp->ring_fds[0]);
	if (err)
		goto fail;
	err = xpp_bpf__load(dp->skel);
	if (err)
		goto fail;
	err = rings_insert(dp);
	if (err)
		goto fail;
	xpp_config_init(&cfg);
	err = xpp_datapath__config_set(dp, &cfg);
	if (err)
		goto fail;
	return dp;
fail:
	xpp_datapath__destroy(dp);
	errno = -err;
	return NULL;
}

void xpp_datapath__destroy(struct xpp_datapath *dp)
{
	unsigned int i;

	if (!dp)
		return;
	if (dp->ring_fds)
		for (i = 0; i < dp->nr_rings; i++)
			if (dp->ring_fds[i] >= 0)
				close(dp->ring_fds[i]);
	free(dp->ring_fds);
	xpp_bpf__destroy(dp->skel);
	free(dp);
}

int xpp_datapath__prog_fd(const struct xpp_datapath *dp)
{
	return bpf_program__fd(dp->skel->progs.xpp_xdp);
}

unsigned int xpp_datapath__ring_count(const struct xpp_datapath *dp)
{
	return dp->nr_rings;
}

int xpp_datapath__ring_fd(const struct xpp_datapath *dp, unsigned int ring)
{
	return ring < dp->nr_rings ? dp->ring_fds[ring] : -EINVAL;
}

int xpp_datapath__config_get(const struct xpp_datapath *dp,
			     struct xpp_config *ret)
{
	__u32 key = 0;

	if (bpf_map__lookup_elem(dp->skel->maps.xpp_config, &key, sizeof(key),
				 ret, sizeof(*ret), 0) < 0)
		return -errno;
	return 0;
}

int xpp_datapath__config_set(struct xpp_datapath *dp,
			     const struct xpp_config *cfg)
{
	__u32 key = 0;

	if (bpf_map__update_elem(dp->skel->maps.xpp_config, &key, sizeof(key),
				 cfg, sizeof(*cfg), BPF_ANY) < 0)
		return -errno;
	return 0;
}

static void counters_sum(struct xpp_counters *sum,
			 const struct xpp_counters *percpu, int ncpus)
{
	const __u64 *src = (const __u64 *)percpu;
	__u64 *dst = (__u64 *)sum;
	size_t n = sizeof(*sum) / sizeof(__u64), i;
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for (cpu = 0; cpu < ncpus; cpu++, src += n)
		for (i = 0; i < n; i++)
			dst[i] += src[i];
}

static int percpu_lookup(const struct xpp_datapath *dp, struct bpf_map *map,
			 __u32 key, struct xpp_counters *ret)
{
	_cleanup_free_ struct xpp_counters *vals = NULL;
	size_t sz = sizeof(*vals) * dp->ncpus;

	vals = malloc(sz);
	if (!vals)
		return -ENOMEM;
	if (bpf_map__lookup_elem(map, &key, sizeof(key), vals, sz, 0) < 0)
		return -errno;
	counters_sum(ret, vals, dp->ncpus);
	return 0;
}

int xpp_datapath__counters(const struct xpp_datapath *dp, unsigned int ifindex,
			   struct xpp_counters *ret)
{
	return percpu_lookup(dp, dp->skel->maps.xpp_counters, ifindex, ret);
}

int xpp_datapath__counters_overflow(const struct xpp_datapath *dp,
				    struct xpp_counters *ret)
{
	return percpu_lookup(dp, dp->skel->maps.xpp_overflow, 0, ret);
}

int xpp_datapath__counters_clear(struct xpp_datapath *dp)
{
	_cleanup_free_ struct xpp_counters *zero = NULL;
	struct bpf_map *map = dp->skel->maps.xpp_counters;
	size_t sz = sizeof(*zero) * dp->ncpus;
	__u32 key, next, *prev = NULL;

	/* Deleting while iterating restarts the walk; zero the entries
	 * instead, then delete them in a second pass. */
	while (bpf_map__get_next_key(map, prev, &next, sizeof(next)) == 0) {
		if (bpf_map__delete_elem(map, &next, sizeof(next), 0) < 0)
			return -errno;
		prev = NULL;
	}
	if (errno != ENOENT)
		return -errno;
	zero = calloc(1, sz);
	if (!zero)
		return -ENOMEM;
	key = 0;
	if (bpf_map__update_elem(dp->skel->maps.xpp_overflow, &key, sizeof(key),
				 zero, sz, BPF_ANY) < 0)
		return -errno;
	return 0;
}

void xpp_config_init(struct xpp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sample_n = 1;
}

void xpp_config_set_proto(struct xpp_config *cfg, unsigned int proto)
{
	if (proto < 256)
		cfg->proto_map[proto / 64] |= 1ULL << (proto % 64);
}

void xpp_config_set_port(struct xpp_config *cfg, unsigned int port)
{
	if (port < 65536)
		cfg->port_map[port / 64] |= 1ULL << (port % 64);
}

bool xpp_config_has_proto(const struct xpp_config *cfg, unsigned int proto)
{
	return proto < 256 && (cfg->proto_map[proto / 64] >> (proto % 64)) & 1;
}

bool xpp_config_has_port(const struct xpp_config *cfg, unsigned int port)
{
	return port < 65536 && (cfg->port_map[port / 64] >> (port % 64)) & 1;
}

struct xpp_reader {
	struct ring_buffer *rb;
	xpp_record_fn fn;
	void *ctx;
	unsigned long long bad_size;
};

static int reader_sample(void *ctx, void *data, size_t size)
{
	struct xpp_reader *rd = ctx;

	if (size != sizeof(struct xpp_record)) {
		rd->bad_size++;
		return 0;
	}
	return rd->fn(rd->ctx, data);
}

struct xpp_reader *xpp_reader__new(const struct xpp_datapath *dp,
				   xpp_record_fn fn, void *ctx)
{
	struct xpp_reader *rd;
	unsigned int i;
	int err = 0;

	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return NULL;
	rd->fn = fn;
	rd->ctx = ctx;
	for (i = 0; i < dp->nr_rings && !err; i++) {
		if (!rd->rb) {
			rd->rb = ring_buffer__new(dp->ring_fds[i],
						  reader_sample, rd, NULL);
			err = rd->rb ? 0 : -errno;
		} else {
			err = ring_buffer__add(rd->rb, dp->ring_fds[i],
					       reader_sample, rd);
		}
	}
	if (err) {
		xpp_reader__free(rd);
		errno = -err;
		return NULL;
	}
	return rd;
}

void xpp_reader__free(struct xpp_reader *rd)
{
	if (!rd)
		return;
	ring_buffer__free(rd->rb);
	free(rd);
}

int xpp_reader__drain(struct xpp_reader *rd)
{
	return ring_buffer__consume(rd->rb);
}

int xpp_reader__epoll_fd(const struct xpp_reader *rd)
{
	return ring_buffer__epoll_fd(rd->rb);
}

unsigned long long xpp_reader__bad_size(const struct xpp_reader *rd)
{
	return rd->bad_size;
}
