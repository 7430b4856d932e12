/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Command-line options declared once, in a table: getopt_long's arrays and
 * the --help text are both generated from it. A program with subcommands
 * gives each its own table, so that help and refusal come from the same
 * place.
 */
#ifndef XPP_CLI_H
#define XPP_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * What a typed option stores, at .off in the caller's configuration
 * struct. XPP_OPT_CALLER (the default of an entry that names no type)
 * stores nothing: the caller's getopt switch handles the key.
 */
enum xpp_opt_type {
	XPP_OPT_CALLER,
	XPP_OPT_BOOL,	/* bool, set to true */
	XPP_OPT_STRING, /* const char *, the argument as given */
	XPP_OPT_NUM,	/* long long, a decimal number in [min, max] */
	XPP_OPT_ENUM,	/* const char *, the entry of choices it equals */
};

struct xpp_option {
	const char *name;    /* long name */
	int key;	     /* short letter, or a value >= 256 */
	const char *metavar; /* NULL: takes no argument */
	const char *help;
	enum xpp_opt_type type;
	size_t off;
	long long min, max;	    /* XPP_OPT_NUM */
	const char *const *choices; /* XPP_OPT_ENUM, ending with NULL */
};

/*
 * Designated-initializer tails for typed entries, storing into member M of
 * struct S. The _Generic term compiles only when M has the type the option
 * writes, so a table cannot scribble over a member of another type.
 */
#define XPP_OPT_AT(S, M, T) \
	.off = offsetof(S, M) + 0 * sizeof(_Generic(((S *)0)->M, T: 1))
#define XPP_BOOL(S, M) .type = XPP_OPT_BOOL, XPP_OPT_AT(S, M, bool)
#define XPP_STRING(S, M) .type = XPP_OPT_STRING, XPP_OPT_AT(S, M, const char *)
#define XPP_NUM(S, M, lo, hi)                             \
	.type = XPP_OPT_NUM, XPP_OPT_AT(S, M, long long), \
	.min = (lo), .max = (hi)
#define XPP_ENUM(S, M, ch)                                   \
	.type = XPP_OPT_ENUM, XPP_OPT_AT(S, M, const char *), \
	.choices = (ch)

#define XPP_OPTIONS_MAX 32

struct xpp_getopt {
	struct option longopts[XPP_OPTIONS_MAX + 1];
	char shortopts[XPP_OPTIONS_MAX * 2 + 2];
	size_t nlong, nshort;
};

/* Fills g from a table ending with { NULL }. */
void xpp_getopt_init(struct xpp_getopt *g, const struct xpp_option *opts);
/*
 * Adds the options of another table whose keys g does not hold yet: the
 * union of several subcommands' tables. -EINVAL when a key g holds names
 * another option or takes its argument otherwise, -E2BIG past
 * XPP_OPTIONS_MAX.
 */
int xpp_getopt_add(struct xpp_getopt *g, const struct xpp_option *opts);
/* Prints the options, aligned, one per line. */
void xpp_options_help(FILE *out, const struct xpp_option *opts);

/* The entry of key in opts, or NULL when the table does not take it. */
const struct xpp_option *xpp_option_find(const struct xpp_option *opts,
					 int key);
/*
 * Stores a typed option's value (arg: its argument, NULL for a flag) into
 * cfg. -EINVAL when arg is not a value it takes (xpp_option_want says
 * which are), -EOPNOTSUPP for an XPP_OPT_CALLER entry.
 */
int xpp_option_set(const struct xpp_option *o, const char *arg, void *cfg);
/* The values o takes, in words: "a number from 1 to 9", "a, b or c". */
void xpp_option_want(const struct xpp_option *o, char *buf, size_t sz);

#endif
