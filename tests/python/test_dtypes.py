# SPDX-License-Identifier: GPL-2.0-only
"""The package's dtypes are the documented ones (the docs' own blocks,
which the suite checks against the C structs: tests/bpf/check_dtype.py,
tests/flows/check_flow_dtype.py)."""
import os
import re

import xdp_preprocd as xpp


def doc_block(src, name):
    text = open(os.path.join(src, "docs", name)).read()
    ns = {}
    exec(re.search(r"```python\n(.*?)```", text, re.S).group(1), ns)
    return ns


def test_record_dtype_is_the_documented_one(src):
    ns = doc_block(src, "record.md")
    assert xpp.RECORD == ns["XPP_RECORD"]
    assert xpp.RECORD.itemsize == 80
    assert xpp.FLAGS == ns["XPP_FLAGS"]
    assert xpp.RECORD_VERSION == ns["XPP_RECORD_VERSION"]
    assert xpp.PKT_TYPE_NONE == ns["XPP_PKT_TYPE_NONE"]


def test_flow_dtypes_are_the_documented_ones(src):
    ns = doc_block(src, "flows.md")
    for name in ("FLOW_DIR", "FLOW", "FLOW_RECORD", "STREAM_HEADER"):
        assert getattr(xpp, name) == ns[name], name
    assert xpp.FLOW_RECORD.itemsize == 1048


def test_stream_constants_are_the_headers(src):
    text = open(os.path.join(src, "include", "xpp", "stream.h")).read()
    assert re.search(r"XPP_STREAM_MAGIC 0x%xu" % xpp.STREAM_MAGIC, text)
    assert re.search(r"XPP_STREAM_F_WALLCLOCK = 1 << 0", text)
    assert re.search(r"XPP_STREAM_F_FLOWS = 1 << 1", text)
    flow_h = open(os.path.join(src, "include", "xpp", "flow.h")).read()
    assert re.search(r"#define XPP_FLOW_VERSION %d\b" % xpp.FLOW_VERSION,
                     flow_h)
