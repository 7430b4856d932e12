# SPDX-License-Identifier: GPL-2.0-only
"""The numpy dtypes of the binary formats: the one place the package
defines them. docs/record.md and docs/flows.md show the same dtypes, and
the test suite checks both against each other and against the C structs
(include/xpp/record.h, include/xpp/flow.h, include/xpp/stream.h).

Multi-byte fields are little-endian ("<"), as x86-64 and arm64 hosts
write them; the 16-byte address fields are in network byte order.
"""
import numpy as np

STREAM_MAGIC = 0x52505058
"""``XPP_STREAM_MAGIC``: "XPPR" on the wire, read as a little-endian u32."""
STREAM_F_WALLCLOCK = 1
"""Stream flag: ``ts_ns`` holds wall-clock ns since the epoch."""
STREAM_F_FLOWS = 2
"""Stream flag: the records are flow records."""

STREAM_HEADER = np.dtype([
    ("magic", "<u4"), ("record_version", "<u2"), ("record_size", "<u2"),
    ("flags", "<u4"), ("reserved", "<u4"),
])
"""``struct xpp_stream_header``, 16 bytes, in front of every binary stream."""

RECORD_VERSION = 2
"""``XPP_RECORD_VERSION``: the ``version`` byte of every packet record."""
PKT_TYPE_NONE = 255
"""``pkt_type`` of records that have none (live frames, most captures)."""

RECORD = np.dtype([
    ("ts_ns", "<u8"),
    ("seq", "<u4"),
    ("ifindex", "<u4"),
    ("saddr", "u1", (16,)),
    ("daddr", "u1", (16,)),
    ("sport", "<u2"),
    ("dport", "<u2"),
    ("frame_len", "<u4"),
    ("ip_len", "<u4"),
    ("flags", "<u4"),
    ("tcp_window", "<u2"),
    ("vlan", "<u2"),
    ("rx_queue", "<u2"),
    ("ring", "<u2"),
    ("version", "u1"),
    ("ip_version", "u1"),
    ("proto", "u1"),
    ("ttl", "u1"),
    ("tcp_flags", "u1"),
    ("pkt_type", "u1"),
    ("reserved", "<u2"),
])
"""``struct xpp_record``, 80 bytes (docs/record.md)."""

FLAGS = {
    "fragment": 0x0001, "frag_later": 0x0002, "ip_options": 0x0004,
    "ipv6_ext": 0x0008, "l4_trunc": 0x0010, "ext_limit": 0x0020,
    "ip_trunc": 0x0040, "vlan_qinq": 0x0080, "tcp_bad_doff": 0x0100,
    "vlan": 0x0200, "ext_bad": 0x0400, "ah": 0x0800, "jumbo": 0x1000,
    "jumbo_bad": 0x2000, "mpls": 0x4000, "pppoe": 0x8000,
    "llc_snap": 0x10000,
}
"""Bits of a record's ``flags`` by name (docs/record.md, "Flags")."""

FLOW_VERSION = 1
"""``XPP_FLOW_VERSION``: the ``version`` byte of every flow record."""

FLOW_DIR = np.dtype([
    ("first_seen_ns", "<u8"), ("last_seen_ns", "<u8"),
    ("packets", "<u8"), ("bytes", "<u8"), ("ps_sumsq", "<u8", 2),
    ("piat_sum_ns", "<u8"), ("piat_sumsq", "<u8", 2),
    ("min_piat_ns", "<u8"), ("max_piat_ns", "<u8"),
    ("min_ps", "<u4"), ("max_ps", "<u4"), ("flag_packets", "<u8", 8),
    ("first_window", "<u2"), ("first_ttl", "u1"), ("reserved", "u1", 5),
])
"""``struct xpp_flow_dir``, 168 bytes: one direction's counters.
``flag_packets`` is indexed by the flag's bit in the TCP flags byte (FIN 0,
SYN 1, RST 2, PSH 3, ACK 4, URG 5, ECE 6, CWR 7); the 128-bit sums of
squares are [low, high]."""

FLOW = np.dtype([
    ("bidir", FLOW_DIR), ("src2dst", FLOW_DIR), ("dst2src", FLOW_DIR),
    ("end_ns", "<u8"), ("src_end", "u1"), ("tcp_state", "u1"),
    ("splt_len", "u1"), ("reserved", "u1"), ("splt_direction", "<u4"),
    ("splt_ps", "<u4", 32), ("splt_piat_ns", "<u8", 32),
])
"""``struct xpp_flow``, 904 bytes: the kernel's flow state."""

FLOW_RECORD = np.dtype([
    ("version", "u1"), ("end_reason", "u1"), ("ip_version", "u1"),
    ("proto", "u1"), ("ifindex", "<u4"),
    ("src_ip", "u1", 16), ("dst_ip", "u1", 16),
    ("src_port", "<u2"), ("dst_port", "<u2"), ("vlan_id", "<u2"),
    ("accounting", "u1"), ("splt_max", "u1"),
    ("mean_ps", "<f8", 3), ("stddev_ps", "<f8", 3),
    ("mean_piat_ns", "<f8", 3), ("stddev_piat_ns", "<f8", 3),
    ("flow", FLOW),
])
"""``struct xpp_flow_record``, 1048 bytes (docs/flows.md). The means and
standard deviations are indexed 0 bidirectional, 1 src2dst, 2 dst2src."""

END_REASONS = {1: "idle", 2: "active", 3: "end", 4: "forced", 5: "resources"}
"""``end_reason`` numbers and their words."""
ACCOUNTING = {0: "link", 1: "ip", 2: "transport", 3: "payload"}
"""``accounting`` numbers and their words."""

assert STREAM_HEADER.itemsize == 16
assert RECORD.itemsize == 80
assert FLOW_DIR.itemsize == 168 and FLOW.itemsize == 904
assert FLOW_RECORD.itemsize == 1048
