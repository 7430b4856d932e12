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
Reads with the package xdp_preprocd (python/, docs/python.md): Debian's
python3-numpy and python3-pandas.
"""
import argparse
import json
import os
import sys

import numpy as np

# From a source checkout, the package next to the examples; else the one
# installed (meson install).
_here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                     "python")
if os.path.isdir(os.path.join(_here, "xdp_preprocd")):
    sys.path.insert(0, _here)
import xdp_preprocd as xpp  # noqa: E402

XPP_RECORD = xpp.RECORD


def read_stream(f):
    """(header flags, records array, records lost) from a binary stream."""
    dec = xpp.Decoder(flows=False)
    while True:
        data = f.read(1 << 20)
        if not data:
            break
        dec.feed(data)
    dec.finish()
    recs, lost = dec.take()
    return dec.header["flags"], recs, lost


def subscribe(path, count):
    """The records of a binary subscription to the daemon, and the
    records it lost."""
    with xpp.Client(path).records(count=count) as sub:
        batches = list(sub)
        lost = sub.lost
    recs = np.concatenate(batches) if batches else np.empty(0, XPP_RECORD)
    return recs, lost


def addr(a):
    return xpp.addresses(np.asarray(a).reshape(1, 16))[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", help="binary stream (default stdin)")
    ap.add_argument("--socket", help="subscribe to the daemon instead")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--json", action="store_true",
                    help="print each record as JSON")
    a = ap.parse_args()
    try:
        if a.socket:
            recs, lost = subscribe(a.socket, a.count)
        else:
            f = open(a.file, "rb") if a.file else sys.stdin.buffer
            _, recs, lost = read_stream(f)
    except (OSError, xpp.XppError) as e:
        sys.exit(f"numpy_consumer: {e}")
    if a.json:
        cols = ["ip_version", "proto", "src", "dst", "sport", "dport",
                "frame_len", "ip_len", "ttl", "tcp_flags", "tcp_window",
                "vlan", "flags", "pkt_type"]
        df = xpp.to_pandas(recs, wallclock=False)
        for row in df[cols].to_dict("records"):
            print(json.dumps({k: v.item() if hasattr(v, "item") else v
                              for k, v in row.items()}))
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
