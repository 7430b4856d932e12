#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Reads binary flow records with the numpy dtype of docs/flows.md and
compares every field with the NDJSON of the same flows.

usage: check_flow_dtype.py FLOWS_MD FLOWS.bin FLOWS.ndjson
"""
import importlib.util
import ipaddress
import json
import os
import re
import sys

md, binpath, ndpath = sys.argv[1:4]
code = re.search(r"```python\n(.*?)```", open(md).read(), re.S).group(1)
ns = {}
exec(code, ns)
recs = ns["read_flows"](open(binpath, "rb").read())
# The Python package (python/xdp_preprocd/_dtypes.py) defines the same.
spec = importlib.util.spec_from_file_location("xpp_dtypes", os.path.join(
    os.path.dirname(os.path.abspath(md)), "..", "python", "xdp_preprocd",
    "_dtypes.py"))
pkg = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pkg)
for name in ("FLOW_DIR", "FLOW", "FLOW_RECORD", "STREAM_HEADER"):
    if getattr(pkg, name) != ns[name]:
        sys.exit(f"python/xdp_preprocd/_dtypes.py and docs/flows.md differ "
                 f"in {name}")
want = [json.loads(line) for line in open(ndpath)]
if len(recs) != len(want):
    sys.exit(f"{len(recs)} binary flows, {len(want)} NDJSON flows")
if not len(recs):
    sys.exit("no flows to compare")

END = {1: "idle", 2: "active", 3: "end", 4: "forced", 5: "resources"}
ACCT = ["link", "ip", "transport", "payload"]
FLAGS = {"fin": 0, "syn": 1, "rst": 2, "psh": 3, "ack": 4, "urg": 5,
         "ece": 6, "cwr": 7}
DIRS = {"bidirectional": 0, "src2dst": 1, "dst2src": 2}
DIR_FIELD = {"bidirectional": "bidir", "src2dst": "src2dst",
             "dst2src": "dst2src"}


def addr(a, v4):
    return str(ipaddress.ip_address(int(v4))) if v4 >= 0 else \
        str(ipaddress.ip_address(bytes(a)))


def expected(r, v4s, v4d):
    """The NDJSON fields, from the dtype's view of one record."""
    f = r["flow"]
    e = {"ifindex": r["ifindex"], "vlan_id": r["vlan_id"],
         "ip_version": r["ip_version"], "protocol": r["proto"],
         "src_ip": addr(r["src_ip"], v4s), "src_port": r["src_port"],
         "dst_ip": addr(r["dst_ip"], v4d), "dst_port": r["dst_port"],
         "end_reason": END[int(r["end_reason"])],
         "accounting": ACCT[int(r["accounting"])]}
    for d, i in DIRS.items():
        x = f[DIR_FIELD[d]]
        e[d + "_first_seen_ns"] = x["first_seen_ns"]
        e[d + "_last_seen_ns"] = x["last_seen_ns"]
        e[d + "_duration_ns"] = x["last_seen_ns"] - x["first_seen_ns"]
        for k in ("packets", "bytes", "min_ps", "max_ps", "min_piat_ns",
                  "max_piat_ns"):
            e[d + "_" + k] = x[k]
        e[d + "_mean_ps"] = r["mean_ps"][i]
        e[d + "_stddev_ps"] = r["stddev_ps"][i]
        e[d + "_mean_piat_ns"] = r["mean_piat_ns"][i]
        e[d + "_stddev_piat_ns"] = r["stddev_piat_ns"][i]
        for name, bit in FLAGS.items():
            e[d + "_" + name + "_packets"] = x["flag_packets"][bit]
    for d in ("src2dst", "dst2src"):
        e[d + "_first_ttl"] = f[d]["first_ttl"]
        e[d + "_first_window"] = f[d]["first_window"]
    n, m = int(f["splt_len"]), int(r["splt_max"])
    e["splt_direction"] = [int(f["splt_direction"]) >> i & 1
                           for i in range(n)] + [-1] * (m - n)
    e["splt_ps"] = f["splt_ps"][:n].tolist() + [-1] * (m - n)
    e["splt_piat_ns"] = f["splt_piat_ns"][:n].tolist() + [-1] * (m - n)
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in e.items()}


bad = 0
v4s, v4d = ns["ipv4_of"](recs["src_ip"]), ns["ipv4_of"](recs["dst_ip"])
for i, (r, w) in enumerate(zip(recs, want)):
    if r["version"] != 1:
        print(f"flow {i}: version {r['version']}")
        bad += 1
        continue
    e = expected(r, v4s[i], v4d[i])
    if set(e) != set(w):
        print(f"flow {i}: fields only in the dtype's view "
              f"{sorted(set(e) - set(w))}, only in NDJSON "
              f"{sorted(set(w) - set(e))}")
        bad += 1
        continue
    for k, v in w.items():
        if e[k] != v:
            if bad < 20:
                print(f"flow {i} field {k}: dtype reads {e[k]!r}, "
                      f"NDJSON {v!r}")
            bad += 1
print(f"{len(recs)} flows, {bad} differences")
sys.exit(1 if bad else 0)
