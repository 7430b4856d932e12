#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Our flows against independent flow tools, on the same capture.

usage: crosscheck.py CAPTURE [--xdpctl PATH] [--tools LIST] [--verbose]

Runs `xdpctl extract CAPTURE --flows --format ndjson` (idle and active
timeouts of a day: nothing splits a flow but a TCP end) and each peer:

  tshark   -z conv,tcp/udp/sctp/dccp, and conv,ip / conv,ipv6 with one
           filter per protocol for the flows without ports; IP reassembly
           off (-o ip.defragment:FALSE -o ipv6.defragment:FALSE), the rule
           closest to ours. Frame bytes: our `link` accounting.
  argus    argus -S 86400 (one status record per flow, not one every 60 s),
           ra. Frame bytes: `link`.
  nfdump   nfpcapd -e 3600,3600 (its largest timeouts), nfdump. IP bytes:
           `ip`. Its flows are one-way: the two directions are joined here.
  tcptrace tcptrace -l --csv -n, TCP only. TCP payload bytes
           (actual_data_bytes: retransmissions included): `payload`.

Every flow is normalised to its two endpoints (address, port) in a
canonical order, the packets and bytes each endpoint sent, the first and
the last timestamp, and the endpoint the tool calls the source. Sizes are
compared per endpoint, so direction does not enter them; which endpoint
each tool calls the source is compared apart and only reported (see
DIRECTION). Flows are matched by protocol and endpoints; where one key
has several flows, by time: a peer flow belongs to the flows of ours
whose time span (plus the 1 s grace after a TCP end) it overlaps.

Where a tool's definition differs from ours (docs/flows.md, "Cross-checks
with other tools"), its flows are folded into ours first (ICMP keys) or
the difference is named with its cause and checked where it can be
(fragments: the totals of the address pair). Every other difference is
unexplained: the exit status is 1.
"""
import argparse
import collections
import csv
import io
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

NS = 1_000_000_000
DAY = 86400
GRACE_NS = NS  # docs/flows.md, Expiry: due 1 s after a TCP end
PORT_PROTOS = {6, 17, 33, 132, 136}  # TCP UDP DCCP SCTP UDP-Lite
ICMPS = {1, 58}

DIRECTION = {
    "ours": "the sender of the first packet, but the receiver of a first "
            "SYN-ACK",
    "tshark": "A is the sender of the conversation's first frame",
    "argus": "the sender of the SYN (TCP), else of the first packet",
    "nfdump": "no source: nfpcapd's flows are one-way (joined here)",
    "tcptrace": "a is the sender of the connection's first packet",
}
ACCOUNTING = {"tshark": "link", "argus": "link", "nfdump": "ip",
              "tcptrace": "payload"}
# Resolution of each tool's times, ns: start, duration.
RESOLUTION = {"tshark": (1, 100_000), "argus": (1000, 1000),
              "nfdump": (1_000_000, 1_000_000), "tcptrace": (1000, 1000)}


def run(cmd, ok=(0,), **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, **kw)
    if p.returncode not in ok:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                                p.stderr.strip()[-500:]))
    return p.stdout


class Crashed(RuntimeError):
    pass


def addr(s):
    return ipaddress.ip_address(s.strip())


class Flow:
    """A flow, normalised: key = (ip version, protocol, lo, hi) with lo < hi
    the endpoints (address, port); per endpoint what it sent."""

    def __init__(self, tool, proto, a, ap, b, bp, first, last, src=None):
        a, b = addr(a), addr(b)
        ea, eb = (a, int(ap)), (b, int(bp))
        self.tool = tool
        self.lo, self.hi = (ea, eb) if (a.packed, ea[1]) <= (b.packed, eb[1]) \
            else (eb, ea)
        self.key = (a.version, int(proto), self.lo, self.hi)
        self.first, self.last = first, last
        self.src = src  # ea, eb or None
        self.pk = {self.lo: 0, self.hi: 0}
        self.by = {self.lo: 0, self.hi: 0}
        self.note = ""
        self.end = None  # ours: end_reason

    def add(self, sender, pk, by):
        self.pk[sender] += pk
        self.by[sender] += by

    def merge(self, o):
        for e in (self.lo, self.hi):
            self.pk[e] += o.pk[e]
            self.by[e] += o.by[e]
        if o.first < self.first:
            self.first, self.src = o.first, o.src
        self.last = max(self.last, o.last)

    def name(self):
        v, p, lo, hi = self.key
        f = "[%s]:%d" if v == 6 else "%s:%d"
        return "%s %s <-> %s" % (p, f % lo, f % hi)

    def counts(self):
        return "%d/%d pkts %d/%d bytes" % (self.pk[self.lo], self.pk[self.hi],
                                           self.by[self.lo], self.by[self.hi])


# --- ours ---------------------------------------------------------------------

def ours(xdpctl, cap, accounting):
    out = run([xdpctl, "extract", cap, "--flows", "--format", "ndjson",
               "--idle-timeout", str(DAY), "--active-timeout", str(DAY),
               "--accounting", accounting], ok=(0, 1))
    flows = []
    for line in out.splitlines():
        j = json.loads(line)
        f = Flow("ours", j["protocol"], j["src_ip"], j["src_port"], j["dst_ip"],
                 j["dst_port"], j["bidirectional_first_seen_ns"],
                 j["bidirectional_last_seen_ns"])
        s = (addr(j["src_ip"]), j["src_port"])
        d = (addr(j["dst_ip"]), j["dst_port"])
        f.src = s
        if s == d:  # every packet src2dst
            f.add(s, j["bidirectional_packets"], j["bidirectional_bytes"])
        else:
            f.add(s, j["src2dst_packets"], j["src2dst_bytes"])
            f.add(d, j["dst2src_packets"], j["dst2src_bytes"])
        f.end = j["end_reason"]
        f.vlan, f.ifindex = j["vlan_id"], j["ifindex"]
        flows.append(f)
    return flows


def packet_flags(xdpctl, cap):
    """{flow key: set of the packet records' flags}: what our parser saw in
    the packets of each flow (fragments, cut headers...)."""
    # exit 1: frames refused or the file damaged; the records of every
    # other frame are written
    out = run([xdpctl, "extract", cap, "--quiet"], ok=(0, 1))
    flags = collections.defaultdict(set)
    for line in out.splitlines():
        r = json.loads(line)
        # ICMP's type and code are in sport and dport; flows have no ports
        ports = (r["sport"], r["dport"]) if r["proto"] in PORT_PROTOS \
            else (0, 0)
        k = Flow("ours", r["proto"], r["src"], ports[0], r["dst"], ports[1],
                 0, 0).key
        flags[k].update(r["flags"] or ["none"])
    return flags


# --- tshark -------------------------------------------------------------------

CONV_ROW = re.compile(
    r"^(\S+)\s+<->\s+(\S+)\s+"
    r"(\d+)\s+([\d,]+ \S*bytes|[\d,]+ [kMGT]B)\s+"
    r"(\d+)\s+([\d,]+ \S*bytes|[\d,]+ [kMGT]B)\s+"
    r"(\d+)\s+([\d,]+ \S*bytes|[\d,]+ [kMGT]B)\s+(-?[\d.]+)\s+([\d.]+)\s*$")
SI = {"bytes": 1, "kB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}


def tshark_bytes(s):
    """tshark 4.0 prints a conversation's bytes exactly below 10 kB, then
    in kB, MB... rounded down: (low, high) bounds of the true count."""
    n, unit = s.split()
    n, m = int(n.replace(",", "")), SI[unit]
    return (n * m, n * m + m - 1)


def tshark(cap, our_flows):
    first = run(["tshark", "-r", cap, "-n", "-c", "1", "-T", "fields",
                 "-e", "frame.time_epoch"]).strip()
    sec, _, frac = first.partition(".")
    t0 = int(sec) * NS + int((frac + "000000000")[:9])
    ptab = {6: "tcp", 17: "udp", 132: "sctp", 33: "dccp"}
    zs = [("tcp", 6), ("udp", 17), ("sctp", 132), ("dccp", 33)]
    # Flows without ports: one table per (family, protocol) we have, by the
    # protocol of the outermost IP header (ip.proto#1), less the frames
    # whose L4 header tshark decodes (they are in the tables with ports).
    v6nxt = ["ipv6.nxt", "ipv6.hopopts.nxt", "ipv6.routing.nxt",
             "ipv6.fraghdr.nxt", "ipv6.dstopts.nxt"]
    wanted = sorted({(f.key[0], f.key[1]) for f in our_flows} |
                    {(4, 1), (6, 58)})
    for v, p in wanted:
        if v == 4:
            filt = "ip.proto#1 == %d" % p
        else:
            filt = "(" + " || ".join("%s#1 == %d" % (n, p) for n in v6nxt) + ")"
        if p in ptab:
            filt += " && !%s" % ptab[p]
        zs.append(("%s,%s" % ("ip" if v == 4 else "ipv6", filt), p))
    cmd = ["tshark", "-r", cap, "-q", "-n", "-o", "ip.defragment:FALSE",
           "-o", "ipv6.defragment:FALSE"]
    for z, _ in zs:
        cmd += ["-z", "conv," + z]
    out = run(cmd)
    flows = []
    tables = out.split("=" * 80)
    tables = [t for t in tables if "Conversations" in t]
    if len(tables) != len(zs):
        raise RuntimeError("tshark: %d tables for %d -z" % (len(tables), len(zs)))
    # (tshark prints the tables in the reverse order of the -z options)
    for t, (z, p) in zip(tables, reversed(zs)):
        for line in t.splitlines():
            m = CONV_ROW.match(line)
            if not m:
                continue
            a, b = m.group(1), m.group(2)
            ap = bp = 0
            if not z.startswith("ip"):  # address:port, IPv6 too
                a, _, ap = a.rpartition(":")
                b, _, bp = b.rpartition(":")
            start = t0 + round(float(m.group(9)) * NS)
            dur = round(float(m.group(10)) * NS)
            f = Flow("tshark", p, a, ap, b, bp, start, start + dur)
            ea, eb = (addr(a), int(ap)), (addr(b), int(bp))
            f.src = ea
            # "<-" first (frames B to A), then "->"
            f.add(eb, int(m.group(3)), 0)
            f.add(ea, int(m.group(5)), 0)
            f.bounds = {eb: tshark_bytes(m.group(4)),
                        ea: tshark_bytes(m.group(6))}
            f.by = {e: f.bounds[e][0] for e in f.bounds}
            flows.append(f)
    return flows


def tshark_frames(cap):
    """What tshark says of each frame, by address pair (the outermost IP
    header): {(version, lo, hi): {"errors": frames tshark calls malformed,
    "links": the link layers, "frames": n}}. Explains differences on
    frames our parser and the peers decode differently."""
    out = run(["tshark", "-r", cap, "-n", "-o", "ip.defragment:FALSE",
               "-o", "ipv6.defragment:FALSE", "-T", "fields", "-E",
               "separator=|", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src",
               "-e", "ipv6.dst", "-e", "_ws.expert.severity", "-e",
               "frame.protocols", "-e", "eth.fcs"], ok=(0, 2))  # 2: damaged
    pairs = collections.defaultdict(lambda: {"errors": 0, "links": set(),
                                             "frames": 0})
    for line in out.splitlines():
        c = line.split("|")
        if len(c) != 7:
            continue
        a, b = (c[0], c[1]) if c[0] else (c[2], c[3])
        if not a or not b:
            continue
        a, b = addr(a.split(",")[0]), addr(b.split(",")[0])
        k = (a.version,) + tuple(sorted((a, b), key=lambda x: x.packed))
        p = pairs[k]
        p["frames"] += 1
        if any(int(x) >= 8388608 for x in c[4].split(",") if x):
            p["errors"] += 1
        p["links"].add(c[5].split(":")[0] + ("+fcs" if c[6] else ""))
    return pairs


def damaged(cap):
    p = subprocess.run(["tshark", "-r", cap, "-c", "1000000"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p.returncode != 0


def pair_of(f):
    return (f.key[0],) + tuple(sorted((f.lo[0], f.hi[0]),
                                      key=lambda x: x.packed))


# Link-layer header lengths a capture may have instead of Ethernet's 14:
# raw IP 0, BSD loopback 4, SLL 16, SLL2 20, Ethernet with its FCS 18.
LINK_HEADERS = {0, 4, 16, 20, 18, 14}


# --- argus ----------------------------------------------------------------------

def argus(cap, tmp):
    out = os.path.join(tmp, "argus.out")
    # -X: no /etc/argus.conf (Debian's sets a 5 s status interval); -S:
    # the status interval, a day: one record per flow.
    run(["argus", "-X", "-S", str(DAY), "-r", cap, "-w", out])
    txt = run(["ra", "-r", out, "-n", "-u", "-p", "6", "-c", "|", "-L", "-1",
               "-s", "stime", "ltime", "saddr", "sport", "daddr", "dport",
               "proto", "spkts", "dpkts", "sbytes", "dbytes", "-", "ip"],
              ok=(0, 1))  # 1: no record
    flows = []
    for line in txt.splitlines():
        c = [x.strip() for x in line.split("|")]
        if len(c) != 11 or not c[0][:1].isdigit():
            continue
        proto = c[6]
        try:
            p = int(proto) if proto.isdigit() else socket.getprotobyname(proto)
        except OSError:
            p = ARGUS_PROTOS.get(proto, -1)
        sp, dp = c[3], c[5]
        if p not in PORT_PROTOS:  # ICMP: type, code, id in the "ports"
            sp = dp = 0
        else:
            sp, dp = int(sp or 0, 0), int(dp or 0, 0)
        f = Flow("argus", p, c[2], sp, c[4], dp, ts_ns(c[0]), ts_ns(c[1]))
        s, d = (addr(c[2]), int(sp)), (addr(c[4]), int(dp))
        f.src = s
        f.add(s, int(c[7]), int(c[9]))
        f.add(d, int(c[8]), int(c[10]))
        flows.append(f)
    return flows


# (argus names UDP to port 9000 "udt", by the port)
ARGUS_PROTOS = {"udt": 17, "ipv6-icmp": 58, "icmp6": 58, "ipv6-frag": 44,
                "ipv6-opts": 60, "ipv6-route": 43, "ipv6-nonxt": 59}


def ts_ns(s):
    sec, _, frac = s.partition(".")
    return int(sec) * NS + int((frac + "000000000")[:9])


# --- nfdump -------------------------------------------------------------------

def nfdump(cap, tmp):
    d = os.path.join(tmp, "nf")
    os.mkdir(d)
    # -e: active,inactive timeouts, 3600 s its largest; -s: no cut frames
    # (1522 by default; GSO frames are longer); -t: one file.
    run(["nfpcapd", "-r", cap, "-w", d, "-e", "3600,3600", "-s", "262144",
         "-t", str(DAY)])
    # -6: IPv6 addresses whole (else shortened with "..")
    txt = run(["nfdump", "-R", d, "-q", "-N", "-6", "-o",
               "fmt:%tsr|%td|%pr|%sa|%sp|%da|%dp|%ipkt|%ibyt"])
    flows = []
    for line in txt.splitlines():
        c = [x.strip() for x in line.split("|")]
        if len(c) != 9:
            continue
        p = int(c[2])
        sp, dp = (int(c[4]), int(float(c[6]))) if p in PORT_PROTOS else (0, 0)
        # %tsr: ms; %td: s with ms (%ter is misprinted by nfdump 1.7.1)
        start = ts_ns(c[0])
        f = Flow("nfdump", p, c[3], sp, c[5], dp, start,
                 start + round(float(c[1]) * NS))
        s = (addr(c[3]), sp)
        f.add(s, int(c[7]), int(c[8]))
        f.src = None
        f.oneway = s
        flows.append(f)
    return flows


# --- tcptrace -----------------------------------------------------------------

def tcptrace_ts(s):
    """tcptrace 6.6.7 prints the microseconds without their leading
    zeros: 1796013049.49208 is .049208 s."""
    sec, _, us = s.partition(".")
    return int(sec) * NS + int(us or 0) * 1000


def tcptrace(cap, tmp):
    p = subprocess.run(["tcptrace", "-l", "--csv", "-n", cap],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode < 0:  # tcptrace 6.6.7 crashes on some damaged frames
        raise Crashed("tcptrace: killed by signal %d" % -p.returncode)
    if p.returncode:
        raise RuntimeError("tcptrace: exit %d: %s" % (p.returncode,
                                                      p.stderr.strip()))
    txt = p.stdout
    rows = [l for l in txt.splitlines() if l and not l.startswith("#")]
    if not rows:
        return []
    flows = []
    for r in csv.DictReader(io.StringIO("\n".join(rows))):
        r = {k.strip(): (v or "").strip() for k, v in r.items() if k}
        if not r.get("conn_#"):
            continue
        a, b = (addr(r["host_a"]), int(r["port_a"])), (addr(r["host_b"]),
                                                       int(r["port_b"]))
        f = Flow("tcptrace", 6, r["host_a"], r["port_a"], r["host_b"],
                 r["port_b"], tcptrace_ts(r["first_packet"]),
                 tcptrace_ts(r["last_packet"]))
        f.src = a
        f.add(a, int(r["total_packets_a2b"]), int(r["actual_data_bytes_a2b"]))
        f.add(b, int(r["total_packets_b2a"]), int(r["actual_data_bytes_b2a"]))
        flows.append(f)
    return flows


# --- folding what a tool keys apart -----------------------------------------

def fold(tool, flows):
    """Joins the records a tool keeps apart where we keep one flow: nfpcapd's
    one-way flows into two-way ones; ICMP records of one address pair
    (argus: one per type and echo id and sequence; nfpcapd: one per packet)
    into one, when they overlap or follow each other. Returns the flows
    and how many records were folded into others."""
    by = collections.defaultdict(list)
    for f in flows:
        by[f.key].append(f)
    out, folded = [], 0
    for k, fs in by.items():
        if tool == "nfdump" or k[1] in ICMPS:
            fs.sort(key=lambda f: f.first)
            cur = fs[0]
            for f in fs[1:]:
                # nfpcapd and argus split nothing here but by key: join
                # every record of the key (both directions for nfpcapd)
                cur.merge(f)
                folded += 1
            if tool == "nfdump":
                cur.src = None
            out.append(cur)
        else:
            out.extend(fs)
    return out, folded


# --- matching -------------------------------------------------------------------

def span(f):
    end = f.last + (GRACE_NS if f.tool == "ours" and f.end == "end" else 0)
    return f.first, end


def components(mine, theirs, tol):
    """Groups of our flows and the tool's of one key that overlap in time:
    [(ours, theirs)]."""
    items = [(f.first, 0, f) for f in mine] + [(f.first, 1, f) for f in theirs]
    items.sort(key=lambda x: (x[0], x[1]))
    groups, cur, end = [], None, None
    for t, side, f in items:
        s, e = span(f)
        if cur is None or s > end + tol:
            cur = ([], [])
            groups.append(cur)
            end = e
        cur[side].append(f)
        end = max(end, e)
    return groups


def total(fs, lo, hi):
    pk = {lo: sum(f.pk[lo] for f in fs), hi: sum(f.pk[hi] for f in fs)}
    by = {lo: sum(f.by[lo] for f in fs), hi: sum(f.by[hi] for f in fs)}
    return pk, by


class Report:
    def __init__(self, tool):
        self.tool = tool
        self.ours = self.theirs = self.matched = self.folded = 0
        self.agree = collections.Counter()
        self.explained = collections.Counter()
        self.unexplained = []
        self.lines = []
        self.direction = collections.Counter()

    def diff(self, what, cause):
        if cause:
            self.explained[cause] += 1
            self.lines.append("  explained (%s): %s" % (cause, what))
        else:
            self.unexplained.append(what)
            self.lines.append("  UNEXPLAINED: %s" % what)


def frag_group(flows, key):
    """Our flows of the address pair and protocol of key: the 5-tuple flows
    and the ports-0 flow that holds later fragments."""
    v, p, lo, hi = key
    pair = {lo[0], hi[0]}
    return [f for f in flows if f.key[0] == v and f.key[1] == p and
            {f.lo[0], f.hi[0]} == pair]


def compare(tool, mine, theirs, flags, rep):
    rs, rd = RESOLUTION[tool]
    mk = collections.defaultdict(list)
    tk = collections.defaultdict(list)
    for f in mine:
        mk[f.key].append(f)
    for f in theirs:
        tk[f.key].append(f)
    done_groups = set()
    for key in sorted(set(mk) | set(tk), key=str):
        fl = flags.get(key, set())
        for m, t in components(mk.get(key, []), tk.get(key, []), rs + rd):
            name = (m or t)[0].name()
            if not t:
                for f in m:
                    rep.diff("%s: ours only (%s, %s)" % (
                        f.name(), f.counts(), ",".join(sorted(fl))),
                        only_ours_cause(tool, f, fl, mine, theirs, done_groups))
                continue
            if not m:
                for f in t:
                    rep.diff("%s: %s only (%s)" % (f.name(), tool, f.counts()),
                             only_theirs_cause(tool, f, mine, theirs))
                continue
            rep.matched += len(m)
            lo, hi = m[0].lo, m[0].hi
            opk, oby = total(m, lo, hi)
            tpk, tby = total(t, lo, hi)
            first_m, first_t = min(f.first for f in m), min(f.first for f in t)
            last_m, last_t = max(f.last for f in m), max(f.last for f in t)
            split = ""
            if len(m) != len(t):
                split = "ours %d flows, %s %d" % (len(m), tool, len(t))
            pk_ok = opk == tpk
            if tool == "tshark":
                by_ok = all(t[0].bounds[e][0] <= oby[e] <= t[0].bounds[e][1]
                            for e in (lo, hi)) if len(t) == 1 else \
                    all(sum(f.bounds[e][0] for f in t) <= oby[e] <=
                        sum(f.bounds[e][1] for f in t) for e in (lo, hi))
            else:
                by_ok = oby == tby
            # times: the tool's resolution (truncated or rounded)
            st_ok = abs(first_m - first_t) < rs
            du_ok = abs((last_m - first_m) - (last_t - first_t)) <= rd + rs
            cause = None
            if split:
                cause = split_cause(tool, m, t) or malformed_cause(tool, fl)
            bad = [w for w, ok in (("packets", pk_ok), ("bytes", by_ok),
                                   ("start", st_ok), ("duration", du_ok))
                   if not ok]
            for w, ok in (("packets", pk_ok), ("bytes", by_ok),
                          ("start", st_ok), ("duration", du_ok)):
                rep.agree[w] += len(m) if ok else 0
            # which endpoint is the source (reported, not a disagreement)
            if t[0].src is not None and len(m) == 1 and len(t) == 1:
                rep.direction["same" if m[0].src == t[0].src else
                              "other"] += 1
                if m[0].src != t[0].src:
                    rep.lines.append("  direction: %s: ours from %s, %s from %s"
                                     % (name, fmt_ep(m[0].src), tool,
                                        fmt_ep(t[0].src)))
            if split and not bad:
                rep.diff("%s: %s; sums agree" % (name, split), cause)
                continue
            if split and cause and cause.startswith("argus starts") and \
                    pk_ok and by_ok:
                rep.diff("%s: %s; packets and bytes agree, times by " \
                         "argus's record boundaries" % (name, split), cause)
                continue
            if not bad:
                continue
            what = "%s: %s differ: ours %d/%d pkts %d/%d bytes %s+%s, %s " \
                   "%d/%d pkts %d/%d bytes %s+%s%s" % (
                       name, ",".join(bad), opk[lo], opk[hi], oby[lo], oby[hi],
                       first_m, last_m - first_m, tool, tpk[lo], tpk[hi],
                       tby[lo], tby[hi], first_t, last_t - first_t,
                       " (%s)" % split if split else "")
            if not cause:
                cause = diff_cause(tool, key, m, t, fl, bad, mine, theirs,
                                   done_groups)
            rep.diff(what, cause)


def fmt_ep(e):
    return "%s:%d" % e if e else "-"


def split_cause(tool, m, t):
    """Several flows of one 5-tuple on one side, fewer on the other."""
    if len(m) > len(t) and len({(f.vlan, f.ifindex) for f in m}) > 1:
        return "ours keys flows by VLAN id and interface too; %s does " \
               "not" % tool
    if len(m) > len(t) and tool in ("argus", "nfdump") and \
            all(f.end == "end" for f in sorted(m, key=lambda f: f.first)[:-1]):
        return "%s does not end a TCP flow at FIN or RST: a 5-tuple used " \
               "again stays in one record" % tool
    if len(m) > len(t) and tool in ("tshark", "tcptrace") and \
            m[0].key[1] == 6 and \
            all(f.end == "end" for f in sorted(m, key=lambda f: f.first)[:-1]):
        return "ours ends a TCP flow 1 s after its end (RST, or FINs both " \
               "ways) and begins another with the next packet; %s keeps " \
               "packets without a new SYN in the connection" % tool
    if len(m) < len(t) and tool == "argus" and m[0].key[1] != 6:
        return "argus ends a record after its own idle time (-X: its " \
               "defaults), ours after a day"
    if len(m) != len(t) and tool == "argus" and m[0].key[1] == 6 and \
            any(f.end == "end" for f in m):
        return "argus starts a new record at a SYN after a TCP end; a " \
               "record's last time can be the next one's first SYN"
    return None


def only_ours_cause(tool, f, fl, mine, theirs, done):
    v, p = f.key[0], f.key[1]
    later = fl and fl <= {"fragment", "frag_later", "ipv6_ext", "ah"} and \
        "frag_later" in fl and f.lo[1] == 0 and p in PORT_PROTOS
    if later and tool == "tshark" and v == 6:
        return "fragments: tshark (reassembly off) puts IPv6 non-first " \
               "fragments in no conversation table"
    if later and tool == "tcptrace":
        return "fragments: tcptrace skips non-first fragments (no TCP " \
               "header)"
    if later and tool in ("argus", "nfdump"):
        return frag_cause(tool, f.key, mine, theirs, done)
    if tool == "nfdump" and v == 6 and "ipv6_ext" in fl:
        c = v6ext_cause(f, mine, theirs)
        if c:
            return c
    return malformed_cause(tool, fl, f)


def only_theirs_cause(tool, f, mine, theirs):
    v, p = f.key[0], f.key[1]
    if tool == "argus" and v == 6 and p in PORT_PROTOS:
        # argus keys an IPv6 fragment's flow by made-up ports
        g = frag_group(mine, f.key)
        if any(x.lo[1] == 0 for x in g):
            return "fragments: argus keys IPv6 non-first fragments by " \
                   "ports it makes up"
    if tool == "nfdump" and v == 6 and p in (0, 43, 44, 60):
        return "nfpcapd keys IPv6 by the first next header (%d), not the " \
               "L4 protocol after the extension headers" % p
    return malformed_cause(tool, set(), f)


def frag_cause(tool, key, mine, theirs, done):
    """Later fragments: checks the totals of the address pair."""
    g = frag_group(mine, key)
    v, p, lo, hi = key
    pair = {lo[0], hi[0]}
    tg = [f for f in theirs if f.key[0] == v and {f.lo[0], f.hi[0]} == pair
          and (f.key[1] == p or (tool == "nfdump" and f.key[1] == 44))]
    ends = (lo[0], hi[0])
    o = {a: [sum(f.pk[e] for f in g for e in (f.lo, f.hi) if e[0] == a),
             sum(f.by[e] for f in g for e in (f.lo, f.hi) if e[0] == a)]
         for a in ends}
    t = {a: [sum(f.pk[e] for f in tg for e in (f.lo, f.hi) if e[0] == a),
             sum(f.by[e] for f in tg for e in (f.lo, f.hi) if e[0] == a)]
         for a in ends}
    later = {a: sum(f.pk[e] for f in g if f.lo[1] == 0
                    for e in (f.lo, f.hi) if e[0] == a) for a in ends}
    if tool == "argus":
        ok = o == t
        rule = "argus counts later fragments in the first fragment's flow" \
            + (" (IPv6: in a flow of ports it makes up)" if v == 6 else "")
    elif v == 4:
        # nfpcapd reassembles IPv4: one packet per datagram, of the
        # datagram's length: the later fragments' IP headers (20 bytes
        # without options) are not counted
        ok = all(t[a] == [o[a][0] - later[a], o[a][1] - 20 * later[a]]
                 for a in ends)
        rule = "nfpcapd reassembles IPv4: a datagram is one packet of its " \
               "reassembled length"
    else:
        ok = t == o
        rule = "nfpcapd keys every IPv6 fragment, the first too, as " \
               "protocol 44 without ports"
    if not ok:
        return None
    return "fragments: %s; the address pair's totals agree" % rule


def diff_cause(tool, key, m, t, fl, bad, mine, theirs, done):
    v, p = key[0], key[1]
    lo, hi = key[2], key[3]
    if bad == ["bytes"] and ACCOUNTING[tool] == "link":
        links = FRAMES.get(pair_of(m[0]), {}).get("links", set())
        d = {e: sum(f.by[e] for f in t) - sum(f.by[e] for f in m) for e in
             (lo, hi)}
        n = {e: sum(f.pk[e] for f in m) for e in (lo, hi)}
        if links - {"eth"} and all(
                n[e] == 0 or (d[e] % n[e] == 0 and d[e] // n[e] + 14 in
                              LINK_HEADERS) for e in (lo, hi)):
            return "link header: ours counts 14 bytes of Ethernet header " \
                   "whatever the capture's link layer (%s), no FCS; %s the " \
                   "frame's length" % ("/".join(sorted(links)), tool)
    if v == 6:
        ext = [f for f in mine if f.key[0] == 6 and pair_of(f) == pair_of(m[0])
               and "ext_limit" in FLAGS.get(f.key, set())]
        def sent(fs, a):
            return sum(n for f in fs for e, n in f.pk.items() if e[0] == a)
        if ext and all(sent(m + ext, a) == sent(t, a) for a in
                       (lo[0], hi[0])):
            return "IPv6 extension headers: our parser stops after its " \
                   "limit and keys the packet by the last header walked, " \
                   "ports 0; %s walks on to the L4 header" % tool
    if "fragment" in fl and tool in ("argus", "nfdump"):
        c = frag_cause(tool, key, mine, theirs, done)
        if c:
            return c
    if tool == "argus" and bad == ["duration"] and len(t) == 1:
        # argus maps an ICMP error to the flow it quotes: its time ends
        # that flow's record
        pair = {key[2][0], key[3][0]}
        last = t[0].last
        if any(f.key[1] in ICMPS and {f.lo[0], f.hi[0]} == pair and
               f.first <= last <= f.last for f in mine):
            return "argus counts the time of an ICMP error in the flow " \
                   "it quotes"
    return malformed_cause(tool, fl, m[0])


def v6ext_cause(f, mine, theirs):
    pair = {f.lo[0], f.hi[0]}
    tg = [x for x in theirs if x.key[0] == 6 and {x.lo[0], x.hi[0]} == pair
          and x.key[1] in (0, 43, 60)]
    if tg and sum(x.pk[e] for x in tg for e in (x.lo, x.hi)) == \
            sum(f.pk.values()):
        return "nfpcapd keys IPv6 by the first next header (hop-by-hop: " \
               "0), not the L4 protocol after the extension headers"
    return None


# Packets whose headers our parser found cut or out of the ordinary: a
# tool that reads the bytes captured, or stops at what it does not know,
# counts them elsewhere or not at all (docs/flows.md: "Sizes come from
# the length fields, not from the bytes captured").
MALFORMED = {"l4_trunc", "ip_trunc", "ext_limit", "ext_bad", "vlan_qinq",
             "jumbo", "jumbo_bad", "tcp_bad_doff", "ip_options", "ah", "mpls",
             "pppoe", "llc_snap"}


def malformed_cause(tool, fl, f=None):
    hit = sorted(fl & MALFORMED)
    if hit:
        return "packets our parser flags %s: %s decodes them otherwise" % (
            "/".join(hit), tool)
    if "ext_limit" in fl:
        return "IPv6 extension headers: our parser stops after its limit " \
               "and keys the packet by the last header walked, ports 0; " \
               "%s walks on to the L4 header" % tool
    if f is not None and FRAMES.get(pair_of(f), {}).get("errors"):
        return "tshark calls %d frame(s) of this address pair malformed " \
               "(an expert error: a length field out of range, a header " \
               "cut); ours counts them by their headers, %s %s" % (
                   FRAMES[pair_of(f)]["errors"], tool,
                   "leaves them out of its tables" if tool == "tshark" else
                   "decodes them otherwise")
    return None


# --- main -------------------------------------------------------------------------

FLAGS = {}   # flow key: our packet records' flags
FRAMES = {}  # address pair: what tshark says of its frames
TOOLS = {"tshark": ["tshark"], "argus": ["argus", "ra"],
         "nfdump": ["nfpcapd", "nfdump"], "tcptrace": ["tcptrace"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("capture")
    ap.add_argument("--xdpctl", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "../../build/ctl/xdpctl"))
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="every difference, explained or not")
    a = ap.parse_args()
    tools = [t for t in a.tools.split(",") if t]
    for t in tools:
        for exe in TOOLS[t]:
            if not shutil.which(exe):
                print("crosscheck: %s not found (scripts/install-deps)" % exe,
                      file=sys.stderr)
                return 2
    flags = packet_flags(a.xdpctl, a.capture)
    FLAGS.update(flags)
    if shutil.which("tshark"):
        FRAMES.update(tshark_frames(a.capture))
    mine = {acc: ours(a.xdpctl, a.capture, acc)
            for acc in {ACCOUNTING[t] for t in tools}}
    status = 0
    cap = os.path.basename(a.capture)
    with tempfile.TemporaryDirectory(prefix="xpp-crosscheck.") as tmp:
        for tool in tools:
            my = mine[ACCOUNTING[tool]]
            if tool == "tcptrace":
                my = [f for f in my if f.key[1] == 6]
            try:
                their = {"tshark": lambda: tshark(a.capture, my),
                         "argus": lambda: argus(a.capture, tmp),
                         "nfdump": lambda: nfdump(a.capture, tmp),
                         "tcptrace": lambda: tcptrace(a.capture, tmp)}[tool]()
            except RuntimeError as e:
                # A tool that cannot read the capture at all (a link type
                # it does not know, a damaged file) has nothing to compare;
                # on an Ethernet capture tshark reads whole, that is a fault
                links = set().union(*(p["links"] for p in FRAMES.values()))
                if isinstance(e, Crashed):
                    print("%s: %s: crashed on the capture: %s" % (cap, tool, e))
                    continue
                if links <= {"eth"} and not damaged(a.capture):
                    raise
                print("%s: %s: cannot read the capture (link layers %s): %s"
                      % (cap, tool, "/".join(sorted(links)) or "-",
                         str(e).splitlines()[-1][-200:]))
                continue
            rep = Report(tool)
            rep.theirs = len(their)
            their, rep.folded = fold(tool, their)
            rep.ours = len(my)
            compare(tool, my, their, flags, rep)
            n = rep.matched
            agree = ", ".join("%s %d/%d" % (w, rep.agree[w], n) for w in
                              ("packets", "bytes", "start", "duration"))
            print("%s: %s (%s bytes): ours %d flows, %s %d records (%d "
                  "folded), matched %d; agree: %s; direction same %d, other "
                  "%d; explained %d, unexplained %d" % (
                      cap, tool, ACCOUNTING[tool], rep.ours, tool, rep.theirs,
                      rep.folded, n, agree, rep.direction["same"],
                      rep.direction["other"], sum(rep.explained.values()),
                      len(rep.unexplained)))
            for line in rep.lines:
                if a.verbose or "UNEXPLAINED" in line:
                    print(line)
            if rep.unexplained:
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
