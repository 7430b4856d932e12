#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Self-test of flow_ref.py on the crafted captures of make_captures.py.

usage: test_flow_ref.py [OUTDIR]

Every expected value below was worked out by hand from the frames that
make_captures.py writes (their sizes are noted there): packet counts,
sizes, times, inter-arrival times, flags, orientation, expiry reasons,
SPLT arrays. Exit status 0 when all checks pass.
"""
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_captures import T0, S, MS  # noqa: E402

FIELD_ORDER = (
    ["ifindex", "vlan_id", "ip_version", "protocol", "src_ip", "src_port",
     "dst_ip", "dst_port", "end_reason", "accounting"] +
    ["%s_%s" % (d, f) for d in ("bidirectional", "src2dst", "dst2src")
     for f in ("first_seen_ns", "last_seen_ns", "duration_ns", "packets",
               "bytes", "min_ps", "mean_ps", "stddev_ps", "max_ps",
               "min_piat_ns", "mean_piat_ns", "stddev_piat_ns",
               "max_piat_ns", "syn_packets", "cwr_packets", "ece_packets",
               "urg_packets", "ack_packets", "psh_packets", "rst_packets",
               "fin_packets")] +
    ["src2dst_first_ttl", "dst2src_first_ttl", "src2dst_first_window",
     "dst2src_first_window", "splt_direction", "splt_ps", "splt_piat_ns"])

CHECKS = 0


def run(capture, *args):
    out = subprocess.run([sys.executable, os.path.join(HERE, "flow_ref.py"),
                          os.path.join(CAPS, capture)] + list(args),
                         check=True, capture_output=True, text=True).stdout
    recs = []
    for line in out.splitlines():
        r = json.loads(line)
        assert list(r) == FIELD_ORDER, list(r)
        recs.append(r)
    return recs


def find(recs, **kw):
    m = [r for r in recs if all(r[k] == v for k, v in kw.items())]
    assert len(m) == 1, (kw, len(m), m)
    return m[0]


def eq(r, **kw):
    global CHECKS
    for k, v in kw.items():
        got = r[k]
        if isinstance(v, float):
            # a double printed with %.17g: 78.0 reads back as the int 78
            assert "_mean_" in k or "_stddev_" in k, k
            assert isinstance(got, (int, float)), (k, got)
            got = float(got)
        assert type(got) is type(v) and got == v, \
            "%s:%s -> %s:%s: %s is %r, expected %r" % (
                r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"], k,
                got, v)
        CHECKS += 1


def sd(vals):
    """The docs' sample standard deviation of hand-listed values."""
    n, s, q = len(vals), sum(vals), sum(v * v for v in vals)
    if n < 2:
        return 0.0
    v = math.sqrt(float(n * q - s * s) / float(n * (n - 1)))
    assert math.isclose(v, statistics.stdev(vals), rel_tol=1e-12)
    return v


def sizes(r, d, vals):
    """The size features of direction d from the hand-listed sizes."""
    eq(r, **{d + "_packets": len(vals), d + "_bytes": sum(vals),
             d + "_min_ps": min(vals), d + "_max_ps": max(vals),
             d + "_mean_ps": float(sum(vals)) / len(vals),
             d + "_stddev_ps": sd(vals)})


def piats(r, d, vals):
    """The inter-arrival features of direction d from hand-listed piats."""
    if not vals:
        eq(r, **{d + "_min_piat_ns": 0, d + "_max_piat_ns": 0,
                 d + "_mean_piat_ns": 0.0, d + "_stddev_piat_ns": 0.0})
        return
    eq(r, **{d + "_min_piat_ns": min(vals), d + "_max_piat_ns": max(vals),
             d + "_mean_piat_ns": float(sum(vals)) / len(vals),
             d + "_stddev_piat_ns": sd(vals)})


def flags(r, d, **kw):
    want = {d + "_%s_packets" % f: 0 for f in
            ("syn", "cwr", "ece", "urg", "ack", "psh", "rst", "fin")}
    want.update({d + "_%s_packets" % f: v for f, v in kw.items()})
    eq(r, **want)


def empty_dir(r, d):
    for f in FIELD_ORDER:
        if f.startswith(d + "_"):
            eq(r, **{f: 0.0 if ("_mean_" in f or "_stddev_" in f) else 0})


def test_handshake():
    recs = run("tcp_handshake.pcap")
    assert len(recs) == 2
    r = find(recs, bidirectional_first_seen_ns=T0)
    eq(r, ifindex=0, vlan_id=0, ip_version=4, protocol=6,
       src_ip="198.18.1.1", src_port=40000, dst_ip="198.19.1.1",
       dst_port=80, end_reason="end", accounting="link")
    # bidirectional: p1..p10
    eq(r, bidirectional_first_seen_ns=1_700_000_000_123_456_789,
       bidirectional_last_seen_ns=T0 + 505_300_007,
       bidirectional_duration_ns=505_300_007)
    sizes(r, "bidirectional", [74, 74, 54, 154, 60, 354, 54, 60, 54, 60])
    eq(r, bidirectional_bytes=998, bidirectional_mean_ps=99.8,
       bidirectional_stddev_ps=math.sqrt(799316 / 90))
    piats(r, "bidirectional", [1_000_001, 1_000_002, 499_997, 1_200_000,
                               300_000, 200_000, 800_000, 300_007,
                               500_000_000])
    eq(r, bidirectional_mean_piat_ns=505_300_007 / 9)
    flags(r, "bidirectional", syn=2, ack=9, psh=2, fin=2)
    # src2dst: SYN, ACK, data, FIN, last ACK
    eq(r, src2dst_first_seen_ns=T0, src2dst_last_seen_ns=T0 + 5_300_007,
       src2dst_duration_ns=5_300_007)
    sizes(r, "src2dst", [74, 54, 154, 54, 54])
    eq(r, src2dst_packets=5, src2dst_bytes=390, src2dst_mean_ps=78.0,
       src2dst_stddev_ps=math.sqrt(1880.0))
    piats(r, "src2dst", [2_000_003, 499_997, 1_700_000, 1_100_007])
    eq(r, src2dst_min_piat_ns=499_997, src2dst_max_piat_ns=2_000_003,
       src2dst_mean_piat_ns=1325001.75)
    flags(r, "src2dst", syn=1, ack=4, psh=1, fin=1)
    # dst2src: SYN-ACK, ACK, data, FIN, straggler ACK in the grace second
    eq(r, dst2src_first_seen_ns=T0 + 1_000_001,
       dst2src_last_seen_ns=T0 + 505_300_007,
       dst2src_duration_ns=504_300_006)
    sizes(r, "dst2src", [74, 60, 354, 60, 60])
    eq(r, dst2src_bytes=608, dst2src_stddev_ps=math.sqrt(16914.8))
    piats(r, "dst2src", [2_699_999, 300_000, 1_000_000, 500_300_007])
    flags(r, "dst2src", syn=1, ack=5, psh=1, fin=1)
    eq(r, src2dst_first_ttl=64, dst2src_first_ttl=55,
       src2dst_first_window=64240, dst2src_first_window=65160,
       splt_direction=[0, 1, 0, 0, 1, 1, 0, 1],
       splt_ps=[74, 74, 54, 154, 60, 354, 54, 60],
       splt_piat_ns=[0, 1_000_001, 1_000_002, 499_997, 1_200_000, 300_000,
                     200_000, 800_000])
    # The SYN exactly 1 s after the last ACK: a new flow, to the end.
    r2 = find(recs, bidirectional_first_seen_ns=T0 + 1_005_300_007)
    eq(r2, src_ip="198.18.1.1", src_port=40000, end_reason="forced",
       bidirectional_packets=1, bidirectional_duration_ns=0,
       bidirectional_bytes=74, bidirectional_stddev_ps=0.0,
       src2dst_first_ttl=64, dst2src_first_ttl=0,
       src2dst_first_window=64240, dst2src_first_window=0,
       splt_direction=[0] + [-1] * 7, splt_ps=[74] + [-1] * 7,
       splt_piat_ns=[0] + [-1] * 7)
    piats(r2, "bidirectional", [])
    flags(r2, "src2dst", syn=1)
    empty_dir(r2, "dst2src")

    # The accounting modes (frames noted in make_captures.py).
    for mode, s2d, d2s in (
            ("ip", [60, 40, 140, 40, 40], [60, 40, 340, 40, 40]),
            ("transport", [40, 20, 120, 20, 20], [40, 20, 320, 20, 20]),
            ("payload", [0, 0, 100, 0, 0], [0, 0, 300, 0, 0])):
        r = find(run("tcp_handshake.pcap", "--accounting", mode),
                 bidirectional_first_seen_ns=T0)
        eq(r, accounting=mode, end_reason="end")
        sizes(r, "src2dst", s2d)
        sizes(r, "dst2src", d2s)
        eq(r, splt_ps=[s2d[0], d2s[0], s2d[1], s2d[2], d2s[1], d2s[2],
                       s2d[3], d2s[3]])
    # SPLT lengths: 3, and 12 (10 packets, padded with -1).
    r = find(run("tcp_handshake.pcap", "--splt", "3"),
             bidirectional_first_seen_ns=T0)
    eq(r, splt_direction=[0, 1, 0], splt_ps=[74, 74, 54],
       splt_piat_ns=[0, 1_000_001, 1_000_002])
    r = find(run("tcp_handshake.pcap", "--splt", "12"),
             bidirectional_first_seen_ns=T0)
    eq(r, splt_direction=[0, 1, 0, 0, 1, 1, 0, 1, 0, 1, -1, -1],
       splt_ps=[74, 74, 54, 154, 60, 354, 54, 60, 54, 60, -1, -1],
       splt_piat_ns=[0, 1_000_001, 1_000_002, 499_997, 1_200_000, 300_000,
                     200_000, 800_000, 300_007, 500_000_000, -1, -1])
    # With a 1 s idle timeout nothing changes: every gap is below 1 s,
    # and the SYN at end_ns + 1 s finds end (a tie with nothing else).
    r = find(run("tcp_handshake.pcap", "--idle-timeout", "1"),
             bidirectional_first_seen_ns=T0)
    eq(r, end_reason="end", bidirectional_packets=10)
    # A 0.4 s idle timeout ends it at the straggler (0.5 s later): the
    # straggler and the SYN make a flow of their own, src the straggler's
    # sender (198.19.1.1), split again by the idle timeout.
    recs = run("tcp_handshake.pcap", "--idle-timeout", "0.4")
    assert len(recs) == 3
    eq(find(recs, bidirectional_first_seen_ns=T0), end_reason="idle",
       bidirectional_packets=9, bidirectional_last_seen_ns=T0 + 5_300_007)
    eq(find(recs, bidirectional_first_seen_ns=T0 + 505_300_007),
       src_ip="198.19.1.1", src_port=80, end_reason="idle",
       bidirectional_packets=1)


def test_rst():
    recs = run("tcp_rst.pcap")
    assert len(recs) == 2
    r = find(recs, protocol=6)
    # Due at the RST + 1 s, the last frame's time: `end`, not `forced`.
    eq(r, src_ip="198.18.2.1", src_port=40001, dst_ip="198.19.2.1",
       dst_port=443, end_reason="end", bidirectional_first_seen_ns=T0 + 10,
       bidirectional_last_seen_ns=T0 + 20, bidirectional_duration_ns=10,
       src2dst_packets=1, dst2src_packets=1, dst2src_first_window=0,
       src2dst_first_window=64240, splt_direction=[0, 1] + [-1] * 6,
       splt_ps=[74, 60] + [-1] * 6, splt_piat_ns=[0, 10] + [-1] * 6)
    sizes(r, "bidirectional", [74, 60])
    piats(r, "bidirectional", [10])
    flags(r, "bidirectional", syn=1, rst=1, ack=1)
    flags(r, "dst2src", rst=1, ack=1)
    eq(find(recs, protocol=17), end_reason="forced")


def test_fin_grace():
    for extra in ([], ["--no-scan"]):
        recs = run("fin_grace.pcap", *extra)
        assert len(recs) == 2
        r = find(recs, bidirectional_first_seen_ns=T0)
        eq(r, src_ip="198.18.18.1", src_port=45000, dst_port=443,
           end_reason="end", bidirectional_packets=5, src2dst_packets=3,
           dst2src_packets=2, bidirectional_last_seen_ns=T0 + 1300 * MS,
           src2dst_first_window=300, dst2src_first_window=400,
           splt_direction=[0, 1, 0, 1, 0, -1, -1, -1],
           splt_piat_ns=[0, 1000, 500 * MS - 1000, 700 * MS, 100 * MS, -1,
                         -1, -1])
        flags(r, "bidirectional", fin=2, ack=4, rst=1)
        piats(r, "src2dst", [500 * MS, 800 * MS])
        r = find(recs, bidirectional_first_seen_ns=T0 + 1500 * MS)
        eq(r, src_ip="198.19.18.1", src_port=443, end_reason="forced",
           bidirectional_packets=1, src2dst_first_window=402)
        flags(r, "src2dst", ack=1)


def test_half_close():
    recs = run("half_close.pcap")
    r = find(recs, protocol=6)
    # One FIN only: no end; idle 120 s passes before the frame at 300 s.
    eq(r, src_ip="198.18.3.1", src_port=40002, end_reason="idle",
       bidirectional_packets=5, src2dst_packets=3, dst2src_packets=2,
       bidirectional_last_seen_ns=T0 + 400)
    flags(r, "src2dst", syn=1, ack=2, fin=1)
    flags(r, "dst2src", syn=1, ack=2)
    eq(find(run("half_close.pcap", "--idle-timeout", "1000"), protocol=6),
       end_reason="forced")


def test_simultaneous_open():
    recs = run("simultaneous_open.pcap")
    assert len(recs) == 1
    r = recs[0]
    eq(r, src_ip="198.18.4.1", src_port=5555, dst_ip="198.19.4.1",
       dst_port=6666, end_reason="forced", src2dst_packets=3,
       dst2src_packets=3, src2dst_first_window=111,
       dst2src_first_window=222, splt_direction=[0, 1, 0, 1, 0, 1, -1, -1],
       splt_piat_ns=[0, 500, 500, 100, 900, 1, -1, -1])
    flags(r, "bidirectional", syn=4, ack=4)
    flags(r, "src2dst", syn=2, ack=2)
    piats(r, "src2dst", [1000, 1000])
    piats(r, "dst2src", [600, 901])


def test_synack_first():
    recs = run("synack_first.pcap")
    assert len(recs) == 1
    r = recs[0]
    # The SYN-ACK's receiver is src, though it sent the second packet.
    eq(r, src_ip="198.18.5.1", src_port=41000, dst_ip="198.19.5.1",
       dst_port=8080, src2dst_packets=2, dst2src_packets=1,
       bidirectional_first_seen_ns=T0 + 7, src2dst_first_seen_ns=T0 + 17,
       dst2src_first_seen_ns=T0 + 7, src2dst_first_ttl=60,
       dst2src_first_ttl=50, src2dst_first_window=3000,
       dst2src_first_window=4000, splt_direction=[1, 0, 0] + [-1] * 5,
       splt_ps=[54, 54, 64] + [-1] * 5, splt_piat_ns=[0, 10, 10] + [-1] * 5)
    flags(r, "dst2src", syn=1, ack=1)
    flags(r, "src2dst", ack=2, psh=1)


def test_udp():
    for mode, s2d, d2s in (("link", [72, 60], [142, 542]),
                           ("ip", [58, 30], [128, 528]),
                           ("transport", [38, 10], [108, 508]),
                           ("payload", [30, 2], [100, 500])):
        recs = run("udp.pcap", "--accounting", mode)
        assert len(recs) == 1
        r = recs[0]
        eq(r, protocol=17, src_ip="198.18.6.1", src_port=53000,
           dst_ip="198.19.6.1", dst_port=53, src2dst_first_ttl=64,
           dst2src_first_ttl=60, src2dst_first_window=0,
           dst2src_first_window=0, splt_direction=[0, 1, 0, 1] + [-1] * 4,
           splt_ps=[s2d[0], d2s[0], s2d[1], d2s[1]] + [-1] * 4,
           splt_piat_ns=[0, 250_000, 150_000, 1_000_000] + [-1] * 4)
        sizes(r, "src2dst", s2d)
        sizes(r, "dst2src", d2s)
        sizes(r, "bidirectional", [s2d[0], d2s[0], s2d[1], d2s[1]])
        piats(r, "bidirectional", [250_000, 150_000, 1_000_000])
        piats(r, "src2dst", [400_000])
        piats(r, "dst2src", [1_150_000])
        flags(r, "bidirectional")


def test_icmp():
    recs = run("icmp.pcap")
    # Two echo identifiers and an unreachable quoting UDP: one flow, the
    # quoted UDP header's ports do not leak into it.
    assert len(recs) == 1, recs
    r = recs[0]
    eq(r, protocol=1, src_ip="198.18.7.1", src_port=0, dst_ip="198.19.7.1",
       dst_port=0, src2dst_first_ttl=64, dst2src_first_ttl=57,
       splt_ps=[98, 98, 50, 74] + [-1] * 4)
    sizes(r, "src2dst", [98, 50])
    sizes(r, "dst2src", [98, 74])
    flags(r, "bidirectional")
    r = run("icmp.pcap", "--accounting", "payload")[0]
    eq(r, splt_ps=[56, 56, 8, 32] + [-1] * 4)


def test_ipv6():
    recs = run("ipv6.pcap")
    assert len(recs) == 5
    A, B = "2001:2:0:8::1", "2001:2:0:8::2"
    r = find(recs, protocol=6)
    eq(r, ip_version=6, src_ip=A, src_port=1234, dst_ip=B, dst_port=80,
       src2dst_packets=2, dst2src_packets=1, src2dst_first_ttl=64,
       dst2src_first_ttl=60, src2dst_first_window=7000,
       dst2src_first_window=8000)
    sizes(r, "bidirectional", [74, 74, 74])
    r = find(recs, protocol=17, src_port=5353)
    eq(r, src_ip=A, dst_ip=B, dst_port=5354, dst2src_first_ttl=33)
    sizes(r, "bidirectional", [74, 90])
    frag1 = find(recs, protocol=17, src_port=7000)
    frag2 = find(recs, protocol=17, src_port=0)
    eq(frag1, dst_port=7001, bidirectional_packets=1,
       bidirectional_first_seen_ns=T0 + 50)
    eq(frag2, dst_port=0, src_ip=A, dst_ip=B, bidirectional_packets=1,
       bidirectional_first_seen_ns=T0 + 60)
    eq(find(recs, protocol=58), src_port=0, dst_port=0, bidirectional_bytes=70)
    for mode, want in (("ip", (60, 76, 72, 72, 56)),
                       ("transport", (20, 28, 24, 24, 16)),
                       ("payload", (0, 20, 16, 24, 8))):
        recs = run("ipv6.pcap", "--accounting", mode)
        got = (find(recs, protocol=6)["src2dst_min_ps"],
               find(recs, protocol=17, src_port=5353)["dst2src_bytes"],
               find(recs, protocol=17, src_port=7000)["bidirectional_bytes"],
               find(recs, protocol=17, src_port=0)["bidirectional_bytes"],
               find(recs, protocol=58)["bidirectional_bytes"])
        assert got == want, (mode, got, want)


def test_vlan():
    recs = run("vlan.pcap")
    assert len(recs) == 3
    for vid, size, win, t in ((0, 54, 10, T0), (100, 58, 11, T0 + 1000),
                              (200, 62, 12, T0 + 2000)):
        r = find(recs, vlan_id=vid)
        eq(r, src_ip="198.18.9.1", src_port=1111, src2dst_first_window=win,
           dst2src_first_window=20 + win - 10,
           bidirectional_first_seen_ns=t, bidirectional_bytes=2 * size)


def test_fragments():
    recs = run("fragments.pcap")
    assert len(recs) == 3
    r = find(recs, protocol=17, src_port=9000)
    eq(r, dst_port=9001, bidirectional_packets=2, splt_ps=[634, 52] +
       [-1] * 6, splt_piat_ns=[0, 9] + [-1] * 6)
    r = find(recs, protocol=17, src_port=0)
    eq(r, src_ip="198.18.10.1", dst_ip="198.19.10.1", dst_port=0,
       bidirectional_packets=1, bidirectional_bytes=434,
       bidirectional_first_seen_ns=T0 + 5)
    r = find(recs, protocol=6)
    eq(r, src_ip="198.19.10.1", src_port=0, dst_port=0,
       src2dst_first_window=0, src2dst_first_ttl=64)
    flags(r, "bidirectional")
    for mode, five, later, tcp in (("ip", [620, 38], 420, 60),
                                   ("transport", [600, 18], 400, 40),
                                   ("payload", [592, 10], 400, 40)):
        recs = run("fragments.pcap", "--accounting", mode)
        eq(find(recs, protocol=17, src_port=9000),
           splt_ps=five + [-1] * 6)
        eq(find(recs, protocol=17, src_port=0), bidirectional_bytes=later)
        eq(find(recs, protocol=6), bidirectional_bytes=tcp)


def test_active():
    recs = run("active.pcap", "--active-timeout", "10")
    assert len(recs) == 3
    for k, (n, why) in enumerate(((10, "active"), (10, "active"),
                                  (5, "forced"))):
        r = find(recs, bidirectional_first_seen_ns=T0 + 10 * k * S)
        eq(r, end_reason=why, bidirectional_packets=n,
           bidirectional_last_seen_ns=T0 + (10 * k + n - 1) * S,
           bidirectional_min_piat_ns=S if n > 1 else 0,
           bidirectional_stddev_piat_ns=0.0,
           bidirectional_mean_piat_ns=1e9)
    # A packet every second with a 1 s idle timeout: each packet comes
    # exactly at its flow's due time: 25 flows of one packet.
    recs = run("active.pcap", "--idle-timeout", "1")
    assert len(recs) == 25
    assert [r["end_reason"] for r in sorted(
        recs, key=lambda r: r["bidirectional_first_seen_ns"])] == \
        ["idle"] * 24 + ["forced"]
    # The same from the packets alone, without the user-space scan.
    assert len(run("active.pcap", "--idle-timeout", "1", "--no-scan")) == 25
    assert len(run("active.pcap", "--active-timeout", "10",
                   "--no-scan")) == 3
    # Just below: 1.000000001 s keeps them in one flow.
    recs = run("active.pcap", "--idle-timeout", "1.000000001")
    assert len(recs) == 1 and recs[0]["bidirectional_packets"] == 25


def test_idle():
    recs = run("idle.pcap")
    assert len(recs) == 2
    r = find(recs, bidirectional_first_seen_ns=T0)
    eq(r, end_reason="idle", src2dst_packets=1, dst2src_packets=1,
       bidirectional_last_seen_ns=T0 + 3, bidirectional_min_piat_ns=3)
    r = find(recs, bidirectional_first_seen_ns=T0 + 200 * S)
    eq(r, end_reason="forced", src_ip="198.18.12.1", src_port=3000,
       src2dst_packets=1, dst2src_packets=1)
    sizes(r, "src2dst", [62])
    sizes(r, "dst2src", [82])
    # A 201 s idle timeout: one flow.
    assert len(run("idle.pcap", "--idle-timeout", "201")) == 1


def test_idle_exact():
    U = dict(protocol=17, src_port=10)
    recs = run("idle_exact.pcap", "--idle-timeout", "10")
    eq(find(recs, bidirectional_first_seen_ns=T0, **U), end_reason="idle",
       bidirectional_packets=2, bidirectional_last_seen_ns=T0 + 10 * S - 1)
    # The packet exactly at the due time finds it due by itself too.
    eq(find(run("idle_exact.pcap", "--idle-timeout", "10", "--no-scan"),
            bidirectional_first_seen_ns=T0, **U), bidirectional_packets=2,
       end_reason="idle")
    eq(find(recs, bidirectional_first_seen_ns=T0 + 20 * S - 1, **U),
       end_reason="idle", bidirectional_packets=1)
    eq(find(recs, src_port=30), bidirectional_packets=3, end_reason="idle")
    eq(find(recs, protocol=6, bidirectional_first_seen_ns=T0 + 200 * S),
       end_reason="end", bidirectional_packets=1)
    eq(find(recs, protocol=6, bidirectional_first_seen_ns=T0 + 201 * S),
       end_reason="forced", bidirectional_packets=1)
    assert len(recs) == 5
    # idle 6 s, active 10 s: the third C-D packet (110 s) meets idle due
    # (104 + 6) and active due (100 + 10) at once: idle wins the tie.
    recs = run("idle_exact.pcap", "--idle-timeout", "6",
               "--active-timeout", "10")
    eq(find(recs, src_port=30, bidirectional_first_seen_ns=T0 + 100 * S),
       end_reason="idle", bidirectional_packets=2,
       bidirectional_duration_ns=4 * S)
    eq(find(recs, src_port=30, bidirectional_first_seen_ns=T0 + 110 * S),
       end_reason="idle", bidirectional_packets=1)
    assert len([r for r in recs if r["src_port"] == 10]) == 3
    # idle 1 s: the RST's end due (200 + 1) ties idle due (200 + 1): end.
    recs = run("idle_exact.pcap", "--idle-timeout", "1")
    eq(find(recs, protocol=6, bidirectional_first_seen_ns=T0 + 200 * S),
       end_reason="end")
    # active 10 s, idle default: the active timeout of the C-D flow at
    # 110 s (first packet 100 s) is due exactly then: active.
    recs = run("idle_exact.pcap", "--active-timeout", "10")
    eq(find(recs, src_port=30, bidirectional_first_seen_ns=T0 + 100 * S),
       end_reason="active", bidirectional_packets=2)


def test_out_of_order():
    recs = run("out_of_order.pcap", "--idle-timeout", "10")
    assert len(recs) == 5
    r = find(recs, src_port=1)
    eq(r, src_ip="198.18.14.1", dst_port=2, end_reason="idle",
       bidirectional_first_seen_ns=T0 + 1000,
       bidirectional_last_seen_ns=T0 + 4000,
       bidirectional_duration_ns=3000,
       src2dst_first_seen_ns=T0 + 1000, src2dst_last_seen_ns=T0 + 4000,
       dst2src_first_seen_ns=T0 + 3000, dst2src_last_seen_ns=T0 + 3000,
       dst2src_duration_ns=0,
       splt_direction=[0, 1, 0, 1, 0, -1, -1, -1],
       splt_ps=[52, 62, 72, 82, 92, -1, -1, -1],
       splt_piat_ns=[0, 2000, 0, 0, 1000, -1, -1, -1])
    piats(r, "bidirectional", [2000, 0, 0, 1000])
    piats(r, "src2dst", [1000, 2000])
    piats(r, "dst2src", [0])
    sizes(r, "src2dst", [52, 72, 92])
    eq(find(recs, src_port=7), bidirectional_first_seen_ns=T0 + 500,
       end_reason="idle")
    # E-F: due at 15 s; the clock reached 17 s (a scan) before the
    # straggler stamped 14 s came: it begins a flow of its own, src F.
    eq(find(recs, src_ip="198.18.14.5"), end_reason="idle",
       bidirectional_packets=1)
    eq(find(recs, src_ip="198.19.14.5"), end_reason="forced",
       bidirectional_packets=1, bidirectional_first_seen_ns=T0 + 14 * S)
    eq(find(recs, src_port=70), end_reason="forced", bidirectional_packets=3)
    # Without the scan the straggler would join it (14 s < 15 s).
    recs = run("out_of_order.pcap", "--idle-timeout", "10", "--no-scan")
    assert len(recs) == 4
    eq(find(recs, src_ip="198.18.14.5"), end_reason="forced",
       bidirectional_packets=2, dst2src_packets=1,
       bidirectional_last_seen_ns=T0 + 14 * S)


def test_many():
    recs = run("many_flows.pcap")
    assert len(recs) == 5000
    assert sum(r["bidirectional_packets"] for r in recs) == 10000 + 1667
    assert all(r["end_reason"] == "forced" for r in recs)
    r = find(recs, src_ip="198.18.32.4")
    eq(r, src_port=10003, dst_ip="198.19.32.4", dst_port=53,
       bidirectional_first_seen_ns=T0 + 3 * 7919, src2dst_packets=2,
       dst2src_packets=1, splt_direction=[0, 1, 0] + [-1] * 5,
       splt_ps=[45, 45, 60] + [-1] * 5,
       splt_piat_ns=[0, 1_000_003, 1_000_014] + [-1] * 5)


def test_nonip_and_interfaces():
    recs = run("nonip.pcap")
    assert len(recs) == 1 and recs[0]["bidirectional_packets"] == 1
    recs = run("interfaces.pcapng")
    assert len(recs) == 2
    for ifx, first in ((1, T0 + 1), (2, T0 + 2)):
        eq(find(recs, ifindex=ifx), bidirectional_first_seen_ns=first,
           src2dst_packets=1, dst2src_packets=1, src_ip="198.18.17.1")
    recs = run("interfaces.pcapng", "--ifindex", "7")
    assert len(recs) == 1
    eq(recs[0], ifindex=7, bidirectional_packets=4)
    eq(run("udp.pcap", "--ifindex", "3")[0], ifindex=3)


def test_mixed():
    """Interleaving the scenarios changes no flow's packets (their
    addresses never meet); only `forced`/`idle`/`end` at the end of a
    capture may differ, as the captures end at different times."""
    def strip(recs):
        return sorted(json.dumps({k: v for k, v in r.items()
                                  if k != "end_reason"}, sort_keys=True)
                      for r in recs)
    mixed = run("mixed.pcap")
    parts = []
    for name in ("tcp_handshake", "tcp_rst", "half_close",
                 "simultaneous_open", "synack_first", "udp", "icmp", "ipv6",
                 "vlan", "fragments", "active", "idle", "idle_exact",
                 "out_of_order", "many_flows", "nonip", "fin_grace"):
        parts += run(name + ".pcap")
    assert strip(mixed) == strip(parts)
    # compare_flows.py: equal to itself, and one changed double is found.
    a = os.path.join(CAPS, "mixed.ndjson")
    b = os.path.join(CAPS, "mixed-changed.ndjson")
    with open(a, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in mixed)
    mixed[7]["src2dst_stddev_ps"] = math.nextafter(
        mixed[7]["src2dst_stddev_ps"], math.inf)
    with open(b, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in mixed)
    cmp = os.path.join(HERE, "compare_flows.py")
    p = subprocess.run([sys.executable, cmp, a, a], capture_output=True,
                       text=True)
    assert p.returncode == 0 and p.stdout.strip() == \
        "%d flows equal" % len(mixed), p.stdout
    p = subprocess.run([sys.executable, cmp, a, b], capture_output=True,
                       text=True)
    assert p.returncode == 1 and "src2dst_stddev_ps" in p.stdout, p.stdout


def main():
    global CAPS
    tmp = None
    if len(sys.argv) > 1:
        CAPS = sys.argv[1]
    else:
        tmp = tempfile.TemporaryDirectory()
        CAPS = tmp.name
    subprocess.run([sys.executable, os.path.join(HERE, "make_captures.py"),
                    CAPS], check=True)
    tests = [v for k, v in sorted(globals().items())
             if k.startswith("test_") and callable(v)]
    failed = 0
    for t in tests:
        try:
            t()
            print("ok   %s" % t.__name__)
        except AssertionError as e:
            failed += 1
            print("FAIL %s: %s" % (t.__name__, e))
    print("%d tests, %d failed, %d field checks" % (len(tests), failed,
                                                    CHECKS))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
