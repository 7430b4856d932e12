#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Daemon CPU with 0, 1, 10 and 100 NDJSON subscribers attached, at a fixed
# offered load on a veth pair between two private namespaces
# (198.18.0.0/15). Every subscriber reads everything (socat to /dev/null).
# CPU is the daemon's utime+stime over the traffic window, from
# /proc/PID/stat; each point runs R times, min/median/max printed, and the
# ratio of each median to the 0-subscriber median.
#
#   sudo bench/subscribers_cpu.sh [PPS] [SECONDS] [RUNS]   (default 20000 5 3)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
B=${XPP_BUILDDIR:-$top/build}
PPS=${1:-20000}
SECS=${2:-5}
R=${3:-3}
T=$(mktemp -d /tmp/xpp-bench.XXXXXX)
NSA=xppbench-a-$$
NSB=xppbench-b-$$
DPID=
SUBS=()

cleanup() {
	set +e
	[ ${#SUBS[@]} -gt 0 ] && kill "${SUBS[@]}" 2>/dev/null
	[ -n "$DPID" ] && kill "$DPID" && wait "$DPID" 2>/dev/null
	rm -rf "$T/bpf/pins"
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	mountpoint -q "$T/bpf" && umount "$T/bpf"
	rm -rf "$T"
}
trap cleanup EXIT

ip netns add "$NSA"
ip netns add "$NSB"
for ns in "$NSA" "$NSB"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
done
ip link add b0 netns "$NSA" type veth peer b1 netns "$NSB"
ip -n "$NSA" link set b0 up
ip -n "$NSB" link set b1 up
printf 'max_subscribers = 200\nmax_clients = 300\n' >"$T/conf"
nsenter --net="/run/netns/$NSA" "$B/daemon/xdp-preprocd" --config "$T/conf" \
	--pin-root "$T/bpf/pins" --socket "$T/sock" --log-level warning &
DPID=$!
for _ in $(seq 100); do
	"$B/ctl/xdpctl" -s "$T/sock" version >/dev/null 2>&1 && break
	sleep 0.05
done
"$B/ctl/xdpctl" -s "$T/sock" attach b0 >/dev/null
hz=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$DPID/stat"; }

stats() {
	printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.2f %.2f %.2f", a[1], a[int((NR+1)/2)], a[NR]}'
}

printf 'offered %d frames/s for %ds, %d runs; daemon CPU %% of one core\n' "$PPS" "$SECS" "$R"
printf '%-12s %8s %8s %8s %10s %14s\n' subscribers min median max "vs 0" "records/s/sub"
base=
for n in 0 1 10 100; do
	SUBS=()
	for _ in $(seq "$n"); do
		(echo '{"cmd":"subscribe","format":"ndjson"}'; sleep $((SECS * R + 30))) |
			socat - "UNIX-CONNECT:$T/sock" >/dev/null 2>&1 &
		SUBS+=($!)
	done
	sleep 1
	vals=()
	for _ in $(seq "$R"); do
		c0=$(cpu_ticks)
		ip netns exec "$NSB" "$B/tests/xpp-send" --iface b1 --kind udp4 \
			--count $((PPS * SECS)) --pps "$PPS" --max-seconds $((SECS * 2)) \
			--src 198.18.0.2 --dst 198.18.0.9 >/dev/null
		c1=$(cpu_ticks)
		vals+=("$(echo "($c1 - $c0) * 100 / $hz / $SECS" | bc -l)")
	done
	read -r mn md mx <<<"$(stats "${vals[@]}")"
	[ -n "$base" ] || base=$md
	ratio=$(echo "if ($base > 0) $md / $base else 0" | bc -l)
	lost=$("$B/ctl/xdpctl" -s "$T/sock" stats --json | jq '[.subscribers[].lost] | add // 0')
	printf '%-12s %8s %8s %8s %9.1fx %14s  (subscriber loss: %s)\n' "$n" "$mn" "$md" "$mx" "$ratio" "$PPS" "$lost"
	if [ "$n" -gt 0 ]; then
		kill "${SUBS[@]}" 2>/dev/null
		# Only these: a bare wait would wait for the daemon too.
		wait "${SUBS[@]}" 2>/dev/null || true
	fi
	sleep 0.5
done
