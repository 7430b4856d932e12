#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Offline extraction rate: `xdpctl extract` on a capture of N frames (a mix
# of UDP, TCP, IPv6 with an extension header and VLAN ICMP), each format,
# against reading the same file with libpcap alone (tcpdump -r -w
# /dev/null) in the same run. Runs alternate (every variant once, R times
# over), so that a noisy machine weighs on all alike. Prints min/median/max
# frames/s over the R runs.
#
#   sudo bench/extract_rate.sh [FRAMES] [RUNS]      (default 1000000 3)
#
# XPP_BASE_BUILDDIR=DIR adds binary extraction by DIR's xdpctl (another
# build, of another commit) to the alternation, for a before/after.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
B=${XPP_BUILDDIR:-$top/build}
BASE=${XPP_BASE_BUILDDIR:-}
N=${1:-1000000}
R=${2:-3}
T=$(mktemp -d /tmp/xpp-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT

"$B/tests/xpp-pcap" bulk "$T/bulk.pcap" "$N"
echo "capture: $N frames, $(($(stat -c %s "$T/bulk.pcap") / 1048576)) MiB"

stats() { # values... -> min median max
	printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.0f %.0f %.0f", a[1], a[int((NR+1)/2)], a[NR]}'
}

variant() { # label
	local x=$B/ctl/xdpctl
	case $1 in
	libpcap-read) tcpdump -r "$T/bulk.pcap" -w /dev/null ;;
	base-extract-binary)
		"$BASE/ctl/xdpctl" extract "$T/bulk.pcap" --format binary -o "$T/out.bin" --quiet ;;
	extract-binary) "$x" extract "$T/bulk.pcap" --format binary -o "$T/out.bin" --quiet ;;
	extract-ndjson) "$x" extract "$T/bulk.pcap" -o "$T/out.ndjson" --quiet ;;
	extract-csv) "$x" extract "$T/bulk.pcap" --format csv -o "$T/out.csv" --quiet ;;
	esac
}
labels=(libpcap-read ${BASE:+base-extract-binary} extract-binary extract-ndjson extract-csv)

for i in $(seq "$R"); do
	for l in "${labels[@]}"; do
		t0=$(date +%s.%N)
		variant "$l" >/dev/null 2>&1
		t1=$(date +%s.%N)
		echo "$N / ($t1 - $t0)" | bc -l >>"$T/$l.rates"
	done
done

printf '%-28s %12s %12s %12s\n' "frames/s" min median max
for l in "${labels[@]}"; do
	mapfile -t rates <"$T/$l.rates"
	read -r mn md mx <<<"$(stats "${rates[@]}")"
	printf '%-28s %12s %12s %12s\n' "$l" "$mn" "$md" "$mx"
	echo "$md" >"$T/$l.median"
done
base=$(cat "$T/libpcap-read.median")
for f in binary ndjson csv; do
	printf 'extract-%s / libpcap-read: %.3f\n' "$f" \
		"$(echo "$(cat "$T/extract-$f.median") / $base" | bc -l)"
done
[ -z "$BASE" ] ||
	printf 'extract-binary / base-extract-binary: %.3f\n' \
		"$(echo "$(cat "$T/extract-binary.median") / $(cat "$T/base-extract-binary.median")" | bc -l)"
