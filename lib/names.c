// SPDX-License-Identifier: GPL-2.0-only
#include "names.h"
#include "util.h"

#define F(n) { #n, offsetof(struct xpp_counters, n) }
const struct xpp_counter_field xpp_counter_fields[] = {
	F(packets), F(bytes),	F(ipv4),	   F(ipv6),
	F(vlan),    F(mpls),	F(pppoe),	   F(llc_snap),
	F(tcp),	F(udp),		   F(icmp),
	F(other),   F(not_ip),	F(records),	   F(records_lost),
	F(records_skipped),	F(filtered),	   F(dropped),
	F(flows),   F(flows_table_full),	F(flows_lost),
	F(flows_errors),
	F(ts_nic),  F(ts_capture),
};
#undef F
const size_t xpp_counter_fields_n = ARRAY_SIZE(xpp_counter_fields);

_Static_assert(ARRAY_SIZE(xpp_counter_fields) * 8 +
			       XPP_M_MAX * 8 ==
		       sizeof(struct xpp_counters),
	       "every counter needs a name");

const char *const xpp_malformed_names[XPP_M_MAX] = {
	[XPP_M_ETH_TRUNC] = "eth_trunc",
	[XPP_M_VLAN_TRUNC] = "vlan_trunc",
	[XPP_M_VLAN_DEPTH] = "vlan_depth",
	[XPP_M_IP4_TRUNC] = "ipv4_trunc",
	[XPP_M_IP4_VERSION] = "ipv4_version",
	[XPP_M_IP4_IHL] = "ipv4_ihl",
	[XPP_M_IP4_LEN] = "ipv4_len",
	[XPP_M_IP6_TRUNC] = "ipv6_trunc",
	[XPP_M_IP6_VERSION] = "ipv6_version",
	[XPP_M_EXT_TRUNC] = "ipv6_ext_trunc",
	[XPP_M_EXT_LIMIT] = "ipv6_ext_limit",
	[XPP_M_L4_TRUNC] = "l4_trunc",
	[XPP_M_TCP_DOFF] = "tcp_doff",
	[XPP_M_IP_TRUNC] = "ip_trunc",
	[XPP_M_EXT_BAD] = "ipv6_ext_bad",
	[XPP_M_AH_TRUNC] = "ah_trunc",
	[XPP_M_JUMBO] = "ipv6_jumbo",
	[XPP_M_MPLS_TRUNC] = "mpls_trunc",
	[XPP_M_MPLS_DEPTH] = "mpls_depth",
	[XPP_M_PPPOE_TRUNC] = "pppoe_trunc",
	[XPP_M_LLC_TRUNC] = "llc_trunc",
};

const char *const xpp_flag_names[XPP_FLAG_BITS] = {
	"fragment",  "frag_later", "ip_options", "ipv6_ext",
	"l4_trunc",  "ext_limit",  "ip_trunc",	 "vlan_qinq",
	"tcp_bad_doff", "vlan",	   "ext_bad",	 "ah",
	"jumbo",	"jumbo_bad",  "mpls",	 "pppoe",
	"llc_snap",
};
