// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attachments (links.h). The kernel is the source of truth: on start the
 * pinned links are adopted and switched to the freshly loaded program in
 * one atomic step each.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <linux/if_link.h>

#include "caps.h"
#include "links.h"
#include "log.h"
#include "util.h"

struct links {
	struct xpp_datapath *dp;
	struct iface *list;
	unsigned int prog_id;
	char pin_dir[PATH_MAX]; /* PIN_ROOT/links */
};

static unsigned int prog_id_of(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

struct links *links_new(struct xpp_datapath *dp, const char *pin_root)
{
	_cleanup_free_ struct links *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	if ((size_t)snprintf(l->pin_dir, sizeof(l->pin_dir), "%s/links",
			     pin_root) >= sizeof(l->pin_dir)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (mkdir(l->pin_dir, 0700) < 0 && errno != EEXIST)
		return NULL;
	l->dp = dp;
	l->prog_id = prog_id_of(xpp_datapath__prog_fd(dp));
	return TAKE_PTR(l);
}

void links_free(struct links *l)
{
	struct iface *i;

	if (!l)
		return;
	while ((i = l->list)) {
		l->list = i->next;
		close(i->link_fd);
		free(i);
	}
	free(l);
}

struct iface *links_first(const struct links *l)
{
	return l->list;
}

struct iface *links_find(const struct links *l, const char *name)
{
	struct iface *i;

	for (i = l->list; i; i = i->next)
		if (!strcmp(i->name, name))
			return i;
	return NULL;
}

struct iface *links_find_index(const struct links *l, unsigned int ifindex)
{
	struct iface *i;

	for (i = l->list; i; i = i->next)
		if (i->ifindex == ifindex)
			return i;
	return NULL;
}

unsigned int links_count(const struct links *l)
{
	const struct iface *i;
	unsigned int n = 0;

	for (i = l->list; i; i = i->next)
		n++;
	return n;
}

unsigned int links_prog_id(const struct links *l)
{
	return l->prog_id;
}

/* PIN_ROOT/links/NAME; -ENAMETOOLONG when it does not fit. */
static int pin_path(const struct links *l, const char *name, char *buf,
		    size_t sz)
{
	if ((size_t)snprintf(buf, sz, "%s/%s", l->pin_dir, name) >= sz)
		return -ENAMETOOLONG;
	return 0;
}

static enum xpp_mode attached_mode(unsigned int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q) == 0 &&
	    q.attach_mode == XDP_ATTACHED_SKB)
		return XPP_MODE_GENERIC;
	return XPP_MODE_NATIVE;
}

/*
 * The name of program id. Opening a program by id needs CAP_SYS_ADMIN,
 * which the hardened unit does not grant: then say how to look it up.
 * Returns 0 when the name is known.
 */
static int prog_name(unsigned int id, char *buf, size_t sz)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	_cleanup_close_ int fd = -1;

	/* CAP_SYS_ADMIN, permitted but not effective, for this alone. */
	caps_raise(CAP_SYS_ADMIN);
	fd = bpf_prog_get_fd_by_id(id);
	caps_lower(CAP_SYS_ADMIN);
	if (fd < 0) {
		snprintf(buf, sz, "(name unknown without CAP_SYS_ADMIN: "
				  "bpftool prog show id %u)", id);
		return -errno;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	snprintf(buf, sz, "%s", info.name[0] ? info.name : "(unnamed)");
	return 0;
}

/* Gives the interface a counters slot (before it is attached, so that its
 * first frame is counted there). Returns true when the slot is new. */
static bool counters_register(struct links *l, const char *name,
			      unsigned int ifindex)
{
	struct xpp_counters c;
	bool had = !xpp_datapath__counters(l->dp, ifindex, &c);
	int err = xpp_datapath__counters_init(l->dp, ifindex);

	if (err == -ENOSPC)
		ifc_warn(name, "interface %s: all %d counters slots are in use; "
			 "its frames are counted only in the totals "
			 "(detach unused interfaces)",
			 name, XPP_MAX_IFACES);
	else if (err)
		ifc_warn(name, "interface %s: cannot create its counters: %s",
			 name, strerror(-err));
	return !err && !had;
}

static struct iface *iface_add(struct links *l, const char *name,
			       unsigned int ifindex, int link_fd)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	struct iface *ifc;

	ifc = calloc(1, sizeof(*ifc));
	if (!ifc)
		return NULL;
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	ifc->ifindex = ifindex;
	ifc->link_fd = link_fd;
	ifc->mode = attached_mode(ifindex);
	ifc->attached_mono_ns = xpp_mono_ns();
	if (!bpf_obj_get_info_by_fd(link_fd, &info, &len))
		ifc->link_id = info.id;
	ifc->next = l->list;
	l->list = ifc;
	return ifc;
}

/* Adopts one pinned link; removes pins whose interface is gone. Links it
 * cannot or should not take are left alone with a message. */
static int link_adopt(struct links *l, const char *pin_name)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX], name[IF_NAMESIZE], pname[96];
	_cleanup_close_ int fd = -1;

	if (pin_path(l, pin_name, path, sizeof(path)))
		return 0;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		pr_warn("cannot open link pin %s: %m; left alone", path);
		return 0;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ||
	    info.type != BPF_LINK_TYPE_XDP) {
		pr_warn("%s is not an XDP link; left alone", path);
		return 0;
	}
	if (!info.xdp.ifindex) {
		ifc_warn(pin_name,
			 "interface %s is gone (its XDP link was detached by "
			 "the kernel); removing the stale pin %s",
			 pin_name, path);
		unlink(path);
		return 0;
	}
	if (!if_indextoname(info.xdp.ifindex, name)) {
		pr_warn("link pin %s points at ifindex %u, which has no name "
			"in this network namespace; left alone (is the daemon "
			"in the right namespace?)",
			path, info.xdp.ifindex);
		return 0;
	}
	/* Pins under our root are ours; check the name when we may. */
	if (!prog_name(info.prog_id, pname, sizeof(pname)) &&
	    strcmp(pname, "xpp_xdp")) {
		ifc_warn(name,
			 "link pin %s on interface %s runs program '%s' (id "
			 "%u), not ours; left alone",
			 path, name, pname, info.prog_id);
		return 0;
	}
	if (info.prog_id != l->prog_id) {
		/* Atomic: no frame goes without a program meanwhile. */
		if (bpf_link_update(fd, xpp_datapath__prog_fd(l->dp), NULL) < 0)
			ifc_err(name,
				"cannot switch interface %s to the new program: "
				"%m; it keeps running program id %u",
				name, info.prog_id);
		else
			ifc_info(name,
				 "interface %s: program id %u replaced by id %u",
				 name, info.prog_id, l->prog_id);
	}
	if (strcmp(name, pin_name)) {
		char newpath[PATH_MAX];

		if (!pin_path(l, name, newpath, sizeof(newpath)) &&
		    !rename(path, newpath))
			ifc_info(name, "interface %s was renamed to %s; pin moved",
				 pin_name, name);
	}
	/* Adopted links have their slot already; this only reports. */
	counters_register(l, name, info.xdp.ifindex);
	if (!iface_add(l, name, info.xdp.ifindex, fd))
		return -ENOMEM;
	TAKE_FD(fd);
	ifc_notice(name,
		   "adopted attachment of interface %s (ifindex %u, %s mode, "
		   "link id %u)",
		   name, info.xdp.ifindex, xpp_mode_name(l->list->mode),
		   info.id);
	return 0;
}

int links_adopt(struct links *l)
{
	struct dirent *de;
	DIR *dir;
	int err = 0;

	dir = opendir(l->pin_dir);
	if (!dir)
		return log_error_errno(errno, "cannot read %s: %m", l->pin_dir);
	while (!err && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		err = link_adopt(l, de->d_name);
	}
	closedir(dir);
	return err;
}

static int link_create(int prog_fd, unsigned int ifindex, __u32 flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, o, .flags = flags);
	int fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &o);

	return fd < 0 ? -errno : fd;
}

/* Native first unless generic is asked for; auto falls back. */
static int link_create_mode(struct links *l, const char *name,
			    unsigned int ifindex, enum xpp_mode mode)
{
	int prog_fd = xpp_datapath__prog_fd(l->dp), fd = -EINVAL;

	if (mode != XPP_MODE_GENERIC)
		fd = link_create(prog_fd, ifindex, XDP_FLAGS_DRV_MODE);
	if (fd < 0 && mode == XPP_MODE_AUTO)
		ifc_notice(name,
			   "interface %s: native XDP refused (%s); falling "
			   "back to generic mode, which is slower",
			   name, strerror(-fd));
	if (fd < 0 && mode != XPP_MODE_NATIVE)
		fd = link_create(prog_fd, ifindex, XDP_FLAGS_SKB_MODE);
	return fd;
}

int links_attach(struct links *l, const char *name, enum xpp_mode mode,
		 char *msg, size_t msgsz)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char path[PATH_MAX], pname[96];
	_cleanup_close_ int fd = -1;
	struct iface *ifc;
	unsigned int ifindex;
	bool new_slot;
	int err;

	if (strlen(name) >= IF_NAMESIZE || !(ifindex = if_nametoindex(name)))
		return xpp_errmsg(msg, msgsz, -ENODEV,
			    "no interface '%s' in the daemon's network "
			    "namespace (see 'ip link')",
			    name);
	if (links_find(l, name))
		return xpp_errmsg(msg, msgsz, -EEXIST,
			    "interface %s is already attached", name);
	if (bpf_xdp_query(ifindex, 0, &q) == 0 && q.prog_id) {
		prog_name(q.prog_id, pname, sizeof(pname));
		return xpp_errmsg(msg, msgsz, -EBUSY,
			    "interface %s already carries XDP program '%s' (id "
			    "%u): detach it first (ip link set dev %s xdp off) "
			    "or choose another interface",
			    name, pname, q.prog_id, name);
	}
	err = pin_path(l, name, path, sizeof(path));
	if (err)
		return xpp_errmsg(msg, msgsz, err, "the pin path of %s is too long",
			    name);

	new_slot = counters_register(l, name, ifindex);
	fd = link_create_mode(l, name, ifindex, mode);
	if (fd < 0) {
		err = xpp_errmsg(msg, msgsz, fd,
			   "the kernel refused to attach to %s in %s mode: %s%s",
			   name, xpp_mode_name(mode), strerror(-fd),
			   mode == XPP_MODE_NATIVE ?
				   " (the driver may lack native XDP: try "
				   "--mode generic or auto)" :
				   "");
		goto fail_slot;
	}
	if (bpf_obj_pin(fd, path) < 0) {
		err = xpp_errmsg(msg, msgsz, -errno,
			   "cannot pin the link of %s at %s: %s", name, path,
			   strerror(errno));
		goto fail_link;
	}
	ifc = iface_add(l, name, ifindex, fd);
	if (!ifc) {
		err = xpp_errmsg(msg, msgsz, -ENOMEM, "out of memory");
		unlink(path);
		goto fail_link;
	}
	TAKE_FD(fd);
	ifc_notice(name,
		   "attached to interface %s (ifindex %u, %s mode, link id %u)",
		   name, ifindex, xpp_mode_name(ifc->mode), ifc->link_id);
	return 0;
fail_link:
	bpf_link_detach(fd);
fail_slot:
	/* A slot made for this attach goes with it. */
	if (new_slot)
		xpp_datapath__counters_delete(l->dp, ifindex);
	return err;
}

static void iface_remove(struct links *l, struct iface *ifc)
{
	struct iface **pp;

	for (pp = &l->list; *pp; pp = &(*pp)->next) {
		if (*pp == ifc) {
			*pp = ifc->next;
			break;
		}
	}
	close(ifc->link_fd);
	xpp_datapath__counters_delete(l->dp, ifc->ifindex);
	free(ifc);
}

static int pin_remove(struct links *l, const struct iface *ifc)
{
	char path[PATH_MAX];

	if (!pin_path(l, ifc->name, path, sizeof(path)) && unlink(path) < 0 &&
	    errno != ENOENT)
		return log_warn_errno(errno, "interface %s: removing pin %s: %m",
				      ifc->name, path);
	return 0;
}

int links_detach(struct links *l, struct iface *ifc)
{
	int err = 0;

	if (bpf_link_detach(ifc->link_fd) < 0 && errno != ENOLINK)
		err = log_warn_errno(errno,
				     "interface %s: detaching the link: %m",
				     ifc->name);
	err = pin_remove(l, ifc) ?: err;
	ifc_notice(ifc->name, "detached from interface %s (ifindex %u)",
		   ifc->name, ifc->ifindex);
	iface_remove(l, ifc);
	return err;
}

void links_forget(struct links *l, struct iface *ifc)
{
	pin_remove(l, ifc);
	iface_remove(l, ifc);
}

int links_rename(struct links *l, struct iface *ifc, const char *name)
{
	char from[PATH_MAX], to[PATH_MAX];
	int err;

	err = pin_path(l, ifc->name, from, sizeof(from));
	if (!err)
		err = pin_path(l, name, to, sizeof(to));
	if (!err && rename(from, to) < 0)
		err = -errno;
	if (err)
		ifc_warn(name, "interface %s renamed to %s; moving its pin: %s",
			 ifc->name, name, strerror(-err));
	ifc_notice(name, "interface %s is now called %s", ifc->name, name);
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	return err;
}
