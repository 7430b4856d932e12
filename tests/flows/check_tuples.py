#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Every TCP and UDP frame of a capture is counted in exactly one flow of
its 5-tuple (docs/flows.md: "every IP frame ... is counted in exactly one
flow").

usage: check_tuples.py CAPTURE FLOWS.ndjson

tshark counts the frames per 5-tuple (protocol and the two endpoints,
unordered) on its own: frames whose TCP or UDP header follows the IP
header, or at most 8 extension headers or AHs (the program's walk,
docs/record.md: past 8 the protocol is the next header, no ports), behind
the layers the parser walks, with ports, and a timestamp from 1970 to
2554-07-21 (others are refused). The sum of the packets of the flows of
each of these 5-tuples must be tshark's count; a TCP or UDP flow whose
5-tuple tshark never saw must have ports 0 (later fragments, headers cut
before the ports), or be one of the frames tshark gave up on before their
L4 header (an exception, "Malformed Packet", in a header the program
steps over without looking inside, such as an option's contents): at
most as many packets as those. Exit status 1 on any difference.
"""
import collections
import json
import subprocess
import sys

EXT = {"ipv6.hopopts", "ipv6.routing", "ipv6.fraghdr", "ipv6.dstopts", "ah"}
L2 = {"eth", "ethertype", "vlan", "ieee8021ad", "sll", "raw", "null",
      "mpls", "pppoes", "ppp", "llc"}
FIELDS = ["frame.time_epoch", "frame.protocols", "ip.src", "ip.dst",
          "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport",
          "udp.srcport", "udp.dstport", "_ws.malformed"]
TS_MAX = 2**64 - 1
EXT_MAX = 8


def ns_of(epoch):
    neg = epoch.startswith("-")
    sec, _, frac = epoch.lstrip("-").partition(".")
    v = int(sec) * 10**9 + int((frac + "000000000")[:9])
    return -v if neg else v


def tshark_counts(capture):
    cmd = ["tshark", "-n", "-r", capture, "-o", "ip.defragment:FALSE",
           "-o", "ipv6.defragment:FALSE", "-o", "eth.fcs:Never",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for f in FIELDS:
        cmd += ["-e", f]
    # A damaged file: the frames before the damage.
    out = subprocess.run(cmd, capture_output=True, text=True,
                         env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"}).stdout
    counts = collections.Counter()
    gave_up = 0
    for line in out.splitlines():
        t = dict(zip(FIELDS, line.split("\t")))
        layers = t["frame.protocols"].split(":")
        l3 = next((i for i, x in enumerate(layers) if x in ("ip", "ipv6")),
                  None)
        if l3 is None or not set(layers[:l3]) <= L2:
            continue
        i = l3 + 1
        while i < len(layers) and layers[i] in EXT:
            i += 1
        if i - l3 - 1 > EXT_MAX:
            continue
        if i == len(layers) or layers[i] not in ("tcp", "udp"):
            gave_up += bool(t["_ws.malformed"] and i == len(layers))
            continue
        ts = t["frame.time_epoch"]
        if ts.startswith("-") or ns_of(ts) > TS_MAX:
            continue
        l4 = layers[i]
        if not t[l4 + ".dstport"]:
            continue
        src = t["ip.src"] or t["ipv6.src"]
        dst = t["ip.dst"] or t["ipv6.dst"]
        ends = sorted([(src, int(t[l4 + ".srcport"])),
                       (dst, int(t[l4 + ".dstport"]))])
        counts[(6 if l4 == "tcp" else 17,) + tuple(ends)] += 1
    return counts, gave_up


def main():
    capture, flows = sys.argv[1:3]
    want, gave_up = tshark_counts(capture)
    got = collections.Counter()
    with open(flows) as f:
        for line in f:
            r = json.loads(line)
            if r["protocol"] not in (6, 17):
                continue
            ends = sorted([(r["src_ip"], r["src_port"]),
                           (r["dst_ip"], r["dst_port"])])
            got[(r["protocol"],) + tuple(ends)] += r["bidirectional_packets"]
    bad = []
    unseen = []
    for k in sorted(set(want) | set(got), key=str):
        if k in want:
            if got[k] != want[k]:
                bad.append("%s: tshark %d frames, flows %d packets" %
                           (k, want[k], got[k]))
        elif k[1][1] or k[2][1]:
            unseen.append("%s: %d packets in flows, no frame of tshark's" %
                          (k, got[k]))
    n_unseen = sum(got[k] for k in got if k not in want and
                   (k[1][1] or k[2][1]))
    if n_unseen > gave_up:
        bad += unseen
        bad.append("%d packets of 5-tuples tshark never saw, %d frames "
                   "tshark gave up on" % (n_unseen, gave_up))
    for b in bad:
        print(b)
    print("%s: %d 5-tuples, %d TCP and UDP frames, %d differences" %
          (capture, len(want), sum(want.values()), len(bad)))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
