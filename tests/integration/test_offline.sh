#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# xdpctl extract: captures through the same XDP program. Agreement with
# tshark field by field, every frame accounted for, pcap and pcapng, the
# three formats, damaged input, a full disk, flat memory, and live and
# offline records identical for the same frames.
. "$(dirname "$0")/lib.sh"

require_root
command -v tshark >/dev/null || skip_all "needs tshark (scripts/install-deps)"
PCAP=$BUILD/tests/xpp-pcap
PY=/usr/bin/python3
SRC=${XPP_SRCDIR:?}
"$PCAP" corpus "$T/corpus.pcap" || skip_all "cannot write a capture"

# Records without the fields that differ between runs of the same frames.
strip() { jq -c 'del(.ktime_ns, .seq, .ring)' "$@"; }

test_corpus_agrees_with_tshark() {
	"$XDPCTL" extract "$T/corpus.pcap" --quiet >"$T/corpus.ndjson" ||
		{ fail "extract failed"; return; }
	local out
	out=$("$PY" "$SRC/tests/offline/compare_tshark.py" "$T/corpus.pcap" \
		"$T/corpus.ndjson" 2>&1) || fail "$out"
	diag "$(tail -1 <<<"$out")"
	[ "$(wc -l <"$T/corpus.ndjson")" -gt 100 ] || fail "too few records"
}

test_random_damage_agrees_with_tshark() {
	# Thousands of frames of every kind, damaged at random (bits, bytes,
	# length fields, cuts); fixed seeds, so a failure can be replayed with
	# build/tests/xpp-pcap fuzz FILE N SEED.
	local seed out total=0
	for seed in 11 12 13; do
		"$PCAP" fuzz "$T/fuzz.pcap" 4000 $seed || { fail "xpp-pcap fuzz"; return; }
		"$XDPCTL" extract "$T/fuzz.pcap" --quiet >"$T/fuzz.ndjson" ||
			{ fail "extract, seed $seed"; return; }
		out=$("$PY" "$SRC/tests/offline/compare_tshark.py" "$T/fuzz.pcap" \
			"$T/fuzz.ndjson" 2>&1) || fail "seed $seed: $(tail -5 <<<"$out")"
		total=$((total + 4000))
	done
	diag "$total damaged frames, every field agrees with tshark"
}

test_link_types_agree_with_tshark() {
	# The corpus in every link type the reader hands over, and Ethernet
	# with an FCS: every field tshark decodes agrees, the frame length
	# and ifindex included (compare_tshark.py says how).
	local lt out
	for lt in fcs 113 276 12 14 101 228 229 0 108; do
		"$PCAP" link "$T/l.pcap" $lt || { fail "xpp-pcap link $lt"; continue; }
		"$XDPCTL" extract "$T/l.pcap" >"$T/l.ndjson" 2>"$T/l.err"
		out=$("$PY" "$SRC/tests/offline/compare_tshark.py" "$T/l.pcap" \
			"$T/l.ndjson" "$T/l.err" 2>&1) || fail "link type $lt: $(tail -5 <<<"$out")"
		grep -q ' records,' "$T/l.err" || fail "link type $lt: no summary"
	done
	# What the synthesized header says reaches the records unchanged.
	"$PCAP" link "$T/l.pcap" 276
	"$XDPCTL" extract "$T/l.pcap" --quiet >"$T/l.ndjson"
	expect_eq sll2_ifindex "$(jq -r .ifindex "$T/l.ndjson" | sort -u)" 7
}

test_pcapng_as_wireshark_writes_it() {
	# Interfaces of three link types and two snap lengths, an FCS, two
	# sections (the second big-endian), if_tsoffset, timestamps at 2^31 s,
	# before 1970 and past 2554 (refused, named, counted).
	local out sum
	"$PCAP" pcapng "$T/ng.pcapng" || { fail "xpp-pcap pcapng"; return; }
	"$XDPCTL" extract "$T/ng.pcapng" >"$T/ng.ndjson" 2>"$T/ng.err"
	expect_eq exit "$?" 1
	out=$("$PY" "$SRC/tests/offline/compare_tshark.py" "$T/ng.pcapng" \
		"$T/ng.ndjson" "$T/ng.err" 2>&1) || fail "$out"
	sum=$(tail -1 "$T/ng.err")
	case $sum in
	*"10 frames: 8 records,"*"2 refused; link types: ether 5, rawip 2, loop 1, linux-sll2 2; 1 cut by the snap length; refused: before 1970 1, after 2554 1"*) ;;
	*) fail "summary: $sum" ;;
	esac
	grep -q "frame 6 refused (after 2554)" "$T/ng.err" || fail "frame 6: $(cat "$T/ng.err")"
	grep -q "frame 8 refused (before 1970)" "$T/ng.err" || fail "frame 8: $(cat "$T/ng.err")"
	expect_eq y2038 "$(jq -r 'select(.ts_ns == 2147483648000000000) | .ts' "$T/ng.ndjson")" \
		2038-01-19T03:14:08.000000000Z
}

test_every_frame_accounted() {
	local sum frames recs not_ip runts
	"$XDPCTL" extract "$T/corpus.pcap" 2>"$T/sum.txt" >"$T/c.ndjson" || fail "extract"
	sum=$(cat "$T/sum.txt")
	frames=$(sed -n 's/.*: \([0-9]*\) frames:.*/\1/p' <<<"$sum")
	recs=$(sed -n 's/.* \([0-9]*\) records,.*/\1/p' <<<"$sum")
	not_ip=$(sed -n 's/.* \([0-9]*\) not IP,.*/\1/p' <<<"$sum")
	runts=$(sed -n 's/.* \([0-9]*\) too short for Ethernet.*/\1/p' <<<"$sum")
	expect_eq frames "$frames" "$(tshark -r "$T/corpus.pcap" 2>/dev/null | wc -l)"
	expect_eq records "$recs" "$(wc -l <"$T/c.ndjson")"
	expect_eq sum "$((recs + not_ip + runts))" "$frames"
	[ "$runts" = 1 ] || fail "runts: $runts ($sum)"
}

test_pcapng_same_records() {
	editcap -F pcapng "$T/corpus.pcap" "$T/corpus.pcapng" || { fail "editcap"; return; }
	"$XDPCTL" extract "$T/corpus.pcap" --quiet | strip >"$T/a"
	"$XDPCTL" extract "$T/corpus.pcapng" --quiet | strip >"$T/b"
	# pcapng names the interface (id 0: ifindex 1), pcap does not.
	expect_eq ifindex_pcap "$(jq -r .ifindex "$T/a" | sort -u)" 0
	expect_eq ifindex_pcapng "$(jq -r .ifindex "$T/b" | sort -u)" 1
	cmp -s <(jq -c 'del(.ifindex)' "$T/a") <(jq -c 'del(.ifindex)' "$T/b") ||
		fail "pcap and pcapng records differ"
}

# From a pipe (tcpdump -w - | xdpctl extract -), pcap and pcapng: the
# same records as from the file.
test_standard_input() {
	local f
	"$XDPCTL" extract "$T/corpus.pcap" --quiet >"$T/file.ndjson" || { fail file; return; }
	for f in corpus.pcap corpus.pcapng; do
		[ -f "$T/$f" ] || continue
		cat "$T/$f" | "$XDPCTL" extract - --quiet >"$T/pipe.ndjson" ||
			{ fail "$f from a pipe"; continue; }
		cmp -s <(jq -c 'del(.ring,.seq,.ifindex)' "$T/file.ndjson") \
			<(jq -c 'del(.ring,.seq,.ifindex)' "$T/pipe.ndjson") ||
			fail "$f: records from a pipe differ from the file's"
	done
}

test_formats_round_trip() {
	"$XDPCTL" extract "$T/corpus.pcap" --quiet --format csv >"$T/c.csv" || fail csv
	"$XDPCTL" extract "$T/corpus.pcap" --quiet --format binary -o "$T/c.bin" || fail bin
	"$XDPCTL" extract "$T/corpus.pcap" --quiet >"$T/c.ndjson" || fail ndjson
	local out
	out=$("$PY" - "$T/c.ndjson" "$T/c.csv" "$T/c.bin" "$SRC/examples" <<'PY'
import csv, json, sys
sys.path.insert(0, sys.argv[4])
from numpy_consumer import read_stream, addr
nd = [json.loads(l) for l in open(sys.argv[1])]
cs = list(csv.DictReader(open(sys.argv[2])))
flags, recs, lost = read_stream(open(sys.argv[3], "rb"))
assert flags & 1, "binary header lacks the wall-clock flag"
assert lost == 0
assert len(nd) == len(cs) == len(recs), (len(nd), len(cs), len(recs))
NAMES = ["fragment", "frag_later", "ip_options", "ipv6_ext", "l4_trunc",
         "ext_limit", "ip_trunc", "vlan_qinq", "tcp_bad_doff", "vlan",
         "ext_bad", "ah", "jumbo", "jumbo_bad", "mpls", "pppoe",
         "llc_snap"]
for n, c, b in zip(nd, cs, recs):
    for k in ("ts_ns", "ip_version", "proto", "sport", "dport", "frame_len",
              "ip_len", "ttl", "tcp_flags", "tcp_window", "vlan", "seq",
              "pkt_type"):
        assert str(n[k]) == c[k], (k, n, c)
    assert n["src"] == c["src"] == addr(b["saddr"]), (n, c)
    assert n["dst"] == c["dst"] == addr(b["daddr"])
    assert n["ts_ns"] == int(b["ts_ns"])
    for k in ("ip_version", "proto", "sport", "dport", "frame_len", "ip_len",
              "ttl", "tcp_flags", "tcp_window", "vlan", "seq", "pkt_type"):
        assert n[k] == int(b[k]), (k, n, b)
    names = [NAMES[i] for i in range(32) if int(b["flags"]) >> i & 1]
    assert n["flags"] == names == (c["flags"].split("|") if c["flags"] else [])
print(len(nd))
PY
) || fail "formats differ: $out"
}

test_damaged_inputs() {
	local out rc
	# Cut inside a frame record: the frames before it are written.
	head -c 1000 "$T/corpus.pcap" >"$T/cut.pcap"
	out=$("$XDPCTL" extract "$T/cut.pcap" 2>&1 >"$T/cut.ndjson")
	rc=$?
	expect_eq cut_exit "$rc" 1
	case $out in *"damaged after frame"*) ;; *) fail "cut file said: $out" ;; esac
	[ -s "$T/cut.ndjson" ] || fail "no record of the frames before the cut"
	# Not a capture at all.
	echo "hello" >"$T/text.pcap"
	out=$("$XDPCTL" extract "$T/text.pcap" 2>&1)
	expect_eq text_exit "$?" 1
	# (tshark reads it as an MP4 file; neither has a frame of a network)
	case $out in *"format"*|*"frame 1 refused (link type)"*) ;; *) fail "text said: $out" ;; esac
	# Empty file, missing file.
	: >"$T/empty.pcap"
	"$XDPCTL" extract "$T/empty.pcap" >/dev/null 2>&1
	expect_eq empty_exit "$?" 1
	out=$("$XDPCTL" extract "$T/none.pcap" 2>&1)
	expect_eq missing_exit "$?" 1
	case $out in *"No such file"*) ;; *) fail "missing said: $out" ;; esac
	# A link type the program cannot be given (802.11, 105), one frame.
	{ printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x69\x00\x00\x00'
	  printf '\x01\x00\x00\x00\x02\x00\x00\x00\x18\x00\x00\x00\x18\x00\x00\x00'
	  head -c 24 /dev/zero; } >"$T/wlan.pcap"
	out=$("$XDPCTL" extract "$T/wlan.pcap" 2>&1)
	expect_eq wlan_exit "$?" 1
	case $out in *"frame 1 refused (link type): link type ieee-802-11"*"not supported"*"refused: link type 1"*) ;;
	*) fail "802.11 said: $out" ;; esac
}

test_full_disk_reported() {
	local out rc
	out=$("$XDPCTL" extract "$T/corpus.pcap" --quiet -o /dev/full 2>&1)
	rc=$?
	expect_eq exit "$rc" 4
	case $out in *"No space left on device"*) ;; *) fail "said: $out" ;; esac
}

test_memory_flat_on_large_capture() {
	"$PCAP" bulk "$T/big.pcap" 200000 || { fail "writing 200000 frames"; return; }
	local rss t0 t1
	t0=$(date +%s.%N)
	/usr/bin/time -f %M -o "$T/rss" "$XDPCTL" extract "$T/big.pcap" \
		--format binary -o "$T/big.bin" --quiet || fail "extract"
	t1=$(date +%s.%N)
	rss=$(cat "$T/rss")
	expect_eq size "$(stat -c %s "$T/big.bin")" $((16 + 200000 * 80))
	# The capture is 19 MB; memory must not follow it.
	[ "$rss" -lt 65536 ] || fail "max RSS $rss KiB for a 200000-frame capture"
	diag "200000 frames in $(echo "$t1 - $t0" | bc -l | cut -c1-5) s, max RSS $rss KiB"
	rm -f "$T/big.pcap" "$T/big.bin"
}

test_live_and_offline_identical() {
	netns_pair 1 || { fail "veth"; return; }
	start_daemon || return
	ctl attach xa1 >/dev/null || fail "attach"
	ip netns exec "$NSA" tcpdump -q -i xa1 -w "$T/live.pcap" -U -c 48 \
		2>/dev/null &
	local tpid=$!
	"$XDPCTL" --socket "$SOCK" tail xa1 --count 44 >"$T/live.ndjson" &
	local lpid=$!
	sleep 0.8
	# 48 frames of the mix: 44 with an IP header, 4 ARP.
	send 1 48 mix --pps 500
	timeout 10 tail --pid=$lpid -f /dev/null || { kill $lpid; fail "live tail hung"; }
	timeout 10 tail --pid=$tpid -f /dev/null || { kill $tpid; fail "tcpdump hung"; }
	"$XDPCTL" extract "$T/live.pcap" --quiet >"$T/offline.ndjson" || fail "extract"
	local keep='del(.ts, .ts_ns, .ktime_ns, .seq, .ring, .ifindex, .queue)'
	# Records of different CPUs' rings may interleave differently.
	jq -c "$keep" "$T/live.ndjson" | sort >"$T/a"
	jq -c "$keep" "$T/offline.ndjson" | sort >"$T/b"
	expect_eq live_count "$(wc -l <"$T/a")" 44
	cmp -s "$T/a" "$T/b" || fail "live and offline records differ: $(diff "$T/a" "$T/b" | head -4)"
	stop_daemon
}

test_numpy_example_reads_live_stream() {
	"$PY" -c 'import numpy' 2>/dev/null || { diag "no numpy"; return; }
	start_daemon || return
	ctl attach xa1 >/dev/null 2>&1
	"$PY" "$SRC/examples/numpy_consumer.py" --socket "$SOCK" --count 24 \
		--json >"$T/np.ndjson" &
	local pid=$!
	sleep 0.8
	send 1 24 udp4 --sport 4242 --dport 53
	timeout 10 tail --pid=$pid -f /dev/null || { kill $pid; fail "consumer hung"; }
	wait $pid || fail "numpy consumer failed"
	expect_eq records "$(wc -l <"$T/np.ndjson")" 24
	expect_eq fields "$(jq -c '[.src,.dst,.sport,.dport,.proto]' "$T/np.ndjson" | sort -u)" \
		'["198.18.1.2","198.18.1.9",4242,53,17]'
	stop_daemon
}

run_case test_corpus_agrees_with_tshark
run_case test_random_damage_agrees_with_tshark
run_case test_link_types_agree_with_tshark
run_case test_pcapng_as_wireshark_writes_it
run_case test_every_frame_accounted
run_case test_pcapng_same_records
run_case test_standard_input
run_case test_formats_round_trip
run_case test_damaged_inputs
run_case test_full_disk_reported
run_case test_memory_flat_on_large_capture
run_case test_live_and_offline_identical
run_case test_numpy_example_reads_live_stream
tap_end
