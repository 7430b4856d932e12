// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "names.h"

static const char *const format_names[] = {
	[XPP_FMT_NDJSON] = "ndjson",
	[XPP_FMT_CSV] = "csv",
	[XPP_FMT_BINARY] = "binary",
};

int xpp_format_parse(const char *s, enum xpp_format *ret)
{
	size_t i;

	for (i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
		if (!strcmp(s, format_names[i])) {
			*ret = i;
			return 0;
		}
	}
	return -1;
}

const char *xpp_format_name(enum xpp_format f)
{
	return format_names[f];
}

const char xpp_csv_header[] =
	"ts,ts_ns,ktime_ns,ifindex,queue,ring,seq,ip_version,proto,src,dst,"
	"sport,dport,frame_len,ip_len,ttl,tcp_flags,tcp_window,vlan,flags,"
	"pkt_type\n";

int64_t xpp_wall_offset_ns(void)
{
	struct timespec r, m;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return (r.tv_sec - m.tv_sec) * 1000000000LL + (r.tv_nsec - m.tv_nsec);
}

void xpp_addr_str(const __u8 a[16], char *buf, size_t sz)
{
	static const __u8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
					 0xff };

	if (!memcmp(a, mapped, 12))
		inet_ntop(AF_INET, a + 12, buf, sz);
	else
		inet_ntop(AF_INET6, a, buf, sz);
}

static void flags_str(unsigned int flags, const char *sep, int quoted,
		      char *buf, size_t sz)
{
	size_t off = 0;
	unsigned int b;

	buf[0] = '\0';
	for (b = 0; b < XPP_FLAG_BITS && off < sz; b++) {
		if (!(flags & (1u << b)))
			continue;
		off += snprintf(buf + off, sz - off, "%s%s%s%s",
				off ? sep : "", quoted ? "\"" : "",
				xpp_flag_names[b] ? xpp_flag_names[b] : "unknown",
				quoted ? "\"" : "");
	}
}

static void rfc3339(uint64_t wall_ns, char *buf, size_t sz)
{
	time_t sec = wall_ns / 1000000000ULL;
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, sz, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sz - n, ".%09lluZ",
		 (unsigned long long)(wall_ns % 1000000000ULL));
}

int xpp_format_text(const struct xpp_record *r, enum xpp_format fmt,
		    uint64_t wall, char *buf, size_t sz)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], ts[48], fl[512];
	int n;

	xpp_addr_str(r->saddr, src, sizeof(src));
	xpp_addr_str(r->daddr, dst, sizeof(dst));
	rfc3339(wall, ts, sizeof(ts));
	if (fmt == XPP_FMT_CSV) {
		flags_str(r->flags, "|", 0, fl, sizeof(fl));
		n = snprintf(buf, sz,
			     "%s,%llu,%llu,%u,%u,%u,%u,%u,%u,%s,%s,%u,%u,%u,%u,"
			     "%u,%u,%u,%u,%s,%u\n",
			     ts, (unsigned long long)wall,
			     (unsigned long long)r->ts_ns, r->ifindex,
			     r->rx_queue, r->ring, r->seq, r->ip_version,
			     r->proto, src, dst, r->sport, r->dport,
			     r->frame_len, r->ip_len, r->ttl, r->tcp_flags,
			     r->tcp_window, r->vlan, fl, r->pkt_type);
	} else {
		flags_str(r->flags, ",", 1, fl, sizeof(fl));
		n = snprintf(buf, sz,
			     "{\"ts\":\"%s\",\"ts_ns\":%llu,\"ktime_ns\":%llu,"
			     "\"ifindex\":%u,\"queue\":%u,\"ring\":%u,\"seq\":%u,"
			     "\"ip_version\":%u,\"proto\":%u,\"src\":\"%s\","
			     "\"dst\":\"%s\",\"sport\":%u,\"dport\":%u,"
			     "\"frame_len\":%u,\"ip_len\":%u,\"ttl\":%u,"
			     "\"tcp_flags\":%u,\"tcp_window\":%u,\"vlan\":%u,"
			     "\"flags\":[%s],\"pkt_type\":%u}\n",
			     ts, (unsigned long long)wall,
			     (unsigned long long)r->ts_ns, r->ifindex,
			     r->rx_queue, r->ring, r->seq, r->ip_version,
			     r->proto, src, dst, r->sport, r->dport,
			     r->frame_len, r->ip_len, r->ttl, r->tcp_flags,
			     r->tcp_window, r->vlan, fl, r->pkt_type);
	}
	return n < 0 || (size_t)n >= sz ? -1 : n;
}
