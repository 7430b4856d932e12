#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Field-by-field agreement between `xdpctl extract` and tshark.

usage: compare_tshark.py CAPTURE RECORDS.ndjson [EXTRACT-STDERR]

tshark is the reference decoder. For every frame of CAPTURE:
- with a record: every field tshark decodes must have the same value in
  the record; a field tshark does not decode must be 0 in the record
  unless the record says its L4 header is cut short (l4_trunc: the parser
  reads what a cut header holds, where tshark may give up on the whole
  header), and must be 0 where the parser stopped on purpose (ext_limit,
  frag_later);
- without a record: tshark must agree that there is no complete IP
  header (no destination address), or report the frame as an error, or
  reach IP through an encapsulation the parser does not walk (only
  Ethernet and VLAN tags are).
- refused by xdpctl extract (named in EXTRACT-STDERR): tshark's timestamp
  must be before 1970 or past 2554 when that is the reason given.
The frame length is the length on the wire (frame.len, not the bytes
captured) with the capture's link-layer header (SLL, SLL2, loopback, none
for raw IP) counted as an Ethernet header, without the FCS. The ifindex is SLL2's, else the pcapng interface
id + 1, else 0; the packet type is SLL's and SLL2's, else 255.
Prints one line per disagreement; exit status 1 if there is any.
"""
import collections
import json
import re
import struct
import subprocess
import sys

FIELDS = [
    "frame.time_epoch", "frame.cap_len", "frame.len", "ah.next_header", "ieee8021ad.id", "vlan.id",
    "ip.src", "ip.dst", "ip.len", "ip.ttl", "ip.proto", "ip.flags.mf",
    "ip.frag_offset", "ip.hdr_len",
    "ipv6.src", "ipv6.dst", "ipv6.plen", "ipv6.hlim",
    "tcp.srcport", "tcp.dstport", "tcp.flags", "tcp.window_size_value",
    "udp.srcport", "udp.dstport", "sctp.srcport", "sctp.dstport",
    "dccp.srcport", "dccp.dstport",
    "icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code",
    "_ws.expert.severity", "frame.protocols",
    "eth.fcs", "sll.ifindex", "frame.interface_id", "sll.pkttype",
]
# Layers the parser walks before IP; tshark decodes other encapsulations
# (HomePNA, ...) that the parser leaves alone, by design.
L2_WALKED = {"eth", "ethertype", "vlan", "ieee8021ad", "sll", "raw", "null",
             "mpls", "pppoes", "ppp", "llc"}
# The last ns a u64 of ns since 1970 holds.
TS_MAX = 2**64 - 1
# Layers the parser walks between IPv6 and L4. After IPv4 it walks AH
# only: tshark also decodes IPv6 extension headers or DSR there, the
# parser takes the protocol after AH (or IPv4's) as the L4 protocol.
V6_EXT_WALKED = {"ipv6.hopopts", "ipv6.routing", "ipv6.fraghdr",
                 "ipv6.dstopts", "ah", "mipv6", "hip", "shim6"}
V4_WALKED = {"ah"}
L4_LAYERS = {"tcp", "udp", "udplite", "icmp", "icmpv6", "sctp", "dccp"}
ERROR_SEVERITY = 8388608  # PI_ERROR


def declared_fcs(capture):
    """FCS bytes the capture says each frame ends with, by frame number:
    a pcap header's FCS bits, or pcapng's if_fcslen of the frame's
    interface in its section. tshark does not say it for a frame whose
    FCS the snap length cut off, yet its frame.len still counts it."""
    data = open(capture, "rb").read()
    fcs, n = {}, 0
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1",
                 b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = "<" if magic[0] in (0xd4, 0x4d) else ">"
        lt = struct.unpack(end + "I", data[20:24])[0]
        # libpcap's LT_FCS_LENGTH_PRESENT and LT_FCS_LENGTH (16-bit words)
        per_frame = (lt >> 28) * 2 if lt & 0x04000000 else 0
        return lambda i: per_frame
    off, end, ifs = 0, "<", []
    while off + 12 <= len(data):
        btype = struct.unpack("<I", data[off:off + 4])[0]
        if btype == 0x0A0D0D0A:  # section header: byte order, interfaces
            end = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            ifs = []
        btype, blen = struct.unpack(end + "II", data[off:off + 8])
        if blen < 12 or off + blen > len(data):
            break
        body = data[off + 8:off + blen - 4]
        if btype == 1:  # interface description: options after 8 bytes
            f, o = 0, 8
            while o + 4 <= len(body):
                code, olen = struct.unpack(end + "HH", body[o:o + 4])
                if code == 0:
                    break
                if code == 13 and olen >= 1:
                    f = body[o + 4]
                o += 4 + (olen + 3) // 4 * 4
            ifs.append(f)
        elif btype in (2, 6):  # (enhanced) packet block: interface id
            n += 1
            iface = struct.unpack(end + ("HH" if btype == 2 else "I"),
                                  body[:4])[0]
            fcs[n] = ifs[iface] if iface < len(ifs) else 0
        elif btype == 3:  # simple packet block: interface 0
            n += 1
            fcs[n] = ifs[0] if ifs else 0
        off += blen
    return lambda i: fcs.get(i, 0)


def tshark_frames(capture):
    cmd = ["tshark", "-n", "-r", capture,
           "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           # An FCS only where the capture says so, as xdpctl extract.
           "-o", "eth.fcs:Never",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"}).stdout
    for line in out.splitlines():
        yield dict(zip(FIELDS, line.split("\t")))


def ns_of(epoch):
    sec, _, frac = epoch.partition(".")
    return int(sec) * 10**9 + int((frac + "000000000")[:9])


def num(v):
    if v is None or v == "":
        return None
    return int(v, 16) if v.startswith("0x") else int(v)


def link_header_len(t):
    """Bytes of the capture's own link-layer header."""
    first = t["frame.protocols"].split(":")[0]
    if first == "sll":
        return 20 if t["sll.ifindex"] else 16
    if first == "null":
        return 4
    if first in ("raw", "ip", "ipv6", ""):
        return 0
    return 14


def frame_len(t, fcs):
    """The record's frame_len: the wire length with an Ethernet header
    in place of the capture's own, without the FCS."""
    return num(t["frame.len"]) - link_header_len(t) + 14 - fcs


def take_record(same_ts, t, flen, shared):
    """The record of frame t among the records of its timestamp: the
    one there is, or where frames share the timestamp, the first with
    the frame's addresses and length (a frame without a record must not
    take the next frame's)."""
    if not same_ts:
        return None
    if not shared:
        return same_ts.pop()
    src = t["ip.src"] or t["ipv6.src"]
    dst = t["ip.dst"] or t["ipv6.dst"]
    for i, r in enumerate(same_ts):
        if (r["src"], r["dst"], r["frame_len"]) == (src, dst, flen):
            return same_ts.pop(i)
    return None


def refused_frames(stderr_path):
    refused = {}
    if stderr_path:
        for line in open(stderr_path):
            m = re.search(r": frame (\d+) refused \(([^)]*)\)", line)
            if m:
                refused[int(m.group(1))] = m.group(2)
    return refused


def compare(capture, records_path, stderr_path=None):
    refused = refused_frames(stderr_path)
    # By timestamp, in the order of the capture (as xdpctl extract
    # writes them): fast traffic captured in microseconds gives frames
    # of the same timestamp (take_record).
    recs = {}
    for line in open(records_path):
        r = json.loads(line)
        recs.setdefault(r["ts_ns"], []).append(r)
    bad = []
    frames = 0
    fcs_of = declared_fcs(capture)
    tframes = list(tshark_frames(capture))
    per_ts = collections.Counter(ns_of(t["frame.time_epoch"])
                                 for t in tframes)
    for n, t in enumerate(tframes, 1):
        frames += 1
        ts = ns_of(t["frame.time_epoch"])
        r = take_record(recs.get(ts), t, frame_len(t, fcs_of(n)),
                        per_ts[ts] > 1)

        def say(msg):
            bad.append(f"frame {n}: {msg}")

        epoch = t["frame.time_epoch"]
        out_of_range = epoch.startswith("-") or ns_of(epoch) > TS_MAX
        why = refused.pop(n, None)
        if why in ("before 1970", "after 2554"):
            if not out_of_range or r is not None:
                say(f"refused ({why}) but tshark says {epoch}")
            continue
        if out_of_range:
            say(f"tshark says {epoch}: the frame should be refused")
            continue
        if why is not None:
            if r is not None:
                say(f"refused ({why}) and a record {r}")
            continue
        if r is None:
            layers = t["frame.protocols"].split(":")
            l3 = next((i for i, l in enumerate(layers)
                       if l in ("ip", "ipv6")), len(layers))
            if not set(layers[:l3]) <= L2_WALKED:
                continue  # an encapsulation the parser does not walk
            has_dst = t["ip.dst"] or t["ipv6.dst"]
            errors = [int(s) for s in t["_ws.expert.severity"].split(",") if s]
            if has_dst and not any(s >= ERROR_SEVERITY for s in errors):
                say(f"no record, but tshark decodes a whole IP header ({t})")
            continue
        flags = set(r["flags"])
        want = {}
        if t["ip.dst"]:
            want.update(ip_version=4, src=t["ip.src"], dst=t["ip.dst"],
                        ip_len=num(t["ip.len"]), ttl=num(t["ip.ttl"]),
                        proto=num(t["ip.proto"]))
        elif t["ipv6.dst"]:
            want.update(ip_version=6, src=t["ipv6.src"], dst=t["ipv6.dst"],
                        ip_len=num(t["ipv6.plen"]), ttl=num(t["ipv6.hlim"]))
        else:
            say(f"record {r} but tshark sees no IP header")
            continue
        want["frame_len"] = frame_len(t, fcs_of(n))
        if want["ip_version"] == 4 and t["ah.next_header"]:
            # The protocol after the last AH header that tshark read.
            want["proto"] = num(t["ah.next_header"].split(",")[-1])
        want["ifindex"] = (num(t["sll.ifindex"]) if t["sll.ifindex"] else
                           num(t["frame.interface_id"]) + 1
                           if t["frame.interface_id"] else 0)
        # Linux cooked captures say how the frame was addressed; no
        # other link type does (255).
        want["pkt_type"] = (num(t["sll.pkttype"]) if t["sll.pkttype"]
                            else 255)
        # The outermost tag: 802.1ad (QinQ service tag) or 802.1Q.
        outer = num(t["ieee8021ad.id"])
        want["vlan"] = outer if outer is not None else (num(t["vlan.id"]) or 0)
        layers = t["frame.protocols"].split(":")
        l3 = next((i for i, l in enumerate(layers) if l in ("ip", "ipv6")), 0)
        if (layers[l3] == "ip" and not t["ip.dst"] and
                layers[l3 + 1:l3 + 2] == ["ipv6"]):
            l3 += 1  # LINKTYPE_IPV4 holding IPv6: tshark's ip hands over
        l4i = next((i for i, l in enumerate(layers) if l in L4_LAYERS
                    and i > l3), len(layers))
        # An ICMP error quotes the packet it is about: tshark's first
        # TCP or UDP fields are then the quoted header's, not the L4
        # header of this packet.
        icmp_first = l4i < len(layers) and layers[l4i] in ("icmp", "icmpv6")
        icmp = (dict(proto=1, sport=num(t["icmp.type"]),
                     dport=num(t["icmp.code"])) if t["icmp.type"] else
                dict(proto=58, sport=num(t["icmpv6.type"]),
                     dport=num(t["icmpv6.code"])) if t["icmpv6.type"] else
                None)
        l4 = {}
        if icmp_first and icmp:
            l4 = icmp
        elif t["tcp.srcport"] or t["tcp.flags"]:
            l4 = dict(proto=6, sport=num(t["tcp.srcport"]),
                      dport=num(t["tcp.dstport"]),
                      tcp_flags=None if not t["tcp.flags"]
                      else num(t["tcp.flags"]) & 0xff,
                      tcp_window=num(t["tcp.window_size_value"]))
        elif t["udp.srcport"]:
            # UDP-Lite (136) is decoded into the udp fields too.
            l4 = dict(proto=136 if r["proto"] == 136 else 17,
                      sport=num(t["udp.srcport"]), dport=num(t["udp.dstport"]))
        elif t["sctp.srcport"]:
            l4 = dict(proto=132, sport=num(t["sctp.srcport"]),
                      dport=num(t["sctp.dstport"]))
        elif t["dccp.srcport"]:
            l4 = dict(proto=33, sport=num(t["dccp.srcport"]),
                      dport=num(t["dccp.dstport"]))
        elif icmp:
            l4 = icmp
        between = set(layers[l3 + 1:l4i])
        walked = V6_EXT_WALKED if layers[l3] == "ipv6" else V4_WALKED
        went_further = not between <= walked
        stopped = flags & {"ext_limit", "frag_later", "ext_bad"}
        if went_further:
            stopped = stopped or {"tshark went through " + ",".join(between)}
        if stopped:
            # We stop on purpose where tshark may go on: no L4 fields.
            for k in ("sport", "dport", "tcp_flags", "tcp_window"):
                if r[k]:
                    say(f"{k} is {r[k]} although the parser stopped ({flags})")
        else:
            want.update({k: v for k, v in l4.items() if v is not None})
            # Fields tshark does not decode must be 0 (never invented),
            # unless read from a header the record flags as cut short.
            for k in ("sport", "dport", "tcp_flags", "tcp_window"):
                if k not in want and r[k] and "l4_trunc" not in flags:
                    say(f"{k} is {r[k]}, tshark decodes none")
        if want.get("ip_version") == 4 and t["ip.frag_offset"]:
            is_frag = num(t["ip.flags.mf"]) == 1 or num(t["ip.frag_offset"]) != 0
            if is_frag != ("fragment" in flags):
                say(f"fragment flag {flags} vs tshark mf={t['ip.flags.mf']} "
                    f"offset={t['ip.frag_offset']}")
        for k, v in want.items():
            if v is not None and r[k] != v:
                say(f"{k}: record {r[k]!r}, tshark {v!r}")
    for ts, left in recs.items():
        for r in left:
            bad.append(f"record at {ts} matches no frame of the capture")
    for n, why in refused.items():
        bad.append(f"frame {n} refused ({why}), tshark has no such frame")
    return frames, bad


def main():
    frames, bad = compare(sys.argv[1], sys.argv[2],
                          sys.argv[3] if len(sys.argv) > 3 else None)
    for b in bad:
        print(b)
    print(f"{frames} frames compared, {len(bad)} disagreements")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
