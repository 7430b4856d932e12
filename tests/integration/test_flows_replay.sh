#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The same frames live and offline (docs/flows.md): captures of three
# kinds of traffic (tests/flows/make_classes.py) are replayed by tcpreplay,
# at their own pace, into a veth the daemon is attached to with flows on,
# and run through xdpctl extract: the flows must be the same but for what
# the clock changes (times, inter-arrival times, the interface, how a
# flow still open at the end of the capture ends). Then the example that
# closes the loop (examples/flow_classifier.py) trains on extracted flows
# and labels live ones from a flow subscription.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
SRC=${XPP_SRCDIR:?}
CLASSES=$SRC/tests/flows/make_classes.py
CLASSIFIER=$SRC/examples/flow_classifier.py

require_root
command -v tcpreplay >/dev/null || skip_all "needs tcpreplay (scripts/install-deps)"
"$PY" -c 'import sklearn' 2>/dev/null ||
	skip_all "needs python3-sklearn (scripts/install-deps)"
netns_pair 1 || skip_all "cannot create a veth pair"
printf 'flows = on\nrecords = off\nidle_timeout = 2\n' >"$CONF"
start_daemon || { tap_end; exit 1; }
ctl attach xa1 >/dev/null || { fail "attach"; tap_end; exit 1; }

# replay FILE...: each capture into the attached veth from the other side,
# at the pace of its timestamps, one after the other.
replay() {
	local f
	for f in "$@"; do
		ip netns exec "$NSB" tcpreplay -q -i xb1 "$f" >>"$T/tcpreplay.log" 2>&1 ||
			fail "tcpreplay $f: $(tail -3 "$T/tcpreplay.log")"
	done
}

# offline DIR OUT: the flows xdpctl extract gives for DIR's captures,
# each capture alone (as they are replayed), with the daemon's idle timeout.
offline() {
	local f
	: >"$2"
	for f in "$1"/bulk.pcap "$1"/rpc.pcap "$1"/probe.pcap; do
		"$XDPCTL" extract "$f" --flows --idle-timeout 2 --quiet >>"$2" ||
			fail "extract $f"
	done
}

# live_flows N OUT FILE...: subscribe, replay, and keep the N flows that
# come (bounded: idle timeout, scan, slack).
live_flows() {
	local n=$1 out=$2
	shift 2
	"$XDPCTL" --socket "$SOCK" flows --count "$n" --format ndjson >"$out" &
	local pid=$!
	wait_flow_subscriber || fail "live: xdpctl flows did not subscribe"
	replay "$@"
	if ! timeout 20 tail --pid="$pid" -f /dev/null; then
		kill "$pid" 2>/dev/null
		fail "live: $(wc -l <"$out") of $n flows within 20 s"
	fi
	wait "$pid" 2>/dev/null
}

test_live_equals_offline() {
	"$PY" "$CLASSES" "$T/same" 15 3 || { fail "make_classes"; return; }
	offline "$T/same" "$T/offline.ndjson"
	local n
	n=$(wc -l <"$T/offline.ndjson")
	expect_eq "offline flows" "$n" 45
	live_flows "$n" "$T/live.ndjson" "$T"/same/bulk.pcap "$T"/same/rpc.pcap \
		"$T"/same/probe.pcap
	"$PY" - "$T/offline.ndjson" "$T/live.ndjson" <<'PY' || fail "live and offline differ"
import json, sys

def flows(path):
    out = {}
    for line in open(path):
        f = json.loads(line)
        k = (f["protocol"], f["src_ip"], f["src_port"], f["dst_ip"],
             f["dst_port"])
        if k in out:
            sys.exit("%s: two flows of %s" % (path, k))
        out[k] = f
    return out

# What the clock, the interface and the end of a capture change.
def clocked(name):
    return name.endswith(("_seen_ns", "_duration_ns", "_piat_ns")) or \
        name in ("ifindex", "end_reason")

off, live = flows(sys.argv[1]), flows(sys.argv[2])
bad = 0
if set(off) != set(live):
    print("# flows only offline: %s; only live: %s" % (
        sorted(set(off) - set(live)), sorted(set(live) - set(off))))
    bad += 1
for k in sorted(set(off) & set(live)):
    o, l = off[k], live[k]
    for name in o:
        if not clocked(name) and o[name] != l[name]:
            print("# %s %s: offline %r, live %r" % (k, name, o[name], l[name]))
            bad += 1
    # A TCP end ends both; offline, a flow still open when the capture
    # ends is forced (a TCP end less than the grace before), live it ends
    # idle or, after the grace, end.
    want = {"end": ("end",), "forced": ("idle", "end")}.get(o["end_reason"])
    if l["end_reason"] not in want or (l["end_reason"] == "end") != (
            o["bidirectional_rst_packets"] > 0 or
            min(o["src2dst_fin_packets"], o["dst2src_fin_packets"]) > 0):
        print("# %s end_reason: offline %s, live %s" % (
            k, o["end_reason"], l["end_reason"]))
        bad += 1
print("# %d flows compared, %d differences" % (len(off), bad))
sys.exit(1 if bad else 0)
PY
}

test_classifier_labels_live_flows() {
	"$PY" "$CLASSES" "$T/train" 60 1 || { fail "make_classes train"; return; }
	"$PY" "$CLASSES" "$T/test" 20 2 || { fail "make_classes test"; return; }
	"$PY" "$CLASSIFIER" --xdpctl "$XDPCTL" train "$T/model.pkl" \
		"$T/train/bulk.pcap=bulk" "$T/train/rpc.pcap=rpc" \
		"$T/train/probe.pcap=probe" 2>"$T/train.log" ||
		{ fail "train: $(cat "$T/train.log")"; return; }
	# The truth: each test flow's class, by its 5-tuple.
	local c
	for c in bulk rpc probe; do
		"$XDPCTL" extract "$T/test/$c.pcap" --flows --quiet |
			jq -c --arg c "$c" '{k: [.protocol, .src_ip, .src_port, .dst_ip, .dst_port], c: $c}'
	done >"$T/truth.jsonl"
	"$PY" "$CLASSIFIER" --xdpctl "$XDPCTL" classify "$T/model.pkl" \
		--socket "$SOCK" --count 60 >"$T/labels.jsonl" 2>"$T/classify.log" &
	local pid=$!
	wait_flow_subscriber ||
		fail "classify did not subscribe: $(cat "$T/classify.log")"
	replay "$T"/test/bulk.pcap "$T"/test/rpc.pcap "$T"/test/probe.pcap
	if ! timeout 30 tail --pid="$pid" -f /dev/null; then
		kill "$pid" 2>/dev/null
		fail "classify: $(wc -l <"$T/labels.jsonl") of 60 flows within 30 s: $(cat "$T/classify.log")"
		return
	fi
	wait "$pid" || fail "classify exited with $?: $(cat "$T/classify.log")"
	"$PY" - "$T/truth.jsonl" "$T/labels.jsonl" <<'PY' || fail "live labels"
import json, sys
truth = {tuple(j["k"]): j["c"] for j in map(json.loads, open(sys.argv[1]))}
got = [json.loads(l) for l in open(sys.argv[2])]
right = unknown = 0
for g in got:
    k = (g["protocol"], g["src_ip"], g["src_port"], g["dst_ip"], g["dst_port"])
    if k not in truth:
        unknown += 1
    elif truth[k] == g["label"]:
        right += 1
print("# %d live flows labelled, %d right, %d not in the test captures" % (
    len(got), right, unknown))
sys.exit(0 if len(got) == 60 and not unknown and right >= 57 else 1)
PY
}

run_case test_live_equals_offline
run_case test_classifier_labels_live_flows
tap_end
