# SPDX-License-Identifier: GPL-2.0-only
"""extract() against `xdpctl extract --format csv` of the same captures:
the suite's corpus (tests/fuzz/corpus/pcap) and the flow scenarios
(tests/flows/make_captures.py), field by field."""
import csv
import glob
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import xdp_preprocd as xpp

# Not "ring": the CPU the test run happened on, which two runs may not
# share.
RECORD_INTS = ("ts_ns", "ktime_ns", "ifindex", "queue", "seq",
               "ip_version", "proto", "sport", "dport", "frame_len",
               "ip_len", "ttl", "tcp_flags", "tcp_window", "vlan",
               "pkt_type")


def xdpctl_csv(xdpctl, path, *args):
    run = subprocess.run([xdpctl, "extract", path, "--format", "csv",
                          "--quiet", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=120)
    return run.returncode, list(csv.DictReader(io.StringIO(
        run.stdout.decode()))), run.stderr.decode()


def corpus(src):
    return sorted(glob.glob(os.path.join(src, "tests", "fuzz", "corpus",
                                         "pcap", "*")))


def test_records_equal_xdpctl_csv(xdpctl, src):
    compared = 0
    for path in corpus(src):
        rc, want, err = xdpctl_csv(xdpctl, path)
        if rc != 0:
            with pytest.raises(xpp.CaptureError) as e:
                xpp.extract(path, xdpctl=xdpctl)
            # xdpctl's own message, and its status.
            assert e.value.returncode == rc
            assert err.strip().splitlines()[-1] in e.value.message
            continue
        df = xpp.extract(path, xdpctl=xdpctl)
        assert list(df.columns) == list(want[0].keys()) if want else True
        assert len(df) == len(want), path
        for row, w in zip(df.to_dict("records"), want):
            for k in RECORD_INTS:
                assert str(row[k]) == w[k], (path, k, row, w)
            assert row["src"] == w["src"] and row["dst"] == w["dst"]
            assert "|".join(xpp.flag_names(row["flags"])) == w["flags"]
            assert row["ts"].value == int(w["ts_ns"])
            assert row["ts"].strftime("%Y-%m-%dT%H:%M:%S.") + \
                "%09dZ" % (row["ts"].value % 10**9) == w["ts"]
        compared += len(df)
    assert compared > 100


def check_flows(df, want, what):
    assert list(df.columns) == list(want[0].keys()), what
    assert len(df) == len(want), what
    for row, w in zip(df.to_dict("records"), want):
        for k, v in w.items():
            got = row[k]
            if k.startswith("splt_"):
                assert got == json.loads(v), (what, k)
            elif isinstance(got, float):
                # %.17g reads back as the same double.
                assert got == float(v), (what, k, got, v)
            else:
                assert str(got) == v, (what, k, got, v)


@pytest.fixture(scope="module")
def flow_captures(tmp_path_factory, src):
    out = tmp_path_factory.mktemp("flows")
    subprocess.run([sys.executable, os.path.join(
        src, "tests", "flows", "make_captures.py"), str(out)], check=True,
        stdout=subprocess.DEVNULL, timeout=120)
    return sorted(glob.glob(str(out / "*.pcap*")))


def test_flows_equal_xdpctl_csv(xdpctl, src, flow_captures):
    # mixed.pcap holds every scenario, interfaces.pcapng two interfaces;
    # corpus.pcap every kind of frame.
    n = 0
    pick = [p for p in flow_captures if os.path.basename(p) in
            ("mixed.pcap", "interfaces.pcapng")]
    assert len(pick) == 2
    for path in pick + [p for p in corpus(src)
                        if p.endswith("/corpus.pcap")]:
        rc, want, _ = xdpctl_csv(xdpctl, path, "--flows")
        if rc != 0 or not want:
            continue
        df = xpp.extract(path, flows=True, xdpctl=xdpctl)
        check_flows(df, want, path)
        n += len(df)
    assert n > 20


def test_flow_options_map_to_xdpctl_flags(xdpctl, flow_captures):
    path = [p for p in flow_captures if p.endswith("mixed.pcap")][0]
    opts = dict(idle_timeout=1, active_timeout=2, accounting="ip", splt=3,
                flow_table_size=2048)
    rc, want, err = xdpctl_csv(xdpctl, path, "--flows", "--idle-timeout",
                               "1", "--active-timeout", "2", "--accounting",
                               "ip", "--splt", "3", "--flow-table-size",
                               "2048")
    assert rc == 0, err
    df = xpp.extract(path, True, xdpctl=xdpctl, **opts)
    check_flows(df, want, "options")
    assert set(df["accounting"]) == {"ip"}
    assert all(len(s) == 3 for s in df["splt_ps"])
    # The array form: the same flows, with the dtype of docs/flows.md.
    arr = xpp.extract_array(path, True, xdpctl=xdpctl, **opts)
    assert arr.dtype == xpp.FLOW_RECORD and len(arr) == len(df)
    assert arr.wallclock and arr.lost == 0
    assert np.array_equal(arr["flow"]["bidir"]["packets"],
                          df["bidirectional_packets"].to_numpy())


@pytest.mark.parametrize("flows, options, message", [
    (False, dict(idle_timeout=5), "idle_timeout goes with flows=True"),
    (True, dict(splt=33), "splt 33 is out of range: 1 to 32"),
    (True, dict(idle_timeout=0), "idle_timeout 0 is out of range"),
    (True, dict(idle_timeout=1.5), "idle_timeout must be an int"),
    (True, dict(accounting="wire"), "accounting must be one of"),
    (True, dict(flow_table_size=10), "flow_table_size 10"),
    (True, dict(colums="ns"), "unknown option 'colums'"),
    ("yes", {}, "flows must be True or False"),
])
def test_bad_options(flows, options, message, src):
    path = corpus(src)[0]
    with pytest.raises(xpp.BadOptions, match=message):
        xpp.extract(path, flows, xdpctl="/bin/true", **options)


def test_capture_errors(xdpctl, tmp_path):
    with pytest.raises(xpp.CaptureError, match="No such file") as e:
        xpp.extract(tmp_path / "none.pcap", xdpctl=xdpctl)
    assert e.value.returncode == 1
    (tmp_path / "text.pcap").write_text("hello\n")
    with pytest.raises(xpp.CaptureError) as e:
        xpp.extract(tmp_path / "text.pcap", flows=True, xdpctl=xdpctl)
    assert str(tmp_path / "text.pcap") in str(e.value)
    with pytest.raises(xpp.XppError, match="not found"):
        xpp.extract(tmp_path / "none.pcap", xdpctl=tmp_path / "no-xdpctl")
