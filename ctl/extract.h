/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef XPP_EXTRACT_H
#define XPP_EXTRACT_H

#include <stdbool.h>
#include <stdio.h>

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
};

int extract_run(const struct extract_opts *o);

#endif
