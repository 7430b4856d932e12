#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Trains a traffic classifier on flows extracted from captures, then labels
live flows from xdp-preprocd: training and inference read the same
features, computed by the same kernel program (docs/flows.md).

    # one or more captures per label
    examples/flow_classifier.py train model.pkl web.pcap=web dns.pcap=dns
    # label the flows of the running daemon as they end
    examples/flow_classifier.py classify model.pkl \\
        --socket /run/xdp-preprocd/control.sock --count 100
    # or the flows of another capture
    examples/flow_classifier.py classify model.pkl --capture test.pcap

train runs each capture through `xdpctl extract --flows` (xdpctl on PATH,
or --xdpctl PATH) with the package xdp_preprocd (docs/python.md) and fits
a scikit-learn random forest on the flows' behavioural features (sizes,
inter-arrival times, TCP flags, durations: no addresses or ports, so the
model learns how a kind of traffic behaves, not where it goes). classify
prints one JSON object per flow: its 5-tuple, end reason and label.
The daemon needs `flows = on` in its configuration.

Train on what the daemon will see: XDP sees the frames an interface
receives, so on a host live flows hold the incoming direction only.
Capture the training traffic the same way (`tcpdump -Q in -i IFACE`), or
train and run on a mirror port, where both directions are received
(docs/flows.md, "What the table sees").

Needs Debian's python3-sklearn, python3-numpy and python3-pandas.
"""
import argparse
import os
import pickle
import sys

import numpy as np
from sklearn.ensemble import RandomForestClassifier

# From a source checkout, the package next to the examples; else the one
# installed (meson install).
_here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                     "python")
if os.path.isdir(os.path.join(_here, "xdp_preprocd")):
    sys.path.insert(0, _here)
import xdp_preprocd as xpp  # noqa: E402

DIRS = ("bidirectional", "src2dst", "dst2src")
PER_DIR = ("duration_ns", "packets", "bytes", "min_ps", "mean_ps",
           "stddev_ps", "max_ps", "min_piat_ns", "mean_piat_ns",
           "stddev_piat_ns", "max_piat_ns", "syn_packets", "ack_packets",
           "psh_packets", "rst_packets", "fin_packets")
FEATURES = ["protocol"] + [d + "_" + f for d in DIRS for f in PER_DIR]
KEY = ["src_ip", "src_port", "dst_ip", "dst_port", "protocol", "end_reason"]


def features(flows):
    """The feature matrix (flows x FEATURES, float64) of a flow
    DataFrame (xdp_preprocd.extract, Batch.to_pandas)."""
    return flows[FEATURES].to_numpy(dtype=np.float64)


def extract(xdpctl, capture):
    """The flows of a capture, through the kernel program."""
    return xpp.extract(capture, flows=True, xdpctl=xdpctl)


def lost(n, total):
    # The daemon tells of flows this subscriber was too slow for: say so,
    # and go on.
    print(f"flow_classifier: daemon: {n} flows lost ({total} in all)",
          file=sys.stderr)


def live_flows(path, count):
    """DataFrames of the running daemon's flows as they end, a batch at a
    time (a flow subscription), count flows in all (0: for ever)."""
    with xpp.Client(path).flows(count=count or None, on_lost=lost) as sub:
        for batch in sub:
            yield batch.to_pandas()


def train(args):
    flows, labels = [], []
    for spec in args.captures:
        capture, sep, label = spec.rpartition("=")
        if not sep or not capture or not label:
            sys.exit(f"flow_classifier: {spec!r}: want CAPTURE=LABEL")
        got = extract(args.xdpctl, capture)
        if not len(got):
            sys.exit(f"flow_classifier: {capture}: no flows")
        flows.append(features(got))
        labels += [label] * len(got)
    model = RandomForestClassifier(n_estimators=50, random_state=0)
    model.fit(np.concatenate(flows), labels)
    with open(args.model, "wb") as f:
        pickle.dump({"features": FEATURES, "model": model}, f)
    print(f"trained on {len(labels)} flows, labels "
          f"{sorted(set(labels))}", file=sys.stderr)


def classify(args):
    with open(args.model, "rb") as f:
        saved = pickle.load(f)
    if saved["features"] != FEATURES:
        sys.exit("flow_classifier: the model was trained on other features")
    model = saved["model"]
    src = [extract(args.xdpctl, args.capture)] if args.capture else \
        live_flows(args.socket, args.count)
    for df in src:
        if not len(df):
            continue
        out = df[KEY].assign(label=model.predict(features(df)))
        print(out.to_json(orient="records", lines=True).rstrip("\n"),
              flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--xdpctl", default="xdpctl",
                   help="the xdpctl to extract with (default: on PATH)")
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="fit a model on labelled captures")
    t.add_argument("model", help="file to write the model to")
    t.add_argument("captures", nargs="+", metavar="CAPTURE=LABEL")
    c = sub.add_parser("classify", help="label flows with a model")
    c.add_argument("model")
    g = c.add_mutually_exclusive_group(required=True)
    g.add_argument("--socket", help="the daemon's control socket")
    g.add_argument("--capture", help="a capture file")
    c.add_argument("--count", type=int, default=0,
                   help="with --socket: stop after N flows")
    args = p.parse_args()
    try:
        train(args) if args.cmd == "train" else classify(args)
    except (OSError, xpp.XppError) as e:
        sys.exit(f"flow_classifier: {e}")


if __name__ == "__main__":
    main()
