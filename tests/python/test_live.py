# SPDX-License-Identifier: GPL-2.0-only
"""Client against the real daemon, attached to a veth pair, with frames
the build's xpp-send sends: every field of the records and flows that
come back is checked against what was sent."""
import collections
import csv
import io
import ipaddress
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import pytest

import xdp_preprocd as xpp


def v4(text):
    """The record's form of an IPv4 address: ::ffff:a.b.c.d, 16 bytes."""
    return [0] * 10 + [255, 255] + list(ipaddress.IPv4Address(text).packed)


def wait_for(pred, what, seconds=5.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    pytest.fail(f"{what}: not within {seconds} s")


@pytest.fixture(scope="module")
def client(live):
    with xpp.Client(live.sock) as c:
        yield c


@pytest.fixture(scope="module")
def ifindex(client, live):
    return {i["name"]: i["ifindex"] for i in client.interfaces()}[live.iface]


def test_version_and_interfaces(client, live):
    v = client.version()
    assert v["record_version"] == xpp.RECORD_VERSION
    assert v["record_size"] == xpp.RECORD.itemsize
    assert live.iface in [i["name"] for i in client.interfaces()]


def test_stats_count_what_was_sent(client, live):
    def packets():
        return client.stats(live.iface)["interfaces"][0]["packets"]
    before = packets()
    live.send(25, "udp4")
    wait_for(lambda: packets() == before + 25, "25 more packets in stats")
    s = client.stats()
    assert {"interfaces", "totals", "daemon", "subscribers"} <= set(s)
    assert s["totals"]["packets"] >= before + 25


def test_records_field_by_field(client, live, ifindex):
    n = 40
    # The same records in CSV through xdpctl, at the same time.
    tail = subprocess.Popen([os.environ["XPP_XDPCTL"], "--socket", live.sock,
                             "tail", live.iface, "--count", str(n),
                             "--format", "csv"], stdout=subprocess.PIPE)
    try:
        wait_for(lambda: any(s["format"] == "csv" for s in
                             client.stats()["subscribers"]),
                 "xdpctl tail subscribed")
        sub = client.records(live.iface, batch=7, count=n, timeout=10)
        t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        live.send(n, "udp4", "--sport", 4000, "--sports", 4, "--dport", 53)
        batches = list(sub)
        t1 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        out, _ = tail.communicate(timeout=10)
    finally:
        tail.kill()
        tail.wait()
    assert all(1 <= len(b) <= 7 for b in batches) and len(batches) >= 6
    r = np.concatenate(batches)
    assert len(r) == n and sub.lost == 0 and sub.received == n
    assert r.dtype == xpp.RECORD
    assert (r["version"] == 2).all() and (r["ip_version"] == 4).all()
    assert (r["proto"] == 17).all()
    assert (r["saddr"] == v4(live.src)).all()
    assert (r["daddr"] == v4(live.dst)).all()
    assert collections.Counter(r["sport"].tolist()) == \
        {4000: 10, 4001: 10, 4002: 10, 4003: 10}
    assert (r["dport"] == 53).all()
    # Ethernet 14 + IPv4 20 + UDP 8 + 18 bytes of payload.
    assert (r["frame_len"] == 60).all() and (r["ip_len"] == 46).all()
    assert (r["ttl"] == 64).all()
    for k in ("tcp_flags", "tcp_window", "vlan", "flags", "reserved"):
        assert (r[k] == 0).all(), k
    assert (r["pkt_type"] == xpp.PKT_TYPE_NONE).all()
    assert (r["ifindex"] == ifindex).all()
    assert ((r["ts_ns"] >= t0) & (r["ts_ns"] <= t1)).all()
    # Per ring, seq counts up by one: nothing lost.
    for ring in np.unique(r["ring"]):
        s = np.sort(r["seq"][r["ring"] == ring].astype(np.int64))
        assert (np.diff(s) == 1).all()
    # pandas: the columns and values of xdpctl's CSV, wall-clock ts.
    df = pd.concat([b.to_pandas() for b in batches], ignore_index=True)
    want = list(csv.DictReader(io.StringIO(out.decode())))
    assert list(df.columns) == list(want[0].keys())
    key = ["ring", "seq"]
    df = df.sort_values(key, ignore_index=True)
    want.sort(key=lambda w: (int(w["ring"]), int(w["seq"])))
    for row, w in zip(df.to_dict("records"), want):
        for k in ("ktime_ns", "ifindex", "queue", "ring", "seq",
                  "ip_version", "proto", "src", "dst", "sport", "dport",
                  "frame_len", "ip_len", "ttl", "tcp_flags", "tcp_window",
                  "vlan", "pkt_type"):
            assert str(row[k]) == w[k], (k, row, w)
        # Wall clock: the same offset up to the time between two reads.
        assert abs(row["ts_ns"] - int(w["ts_ns"])) < 50_000_000
        assert row["ts"].value == row["ts_ns"]
    assert abs(time.time() - df["ts"].iloc[0].timestamp()) < 30


def test_tcp_records_and_proto_filter(client, live):
    with client.records(live.iface, proto=6, count=10, timeout=10) as sub:
        live.send(10, "udp4")
        live.send(10, "tcp4", "--sport", 5000, "--dport", 80)
        r = np.concatenate(list(sub))
    assert len(r) == 10 and (r["proto"] == 6).all()
    assert (r["sport"] == 5000).all() and (r["dport"] == 80).all()
    assert (r["tcp_flags"] == 0x02).all()        # SYN
    assert (r["tcp_window"] == 64240).all()
    # Ethernet 14 + IPv4 20 + TCP 20: a veth pads nothing.
    assert (r["ip_len"] == 40).all() and (r["frame_len"] == 54).all()
    assert (r["flags"] == 0).all()               # DF is no fragment


def test_flows_field_by_field(client, live, ifindex):
    # idle_timeout = 1 in the daemon's configuration: the four flows end
    # one to two seconds after their last packet.
    with client.flows(live.iface, port=7000, count=4, timeout=15) as sub:
        live.send(40, "udp4", "--sport", 6000, "--sports", 4, "--dport",
                  7000)
        sent = time.time_ns()
        batches = list(sub)
    f = np.concatenate(batches)
    assert f.dtype == xpp.FLOW_RECORD and len(f) == 4 and sub.lost == 0
    assert batches[0].wallclock
    df = pd.concat([b.to_pandas() for b in batches], ignore_index=True)
    assert sorted(df["src_port"]) == [6000, 6001, 6002, 6003]
    for row in df.to_dict("records"):
        exp = {"ifindex": ifindex, "vlan_id": 0, "ip_version": 4,
               "protocol": 17, "src_ip": live.src, "dst_ip": live.dst,
               "dst_port": 7000, "end_reason": "idle", "accounting": "link",
               "bidirectional_packets": 10, "bidirectional_bytes": 600,
               "src2dst_packets": 10, "src2dst_bytes": 600,
               "dst2src_packets": 0, "dst2src_bytes": 0,
               "bidirectional_min_ps": 60, "bidirectional_max_ps": 60,
               "bidirectional_mean_ps": 60.0,
               "bidirectional_stddev_ps": 0.0,
               "bidirectional_syn_packets": 0, "src2dst_first_ttl": 64,
               "splt_direction": [0] * 8, "splt_ps": [60] * 8}
        for k, v in exp.items():
            assert row[k] == v, (k, row[k], v)
        first = row["bidirectional_first_seen_ns"]
        last = row["bidirectional_last_seen_ns"]
        assert first <= last <= sent and sent - first < 20 * 10**9
        assert row["bidirectional_duration_ns"] == last - first
        assert len(row["splt_piat_ns"]) == 8 and row["splt_piat_ns"][0] == 0
        assert sum(row["splt_piat_ns"]) <= last - first
    # The same view as the raw structured array.
    assert (f["flow"]["src2dst"]["packets"] == 10).all()
    assert (f["end_reason"] == 1).all()


def test_loss_is_told(client, live):
    """A subscriber that does not read loses records: each loss marker of
    the stream is a RecordsLost warning, and the total is the daemon's."""
    client.request("config_set", set={"subscriber_queue": "16"})
    try:
        sub = client.records(live.iface, port=9999, batch=100000,
                             timeout=1.5)
        live.send(20000, "udp4", "--dport", 9999)
        got = 0
        with pytest.warns(xpp.RecordsLost, match="dropped"):
            with pytest.raises(xpp.StreamTimeout):
                for b in sub:
                    got += len(b)
        mine = [s for s in client.stats()["subscribers"]
                if s["format"] == "binary" and s["queue"] == 16]
        assert len(mine) == 1
        assert sub.lost > 0 and sub.lost == mine[0]["lost"]
        assert got == sub.received == mine[0]["delivered"]
        assert got + sub.lost <= 20000
        sub.close()
    finally:
        client.request("config_set", set={"subscriber_queue": "8192"})


def test_daemon_errors(client, live):
    with pytest.raises(xpp.DaemonError) as e:
        client.stats("nope0")
    assert e.value.code in ("not_attached", "no_such_interface")
    assert "nope0" in e.value.message
    with pytest.raises(xpp.DaemonError) as e:
        client.request("frobnicate")
    assert e.value.code == "unknown_command"
    with pytest.raises(xpp.DaemonError) as e:
        client.request("detach", iface="nope0")
    assert e.value.code == "not_attached"
    # The connection carries on after errors.
    assert client.version()["protocol"] == 1


def test_permission_denied_for_others(live, src):
    """A user outside root and the daemon's group cannot open the socket:
    PermissionDenied, which is a PermissionError."""
    d = tempfile.mkdtemp(prefix="xpp-py-")
    try:
        os.chmod(d, 0o755)
        shutil.copytree(os.path.join(src, "python", "xdp_preprocd"),
                        os.path.join(d, "xdp_preprocd"))
        code = ("import sys, xdp_preprocd as x\n"
                "try:\n    x.Client(sys.argv[1]).stats()\n"
                "except x.PermissionDenied as e:\n"
                "    print(type(e).__name__, isinstance(e, PermissionError),"
                " e)\n")
        run = subprocess.run([sys.executable, "-c", code, live.sock],
                             user="nobody", cwd=d, env={"PYTHONPATH": d},
                             capture_output=True, text=True, timeout=30)
    finally:
        shutil.rmtree(d)
    assert run.stdout.startswith("PermissionDenied True "), \
        run.stdout + run.stderr
    assert "permission denied" in run.stdout
