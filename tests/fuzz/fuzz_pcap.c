// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: reading captures (every format libwiretap reads) as
 * xdpctl extract does, frame by frame, through every link type's path:
 * Ethernet with and without FCS, SLL, SLL2, raw IP, loopback, the
 * timestamp checks, the cut to max_len (short here, so that it is taken
 * often). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[1024];
	struct capture_frame f;
	struct capture *c;
	uint64_t sum = 0;
	int fd, i, r = 0;

	fd = memfd_create("pcap", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size)
		goto out;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	c = capture_open(path, 256, err, sizeof(err));
	if (!c)
		goto out;
	for (i = 0; i < 10000 && (r = capture_next(c, &f)) > 0; i++) {
		if (r == CAPTURE_REFUSED) {
			sum += strlen(f.why);
			continue;
		}
		/* Touch the metadata and the whole frame. */
		sum += f.buf[0] + f.buf[f.meta_len + f.len - 1] + f.wire_len;
	}
	if (r < 0)
		sum += strlen(capture_error(c));
	capture_stats(c);
	capture_close(c);
out:
	close(fd);
	return sum == 1; /* keeps sum alive; libFuzzer ignores the value */
}
