// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: reading captures (pcap, pcapng) as xdpctl extract
 * does, frame by frame. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[1024];
	const uint8_t *frame;
	struct capture *c;
	uint32_t caplen;
	uint64_t ts, sum = 0;
	int fd, i;

	fd = memfd_create("pcap", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size)
		goto out;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	c = capture_open(path, err, sizeof(err));
	if (!c)
		goto out;
	for (i = 0; i < 10000 && capture_next(c, &frame, &caplen, &ts) == 1;
	     i++)
		if (caplen)
			sum += frame[caplen - 1]; /* touch the whole frame */
	capture_close(c);
out:
	close(fd);
	return sum == 1; /* keeps sum alive; libFuzzer ignores the value */
}
