#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Reads xdp-preprocd's binary record stream into numpy arrays.

    xdpctl tail --format binary --count 1000 | examples/numpy_consumer.py
    xdpctl extract capture.pcap --format binary -o f.bin && \\
        examples/numpy_consumer.py f.bin
    examples/numpy_consumer.py --socket /run/xdp-preprocd/control.sock \\
        --count 1000

Prints a summary, or with --json one JSON object per record (the fields
that `xdpctl tail --format ndjson` prints, less the timestamps' text).
Needs Debian's python3-numpy. The dtype is the one of docs/record.md.
"""
import argparse
import ipaddress
import json
import socket
import struct
import sys

import numpy as np

XPP_STREAM_MAGIC = 0x52505058
XPP_RECORD_VERSION = 2
XPP_RECORD = np.dtype([
    ("ts_ns", "<u8"), ("seq", "<u4"), ("ifindex", "<u4"),
    ("saddr", "u1", (16,)), ("daddr", "u1", (16,)),
    ("sport", "<u2"), ("dport", "<u2"), ("frame_len", "<u4"),
    ("ip_len", "<u4"), ("flags", "<u4"), ("tcp_window", "<u2"),
    ("vlan", "<u2"), ("rx_queue", "<u2"), ("ring", "<u2"),
    ("version", "u1"), ("ip_version", "u1"), ("proto", "u1"),
    ("ttl", "u1"), ("tcp_flags", "u1"), ("pkt_type", "u1"),
    ("reserved", "<u2"),
])
assert XPP_RECORD.itemsize == 80


def read_stream(f):
    """(header flags, records array, records lost) from a binary stream."""
    head = f.read(16)
    if len(head) < 16:
        raise ValueError("stream shorter than its 16-byte header")
    magic, version, size, flags, _ = struct.unpack("<IHHII", head)
    if magic != XPP_STREAM_MAGIC:
        raise ValueError(f"bad magic {magic:#x}: not an xdp-preprocd stream")
    if version != XPP_RECORD_VERSION or size != XPP_RECORD.itemsize:
        raise ValueError(f"record version {version} size {size}: "
                         f"this reader knows version {XPP_RECORD_VERSION}, "
                         f"{XPP_RECORD.itemsize} bytes")
    data = f.read()
    if len(data) % size:
        raise ValueError(f"stream ends inside a record ({len(data)} bytes)")
    recs = np.frombuffer(data, dtype=XPP_RECORD)
    # Loss markers: version 0, ts_ns = records lost at that point.
    markers = recs["version"] == 0
    lost = int(recs["ts_ns"][markers].sum())
    return flags, recs[~markers], lost


def subscribe(path, count):
    """A file-like binary stream from the daemon's socket."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    req = {"cmd": "subscribe", "format": "binary", "count": count}
    s.sendall(json.dumps(req).encode() + b"\n")
    f = s.makefile("rb")
    reply = json.loads(f.readline())
    if not reply.get("ok"):
        raise RuntimeError(reply["error"]["message"])
    return f


def addr(a):
    b = bytes(a)
    if b[:12] == b"\0" * 10 + b"\xff\xff":
        return str(ipaddress.IPv4Address(b[12:]))
    return str(ipaddress.IPv6Address(b))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", help="binary stream (default stdin)")
    ap.add_argument("--socket", help="subscribe to the daemon instead")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--json", action="store_true",
                    help="print each record as JSON")
    a = ap.parse_args()
    if a.socket:
        f = subscribe(a.socket, a.count)
    elif a.file:
        f = open(a.file, "rb")
    else:
        f = sys.stdin.buffer
    try:
        _, recs, lost = read_stream(f)
    except ValueError as e:
        sys.exit(f"numpy_consumer: {e}")
    if a.json:
        for r in recs:
            print(json.dumps({
                "ip_version": int(r["ip_version"]), "proto": int(r["proto"]),
                "src": addr(r["saddr"]), "dst": addr(r["daddr"]),
                "sport": int(r["sport"]), "dport": int(r["dport"]),
                "frame_len": int(r["frame_len"]), "ip_len": int(r["ip_len"]),
                "ttl": int(r["ttl"]), "tcp_flags": int(r["tcp_flags"]),
                "tcp_window": int(r["tcp_window"]), "vlan": int(r["vlan"]),
                "flags": int(r["flags"]), "pkt_type": int(r["pkt_type"])}))
        return
    print(f"{len(recs)} records, {lost} lost")
    if len(recs):
        for v in (4, 6):
            print(f"  IPv{v}: {int((recs['ip_version'] == v).sum())}")
        protos, counts = np.unique(recs["proto"], return_counts=True)
        print("  protocols: " + ", ".join(
            f"{p}: {c}" for p, c in zip(protos.tolist(), counts.tolist())))
        print(f"  frame length: mean {recs['frame_len'].mean():.1f}, "
              f"max {int(recs['frame_len'].max())}")


if __name__ == "__main__":
    main()
