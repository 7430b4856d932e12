#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The benchmark harness works (a smoke run of bench/run --quick): every
# variant received the generator's frames at the hook, built records in
# user space, and the JSON, table and plot were written. Not a speed
# threshold: figures on a shared CI machine say little.
. "$(dirname "$0")/lib.sh"

require_root
[ "$(nproc)" -ge 2 ] || skip_all "the benchmark needs two CPUs"
SRC=${XPP_SRCDIR:?}
PY=/usr/bin/python3

test_quick_run() {
	local out
	out=$(XPP_BUILDDIR=$BUILD "$SRC/bench/run" --quick --no-build --out "$T/results" \
		2>"$T/bench.err") || {
		fail "bench/run --quick failed: $(tail -5 "$T/bench.err")"
		return
	}
	diag "$(grep -c '^| ipv4-64' <<<"$out") table rows"
	out=$("$PY" - "$T/results" <<'PYEOF' 2>&1)
import glob, json, os, sys
d = sys.argv[1]
js = glob.glob(os.path.join(d, "quick-*.json"))
assert len(js) == 1, "want one JSON result, got %s" % js
r = json.load(open(js[0]))
assert os.path.exists(js[0][:-5] + ".md"), "no Markdown table"
if r["plot"]:
    png = os.path.join(d, r["plot"])
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n", "not a PNG"
seen = set()
for p in r["points"]:
    for run in p["runs"]:
        v = p["variant"]
        assert run["sent"] > 1000, "%s: the generator sent %d" % (v, run["sent"])
        assert 0 < run["arrivals"] <= run["sent"], \
            "%s: %d arrivals of %d sent" % (v, run["arrivals"], run["sent"])
        assert 0 < run["delivered"] <= run["arrivals"], \
            "%s: %d delivered of %d arrivals" % (v, run["delivered"], run["arrivals"])
        assert run["lost"] == run["sent"] - run["delivered"]
        if not v.endswith("-drop"):
            lat = run["latency_ns"]
            assert lat["count"] == run["delivered"], \
                "%s: latency of %d records, %d delivered" % (v, lat["count"], run["delivered"])
            assert 0 < lat["p50"] <= lat["p99"] <= lat["max"], lat
        seen.add(v)
    if p["rate"]:
        off = p["summary"]["offered_pps"]["median"]
        # Never faster than asked (slower only on a busy machine).
        assert 0 < off < 1.02 * p["rate"], \
            "%s: offered %.0f for a paced %.0f" % (p["variant"], off, p["rate"])
assert seen == {"xdp-preprocd", "tpacket", "recvmmsg", "xdp-drop",
                "xdp-touch-drop", "xdp-touch-ts-drop"}, seen
pc = {f["frame"]: f for f in r["prog_cost"]["frames"]}
assert len(pc) == 3, pc.keys()
for f in pc.values():
    ns = {p["name"]: p["median_ns"] for p in f["programs"]}
    # Measured, all three (parse-only and the full program are within
    # 10-15% of each other: their order is noise in a short run).
    assert all(ns[k] > 0 for k in ("xdp_drop", "touch_drop", "touch_ts_drop",
                                   "parse_only", "xdp_preprocd", "flows",
                                   "records+flows")), ns
assert any(c["check"].startswith("saturation") for c in r["checks"])
assert any(c["check"] == "saturation: xdp-preprocd / touch+timestamp-and-drop"
           for c in r["checks"]), [c["check"] for c in r["checks"]]
PYEOF
	[ -z "$out" ] || fail "$(tail -1 <<<"$out")"
	ip netns list | grep -q '^xppbench' && fail "namespaces left behind"
}

run_case test_quick_run
tap_end
