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
#include "log.h"
#include "util.h"
#include "xpp.skel.h"

struct ring_pos {
	const unsigned long *cons; /* mmap'ed consumer page */
	const unsigned long *prod; /* mmap'ed producer page */
};

struct xpp_datapath {
	struct xpp_bpf *skel;
	unsigned int nr_rings;
	unsigned int ring_bytes;
	int *ring_fds;
	struct ring_pos *pos;
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

static int rings_alloc(struct xpp_datapath *dp)
{
	unsigned int i;

	dp->ring_fds = calloc(dp->nr_rings, sizeof(*dp->ring_fds));
	dp->pos = calloc(dp->nr_rings, sizeof(*dp->pos));
	if (!dp->ring_fds || !dp->pos)
		return -ENOMEM;
	for (i = 0; i < dp->nr_rings; i++)
		dp->ring_fds[i] = -1;
	return 0;
}

/* One ring per CPU. Created before the program is loaded: the first one
 * also serves as the outer map's inner-map template (libbpf 1.1 cannot
 * resize the template it would build from BTF). */
static int rings_create(struct xpp_datapath *dp)
{
	unsigned int i;

	for (i = 0; i < dp->nr_rings; i++) {
		char name[32]; /* libbpf cuts it to BPF_OBJ_NAME_LEN */
		int fd;

		snprintf(name, sizeof(name), "xpp_ring%u", i);
		fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, name, 0, 0,
				    dp->ring_bytes, NULL);
		if (fd < 0)
			return dp_err(dp, -errno, "creating ring %u (%u bytes): %s",
				      i, dp->ring_bytes, strerror(errno));
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
			return dp_err(dp, -errno, "inserting ring %u: %s", i,
				      strerror(errno));
	return 0;
}

/* Maps the consumer and producer position pages of every ring, read-only:
 * they give records written and consumed, exactly and across restarts. */
static int rings_map_positions(struct xpp_datapath *dp)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned int i;

	for (i = 0; i < dp->nr_rings; i++) {
		void *c, *p;

		c = mmap(NULL, page, PROT_READ, MAP_SHARED, dp->ring_fds[i], 0);
		if (c == MAP_FAILED)
			return dp_err(dp, -errno, "mapping ring %u: %s", i,
				      strerror(errno));
		dp->pos[i].cons = c;
		p = mmap(NULL, page, PROT_READ, MAP_SHARED, dp->ring_fds[i],
			 page);
		if (p == MAP_FAILED)
			return dp_err(dp, -errno, "mapping ring %u: %s", i,
				      strerror(errno));
		dp->pos[i].prod = p;
	}
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
	struct xpp_meta m = {};
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
	return 0;
}

static int ring_pin_path(const struct xpp_datapath *dp, unsigned int i,
			 char *buf, size_t sz)
{
	if ((size_t)snprintf(buf, sz, "%s/rings/ring%u", dp->pin_root, i) >= sz)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Ring fds from their pins (PIN_ROOT/rings/ringN), checked against the
 * pinned outer map. Opening a map by id would need CAP_SYS_ADMIN, which
 * the daemon does not keep.
 */
static int rings_from_pin(struct xpp_datapath *dp, const char *path)
{
	_cleanup_close_ int outer = -1;
	char rpath[PATH_MAX];
	unsigned int i;

	outer = bpf_obj_get(path);
	if (outer < 0)
		return dp_err(dp, -errno, "cannot open %s: %s", path,
			      strerror(errno));
	for (i = 0; i < dp->nr_rings; i++) {
		struct bpf_map_info info = {};
		__u32 id, len = sizeof(info);
		int fd;

		if (bpf_map_lookup_elem(outer, &i, &id) < 0)
			return dp_err(dp, -errno,
				      "ring %u missing from %s: %s", i, path,
				      strerror(errno));
		ring_pin_path(dp, i, rpath, sizeof(rpath));
		fd = bpf_obj_get(rpath);
		if (fd < 0)
			return dp_err(dp, -errno,
				      "cannot open ring pin %s: %s; detach "
				      "everything and remove %s",
				      rpath, strerror(errno), dp->pin_root);
		dp->ring_fds[i] = fd;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ||
		    info.type != BPF_MAP_TYPE_RINGBUF ||
		    info.max_entries != dp->ring_bytes || info.id != id)
			return dp_err(dp, -EPROTO,
				      "%s is not ring %u of %s (a %u-byte ring "
				      "buffer): detach everything and remove %s",
				      rpath, i, path, dp->ring_bytes,
				      dp->pin_root);
	}
	return 0;
}

static int rings_pin(struct xpp_datapath *dp)
{
	char path[PATH_MAX];
	unsigned int i;

	if ((size_t)snprintf(path, sizeof(path), "%s/rings", dp->pin_root) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return dp_err(dp, -errno, "cannot create %s: %s", path,
			      strerror(errno));
	for (i = 0; i < dp->nr_rings; i++) {
		ring_pin_path(dp, i, path, sizeof(path));
		if (bpf_obj_pin(dp->ring_fds[i], path) < 0)
			return dp_err(dp, -errno, "cannot pin ring %u at %s: %s",
				      i, path, strerror(errno));
	}
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
	bpf_object__for_each_map(map, dp->skel->obj) {
		unsigned int want = bpf_map__max_entries(map);

		if (strchr(bpf_map__name(map), '.'))
			continue;
		if (map == dp->skel->maps.xpp_rings)
			want = dp->nr_rings;
		err = pin_check(dp, map, bpf_map__pin_path(map), want);
		if (err)
			return err;
	}
	dp->adopted = true;
	return 0;
}

static int meta_write(struct xpp_datapath *dp)
{
	struct xpp_meta m = {
		.schema = XPP_SCHEMA_VERSION,
		.record_version = XPP_RECORD_VERSION,
		.record_size = sizeof(struct xpp_record),
		.ring_bytes = dp->ring_bytes,
		.nr_rings = dp->nr_rings,
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
	err = rings_alloc(dp);
	if (err)
		goto fail;

	dp->skel = xpp_bpf__open();
	if (!dp->skel) {
		err = dp_err(dp, -errno, "opening the BPF object: %s",
			     strerror(errno));
		goto fail;
	}
	err = bpf_map__set_max_entries(dp->skel->maps.xpp_rings, dp->nr_rings);
	if (err)
		goto fail;
	if (dp->pin_root) {
		err = pins_prepare(dp);
		if (err)
			goto fail;
	}
	if (dp->adopted) {
		char path[PATH_MAX];

		path_join(path, sizeof(path), dp->pin_root, "xpp_rings");
		err = rings_from_pin(dp, path);
	} else {
		err = rings_create(dp);
	}
	if (err)
		goto fail;
	err = bpf_map__set_inner_map_fd(dp->skel->maps.xpp_rings,
					dp->ring_fds[0]);
	if (err)
		goto fail;
	err = xpp_bpf__load(dp->skel);
	if (err) {
		err = dp_err(dp, err,
			     "loading the XDP program: %s (the kernel needs "
			     "BPF, BTF and ring buffers: Linux 5.8 or newer, "
			     "and CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON)",
			     strerror(-err));
		goto fail;
	}
	err = rings_map_positions(dp);
	if (err)
		goto fail;
	if (!dp->adopted) {
		err = rings_insert(dp);
		if (!err && dp->pin_root)
			err = rings_pin(dp);
		if (!err)
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
	long page = sysconf(_SC_PAGESIZE);
	unsigned int i;

	if (!dp)
		return;
	for (i = 0; dp->pos && i < dp->nr_rings; i++) {
		if (dp->pos[i].cons)
			munmap((void *)dp->pos[i].cons, page);
		if (dp->pos[i].prod)
			munmap((void *)dp->pos[i].prod, page);
	}
	for (i = 0; dp->ring_fds && i < dp->nr_rings; i++)
		if (dp->ring_fds[i] >= 0)
			close(dp->ring_fds[i]);
	free(dp->pos);
	free(dp->ring_fds);
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
	*ret_consumed = __atomic_load_n(dp->pos[ring].cons, __ATOMIC_ACQUIRE);
	*ret_produced = __atomic_load_n(dp->pos[ring].prod, __ATOMIC_ACQUIRE);
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
