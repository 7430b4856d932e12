/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by every program of the project. */
#ifndef XPP_UTIL_H
#define XPP_UTIL_H

#include <errno.h>
#include <stdlib.h>
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

#endif /* XPP_UTIL_H */
