// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: what user space does with a flow the kernel ended
 * (lib/flows.c), on any bytes the table could hold: the record it makes,
 * the text formats (every line fits XPP_FLOW_FORMAT_MAX, NDJSON parses and
 * has the CSV header's fields, the derived statistics are finite and not
 * negative), and the expiry decision xpp_flow_due() against the rule of
 * docs/flows.md written out plainly.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "flows.h"

/* The rule of docs/flows.md, "Expiry", without the shortcuts of
 * xpp_flow_due(): the earliest due time, end before idle before active
 * on a tie; due when now is at or past it. Sums in 128 bits. */
static __u32 due_by_rule(const struct xpp_flow *f, __u64 now, __u64 idle,
			 __u64 active, __u64 grace)
{
	unsigned __int128 t[3], best = ~(unsigned __int128)0;
	__u32 why = 0;
	int i;

	t[0] = f->tcp_state & XPP_FLOW_ENDED ?
		       (unsigned __int128)f->end_ns + grace :
		       ~(unsigned __int128)0;
	t[1] = (unsigned __int128)f->bidir.last_seen_ns + idle;
	t[2] = (unsigned __int128)f->bidir.first_seen_ns + active;
	for (i = 0; i < 3; i++) {
		if (t[i] < best) {
			best = t[i];
			why = i == 0 ? XPP_END_END :
			      i == 1 ? XPP_END_IDLE :
				       XPP_END_ACTIVE;
		}
	}
	/* An ended TCP flow is not cut by its active timeout. */
	if (why == XPP_END_ACTIVE && f->tcp_state & XPP_FLOW_ENDED &&
	    f->end_ns <= best)
		why = XPP_END_END;
	return now >= best ? why : 0;
}

static int fields(const char *line, char sep)
{
	int n = 1, quoted = 0;

	for (; *line && *line != '\n'; line++) {
		if (*line == '"')
			quoted = !quoted;
		else if (*line == sep && !quoted)
			n++;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[XPP_FLOW_FORMAT_MAX], hdr[XPP_FLOW_FORMAT_MAX];
	struct xpp_flow_export x = { 0 };
	struct xpp_flow_record r;
	struct {
		__u8 accounting, splt, cols;
		__u8 pad[5];
		__s64 offset;
		__u64 now, idle, active, grace;
	} opt = { 0 };
	json_object *j;
	__u32 a, b;
	int i, n;

	if (size < sizeof(opt))
		return 0;
	memcpy(&opt, data, sizeof(opt));
	data += sizeof(opt);
	size -= sizeof(opt);
	memcpy(&x, data, size < sizeof(x) ? size : sizeof(x));

	/* Timeouts as the configuration bounds them; the times as any
	 * clock within 64 bits of them. */
	opt.idle %= (__u64)XPP_TIMEOUT_MAX * 1000000000ULL;
	opt.active %= (__u64)XPP_TIMEOUT_MAX * 1000000000ULL;
	opt.grace %= 10 * 1000000000ULL;
	if (x.flow.bidir.last_seen_ns < UINT64_MAX / 2 &&
	    x.flow.bidir.first_seen_ns < UINT64_MAX / 2 &&
	    x.flow.end_ns < UINT64_MAX / 2) {
		a = xpp_flow_due(&x.flow, opt.now, opt.idle, opt.active,
				 opt.grace);
		b = due_by_rule(&x.flow, opt.now, opt.idle, opt.active,
				opt.grace);
		if (a != b) {
			fprintf(stderr, "xpp_flow_due %u, the rule %u\n", a, b);
			abort();
		}
	}

	xpp_flow_record_make(&x, opt.offset, opt.accounting % 5,
			     opt.splt % (XPP_SPLT_MAX + 2), &r);
	for (i = 0; i < 3; i++) {
		if (!isfinite(r.mean_ps[i]) || r.mean_ps[i] < 0 ||
		    !isfinite(r.stddev_ps[i]) || r.stddev_ps[i] < 0 ||
		    !isfinite(r.mean_piat_ns[i]) || r.mean_piat_ns[i] < 0 ||
		    !isfinite(r.stddev_piat_ns[i]) || r.stddev_piat_ns[i] < 0)
			abort();
	}
	n = xpp_flow_format_text(&r, XPP_FMT_NDJSON, opt.cols & 1, buf,
				 sizeof(buf));
	if (n <= 0 || buf[n - 1] != '\n')
		abort();
	j = json_tokener_parse(buf);
	if (!j || !json_object_is_type(j, json_type_object))
		abort();
	if (xpp_flow_csv_header(opt.cols & 1, hdr, sizeof(hdr)) <= 0 ||
	    json_object_object_length(j) != fields(hdr, ','))
		abort();
	json_object_put(j);
	n = xpp_flow_format_text(&r, XPP_FMT_CSV, opt.cols & 1, buf,
				 sizeof(buf));
	if (n <= 0 || fields(buf, ',') != fields(hdr, ','))
		abort();
	return 0;
}
