/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef XPP_EXTRACT_H
#define XPP_EXTRACT_H

#include <stdbool.h>
#include <stdio.h>

#include "flows.h"
#include "format.h"
#include "xpp/maps.h"

/* Exit statuses of xdpctl extract. */
#define EXTRACT_OK 0
#define EXTRACT_BAD_INPUT 1 /* unreadable, damaged or unsupported capture */
#define EXTRACT_FAILED 4    /* the kernel or the output failed */

struct extract_opts {
	const char *file;
	FILE *out;
	const char *out_name;
	enum xpp_format format;
	const struct xpp_config *config; /* sampling and filters, or NULL */
	bool quiet_summary;
	/* Flows instead of packet records (docs/flows.md). */
	bool flows;
	long long idle_timeout_s, active_timeout_s;
	unsigned int accounting; /* enum xpp_flow_accounting */
	unsigned int splt_len;
	unsigned int flow_entries; /* 0: the default */
	enum xpp_flow_columns columns;
};

int extract_run(const struct extract_opts *o);

#endif
