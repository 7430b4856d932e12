/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A tiny test harness that speaks TAP: each case is a void function; an
 * ASSERT_* that fails prints what was expected and what came, marks the
 * case failed and returns from it. SKIP() marks it skipped with a reason.
 */
#ifndef XPP_TEST_TAP_H
#define XPP_TEST_TAP_H

#include <stdio.h>
#include <string.h>

struct tap_case {
	const char *name;
	void (*fn)(void);
};

extern int tap_failed;	      /* set by a failed assertion */
extern const char *tap_skipped; /* set by SKIP() */
extern char tap_skip_buf[256];

void tap_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Runs the cases whose name contains argv[1] (all without it). Exit
 * status 0 when none failed. */
int tap_main(const struct tap_case *cases, size_t n, int argc, char **argv);

#define TAP_CASE(fn) { #fn, fn }

#define ASSERT_EQ(a, b)                                                    \
	do {                                                               \
		unsigned long long _a = (a), _b = (b);                     \
		if (_a != _b) {                                            \
			tap_fail(__FILE__, __LINE__,                       \
				 "%s == %s: got %llu (%#llx), want %llu", #a, \
				 #b, _a, _a, _b);                          \
			return;                                            \
		}                                                          \
	} while (0)

#define ASSERT_TRUE(c)                                                     \
	do {                                                               \
		if (!(c)) {                                                \
			tap_fail(__FILE__, __LINE__, "expected %s", #c);   \
			return;                                            \
		}                                                          \
	} while (0)

#define ASSERT_MEM(a, b, n)                                                \
	do {                                                               \
		if (memcmp((a), (b), (n))) {                               \
			tap_fail(__FILE__, __LINE__, "%s differs from %s", \
				 #a, #b);                                  \
			return;                                            \
		}                                                          \
	} while (0)

#define ASSERT_OK(e)                                                       \
	do {                                                               \
		long _e = (e);                                             \
		if (_e < 0) {                                              \
			tap_fail(__FILE__, __LINE__, "%s failed: %s", #e,  \
				 strerror((int)-_e));                      \
			return;                                            \
		}                                                          \
	} while (0)

/* After calling a helper that may fail an assertion itself. */
#define ASSERT_PASSED()                                                    \
	do {                                                               \
		if (tap_failed)                                            \
			return;                                            \
	} while (0)

#define SKIP(...)                                                          \
	do {                                                               \
		snprintf(tap_skip_buf, sizeof(tap_skip_buf), __VA_ARGS__); \
		tap_skipped = tap_skip_buf;                                \
		return;                                                    \
	} while (0)

#endif
