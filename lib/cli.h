/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Command-line options declared once, in a table: getopt_long's arrays and
 * the --help text are both generated from it.
 */
#ifndef XPP_CLI_H
#define XPP_CLI_H

#include <getopt.h>
#include <stdio.h>

struct xpp_option {
	const char *name;    /* long name */
	int key;	     /* short letter, or a value >= 256 */
	const char *metavar; /* NULL: takes no argument */
	const char *help;
};

#define XPP_OPTIONS_MAX 32

struct xpp_getopt {
	struct option longopts[XPP_OPTIONS_MAX + 1];
	char shortopts[XPP_OPTIONS_MAX * 2 + 2];
};

/* Fills g from a table ending with { NULL }. */
void xpp_getopt_init(struct xpp_getopt *g, const struct xpp_option *opts);
/* Prints the options, aligned, one per line. */
void xpp_options_help(FILE *out, const struct xpp_option *opts);

#endif
