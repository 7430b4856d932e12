// SPDX-License-Identifier: GPL-2.0-only
/*
 * Least privilege after start-up, through libcap-ng. Once the BPF object
 * is loaded, bpffs mounted and the socket created, the daemon keeps:
 *   effective:  CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN (attach, detach,
 *               pin, netlink, maps)
 *   permitted:  the same, plus CAP_SYS_ADMIN, raised only for the moment
 *               it takes to read the name of another XDP program by id
 *               (for the message refusing to attach over it)
 * of what it had, and drops everything else from all sets, the bounding
 * set included where it may (that needs CAP_SETPCAP). Under systemd the
 * unit's CapabilityBoundingSet is narrower still.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/prctl.h>

#include <cap-ng.h>
#include <linux/capability.h>

#include "caps.h"
#include "log.h"
#include "util.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static const unsigned int keep_effective[] = { CAP_BPF, CAP_PERFMON,
					       CAP_NET_ADMIN };

int caps_drop(void)
{
	bool had[ARRAY_SIZE(keep_effective)], had_sys_admin;
	size_t i;

	if (capng_get_caps_process())
		return log_warn_errno(EIO, "reading capabilities failed; "
					   "keeping them");
	for (i = 0; i < ARRAY_SIZE(keep_effective); i++)
		had[i] = capng_have_capability(CAPNG_PERMITTED,
					       keep_effective[i]);
	had_sys_admin = capng_have_capability(CAPNG_PERMITTED, CAP_SYS_ADMIN);

	capng_clear(CAPNG_SELECT_BOTH);
	for (i = 0; i < ARRAY_SIZE(keep_effective); i++)
		if (had[i])
			capng_update(CAPNG_ADD,
				     CAPNG_EFFECTIVE | CAPNG_PERMITTED |
					     CAPNG_BOUNDING_SET,
				     keep_effective[i]);
	if (had_sys_admin)
		capng_update(CAPNG_ADD, CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
			     CAP_SYS_ADMIN);
	/* The bounding set first, while CAP_SETPCAP is still effective;
	 * without it (a bounded unit) the unit's own bound holds. */
	if (capng_apply(CAPNG_SELECT_BOUNDS))
		pr_debug("cannot narrow the capability bounding set (no "
			 "CAP_SETPCAP); the unit's bound holds");
	if (capng_apply(CAPNG_SELECT_CAPS))
		return log_warn_errno(EPERM, "dropping capabilities failed; "
					     "keeping them");
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	pr_info("capabilities now: CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN "
		"(and CAP_SYS_ADMIN permitted, to name other XDP programs)");
	return 0;
}

/* Sets cap in the effective set (on) or takes it out (off). */
static int caps_effective(unsigned int cap, bool on)
{
	if (capng_get_caps_process())
		return -EIO;
	if (on && !capng_have_capability(CAPNG_PERMITTED, cap))
		return -EPERM;
	if (capng_update(on ? CAPNG_ADD : CAPNG_DROP, CAPNG_EFFECTIVE, cap) ||
	    capng_apply(CAPNG_SELECT_CAPS))
		return -EPERM;
	return 0;
}

int caps_raise(int cap)
{
	return caps_effective(cap, true);
}

void caps_lower(int cap)
{
	/* What caps_drop keeps effective stays so. */
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keep_effective); i++)
		if (keep_effective[i] == (unsigned int)cap)
			return;
	caps_effective(cap, false);
}
