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

/*
 * libwiretap 4.0 (Debian 12's, and upstream's pcapng.c still) leaks the
 * record buffer of pcapng_read_name_resolution_block when the block's
 * records are read but its options are damaged: that path returns
 * without ws_buffer_free, and the Buffer is a local of the library's, out
 * of a caller's reach (wtap_rec_cleanup, ws_buffer_free and wtap_close
 * change nothing; corpus/pcap/nrb-bad-option.pcapng, a "Not enough data to
 * handle option" error, reproduces it with wiretap alone). 2 KiB, once, on
 * a file that reading stops at. The function is static and Debian strips
 * its name, so the only frame to name is wsutil's ws_buffer_init: leaks
 * of a Buffer are not reported here. The suite's ASan build still checks
 * ours (capture_close frees it; xdpctl extract under detect_leaks=1).
 * Glib has no frame pointers: the stacks that name ws_buffer_init are
 * the slow unwinder's (about a quarter fewer runs a second).
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:ws_buffer_init\n";
}

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

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
