/* SPDX-License-Identifier: GPL-2.0-only */
/* Names of counters and record flags, as users see them in JSON and text. */
#ifndef XPP_NAMES_H
#define XPP_NAMES_H

#include <stddef.h>

#include "xpp/maps.h"
#include "xpp/record.h"

struct xpp_counter_field {
	const char *name;
	size_t offset; /* of a __u64 in struct xpp_counters */
};

extern const struct xpp_counter_field xpp_counter_fields[];
extern const size_t xpp_counter_fields_n;
/* Indexed by enum xpp_malformed. */
extern const char *const xpp_malformed_names[XPP_M_MAX];
/* Bits in xpp_record.flags. */
#define XPP_FLAG_BITS 32
/* Indexed by bit number of xpp_record.flags; NULL for unused bits. */
extern const char *const xpp_flag_names[XPP_FLAG_BITS];

static inline unsigned long long
xpp_counter_get(const struct xpp_counters *c, const struct xpp_counter_field *f)
{
	return *(const __u64 *)((const char *)c + f->offset);
}

#endif
