#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The real daemon and xdpctl on real veth pairs: attach, exact counts,
# record content, detach, two interfaces, refusals, restart and kill -9
# with nothing lost, configuration.
. "$(dirname "$0")/lib.sh"

require_root
netns_pair 1 || skip_all "cannot create a veth pair"
start_daemon || { tap_end; exit 1; }

test_attach_and_exact_counts() {
	local out
	out=$(ctl attach xa1 --mode native) || fail "attach failed: $out"
	case $out in *"native mode"*) ;; *) fail "attach said: $out" ;; esac
	ip -n "$NSA" link show xa1 | grep -q "xdp" || fail "no XDP on xa1"
	[ -e "$PINS/links/xa1" ] || fail "link not pinned at $PINS/links/xa1"

	# 10 rounds of the 12 kinds of xpp-send's mix.
	send 1 120 mix || fail "sending"
	settle
	local s
	s=$(ctl stats --json | jq -c '.interfaces[] | select(.name == "xa1")')
	expect_eq packets "$(jq .packets <<<"$s")" 120
	# mix: udp4 tcp4 icmp4 udp6 tcp6 icmp6 vlan-udp4 qinq-tcp6 frag4 ext6
	#      arp trunc4
	expect_eq ipv4 "$(jq .ipv4 <<<"$s")" 60
	expect_eq ipv6 "$(jq .ipv6 <<<"$s")" 50
	expect_eq vlan "$(jq .vlan <<<"$s")" 20
	expect_eq tcp "$(jq .tcp <<<"$s")" 30
	expect_eq udp "$(jq .udp <<<"$s")" 60
	expect_eq icmp "$(jq .icmp <<<"$s")" 20
	expect_eq other "$(jq .other <<<"$s")" 0
	expect_eq not_ip "$(jq .not_ip <<<"$s")" 10
	expect_eq records "$(jq .records <<<"$s")" 110
	expect_eq records_lost "$(jq .records_lost <<<"$s")" 0
	expect_eq records_skipped "$(jq .records_skipped <<<"$s")" 0
	expect_eq ip_trunc "$(jq .malformed.ip_trunc <<<"$s")" 10
	expect_eq mode "$(jq -r .mode <<<"$s")" native
	expect_eq totals.packets "$(ctl stats --json | jq .totals.packets)" 120
	local d
	d=$(ctl stats --json | jq -c .daemon)
	expect_eq delivered "$(jq .records_delivered <<<"$d")" 110
	expect_eq latency_count "$(jq .delivery_latency_ns.count <<<"$d")" 110
	[ "$(jq .delivery_latency_ns.p99 <<<"$d")" -gt 0 ] ||
		fail "delivery latency p99 is 0"
	# The human table lists the interface with the same packet count.
	ctl stats | awk '$1 == "xa1" { print $3 }' | grep -qx 120 ||
		fail "stats table: $(ctl stats)"
	# Every live frame stamped by the kernel clock, none by the NIC.
	expect_eq ts.source "$(jq -r .timestamps.source <<<"$d")" kernel
	expect_eq ts.clock "$(jq -r .timestamps.clock <<<"$d")" CLOCK_MONOTONIC
	expect_eq ts.nic "$(jq .timestamps.nic <<<"$d")" false
	expect_eq ts_kernel "$(jq .ts_kernel <<<"$s")" 120
	expect_eq ts_nic "$(jq .ts_nic <<<"$s")" 0
	expect_eq ts_capture "$(jq .ts_capture <<<"$s")" 0
	expect_eq totals.ts_kernel "$(ctl stats --json | jq .totals.ts_kernel)" 120
	ctl stats | grep -q "^  xa1 .* 120 by the kernel clock, 0 by the NIC" ||
		fail "stats table, timestamps: $(ctl stats)"
}

test_record_content() {
	local out
	"$XDPCTL" --socket "$SOCK" tail xa1 --count 4 >"$T/tail.ndjson" &
	local pid=$!
	sleep 0.3
	send 1 2 udp4 --sport 1111 --dport 53
	send 1 1 tcp6 --sport 2222 --dport 443 --src 2001:2::2 --dst 2001:2::9
	send 1 1 vlan-udp4 --sport 3333 --dport 9
	if ! timeout 5 tail --pid=$pid -f /dev/null; then
		kill $pid
		fail "tail did not end after 4 records; got: $(cat "$T/tail.ndjson")"
		return
	fi
	wait $pid || fail "xdpctl tail failed"
	expect_eq lines "$(wc -l <"$T/tail.ndjson")" 4
	out=$(jq -c '[.src,.dst,.proto,.sport,.dport,.ip_version,.frame_len,.ip_len,.ttl,.vlan,.flags]' "$T/tail.ndjson")
	expect_eq records "$out" '["198.18.1.2","198.18.1.9",17,1111,53,4,60,46,64,0,[]]
["198.18.1.2","198.18.1.9",17,1111,53,4,60,46,64,0,[]]
["2001:2::2","2001:2::9",6,2222,443,6,74,20,64,0,[]]
["198.18.1.2","198.18.1.9",17,3333,9,4,64,46,64,100,["vlan"]]'
	expect_eq tcp "$(sed -n 3p "$T/tail.ndjson" | jq -c '[.tcp_flags,.tcp_window]')" '[18,65535]'
	# Sequence numbers of one ring are consecutive.
	jq -s -e 'group_by(.ring) | all(.[]; [.[].seq] as $s |
		$s == [range($s[0]; $s[0] + ($s | length))])' \
		"$T/tail.ndjson" >/dev/null || fail "seq gaps: $(jq -c '[.ring,.seq]' "$T/tail.ndjson")"
	# ts is RFC 3339 with nanoseconds and agrees with ts_ns.
	jq -e -s 'all(.[]; (.ts | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{9}Z$")))' \
		"$T/tail.ndjson" >/dev/null || fail "ts format: $(head -1 "$T/tail.ndjson")"
}

test_csv_tail() {
	"$XDPCTL" --socket "$SOCK" tail xa1 --count 2 --format csv >"$T/tail.csv" &
	local pid=$!
	sleep 0.3
	send 1 2 icmp4
	timeout 5 tail --pid=$pid -f /dev/null || { kill $pid; fail "csv tail hung"; return; }
	expect_eq header "$(head -1 "$T/tail.csv" | cut -d, -f1-3)" "ts,ts_ns,ktime_ns"
	expect_eq rows "$(tail -n +2 "$T/tail.csv" | wc -l)" 2
	expect_eq icmp "$(tail -n 1 "$T/tail.csv" | cut -d, -f9-12)" "1,198.18.1.2,198.18.1.9,8"
}

# Each encapsulation between Ethernet and IP, live: one frame of each
# kind, its record field by field and the counters that name it.
test_encapsulations_live() {
	netns_pair 5 || { fail "veth"; return; }
	ctl attach xa5 >/dev/null || { fail "attach xa5"; return; }
	"$XDPCTL" --socket "$SOCK" tail xa5 --count 6 >"$T/encap.ndjson" &
	local pid=$! v6=(--src 2001:2::2 --dst 2001:2::9)
	sleep 0.3
	send 5 1 mpls4 --sport 1001 --dport 53
	send 5 1 mpls6 --sport 1002 --dport 443 "${v6[@]}"
	send 5 1 pppoe4 --sport 1003 --dport 67
	send 5 1 pppoe6 --sport 1004 --dport 547 "${v6[@]}"
	send 5 1 snap4 --sport 1005 --dport 80
	send 5 1 vlan-snap4 --sport 1006 --dport 9
	if ! timeout 5 tail --pid=$pid -f /dev/null; then
		kill $pid
		fail "tail did not end after 6 records; got: $(cat "$T/encap.ndjson")"
		return
	fi
	wait $pid || fail "xdpctl tail failed"
	# Records of different rings may come in another order: by port.
	expect_eq records "$(jq -s -c 'sort_by(.sport)[] | [.src,.dst,.proto,.sport,.dport,.ip_version,.frame_len,.ip_len,.ttl,.tcp_flags,.tcp_window,.vlan,.flags]' "$T/encap.ndjson")" \
'["198.18.5.2","198.18.5.9",17,1001,53,4,64,46,64,0,0,0,["mpls"]]
["2001:2::2","2001:2::9",6,1002,443,6,82,20,64,16,1024,0,["mpls"]]
["198.18.5.2","198.18.5.9",17,1003,67,4,68,46,64,0,0,0,["pppoe"]]
["2001:2::2","2001:2::9",17,1004,547,6,88,26,64,0,0,0,["pppoe"]]
["198.18.5.2","198.18.5.9",6,1005,80,4,62,40,64,2,64240,0,["llc_snap"]]
["198.18.5.2","198.18.5.9",17,1006,9,4,72,46,64,0,0,100,["vlan","llc_snap"]]'
	settle
	local s
	s=$(ctl stats --json | jq -c '.interfaces[] | select(.name == "xa5")')
	expect_eq counters "$(jq -c '[.packets,.bytes,.ipv4,.ipv6,.tcp,.udp,.vlan,.mpls,.pppoe,.llc_snap,.not_ip,.records]' <<<"$s")" \
		"[6,436,4,2,2,4,1,2,2,2,0,6]"
	expect_eq malformed "$(jq '[.malformed[]] | add' <<<"$s")" 0
	ctl detach xa5 >/dev/null || fail "detach xa5"
}

test_attach_twice_refused() {
	local out rc
	out=$(ctl attach xa1 2>&1)
	rc=$?
	expect_eq exit "$rc" 1
	case $out in *already_attached*) ;; *) fail "said: $out" ;; esac
}

test_attach_missing_interface() {
	local out rc
	out=$(ctl attach nosuch0 2>&1)
	rc=$?
	expect_eq exit "$rc" 1
	case $out in *"no interface 'nosuch0'"*no_such_interface*) ;; *) fail "said: $out" ;; esac
}

# An attach the kernel refuses gives back the counters slot it took: lo
# has no native XDP, so each try below fails after the slot was made.
test_refused_attach_releases_counters_slot() {
	local i out slots
	for i in 1 2 3; do
		out=$(ctl attach lo --mode native 2>&1) && { fail "lo attached natively"; return; }
		case $out in *attach_failed*) ;; *) fail "said: $out" ;; esac
	done
	# xpp_ifslots maps ifindex to slot: lo (ifindex 1) must not be there.
	slots=$(/usr/sbin/bpftool -j map dump pinned "$PINS/xpp_ifslots") ||
		{ fail "bpftool map dump"; return; }
	expect_eq lo_slot "$(jq '[.[] | select(.formatted.key == 1)] | length' <<<"$slots")" 0
}

test_attach_foreign_program_refused() {
	netns_pair 3 || { fail "veth"; return; }
	ip -n "$NSA" link set dev xa3 xdpgeneric obj "$BUILD/bpf/xpp_drop.o" sec xdp ||
		{ fail "cannot load a foreign program"; return; }
	local id out rc
	id=$(ip -n "$NSA" -d link show xa3 | grep -o 'prog/xdp id [0-9]*' | awk '{print $3}')
	out=$(ctl attach xa3 2>&1)
	rc=$?
	expect_eq exit "$rc" 1
	case $out in *"program 'xpp_drop' (id $id)"*foreign_program*) ;; *) fail "said: $out" ;; esac
	# Still the foreign program, untouched.
	ip -n "$NSA" -d link show xa3 | grep -q "prog/xdp id $id" || fail "foreign program replaced"
	ip -n "$NSA" link set dev xa3 xdpgeneric off
}

test_two_interfaces() {
	netns_pair 2 || { fail "veth"; return; }
	ctl attach xa2 --mode generic >/dev/null || fail "attach xa2"
	local before
	before=$(istat xa1 .packets)
	send 2 37 udp6
	send 1 11 tcp4
	settle
	expect_eq xa2.packets "$(istat xa2 .packets)" 37
	expect_eq xa2.udp "$(istat xa2 .udp)" 37
	expect_eq xa2.mode "$(istat xa2 .mode)" generic
	expect_eq xa1.packets "$(istat xa1 .packets)" $((before + 11))
	expect_eq list "$(ctl list --json | jq -r '[.interfaces[].name] | sort | join(",")')" "xa1,xa2"
	expect_eq totals "$(ctl stats --json | jq '.totals.packets')" \
		"$(ctl stats --json | jq '[.interfaces[].packets] | add')"
}

test_detach() {
	ctl detach xa2 >/dev/null || fail "detach xa2"
	[ -e "$PINS/links/xa2" ] && fail "pin of xa2 left behind"
	ip -n "$NSA" link show xa2 | grep -q " xdp" && fail "XDP still on xa2"
	expect_eq listed "$(ctl list --json | jq -r '[.interfaces[].name] | join(",")')" "xa1"
	local out rc
	out=$(ctl detach xa2 2>&1)
	rc=$?
	expect_eq exit "$rc" 1
	case $out in *not_attached*) ;; *) fail "second detach said: $out" ;; esac
	# Reattach: counters start again from zero.
	ctl attach xa2 >/dev/null || fail "reattach"
	send 2 5 udp4
	settle
	expect_eq packets "$(istat xa2 .packets)" 5
	ctl detach xa2 >/dev/null
}

test_restart_keeps_attachment_and_records() {
	local pk rec
	settle
	pk=$(istat xa1 .packets)
	rec=$(istat xa1 .records)
	stop_daemon
	# The datapath runs on without the daemon; records wait in the ring.
	send 1 25 udp4
	ip -n "$NSA" link show xa1 | grep -q " xdp" || fail "XDP gone with the daemon"
	start_daemon || return
	settle
	expect_eq packets "$(istat xa1 .packets)" $((pk + 25))
	expect_eq records "$(istat xa1 .records)" $((rec + 25))
	expect_eq delivered_after_restart \
		"$(ctl stats --json | jq .daemon.records_delivered)" 25
	grep -q "adopted attachment of interface xa1" "$T/daemon.log" ||
		fail "no adoption message in the log"
}

test_kill9_under_traffic_loses_nothing() {
	local pk rec lost tot0 tot1
	settle
	pk=$(istat xa1 .packets)
	rec=$(istat xa1 .records)
	lost=$(istat xa1 .records_lost)
	tot0=$(ctl stats --json | jq '.daemon.records_delivered_total')
	# 3000 frames over about 1.5 s; the daemon dies in the middle.
	send 1 3000 udp4 --pps 2000 --max-seconds 20 &
	local spid=$!
	sleep 0.5
	kill9_daemon
	sleep 0.3
	start_daemon || { wait $spid; return; }
	wait $spid || fail "sender failed"
	settle
	local p r l
	p=$(istat xa1 .packets)
	r=$(istat xa1 .records)
	l=$(istat xa1 .records_lost)
	expect_eq packets "$p" $((pk + 3000))
	# Every frame is a record written or a record counted as lost ...
	expect_eq records+lost "$((r + l))" $((rec + lost + 3000))
	# ... and every record written was drained from the ring.
	tot1=$(ctl stats --json | jq '.daemon.records_delivered_total')
	expect_eq drained "$((tot1 - tot0))" "$((r - rec))"
	expect_eq attached "$(ctl list --json | jq -r '.interfaces[].name')" xa1
}

test_config_set_sample() {
	local rec
	ctl config set sample=4 >/dev/null || fail "config set sample=4"
	expect_eq get "$(ctl config get sample)" 4
	settle
	rec=$(istat xa1 .records)
	send 1 40 udp4
	settle
	# Per-CPU count: the frames of one sender may land on both CPUs.
	local got=$(($(istat xa1 .records) - rec))
	[ "$got" -ge 10 ] && [ "$got" -le 12 ] || fail "sampled $got of 40 at 1/4"
	ctl config set sample=1 >/dev/null
	local out rc
	out=$(ctl config set sample=0 2>&1)
	rc=$?
	expect_eq exit "$rc" 1
	case $out in *"sample '0'"*bad_config*) ;; *) fail "said: $out" ;; esac
	ctl config set wakeup_bytes=16k >/dev/null || fail "config set wakeup_bytes"
	[ "$(ctl config get wakeup_bytes)" = "16K" ] ||
		fail "wakeup_bytes reads back as $(ctl config get wakeup_bytes)"
	out=$(ctl config set wakeup_bytes=2G 2>&1) && fail "wakeup_bytes=2G taken"
	case $out in *"wakeup_bytes '2G'"*) ;; *) fail "no clear error: $out" ;; esac
	ctl config set wakeup_bytes=0 >/dev/null
	out=$(ctl config set pin_root=/tmp 2>&1)
	case $out in *"cannot change at run time"*) ;; *) fail "said: $out" ;; esac
	expect_eq unchanged "$(ctl config get sample)" 1
}

# A ring that fills to its wakeup mark wakes the daemon at once (one
# token per crossing), whatever the flush interval.
# The waiting daemon is woken by the first record, at most once per
# record, whatever the old timer and mark keys say (they do nothing now).
test_waiting_daemon_woken() {
	local w0 w1 d0 d1
	ctl config set flush_interval_ms=1000 wakeup_bytes=720 >/dev/null ||
		{ fail "config set"; return; }
	settle
	w0=$(ctl stats --json | jq .daemon.ring_wakeups)
	d0=$(ctl stats --json | jq .daemon.records_delivered)
	send 1 40 udp4
	sleep 0.3
	w1=$(ctl stats --json | jq .daemon.ring_wakeups)
	d1=$(ctl stats --json | jq .daemon.records_delivered)
	[ "$((w1 - w0))" -ge 1 ] || fail "no wakeup: $w0 -> $w1"
	[ "$((w1 - w0))" -le 40 ] || fail "more wakeups than records: $w0 -> $w1"
	expect_eq delivered_at_once "$((d1 - d0))" 40
	ctl config set flush_interval_ms=5 wakeup_bytes=0 >/dev/null
	settle
}

test_config_filter_and_drop() {
	ctl config set filter_proto=tcp verdict=drop >/dev/null || fail "config set"
	local drop0 skip0
	drop0=$(istat xa1 .dropped)
	skip0=$(istat xa1 .filtered)
	send 1 6 tcp4
	send 1 4 udp4
	settle
	expect_eq dropped "$(($(istat xa1 .dropped) - drop0))" 6
	expect_eq filtered "$(($(istat xa1 .filtered) - skip0))" 4
	ctl config set filter_proto=any verdict=pass >/dev/null
	expect_eq get "$(ctl config get filter_proto)" any
}

test_reload_on_sighup() {
	printf 'sample = 7\nflush_interval_ms = 3\n' >"$CONF"
	kill -HUP "$DAEMON_PID"
	local i
	for i in $(seq 50); do
		[ "$(ctl config get sample)" = 7 ] && break
		sleep 0.05
	done
	expect_eq sample "$(ctl config get sample)" 7
	expect_eq flush "$(ctl config get flush_interval_ms)" 3
	: >"$CONF"
	kill -HUP "$DAEMON_PID"
	sleep 0.2
	expect_eq sample_back "$(ctl config get sample)" 1
	# Start-only keys in the file: the running values stay, the log
	# names the keys, the runtime key beside them is applied.
	local ring mx ipfix
	ring=$(ctl config get ring_size)
	mx=$(ctl config get metrics_listen)
	ipfix=$(ctl config get ipfix_collector)
	printf 'ring_size = 64M
metrics_listen = 9999
ipfix_collector = [2001:2::9]:4739/tcp
ipfix_queue = 32
sample = 5
' >"$CONF"
	kill -HUP "$DAEMON_PID"
	for i in $(seq 50); do
		[ "$(ctl config get sample)" = 5 ] && break
		sleep 0.05
	done
	expect_eq sample_applied "$(ctl config get sample)" 5
	expect_eq ring_kept "$(ctl config get ring_size)" "$ring"
	expect_eq metrics_kept "$(ctl config get metrics_listen)" "$mx"
	expect_eq ipfix_kept "$(ctl config get ipfix_collector)" "$ipfix"
	grep -q 'ring_size.*next restart' "$T/daemon.log" ||
		fail "no warning naming ring_size"
	grep -q 'ipfix_.*next restart' "$T/daemon.log" ||
		fail "no warning naming the ipfix keys"
	: >"$CONF"
	kill -HUP "$DAEMON_PID"
	sleep 0.2
}

test_interface_gone_and_back() {
	netns_pair 4 || { fail "veth"; return; }
	ctl attach xa4 >/dev/null || { fail "attach xa4"; return; }
	ip -n "$NSA" link del xa4
	local i
	for i in $(seq 50); do
		ctl list --json | jq -e '[.interfaces[].name] | index("xa4") == null' \
			>/dev/null && break
		sleep 0.05
	done
	ctl list --json | jq -e '[.interfaces[].name] | index("xa4") == null' >/dev/null ||
		fail "xa4 still listed after it was deleted"
	[ -e "$PINS/links/xa4" ] && fail "stale pin of xa4 left"
	grep -q "interface xa4 (ifindex [0-9]*) disappeared" "$T/daemon.log" ||
		fail "disappearance not logged"
	# Same name again: attached again, and counting.
	ip link add xa4 netns "$NSA" type veth peer xb4 netns "$NSB"
	ip -n "$NSA" link set xa4 up
	ip -n "$NSB" link set xb4 up
	for i in $(seq 50); do
		ctl list --json | jq -e '[.interfaces[].name] | index("xa4") != null' \
			>/dev/null && break
		sleep 0.05
	done
	grep -q "interface xa4 is back; attached again" "$T/daemon.log" ||
		fail "not attached again"
	send 4 7 udp4
	settle
	expect_eq packets "$(istat xa4 .packets)" 7
	# A rename moves the attachment and its pin.
	ip -n "$NSA" link set xa4 down
	ip -n "$NSA" link set xa4 name xa4r
	for i in $(seq 50); do
		[ -e "$PINS/links/xa4r" ] && break
		sleep 0.05
	done
	[ -e "$PINS/links/xa4r" ] || fail "pin not moved to xa4r"
	expect_eq renamed "$(ctl list --json | jq -r '[.interfaces[].name] | map(select(startswith("xa4"))) | join(",")')" xa4r
	ctl detach xa4r >/dev/null || fail "detach xa4r"
}

test_capabilities_dropped_after_start() {
	local st eff prm bnd
	st=/proc/$DAEMON_PID/status
	eff=$(awk '/^CapEff/ {print $2}' "$st")
	prm=$(awk '/^CapPrm/ {print $2}' "$st")
	bnd=$(awk '/^CapBnd/ {print $2}' "$st")
	# CAP_NET_ADMIN (12), CAP_PERFMON (38), CAP_BPF (39); CAP_SYS_ADMIN
	# (21) permitted only, raised to name foreign programs.
	expect_eq CapEff "$eff" 000000c000001000
	expect_eq CapPrm "$prm" 000000c000201000
	expect_eq CapBnd "$bnd" 000000c000201000
	expect_eq NoNewPrivs "$(awk '/^NoNewPrivs/ {print $2}' "$st")" 1
}

run_case test_capabilities_dropped_after_start
run_case test_attach_and_exact_counts
run_case test_record_content
run_case test_csv_tail
run_case test_encapsulations_live
run_case test_attach_twice_refused
run_case test_attach_missing_interface
run_case test_refused_attach_releases_counters_slot
run_case test_attach_foreign_program_refused
run_case test_two_interfaces
run_case test_detach
run_case test_interface_gone_and_back
run_case test_restart_keeps_attachment_and_records
run_case test_kill9_under_traffic_loses_nothing
run_case test_config_set_sample
run_case test_config_filter_and_drop
run_case test_waiting_daemon_woken
run_case test_reload_on_sighup
stop_daemon
tap_end
