#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The daemon sleeps when nothing comes and wakes at once when something
# does (docs/architecture.md, "The reader says when it waits"): an idle
# daemon, with flows off and on, is never woken (no timer of its own; no
# watchdog here), and at a low rate records are delivered within
# microseconds, not at the next tick of a timer.
. "$(dirname "$0")/lib.sh"

require_root
netns_pair 1 || skip_all "cannot create a veth pair"
start_daemon || { tap_end; exit 1; }
ctl attach xa1 >/dev/null || { fail "attach"; tap_end; exit 1; }

ctxsw() {
	awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$DAEMON_PID/status"
}

# expect_idle WHAT: no voluntary context switch (a wakeup from a block)
# in 4 s. libev caps a wait at 59.7 s, so of two windows back to back at
# least one has none of its own wakeups: a daemon that wakes even once
# every 4 s fails both.
expect_idle() {
	local a b c
	sleep 0.5 # what the last command left to do
	a=$(ctxsw)
	sleep 4
	b=$(ctxsw)
	[ "$b" = "$a" ] && return 0
	sleep 4
	c=$(ctxsw)
	[ "$c" = "$b" ] ||
		fail "$1: the idle daemon woke $((b - a)) and $((c - b)) times in two 4-s windows"
}

test_idle_no_wakeups() {
	expect_idle "records"
}

test_idle_flows_on_no_wakeups() {
	ctl config set flows=on idle_timeout=1 >/dev/null || fail "flows on"
	# A flow to expire first: the scan runs while the table holds it,
	# then parks once the table is empty again.
	send 1 3 udp4 || fail "sending"
	local i
	for i in $(seq 60); do
		[ "$(ctl stats --json | jq '.daemon.flows.exported | add')" -ge 1 ] &&
			break
		sleep 0.1
	done
	[ "$i" -lt 60 ] || fail "the idle flow was not exported within 6 s"
	sleep 1.2 # the scan that finds the table empty
	expect_idle "flows on"
	# Parked, a new flow still wakes the scan and ends idle.
	local before
	before=$(ctl stats --json | jq '.daemon.flows.exported | add')
	send 1 2 udp4 --sport 4444 || fail "sending"
	for i in $(seq 60); do
		[ "$(ctl stats --json | jq '.daemon.flows.exported | add')" -gt "$before" ] &&
			break
		sleep 0.1
	done
	[ "$i" -lt 60 ] || fail "a flow begun while parked did not end within 6 s"
	ctl config set flows=off >/dev/null || fail "flows off"
}

test_low_rate_latency() {
	stop_daemon
	rm -rf "$PINS"
	start_daemon || return
	ctl attach xa1 >/dev/null || { fail "attach"; return; }
	send 1 600 udp4 --pps 200 --max-seconds 20 || fail "sending"
	settle
	local lat count p50 p99
	lat=$(ctl stats --json | jq -c '.daemon.delivery_latency_ns')
	diag "delivery latency at 200 packets/s (ns): $lat"
	count=$(jq .count <<<"$lat")
	p50=$(jq .p50 <<<"$lat")
	p99=$(jq .p99 <<<"$lat")
	expect_eq records "$count" 600
	[ "$p99" -lt 1000000 ] || fail "p99 $p99 ns, want under 1 ms"
	[ "$p50" -lt 500000 ] || fail "p50 $p50 ns, want under 0.5 ms"
}

run_case test_idle_no_wakeups
run_case test_idle_flows_on_no_wakeups
run_case test_low_rate_latency
stop_daemon
tap_end
