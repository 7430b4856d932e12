/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A tiny test harness that speaks TAP, with the kernel BPF selftests'
 * assertions: each ASSERT_*() evaluates to true when its check holds;
 * otherwise it prints what was expected and what came, marks the running
 * case failed and still evaluates to false, so the caller decides what
 * cannot go on and cleans up in one place:
 *
 *	if (!ASSERT_OK(xpp_datapath__config_set(dp, &cfg), "config_set"))
 *		goto out;
 *
 * A case is a void function. tap_subtest() reports parts of a case (the
 * rows of a table, say) on TAP lines of their own; tap_skip() marks the
 * running case or subtest skipped, with the reason.
 */
#ifndef XPP_TEST_TAP_H
#define XPP_TEST_TAP_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct tap_case {
	const char *name;
	void (*fn)(void);
};

#define TAP_CASE(fn) { #fn, fn }

/* The cases of one file, in the order they run. */
struct tap_group {
	const struct tap_case *cases;
	size_t n;
};

#define TAP_GROUP(var, ...)                                                \
	static const struct tap_case var##_cases[] = { __VA_ARGS__ };      \
	const struct tap_group var = {                                     \
		var##_cases, sizeof(var##_cases) / sizeof(var##_cases[0]) \
	}

/* Runs the cases that argv[1] selects, all without it: "NAME" runs the
 * cases whose name contains NAME, "NAME/SUB" only those of their subtests
 * whose name contains SUB. Prints one TAP line per case (per subtest in a
 * case that has them), then the plan. Exit status 0 when none failed. */
int tap_main(const struct tap_group *const *groups, size_t n, int argc,
	     char **argv);

/* Ends the running subtest, if any, and starts the next; false when the
 * filter leaves it out (the caller skips its body). A subtest ends at the
 * next tap_subtest() or when the case returns. */
bool tap_subtest(const char *name);
void tap_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints a TAP comment (a line starting with "# "). */
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* What the macros call: counts the check; when !ok, prints where and what
 * and marks the running case failed. Returns ok. */
bool tap_check(bool ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
bool tap_check_mem(const void *got, const void *want, size_t n,
		   const char *file, int line, const char *name);

/* Integers compare as unsigned long long (as C converts them for ==) and
 * print signed, so -ENOENT reads as -2. */
#define ASSERT_EQ(got, want, name) ({                                      \
	unsigned long long ___got = (got), ___want = (want);               \
	tap_check(___got == ___want, __FILE__, __LINE__,                   \
		  "%s: got %lld (%#llx), want %lld", (name),               \
		  (long long)___got, ___got, (long long)___want);          \
})

/* Ordered comparisons are signed: the values tests compare fit. */
#define ASSERT_GE(got, min, name) ({                                       \
	long long ___got = (got), ___min = (min);                          \
	tap_check(___got >= ___min, __FILE__, __LINE__,                    \
		  "%s: got %lld, want at least %lld", (name), ___got,      \
		  ___min);                                                 \
})

#define ASSERT_LE(got, max, name) ({                                       \
	long long ___got = (got), ___max = (max);                          \
	tap_check(___got <= ___max, __FILE__, __LINE__,                    \
		  "%s: got %lld, want at most %lld", (name), ___got,       \
		  ___max);                                                 \
})

#define ASSERT_TRUE(cond, name)                                            \
	tap_check(!!(cond), __FILE__, __LINE__, "%s: got false, want true", \
		  (name))

/* 0 or, for a negative errno, what it means. */
#define ASSERT_OK(res, name) ({                                            \
	long long ___res = (res);                                          \
	tap_check(___res == 0, __FILE__, __LINE__,                         \
		  "%s: got %lld (%s), want 0", (name), ___res,             \
		  ___res < 0 ? strerror((int)-___res) : "not an error");   \
})

/* Not NULL; errno says why it was. */
#define ASSERT_OK_PTR(ptr, name) ({                                        \
	const void *___ptr = (ptr);                                        \
	tap_check(___ptr != NULL, __FILE__, __LINE__, "%s: NULL (%s)",     \
		  (name), strerror(errno));                                \
})

#define ASSERT_MEMEQ(got, want, n, name)                                   \
	tap_check_mem((got), (want), (n), __FILE__, __LINE__, (name))

#endif
