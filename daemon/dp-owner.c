// SPDX-License-Identifier: GPL-2.0-only
/*
 * The datapath owner (dp-owner.h). Interface events are decided here and
 * nowhere else: an attached interface that disappears is reported and its
 * pin removed (the kernel has already detached the link); when an
 * interface of the same name appears again it is attached again
 * (reattach = yes at that moment, or listed with attach =). A rename
 * moves the pin. When the kernel drops events, everything is checked
 * again from scratch.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <bpf/bpf.h>

#include "dp-owner.h"
#include "ifwatch.h"
#include "log.h"
#include "rxstats.h"
#include "util.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

/* Names that vanished while attached, to attach again when they return. */
struct vanished {
	struct vanished *next;
	char name[IF_NAMESIZE];
	enum xpp_mode mode;
};

struct dp_owner {
	const struct xpp_conf *conf;
	struct drain_sink sink;
	struct xpp_datapath *dp;
	struct links *links;
	struct drain *drain;
	struct flow_drain *flows;
	struct ifwatch *ifwatch;
	struct rxstats *rxstats; /* NULL: the drain goes without the signal */
	struct vanished *vanished;
};

/* drain_loss_hook: the attached interfaces' receive counters, summed. */
static int loss_sample(void *ctx, uint64_t *ret_packets, uint64_t *ret_lost)
{
	struct dp_owner *o = ctx;
	uint64_t packets = 0, lost = 0, p, l;
	struct iface *i;
	int r;

	for (i = links_first(o->links); i; i = i->next) {
		r = rxstats_read(o->rxstats, i->ifindex, &p, &l);
		if (r == -ENODEV)
			continue; /* going: ifwatch will say so */
		if (r)
			return r;
		packets += p;
		lost += l;
	}
	*ret_packets = packets;
	*ret_lost = lost;
	return 0;
}

/* The pin root must be on a bpffs: mount one on its parent if needed. */
static int pin_root_prepare(const char *root)
{
	char parent[PATH_MAX];
	struct statfs st;

	if (statfs(root, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	snprintf(parent, sizeof(parent), "%s", root);
	dirname(parent);
	if (!strcmp(parent, "/"))
		return log_error_errno(EINVAL,
				       "pin root %s: needs a parent directory "
				       "to mount bpffs on, such as /sys/fs/bpf",
				       root);
	if (statfs(parent, &st) < 0) {
		if (errno != ENOENT)
			return log_error_errno(errno, "pin root %s: %m", root);
		if (mkdir(parent, 0700) < 0)
			return log_error_errno(
				errno, "cannot create %s for the pin root: %m",
				parent);
		st.f_type = 0;
	}
	if (st.f_type != BPF_FS_MAGIC) {
		if (mount("bpf", parent, "bpf", 0, "mode=0700") < 0)
			return log_error_errno(
				errno,
				"%s is not a BPF filesystem and mounting one "
				"there failed: %m (mount it yourself: mount -t "
				"bpf bpf %s)",
				parent, parent);
		pr_notice("mounted a BPF filesystem on %s", parent);
	}
	if (mkdir(root, 0700) < 0 && errno != EEXIST)
		return log_error_errno(errno, "cannot create pin root %s: %m",
				       root);
	return 0;
}

static void vanished_add(struct dp_owner *o, const char *name,
			 enum xpp_mode mode)
{
	struct vanished *v;

	for (v = o->vanished; v; v = v->next)
		if (!strcmp(v->name, name))
			return;
	v = calloc(1, sizeof(*v));
	if (!v)
		return;
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->mode = mode;
	v->next = o->vanished;
	o->vanished = v;
}

static bool vanished_take(struct dp_owner *o, const char *name,
			  enum xpp_mode *ret_mode)
{
	struct vanished **pp, *v;

	for (pp = &o->vanished; (v = *pp); pp = &v->next) {
		if (!strcmp(v->name, name)) {
			*ret_mode = v->mode;
			*pp = v->next;
			free(v);
			return true;
		}
	}
	return false;
}

static void iface_gone(struct dp_owner *o, struct iface *ifc)
{
	unsigned int ifindex = ifc->ifindex;

	ifc_warn(ifc->name,
		 "interface %s (ifindex %u) disappeared; its XDP attachment "
		 "went with it%s",
		 ifc->name, ifc->ifindex,
		 o->conf->reattach ? "; it will be attached again if it "
				     "comes back" :
				     "");
	/* Remembered whatever reattach says now: it is read when the
	 * interface comes back, so a change in between takes effect. */
	vanished_add(o, ifc->name,
		     ifc->mode == XPP_MODE_GENERIC ? XPP_MODE_GENERIC :
						     XPP_MODE_AUTO);
	links_forget(o->links, ifc);
	flow_drain_end_iface(o->flows, ifindex);
}

static const struct xpp_conf_attach *conf_attach(const struct xpp_conf *conf,
						 const char *name)
{
	unsigned int i;

	for (i = 0; i < conf->n_attach; i++)
		if (!strcmp(conf->attach[i].name, name))
			return &conf->attach[i];
	return NULL;
}

/* An interface of this name exists (again): attach it if wanted. */
static void maybe_reattach(struct dp_owner *o, const char *name)
{
	const struct xpp_conf_attach *a = conf_attach(o->conf, name);
	enum xpp_mode mode = XPP_MODE_AUTO;
	bool wanted = false;
	char msg[512];

	if (links_find(o->links, name))
		return;
	if (vanished_take(o, name, &mode) && o->conf->reattach)
		wanted = true;
	if (a) {
		mode = a->mode;
		wanted = true;
	}
	if (!wanted)
		return;
	if (links_attach(o->links, name, mode, msg, sizeof(msg))) {
		ifc_err(name, "interface %s is back but attaching failed: %s",
			name, msg);
		return;
	}
	ifc_notice(name, "interface %s is back; attached again", name);
}

/* Events were lost: look at every attachment and name again. */
static void resync(struct dp_owner *o)
{
	struct vanished *v, *vnext;
	struct iface *i, *next;
	char name[IF_NAMESIZE];
	unsigned int k;

	pr_warn("missed interface events (netlink buffer overflow); "
		"checking every attachment again");
	for (i = links_first(o->links); i; i = next) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);

		next = i->next;
		if (bpf_obj_get_info_by_fd(i->link_fd, &info, &len) < 0 ||
		    !info.xdp.ifindex || !if_indextoname(i->ifindex, name)) {
			iface_gone(o, i);
			continue;
		}
		if (strcmp(name, i->name))
			links_rename(o->links, i, name);
	}
	for (k = 0; k < o->conf->n_attach; k++)
		if (if_nametoindex(o->conf->attach[k].name))
			maybe_reattach(o, o->conf->attach[k].name);
	for (v = o->vanished; v; v = vnext) {
		vnext = v->next; /* maybe_reattach frees v when it takes it */
		if (if_nametoindex(v->name))
			maybe_reattach(o, v->name);
	}
}

/* The one place that decides what an interface event means. */
static void on_ifevent(enum ifwatch_event event, unsigned int ifindex,
		       const char *name, void *userdata)
{
	struct dp_owner *o = userdata;
	struct iface *ifc = links_find_index(o->links, ifindex);

	switch (event) {
	case IFWATCH_GONE:
		if (ifc)
			iface_gone(o, ifc);
		break;
	case IFWATCH_LINK:
		if (ifc && strcmp(ifc->name, name))
			links_rename(o->links, ifc, name);
		else if (!ifc)
			maybe_reattach(o, name);
		break;
	case IFWATCH_LOST:
		resync(o);
		break;
	}
	if (o->sink.ifaces_changed)
		o->sink.ifaces_changed(o->sink.userdata);
}

/* Adopted pins keep the size they were made with: say so when the
 * configuration asks for another. */
static void pinned_size_check(const char *what, const char *unit,
			      unsigned int pinned, const char *key,
			      unsigned int configured, const char *root)
{
	if (pinned != configured)
		pr_warn("the pinned %s %u %s, not the configured %s %u: to "
			"resize, detach everything, stop the daemon and "
			"remove %s",
			what, pinned, unit, key, configured, root);
}

struct dp_owner *dp_owner_new(struct ev_loop *loop, const struct xpp_conf *conf,
			      const struct drain_sink *sink)
{
	struct xpp_datapath_opts opts = {};
	struct drain_wait_hook hook;
	struct dp_owner *o;
	char err[1024] = "";
	int r;

	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->conf = conf;
	o->sink = *sink;
	r = pin_root_prepare(conf->pin_root);
	if (r)
		goto fail;
	opts.ring_bytes = conf->ring_bytes;
	opts.flow_entries = conf->flow_entries;
	opts.pin_root = conf->pin_root;
	opts.errbuf = err;
	opts.errbuf_sz = sizeof(err);
	o->dp = xpp_datapath__open(&opts);
	if (!o->dp) {
		r = log_error_errno(errno, "%s", err[0] ? err : strerror(errno));
		goto fail;
	}
	if (xpp_datapath__adopted(o->dp)) {
		pr_info("adopted the maps pinned under %s", conf->pin_root);
		pinned_size_check("rings hold", "bytes each",
				  xpp_datapath__ring_bytes(o->dp), "ring_size",
				  conf->ring_bytes, conf->pin_root);
		pinned_size_check("flow table holds", "flows",
				  xpp_datapath__flow_entries(o->dp),
				  "flow_table_size", conf->flow_entries,
				  conf->pin_root);
	} else {
		pr_info("created and pinned the maps under %s", conf->pin_root);
	}
	o->links = links_new(o->dp, conf->pin_root);
	if (!o->links) {
		r = log_error_errno(errno, "cannot create %s/links: %m",
				    conf->pin_root);
		goto fail;
	}
	r = links_adopt(o->links);
	if (r)
		goto fail;
	o->drain = drain_new(loop, o->dp, sink);
	if (!o->drain) {
		r = log_error_errno(errno, "cannot read the rings: %m");
		goto fail;
	}
	o->flows = flow_drain_new(loop, o->dp, conf, sink);
	if (!o->flows) {
		r = log_error_errno(errno, "cannot read the flows: %m");
		goto fail;
	}
	flow_drain_wait_hook(o->flows, &hook);
	drain_set_wait_hook(o->drain, &hook);
	o->rxstats = rxstats_new();
	if (o->rxstats)
		drain_set_loss_hook(o->drain, &(struct drain_loss_hook){
						      .sample = loss_sample,
						      .ctx = o,
					      });
	else
		pr_warn("cannot read interface counters (rtnetlink: %m): the "
			"drain will not poll less often when frames are lost "
			"before the program");
	r = dp_owner_apply_conf(o);
	if (r)
		goto fail;
	o->ifwatch = ifwatch_new(loop, on_ifevent, o);
	if (!o->ifwatch) {
		r = log_error_errno(errno,
				    "cannot watch interfaces (rtnetlink): %m");
		goto fail;
	}
	return o;
fail:
	dp_owner_free(o);
	errno = -r;
	return NULL;
}

void dp_owner_free(struct dp_owner *o)
{
	struct vanished *v;

	if (!o)
		return;
	ifwatch_free(o->ifwatch);
	flow_drain_free(o->flows);
	drain_free(o->drain);
	rxstats_free(o->rxstats);
	links_free(o->links);
	xpp_datapath__destroy(o->dp);
	while ((v = o->vanished)) {
		o->vanished = v->next;
		free(v);
	}
	free(o);
}

int dp_owner_apply_conf(struct dp_owner *o)
{
	int err = drain_apply_conf(o->drain, o->conf);

	if (err)
		return log_error_errno(err,
				       "cannot write the datapath configuration: "
				       "%m");
	flow_drain_apply_conf(o->flows);
	return 0;
}

void dp_owner_flows_end(struct dp_owner *o)
{
	flow_drain_end_all(o->flows);
}

int dp_owner_flows_top(struct dp_owner *o, unsigned int n,
		       const struct xpp_flow_record **ret, unsigned int *ret_n,
		       unsigned int *ret_total)
{
	return flow_drain_top(o->flows, n, ret, ret_n, ret_total);
}

void dp_owner_attach_configured(struct dp_owner *o)
{
	unsigned int i;
	char msg[512];

	for (i = 0; i < o->conf->n_attach; i++) {
		const struct xpp_conf_attach *a = &o->conf->attach[i];

		if (links_find(o->links, a->name))
			continue;
		if (links_attach(o->links, a->name, a->mode, msg, sizeof(msg)))
			ifc_err(a->name,
				"cannot attach to configured interface %s: %s",
				a->name, msg);
	}
}

int dp_owner_attach(struct dp_owner *o, const char *name, enum xpp_mode mode,
		    char *msg, size_t msgsz)
{
	int err = links_attach(o->links, name, mode, msg, msgsz);

	if (err)
		ifc_warn(name, "attach %s refused: %s", name, msg);
	return err;
}

int dp_owner_detach(struct dp_owner *o, const char *name, char *msg,
		    size_t msgsz)
{
	struct iface *ifc = links_find(o->links, name);
	unsigned int ifindex;
	enum xpp_mode mode;
	int err;

	/* Gone while attached and waiting to come back: a detach means it
	 * stays detached when it does. */
	if (!ifc && vanished_take(o, name, &mode)) {
		ifc_notice(name, "interface %s, which vanished while attached, "
				 "will not be attached again when it returns",
			   name);
		return 0;
	}
	if (!ifc)
		return xpp_errmsg(msg, msgsz, -ENOENT,
				  "interface %s is not attached (see 'xdpctl "
				  "list')",
				  name);
	ifindex = ifc->ifindex;
	/* The interface leaves the list whatever the kernel said. */
	err = links_detach(o->links, ifc);
	flow_drain_end_iface(o->flows, ifindex);
	return err;
}

const struct iface *dp_owner_ifaces(const struct dp_owner *o)
{
	return links_first(o->links);
}

const struct iface *dp_owner_iface(const struct dp_owner *o, const char *name)
{
	return links_find(o->links, name);
}

unsigned int dp_owner_iface_count(const struct dp_owner *o)
{
	return links_count(o->links);
}

int dp_owner_iface_counters(const struct dp_owner *o, unsigned int ifindex,
			    struct xpp_counters *ret)
{
	return xpp_datapath__counters(o->dp, ifindex, ret);
}

int dp_owner_overflow_counters(const struct dp_owner *o,
			       struct xpp_counters *ret)
{
	return xpp_datapath__counters_overflow(o->dp, ret);
}

void dp_owner_status(const struct dp_owner *o, struct dp_status *ret)
{
	unsigned int i;
	unsigned long long c, p;

	memset(ret, 0, sizeof(*ret));
	ret->prog_id = links_prog_id(o->links);
	ret->rings = xpp_datapath__ring_count(o->dp);
	ret->ring_bytes = xpp_datapath__ring_bytes(o->dp);
	ret->ring_slots = xpp_datapath__ring_slots(o->dp);
	ret->ring_wakeups = drain_wakeups(o->drain);
	ret->ring_polls = drain_polls(o->drain);
	ret->poll_interval_ns = drain_poll_interval_ns(o->drain);
	for (i = 0; i < ret->rings; i++) {
		xpp_datapath__ring_positions(o->dp, i, &c, &p);
		ret->records_written += p;
		ret->records_consumed += c;
	}
	ret->records_delivered = drain_delivered(o->drain);
	ret->latency = drain_latency(o->drain);
	ret->flows_on = o->conf->dp.flags & XPP_CFG_FLOWS;
	flow_drain_status(o->flows, &ret->flows);
}
