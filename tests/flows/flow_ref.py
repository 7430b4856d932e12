#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Reference implementation of the flow features of docs/flows.md.

usage: flow_ref.py CAPTURE [--idle-timeout S] [--active-timeout S]
                   [--accounting link|ip|transport|payload] [--splt N]
                   [--ifindex N] [--no-scan]

Writes NDJSON, one object per flow, with the fields of docs/flows.md
"Output" in their order; names each frame refused and a damaged file on
standard error and then exits 1, as xdpctl extract does. Independent of
the project's C: tshark decodes every frame (per-frame header fields, no
reassembly) and says which frames are IP behind the layers the parser
walks, their interface, VLAN and addresses; a minimal pcap/pcapng reader
of this file gives the timestamps, the declared FCS and the bytes, and
the walk past the IP header is done here from docs/record.md (IPv6
extension headers and AH, at most 8; headers cut short or damaged read
field by field as far as they go), where tshark stops or goes further
than the program; this file keeps the flow table in Python integers.

The frames, as xdpctl extract hands them over (docs/xdpctl.8,
docs/record.md):
- timestamps as libwiretap takes them (pcap: unsigned seconds and the
  fraction as a C int, so a fraction of 10^6 us or more carries into the
  seconds; pcapng: if_tsresol, if_tsoffset), normalized; a frame before
  1970 or past 2554-07-21 is refused: in no flow, no tick of the clock;
  so is a frame of a link type the reader does not hand over;
- frame_len: the wire length (never below the captured length), less
  the FCS the capture declares (pcap header FCS bits, pcapng if_fcslen:
  2 bytes or else 4), with the capture's link-layer header (SLL 16, SLL2
  20, loopback 4, raw IP 0 bytes) counted as a 14-byte Ethernet header;
  frames of fewer than 14 bytes after that reach no program;
- ifindex: --ifindex N for every frame, else SLL2's interface index,
  else the pcapng interface id + 1 within its section, else 0.

Expiry is the one of docs/flows.md:
- per packet, before counting it: if its flow is due (the earliest of
  end_ns + 1 s, last_seen + idle, first_seen + active; on a tie end, idle,
  active; due when t >= the due time), or it has ended and the packet is
  a SYN without ACK (reason end), it is exported with that reason and a
  new flow of the same key begins with this packet;
- the user-space scan, on the capture's clock (its latest timestamp so
  far, over every frame a program sees): before the first frame that
  takes the clock a second or more past the last scan (or past the first
  frame), every flow due by then is exported. With timestamps in order
  this changes nothing; it matters when a frame comes later than its
  flow's due time was passed by the clock. --no-scan leaves it out
  (per-packet expiry only);
- at the end of the capture: a last scan at the capture's clock (its
  latest timestamp, not the last frame's), then every flow left is
  exported `forced`.

Choices where docs/flows.md leaves room (see also the comments below):
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
import struct
import subprocess
import sys

NS = 10**9
FIELDS = [
    "frame.len", "frame.cap_len", "frame.protocols",
    "frame.interface_id", "sll.ifindex", "vlan.id", "ieee8021ad.id",
    "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
    "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
]
TSHARK_OPTS = [
    "-n",
    "-o", "ip.defragment:FALSE",
    "-o", "ipv6.defragment:FALSE",
    "-o", "tcp.desegment_tcp_streams:FALSE",
    # An FCS only where the capture declares one (the reader below
    # removes it), never guessed at the end of an Ethernet frame.
    "-o", "eth.fcs:Never",
]
# Layers the project's parser walks before IP (docs/record.md,
# tests/offline/compare_tshark.py): IP behind anything else is no flow.
L2_WALKED = {"eth", "ethertype", "vlan", "ieee8021ad", "sll", "raw", "null",
             "mpls", "pppoes", "ppp", "llc"}
# Layers tshark shows between IP and L4 for the headers the walk steps
# over.
EXT_LAYERS = {"ipv6.hopopts", "ipv6.routing", "ipv6.fraghdr",
              "ipv6.dstopts", "ah"}
ACCOUNTING = ["link", "ip", "transport", "payload"]
REASONS = {1: "idle", 2: "active", 3: "end", 4: "forced", 5: "resources"}
END, IDLE, ACTIVE, FORCED = 3, 1, 2, 4
FLAG_NAMES = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"]
OUT_FLAGS = ["syn", "cwr", "ece", "urg", "ack", "psh", "rst", "fin"]


def ns_of(epoch):
    """Exact ns of decimal seconds (never through a float)."""
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
    """A frame's fields, every occurrence (tshark -E occurrence=a)."""

    def __init__(self, row):
        self.v = {f: (row[i].split(",") if row[i] else [])
                  for i, f in enumerate(FIELDS)}

    def first(self, f):
        lst = self.v[f]
        return lst[0] if lst else ""


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

# ---------------------------------------------------------------------------
# The capture's frames: a minimal pcap/pcapng reader of its own, for what
# tshark's text cannot give exactly (timestamps as libwiretap takes them,
# the FCS the capture declares, the frame's bytes for the program's walk).

# Link types (pcap LINKTYPE_*) and the bytes of their own header, which the
# reader of xdpctl extract replaces with a 14-byte Ethernet header
# (docs/xdpctl.8): None for Ethernet, kept as it is.
LINK_HLEN = {1: None, 113: 16, 276: 20, 101: 0, 12: 0, 14: 0, 228: 0,
             229: 0, 0: 4, 108: 4}
TS_MAX_NS = 2**64 - 1  # u64 ns since 1970: 2554-07-21
MAX_LEN = 3520  # bytes of a frame the program is handed (docs/xdpctl.8)


class Frame:
    __slots__ = ("ts", "refused", "linktype", "data", "wire", "fcs",
                 "number", "bytes")


def s32(v):
    """A C int from the low 32 bits of v (libwiretap's int nsecs)."""
    v &= 0xFFFFFFFF
    return v - 2**32 if v & 0x80000000 else v


def set_ts(fr, secs, nsecs):
    """The frame's time as xdpctl extract takes libwiretap's (secs,
    nsecs): normalized, refused before 1970 and past 2554."""
    ns = secs * NS + nsecs
    fr.ts = ns
    fr.refused = ("before 1970" if ns < 0 else
                  "after 2554" if ns > TS_MAX_NS else None)


def pcap_frames(data):
    magic = data[:4]
    end = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nsec = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    lt = struct.unpack(end + "I", data[20:24])[0]
    # The FCS bits: present (bit 26) and its length in 16-bit words
    # (bits 28-31), as libpcap defines them.
    fcs = (lt >> 28) * 2 if lt & 0x04000000 else 0
    off = 24
    while off + 16 <= len(data):
        sec, frac, cap, wire = struct.unpack(end + "IIII", data[off:off + 16])
        if off + 16 + cap > len(data):
            raise Damaged("record %d cut short" % off)
        fr = Frame()
        # libwiretap: seconds unsigned, the fraction (x 1000 in u32 for
        # microseconds) into a C int.
        set_ts(fr, sec, s32(frac if nsec else frac * 1000))
        fr.linktype = lt & 0x03FFFFFF  # LT_LINKTYPE: without the FCS bits
        fr.data = data[off + 16:off + 16 + cap]
        fr.wire = wire
        fr.fcs = fcs
        yield fr
        off += 16 + cap
    if off != len(data):
        raise Damaged("%d bytes after the last record" % (len(data) - off))


def pcapng_options(body, end):
    o = 0
    while o + 4 <= len(body):
        code, olen = struct.unpack(end + "HH", body[o:o + 4])
        if code == 0:
            return
        yield code, body[o + 4:o + 4 + olen]
        o += 4 + (olen + 3) // 4 * 4


def pcapng_frames(data):
    off, end, ifs = 0, "<", []
    while off + 12 <= len(data):
        if data[off:off + 4] == b"\x0a\x0d\x0d\x0a":
            end = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            ifs = []  # interface ids count within their section
        btype, blen = struct.unpack(end + "II", data[off:off + 8])
        if blen < 12 or blen % 4 or off + blen > len(data):
            raise Damaged("block at %d" % off)
        body = data[off + 8:off + blen - 4]
        if btype == 1:  # interface description
            lt = struct.unpack(end + "H", body[:2])[0]
            units, tsoff, fcs = 10**6, 0, 0
            for code, v in pcapng_options(body[8:], end):
                if code == 9 and v:  # if_tsresol
                    units = 2 ** (v[0] & 0x7F) if v[0] & 0x80 else \
                        10 ** v[0]
                elif code == 14 and len(v) == 8:  # if_tsoffset, seconds
                    tsoff = struct.unpack(end + "q", v)[0]
                elif code == 13 and v:  # if_fcslen
                    fcs = v[0]
            ifs.append((lt, units, tsoff, fcs))
        elif btype in (2, 6, 3):
            fr = Frame()
            if btype == 3:  # simple packet: interface 0, no timestamp
                iface, wire = 0, struct.unpack(end + "I", body[:4])[0]
                cap = min(wire, len(body) - 4)
                fr.data = body[4:4 + cap]
                fr.ts, fr.refused = None, "no timestamp"
            else:
                if btype == 2:
                    iface = struct.unpack(end + "H", body[:2])[0]
                else:
                    iface = struct.unpack(end + "I", body[:4])[0]
                hi, lo, cap, wire = struct.unpack(end + "IIII", body[4:20])
                fr.data = body[20:20 + cap]
            if iface >= len(ifs):
                raise Damaged("block at %d: no interface %d" % (off, iface))
            lt, units, tsoff, fcs = ifs[iface]
            if btype != 3:
                # libwiretap: whole units, then the fraction in ns
                # (u64 arithmetic), then the offset in seconds.
                ts = hi << 32 | lo
                frac = (ts % units) * NS % 2**64 // units
                set_ts(fr, ts // units + tsoff, frac)
            fr.linktype, fr.wire, fr.fcs = lt, wire, fcs
            yield fr
        elif btype == 9:  # systemd journal export: a record, no frame
            fr = Frame()
            fr.ts, fr.refused, fr.linktype = None, "not a packet", None
            fr.data, fr.wire, fr.fcs = b"", 0, 0
            yield fr
        off += blen


class Damaged(Exception):
    pass


def capture_frames(path):
    """The capture's frames, in order; Damaged where the file is."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1",
                    b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        return pcap_frames(data)
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        return pcapng_frames(data)
    raise SystemExit("flow_ref.py: %s: neither pcap nor pcapng: the "
                     "reference reads no other format" % path)


# ---------------------------------------------------------------------------
# What the program reads past the IP header (docs/record.md): the walk over
# IPv6 extension headers and AH, and the L4 fields, field by field from
# the frame's bytes, so that a header cut short or damaged gives what the
# program takes from it. tshark stops at such headers, or goes on where
# the program stops on purpose (past 8 extension headers).

IPV6_EXT_MAX = 8  # XPP_IPV6_EXT_MAX: extension headers walked
OPTS_WALK_MAX = 16  # options of a hop-by-hop/destination header checked
V6_EXT_TYPES = {0, 43, 44, 51, 60, 135, 139, 140}
AH = 51


class Walk:
    """The bytes the program has of a frame (Ethernet coordinates: the
    Ethernet header, its own or the synthesized one, at 0) and what it
    read of them."""

    def __init__(self, frame, lim, wire):
        self.b = frame
        self.lim = lim    # end of the IP packet, clamped to the frame
        self.wire = wire  # length on the wire, bounded as lim
        self.proto = 0
        self.l4_off = 0
        self.l4_hdr = 0
        self.sport = self.dport = 0
        self.flags = self.window = 0
        self.later_frag = False
        self.ext_limit = False

    def have(self, off, n):
        """n bytes at off, within the frame (ptr_at)."""
        return off + n <= len(self.b)

    def l4(self, off, n):
        """n bytes at off, within the IP packet too (l4_at)."""
        return off + n <= self.lim and self.have(off, n)

    def u16(self, off):
        return self.b[off] << 8 | self.b[off + 1]

    def opts_ok(self, off, n, lim):
        """Whether the options of the n-byte header at off stay within
        the packet (lim): an option running past it stops the walk.
        Returns (ok, jumbo): jumbo the Jumbo Payload length, 1 for one
        with another length than 4, 0 without one."""
        jumbo = 0
        if lim < off:
            return True, 0
        avail = lim - off
        pos = 2
        for _ in range(OPTS_WALK_MAX):
            if pos >= n:
                return True, jumbo
            if pos >= avail or not self.have(off + pos, 1):
                return False, jumbo
            t = self.b[off + pos]
            if t == 0:  # Pad1
                pos += 1
                continue
            if pos + 2 > avail or not self.have(off + pos, 2):
                return False, jumbo
            olen = self.b[off + pos + 1]
            if t == 0xC2:  # Jumbo Payload
                jumbo = 1
                if olen == 4 and pos + 6 <= avail and \
                        self.have(off + pos + 2, 4):
                    jumbo = int.from_bytes(self.b[off + pos + 2:
                                                  off + pos + 6], "big")
            pos += 2 + olen
            if pos > avail:
                return False, jumbo
        return True, jumbo

    def ext_walk(self, off, nh, v6):
        """From off, just past the IP header: IPv6 extension headers (and
        AH, in both versions), at most IPV6_EXT_MAX, then the L4 header."""
        for _ in range(IPV6_EXT_MAX):
            if not (nh in V6_EXT_TYPES if v6 else nh == AH):
                return self.parse_l4(off, nh)
            if nh == AH:
                if not self.l4(off, 2):
                    return self.stop(off, nh)
                n = (self.b[off + 1] + 2) * 4
            elif nh == 44:  # fragment header
                if not self.l4(off, 8):
                    return self.stop(off, nh)
                n = 8
                if self.u16(off + 2) & 0xFFF8:  # a later fragment
                    self.later_frag = True
                    self.proto = self.b[off]
                    self.l4_off = off + n
                    return
            else:
                if not self.l4(off, 2):
                    return self.stop(off, nh)
                n = (self.b[off + 1] + 1) * 8
            # The whole header, before its next header is believed.
            if not self.l4(off, n):
                return self.stop(off, nh)
            if nh in (0, 60) and not self.opts_ok(off, n, self.lim)[0]:
                return self.stop(off, nh)
            nh = self.b[off]
            off += n
        if nh in V6_EXT_TYPES if v6 else nh == AH:
            self.ext_limit = True  # proto: the next header, no ports
            return self.stop(off, nh)
        return self.parse_l4(off, nh)

    def stop(self, off, nh):
        self.proto = nh
        self.l4_off = off

    def parse_l4(self, off, proto):
        self.proto = proto
        self.l4_off = off
        if proto in (6, 17, 136, 132, 33) and self.l4(off, 4):
            self.sport, self.dport = self.u16(off), self.u16(off + 2)
        if proto == 6:
            if self.l4(off, 13):
                doff = self.b[off + 12] >> 4
                self.l4_hdr = doff * 4
                if doff < 5:
                    return  # tcp_bad_doff: ports only
            if self.l4(off, 14):
                self.flags = self.b[off + 13]
            if self.l4(off, 16):
                self.window = self.u16(off + 14)
        elif proto in (17, 136, 1, 58):
            self.l4_hdr = 8


def ip_walk(w, ip_off, ver):
    """The IP header at ip_off and what follows; None when the program
    takes the frame for no IP (docs/record.md, "What never becomes a
    record"), else (ip_size, transport, payload, ttl)."""
    b = w.b
    if ver == 4:
        if not w.l4(ip_off, 20) or b[ip_off] >> 4 != 4:
            return None
        hlen = (b[ip_off] & 15) * 4
        if hlen < 20 or not w.l4(ip_off, hlen):
            return None
        tot = w.u16(ip_off + 2)
        if tot == 0:  # segmentation offload: to the end of the frame
            tot = w.wire - ip_off
        if tot < hlen:
            return None
        ttl, proto = b[ip_off + 8], b[ip_off + 9]
        ip_len = ip_size = tot
        w.l4_off = ip_off + hlen
        w.proto = proto
        if ip_off + tot <= w.lim:
            w.lim = ip_off + tot
        if w.u16(ip_off + 6) & 0x1FFF:
            w.later_frag = True
        elif proto == AH:
            w.ext_walk(ip_off + hlen, AH, False)
        else:
            w.parse_l4(ip_off + hlen, proto)
    else:
        if not w.l4(ip_off, 40) or b[ip_off] >> 4 != 6:
            return None
        ttl = b[ip_off + 7]
        nh = b[ip_off + 6]
        ip_len = w.u16(ip_off + 4)
        off = ip_off + 40
        if ip_len == 0 and nh == 0 and w.have(off, 2):
            # A jumbogram: the Jumbo Payload option's length, when the
            # hop-by-hop header is whole and it is above 65535.
            n = (b[off + 1] + 1) * 8
            if w.have(off, n):
                jumbo = w.opts_ok(off, n, w.lim)[1]
                if jumbo > 65535:
                    ip_len = jumbo
        ip_size = 40 + ip_len
        if off + ip_len <= w.lim:
            w.lim = off + ip_len
        w.ext_walk(off, nh, True)
    transport = max(ip_size - (w.l4_off - ip_off), 0)
    payload = max(transport - w.l4_hdr, 0)
    return ip_size, transport, payload, ttl


class Pkt:
    __slots__ = ("t", "ifindex", "vlan", "ver", "proto", "a", "ap", "b",
                 "bp", "sizes", "ttl", "flags", "window")


def frame_bytes(fr):
    """(bytes the program is handed, frame_len), as xdpctl extract hands
    a frame over (ctl/capture.c, docs/record.md): the FCS the capture
    declares removed, another link type's header replaced by a 14-byte
    Ethernet header, cut to MAX_LEN; the length on the wire never below
    the bytes held. None for a frame refused (fr.refused set)."""
    if fr.linktype not in LINK_HLEN:
        fr.refused = "link type"
        return None
    hlen = LINK_HLEN[fr.linktype]
    data = fr.data
    if hlen and len(data) < hlen:
        fr.refused = "link header cut"
        return None
    wire = max(fr.wire, len(data))
    if hlen is None and fr.fcs > 0:
        # 2 bytes or, any other length declared, the Ethernet FCS of 4.
        wire = max(wire - (2 if fr.fcs == 2 else 4), 0)
        data = data[:wire]
    if hlen is None:
        frame, frame_len = data, wire
    else:
        frame = b"\0" * 14 + data[hlen:]
        frame_len = max(wire - hlen, 0) + 14
    return frame[:MAX_LEN], frame_len


def find_ip(frame, ver, src, dst):
    """Offset of the IP header with these addresses (tshark's), past the
    Ethernet header; None when the frame has none."""
    a, b = addr_bytes(ver, src), addr_bytes(ver, dst)
    at = 12 if ver == 4 else 8
    pat = a + b
    off = frame.find(pat, 14 + at)
    while off >= 0:
        if frame[off - at] >> 4 == ver:
            return off - at
        off = frame.find(pat, off + 1)
    return None


def decode(row, fr, opts):
    """A Pkt for an IP frame (tshark's row, the reader's frame), or None:
    tshark says which frames are IP behind what the parser walks, their
    interface and VLAN and where their IP header is; the sizes and L4
    fields are what the program reads of the frame's bytes."""
    o = Occ(row)
    layers = o.first("frame.protocols").split(":")
    l3 = next((i for i, l in enumerate(layers) if l in ("ip", "ipv6")), None)
    if l3 is None or not set(layers[:l3]) <= L2_WALKED:
        return None
    tags = sum(1 for l in layers[:l3] if l in ("vlan", "ieee8021ad"))
    if tags > 2:
        return None
    ver = 4 if layers[l3] == "ip" else 6
    pre = "ip" if ver == 4 else "ipv6"
    src, dst = o.first(pre + ".src"), o.first(pre + ".dst")
    if not dst:
        return None
    frame, frame_len = fr.bytes
    ip_off = find_ip(frame, ver, src, dst)
    if ip_off is None:
        raise SystemExit("flow_ref.py: frame %d: no IP header %s > %s in "
                         "its bytes" % (fr.number, src, dst))
    # An encapsulation that says how long its payload is bounds the IP
    # packet (docs/record.md: pppoe, llc_snap).
    lim, wire = len(frame), frame_len
    l2 = 14 + 4 * tags
    end = None
    if "pppoes" in layers[:l3] and len(frame) >= l2 + 6:
        end = l2 + 6 + (frame[l2 + 4] << 8 | frame[l2 + 5])
    elif "llc" in layers[:l3] and LINK_HLEN[fr.linktype] is None:
        n = frame[l2 - 2] << 8 | frame[l2 - 1]
        if n <= 1500:
            end = l2 + n
    if end is not None:
        lim, wire = min(lim, end), min(wire, end)
    w = Walk(frame, lim, wire)
    r = ip_walk(w, ip_off, ver)
    if r is None:
        return None
    ip_size, transport, payload, ttl = r
    # tshark checks the walk where it decodes a whole L4 header the walk
    # reached too.
    nxt = next((l for l in layers[l3 + 1:] if l not in EXT_LAYERS), None)
    for name, proto, n in (("tcp", 6, 20), ("udp", 17, 8)):
        if (nxt == name and w.proto == proto and not w.later_frag and
                w.l4(w.l4_off, n) and o.first(name + ".srcport")):
            got = (num(o.first(name + ".srcport")),
                   num(o.first(name + ".dstport")))
            if got != (w.sport, w.dport):
                raise SystemExit("flow_ref.py: frame %d: ports %s, tshark "
                                 "%s" % (fr.number, (w.sport, w.dport), got))
    p = Pkt()
    p.t = fr.ts
    if opts.ifindex is not None:
        p.ifindex = opts.ifindex
    elif o.first("sll.ifindex"):
        p.ifindex = num(o.first("sll.ifindex"))
    elif o.first("frame.interface_id"):
        # libwiretap's interface id counts within its pcapng section.
        p.ifindex = num(o.first("frame.interface_id")) + 1
    else:
        p.ifindex = 0
    if "ieee8021ad" in layers[:l3]:
        p.vlan = num(o.first("ieee8021ad.id"))
    elif "vlan" in layers[:l3]:
        p.vlan = num(o.first("vlan.id"))
    else:
        p.vlan = 0
    p.ver = ver
    p.proto = w.proto
    p.ttl = ttl
    # Ports key TCP, UDP, UDP-Lite, SCTP and DCCP flows only.
    ports = (w.sport, w.dport) if w.proto in (6, 17, 136, 132, 33) \
        else (0, 0)
    p.flags = w.flags if w.proto == 6 else 0
    p.window = w.window if w.proto == 6 else 0
    p.a, p.ap = key_addr(ver, src), ports[0]
    p.b, p.bp = key_addr(ver, dst), ports[1]
    p.sizes = (frame_len, ip_size, transport, payload)
    return p


def tshark_rows(capture):
    """tshark's rows, and whether it read the whole file."""
    cmd = ["tshark", "-r", capture] + TSHARK_OPTS + [
        "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
        "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, text=True,
                       env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"})
    rows = []
    for line in p.stdout.splitlines():
        row = line.split("\t")
        assert len(row) == len(FIELDS), line
        rows.append(row)
    return rows, p.returncode == 0, p.stderr.strip()


def frames_of(capture):
    """(tshark's row, the reader's frame) for each frame, and a note when
    the file is damaged after them (else None)."""
    rows, whole, why = tshark_rows(capture)
    frames, damaged = [], None
    try:
        for fr in capture_frames(capture):
            frames.append(fr)
    except Damaged as e:
        damaged = str(e)
    if not whole:
        damaged = why or "tshark failed"
        if len(frames) < len(rows):
            raise SystemExit("flow_ref.py: %s: tshark reads %d frames, the "
                             "reader %d" % (capture, len(rows), len(frames)))
        frames = frames[:len(rows)]
    elif len(rows) != len(frames):
        raise SystemExit("flow_ref.py: %s: tshark reads %d frames, the "
                         "reader %d%s" % (capture, len(rows), len(frames),
                                          " (%s)" % damaged if damaged
                                          else ""))
    for n, (row, fr) in enumerate(zip(rows, frames), 1):
        fr.number = n
        if fr.refused is None:
            cap, wire = num(row[FIELDS.index("frame.cap_len")]), \
                num(row[FIELDS.index("frame.len")])
            if (cap, wire) != (len(fr.data), fr.wire):
                raise SystemExit("flow_ref.py: %s: frame %d: %d of %d "
                                 "bytes, tshark %d of %d" %
                                 (capture, n, len(fr.data), fr.wire, cap,
                                  wire))
    return list(zip(rows, frames)), damaged

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
        due, why = min(c, key=lambda x: x[0])
        # An ended TCP flow is not cut by its active timeout: it ended.
        if why == ACTIVE and self.end_ns is not None and self.end_ns <= due:
            why = END
        return due, why

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


def flows(capture, opts, notes=None):
    """Exported flow records, in export order. notes, a list, gets a line
    for each frame refused and for a damaged file (xdpctl extract names
    them on standard error and exits 1)."""
    idle = secs_to_ns(opts.idle_timeout)
    active = secs_to_ns(opts.active_timeout)
    acct = ACCOUNTING.index(opts.accounting)
    splt = opts.splt
    notes = [] if notes is None else notes
    table = {}
    out = []
    clock = 0  # the capture's clock: its latest timestamp so far
    scan_at = None

    def scan(now):
        for k in list(table):
            due, why = table[k].due(idle, active)
            if now >= due:
                out.append(table.pop(k).record(why, acct, splt))

    pairs, damaged = frames_of(capture)
    for row, fr in pairs:
        if fr.refused is None:
            fr.bytes = frame_bytes(fr)
        if fr.refused is not None:
            # In no flow, and no tick of the clock.
            notes.append("frame %d refused (%s)" % (fr.number, fr.refused))
            continue
        if len(fr.bytes[0]) < 14:
            continue  # too short for Ethernet: no program sees it
        clock = max(clock, fr.ts)
        if scan_at is None:
            scan_at = clock + NS
        elif clock >= scan_at:
            if not opts.no_scan:
                scan(clock)
            scan_at = clock + NS
        p = decode(row, fr, opts)
        if p is None:
            continue
        k = flow_key(p)
        f = table.get(k)
        if f is not None:
            due, why = f.due(idle, active)
            # A new connection (a SYN without ACK) after the end does not
            # wait for the grace: the ended flow goes out now.
            if p.t < due and f.end_ns is not None and p.proto == 6 and \
                    p.flags & 0x12 == 0x02:
                due, why = p.t, END
            if p.t >= due:
                out.append(f.record(why, acct, splt))
                f = None
        if f is None:
            f = table[k] = Flow(k, p)
        f.add(p, acct, splt)
    if damaged:
        notes.append("damaged after frame %d: %s" % (len(pairs), damaged))
    # The end: a last scan at the capture's clock, then every flow left.
    scan(clock)
    for k in list(table):
        f = table.pop(k)
        # Forced out, but an ended TCP flow has ended.
        out.append(f.record(END if f.end_ns is not None else FORCED, acct,
                            splt))
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
    notes = []
    for r in flows(opts.capture, opts, notes):
        w.write(dumps(r) + "\n")
    for n in notes:
        sys.stderr.write("flow_ref.py: %s: %s\n" % (opts.capture, n))
    sys.exit(1 if notes else 0)


if __name__ == "__main__":
    main()
