// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <stdlib.h>

#include <pcap/pcap.h>

#include "capture.h"

struct capture {
	pcap_t *p;
};

struct capture *capture_open(const char *file, char *err, size_t errsz)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct capture *c;
	int dlt;

	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	/* Nanosecond timestamps whatever the file holds. */
	c->p = pcap_open_offline_with_tstamp_precision(
		file, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!c->p) {
		snprintf(err, errsz, "%s", errbuf);
		free(c);
		return NULL;
	}
	dlt = pcap_datalink(c->p);
	if (dlt != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(dlt);

		snprintf(err, errsz,
			 "%s: link type %s (%d) is not supported: only "
			 "Ethernet captures (EN10MB) go through the XDP program",
			 file, name ? name : "unknown", dlt);
		capture_close(c);
		return NULL;
	}
	return c;
}

int capture_next(struct capture *c, const uint8_t **ret_data,
		 uint32_t *ret_caplen, uint64_t *ret_ts_ns)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int r = pcap_next_ex(c->p, &h, &data);

	if (r == PCAP_ERROR_BREAK)
		return 0;
	if (r != 1)
		return -1;
	*ret_data = data;
	*ret_caplen = h->caplen;
	/* With nanosecond precision, tv_usec holds nanoseconds. */
	*ret_ts_ns = h->ts.tv_sec * 1000000000ULL + h->ts.tv_usec;
	return 1;
}

const char *capture_error(struct capture *c)
{
	return pcap_geterr(c->p);
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	pcap_close(c->p);
	free(c);
}
