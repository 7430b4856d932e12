#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""The other writings of the same flows agree with their NDJSON in ns
(docs/flows.md, "Output").

usage: check_columns.py NS.ndjson NS.csv MS.ndjson MS.csv

NS.csv: `--format csv` of the same flows; MS.*: with `--columns
nfstream`. Checks, flow by flow (the same order):
- CSV: the header is the NDJSON's field names in their order, each value
  the NDJSON's (integers and strings as they are, doubles as the doubles
  they parse to, SPLT arrays as the quoted JSON text);
- nfstream: the names with `_ns` at the end as `_ms`, nothing else
  renamed; an integer field of ns is floor(ns / 10^6) (SPLT padding -1
  included), but a duration is last_seen_ms - first_seen_ms (NFStream's
  definition); a mean or standard deviation is the double ns / 1e6;
  every other field as it is.
Prints the differences; exit status 1 on any.
"""
import csv
import json
import sys


def load_nd(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def load_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def is_double(name):
    return "_mean_" in name or "_stddev_" in name


def same_text(name, text, value):
    """A CSV field's text against its NDJSON value."""
    if isinstance(value, list):
        return json.loads(text) == value
    if isinstance(value, str):
        return text == value
    if is_double(name):
        return float(text) == float(value)
    return text == str(value)


def ms_name(name):
    return name[:-3] + "_ms" if name.endswith("_ns") else name


def ms_of(name, v):
    """docs/flows.md: --columns nfstream's value of an ns field."""
    if isinstance(v, list):
        return [x // 10**6 for x in v]
    if is_double(name):
        return float(v) / 1e6
    return v // 10**6


def main():
    ns_nd, ns_csv, ms_nd, ms_csv = sys.argv[1:5]
    bad = []
    ns = load_nd(ns_nd)
    ms = load_nd(ms_nd)
    if not ns:
        sys.exit("no flows to compare")
    names = list(ns[0])
    for label, path, want_names, recs in (
            ("csv", ns_csv, names, ns),
            ("nfstream csv", ms_csv, [ms_name(n) for n in names], ms)):
        header, rows = load_csv(path)
        if header != want_names:
            bad.append("%s header: %s" % (label, header))
            continue
        if len(rows) != len(recs):
            bad.append("%s: %d lines, %d flows" % (label, len(rows),
                                                   len(recs)))
            continue
        for i, (row, r) in enumerate(zip(rows, recs), 1):
            for name, text in zip(header, row):
                if not same_text(name, text, r[name]):
                    bad.append("%s flow %d %s: %r, NDJSON %r" %
                               (label, i, name, text, r[name]))
    if len(ms) != len(ns):
        bad.append("nfstream: %d flows, %d in ns" % (len(ms), len(ns)))
    for i, (a, b) in enumerate(zip(ns, ms), 1):
        if list(b) != [ms_name(n) for n in a]:
            bad.append("nfstream flow %d: names %s" % (i, list(b)))
            continue
        for name, v in a.items():
            want = ms_of(name, v) if name.endswith("_ns") else v
            if name.endswith("_duration_ns"):
                d = name[:-len("duration_ns")]
                want = a[d + "last_seen_ns"] // 10**6 - \
                    a[d + "first_seen_ns"] // 10**6
            got = b[ms_name(name)]
            ok = (float(got) == want if is_double(name) else got == want)
            if not ok:
                bad.append("nfstream flow %d %s: %r, want %r (from %r)" %
                           (i, ms_name(name), got, want, v))
    for b in bad[:40]:
        print(b)
    if bad:
        print("%d differences" % len(bad))
        sys.exit(1)
    print("%d flows: csv and nfstream columns agree with the ns NDJSON"
          % len(ns))


if __name__ == "__main__":
    main()
