// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdlib.h>

#include "tap.h"

int tap_failed;
const char *tap_skipped;
char tap_skip_buf[256];

void tap_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_failed = 1;
	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

int tap_main(const struct tap_case *cases, size_t n, int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	size_t i, run = 0, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i++)
		if (!filter || strstr(cases[i].name, filter))
			run++;
	printf("1..%zu\n", run);
	run = 0;
	for (i = 0; i < n; i++) {
		if (filter && !strstr(cases[i].name, filter))
			continue;
		run++;
		tap_failed = 0;
		tap_skipped = NULL;
		cases[i].fn();
		if (tap_failed) {
			failed++;
			printf("not ok %zu - %s\n", run, cases[i].name);
		} else if (tap_skipped) {
			printf("ok %zu - %s # SKIP %s\n", run, cases[i].name,
			       tap_skipped);
		} else {
			printf("ok %zu - %s\n", run, cases[i].name);
		}
	}
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
