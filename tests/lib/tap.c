// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tap.h"

/* The harness's own state: what runs now and what was reported. */
static struct {
	const char *filter_case; /* NULL: every case */
	const char *filter_sub;	 /* NULL: every subtest of a case */
	const char *name;	 /* the running case */
	bool has_subtests;	 /* it started one */
	bool in_subtest;
	char subtest[256];	 /* "case/subtest" */
	/* The running case outside its subtests, [1] inside the subtest. */
	bool failed[2];
	char skip_reason[2][256]; /* "" when not skipped */
	size_t lines, lines_failed;
	unsigned long checks;
} tap;

static int unit(void)
{
	return tap.in_subtest;
}

static void report(const char *name, bool failed, const char *skip_reason)
{
	tap.lines++;
	if (failed) {
		tap.lines_failed++;
		printf("not ok %zu - %s\n", tap.lines, name);
	} else if (skip_reason[0]) {
		printf("ok %zu - %s # SKIP %s\n", tap.lines, name, skip_reason);
	} else {
		printf("ok %zu - %s\n", tap.lines, name);
	}
}

static void end_subtest(void)
{
	if (!tap.in_subtest)
		return;
	report(tap.subtest, tap.failed[1], tap.skip_reason[1]);
	tap.in_subtest = false;
}

bool tap_subtest(const char *name)
{
	end_subtest();
	tap.has_subtests = true;
	if (tap.filter_sub && !strstr(name, tap.filter_sub))
		return false;
	snprintf(tap.subtest, sizeof(tap.subtest), "%s/%s", tap.name, name);
	tap.in_subtest = true;
	tap.failed[1] = false;
	tap.skip_reason[1][0] = '\0';
	return true;
}

void tap_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tap.skip_reason[unit()], sizeof(tap.skip_reason[0]), fmt, ap);
	va_end(ap);
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

bool tap_check(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap.checks++;
	if (ok)
		return true;
	tap.failed[unit()] = true;
	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return false;
}

static void hex(const char *what, const unsigned char *b, size_t n)
{
	size_t i;

	printf("#   %s:", what);
	for (i = 0; i < n; i++)
		printf(" %02x", b[i]);
	printf("\n");
}

bool tap_check_mem(const void *got, const void *want, size_t n,
		   const char *file, int line, const char *name)
{
	bool ok = !memcmp(got, want, n);

	if (!tap_check(ok, file, line, "%s: differs", name)) {
		hex("got ", got, n);
		hex("want", want, n);
	}
	return ok;
}

static void run_case(const struct tap_case *c)
{
	tap.name = c->name;
	tap.has_subtests = tap.in_subtest = false;
	tap.failed[0] = false;
	tap.skip_reason[0][0] = '\0';
	c->fn();
	end_subtest();
	/* A case with subtests has a line of its own only to report what
	 * went wrong outside them. */
	if (!tap.has_subtests || tap.failed[0] || tap.skip_reason[0][0])
		report(c->name, tap.failed[0], tap.skip_reason[0]);
}

int tap_main(const struct tap_group *const *groups, size_t n, int argc,
	     char **argv)
{
	static char filter[256];
	size_t g, i;
	char *slash;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1) {
		snprintf(filter, sizeof(filter), "%s", argv[1]);
		tap.filter_case = filter;
		slash = strchr(filter, '/');
		if (slash) {
			*slash = '\0';
			tap.filter_sub = slash + 1;
		}
	}
	for (g = 0; g < n; g++) {
		for (i = 0; i < groups[g]->n; i++) {
			const struct tap_case *c = &groups[g]->cases[i];

			if (!tap.filter_case ||
			    strstr(c->name, tap.filter_case))
				run_case(c);
		}
	}
	/* The plan comes last: subtests are known only once run. */
	printf("# %lu checks\n", tap.checks);
	printf("1..%zu\n", tap.lines);
	return tap.lines_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
