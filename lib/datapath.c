// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath.h"
#include "xpp/flow.h"
#include "log.h"
#include "util.h"
#include "xpp.skel.h"

struct xpp_datapath {
	struct xpp_bpf *skel;
	unsigned int nr_rings;
	unsigned int ring_bytes;
	unsigned int ring_slots;	  /* records per ring */
	unsigned int flow_entries;
	const struct xpp_record *data; /* mapped xpp_ring_data, read-only */
	struct xpp_ring_pos *pos;	  /* mapped xpp_ring_pos */
	size_t data_len, pos_len;
	int ncpus; /* possible CPUs: per-CPU map values come in this many */
	bool adopted;
	char *pin_root;
	char *errbuf;
	size_t errbuf_sz;
};

static bool is_pow2(unsigned int v)
{
	return v && !(v & (v - 1));
}

/* A message for the user, kept for the caller; returns err. */
static int dp_err(struct xpp_datapath *dp, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int dp_err(struct xpp_datapath *dp, int err, const char *fmt, ...)
{
	va_list ap;

	if (dp->errbuf && dp->errbuf_sz) {
		va_start(ap, fmt);
		vsnprintf(dp->errbuf, dp->errbuf_sz, fmt, ap);
		va_end(ap);
	}
	return err < 0 ? err : -err;
}

/* Sizes the ring maps for dp->ring_bytes before the load (or before
 * pinned maps are checked against them). */
static int rings_size(struct xpp_datapath *dp)
{
	unsigned long long entries;
	int err;

	dp->ring_slots = dp->ring_bytes / sizeof(struct xpp_record);
	entries = (unsigned long long)dp->ring_slots * dp->nr_rings;
	if (entries * sizeof(struct xpp_record) > (3ULL << 30))
		return dp_err(dp, -E2BIG,
			      "%u rings of %u bytes exceed 3 GiB: choose a "
			      "smaller ring_size", dp->nr_rings, dp->ring_bytes);
	dp->skel->rodata->ring_slots = dp->ring_slots;
	err = bpf_map__set_max_entries(dp->skel->maps.xpp_ring_data, entries);
	if (!err)
		err = bpf_map__set_max_entries(dp->skel->maps.xpp_ring_pos,
					       dp->nr_rings);
	if (!err)
		err = bpf_map__set_max_entries(dp->skel->maps.xpp_flows,
					       dp->flow_entries);
	if (!err)
		err = bpf_map__set_max_entries(dp->skel->maps.xpp_flow_ring,
					       XPP_FLOW_RING_BYTES);
	return err;
}

static size_t page_up(size_t n)
{
	size_t page = sysconf(_SC_PAGESIZE);

	return (n + page - 1) / page * page;
}

/* Maps the records (read-only) and the positions (the reader writes
 * cons) of every ring. */
static int rings_map(struct xpp_datapath *dp)
{
	void *p;

	dp->data_len = page_up((size_t)dp->ring_slots * dp->nr_rings *
			       sizeof(struct xpp_record));
	p = mmap(NULL, dp->data_len, PROT_READ, MAP_SHARED,
		 bpf_map__fd(dp->skel->maps.xpp_ring_data), 0);
	if (p == MAP_FAILED)
		return dp_err(dp, -errno, "mapping the rings: %s",
			      strerror(errno));
	dp->data = p;
	dp->pos_len = page_up((size_t)dp->nr_rings * sizeof(*dp->pos));
	p = mmap(NULL, dp->pos_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(dp->skel->maps.xpp_ring_pos), 0);
	if (p == MAP_FAILED)
		return dp_err(dp, -errno, "mapping the ring positions: %s",
			      strerror(errno));
	dp->pos = p;
	return 0;
}

static int path_join(char *buf, size_t sz, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, sz, "%s/%s", dir, name) >= sz)
		return -ENAMETOOLONG;
	return 0;
}

/* Checks that the map pinned at path can stand in for map. */
static int pin_check(struct xpp_datapath *dp, struct bpf_map *map,
		     const char *path, unsigned int want_max)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	_cleanup_close_ int fd = -1;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return dp_err(dp, -errno, "cannot open pinned map %s: %s", path,
			      strerror(errno));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return dp_err(dp, -errno, "%s is not a BPF map: %s", path,
			      strerror(errno));
#define MISMATCH(what, have, want)                                           \
	dp_err(dp, -EPROTO,                                                  \
	       "pinned map %s has %s %u, this version needs %u: it was made " \
	       "by another xdp-preprocd version; detach everything and "     \
	       "remove %s, or run the matching version",                     \
	       path, what, (unsigned int)(have), (unsigned int)(want),       \
	       dp->pin_root)
	if (info.type != bpf_map__type(map))
		return MISMATCH("type", info.type, bpf_map__type(map));
	if (info.key_size != bpf_map__key_size(map))
		return MISMATCH("key size", info.key_size,
				bpf_map__key_size(map));
	if (info.value_size != bpf_map__value_size(map))
		return MISMATCH("value size", info.value_size,
				bpf_map__value_size(map));
	if (info.max_entries != want_max)
		return MISMATCH("max entries", info.max_entries, want_max);
	if (info.map_flags != bpf_map__map_flags(map))
		return MISMATCH("flags", info.map_flags,
				bpf_map__map_flags(map));
#undef MISMATCH
	return 0;
}

static int meta_check(struct xpp_datapath *dp, const char *path)
{
	struct xpp_pin_meta m = {};
	_cleanup_close_ int fd = -1;
	__u32 key = 0;

	fd = bpf_obj_get(path);
	if (fd < 0 || bpf_map_lookup_elem(fd, &key, &m) < 0)
		return dp_err(dp, -errno, "cannot read %s: %s", path,
			      strerror(errno));
	if (m.schema != XPP_SCHEMA_VERSION ||
	    m.record_version != XPP_RECORD_VERSION ||
	    m.record_size != sizeof(struct xpp_record))
		return dp_err(dp, -EPROTO,
			      "pins under %s have schema %u, record version %u "
			      "(%u bytes); this version uses schema %u, record "
			      "version %u (%zu bytes): detach everything and "
			      "remove %s, or run the matching version",
			      dp->pin_root, m.schema, m.record_version,
			      m.record_size, XPP_SCHEMA_VERSION,
			      XPP_RECORD_VERSION, sizeof(struct xpp_record),
			      dp->pin_root);
	if (m.nr_rings != dp->nr_rings)
		return dp_err(dp, -EPROTO,
			      "pins under %s hold %u rings, this machine has %u "
			      "possible CPUs: detach everything and remove %s",
			      dp->pin_root, m.nr_rings, dp->nr_rings,
			      dp->pin_root);
	dp->ring_bytes = m.ring_bytes;
	dp->flow_entries = m.flow_entries;
	return 0;
}

/*
 * Points every map at its pin under pin_root. When xpp_meta is pinned the
 * maps are adopted (after checking each one); when nothing is pinned they
 * will be created and pinned by the load; anything in between is refused.
 */
static int pins_prepare(struct xpp_datapath *dp)
{
	struct bpf_map *map;
	char path[PATH_MAX];
	int err, present = 0, total = 0;

	bpf_object__for_each_map(map, dp->skel->obj) {
		const char *name = bpf_map__name(map);

		if (strchr(name, '.')) /* .rodata and friends: not pinned */
			continue;
		err = path_join(path, sizeof(path), dp->pin_root, name);
		if (err)
			return dp_err(dp, err, "pin root %s is too long",
				      dp->pin_root);
		total++;
		if (access(path, F_OK) == 0)
			present++;
		err = bpf_map__set_pin_path(map, path);
		if (err)
			return dp_err(dp, err, "setting pin path %s: %s", path,
				      strerror(-err));
	}
	if (!present)
		return 0;
	if (present != total)
		return dp_err(dp, -EPROTO,
			      "%s holds %d of the %d maps this version pins: "
			      "left by another version or a failed start; "
			      "detach everything and remove %s",
			      dp->pin_root, present, total, dp->pin_root);

	path_join(path, sizeof(path), dp->pin_root, "xpp_meta");
	err = meta_check(dp, path);
	if (err)
		return err;
	err = rings_size(dp); /* to the size the pins were made with */
	if (err)
		return err;
	bpf_object__for_each_map(map, dp->skel->obj) {
		unsigned int want = bpf_map__max_entries(map);

		if (strchr(bpf_map__name(map), '.'))
			continue;
		err = pin_check(dp, map, bpf_map__pin_path(map), want);
		if (err)
			return err;
	}
	dp->adopted = true;
	return 0;
}

static int meta_write(struct xpp_datapath *dp)
{
	struct xpp_pin_meta m = {
		.schema = XPP_SCHEMA_VERSION,
		.record_version = XPP_RECORD_VERSION,
		.record_size = sizeof(struct xpp_record),
		.ring_bytes = dp->ring_bytes,
		.nr_rings = dp->nr_rings,
		.flow_entries = dp->flow_entries,
	};
	__u32 key = 0;

	if (bpf_map__update_elem(dp->skel->maps.xpp_meta, &key, sizeof(key),
				 &m, sizeof(m), BPF_ANY) < 0)
		return dp_err(dp, -errno, "writing xpp_meta: %s",
			      strerror(errno));
	return 0;
}

struct xpp_datapath *xpp_datapath__open(const struct xpp_datapath_opts *opts)
{
	struct xpp_datapath *dp;
	struct xpp_config cfg;
	int err;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return NULL;
	dp->ring_bytes = opts && opts->ring_bytes ? opts->ring_bytes :
						    XPP_RING_BYTES_DEFAULT;
	dp->flow_entries = opts && opts->flow_entries ?
				   opts->flow_entries :
				   XPP_FLOW_ENTRIES_DEFAULT;
	if (opts) {
		dp->errbuf = opts->errbuf;
		dp->errbuf_sz = opts->errbuf_sz;
	}
	if (dp->errbuf && dp->errbuf_sz)
		dp->errbuf[0] = '\0';
	if (!is_pow2(dp->ring_bytes) || dp->ring_bytes < XPP_RING_BYTES_MIN ||
	    dp->ring_bytes > XPP_RING_BYTES_MAX) {
		err = dp_err(dp, -EINVAL,
			     "ring size %u: must be a power of two from %u to %u",
			     dp->ring_bytes, XPP_RING_BYTES_MIN,
			     XPP_RING_BYTES_MAX);
		goto fail;
	}
	if (dp->flow_entries < XPP_FLOW_ENTRIES_MIN ||
	    dp->flow_entries > XPP_FLOW_ENTRIES_MAX) {
		err = dp_err(dp, -EINVAL,
			     "flow table size %u: must be from %u to %u",
			     dp->flow_entries, XPP_FLOW_ENTRIES_MIN,
			     XPP_FLOW_ENTRIES_MAX);
		goto fail;
	}
	if (opts && opts->pin_root) {
		dp->pin_root = strdup(opts->pin_root);
		if (!dp->pin_root) {
			err = -ENOMEM;
			goto fail;
		}
	}
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0) {
		err = dp_err(dp, dp->ncpus ? dp->ncpus : -EINVAL,
			     "cannot count possible CPUs");
		goto fail;
	}
	dp->nr_rings = dp->ncpus;

	dp->skel = xpp_bpf__open();
	if (!dp->skel) {
		err = dp_err(dp, -errno, "opening the BPF object: %s",
			     strerror(errno));
		goto fail;
	}
	err = rings_size(dp);
	if (!err && dp->pin_root)
		err = pins_prepare(dp);
	if (err)
		goto fail;
	err = xpp_bpf__load(dp->skel);
	if (err) {
		err = dp_err(dp, err,
			     "loading the XDP program: %s (the kernel needs "
			     "BTF, the BPF JIT and mmapable BPF arrays: Linux "
			     "6.1 or newer, and CAP_BPF, CAP_NET_ADMIN, "
			     "CAP_PERFMON)",
			     strerror(-err));
		goto fail;
	}
	err = rings_map(dp);
	if (err)
		goto fail;
	if (!dp->adopted) {
		err = meta_write(dp);
		if (err)
			goto fail;
		xpp_config_init(&cfg);
		err = xpp_datapath__config_set(dp, &cfg);
		if (err)
			goto fail;
	}
	return dp;
fail:
	xpp_datapath__destroy(dp);
	errno = -err;
	return NULL;
}

void xpp_datapath__destroy(struct xpp_datapath *dp)
{
	if (!dp)
		return;
	if (dp->data)
		munmap((void *)dp->data, dp->data_len);
	if (dp->pos)
		munmap(dp->pos, dp->pos_len);
	xpp_bpf__destroy(dp->skel);
	free(dp->pin_root);
	free(dp);
}

bool xpp_datapath__adopted(const struct xpp_datapath *dp)
{
	return dp->adopted;
}

unsigned int xpp_datapath__ring_bytes(const struct xpp_datapath *dp)
{
	return dp->ring_bytes;
}

void xpp_datapath__ring_positions(const struct xpp_datapath *dp,
				  unsigned int ring,
				  unsigned long long *ret_consumed,
				  unsigned long long *ret_produced)
{
	*ret_consumed = __atomic_load_n(&dp->pos[ring].cons, __ATOMIC_ACQUIRE);
	*ret_produced = __atomic_load_n(&dp->pos[ring].prod, __ATOMIC_ACQUIRE);
}

unsigned long long xpp_datapath__wait_word(const struct xpp_datapath *dp)
{
	return __atomic_load_n(&dp->pos[0].wait, __ATOMIC_ACQUIRE);
}

int xpp_datapath__flows_fd(const struct xpp_datapath *dp)
{
	return bpf_map__fd(dp->skel->maps.xpp_flows);
}

int xpp_datapath__flow_ring_fd(const struct xpp_datapath *dp)
{
	return bpf_map__fd(dp->skel->maps.xpp_flow_ring);
}

unsigned int xpp_datapath__flow_entries(const struct xpp_datapath *dp)
{
	return dp->flow_entries;
}

unsigned int xpp_datapath__ring_slots(const struct xpp_datapath *dp)
{
	return dp->ring_slots;
}

int xpp_datapath__prog_fd(const struct xpp_datapath *dp)
{
	return bpf_program__fd(dp->skel->progs.xpp_xdp);
}

unsigned int xpp_datapath__ring_count(const struct xpp_datapath *dp)
{
	return dp->nr_rings;
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

/* Writes the configuration with the given slot generation. */
static int config_write(struct xpp_datapath *dp, const struct xpp_config *cfg,
			__u32 slot_gen)
{
	struct xpp_config c = *cfg;
	__u32 key = 0;

	c.slot_gen = slot_gen;
	if (bpf_map__update_elem(dp->skel->maps.xpp_config, &key, sizeof(key),
				 &c, sizeof(c), BPF_ANY) < 0)
		return -errno;
	return 0;
}

/* The caller's configuration, keeping the slot generation (which belongs
 * to the counters, not to the configuration). */
int xpp_datapath__config_set(struct xpp_datapath *dp,
			     const struct xpp_config *cfg)
{
	struct xpp_config cur;
	int err;

	err = xpp_datapath__config_get(dp, &cur);
	if (err)
		return err;
	return config_write(dp, cfg, cur.slot_gen);
}

/* Tells the program that xpp_ifslots changed: cached slots are stale. */
static int slots_changed(struct xpp_datapath *dp)
{
	struct xpp_config cur;
	int err;

	err = xpp_datapath__config_get(dp, &cur);
	if (err)
		return err;
	return config_write(dp, &cur, cur.slot_gen + 1);
}

void xpp_counters_add(struct xpp_counters *sum, const struct xpp_counters *c)
{
	const __u64 *src = (const __u64 *)c;
	__u64 *dst = (__u64 *)sum;
	size_t i;

	for (i = 0; i < sizeof(*c) / sizeof(__u64); i++)
		dst[i] += src[i];
}

static void counters_sum(struct xpp_counters *sum,
			 const struct xpp_counters *percpu, int ncpus)
{
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for (cpu = 0; cpu < ncpus; cpu++)
		xpp_counters_add(sum, &percpu[cpu]);
}

static int percpu_lookup(const struct xpp_datapath *dp, struct bpf_map *map,
			 __u32 key, struct xpp_counters *ret)
{
	_cleanup_free_ struct xpp_counters *vals = NULL;
	size_t sz = sizeof(*vals) * dp->ncpus;

	/* Zeroed: memory checkers cannot see what bpf() writes. */
	vals = calloc(1, sz);
	if (!vals)
		return -ENOMEM;
	if (bpf_map__lookup_elem(map, &key, sizeof(key), vals, sz, 0) < 0)
		return -errno;
	counters_sum(ret, vals, dp->ncpus);
	return 0;
}

/* No interface has ifindex 0: as the previous key of a walk it asks for
 * the first key, like NULL does (which memory checkers take for a bad
 * pointer). */
#define XPP_NO_IFINDEX 0

static int slot_of(const struct xpp_datapath *dp, unsigned int ifindex,
		   __u32 *ret)
{
	__u32 key = ifindex;

	if (bpf_map__lookup_elem(dp->skel->maps.xpp_ifslots, &key, sizeof(key),
				 ret, sizeof(*ret), 0) < 0)
		return -errno;
	return 0;
}

int xpp_datapath__counters(const struct xpp_datapath *dp, unsigned int ifindex,
			   struct xpp_counters *ret)
{
	__u32 slot;
	int err;

	err = slot_of(dp, ifindex, &slot);
	if (err)
		return err;
	return percpu_lookup(dp, dp->skel->maps.xpp_counters, slot, ret);
}

int xpp_datapath__counters_overflow(const struct xpp_datapath *dp,
				    struct xpp_counters *ret)
{
	return percpu_lookup(dp, dp->skel->maps.xpp_counters,
			     XPP_SLOT_OVERFLOW, ret);
}

static int slot_zero(struct xpp_datapath *dp, __u32 slot)
{
	_cleanup_free_ struct xpp_counters *zero = NULL;
	size_t sz = sizeof(*zero) * dp->ncpus;

	zero = calloc(1, sz);
	if (!zero)
		return -ENOMEM;
	if (bpf_map__update_elem(dp->skel->maps.xpp_counters, &slot,
				 sizeof(slot), zero, sz, BPF_ANY) < 0)
		return -errno;
	return 0;
}

int xpp_datapath__counters_init(struct xpp_datapath *dp, unsigned int ifindex)
{
	struct bpf_map *map = dp->skel->maps.xpp_ifslots;
	_cleanup_free_ bool *used = NULL;
	__u32 key, prev = XPP_NO_IFINDEX, slot;
	int err;

	if (slot_of(dp, ifindex, &slot) == 0)
		return 0; /* registered already: keep its counters */
	used = calloc(XPP_MAX_IFACES + 1, sizeof(*used));
	if (!used)
		return -ENOMEM;
	while (bpf_map__get_next_key(map, &prev, &key, sizeof(key)) == 0) {
		if (bpf_map__lookup_elem(map, &key, sizeof(key), &slot,
					 sizeof(slot), 0) == 0 &&
		    slot <= XPP_MAX_IFACES)
			used[slot] = true;
		prev = key;
	}
	for (slot = 1; slot <= XPP_MAX_IFACES && used[slot]; slot++)
		;
	if (slot > XPP_MAX_IFACES)
		return -ENOSPC; /* counted in the overflow slot */
	err = slot_zero(dp, slot);
	if (err)
		return err;
	key = ifindex;
	if (bpf_map__update_elem(map, &key, sizeof(key), &slot, sizeof(slot),
				 BPF_NOEXIST) < 0)
		return -errno;
	return slots_changed(dp);
}

int xpp_datapath__counters_delete(struct xpp_datapath *dp, unsigned int ifindex)
{
	__u32 key = ifindex;

	if (bpf_map__delete_elem(dp->skel->maps.xpp_ifslots, &key, sizeof(key),
				 0) < 0)
		return -errno;
	return slots_changed(dp);
}

int xpp_datapath__counters_clear(struct xpp_datapath *dp)
{
	struct bpf_map *map = dp->skel->maps.xpp_ifslots;
	__u32 key, none = XPP_NO_IFINDEX, slot;
	int err;

	/* Deleting the key a walk stands on restarts it: always delete the
	 * first key until none is left. */
	while (bpf_map__get_next_key(map, &none, &key, sizeof(key)) == 0) {
		if (bpf_map__lookup_elem(map, &key, sizeof(key), &slot,
					 sizeof(slot), 0) == 0 &&
		    slot <= XPP_MAX_IFACES) {
			err = slot_zero(dp, slot);
			if (err)
				return err;
		}
		if (bpf_map__delete_elem(map, &key, sizeof(key), 0) < 0)
			return -errno;
	}
	if (errno != ENOENT)
		return -errno;
	err = slot_zero(dp, XPP_SLOT_OVERFLOW);
	if (err)
		return err;
	return slots_changed(dp);
}

void xpp_config_init(struct xpp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sample_n = 1;
	cfg->flow_accounting = XPP_ACCT_LINK;
	cfg->splt_len = XPP_SPLT_DEFAULT;
	cfg->idle_timeout_ns = XPP_IDLE_TIMEOUT_DEFAULT * 1000000000ULL;
	cfg->active_timeout_ns = XPP_ACTIVE_TIMEOUT_DEFAULT * 1000000000ULL;
	cfg->end_grace_ns = XPP_END_GRACE_NS;
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
	const struct xpp_datapath *dp;
	struct ring_buffer *wake;
	xpp_record_fn fn;
	void *ctx;
	unsigned long long wakeups;
};

static int wake_token(void *ctx, void *data, size_t size)
{
	struct xpp_reader *rd = ctx;

	rd->wakeups++; /* only a wakeup: the records are in the rings */
	return 0;
}

struct xpp_reader *xpp_reader__new(const struct xpp_datapath *dp,
				   xpp_record_fn fn, void *ctx)
{
	struct xpp_reader *rd;

	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return NULL;
	rd->dp = dp;
	rd->fn = fn;
	rd->ctx = ctx;
	rd->wake = ring_buffer__new(bpf_map__fd(dp->skel->maps.xpp_wake),
				    wake_token, rd, NULL);
	if (!rd->wake) {
		free(rd);
		return NULL;
	}
	return rd;
}

void xpp_reader__free(struct xpp_reader *rd)
{
	if (!rd)
		return;
	ring_buffer__free(rd->wake);
	free(rd);
}

/* Records handed back to the producer at least this often during a long
 * drain, so that a full ring gets room before the drain ends. */
#define RELEASE_EVERY 4096

/* Records read from one ring, or the callback's negative error. */
static int ring_drain(struct xpp_reader *rd, unsigned int ring, bool *stop)
{
	const struct xpp_datapath *dp = rd->dp;
	struct xpp_ring_pos *pos = &dp->pos[ring];
	const struct xpp_record *base = dp->data +
					(size_t)ring * dp->ring_slots;
	__u64 prod, cons = pos->cons; /* only this reader writes it */
	unsigned int idx;
	int n = 0, ret = 0;

	prod = __atomic_load_n(&pos->prod, __ATOMIC_ACQUIRE);
	if (prod - cons > dp->ring_slots)
		cons = prod - dp->ring_slots; /* cannot happen */
	idx = cons % dp->ring_slots;
	while (cons != prod && !ret) {
		ret = rd->fn(rd->ctx, &base[idx]);
		cons++;
		n++;
		if (++idx == dp->ring_slots)
			idx = 0;
		if (!(n % RELEASE_EVERY))
			__atomic_store_n(&pos->cons, cons, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&pos->cons, cons, __ATOMIC_RELEASE);
	*stop = ret != 0;
	return ret < 0 ? ret : n;
}

int xpp_reader__drain(struct xpp_reader *rd)
{
	unsigned int i;
	bool stop = false;
	int n, total = 0;

	ring_buffer__consume(rd->wake);
	for (i = 0; i < rd->dp->nr_rings && !stop; i++) {
		n = ring_drain(rd, i, &stop);
		if (n < 0)
			return n;
		total += n;
	}
	return total;
}

/*
 * The reader's half of the waiting word (struct xpp_ring_pos.wait; the
 * program's half is wake_reader() in bpf/xpp.bpf.c). This is Dekker's
 * pattern: the reader stores the word, then loads every prod; a producer
 * stores prod, then loads the word; each side has a full barrier between
 * its store and its load. So in any interleaving at least one side sees
 * the other's store: the reader finds the record (and drains instead of
 * blocking), or the producer finds the word (and wakes the reader), or
 * both (one spurious wakeup, harmless). No record is left in a ring while
 * the reader blocks without a token on its way.
 */
bool xpp_reader__wait_prepare(struct xpp_reader *rd, unsigned int bits)
{
	const struct xpp_datapath *dp = rd->dp;
	__u64 *wait = &dp->pos[0].wait;
	unsigned int i;

	__atomic_store_n(wait, bits, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* Not waiting for records (the drain polls): records are no reason
	 * not to block. */
	for (i = 0; i < dp->nr_rings && (bits & XPP_WAIT_RECORDS); i++) {
		if (__atomic_load_n(&dp->pos[i].prod, __ATOMIC_ACQUIRE) !=
		    dp->pos[i].cons) {
			__atomic_store_n(wait, 0, __ATOMIC_RELAXED);
			return false;
		}
	}
	return true;
}

bool xpp_reader__wait_end(struct xpp_reader *rd)
{
	__u64 *wait = &rd->dp->pos[0].wait;

	/* Read first: when a producer took the word, the line stays
	 * shared. */
	if (!__atomic_load_n(wait, __ATOMIC_RELAXED))
		return false;
	return __atomic_exchange_n(wait, 0, __ATOMIC_RELAXED) != 0;
}

int xpp_reader__epoll_fd(const struct xpp_reader *rd)
{
	return ring_buffer__epoll_fd(rd->wake);
}

unsigned long long xpp_reader__wakeups(const struct xpp_reader *rd)
{
	return rd->wakeups;
}
