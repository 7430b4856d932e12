// SPDX-License-Identifier: GPL-2.0-only
/*
 * Least privilege after start-up. Once the BPF object is loaded, bpffs
 * mounted and the socket created, the daemon keeps:
 *   effective:  CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN (attach, detach,
 *               pin, netlink, maps)
 *   permitted:  the same, plus CAP_SYS_ADMIN, raised only for the moment
 *               it takes to read the name of another XDP program by id
 *               (for the message refusing to attach over it)
 * and drops everything else from all sets, the bounding set included.
 * Under systemd the unit's CapabilityBoundingSet is narrower still.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "log.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define BIT(c) (1ULL << (c))
#define KEEP_EFFECTIVE (BIT(CAP_BPF) | BIT(CAP_PERFMON) | BIT(CAP_NET_ADMIN))
#define KEEP_PERMITTED (KEEP_EFFECTIVE | BIT(CAP_SYS_ADMIN))

struct capsets {
	unsigned long long eff, prm, inh;
};

static int caps_get(struct capsets *c)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2] = {};

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	c->eff = d[0].effective | (unsigned long long)d[1].effective << 32;
	c->prm = d[0].permitted | (unsigned long long)d[1].permitted << 32;
	c->inh = d[0].inheritable | (unsigned long long)d[1].inheritable << 32;
	return 0;
}

static int caps_set(const struct capsets *c)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2] = {
		{ c->eff, c->prm, c->inh },
		{ c->eff >> 32, c->prm >> 32, c->inh >> 32 },
	};

	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	return 0;
}

static int cap_last(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = 40;

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = 40;
		fclose(f);
	}
	return last;
}

int caps_drop(void)
{
	struct capsets c = {};
	int cap, last = cap_last(), err;

	err = caps_get(&c);
	if (err)
		return log_warn_errno(err, "reading capabilities: %m; keeping them");
	/* The bounding set first: dropping from it needs CAP_SETPCAP. */
	for (cap = 0; cap <= last; cap++)
		if (!(KEEP_PERMITTED & BIT(cap)) && prctl(PR_CAPBSET_READ, cap) > 0)
			prctl(PR_CAPBSET_DROP, cap);
	c.prm &= KEEP_PERMITTED;
	c.eff &= KEEP_EFFECTIVE;
	c.inh = 0;
	err = caps_set(&c);
	if (err)
		return log_warn_errno(err, "dropping capabilities: %m; keeping them");
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	pr_info("capabilities now: CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN "
		"(and CAP_SYS_ADMIN permitted, to name other XDP programs)");
	return 0;
}

int caps_raise(int cap)
{
	struct capsets c = {};
	int err = caps_get(&c);

	if (err)
		return err;
	if (!(c.prm & BIT(cap)))
		return -EPERM;
	c.eff |= BIT(cap);
	return caps_set(&c);
}

void caps_lower(int cap)
{
	struct capsets c = {};

	if (caps_get(&c))
		return;
	c.eff &= ~BIT(cap) | KEEP_EFFECTIVE;
	caps_set(&c);
}
