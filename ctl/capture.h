/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading captures, one frame at a time, into what the XDP program takes:
 * a struct xpp_frame_meta followed by the frame from its Ethernet header on.
 * Every format and link type Wireshark's libwiretap reads; frames of the
 * link types below are handed over, the others refused, counted. Kept
 * apart from extract.c so the fuzz target and the test tools can link it
 * alone.
 */
#ifndef XPP_CAPTURE_H
#define XPP_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a frame was not handed over. */
enum capture_refusal {
	CAPTURE_REFUSE_LINK_TYPE,   /* a link type the program cannot get */
	CAPTURE_REFUSE_LINK_HEADER, /* cut inside its link-layer header */
	CAPTURE_REFUSE_NO_TS,	    /* no timestamp (pcapng simple block) */
	CAPTURE_REFUSE_BEFORE_1970, /* u64 ns since 1970 cannot hold it */
	CAPTURE_REFUSE_AFTER_2554,  /* nor this */
	CAPTURE_REFUSE_NOT_PACKET,  /* an event or log record, no frame */
	CAPTURE_REFUSE_MAX
};

extern const char *const capture_refusal_names[CAPTURE_REFUSE_MAX];

/* What the reader has seen so far. */
struct capture_stats {
	uint64_t frames;   /* records read, refused ones included */
	uint64_t snap_cut; /* frames the capture holds fewer bytes of than
			    * the wire had */
	uint64_t clipped;  /* frames longer than max_len: the first
			    * max_len bytes handed over */
	uint64_t refused[CAPTURE_REFUSE_MAX];
};

/* The metadata's size is at most this (the kernel's limit). */
#define CAPTURE_META_MAX 32

struct capture_frame {
	/* struct xpp_frame_meta (xpp/meta.h), meta_len bytes, then `len` bytes of
	 * the frame from its Ethernet header on: data_in for
	 * BPF_PROG_TEST_RUN as it is. Valid until the next call. */
	uint8_t *buf;
	uint32_t meta_len;
	uint32_t len;
	/* The metadata's fields, for the caller. */
	uint64_t ts_ns;
	uint32_t wire_len;
	uint32_t ifindex;
	uint16_t pkt_type;
	enum capture_refusal refusal;	/* when refused */
	char why[160];			/* when refused: the details */
};

#define CAPTURE_FRAME 1
#define CAPTURE_REFUSED 2

/* Opens FILE (pcap, pcapng and every other format libwiretap reads);
 * frames longer than max_len bytes (from the Ethernet header on) are
 * handed over cut to max_len. NULL with a message in err. */
struct capture *capture_open(const char *file, uint32_t max_len, char *err,
			     size_t errsz);
/* Every record through libwiretap, plain pcap too (tests compare); before
 * the first capture_next. */
void capture_wiretap_only(struct capture *c);
/* CAPTURE_FRAME: f holds a frame; CAPTURE_REFUSED: f says why not; 0: end
 * of file; -1: the file is damaged (capture_error). */
int capture_next(struct capture *c, struct capture_frame *f);
const char *capture_error(struct capture *c);
const struct capture_stats *capture_stats(struct capture *c);
/* Calls fn for every link type seen so far, with its name and count. */
void capture_link_counts(struct capture *c,
			 void (*fn)(void *ctx, const char *name,
				    uint64_t frames),
			 void *ctx);
void capture_close(struct capture *c);

#endif
