#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Holds what a collector got from the daemon's IPFIX export against the
flows the flow subscriber got (xdpctl flows --format ndjson).

  ipfix_check.py nfdump FLOWS.ndjson NFDUMP.txt
      NFDUMP.txt: nfdump -q -N -6 -o 'fmt:%tsr|%td|%pr|%sa|%sp|%da|%dp|
      %ipkt|%opkt|%ibyt|%obyt|%in' (one line per flow). Every flow of
      FLOWS must be there once with the same addresses, ports, protocol,
      packets and bytes per direction, interface, and times to the
      millisecond (nfdump keeps ms).
  ipfix_check.py dump FLOWS.ndjson DUMP.txt CAPTURE.ipfix
      DUMP.txt: ipfixDump --rfc5610 -d --hexdump=512 of CAPTURE. Every
      flow of FLOWS must be there with the same standard and
      enterprise-specific elements (docs/flows.md, "IPFIX"); the
      nanosecond times are read from CAPTURE itself (ipfixDump 2.4 prints
      the fraction of dateTimeNanoseconds as 0).
  ipfix_check.py ports DUMP.txt
      The source ports of the flow records in DUMP.txt, one a line.
  ipfix_check.py messages CAPTURE.pcap
      The IPFIX messages in the UDP datagrams of a loopback capture, one
      a line: the capture time, then "templates" when a message holds a
      Template Set, "data" when it holds Data Sets only, "empty" when it
      holds no set.

Exits 1 with one line per difference.
"""
import ipaddress
import json
import re
import struct
import sys

PROTO = {"TCP": 6, "UDP": 17, "ICMP": 1, "ICMP6": 58}
errors = []


def err(msg):
    errors.append(msg)


def flows_of(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def key(proto, sport, dport):
    return (int(proto), int(sport), int(dport))


def check_nfdump(flows, path):
    got = {}
    for line in open(path):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 12:
            continue
        tsr, td, pr, sa, sp, da, dp, ipkt, opkt, ibyt, obyt, inif = parts
        proto = PROTO.get(pr, None)
        if proto is None:
            proto = int(pr)
        k = key(proto, sp, dp)
        if k in got:
            err("nfdump: flow %s twice" % (k,))
        got[k] = dict(start_ms=round(float(tsr) * 1000),
                      dur_ms=round(float(td) * 1000),
                      sa=str(ipaddress.ip_address(sa)),
                      da=str(ipaddress.ip_address(da)),
                      ipkt=int(ipkt), opkt=int(opkt), ibyt=int(ibyt),
                      obyt=int(obyt), inif=int(inif))
    for f in flows:
        k = key(f["protocol"], f["src_port"], f["dst_port"])
        g = got.get(k)
        if not g:
            err("nfdump: no flow %s" % (k,))
            continue
        start = f["bidirectional_first_seen_ns"] // 1000000
        end = f["bidirectional_last_seen_ns"] // 1000000
        want = dict(start_ms=start, dur_ms=end - start, sa=f["src_ip"],
                    da=f["dst_ip"], ipkt=f["src2dst_packets"],
                    opkt=f["dst2src_packets"], ibyt=f["src2dst_bytes"],
                    obyt=f["dst2src_bytes"], inif=f["ifindex"])
        for field, w in want.items():
            if g[field] != w:
                err("nfdump: flow %s: %s %r, want %r" % (k, field, g[field], w))
    if len(got) != len(flows):
        err("nfdump: %d flows, the subscriber got %d" % (len(got), len(flows)))


def dump_records(path):
    """The data records of the flow templates in ipfixDump's text: a list
    of {element name: value text}."""
    recs, cur = [], None
    for line in open(path):
        m = re.match(r"\s+count: \d+\s+tid:\s+(\d+)", line)
        if m:
            cur = {} if int(m.group(1)) in (1024, 1536) else None
            if cur is not None:
                recs.append(cur)
            continue
        m = re.match(r"\s+\([\d/]+\)\s+(\S+)\s+:\s+(.*)$", line)
        if m and cur is not None:
            cur[m.group(1)] = m.group(2).strip()
    return recs


def hexbytes(v):
    """The octets of an octetArray as ipfixDump --hexdump prints them
    ("len: N 0x0102..." or similar)."""
    m = re.search(r"0x([0-9a-fA-F]+)", v)
    return bytes.fromhex(m.group(1)) if m else b""


def near(a, b):
    return abs(a - b) <= 1e-4 * max(1.0, abs(b))


def raw_times(path):
    """(sport, dport) -> (flowStartNanoseconds, flowEndNanoseconds) in ns
    since the epoch, from the capture's data sets 1024 (IPv4) and 1536
    (IPv6). The layout is the template's (daemon/ipfix.c): the two
    addresses, then the two NTP times; the ports come after 42 eight-octet
    and 7 four-octet fields."""
    b = open(path, "rb").read()
    out, o = {}, 0
    while o + 16 <= len(b):
        _, ln = struct.unpack_from(">HH", b, o)
        p = o + 16
        while p + 4 <= o + ln:
            sid, sl = struct.unpack_from(">HH", b, p)
            if sid in (1024, 1536):
                a = 4 if sid == 1024 else 16
                q = p + 4
                while q + 2 * a + 372 <= p + sl:
                    t = [struct.unpack_from(">II", b, q + 2 * a + 8 * i)
                         for i in range(2)]
                    ns = [(s - 2208988800) * 10**9 + (fr * 10**9 >> 32)
                          for s, fr in t]
                    sp, dp = struct.unpack_from(">HH", b, q + 2 * a + 364)
                    out[(sp, dp)] = ns
                    q += 2 * a + 364 + 17
                    for _ in range(3):  # the SPLT octetArrays
                        n = b[q]
                        q += 1
                        if n == 255:
                            n = struct.unpack_from(">H", b, q)[0]
                            q += 2
                        q += n
            p += sl
        o += ln
    return out


def check_dump(flows, path, capture):
    recs = dump_records(path)
    by_ports = {}
    for r in recs:
        k = (int(r.get("sourceTransportPort", -1)),
             int(r.get("destinationTransportPort", -1)))
        by_ports.setdefault(k, r)
    times = raw_times(capture)
    for f in flows:
        k = (f["src_port"], f["dst_port"])
        r = by_ports.get(k)
        if not r:
            err("ipfixDump: no record of ports %s" % (k,))
            continue
        v6 = f["ip_version"] == 6
        ints = {
            "sourceIPv6Address" if v6 else "sourceIPv4Address": f["src_ip"],
            "destinationIPv6Address" if v6 else "destinationIPv4Address":
                f["dst_ip"],
            "protocolIdentifier": f["protocol"],
            "ingressInterface": f["ifindex"],
            "vlanId": f["vlan_id"],
            "flowEndReason": {"idle": 1, "active": 2, "end": 3, "forced": 4,
                              "resources": 5}[f["end_reason"]],
            "packetDeltaCount": f["src2dst_packets"],
            "reversePacketDeltaCount": f["dst2src_packets"],
            "octetDeltaCount": f["src2dst_bytes"],
            "reverseOctetDeltaCount": f["dst2src_bytes"],
            "tcpSynTotalCount": f["src2dst_syn_packets"],
            "reverseTcpSynTotalCount": f["dst2src_syn_packets"],
            "xppMinPacketSize": f["src2dst_min_ps"],
            "reverseXppMinPacketSize": f["dst2src_min_ps"],
            "xppMaxPacketSize": f["src2dst_max_ps"],
            "reverseXppMaxPacketSize": f["dst2src_max_ps"],
            "xppBidirMinPacketSize": f["bidirectional_min_ps"],
            "xppBidirMaxPacketSize": f["bidirectional_max_ps"],
            "xppMinPiat": f["src2dst_min_piat_ns"],
            "reverseXppMinPiat": f["dst2src_min_piat_ns"],
            "xppMaxPiat": f["src2dst_max_piat_ns"],
            "reverseXppMaxPiat": f["dst2src_max_piat_ns"],
            "xppBidirMinPiat": f["bidirectional_min_piat_ns"],
            "xppBidirMaxPiat": f["bidirectional_max_piat_ns"],
            "xppFirstTtl": f["src2dst_first_ttl"],
            "reverseXppFirstTtl": f["dst2src_first_ttl"],
            "xppFirstTcpWindow": f["src2dst_first_window"],
            "reverseXppFirstTcpWindow": f["dst2src_first_window"],
            "xppAccounting": {"link": 0, "ip": 1, "transport": 2,
                              "payload": 3}[f["accounting"]],
        }
        for name in [n for n in ints if n.endswith("Address")]:
            try:
                r[name] = str(ipaddress.ip_address(r.get(name, "")))
            except ValueError:
                pass
        for name, w in ints.items():
            if r.get(name) != str(w):
                err("ipfixDump %s: %s %r, want %r" % (k, name, r.get(name), w))
        flags = sum(1 << i for i, n in enumerate(
            ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"])
            if f["src2dst_%s_packets" % n])
        if r.get("tcpControlBits") not in (str(flags), "0x%02x" % flags):
            err("ipfixDump %s: tcpControlBits %r, want %d"
                % (k, r.get("tcpControlBits"), flags))
        doubles = {
            "xppMeanPacketSize": f["src2dst_mean_ps"],
            "reverseXppMeanPacketSize": f["dst2src_mean_ps"],
            "xppStddevPacketSize": f["src2dst_stddev_ps"],
            "reverseXppStddevPacketSize": f["dst2src_stddev_ps"],
            "xppMeanPiat": f["src2dst_mean_piat_ns"],
            "reverseXppMeanPiat": f["dst2src_mean_piat_ns"],
            "xppStddevPiat": f["src2dst_stddev_piat_ns"],
            "reverseXppStddevPiat": f["dst2src_stddev_piat_ns"],
            "xppBidirMeanPacketSize": f["bidirectional_mean_ps"],
            "xppBidirStddevPacketSize": f["bidirectional_stddev_ps"],
            "xppBidirMeanPiat": f["bidirectional_mean_piat_ns"],
            "xppBidirStddevPiat": f["bidirectional_stddev_piat_ns"],
        }
        for name, w in doubles.items():
            try:
                g = float(r.get(name))
            except (TypeError, ValueError):
                g = None
            if g is None or not near(g, w):
                err("ipfixDump %s: %s %r, want %r" % (k, name, r.get(name), w))
        start_ms = f["bidirectional_first_seen_ns"] // 1000000
        if not r.get("flowStartMilliseconds", "").endswith(
                ".%03d" % (start_ms % 1000)):
            err("ipfixDump %s: flowStartMilliseconds %r, want ms %d"
                % (k, r.get("flowStartMilliseconds"), start_ms % 1000))
        # SPLT: as many packets as were filled (ndjson pads with -1).
        n = len([x for x in f["splt_ps"] if x >= 0])
        d = hexbytes(r.get("xppSpltDirection", ""))
        ps = hexbytes(r.get("xppSpltPacketSize", ""))
        piat = hexbytes(r.get("xppSpltPiat", ""))
        want_d = bytes(f["splt_direction"][:n])
        want_ps = b"".join(struct.pack(">I", x) for x in f["splt_ps"][:n])
        want_piat = b"".join(struct.pack(">Q", x)
                             for x in f["splt_piat_ns"][:n])
        if (d, ps, piat) != (want_d, want_ps, want_piat):
            err("ipfixDump %s: SPLT %s %s %s, want %s %s %s"
                % (k, d.hex(), ps.hex(), piat.hex(), want_d.hex(),
                   want_ps.hex(), want_piat.hex()))
        # The NTP fraction is 2^-32 s: within 1 ns, rounded down.
        t = times.get(k)
        want_t = [f["bidirectional_first_seen_ns"],
                  f["bidirectional_last_seen_ns"]]
        if not t or any(not (0 <= w - g <= 1) for g, w in zip(t, want_t)):
            err("capture %s: flowStart/EndNanoseconds %r, want %r"
                % (k, t, want_t))


def pcap_messages(path):
    b = open(path, "rb").read()
    le = b[:4] == b"\xd4\xc3\xb2\xa1"
    e = "<" if le else ">"
    o = 24
    while o + 16 <= len(b):
        sec, usec, caplen, _ = struct.unpack_from(e + "IIII", b, o)
        frame = b[o + 16:o + 16 + caplen]
        o += 16 + caplen
        ihl = (frame[14] & 15) * 4  # Ethernet, IPv4, UDP
        msg = frame[14 + ihl + 8:]
        if len(msg) < 16 or msg[:2] != b"\x00\x0a":
            continue
        kinds, p = set(), 16
        while p + 4 <= len(msg):
            sid, sl = struct.unpack_from(">HH", msg, p)
            kinds.add("templates" if sid in (2, 3) else "data")
            p += max(sl, 4)
        kind = ("templates" if "templates" in kinds else
                "data" if kinds else "empty")
        print("%d.%06d %s" % (sec, usec, kind))


def main():
    if sys.argv[1] == "nfdump":
        check_nfdump(flows_of(sys.argv[2]), sys.argv[3])
    elif sys.argv[1] == "dump":
        check_dump(flows_of(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "messages":
        pcap_messages(sys.argv[2])
        return
    elif sys.argv[1] == "ports":
        for r in dump_records(sys.argv[2]):
            print(r.get("sourceTransportPort"))
        return
    for e in errors:
        print(e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
