#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# xdpctl extract --flows against the independent Python reference
# (tests/flows/flow_ref.py: tshark, its own pcap/pcapng reader, the walk
# of docs/record.md): exact agreement, every field of every flow, on the
# crafted captures, on the captures kept in tests/fuzz/corpus/pcap and on
# the ones xpp-pcap builds for the other tests; an option matrix; the
# binary dtype of docs/flows.md; CSV and NFStream's columns; refused
# frames; and every TCP and UDP frame tshark counts in exactly one flow of
# its 5-tuple.
. "$(dirname "$0")/lib.sh"

require_root
command -v tshark >/dev/null || skip_all "needs tshark (scripts/install-deps)"
PY=/usr/bin/python3
"$PY" -c 'import numpy' 2>/dev/null || skip_all "needs python3-numpy"
SRC=${XPP_SRCDIR:?}
FLOWS=$SRC/tests/flows
PCAP=$BUILD/tests/xpp-pcap
KEPT=$SRC/tests/fuzz/corpus/pcap

# Captures the other tests build, made once here.
"$PY" "$FLOWS/make_captures.py" "$T/caps" >/dev/null ||
	skip_all "cannot write the crafted captures"
mkdir -p "$T/built"
{
	"$PCAP" corpus "$T/built/corpus.pcap" &&
		"$PCAP" pcapng "$T/built/ng.pcapng" &&
		"$PCAP" fuzz "$T/built/fuzz11.pcap" 4000 11 &&
		for lt in fcs 113 276 12 14 101 228 229 0 108; do
			"$PCAP" link "$T/built/link$lt.pcap" $lt || exit 1
		done
} || skip_all "xpp-pcap cannot write a capture"

# extract CAPTURE [OPTIONS...]: xdpctl extract. libwiretap 4.0 leaks 2 KiB
# reading the damaged name resolution block of nrb-bad-option.pcapng
# (tests/fuzz/fuzz_pcap.c says how): for that capture alone its allocation
# site is suppressed, so that the suite's ASan build still checks every
# other run for leaks of ours (a capture's own Buffer comes from the same
# ws_buffer_init).
printf 'leak:ws_buffer_init\n' >"$T/wiretap-leak.supp"
extract() {
	case $1 in
	*/nrb-bad-option.pcapng)
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0" \
			LSAN_OPTIONS="suppressions=$T/wiretap-leak.supp" \
			"$XDPCTL" extract "$@" ;;
	*) "$XDPCTL" extract "$@" ;;
	esac
}

# One line of a command's output for a TAP diagnostic.
oneline() { tail -"$1" | tr '\n' ' '; }

# agree NAME CAPTURE [OPTIONS...]: extract --flows and the reference with
# the same options exit alike (1 where frames are refused or the file is
# damaged) and write the same flows, every field exactly equal.
agree() {
	local name=$1 cap=$2 rc_c rc_r out
	shift 2
	extract "$cap" --flows --quiet "$@" >"$T/$name.c.ndjson" \
		2>"$T/$name.c.err"
	rc_c=$?
	"$PY" "$FLOWS/flow_ref.py" "$cap" "$@" >"$T/$name.r.ndjson" \
		2>"$T/$name.r.err"
	rc_r=$?
	if [ "$rc_c" -gt 1 ] || [ "$rc_r" -gt 1 ] || [ "$rc_c" != "$rc_r" ]; then
		fail "$name $*: extract exits $rc_c ($(oneline 2 <"$T/$name.c.err")), the reference $rc_r ($(oneline 2 <"$T/$name.r.err"))"
		return 1
	fi
	out=$("$PY" "$FLOWS/compare_flows.py" "$T/$name.c.ndjson" \
		"$T/$name.r.ndjson" 2>&1) ||
		{ fail "$name $*: $(oneline 8 <<<"$out")"; return 1; }
	return 0
}

# agree_all WHAT CAPTURE...: agree on each; one line of what was compared.
agree_all() {
	local what=$1 cap n=0 flows=0
	shift
	for cap in "$@"; do
		agree "$(basename "$cap")" "$cap" || continue
		n=$((n + 1))
		flows=$((flows + $(wc -l <"$T/$(basename "$cap").c.ndjson")))
	done
	diag "$what: $n captures, $flows flows exactly equal"
}

test_reference_self_test() {
	local out
	out=$("$PY" "$FLOWS/test_flow_ref.py" "$T/selftest" 2>&1) ||
		fail "$(oneline 15 <<<"$out")"
	diag "$(tail -1 <<<"$out")"
}

test_crafted_captures_agree() {
	agree_all crafted "$T"/caps/*.pcap "$T"/caps/*.pcapng
}

test_kept_captures_agree() {
	# Every capture kept for the fuzz targets: other link types, FCS,
	# pcapng sections, timestamps refused or oddly encoded, damaged
	# headers and a damaged file. None is excluded: the reference
	# decodes them all.
	agree_all "tests/fuzz/corpus/pcap" "$KEPT"/*
	[ "$(find "$KEPT" -type f | wc -l)" -ge 15 ] ||
		fail "captures missing in $KEPT"
}

test_built_captures_agree() {
	# xpp-pcap's captures of the packet-record tests: the damaged-header
	# corpus, a pcapng of three link types and two sections, 4000
	# randomly damaged frames, the corpus in every link type.
	agree_all xpp-pcap "$T"/built/*
}

test_option_matrix() {
	local mixed=$T/caps/mixed.pcap opts n=0 i=0
	for opts in "--accounting ip" "--accounting transport" \
		"--accounting payload" "--splt 1" "--splt 32" \
		"--idle-timeout 1 --active-timeout 2" \
		"--idle-timeout 2 --active-timeout 1 --accounting payload --splt 32"; do
		i=$((i + 1))
		# shellcheck disable=SC2086 # the options are words
		agree "matrix$i" "$mixed" $opts && n=$((n + 1))
	done
	# The small timeouts end flows for idle and active reasons.
	grep -q '"end_reason":"idle"' "$T/matrix6.c.ndjson" ||
		fail "no idle flow with small timeouts"
	grep -q '"end_reason":"active"' "$T/matrix7.c.ndjson" ||
		fail "no active flow with small timeouts"
	diag "mixed.pcap: $n option sets agree"
}

test_binary_dtype() {
	local mixed=$T/caps/mixed.pcap out
	"$XDPCTL" extract "$mixed" --flows --quiet --format binary \
		--output "$T/flows.bin" || { fail "extract --format binary"; return; }
	"$XDPCTL" extract "$mixed" --flows --quiet >"$T/flows.ndjson" ||
		{ fail "extract"; return; }
	out=$("$PY" "$FLOWS/check_flow_dtype.py" "$SRC/docs/flows.md" \
		"$T/flows.bin" "$T/flows.ndjson" 2>&1) || fail "$(oneline 8 <<<"$out")"
	diag "$(tail -1 <<<"$out")"
}

test_csv_and_nfstream_columns() {
	local cap out f=$T/cols
	for cap in "$T/caps/mixed.pcap" "$KEPT/small.pcapng"; do
		if ! { "$XDPCTL" extract "$cap" --flows --quiet >"$f.ns.ndjson" &&
			"$XDPCTL" extract "$cap" --flows --quiet --format csv \
				>"$f.ns.csv" &&
			"$XDPCTL" extract "$cap" --flows --quiet \
				--columns nfstream >"$f.ms.ndjson" &&
			"$XDPCTL" extract "$cap" --flows --quiet --format csv \
				--columns nfstream >"$f.ms.csv"; }; then
			fail "$cap: extract failed"
			continue
		fi
		out=$("$PY" "$FLOWS/check_columns.py" "$f.ns.ndjson" "$f.ns.csv" \
			"$f.ms.ndjson" "$f.ms.csv" 2>&1) ||
			fail "$(basename "$cap"): $(oneline 8 <<<"$out")"
		diag "$(basename "$cap"): $(tail -1 <<<"$out")"
	done
}

test_refused_frames() {
	# links.pcapng: frame 6 past 2554, frame 8 before 1970. Exit 1, both
	# named, and the flows of the 8 other frames (the reference's).
	local cap=$KEPT/links.pcapng rc packets records
	"$XDPCTL" extract "$cap" --flows --quiet >"$T/refused.ndjson" \
		2>"$T/refused.err"
	rc=$?
	expect_eq exit "$rc" 1
	grep -q "frame 6 refused (after 2554)" "$T/refused.err" ||
		fail "frame 6 not named: $(oneline 5 <"$T/refused.err")"
	grep -q "frame 8 refused (before 1970)" "$T/refused.err" ||
		fail "frame 8 not named: $(oneline 5 <"$T/refused.err")"
	packets=$(jq -s 'map(.bidirectional_packets) | add // 0' \
		"$T/refused.ndjson")
	records=$("$XDPCTL" extract "$cap" --quiet 2>/dev/null | wc -l)
	expect_eq "packets in flows" "$packets" "$records"
	expect_eq "packets in flows" "$packets" 8
	agree refused "$cap"
}

test_every_tcp_udp_frame_in_one_flow() {
	local cap out n=0
	for cap in "$T"/caps/*.pcap "$T"/caps/*.pcapng "$KEPT"/* "$T"/built/*; do
		extract "$cap" --flows --quiet >"$T/tuples.ndjson" 2>/dev/null
		[ $? -le 1 ] || { fail "$cap: extract failed"; continue; }
		out=$("$PY" "$FLOWS/check_tuples.py" "$cap" "$T/tuples.ndjson" \
			2>&1) || { fail "$(oneline 8 <<<"$out")"; continue; }
		n=$((n + 1))
	done
	diag "$n captures: tshark's TCP and UDP frames per 5-tuple are the flows' packets"
}

run_case test_reference_self_test
run_case test_crafted_captures_agree
run_case test_kept_captures_agree
run_case test_built_captures_agree
run_case test_option_matrix
run_case test_binary_dtype
run_case test_csv_and_nfstream_columns
run_case test_refused_frames
run_case test_every_tcp_udp_frame_in_one_flow
tap_end
