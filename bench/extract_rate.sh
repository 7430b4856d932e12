#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Offline extraction rate: `xdpctl extract` on a capture of N frames (a mix
# of UDP, TCP, IPv6 with an extension header and VLAN ICMP), each format,
# against reading the same file with libpcap alone (tcpdump -r -w
# /dev/null) in the same run. Prints min/median/max frames/s over R runs.
#
#   sudo bench/extract_rate.sh [FRAMES] [RUNS]      (default 1000000 3)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
B=${XPP_BUILDDIR:-$top/build}
N=${1:-1000000}
R=${2:-3}
T=$(mktemp -d /tmp/xpp-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT

"$B/tests/xpp-pcap" bulk "$T/bulk.pcap" "$N"
echo "capture: $N frames, $(($(stat -c %s "$T/bulk.pcap") / 1048576)) MiB"

stats() { # values... -> min median max
	printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.0f %.0f %.0f", a[1], a[int((NR+1)/2)], a[NR]}'
}

run() { # label command...
	local label=$1 i t0 t1 rates=()
	shift
	for i in $(seq "$R"); do
		t0=$(date +%s.%N)
		"$@" >/dev/null 2>&1
		t1=$(date +%s.%N)
		rates+=("$(echo "$N / ($t1 - $t0)" | bc -l)")
	done
	read -r mn md mx <<<"$(stats "${rates[@]}")"
	printf '%-28s %12s %12s %12s\n' "$label" "$mn" "$md" "$mx"
	echo "$md" >"$T/$label.median"
}

printf '%-28s %12s %12s %12s\n' "frames/s" min median max
run libpcap-read tcpdump -r "$T/bulk.pcap" -w /dev/null
run extract-binary "$B/ctl/xdpctl" extract "$T/bulk.pcap" --format binary -o "$T/out.bin" --quiet
run extract-ndjson "$B/ctl/xdpctl" extract "$T/bulk.pcap" -o "$T/out.ndjson" --quiet
run extract-csv "$B/ctl/xdpctl" extract "$T/bulk.pcap" --format csv -o "$T/out.csv" --quiet
base=$(cat "$T/libpcap-read.median")
for f in binary ndjson csv; do
	printf 'extract-%s / libpcap-read: %.3f\n' "$f" \
		"$(echo "$(cat "$T/extract-$f.median") / $base" | bc -l)"
done
