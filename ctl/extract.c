// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdpctl extract: pcap or pcapng in, records out. Every frame goes through
 * the very XDP program the daemon runs (BPF_PROG_TEST_RUN), so training
 * data and live inference share one extractor, bit for bit. The records
 * carry the capture's own timestamps. Streams: one frame in flight, memory
 * stays flat whatever the file size.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "capture.h"
#include "datapath.h"
#include "extract.h"
#include "format.h"
#include "log.h"
#include "names.h"
#include "xpp/stream.h"

/* Test runs take at most this much linear data; longer frames are cut
 * to it, and their records say so (ip_trunc). */
#define MAX_TEST_FRAME 3500

struct extract {
	const struct extract_opts *o;
	FILE *out;
	struct xpp_datapath *dp;
	struct xpp_reader *rd;
	struct xpp_record rec;
	int got;
	uint64_t frames, records, runts, clipped, write_errors;
};

static int on_record(void *ctx, const struct xpp_record *r)
{
	struct extract *x = ctx;

	x->rec = *r;
	x->got++;
	return 0;
}

static int emit(struct extract *x, uint64_t wall_ns)
{
	char buf[1024];
	int n;

	/* No interface: the frame came from a file. */
	x->rec.ifindex = 0;
	x->rec.rx_queue = 0;
	if (x->o->format == XPP_FMT_BINARY) {
		x->rec.ts_ns = wall_ns;
		return fwrite(&x->rec, sizeof(x->rec), 1, x->out) == 1 ? 0 : -1;
	}
	n = xpp_format_text(&x->rec, x->o->format, wall_ns, buf, sizeof(buf));
	return n > 0 && fwrite(buf, 1, n, x->out) == (size_t)n ? 0 : -1;
}

static int run_frame(struct extract *x, const uint8_t *data, size_t len,
		     uint64_t wall_ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .repeat = 1);
	static uint8_t out[MAX_TEST_FRAME + 256];
	int err;

	if (len > MAX_TEST_FRAME) {
		len = MAX_TEST_FRAME;
		x->clipped++;
	}
	t.data_in = data;
	t.data_size_in = len;
	/* Not needed, but memory checkers expect the buffer the kernel
	 * could copy the frame back to. */
	t.data_out = out;
	t.data_size_out = sizeof(out);
	x->got = 0;
	err = bpf_prog_test_run_opts(xpp_datapath__prog_fd(x->dp), &t);
	if (err < 0)
		return -errno;
	err = xpp_reader__drain(x->rd);
	if (err < 0)
		return err;
	if (x->got > 1)
		return -EPROTO; /* cannot happen: one record per frame */
	if (x->got) {
		x->records++;
		if (emit(x, wall_ns))
			return -EIO;
	}
	return 0;
}

static void summary(struct extract *x, const char *file)
{
	struct xpp_counters c = {};
	const char *sep = "; malformed: ";
	size_t i;

	xpp_datapath__counters(x->dp, 1, &c);
	fprintf(stderr,
		"xdpctl: %s: %llu frames: %llu records, %llu not IP, %llu "
		"skipped, %llu lost, %llu too short for Ethernet",
		file, (unsigned long long)x->frames,
		(unsigned long long)x->records, (unsigned long long)c.not_ip,
		(unsigned long long)c.records_skipped,
		(unsigned long long)c.records_lost,
		(unsigned long long)x->runts);
	if (x->clipped)
		fprintf(stderr, ", %llu cut to %d bytes",
			(unsigned long long)x->clipped, MAX_TEST_FRAME);
	for (i = 0; i < XPP_M_MAX; i++) {
		if (!c.malformed[i])
			continue;
		fprintf(stderr, "%s%s %llu", sep, xpp_malformed_names[i],
			(unsigned long long)c.malformed[i]);
		sep = ", ";
	}
	fprintf(stderr, "\n");
}

int extract_run(const struct extract_opts *o)
{
	char errbuf[1024] = "", dperr[512] = "";
	struct xpp_datapath_opts dpo = {
		.ring_bytes = XPP_RING_BYTES_MIN,
		.errbuf = dperr,
		.errbuf_sz = sizeof(dperr),
	};
	struct extract x = { .o = o };
	const uint8_t *data;
	struct capture *p;
	uint32_t caplen;
	uint64_t wall;
	cpu_set_t set;
	int r, ret = EXTRACT_OK;

	p = capture_open(o->file, errbuf, sizeof(errbuf));
	if (!p) {
		fprintf(stderr, "xdpctl: extract: %s\n", errbuf);
		return EXTRACT_BAD_INPUT;
	}
	/* One CPU: all records in one ring, in frame order. */
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu(), &set);
	sched_setaffinity(0, sizeof(set), &set);
	x.dp = xpp_datapath__open(&dpo);
	if (!x.dp) {
		fprintf(stderr, "xdpctl: extract: %s%s\n",
			dperr[0] ? dperr : strerror(errno),
			errno == EPERM ? " (run as root, or with CAP_BPF and "
					 "CAP_PERFMON)" :
					 "");
		capture_close(p);
		return EXTRACT_FAILED;
	}
	if (o->config)
		xpp_datapath__config_set(x.dp, o->config);
	/* Test runs arrive on lo: count them in a slot of their own. */
	r = xpp_datapath__counters_init(x.dp, 1);
	if (r) {
		fprintf(stderr, "xdpctl: extract: counters: %s\n",
			strerror(-r));
		ret = EXTRACT_FAILED;
		goto out;
	}
	x.rd = xpp_reader__new(x.dp, on_record, &x);
	if (!x.rd) {
		fprintf(stderr, "xdpctl: extract: ring reader: %s\n",
			strerror(errno));
		ret = EXTRACT_FAILED;
		goto out;
	}
	x.out = o->out;
	if (o->format == XPP_FMT_CSV)
		fputs(xpp_csv_header, x.out);
	if (o->format == XPP_FMT_BINARY) {
		struct xpp_stream_header hdr = {
			.magic = XPP_STREAM_MAGIC,
			.record_version = XPP_RECORD_VERSION,
			.record_size = sizeof(struct xpp_record),
			.flags = XPP_STREAM_F_WALLCLOCK,
		};

		fwrite(&hdr, sizeof(hdr), 1, x.out);
	}

	while ((r = capture_next(p, &data, &caplen, &wall)) == 1) {
		x.frames++;
		if (caplen < 14) {
			/* No XDP program ever sees these. */
			x.runts++;
			continue;
		}
		r = run_frame(&x, data, caplen, wall);
		if (r == -EIO) {
			fprintf(stderr, "xdpctl: extract: writing %s: %s\n",
				o->out_name, strerror(errno));
			ret = EXTRACT_FAILED;
			goto out;
		}
		if (r) {
			fprintf(stderr,
				"xdpctl: extract: %s: frame %llu: running the "
				"program: %s\n",
				o->file, (unsigned long long)x.frames,
				strerror(-r));
			ret = EXTRACT_FAILED;
			goto out;
		}
	}
	if (r < 0) {
		fprintf(stderr,
			"xdpctl: extract: %s: damaged after frame %llu: %s "
			"(the records of the frames before it were written)\n",
			o->file, (unsigned long long)x.frames, capture_error(p));
		ret = EXTRACT_BAD_INPUT;
	}
	if (fflush(x.out) || ferror(x.out)) {
		fprintf(stderr, "xdpctl: extract: writing %s: %s\n", o->out_name,
			strerror(errno));
		ret = EXTRACT_FAILED;
	}
	if (!o->quiet_summary)
		summary(&x, o->file);
out:
	xpp_reader__free(x.rd);
	xpp_datapath__destroy(x.dp);
	capture_close(p);
	return ret;
}
