#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Soak: traffic for XPP_SOAK_SECONDS (default 40) while the daemon is
# stopped and started, killed with SIGKILL, reloaded, and subscribers come
# and go. At the end every frame sent is counted, every IP frame is a
# record written or counted as lost, and every record written was drained.
# Bounded in frames and seconds.
. "$(dirname "$0")/lib.sh"

require_root
SECS=${XPP_SOAK_SECONDS:-40}
PPS=3000
netns_pair 1 || skip_all "cannot create a veth pair"
start_daemon || { tap_end; exit 1; }
ctl attach xa1 >/dev/null || { fail "attach"; tap_end; exit 1; }

test_soak_balances_exactly() {
	local n=$((SECS * PPS)) tot0 faults=0 subs=0 spid i
	tot0=$(ctl stats --json | jq '.daemon.records_delivered_total')
	send 1 $n mix --pps $PPS --max-seconds $((SECS * 2)) &
	spid=$!
	i=0
	while kill -0 $spid 2>/dev/null; do
		sleep 2.5
		kill -0 $spid 2>/dev/null || break
		case $((i++ % 4)) in
		0) stop_daemon; sleep 0.5; start_daemon || break ;;
		1) kill9_daemon; sleep 0.5; start_daemon || break ;;
		2) kill -HUP "$DAEMON_PID" ;;
		3)
			local pids=() k
			for k in $(seq 20); do
				"$XDPCTL" --socket "$SOCK" tail xa1 \
					--format "$(shuf -n1 -e ndjson csv binary)" \
					>/dev/null 2>&1 &
				pids+=($!)
			done
			sleep 1
			kill "${pids[@]}" 2>/dev/null
			wait "${pids[@]}" 2>/dev/null
			subs=$((subs + 20))
			;;
		esac
		faults=$((faults + 1))
	done
	wait $spid || fail "sender failed"
	[ -n "$DAEMON_PID" ] || start_daemon
	settle
	local s p ip rec lost tot1
	s=$(ctl stats --json)
	p=$(jq '.interfaces[0].packets' <<<"$s")
	ip=$(jq '.interfaces[0] | .ipv4 + .ipv6' <<<"$s")
	rec=$(jq '.interfaces[0].records' <<<"$s")
	lost=$(jq '.interfaces[0].records_lost' <<<"$s")
	tot1=$(jq '.daemon.records_delivered_total' <<<"$s")
	diag "$n frames in ${SECS}s, $faults faults ($subs subscribers), records $rec, lost $lost"
	expect_eq packets "$p" "$n"
	# xpp-send's mix: 11 of every 12 frames have an IP header.
	expect_eq ip_frames "$ip" $((n / 12 * 11 + (n % 12 < 11 ? n % 12 : 11)))
	expect_eq records+lost "$((rec + lost))" "$ip"
	expect_eq drained "$((tot1 - tot0))" "$rec"
	[ "$faults" -ge 4 ] || fail "only $faults faults injected"
	kill -0 "$DAEMON_PID" || fail "daemon not running at the end"
}

run_case test_soak_balances_exactly
stop_daemon
tap_end
