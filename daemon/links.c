// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attachments: one XDP bpf_link per interface, pinned under
 * PIN_ROOT/links/IFNAME so that it outlives the daemon. The kernel is the
 * source of truth: on start the pinned links are adopted and switched to
 * the freshly loaded program in one atomic step each.
 */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <linux/capability.h>

#include "caps.h"
#include "daemon.h"
#include "log.h"
#include "proto.h"
#include "util.h"

struct iface *iface_find(struct daemon *d, const char *name)
{
	struct iface *i;

	for (i = d->ifaces; i; i = i->next)
		if (!strcmp(i->name, name))
			return i;
	return NULL;
}

unsigned int ifaces_count(const struct daemon *d)
{
	const struct iface *i;
	unsigned int n = 0;

	for (i = d->ifaces; i; i = i->next)
		n++;
	return n;
}

int link_pin_path(struct daemon *d, const char *name, char *buf, size_t sz)
{
	if ((size_t)snprintf(buf, sz, "%s/%s", d->pin_links, name) >= sz)
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
	int fd, err = 0;

	/* CAP_SYS_ADMIN, permitted but not effective, for this alone. */
	caps_raise(CAP_SYS_ADMIN);
	fd = bpf_prog_get_fd_by_id(id);
	caps_lower(CAP_SYS_ADMIN);
	if (fd < 0) {
		snprintf(buf, sz, "(name unknown without CAP_SYS_ADMIN: "
				  "bpftool prog show id %u)", id);
		return -errno;
	}
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		snprintf(buf, sz, "%s", info.name[0] ? info.name : "(unnamed)");
	else
		err = -errno;
	close(fd);
	return err;
}

/* Gives the interface a counters slot (before it is attached, so that its
 * first frame is counted there). */
static void counters_register(const char *name, struct daemon *d,
			      unsigned int ifindex)
{
	int err = xpp_datapath__counters_init(d->dp, ifindex);

	if (err == -ENOSPC)
		ifc_warn(name, "interface %s: all %d counters slots are in use; "
			 "its frames are counted only in the totals "
			 "(detach unused interfaces)",
			 name, XPP_MAX_IFACES);
	else if (err)
		ifc_warn(name, "interface %s: cannot create its counters: %s",
			 name, strerror(-err));
}

static struct iface *iface_add(struct daemon *d, const char *name,
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
	ifc->attached_mono_ns = mono_ns();
	if (!bpf_obj_get_info_by_fd(link_fd, &info, &len))
		ifc->link_id = info.id;
	ifc->next = d->ifaces;
	d->ifaces = ifc;
	/* Adopted links have their slot already; this only reports. */
	counters_register(name, d, ifindex);
	return ifc;
}

/* Adopts one pinned link; removes pins whose interface is gone. */
static int link_adopt(struct daemon *d, const char *pin_name)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX], name[IF_NAMESIZE], pname[96];
	int fd, prog_fd = xpp_datapath__prog_fd(d->dp);

	if (link_pin_path(d, pin_name, path, sizeof(path)))
		return 0;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		pr_warn("cannot open link pin %s: %m; left alone", path);
		return 0;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ||
	    info.type != BPF_LINK_TYPE_XDP) {
		pr_warn("%s is not an XDP link; left alone", path);
		goto drop;
	}
	if (!info.xdp.ifindex) {
		ifc_warn(pin_name, "interface %s is gone (its XDP link was detached by "
			"the kernel); removing the stale pin %s",
			pin_name, path);
		unlink(path);
		goto drop;
	}
	if (!if_indextoname(info.xdp.ifindex, name)) {
		pr_warn("link pin %s points at ifindex %u, which has no name "
			"in this network namespace; left alone (is the daemon "
			"in the right namespace?)",
			path, info.xdp.ifindex);
		goto drop;
	}
	/* Pins under our root are ours; check the name when we may. */
	if (!prog_name(info.prog_id, pname, sizeof(pname)) &&
	    strcmp(pname, "xpp_xdp")) {
		ifc_warn(name, "link pin %s on interface %s runs program '%s' (id "
			"%u), not ours; left alone",
			path, name, pname, info.prog_id);
		goto drop;
	}
	if (info.prog_id != d->prog_id) {
		/* Atomic: no frame goes without a program meanwhile. */
		if (bpf_link_update(fd, prog_fd, NULL) < 0) {
			ifc_err(name, "cannot switch interface %s to the new program: "
			       "%m; it keeps running program id %u",
			       name, info.prog_id);
		} else {
			ifc_info(name, "interface %s: program id %u replaced by id %u",
				name, info.prog_id, d->prog_id);
		}
	}
	if (strcmp(name, pin_name)) {
		char newpath[PATH_MAX];

		if (!link_pin_path(d, name, newpath, sizeof(newpath)) &&
		    !rename(path, newpath))
			ifc_info(name, "interface %s was renamed to %s; pin moved",
				pin_name, name);
	}
	if (!iface_add(d, name, info.xdp.ifindex, fd)) {
		close(fd);
		return -ENOMEM;
	}
	ifc_notice(name, "adopted attachment of interface %s (ifindex %u, %s mode, "
		  "link id %u)",
		  name, info.xdp.ifindex, xpp_mode_name(d->ifaces->mode),
		  info.id);
	return 0;
drop:
	close(fd);
	return 0;
}

int links_adopt(struct daemon *d)
{
	struct dirent *de;
	DIR *dir;
	int err = 0;

	if (mkdir(d->pin_links, 0700) < 0 && errno != EEXIST)
		return log_error_errno(errno, "cannot create %s: %m",
				       d->pin_links);
	dir = opendir(d->pin_links);
	if (!dir)
		return log_error_errno(errno, "cannot read %s: %m",
				       d->pin_links);
	while (!err && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		err = link_adopt(d, de->d_name);
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

int iface_attach(struct daemon *d, const char *name, enum xpp_mode mode,
		 json_object **ret_err)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char path[PATH_MAX], pname[96];
	struct iface *ifc;
	unsigned int ifindex;
	int fd, err;

	if (strlen(name) >= IF_NAMESIZE || !(ifindex = if_nametoindex(name))) {
		*ret_err = reply_error(XPP_E_NO_INTERFACE,
				       "no interface '%s' in the daemon's network "
				       "namespace (see 'ip link')",
				       name);
		return -ENODEV;
	}
	if (iface_find(d, name)) {
		*ret_err = reply_error(XPP_E_ALREADY,
				       "interface %s is already attached", name);
		return -EEXIST;
	}
	if (bpf_xdp_query(ifindex, 0, &q) == 0 && q.prog_id) {
		prog_name(q.prog_id, pname, sizeof(pname));
		*ret_err = reply_error(XPP_E_FOREIGN,
				       "interface %s already carries XDP program "
				       "'%s' (id %u): detach it first (ip link "
				       "set dev %s xdp off) or choose another "
				       "interface",
				       name, pname, q.prog_id, name);
		return -EBUSY;
	}
	err = link_pin_path(d, name, path, sizeof(path));
	if (err) {
		*ret_err = reply_error(XPP_E_ATTACH, "pin path too long");
		return err;
	}

	counters_register(name, d, ifindex);
	fd = -EINVAL;
	if (mode != XPP_MODE_GENERIC)
		fd = link_create(xpp_datapath__prog_fd(d->dp), ifindex,
				 XDP_FLAGS_DRV_MODE);
	if (fd < 0 && mode == XPP_MODE_AUTO) {
		ifc_notice(name, "interface %s: native XDP refused (%s); falling back "
			  "to generic mode, which is slower",
			  name, strerror(-fd));
	}
	if (fd < 0 && mode != XPP_MODE_NATIVE)
		fd = link_create(xpp_datapath__prog_fd(d->dp), ifindex,
				 XDP_FLAGS_SKB_MODE);
	if (fd < 0) {
		*ret_err = reply_error(
			XPP_E_ATTACH,
			"the kernel refused to attach to %s in %s mode: %s%s",
			name, xpp_mode_name(mode), strerror(-fd),
			mode == XPP_MODE_NATIVE ?
				" (the driver may lack native XDP: try "
				"--mode generic or auto)" :
				"");
		return fd;
	}
	if (bpf_obj_pin(fd, path) < 0) {
		err = -errno;
		bpf_link_detach(fd);
		close(fd);
		*ret_err = reply_error(XPP_E_ATTACH,
				       "cannot pin the link of %s at %s: %s", name,
				       path, strerror(-err));
		return err;
	}
	ifc = iface_add(d, name, ifindex, fd);
	if (!ifc) {
		bpf_link_detach(fd);
		close(fd);
		unlink(path);
		*ret_err = reply_error(XPP_E_INTERNAL, "out of memory");
		return -ENOMEM;
	}
	ifc_notice(name, "attached to interface %s (ifindex %u, %s mode, link id %u)",
		  name, ifindex, xpp_mode_name(ifc->mode), ifc->link_id);
	return 0;
}

int iface_detach(struct daemon *d, struct iface *ifc)
{
	struct iface **pp;
	char path[PATH_MAX];
	int err = 0;

	if (bpf_link_detach(ifc->link_fd) < 0 && errno != ENOLINK)
		err = log_warn_errno(errno, "interface %s: detaching the link: %m",
				     ifc->name);
	if (!link_pin_path(d, ifc->name, path, sizeof(path)) &&
	    unlink(path) < 0 && errno != ENOENT)
		err = log_warn_errno(errno, "interface %s: removing pin %s: %m",
				     ifc->name, path);
	close(ifc->link_fd);
	xpp_datapath__counters_delete(d->dp, ifc->ifindex);
	for (pp = &d->ifaces; *pp; pp = &(*pp)->next) {
		if (*pp == ifc) {
			*pp = ifc->next;
			break;
		}
	}
	ifc_notice(ifc->name, "detached from interface %s (ifindex %u)", ifc->name,
		  ifc->ifindex);
	free(ifc);
	return err;
}
