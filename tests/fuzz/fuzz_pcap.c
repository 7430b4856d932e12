// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: reading captures (every format libwiretap reads) as
 * xdpctl extract does, frame by frame, through every link type's path:
 * Ethernet with and without FCS, SLL, SLL2, raw IP, loopback, the
 * timestamp checks, the cut to max_len (short here, so that it is taken
 * often). Differential too: plain pcap files, which the reader reads
 * without libwiretap, read the same through libwiretap alone. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

static void fail(const char *what, uint64_t frame)
{
	fprintf(stderr,
		"fuzz_pcap: frame %llu: %s differs between the plain "
		"pcap reader and libwiretap\n",
		(unsigned long long)frame, what);
	abort();
}

static void link_count(void *ctx, const char *name, uint64_t frames)
{
	char *s = ctx;
	size_t n = strlen(s);

	snprintf(s + n, 1024 - n, "%s %llu;", name, (unsigned long long)frames);
}

/* The same file through the reader as xdpctl uses it and through
 * libwiretap alone: every frame, refusal, error and count the same. */
static uint64_t compare(const char *path)
{
	char err[1024], la[1024] = "", lb[1024] = "";
	struct capture_frame f, g;
	struct capture *a, *b;
	uint64_t sum = 0;
	int i, r = 0, rb;

	a = capture_open(path, 256, err, sizeof(err));
	b = capture_open(path, 256, err, sizeof(err));
	if (!a || !b) {
		if (a || b)
			fail("opening", 0);
		return 0;
	}
	capture_wiretap_only(b);
	for (i = 0; i < 10000; i++) {
		r = capture_next(a, &f);
		rb = capture_next(b, &g);
		if (r != rb)
			fail("the outcome", i);
		if (r <= 0)
			break;
		if (r == CAPTURE_REFUSED) {
			if (f.refusal != g.refusal || strcmp(f.why, g.why))
				fail("the refusal", i);
			sum += strlen(f.why);
			continue;
		}
		if (f.meta_len != g.meta_len || f.len != g.len ||
		    memcmp(f.buf, g.buf, f.meta_len + f.len) ||
		    f.ts_ns != g.ts_ns || f.wire_len != g.wire_len ||
		    f.ifindex != g.ifindex || f.pkt_type != g.pkt_type)
			fail("the frame", i);
		/* Touch the metadata and the whole frame. */
		sum += f.buf[0] + f.buf[f.meta_len + f.len - 1] + f.wire_len;
	}
	if (r < 0 && strcmp(capture_error(a), capture_error(b)))
		fail("the error", i);
	if (memcmp(capture_stats(a), capture_stats(b),
		   sizeof(struct capture_stats)))
		fail("the counts", i);
	capture_link_counts(a, link_count, la);
	capture_link_counts(b, link_count, lb);
	if (strcmp(la, lb))
		fail("the link types", i);
	capture_close(a);
	capture_close(b);
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	uint64_t sum = 0;
	int fd;

	fd = memfd_create("pcap", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		sum = compare(path);
	}
	close(fd);
	return sum == 1; /* keeps sum alive; libFuzzer ignores the value */
}
