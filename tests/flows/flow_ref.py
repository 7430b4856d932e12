#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Reference implementation of the flow features of docs/flows.md.

usage: flow_ref.py CAPTURE [--idle-timeout S] [--active-timeout S]
                   [--accounting link|ip|transport|payload] [--splt N]
                   [--ifindex N] [--no-scan]

Writes NDJSON, one object per flow, with the fields of docs/flows.md
"Output" in their order. Independent of the project's C: tshark decodes
every frame (per-frame header fields, no reassembly), this file keeps the
flow table in Python integers.

Expiry is the one of docs/flows.md:
- per packet, before counting it: if its flow is due (the earliest of
  end_ns + 1 s, last_seen + idle, first_seen + active; on a tie end, idle,
  active; due when t >= the due time) it is exported with that reason and
  a new flow of the same key begins with this packet;
- the user-space scan: whenever the capture's clock (the time of the
  frame being read, any frame) is a second or more past the last scan,
  every flow due by then is exported (the first frame is the first
  scan). With timestamps in order this changes nothing; it matters when a
  frame comes later than its flow's due time was passed by the clock.
  --no-scan leaves it out (per-packet expiry only);
- at the end of the capture: a last scan at the time of the last frame,
  then every flow left is exported `forced`.

Choices where docs/flows.md leaves room (see also the comments below):
- ifindex: --ifindex N for every frame, else SLL2's interface index,
  else the pcapng interface id + 1 (tshark's frame.interface_id, counted
  over the whole file, not per section), else 0;
- link size: the wire length (never below the captured length) with the
  capture's link-layer header counted as a 14-byte Ethernet header, no FCS;
- payload size: the L4 header counts 0 for protocols other than
  TCP/UDP/UDP-Lite/ICMP/ICMPv6 and for later fragments, whose payload is
  then their whole transport size;
- first_seen is the first packet's time even where a later packet is
  stamped earlier (last_seen is the latest time).
"""
import argparse
import json
import math
import socket
import subprocess
import sys

NS = 10**9
FIELDS = [
    "frame.time_epoch", "frame.len", "frame.cap_len", "frame.protocols",
    "frame.interface_id", "sll.ifindex", "vlan.id", "ieee8021ad.id",
    "ip.hdr_len", "ip.len", "ip.ttl", "ip.proto", "ip.src", "ip.dst",
    "ip.flags.mf", "ip.frag_offset",
    "ipv6.src", "ipv6.dst", "ipv6.plen", "ipv6.hlim", "ipv6.nxt",
    "ipv6.opt.jumbo",
    "ipv6.hopopts.nxt", "ipv6.hopopts.len_oct",
    "ipv6.routing.nxt", "ipv6.routing.len_oct",
    "ipv6.fraghdr.nxt", "ipv6.fraghdr.offset",
    "ipv6.dstopts.nxt", "ipv6.dstopts.len_oct",
    "ah.next_header", "ah.length",
    "tcp.srcport", "tcp.dstport", "tcp.hdr_len", "tcp.flags",
    "tcp.window_size_value",
    "udp.srcport", "udp.dstport", "sctp.srcport", "sctp.dstport",
    "dccp.srcport", "dccp.dstport",
]
TSHARK_OPTS = [
    "-n",
    "-o", "ip.defragment:FALSE",
    "-o", "ipv6.defragment:FALSE",
    "-o", "tcp.desegment_tcp_streams:FALSE",
    # Without reassembly tshark decodes a first fragment's L4 header and
    # leaves later fragments as data. No FCS is guessed at the end of an
    # Ethernet frame (the reference assumes captures without one).
    "-o", "eth.fcs:Never",
]
# Layers the project's parser walks before IP (docs/record.md,
# tests/offline/compare_tshark.py): IP behind anything else is no flow.
L2_WALKED = {"eth", "ethertype", "vlan", "ieee8021ad", "sll", "raw", "null",
             "mpls", "pppoes", "ppp", "llc"}
# IPv6 extension headers tshark shows as layers: (nxt field, length field
# in bytes or a fixed length).
V6_EXT = {
    "ipv6.hopopts": ("ipv6.hopopts.nxt", "ipv6.hopopts.len_oct"),
    "ipv6.routing": ("ipv6.routing.nxt", "ipv6.routing.len_oct"),
    "ipv6.fraghdr": ("ipv6.fraghdr.nxt", 8),
    "ipv6.dstopts": ("ipv6.dstopts.nxt", "ipv6.dstopts.len_oct"),
    "ah": ("ah.next_header", "ah"),
}
PORT_PROTOS = {6: ("tcp", "tcp"), 17: ("udp", "udp"), 136: ("udp", "udp"),
               132: ("sctp", "sctp"), 33: ("dccp", "dccp")}
ACCOUNTING = ["link", "ip", "transport", "payload"]
REASONS = {1: "idle", 2: "active", 3: "end", 4: "forced", 5: "resources"}
END, IDLE, ACTIVE, FORCED = 3, 1, 2, 4
FLAG_NAMES = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"]
OUT_FLAGS = ["syn", "cwr", "ece", "urg", "ack", "psh", "rst", "fin"]


def ns_of(epoch):
    """Exact ns of tshark's decimal seconds (never through a float)."""
    neg = epoch.startswith("-")
    sec, _, frac = epoch.lstrip("-").partition(".")
    assert len(frac) <= 9, epoch
    v = int(sec) * NS + int((frac + "000000000")[:9])
    return -v if neg else v


def num(v):
    if v is None or v == "":
        return None
    if v in ("True", "False"):
        return int(v == "True")
    return int(v, 16) if v.startswith("0x") else int(v)


class Occ:
    """A frame's fields, every occurrence (tshark -E occurrence=a),
    consumed in frame order where a chain needs it."""

    def __init__(self, row):
        self.v = {f: (row[i].split(",") if row[i] else [])
                  for i, f in enumerate(FIELDS)}
        self.used = {}

    def first(self, f):
        lst = self.v[f]
        return lst[0] if lst else ""

    def next(self, f):
        i = self.used.get(f, 0)
        self.used[f] = i + 1
        lst = self.v[f]
        return lst[i] if i < len(lst) else ""


def addr_bytes(ver, s):
    return socket.inet_pton(socket.AF_INET if ver == 4 else socket.AF_INET6,
                            s)


def key_addr(ver, s):
    """The 16 bytes the key holds: IPv4 as ::ffff:a.b.c.d."""
    b = addr_bytes(ver, s)
    return b"\0" * 10 + b"\xff\xff" + b if ver == 4 else b


def addr_str(a16):
    """As packet records print addresses (lib's rule): an IPv4-mapped
    address as a dotted quad, any other with inet_ntop."""
    if a16[:12] == b"\0" * 10 + b"\xff\xff":
        return socket.inet_ntop(socket.AF_INET, a16[12:])
    return socket.inet_ntop(socket.AF_INET6, a16)


def link_header_len(first_layer, sll_ifindex):
    if first_layer == "sll":
        return 20 if sll_ifindex else 16
    if first_layer == "null":
        return 4
    if first_layer in ("raw", "ip", "ipv6", ""):
        return 0
    return 14


class Pkt:
    __slots__ = ("t", "ifindex", "vlan", "ver", "proto", "a", "ap", "b",
                 "bp", "sizes", "ttl", "flags", "window", "later_frag")


def decode(row, opts):
    """A Pkt for an IP frame, or None."""
    o = Occ(row)
    t = ns_of(o.first("frame.time_epoch"))
    layers = o.first("frame.protocols").split(":")
    l3 = next((i for i, l in enumerate(layers) if l in ("ip", "ipv6")), None)
    if l3 is None or not set(layers[:l3]) <= L2_WALKED:
        return t, None
    tags = sum(1 for l in layers[:l3] if l in ("vlan", "ieee8021ad"))
    if tags > 2:
        return t, None
    p = Pkt()
    p.t = t
    if opts.ifindex is not None:
        p.ifindex = opts.ifindex
    elif o.first("sll.ifindex"):
        p.ifindex = num(o.first("sll.ifindex"))
    elif o.first("frame.interface_id"):
        p.ifindex = num(o.first("frame.interface_id")) + 1
    else:
        p.ifindex = 0
    if "ieee8021ad" in layers[:l3]:
        p.vlan = num(o.first("ieee8021ad.id"))
    elif "vlan" in layers[:l3]:
        p.vlan = num(o.first("vlan.id"))
    else:
        p.vlan = 0
    wire = max(num(o.first("frame.len")), num(o.first("frame.cap_len")))
    frame_len = wire - link_header_len(layers[0], o.first("sll.ifindex")) + 14
    i = l3 + 1
    if layers[l3] == "ip":
        if not o.first("ip.dst"):
            return t, None
        p.ver = 4
        src, dst = o.first("ip.src"), o.first("ip.dst")
        hdr = num(o.first("ip.hdr_len"))
        ip_size = num(o.first("ip.len"))
        if ip_size == 0:  # segmentation offload: to the end of the frame
            ip_size = frame_len - 14 - 4 * tags
        p.ttl = num(o.first("ip.ttl"))
        proto = num(o.first("ip.proto"))
        p.later_frag = num(o.first("ip.frag_offset") or "0") != 0
        ext = 0
        # AH after IPv4 (walked by the parser, docs/datapath.md)
        while i < len(layers) and layers[i] == "ah":
            proto = num(o.next("ah.next_header"))
            ext += (num(o.next("ah.length")) + 2) * 4
            i += 1
        transport = ip_size - hdr - ext
    else:
        if not o.first("ipv6.dst"):
            return t, None
        p.ver = 6
        src, dst = o.first("ipv6.src"), o.first("ipv6.dst")
        plen = num(o.first("ipv6.plen"))
        jumbo = o.first("ipv6.opt.jumbo")
        ip_size = 40 + (num(jumbo) if plen == 0 and jumbo else plen)
        p.ttl = num(o.first("ipv6.hlim"))
        proto = num(o.first("ipv6.nxt"))
        p.later_frag = False
        ext = 0
        while i < len(layers) and layers[i] in V6_EXT:
            nf, lf = V6_EXT[layers[i]]
            proto = num(o.next(nf))
            if lf == "ah":
                ext += (num(o.next("ah.length")) + 2) * 4
            elif isinstance(lf, int):
                ext += lf
            else:
                ext += num(o.next(lf))
            if layers[i] == "ipv6.fraghdr":
                off = num(o.next("ipv6.fraghdr.offset"))
                if off:
                    p.later_frag = True
                    i += 1
                    break  # the walk stops: no L4 header
            i += 1
        transport = ip_size - 40 - ext
    p.proto = proto
    sport = dport = 0
    p.flags = 0
    p.window = 0
    l4hdr = 0
    if not p.later_frag:
        if proto in PORT_PROTOS:
            pre = PORT_PROTOS[proto][0]
            sport = num(o.first(pre + ".srcport")) or 0
            dport = num(o.first(pre + ".dstport")) or 0
        if proto == 6:
            p.flags = (num(o.first("tcp.flags")) or 0) & 0xFF
            p.window = num(o.first("tcp.window_size_value")) or 0
            l4hdr = num(o.first("tcp.hdr_len")) or 0
        elif proto in (17, 136, 1, 58):
            l4hdr = 8
    p.a, p.ap = key_addr(p.ver, src), sport
    p.b, p.bp = key_addr(p.ver, dst), dport
    payload = max(transport - l4hdr, 0)
    p.sizes = (frame_len, ip_size, transport, payload)
    return t, p


def tshark_rows(capture):
    cmd = ["tshark", "-r", capture] + TSHARK_OPTS + [
        "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
        "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"}).stdout
    for line in out.splitlines():
        row = line.split("\t")
        assert len(row) == len(FIELDS), line
        yield row


class Dir:
    __slots__ = ("first", "last", "n", "bytes", "sq", "psum", "psq", "pmin",
                 "pmax", "smin", "smax", "fl", "win", "ttl")

    def __init__(self):
        self.first = self.last = self.n = self.bytes = self.sq = 0
        self.psum = self.psq = self.pmin = self.pmax = 0
        self.smin = self.smax = 0
        self.fl = [0] * 8
        self.win = self.ttl = 0

    def add(self, t, size, flags, window, ttl):
        if self.n == 0:
            self.first = self.last = t
            self.smin = self.smax = size
            self.win, self.ttl = window, ttl
        else:
            piat = t - self.last if t > self.last else 0
            self.last = max(self.last, t)
            self.psum += piat
            self.psq += piat * piat
            if self.n == 1:
                self.pmin = self.pmax = piat
            else:
                self.pmin = min(self.pmin, piat)
                self.pmax = max(self.pmax, piat)
            self.smin = min(self.smin, size)
            self.smax = max(self.smax, size)
        self.n += 1
        self.bytes += size
        self.sq += size * size
        for b in range(8):
            if flags >> b & 1:
                self.fl[b] += 1


def mean(s, n):
    return float(s) / float(n) if n else 0.0


def stddev(s, q, n):
    if n < 2:
        return 0.0
    return math.sqrt(float(n * q - s * s) / float(n * (n - 1)))


class Flow:
    def __init__(self, key, p):
        self.key = key
        src_is_a = not (p.proto == 6 and p.flags & 0x12 == 0x12)
        self.src = (p.a, p.ap) if src_is_a else (p.b, p.bp)
        self.dst = (p.b, p.bp) if src_is_a else (p.a, p.ap)
        self.bi, self.s2d, self.d2s = Dir(), Dir(), Dir()
        self.end_ns = None
        self.fin_src = self.fin_dst = False
        self.splt = []  # (direction, size, piat)

    def due(self, idle, active):
        """(due time, reason): the earliest; ties end, idle, active."""
        c = []
        if self.end_ns is not None:
            c.append((self.end_ns + NS, END))
        c.append((self.bi.last + idle, IDLE))
        c.append((self.bi.first + active, ACTIVE))
        # min by time; among equal times the order above (end, idle,
        # active) is kept by a stable min on the time alone.
        return min(c, key=lambda x: x[0])

    def add(self, p, acct, splt_len):
        size = p.sizes[acct]
        from_src = (p.a, p.ap) == self.src
        d = self.s2d if from_src else self.d2s
        bpiat = 0
        if self.bi.n and p.t > self.bi.last:
            bpiat = p.t - self.bi.last
        if len(self.splt) < splt_len:
            self.splt.append((0 if from_src else 1, size, bpiat))
        self.bi.add(p.t, size, p.flags, p.window, p.ttl)
        d.add(p.t, size, p.flags, p.window, p.ttl)
        if p.proto == 6:
            if self.end_ns is None:
                if p.flags & 0x04:
                    self.end_ns = p.t
                elif p.flags & 0x10 and self.fin_src and self.fin_dst:
                    self.end_ns = p.t
            if p.flags & 0x01:
                if from_src:
                    self.fin_src = True
                else:
                    self.fin_dst = True

    def record(self, reason, acct, splt_len):
        k = self.key
        r = {"ifindex": k[0], "vlan_id": k[1], "ip_version": k[2],
             "protocol": k[3], "src_ip": addr_str(self.src[0]),
             "src_port": self.src[1], "dst_ip": addr_str(self.dst[0]),
             "dst_port": self.dst[1], "end_reason": REASONS[reason],
             "accounting": ACCOUNTING[acct]}
        for name, d in (("bidirectional", self.bi), ("src2dst", self.s2d),
                        ("dst2src", self.d2s)):
            r[name + "_first_seen_ns"] = d.first
            r[name + "_last_seen_ns"] = d.last
            r[name + "_duration_ns"] = d.last - d.first
            r[name + "_packets"] = d.n
            r[name + "_bytes"] = d.bytes
            r[name + "_min_ps"] = d.smin
            r[name + "_mean_ps"] = mean(d.bytes, d.n)
            r[name + "_stddev_ps"] = stddev(d.bytes, d.sq, d.n)
            r[name + "_max_ps"] = d.smax
            pn = max(d.n - 1, 0)
            r[name + "_min_piat_ns"] = d.pmin
            r[name + "_mean_piat_ns"] = mean(d.psum, pn)
            r[name + "_stddev_piat_ns"] = stddev(d.psum, d.psq, pn)
            r[name + "_max_piat_ns"] = d.pmax
            for f in OUT_FLAGS:
                r["%s_%s_packets" % (name, f)] = d.fl[FLAG_NAMES.index(f)]
        r["src2dst_first_ttl"] = self.s2d.ttl
        r["dst2src_first_ttl"] = self.d2s.ttl
        r["src2dst_first_window"] = self.s2d.win
        r["dst2src_first_window"] = self.d2s.win
        pad = [-1] * (splt_len - len(self.splt))
        r["splt_direction"] = [x[0] for x in self.splt] + pad
        r["splt_ps"] = [x[1] for x in self.splt] + pad
        r["splt_piat_ns"] = [x[2] for x in self.splt] + pad
        return r


def flow_key(p):
    ends = sorted([(int.from_bytes(p.a, "big"), p.ap),
                   (int.from_bytes(p.b, "big"), p.bp)])
    return (p.ifindex, p.vlan, p.ver, p.proto, ends[0], ends[1])


def secs_to_ns(s):
    """Seconds as given on the command line (an integer or a decimal)
    to exact ns."""
    return ns_of(str(s))


def flows(capture, opts):
    """Exported flow records, in export order."""
    idle = secs_to_ns(opts.idle_timeout)
    active = secs_to_ns(opts.active_timeout)
    acct = ACCOUNTING.index(opts.accounting)
    splt = opts.splt
    table = {}
    out = []
    last_scan = None
    last_t = None

    def scan(now):
        for k in list(table):
            due, why = table[k].due(idle, active)
            if now >= due:
                out.append(table.pop(k).record(why, acct, splt))

    for row in tshark_rows(capture):
        t, p = decode(row, opts)
        last_t = t
        if not opts.no_scan and (last_scan is None or
                                 t - last_scan >= NS):
            scan(t)
            last_scan = t
        if p is None:
            continue
        k = flow_key(p)
        f = table.get(k)
        if f is not None:
            due, why = f.due(idle, active)
            if p.t >= due:
                out.append(f.record(why, acct, splt))
                f = None
        if f is None:
            f = table[k] = Flow(k, p)
        f.add(p, acct, splt)
    if last_t is not None:
        scan(last_t)
    for k in list(table):
        out.append(table.pop(k).record(FORCED, acct, splt))
    return out


def dumps(r):
    """One NDJSON line; doubles as %.17g (as the C prints them)."""
    parts = []
    for k, v in r.items():
        if isinstance(v, float):
            s = "%.17g" % v
        else:
            s = json.dumps(v, separators=(",", ":"))
        parts.append(json.dumps(k) + ":" + s)
    return "{" + ",".join(parts) + "}"


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("capture")
    ap.add_argument("--idle-timeout", default="120")
    ap.add_argument("--active-timeout", default="1800")
    ap.add_argument("--accounting", choices=ACCOUNTING, default="link")
    ap.add_argument("--splt", type=int, default=8)
    ap.add_argument("--ifindex", type=int, default=None)
    ap.add_argument("--no-scan", action="store_true",
                    help="per-packet expiry only, no user-space scan")
    o = ap.parse_args(argv)
    if not 1 <= o.splt <= 32:
        ap.error("--splt: 1 to 32")
    return o


def main(argv=None):
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    w = sys.stdout
    for r in flows(opts.capture, opts):
        w.write(dumps(r) + "\n")


if __name__ == "__main__":
    main()
