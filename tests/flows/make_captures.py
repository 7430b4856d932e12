#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Crafted captures for the flow features (docs/flows.md).

usage: make_captures.py OUTDIR

Writes one pcap per scenario (nanosecond pcap, magic 0xa1b23c4d, Ethernet)
plus a pcapng with two interfaces and mixed.pcap, every scenario merged
by time. Timestamps are exact integers of nanoseconds. Addresses are
from 198.18.0.0/15 and 2001:2::/48 only; scenario i uses 198.18.i.x and
198.19.i.x (2001:2:0:i::x), so scenarios never share a flow in mixed.pcap.

The test (test_flow_ref.py) checks the reference against values computed
by hand from the frames below: keep the two in step.
"""
import heapq
import os
import socket
import struct
import sys

# 2023-11-14 22:13:20.123456789 UTC, in ns.
T0 = 1_700_000_000 * 10**9 + 123_456_789
MS = 10**6
S = 10**9

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")

# TCP flags
FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 1, 2, 4, 8, 16, 32, 64, 128


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def v4(a):
    return socket.inet_pton(socket.AF_INET, a)


def v6(a):
    return socket.inet_pton(socket.AF_INET6, a)


def eth(payload, ethertype, vlans=(), pad=False, src=MAC_A, dst=MAC_B):
    """Ethernet frame; vlans: (tpid, vid) outermost first; pad: to 60."""
    hdr = dst + src
    for tpid, vid in vlans:
        hdr += struct.pack("!HH", tpid, vid)
    f = hdr + struct.pack("!H", ethertype) + payload
    if pad and len(f) < 60:
        f += b"\0" * (60 - len(f))
    return f


def l4_csum_v4(src, dst, proto, seg):
    return csum(v4(src) + v4(dst) + struct.pack("!BBH", 0, proto, len(seg))
                + seg)


def l4_csum_v6(src, dst, proto, seg):
    return csum(v6(src) + v6(dst) + struct.pack("!IxxxB", len(seg), proto)
                + seg)


def tcp_seg(sport, dport, flags, window, data=b"", opts=b"", seq=1000,
            ack=0):
    assert len(opts) % 4 == 0
    doff = (20 + len(opts)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4,
                       flags, window, 0, 0) + opts + data


def udp_seg(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def with_csum(seg, off, c):
    return seg[:off] + struct.pack("!H", c) + seg[off + 2:]


def ipv4(src, dst, proto, payload, ttl=64, ident=1, frag_off=0, mf=False,
         total_len=None):
    tl = 20 + len(payload) if total_len is None else total_len
    ff = (0x2000 if mf else 0) | frag_off
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tl, ident, ff, ttl, proto, 0,
                    v4(src), v4(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ipv6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, hlim,
                       v6(src), v6(dst)) + payload


def tcp4(src, sport, dst, dport, flags, window=512, data=b"", opts=b"",
         ttl=64, vlans=(), pad=False, seq=1000, ack=0):
    seg = tcp_seg(sport, dport, flags, window, data, opts, seq, ack)
    seg = with_csum(seg, 16, l4_csum_v4(src, dst, 6, seg))
    return eth(ipv4(src, dst, 6, seg, ttl), 0x0800, vlans, pad)


def tcp6(src, sport, dst, dport, flags, window=512, data=b"", opts=b"",
         hlim=64, pad=False):
    seg = tcp_seg(sport, dport, flags, window, data, opts)
    seg = with_csum(seg, 16, l4_csum_v6(src, dst, 6, seg))
    return eth(ipv6(src, dst, 6, seg, hlim), 0x86DD, (), pad)


def udp4(src, sport, dst, dport, data, ttl=64, vlans=(), pad=False):
    seg = udp_seg(sport, dport, data)
    seg = with_csum(seg, 6, l4_csum_v4(src, dst, 17, seg) or 0xFFFF)
    return eth(ipv4(src, dst, 17, seg, ttl), 0x0800, vlans, pad)


def udp6(src, sport, dst, dport, data, hlim=64, hbh=False):
    seg = udp_seg(sport, dport, data)
    seg = with_csum(seg, 6, l4_csum_v6(src, dst, 17, seg) or 0xFFFF)
    if hbh:  # an 8-byte hop-by-hop header holding a PadN option
        return eth(ipv6(src, dst, 0, bytes([17, 0, 1, 4, 0, 0, 0, 0]) + seg,
                        hlim), 0x86DD)
    return eth(ipv6(src, dst, 17, seg, hlim), 0x86DD)


def icmp4(src, dst, typ, code, rest, data, ttl=64, pad=False):
    m = struct.pack("!BBH", typ, code, 0) + rest + data
    m = with_csum(m, 2, csum(m))
    return eth(ipv4(src, dst, 1, m, ttl), 0x0800, (), pad)


def icmp6(src, dst, typ, code, rest, data, hlim=64):
    m = struct.pack("!BBH", typ, code, 0) + rest + data
    m = with_csum(m, 2, l4_csum_v6(src, dst, 58, m))
    return eth(ipv6(src, dst, 58, m, hlim), 0x86DD)


def arp():
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC_A,
                       v4("198.18.0.250"), b"\0" * 6, v4("198.18.0.251"))
    return eth(body, 0x0806, pad=True, dst=b"\xff" * 6)


SYN_OPTS = bytes([2, 4, 5, 0xB4, 4, 2, 8, 10]) + b"\0" * 8 + bytes(
    [1, 3, 3, 7])  # MSS, SACK permitted, timestamps, NOP, window scale: 20


def a4(i, h):
    return "198.18.%d.%d" % (i, h)


def b4(i, h):
    return "198.19.%d.%d" % (i, h)


def a6(i, h):
    return "2001:2:0:%x::%x" % (i, h)


# ---- scenarios: lists of (ts_ns, frame), in capture order ----

def sc_tcp_handshake(i=1):
    """Handshake, data both ways, FIN both ways, last ACK, a straggler in
    the grace second, then a new SYN of the same 5-tuple exactly at the
    end's due time."""
    C, S_ = a4(i, 1), b4(i, 1)
    c = lambda fl, **k: tcp4(C, 40000, S_, 80, fl, ttl=64, **k)
    s = lambda fl, **k: tcp4(S_, 80, C, 40000, fl, ttl=55, pad=True, **k)
    return [
        (T0 + 0, c(SYN, window=64240, opts=SYN_OPTS)),              # 74
        (T0 + 1_000_001, s(SYN | ACK, window=65160, opts=SYN_OPTS)),  # 74
        (T0 + 2_000_003, c(ACK, window=502)),                       # 54
        (T0 + 2_500_000, c(PSH | ACK, window=502, data=b"q" * 100)),  # 154
        (T0 + 3_700_000, s(ACK, window=509)),                       # 60
        (T0 + 4_000_000, s(PSH | ACK, window=509, data=b"r" * 300)),  # 354
        (T0 + 4_200_000, c(FIN | ACK, window=501)),                 # 54
        (T0 + 5_000_000, s(FIN | ACK, window=509)),                 # 60
        (T0 + 5_300_007, c(ACK, window=501)),                       # 54: end
        (T0 + 505_300_007, s(ACK, window=509)),                     # 60
        (T0 + 1_005_300_007, c(SYN, window=64240, opts=SYN_OPTS)),  # 74
    ]


def sc_tcp_rst(i=2):
    """SYN answered by RST-ACK; an unrelated UDP frame 1 s after the RST
    (exactly its due time), so the end-of-capture scan finds it due."""
    C, S_ = a4(i, 1), b4(i, 1)
    return [
        (T0 + 10, tcp4(C, 40001, S_, 443, SYN, window=64240, opts=SYN_OPTS)),
        (T0 + 20, tcp4(S_, 443, C, 40001, RST | ACK, window=0, pad=True)),
        (T0 + 20 + S, udp4(a4(i, 9), 5000, b4(i, 9), 5001, b"x" * 4)),
    ]


def sc_half_close(i=3):
    """Handshake, one FIN and its ACK, then silence; an unrelated frame
    300 s later (after the default idle timeout of 120 s)."""
    C, S_ = a4(i, 1), b4(i, 1)
    c = lambda fl, **k: tcp4(C, 40002, S_, 22, fl, **k)
    s = lambda fl, **k: tcp4(S_, 22, C, 40002, fl, pad=True, **k)
    return [
        (T0 + 0, c(SYN, window=1000)),
        (T0 + 100, s(SYN | ACK, window=2000)),
        (T0 + 200, c(ACK, window=1001)),
        (T0 + 300, c(FIN | ACK, window=1001)),
        (T0 + 400, s(ACK, window=2001)),
        (T0 + 300 * S, udp4(a4(i, 9), 5000, b4(i, 9), 5001, b"x" * 4)),
    ]


def sc_simultaneous_open(i=4):
    """Both sides send SYN, both answer SYN-ACK, both ACK."""
    A, B = a4(i, 1), b4(i, 1)
    a = lambda fl, **k: tcp4(A, 5555, B, 6666, fl, **k)
    b = lambda fl, **k: tcp4(B, 6666, A, 5555, fl, **k)
    return [
        (T0 + 1000, a(SYN, window=111)),
        (T0 + 1500, b(SYN, window=222)),
        (T0 + 2000, a(SYN | ACK, window=112)),
        (T0 + 2100, b(SYN | ACK, window=223)),
        (T0 + 3000, a(ACK, window=113)),
        (T0 + 3001, b(ACK, window=224)),
    ]


def sc_synack_first(i=5):
    """The capture begins with the server's SYN-ACK: the client (its
    receiver) is src."""
    C, S_ = a4(i, 1), b4(i, 1)
    return [
        (T0 + 7, tcp4(S_, 8080, C, 41000, SYN | ACK, window=4000, ttl=50)),
        (T0 + 17, tcp4(C, 41000, S_, 8080, ACK, window=3000, ttl=60)),
        (T0 + 27, tcp4(C, 41000, S_, 8080, PSH | ACK, window=3000, ttl=61,
                       data=b"d" * 10)),
    ]


def sc_udp(i=6):
    """A query and answers, both ways; the small one is padded to 60."""
    C, S_ = a4(i, 1), b4(i, 1)
    return [
        (T0 + 0, udp4(C, 53000, S_, 53, b"Q" * 30, ttl=64)),            # 72
        (T0 + 250_000, udp4(S_, 53, C, 53000, b"A" * 100, ttl=60)),      # 142
        (T0 + 400_000, udp4(C, 53000, S_, 53, b"q" * 2, ttl=63, pad=True)),  # 60
        (T0 + 1_400_000, udp4(S_, 53, C, 53000, b"a" * 500, ttl=61)),    # 542
    ]


def sc_icmp(i=7):
    """Echo both ways with two identifiers, and a port unreachable quoting
    a UDP datagram: all one flow, ports 0."""
    A, B = a4(i, 1), b4(i, 1)
    quoted = ipv4(A, B, 17, udp_seg(33434, 33435, b"u" * 4), ttl=1)
    return [
        (T0 + 0, icmp4(A, B, 8, 0, struct.pack("!HH", 77, 1), b"p" * 56)),   # 98
        (T0 + 1000, icmp4(B, A, 0, 0, struct.pack("!HH", 77, 1), b"p" * 56,
                          ttl=57)),
        (T0 + 5000, icmp4(A, B, 8, 0, struct.pack("!HH", 78, 1), b"p" * 8)),  # 50 -> 60 no pad
        (T0 + 6000, icmp4(B, A, 3, 3, b"\0" * 4, quoted, ttl=57)),  # 14+20+8+32 = 74
    ]


def sc_ipv6(i=8):
    """IPv6: a TCP exchange, UDP both ways (one with a hop-by-hop header),
    a UDP datagram in two fragments, and an ICMPv6 echo."""
    A, B = a6(i, 1), a6(i, 2)
    frag_payload = udp_seg(7000, 7001, b"F" * 40)  # 48 bytes; csum left 0
    first = frag_payload[:24]
    later = frag_payload[24:]
    fh = lambda off, m: struct.pack("!BBHI", 17, 0, (off << 3) | m, 0xABCD)
    return [
        (T0 + 0, tcp6(A, 1234, B, 80, SYN, window=7000, hlim=64)),           # 74
        (T0 + 10, tcp6(B, 80, A, 1234, SYN | ACK, window=8000, hlim=60)),     # 74
        (T0 + 20, tcp6(A, 1234, B, 80, ACK, window=7001, hlim=64)),           # 74
        (T0 + 30, udp6(A, 5353, B, 5354, b"z" * 12)),                         # 14+40+8+12 = 74
        (T0 + 40, udp6(B, 5354, A, 5353, b"y" * 20, hlim=33, hbh=True)),      # 14+40+8+8+20 = 90
        (T0 + 50, eth(ipv6(A, B, 44, fh(0, 1) + first), 0x86DD)),           # 14+40+8+24 = 86
        (T0 + 60, eth(ipv6(A, B, 44, fh(3, 0) + later), 0x86DD)),           # 86
        (T0 + 70, icmp6(A, B, 128, 0, struct.pack("!HH", 1, 1), b"e" * 8)),  # 14+40+16 = 70
    ]


def sc_vlan(i=9):
    """The same 5-tuple untagged, tagged 100, and QinQ 200 (outer) / 300."""
    C, S_ = a4(i, 1), b4(i, 1)
    out = []
    for k, vl in enumerate([(), ((0x8100, 100),),
                            ((0x88A8, 200), (0x8100, 300))]):
        t = T0 + k * 1000
        out.append((t, tcp4(C, 1111, S_, 2222, SYN, window=10 + k, vlans=vl)))
        out.append((t + 100, tcp4(S_, 2222, C, 1111, SYN | ACK,
                                  window=20 + k, vlans=vl)))
    return out


def sc_fragments(i=10):
    """A UDP datagram of 1000 bytes in two IPv4 fragments, then one whole
    datagram of the same 5-tuple; a TCP segment's later fragment alone."""
    A, B = a4(i, 1), b4(i, 1)
    seg = udp_seg(9000, 9001, b"D" * 992)  # 1000 bytes
    return [
        (T0 + 0, eth(ipv4(A, B, 17, seg[:600], ident=7, mf=True), 0x0800)),
        (T0 + 5, eth(ipv4(A, B, 17, seg[600:], ident=7, frag_off=75),
                     0x0800)),
        (T0 + 9, udp4(A, 9000, B, 9001, b"w" * 10)),
        (T0 + 11, eth(ipv4(B, A, 6, b"T" * 40, ident=8, frag_off=10),
                      0x0800)),
    ]


def sc_active(i=11):
    """One UDP packet a second for 25 s: longer than a small active
    timeout (the test uses 10 s)."""
    A, B = a4(i, 1), b4(i, 1)
    return [(T0 + k * S, udp4(A, 1000, B, 2000, b"k" * 10))
            for k in range(25)]


def sc_idle(i=12):
    """Two exchanges on one 5-tuple 200 s apart (default idle 120 s)."""
    A, B = a4(i, 1), b4(i, 1)
    out = []
    for base in (T0, T0 + 200 * S):
        out.append((base, udp4(A, 3000, B, 4000, b"i" * 20)))
        out.append((base + 3, udp4(B, 4000, A, 3000, b"j" * 40)))
    return out


def sc_idle_exact(i=13):
    """With an idle timeout of 10 s: a packet 1 ns before the due time
    (same flow) and one exactly at it (new flow); a tie of idle and active
    (idle 6 s, active 10 s), and a tie of end and idle (idle 1 s)."""
    A, B = a4(i, 1), b4(i, 1)
    u = lambda: udp4(A, 10, B, 20, b"e" * 10)
    C, D = a4(i, 3), b4(i, 3)
    E, F = a4(i, 5), b4(i, 5)
    return [
        (T0, u()),
        (T0 + 10 * S - 1, u()),           # same flow (due at T0+20s-1)
        (T0 + 20 * S - 1, u()),           # exactly due: idle, new flow
        # idle 6 / active 10: packets at 0, 4 s, 10 s: idle due 10 s,
        # active due 10 s: reason idle.
        (T0 + 100 * S, udp4(C, 30, D, 40, b"t")),
        (T0 + 104 * S, udp4(C, 30, D, 40, b"t")),
        (T0 + 110 * S, udp4(C, 30, D, 40, b"t")),
        # RST at 200 s: end due 201 s; with idle 1 s idle is due 201 s too.
        (T0 + 200 * S, tcp4(E, 50, F, 60, RST, window=0)),
        (T0 + 201 * S, tcp4(E, 50, F, 60, SYN, window=9)),
    ]


def sc_out_of_order(i=14):
    """Timestamps that go back: within a flow (piat 0, last_seen keeps
    the latest), a new flow's first packet earlier than the one before,
    and a straggler that comes after the capture's clock has passed its
    flow's idle due time by more than a second (the user-space scan has
    exported the flow: the straggler begins a new one). The test uses
    an idle timeout of 10 s."""
    A, B = a4(i, 1), b4(i, 1)
    C, D = a4(i, 3), b4(i, 3)
    E, F = a4(i, 5), b4(i, 5)
    u = lambda s, sp, d, dp, n: udp4(s, sp, d, dp, b"o" * n)
    return [
        (T0 + 1000, u(A, 1, B, 2, 10)),
        (T0 + 3000, u(B, 2, A, 1, 20)),
        (T0 + 2000, u(A, 1, B, 2, 30)),    # earlier than the last: piat 0
        (T0 + 2500, u(B, 2, A, 1, 40)),    # earlier than dst2src's last
        (T0 + 4000, u(A, 1, B, 2, 50)),
        (T0 + 500, u(C, 7, D, 8, 10)),     # a new flow, earlier than all
        (T0 + 5 * S, u(E, 9, F, 9, 10)),   # E-F flow: idle due at 15 s
        (T0 + 17 * S, u(C, 70, D, 80, 10)),  # clock at 17 s (scan)
        (T0 + 18 * S, u(C, 70, D, 80, 10)),  # clock at 18 s (scan)
        (T0 + 14 * S, u(F, 9, E, 9, 10)),    # straggler: before 15 s
        (T0 + 19 * S, u(C, 70, D, 80, 10)),  # last frame in time order
    ]


def sc_many(i=15, n=5000):
    """n UDP flows, two to three packets each, interleaved."""
    out = []
    for k in range(n):
        a = "198.18.%d.%d" % (32 + k // 250, 1 + k % 250)
        b = "198.19.%d.%d" % (32 + k // 250, 1 + k % 250)
        t = T0 + k * 7_919
        out.append((t, udp4(a, 10000 + k % 50000, b, 53, b"m" * (k % 97))))
        out.append((t + 1_000_003, udp4(b, 53, a, 10000 + k % 50000,
                                        b"n" * (k % 131))))
        if k % 3 == 0:
            out.append((t + 2_000_017, udp4(a, 10000 + k % 50000, b, 53,
                                            b"o" * 3, pad=True)))
    out.sort(key=lambda x: x[0])
    return out


def sc_nonip(i=16):
    """ARP around a UDP packet: ARP is in no flow."""
    A, B = a4(i, 1), b4(i, 1)
    return [(T0 + 1, arp()), (T0 + 2, udp4(A, 1, B, 2, b"x")),
            (T0 + 3, arp())]


def sc_fin_grace(i=18):
    """FIN-ACK both ways: the second FIN-ACK does not end the flow (its
    own FIN does not count), the ACK after it does; a straggler in the
    grace second counts; an RST after the end does not move it; a
    packet exactly 1 s after the end begins a new flow."""
    C, S_ = a4(i, 1), b4(i, 1)
    c = lambda fl, **k: tcp4(C, 45000, S_, 443, fl, **k)
    s = lambda fl, **k: tcp4(S_, 443, C, 45000, fl, **k)
    return [
        (T0, c(FIN | ACK, window=300)),
        (T0 + 1000, s(FIN | ACK, window=400)),
        (T0 + 500 * MS, c(ACK, window=301)),         # end_ns
        (T0 + 1200 * MS, s(ACK, window=401)),        # in the grace second
        (T0 + 1300 * MS, c(RST, window=0)),          # end_ns stays
        (T0 + 1500 * MS, s(ACK, window=402)),        # due: a new flow
    ]


SCENARIOS = {
    "tcp_handshake": sc_tcp_handshake,
    "tcp_rst": sc_tcp_rst,
    "half_close": sc_half_close,
    "simultaneous_open": sc_simultaneous_open,
    "synack_first": sc_synack_first,
    "udp": sc_udp,
    "icmp": sc_icmp,
    "ipv6": sc_ipv6,
    "vlan": sc_vlan,
    "fragments": sc_fragments,
    "active": sc_active,
    "idle": sc_idle,
    "idle_exact": sc_idle_exact,
    "out_of_order": sc_out_of_order,
    "many_flows": sc_many,
    "nonip": sc_nonip,
    "fin_grace": sc_fin_grace,
}


def write_pcap(path, frames, linktype=1):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144,
                            linktype))
        for ts, fr in frames:
            f.write(struct.pack("<IIII", ts // S, ts % S, len(fr), len(fr)))
            f.write(fr)


def pcapng_block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def write_pcapng(path, frames):
    """frames: (ts_ns, interface id, frame); two Ethernet interfaces with
    nanosecond resolution (if_tsresol 9)."""
    with open(path, "wb") as f:
        f.write(pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1,
                                                     0, -1)))
        for _ in range(2):
            opts = struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)
            f.write(pcapng_block(1, struct.pack("<HHI", 1, 0, 0) + opts))
        for ts, ifc, fr in frames:
            f.write(pcapng_block(6, struct.pack(
                "<IIIII", ifc, ts >> 32, ts & 0xFFFFFFFF, len(fr), len(fr))
                + fr))


def sc_pcapng(i=17):
    """The same UDP 5-tuple on interface 0 and on interface 1."""
    A, B = a4(i, 1), b4(i, 1)
    return [(T0 + 1, 0, udp4(A, 1, B, 2, b"a" * 10)),
            (T0 + 2, 1, udp4(A, 1, B, 2, b"b" * 10)),
            (T0 + 3, 1, udp4(B, 2, A, 1, b"c" * 10)),
            (T0 + 4, 0, udp4(B, 2, A, 1, b"d" * 10))]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    every = []
    for name, fn in SCENARIOS.items():
        frames = fn()
        write_pcap(os.path.join(out, name + ".pcap"), frames)
        every.append(frames)
    write_pcapng(os.path.join(out, "interfaces.pcapng"), sc_pcapng())
    # heapq.merge keeps each scenario's own order (out-of-order included).
    write_pcap(os.path.join(out, "mixed.pcap"),
               list(heapq.merge(*every, key=lambda x: x[0])))


if __name__ == "__main__":
    main()
