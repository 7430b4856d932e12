// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void xpp_getopt_init(struct xpp_getopt *g, const struct xpp_option *opts)
{
	memset(g, 0, sizeof(*g));
	g->shortopts[g->nshort++] = '+'; /* stop at the first non-option */
	xpp_getopt_add(g, opts);
}

int xpp_getopt_add(struct xpp_getopt *g, const struct xpp_option *opts)
{
	for (; opts->name; opts++) {
		int has_arg = opts->metavar ? required_argument : no_argument;
		struct option *lo = NULL;
		size_t i;

		for (i = 0; i < g->nlong && !lo; i++)
			if (g->longopts[i].val == opts->key)
				lo = &g->longopts[i];
		if (lo) {
			/* getopt_long returns the key alone: one key, one
			 * meaning, whichever table it came from. */
			if (strcmp(lo->name, opts->name) ||
			    lo->has_arg != has_arg)
				return -EINVAL;
			continue;
		}
		if (g->nlong >= XPP_OPTIONS_MAX)
			return -E2BIG;
		lo = &g->longopts[g->nlong++];
		lo->name = opts->name;
		lo->has_arg = has_arg;
		lo->val = opts->key;
		if (opts->key < 256) {
			g->shortopts[g->nshort++] = opts->key;
			if (opts->metavar)
				g->shortopts[g->nshort++] = ':';
		}
	}
	return 0;
}

void xpp_options_help(FILE *out, const struct xpp_option *opts)
{
	for (; opts->name; opts++) {
		char left[64];

		if (opts->key < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", opts->key,
				 opts->name, opts->metavar ? " " : "",
				 opts->metavar ? opts->metavar : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", opts->name,
				 opts->metavar ? " " : "",
				 opts->metavar ? opts->metavar : "");
		fprintf(out, "  %-28s %s\n", left, opts->help);
	}
}

const struct xpp_option *xpp_option_find(const struct xpp_option *opts,
					 int key)
{
	for (; opts->name; opts++)
		if (opts->key == key)
			return opts;
	return NULL;
}

int xpp_option_set(const struct xpp_option *o, const char *arg, void *cfg)
{
	char *at = (char *)cfg + o->off, *end;
	const char *const *c;
	long long v;

	switch (o->type) {
	case XPP_OPT_BOOL:
		*(bool *)at = true;
		return 0;
	case XPP_OPT_STRING:
		*(const char **)at = arg;
		return 0;
	case XPP_OPT_NUM:
		errno = 0;
		v = strtoll(arg, &end, 10);
		if (errno || end == arg || *end || v < o->min || v > o->max)
			return -EINVAL;
		*(long long *)at = v;
		return 0;
	case XPP_OPT_ENUM:
		for (c = o->choices; *c; c++) {
			if (!strcmp(arg, *c)) {
				/* The table's string: it outlives argv. */
				*(const char **)at = *c;
				return 0;
			}
		}
		return -EINVAL;
	case XPP_OPT_CALLER:
		break;
	}
	return -EOPNOTSUPP;
}

void xpp_option_want(const struct xpp_option *o, char *buf, size_t sz)
{
	size_t len = 0;
	int i, n = 0;

	if (!sz)
		return;
	buf[0] = '\0';
	if (o->type == XPP_OPT_NUM) {
		snprintf(buf, sz, "a number from %lld to %lld", o->min, o->max);
		return;
	}
	if (o->type != XPP_OPT_ENUM)
		return;
	while (o->choices[n])
		n++;
	for (i = 0; i < n && len < sz; i++) {
		int w = snprintf(buf + len, sz - len, "%s%s",
				 !i	       ? "" :
				 i == n - 1 ? " or " :
					      ", ",
				 o->choices[i]);

		if (w < 0)
			break;
		len += w;
	}
}
