#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes one capture per kind of traffic, for training and testing a flow
classifier (examples/flow_classifier.py):

  bulk.pcap  TCP downloads: handshake, 20-60 segments of 1200-1448 bytes
             from the server, an ACK every second segment, FINs both ways
  rpc.pcap   UDP request/response exchanges: 4-12 pairs, small requests,
             mid-size replies, tens of ms apart
  probe.pcap TCP connection attempts refused: SYN, then RST-ACK

usage: make_classes.py OUTDIR FLOWS_PER_CLASS SEED [--start EPOCH_S]

Addresses from 198.18.0.0/15 only; a seed gives the same bytes every
time. Flows of a class are spread over time and overlap.
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_captures import tcp4, udp4, write_pcap  # noqa: E402

MS = 1000000
SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10


def addr(rng, net):
    return "198.%d.%d.%d" % (net, rng.randrange(256), rng.randrange(1, 255))


def bulk(rng, t):
    c, s = addr(rng, 18), addr(rng, 19)
    cp, sp = rng.randrange(32768, 61000), rng.choice((80, 443, 8080))
    out = [(t, tcp4(c, cp, s, sp, SYN, 64240))]
    t += rng.randrange(100, 2000) * 1000
    out.append((t, tcp4(s, sp, c, cp, SYN | ACK, 65160)))
    t += rng.randrange(50, 500) * 1000
    out.append((t, tcp4(c, cp, s, sp, ACK, 502)))
    for i in range(rng.randrange(20, 61)):
        t += rng.randrange(50, 500) * 1000
        data = bytes(rng.randrange(1200, 1449))
        out.append((t, tcp4(s, sp, c, cp, ACK | (PSH if i % 4 == 3 else 0),
                            509, data)))
        if i % 2:
            t += rng.randrange(10, 100) * 1000
            out.append((t, tcp4(c, cp, s, sp, ACK, 502)))
    t += rng.randrange(1, 20) * MS
    out.append((t, tcp4(s, sp, c, cp, FIN | ACK, 509)))
    t += rng.randrange(100, 1000) * 1000
    out.append((t, tcp4(c, cp, s, sp, FIN | ACK, 502)))
    t += rng.randrange(100, 1000) * 1000
    out.append((t, tcp4(s, sp, c, cp, ACK, 509)))
    return out


def rpc(rng, t):
    c, s = addr(rng, 18), addr(rng, 19)
    cp, sp = rng.randrange(32768, 61000), rng.choice((53, 123, 5353))
    out = []
    for _ in range(rng.randrange(4, 13)):
        out.append((t, udp4(c, cp, s, sp, bytes(rng.randrange(40, 121)))))
        t += rng.randrange(200, 1000) * 1000
        out.append((t, udp4(s, sp, c, cp, bytes(rng.randrange(80, 301)))))
        t += rng.randrange(20, 80) * MS
    return out


def probe(rng, t):
    c, s = addr(rng, 18), addr(rng, 19)
    cp, sp = rng.randrange(32768, 61000), rng.randrange(1, 1024)
    out = [(t, tcp4(c, cp, s, sp, SYN, 1024))]
    t += rng.randrange(50, 1500) * 1000
    out.append((t, tcp4(s, sp, c, cp, RST | ACK, 0)))
    return out


CLASSES = {"bulk": bulk, "rpc": rpc, "probe": probe}


def main():
    args = sys.argv[1:]
    start = 1700000000
    if "--start" in args:
        i = args.index("--start")
        start = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 3:
        sys.exit(__doc__)
    out, n, seed = args[0], int(args[1]), int(args[2])
    os.makedirs(out, exist_ok=True)
    for k, (name, gen) in enumerate(CLASSES.items()):
        rng = random.Random(seed * 1000 + k)
        frames = []
        for i in range(n):
            frames += gen(rng, start * 1000 * MS + i * 37 * MS +
                          rng.randrange(0, 20) * MS)
        frames.sort(key=lambda f: f[0])
        write_pcap(os.path.join(out, name + ".pcap"), frames)


if __name__ == "__main__":
    main()
