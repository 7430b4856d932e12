#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Compare two flow outputs (NDJSON, docs/flows.md "Output").

usage: compare_flows.py A.ndjson B.ndjson

The flows are compared as multisets keyed by (ifindex, vlan_id,
ip_version, protocol, src_ip, src_port, dst_ip, dst_port,
bidirectional_first_seen_ns); flows of the same key are paired in the
order of their lines. Every field must be exactly equal: integers and
strings as they are, doubles as the doubles they parse to (no tolerance),
arrays element by element; the field names and their order too. Prints
each difference naming the flow and the field; exit status 1 on any,
else prints "N flows equal".
"""
import json
import sys

KEY = ("ifindex", "vlan_id", "ip_version", "protocol", "src_ip", "src_port",
       "dst_ip", "dst_port", "bidirectional_first_seen_ns")


def load(path):
    flows = {}
    order = {}
    n = 0
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            r = json.loads(line)
            k = tuple(r.get(x) for x in KEY)
            flows.setdefault(k, []).append((lineno, r))
            order[tuple(r)] = order.get(tuple(r), 0) + 1
            n += 1
    return flows, order, n


def is_double(field):
    return "_mean_" in field or "_stddev_" in field


def same(a, b, double=False):
    """Exactly equal; a double field as the doubles its text parses to
    (%.17g may print 5 where another writer prints 5.0)."""
    if double:
        ok = all(isinstance(x, (int, float)) and not isinstance(x, bool)
                 for x in (a, b))
        return ok and float(a) == float(b)
    if isinstance(a, list) or isinstance(b, list):
        return (isinstance(a, list) and isinstance(b, list) and
                len(a) == len(b) and all(same(x, y) for x, y in zip(a, b)))
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return type(a) is type(b) and a == b


def name(k):
    return "%s flow if%s vlan%s %s:%s -> %s:%s first_seen %s" % (
        {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6"}.get(k[3], k[3]),
        k[0], k[1], k[4], k[5], k[6], k[7], k[8])


def compare(pa, pb):
    fa, oa, na = load(pa)
    fb, ob, nb = load(pb)
    bad = []
    for cols, cnt in oa.items():
        if cols not in ob:
            bad.append("%s: field names/order %s (%d flows) not in %s"
                       % (pa, list(cols), cnt, pb))
    for cols, cnt in ob.items():
        if cols not in oa:
            bad.append("%s: field names/order %s (%d flows) not in %s"
                       % (pb, list(cols), cnt, pa))
    equal = 0
    for k in sorted(set(fa) | set(fb), key=repr):
        la, lb = fa.get(k, []), fb.get(k, [])
        for i in range(max(len(la), len(lb))):
            if i >= len(la):
                bad.append("%s: only in %s (line %d)" % (name(k), pb,
                                                          lb[i][0]))
                continue
            if i >= len(lb):
                bad.append("%s: only in %s (line %d)" % (name(k), pa,
                                                          la[i][0]))
                continue
            (lna, ra), (lnb, rb) = la[i], lb[i]
            diff = False
            for f in list(ra) + [x for x in rb if x not in ra]:
                if f not in ra or f not in rb:
                    bad.append("%s: field %s missing in %s" % (
                        name(k), f, pa if f not in ra else pb))
                    diff = True
                elif not same(ra[f], rb[f], is_double(f)):
                    bad.append("%s: %s: %r (%s:%d) != %r (%s:%d)" % (
                        name(k), f, ra[f], pa, lna, rb[f], pb, lnb))
                    diff = True
            equal += not diff
    return equal, na, nb, bad


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    equal, na, nb, bad = compare(sys.argv[1], sys.argv[2])
    for b in bad:
        print(b)
    if bad:
        print("%d differences (%d and %d flows, %d equal)"
              % (len(bad), na, nb, equal))
        sys.exit(1)
    print("%d flows equal" % equal)


if __name__ == "__main__":
    main()
