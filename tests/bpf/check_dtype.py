#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Reads records the kernel wrote with the numpy dtype from docs/record.md
and compares every field with what the C side read from the same bytes.

usage: check_dtype.py RECORD_MD RECORDS.bin EXPECTED.json
"""
import importlib.util
import json
import os
import re
import sys

md, binpath, expected = sys.argv[1:4]
code = re.search(r"```python\n(.*?)```", open(md).read(), re.S).group(1)
ns = {}
exec(code, ns)
recs = ns["read_records"](open(binpath, "rb").read())
# The Python package (python/xdp_preprocd/_dtypes.py) defines the same.
spec = importlib.util.spec_from_file_location("xpp_dtypes", os.path.join(
    os.path.dirname(os.path.abspath(md)), "..", "python", "xdp_preprocd",
    "_dtypes.py"))
pkg = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pkg)
if pkg.RECORD != ns["XPP_RECORD"] or pkg.FLAGS != ns["XPP_FLAGS"] or \
        pkg.RECORD_VERSION != ns["XPP_RECORD_VERSION"]:
    sys.exit("python/xdp_preprocd/_dtypes.py and docs/record.md differ")
want = json.load(open(expected))
if len(recs) != len(want):
    sys.exit(f"{len(recs)} records read, {len(want)} expected")
bad = 0
for i, (r, w) in enumerate(zip(recs, want)):
    for name, value in w.items():
        got = r[name].tolist()
        if got != value:
            print(f"record {i} field {name}: dtype reads {got}, C reads {value}")
            bad += 1
# The helpers of the doc must agree too.
v4 = ns["ipv4_of"](recs["saddr"]).tolist()
for i, w in enumerate(want):
    is_v4 = w["ip_version"] == 4
    if (v4[i] >= 0) != is_v4:
        print(f"record {i}: ipv4_of gives {v4[i]} for ip_version {w['ip_version']}")
        bad += 1
sys.exit(1 if bad else 0)
