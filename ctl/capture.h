/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading pcap and pcapng files, one frame at a time. Kept apart from the
 * BPF code: libpcap's headers and the kernel's both define struct bpf_insn.
 */
#ifndef XPP_CAPTURE_H
#define XPP_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

struct capture;

/* Opens FILE (pcap or pcapng, Ethernet only). NULL with a message in err. */
struct capture *capture_open(const char *file, char *err, size_t errsz);
/* 1: a frame; 0: end of file; -1: the file is damaged (capture_error). */
int capture_next(struct capture *c, const uint8_t **ret_data,
		 uint32_t *ret_caplen, uint64_t *ret_ts_ns);
const char *capture_error(struct capture *c);
void capture_close(struct capture *c);

#endif
