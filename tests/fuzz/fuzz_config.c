// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: the configuration file parser. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[1024], buf[4096];
	const char *const *k;
	struct xpp_conf c;
	int fd;

	fd = memfd_create("conf", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		xpp_conf_defaults(&c);
		if (xpp_conf_load(&c, path, err, sizeof(err)) == 0)
			/* What loads must print back (config get). */
			for (k = xpp_conf_keys; *k; k++)
				xpp_conf_get(&c, *k, buf, sizeof(buf));
	}
	close(fd);
	return 0;
}
