/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by every program of the project. */
#ifndef XPP_UTIL_H
#define XPP_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Hands ownership of a cleanup variable to the caller. */
#define TAKE_PTR(p)                            \
	({                                     \
		__typeof__(p) _p = (p);        \
		(p) = NULL;                    \
		_p;                            \
	})
#define TAKE_FD(fd)                            \
	({                                     \
		int _fd = (fd);                \
		(fd) = -1;                     \
		_fd;                           \
	})

/* CLOCK_MONOTONIC in nanoseconds: the clock of the records' ts_ns. */
static inline uint64_t xpp_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

#endif /* XPP_UTIL_H */
