// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>

#include "cli.h"

void xpp_getopt_init(struct xpp_getopt *g, const struct xpp_option *opts)
{
	size_t n = 0, s = 0;

	memset(g, 0, sizeof(*g));
	g->shortopts[s++] = '+'; /* stop at the first non-option */
	for (; opts->name && n < XPP_OPTIONS_MAX; opts++, n++) {
		g->longopts[n].name = opts->name;
		g->longopts[n].has_arg = opts->metavar ? required_argument :
							 no_argument;
		g->longopts[n].val = opts->key;
		if (opts->key < 256) {
			g->shortopts[s++] = opts->key;
			if (opts->metavar)
				g->shortopts[s++] = ':';
		}
	}
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
