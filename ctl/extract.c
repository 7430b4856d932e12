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
#include "util.h"
#include "xpp/stream.h"

/* What test-run gives the program as linear data after the metadata,
 * measured on Linux 6.18 (x86-64): a page less XDP_PACKET_HEADROOM (256)
 * and struct skb_shared_info (320); the metadata comes out of the
 * headroom. Longer input goes into fragments, which a program without
 * xdp.frags never reads, at about 2 us more per 9 000-byte frame: longer
 * frames are handed over cut to this, with their true length in the
 * metadata (docs/xdpctl.8). */
#define MAX_TEST_FRAME 3520
/* Refused frames named on stderr, per reason; the rest only counted. */
#define REFUSALS_NAMED 5

/* The output's buffer: static, as the stream may outlive extract_run. */
static char out_buf[1 << 16];

struct extract {
	const struct extract_opts *o;
	FILE *out;
	struct xpp_datapath *dp;
	struct xpp_reader *rd;
	struct capture *cap;
	struct xpp_record rec;
	int got;
	uint64_t records, runts, write_errors;
	/* --flows */
	struct xpp_flows *fl;
	struct xpp_config cfg;
	uint64_t clock_ns;   /* the capture's clock: its latest timestamp */
	uint64_t scan_at_ns; /* the next scan of the table, or 0: none yet */
	uint64_t ended[XPP_END_RESOURCES + 1];
	bool write_failed;
};

static int on_record(void *ctx, const struct xpp_record *r)
{
	struct extract *x = ctx;

	x->rec = *r;
	x->got++;
	return 0;
}

static int emit(struct extract *x, const struct capture_frame *f)
{
	uint64_t wall_ns = f->ts_ns;
	char buf[XPP_FORMAT_MAX];
	int n;

	/* The interface the capture names, not the one test-run used. */
	x->rec.ifindex = f->ifindex;
	x->rec.rx_queue = 0;
	if (x->o->format == XPP_FMT_BINARY) {
		x->rec.ts_ns = wall_ns;
		return fwrite(&x->rec, sizeof(x->rec), 1, x->out) == 1 ? 0 : -1;
	}
	n = xpp_format_text(&x->rec, x->o->format, wall_ns, buf, sizeof(buf));
	return n > 0 && fwrite(buf, 1, n, x->out) == (size_t)n ? 0 : -1;
}

/* One ended flow out, in the chosen format. */
static int on_flow(void *ctx, const struct xpp_flow_export *fx)
{
	struct extract *x = ctx;
	struct xpp_flow_record fr;
	char buf[XPP_FLOW_FORMAT_MAX];
	int n;

	xpp_flow_record_make(fx, 0, x->cfg.flow_accounting, x->cfg.splt_len,
			     &fr);
	if (fx->end_reason < ARRAY_SIZE(x->ended))
		x->ended[fx->end_reason]++;
	if (x->o->format == XPP_FMT_BINARY) {
		if (fwrite(&fr, sizeof(fr), 1, x->out) != 1)
			goto fail;
		return 0;
	}
	n = xpp_flow_format_text(&fr, x->o->format, x->o->columns, buf,
				 sizeof(buf));
	if (n > 0 && fwrite(buf, 1, n, x->out) == (size_t)n)
		return 0;
fail:
	x->write_failed = true;
	return -EIO;
}

/*
 * The table's scan on the capture's clock (docs/flows.md, "Expiry"): once
 * the clock has passed a second since the last scan, before the frame
 * that moved it; with force, the last one, at the end of the capture.
 */
static int flows_tick(struct extract *x, uint64_t ts_ns, bool force)
{
	int r;

	if (ts_ns > x->clock_ns)
		x->clock_ns = ts_ns;
	if (!x->scan_at_ns)
		x->scan_at_ns = x->clock_ns + XPP_FLOW_SCAN_NS;
	if (!force && x->clock_ns < x->scan_at_ns)
		return 0;
	r = xpp_flows__scan(x->fl, x->clock_ns, &x->cfg, force, NULL);
	x->scan_at_ns = x->clock_ns + XPP_FLOW_SCAN_NS;
	return r < 0 ? r : 0;
}

static int run_frame(struct extract *x, const struct capture_frame *f)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .repeat = 1);
	/* The metadata in front of the frame (xpp/meta.h): the kernel takes
	 * data_end too, and wants it to be the input's size. */
	struct xdp_md ctx = {
		.data_meta = 0,
		.data = f->meta_len,
		.data_end = f->meta_len + f->len,
	};
	int err;

	t.data_in = f->buf;
	t.data_size_in = ctx.data_end;
	t.ctx_in = &ctx;
	t.ctx_size_in = sizeof(ctx);
	/* No data_out: the kernel copies nothing back (a copy_to_user of
	 * metadata and frame with its checks, about 0.1 us a frame).
	 * valgrind's bpf() wrapper checks data_out all the same
	 * (tests/valgrind.supp). */
	x->got = 0;
	if (x->fl) {
		err = flows_tick(x, f->ts_ns, false);
		if (err < 0)
			return err;
	}
	err = bpf_prog_test_run_opts(xpp_datapath__prog_fd(x->dp), &t);
	if (err < 0)
		return -errno;
	if (x->fl) {
		err = xpp_flows__consume(x->fl);
		return err < 0 ? err : 0;
	}
	err = xpp_reader__drain(x->rd);
	if (err < 0)
		return err;
	if (x->got > 1)
		return -EPROTO; /* cannot happen: one record per frame */
	if (x->got) {
		x->records++;
		if (emit(x, f))
			return -EIO;
	}
	return 0;
}

static void print_link(void *ctx, const char *name, uint64_t frames)
{
	const char **sep = ctx;

	fprintf(stderr, "%s%s %llu", *sep, name, (unsigned long long)frames);
	*sep = ", ";
}

/* Every frame in one of: records, not IP, skipped, lost, too short,
 * refused; then what the reader saw, then what the program found. */
static void summary(struct extract *x, const char *file)
{
	const struct capture_stats *st = capture_stats(x->cap);
	struct xpp_counters c = {};
	const char *sep = "; link types: ";
	uint64_t refused = 0;
	size_t i;

	for (i = 0; i < CAPTURE_REFUSE_MAX; i++)
		refused += st->refused[i];
	xpp_datapath__counters(x->dp, 1, &c);
	if (x->fl)
		/* No records then: every IP frame is in a flow. */
		fprintf(stderr,
			"xdpctl: %s: %llu frames: %llu IP frames in flows, "
			"%llu not IP, %llu too short for Ethernet, %llu "
			"refused",
			file, (unsigned long long)st->frames,
			(unsigned long long)(c.ipv4 + c.ipv6),
			(unsigned long long)c.not_ip,
			(unsigned long long)x->runts,
			(unsigned long long)refused);
	else
		fprintf(stderr,
			"xdpctl: %s: %llu frames: %llu records, %llu not IP, "
			"%llu skipped, %llu lost, %llu too short for "
			"Ethernet, %llu refused",
			file, (unsigned long long)st->frames,
			(unsigned long long)x->records,
			(unsigned long long)c.not_ip,
			(unsigned long long)c.records_skipped,
			(unsigned long long)c.records_lost,
			(unsigned long long)x->runts,
			(unsigned long long)refused);
	capture_link_counts(x->cap, print_link, &sep);
	fprintf(stderr, "; %llu cut by the snap length",
		(unsigned long long)st->snap_cut);
	if (st->clipped)
		fprintf(stderr, ", %llu cut to %d bytes",
			(unsigned long long)st->clipped, MAX_TEST_FRAME);
	sep = "; refused: ";
	for (i = 0; i < CAPTURE_REFUSE_MAX; i++) {
		if (!st->refused[i])
			continue;
		fprintf(stderr, "%s%s %llu", sep, capture_refusal_names[i],
			(unsigned long long)st->refused[i]);
		sep = ", ";
	}
	sep = "; malformed: ";
	for (i = 0; i < XPP_M_MAX; i++) {
		if (!c.malformed[i])
			continue;
		fprintf(stderr, "%s%s %llu", sep, xpp_malformed_names[i],
			(unsigned long long)c.malformed[i]);
		sep = ", ";
	}
	if (x->fl) {
		fprintf(stderr, "; flows: ");
		for (i = XPP_END_IDLE; i <= XPP_END_RESOURCES; i++)
			fprintf(stderr, "%s%s %llu", i > XPP_END_IDLE ? ", " : "",
				xpp_flow_end_name(i),
				(unsigned long long)x->ended[i]);
		fprintf(stderr, "; %llu lost", (unsigned long long)c.flows_lost);
	}
	fprintf(stderr, "\n");
}

/* Names the first few refused frames of each reason. */
static void refused(struct extract *x, const struct capture_frame *f)
{
	const struct capture_stats *st = capture_stats(x->cap);
	uint64_t n = st->refused[f->refusal];

	if (n > REFUSALS_NAMED)
		return;
	fprintf(stderr, "xdpctl: extract: %s: frame %llu refused (%s): %s%s\n",
		x->o->file, (unsigned long long)st->frames,
		capture_refusal_names[f->refusal], f->why,
		n == REFUSALS_NAMED ? "; further frames refused for this "
				      "reason are only counted" :
				      "");
}

int extract_run(const struct extract_opts *o)
{
	char errbuf[1024] = "", dperr[512] = "";
	struct xpp_datapath_opts dpo = {
		.ring_bytes = XPP_RING_BYTES_MIN,
		.flow_entries = o->flow_entries,
		.errbuf = dperr,
		.errbuf_sz = sizeof(dperr),
	};
	struct extract x = { .o = o };
	struct capture_frame f;
	struct capture *p;
	cpu_set_t set;
	int r, ret = EXTRACT_OK;

	p = capture_open(o->file, MAX_TEST_FRAME, errbuf, sizeof(errbuf));
	if (!p) {
		fprintf(stderr, "xdpctl: extract: %s\n", errbuf);
		return EXTRACT_BAD_INPUT;
	}
	x.cap = p;
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
	xpp_config_init(&x.cfg);
	if (o->config)
		x.cfg = *o->config;
	if (o->flows) {
		x.cfg.flags |= XPP_CFG_FLOWS | XPP_CFG_NO_RECORDS;
		x.cfg.flow_accounting = o->accounting;
		x.cfg.splt_len = o->splt_len;
		x.cfg.idle_timeout_ns = o->idle_timeout_s * 1000000000ULL;
		x.cfg.active_timeout_ns = o->active_timeout_s * 1000000000ULL;
		x.fl = xpp_flows__new(x.dp, on_flow, &x);
		if (!x.fl) {
			fprintf(stderr, "xdpctl: extract: flow reader: %s\n",
				strerror(errno));
			ret = EXTRACT_FAILED;
			goto out;
		}
	}
	r = xpp_datapath__config_set(x.dp, &x.cfg);
	if (r) {
		fprintf(stderr, "xdpctl: extract: configuring the program: %s\n",
			strerror(-r));
		ret = EXTRACT_FAILED;
		goto out;
	}
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
	/* One write(2) per 64 KiB rather than per stdio's 4 KiB (56 binary
	 * records); a terminal keeps its line buffering. */
	if (!isatty(fileno(x.out)))
		setvbuf(x.out, out_buf, _IOFBF, sizeof(out_buf));
	if (o->format == XPP_FMT_CSV && !x.fl)
		fputs(xpp_csv_header, x.out);
	if (o->format == XPP_FMT_CSV && x.fl) {
		char hdr[XPP_FLOW_FORMAT_MAX];

		if (xpp_flow_csv_header(o->columns, hdr, sizeof(hdr)) > 0)
			fputs(hdr, x.out);
	}
	if (o->format == XPP_FMT_BINARY) {
		struct xpp_stream_header hdr = {
			.magic = XPP_STREAM_MAGIC,
			.record_version = XPP_RECORD_VERSION,
			.record_size = sizeof(struct xpp_record),
			.flags = XPP_STREAM_F_WALLCLOCK,
		};

		if (x.fl) {
			hdr.record_version = XPP_FLOW_VERSION;
			hdr.record_size = sizeof(struct xpp_flow_record);
			hdr.flags |= XPP_STREAM_F_FLOWS;
		}
		fwrite(&hdr, sizeof(hdr), 1, x.out);
	}

	while ((r = capture_next(p, &f)) > 0) {
		if (r == CAPTURE_REFUSED) {
			refused(&x, &f);
			ret = EXTRACT_BAD_INPUT;
			continue;
		}
		if (f.len < 14) {
			/* No XDP program ever sees these. */
			x.runts++;
			continue;
		}
		r = run_frame(&x, &f);
		if (r == -EIO || x.write_failed) {
			fprintf(stderr, "xdpctl: extract: writing %s: %s\n",
				o->out_name, strerror(errno));
			ret = EXTRACT_FAILED;
			goto out;
		}
		if (r) {
			fprintf(stderr,
				"xdpctl: extract: %s: frame %llu: running the "
				"program: %s\n",
				o->file,
				(unsigned long long)capture_stats(p)->frames,
				strerror(-r));
			ret = EXTRACT_FAILED;
			goto out;
		}
	}
	if (r < 0) {
		fprintf(stderr,
			"xdpctl: extract: %s: damaged after frame %llu: %s "
			"(the %s of the frames before it were written%s)\n",
			o->file, (unsigned long long)capture_stats(p)->frames,
			capture_error(p), x.fl ? "flows" : "records",
			x.fl ? "; flows still open end as forced" : "");
		ret = EXTRACT_BAD_INPUT;
	}
	/* Every flow still open ends with the capture (docs/flows.md). */
	if (x.fl && (r = flows_tick(&x, x.clock_ns, true)) < 0) {
		fprintf(stderr, "xdpctl: extract: %s: %s\n",
			x.write_failed ? "writing" : "ending the flows",
			x.write_failed ? o->out_name : strerror(-r));
		ret = EXTRACT_FAILED;
	}
	if (fflush(x.out) || ferror(x.out)) {
		fprintf(stderr, "xdpctl: extract: writing %s: %s\n", o->out_name,
			strerror(errno));
		ret = EXTRACT_FAILED;
	}
	if (!o->quiet_summary)
		summary(&x, o->file);
out:
	xpp_flows__free(x.fl);
	xpp_reader__free(x.rd);
	xpp_datapath__destroy(x.dp);
	capture_close(p);
	return ret;
}
