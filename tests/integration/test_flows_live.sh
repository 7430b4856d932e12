#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Flows live (docs/flows.md): the real daemon with flows = on over a veth
# pair. Both directions of each conversation are sent into the attached
# side (xpp-send with the endpoints swapped), so every packet the kernel
# counts is known: the flows must come out with exact packet counts per
# direction, the right endpoints and the right end reason, in ndjson, csv
# and the binary layout of include/xpp/flow.h; idle flows end without
# another packet; detach, flows = off and shutdown force the rest out.
. "$(dirname "$0")/lib.sh"

require_root
netns_pair 1 || skip_all "cannot create a veth pair"
printf 'flows = on\nidle_timeout = 2\n' >"$CONF"
start_daemon || { tap_end; exit 1; }
ctl attach xa1 >/dev/null || { fail "attach"; tap_end; exit 1; }

A4=198.18.1.2
B4=198.18.1.9
A6=2001:2::2
B6=2001:2::9

# send6 COUNT KIND [options]: as send, with IPv6 endpoints.
send6() {
	local n=$1 kind=$2
	shift 2
	send 1 "$n" "$kind" --src "$A6" --dst "$B6" "$@"
}

# flows_bg NAME [xdpctl flows options]: a flow subscriber in the
# background, its output in $T/NAME; FLOWS_PID is its pid.
flows_bg() {
	local name=$1
	shift
	"$XDPCTL" --socket "$SOCK" flows "$@" >"$T/$name" 2>"$T/$name.err" &
	FLOWS_PID=$!
	# Subscribed once stats counts it.
	wait_flow_subscriber ||
		fail "the flow subscriber did not subscribe: $(cat "$T/$name.err")"
}

# wait_bg PID SECONDS WHAT: the subscriber ends within SECONDS.
wait_bg() {
	if ! timeout "$2" tail --pid="$1" -f /dev/null; then
		kill "$1" 2>/dev/null
		fail "$3: the stream did not end within $2 s"
	fi
	wait "$1" 2>/dev/null
}

# flow FILE PORT: the ndjson flow with PORT as either port.
flow() {
	jq -c --argjson p "$2" 'select(.src_port == $p or .dst_port == $p)' "$1"
}

# expect_flow FILE PORT JQ-TEST: the flow of PORT passes the test.
expect_flow() {
	local f
	f=$(flow "$1" "$2")
	[ -n "$f" ] || { fail "no flow with port $2 in $1: $(cat "$1")"; return; }
	jq -e "$3" <<<"$f" >/dev/null || fail "flow of port $2: want $3, got $f"
}

test_conversations_exact() {
	local t0 t1
	flows_bg conv.ndjson --count 4 --format ndjson
	# UDP: 5 frames out, 3 back.
	send 1 5 udp4 --sport 1111 --dport 2222
	send 1 3 udp4 --src "$B4" --dst "$A4" --sport 2222 --dport 1111
	# TCP SYNs: 4 out, 2 back; the first sender began it.
	send 1 4 tcp4 --sport 3333 --dport 80
	send 1 2 tcp4 --src "$B4" --dst "$A4" --sport 80 --dport 3333
	# IPv6 UDP one way.
	send6 6 udp6 --sport 5555 --dport 53
	# IPv6 SYN-ACKs: the receiver of a first SYN-ACK began the flow.
	send6 2 tcp6 --sport 4444 --dport 443
	t0=$(date +%s.%N)
	# Idle after 2 s, found by the scan within the next second.
	wait_bg "$FLOWS_PID" 8 conversations
	t1=$(date +%s.%N)
	expect_eq flows "$(wc -l <"$T/conv.ndjson")" 4
	expect_flow "$T/conv.ndjson" 1111 '.protocol == 17 and .ip_version == 4
		and .src_ip == "198.18.1.2" and .src_port == 1111
		and .dst_ip == "198.18.1.9" and .dst_port == 2222
		and .bidirectional_packets == 8 and .src2dst_packets == 5
		and .dst2src_packets == 3 and .end_reason == "idle"
		and .accounting == "link" and .src2dst_bytes == 300
		and .dst2src_bytes == 180 and .bidirectional_min_ps == 60'
	expect_flow "$T/conv.ndjson" 3333 '.protocol == 6
		and .src_ip == "198.18.1.2" and .src_port == 3333
		and .dst_port == 80 and .src2dst_packets == 4
		and .dst2src_packets == 2 and .src2dst_syn_packets == 4
		and .dst2src_syn_packets == 2 and .end_reason == "idle"
		and .src2dst_first_window == 64240'
	expect_flow "$T/conv.ndjson" 5555 '.ip_version == 6 and .protocol == 17
		and .src_ip == "2001:2::2" and .dst_ip == "2001:2::9"
		and .dst_port == 53 and .src2dst_packets == 6
		and .dst2src_packets == 0'
	expect_flow "$T/conv.ndjson" 4444 '.ip_version == 6 and .protocol == 6
		and .src_ip == "2001:2::9" and .src_port == 443
		and .dst_ip == "2001:2::2" and .dst_port == 4444
		and .src2dst_packets == 0 and .dst2src_packets == 2'
	# Wall-clock times: within the last minute.
	expect_flow "$T/conv.ndjson" 1111 "(.bidirectional_first_seen_ns / 1e9) > $(date +%s) - 60"
	diag "the flows ended $(awk "BEGIN { print $t1 - $t0 }") s after the last packet"
}

test_idle_expiry_without_packets() {
	local start end
	flows_bg idle.ndjson --count 1
	send 1 1 udp4 --sport 1200 --dport 1201
	start=$(date +%s%N)
	wait_bg "$FLOWS_PID" 8 "idle expiry"
	end=$(date +%s%N)
	expect_flow "$T/idle.ndjson" 1200 '.end_reason == "idle" and .bidirectional_packets == 1
		and .bidirectional_duration_ns == 0'
	# idle_timeout 2 s, a scan a second: not before 2 s, not much after 3.
	[ $(((end - start) / 1000000)) -ge 1900 ] ||
		fail "ended $(((end - start) / 1000000)) ms after its packet, before idle_timeout"
	[ $(((end - start) / 1000000)) -le 4500 ] ||
		fail "ended $(((end - start) / 1000000)) ms after its packet"
}

test_records_off_flows_on() {
	local recs skipped
	ctl config set records=off >/dev/null || fail "records=off"
	expect_eq records_key "$(ctl config get records)" off
	settle
	recs=$(istat xa1 .records)
	skipped=$(istat xa1 .records_skipped)
	ctl tail --count 1 >"$T/norec.ndjson" &
	local tail_pid=$!
	flows_bg norec.flows --count 1
	send 1 7 udp4 --sport 1300 --dport 1301
	wait_bg "$FLOWS_PID" 8 "records off"
	expect_flow "$T/norec.flows" 1300 '.bidirectional_packets == 7'
	settle
	expect_eq records "$(istat xa1 .records)" "$recs"
	expect_eq records_skipped "$(istat xa1 .records_skipped)" $((skipped + 7))
	kill "$tail_pid" 2>/dev/null
	wait "$tail_pid" 2>/dev/null
	expect_eq "records streamed" "$(wc -c <"$T/norec.ndjson")" 0
	ctl config set records=on >/dev/null || fail "records=on"
}

test_csv_and_nfstream_columns() {
	flows_bg flows.csv --count 1 --format csv --columns nfstream
	send 1 2 udp4 --sport 1400 --dport 1401
	wait_bg "$FLOWS_PID" 8 csv
	expect_eq lines "$(wc -l <"$T/flows.csv")" 2
	case $(head -1 "$T/flows.csv") in
	ifindex,vlan_id,ip_version,protocol,src_ip,src_port,dst_ip,dst_port,end_reason,accounting,bidirectional_first_seen_ms,*) ;;
	*) fail "csv header: $(head -1 "$T/flows.csv")" ;;
	esac
	python3 - "$T/flows.csv" <<'PY' || fail "csv: see above"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 1, rows
r = rows[0]
assert r["src_port"] == "1400" and r["dst_port"] == "1401", r
assert r["bidirectional_packets"] == "2" and r["src2dst_packets"] == "2", r
# NFStream's columns: ms, and the SPLT arrays of 8 with -1 after 2.
assert "bidirectional_duration_ms" in r and "bidirectional_duration_ns" not in r
assert r["splt_ps"] == "[60,60,-1,-1,-1,-1,-1,-1]", r["splt_ps"]
PY
}

test_binary_subscription() {
	(sleep 0.3; send 1 3 udp4 --sport 1500 --dport 1501) &
	local snd=$!
	python3 - "$SOCK" <<'PY' || fail "binary stream: see above"
import json, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"cmd":"subscribe","kind":"flows","format":"binary","count":1}\n')
s.settimeout(8)
buf = b""
while True:
    d = s.recv(1 << 16)
    if not d:
        break
    buf += d
line, rest = buf.split(b"\n", 1)
rep = json.loads(line)
assert rep["ok"], rep
res = rep["result"]
assert res["kind"] == "flows" and res["record_size"] == 1048 and \
    res["record_version"] == 1, res
magic, ver, size, flags, _ = struct.unpack_from("<IHHII", rest, 0)
assert magic == 0x52505058, hex(magic)
assert (ver, size) == (1, 1048), (ver, size)
assert flags == 3, flags  # XPP_STREAM_F_WALLCLOCK | XPP_STREAM_F_FLOWS
assert len(rest) == 16 + 1048, len(rest)
r = rest[16:]
version, reason, ipv, proto, ifindex = struct.unpack_from("<BBBBI", r, 0)
src, dst = r[8:24], r[24:40]
sport, dport, vlan, acct, splt_max = struct.unpack_from("<HHHBB", r, 40)
assert (version, reason, ipv, proto) == (1, 1, 4, 17), (version, reason, ipv, proto)
assert src == bytes(10) + b"\xff\xff" + bytes([198, 18, 1, 2]), src
assert dst == bytes(10) + b"\xff\xff" + bytes([198, 18, 1, 9]), dst
assert (sport, dport, vlan, acct, splt_max) == (1500, 1501, 0, 0, 8)
mean_ps = struct.unpack_from("<3d", r, 48)
assert mean_ps == (60.0, 60.0, 0.0), mean_ps
# struct xpp_flow at 144: bidir, src2dst, dst2src (168 bytes each);
# first_seen, last_seen, packets, bytes.
for off, want in ((144, 3), (312, 3), (480, 0)):
    first, last, pk, by = struct.unpack_from("<4Q", r, off)
    assert (pk, by) == (want, 60 * want), (off, pk, by)
first = struct.unpack_from("<Q", r, 144)[0]
assert abs(first / 1e9 - time.time()) < 60, first
PY
	wait "$snd" || fail "sending"
}

test_detach_forces_its_flows() {
	ctl config set idle_timeout=120 >/dev/null || fail "idle_timeout=120"
	flows_bg detach.ndjson --count 1
	send 1 4 udp4 --sport 1600 --dport 1601
	sleep 1.5 # the flow is in the table, far from idle
	ctl detach xa1 >/dev/null || fail "detach"
	wait_bg "$FLOWS_PID" 5 detach
	expect_flow "$T/detach.ndjson" 1600 '.end_reason == "forced"
		and .bidirectional_packets == 4'
	ctl attach xa1 >/dev/null || fail "attach again"
	ctl config set idle_timeout=2 >/dev/null || fail "idle_timeout=2"
}

test_flows_off_forces_and_stops() {
	ctl config set idle_timeout=120 >/dev/null
	flows_bg off.ndjson --count 2
	send 1 2 udp4 --sport 1700 --dport 1701
	send 1 1 udp4 --sport 1702 --dport 1703
	sleep 0.3
	ctl config set flows=off >/dev/null || fail "flows=off"
	wait_bg "$FLOWS_PID" 5 "flows off"
	expect_flow "$T/off.ndjson" 1700 '.end_reason == "forced" and .bidirectional_packets == 2'
	expect_flow "$T/off.ndjson" 1702 '.end_reason == "forced" and .bidirectional_packets == 1'
	# Off: a flow stream says why nothing comes (and waits).
	timeout 1 "$XDPCTL" --socket "$SOCK" flows >/dev/null 2>"$T/off.err"
	grep -q "keeps no flows (flows = off)" "$T/off.err" ||
		fail "no notice from xdpctl flows with flows off: $(cat "$T/off.err")"
	# Off: no new flow begins.
	local begun
	begun=$(istat xa1 .flows)
	send 1 3 udp4 --sport 1704 --dport 1705
	settle
	expect_eq "flows begun while off" "$(istat xa1 .flows)" "$begun"
	ctl config set flows=on idle_timeout=2 >/dev/null || fail "flows=on"
}

test_top_shows_largest() {
	local out
	ctl config set idle_timeout=120 >/dev/null
	send 1 30 udp4 --sport 1800 --dport 1801
	send 1 10 udp4 --sport 1802 --dport 1803
	send 1 20 tcp4 --sport 1804 --dport 1805
	sleep 1.1 # a snapshot is at most a second old
	out=$(ctl flows --top 2 --json) || fail "flows --top --json"
	jq -e '.flows | length == 2' <<<"$out" >/dev/null || fail "top 2: $out"
	jq -e '.flows[0].src_port == 1800 and .flows[0].bidirectional_packets == 30
		and .flows[0].iface == "xa1" and .flows[1].src_port == 1804
		and .flows[1].bidirectional_packets == 20 and .flows[0].age_ns >= 0
		and .in_table >= 3 and .enabled' <<<"$out" >/dev/null ||
		fail "top 2: $out"
	out=$(ctl flows --top 3) || fail "flows --top"
	grep -qE '^xa1 +198\.18\.1\.2:1800 +198\.18\.1\.9:1801 +17 +30 +1800 ' <<<"$out" ||
		fail "top table: $out"
	expect_eq "top rows" "$(grep -c '^xa1 ' <<<"$out")" 3
	out=$(ctl flows --top 1 --watch 1 --iterations 2 | grep -c '^xa1 ')
	expect_eq "watch prints" "$out" 2
	# --watch alone: the live table of the 20 largest (at least the 3
	# above), printed twice.
	out=$(ctl flows --watch 1 --iterations 2)
	[ "$(grep -c '198\.18\.1\.2:1800 ' <<<"$out")" = 2 ] &&
		[ "$(grep -c '^xa1 ' <<<"$out")" -ge 6 ] ||
		fail "flows --watch 1 --iterations 2: $out"
	# The flows end forced with flows = off; idle again for the rest.
	ctl config set flows=off >/dev/null
	ctl config set flows=on idle_timeout=2 >/dev/null
}

test_stats_counters() {
	local js
	js=$(ctl stats --json) || fail "stats --json"
	# Since the attach again (detach clears the counters).
	jq -e '.interfaces[0] | (.flows | type == "number") and .flows >= 3
		and .flows_table_full == 0 and .flows_lost == 0
		and .flows_errors == 0' <<<"$js" >/dev/null ||
		fail "interface flow counters: $(jq -c '.interfaces[0]' <<<"$js")"
	jq -e '.daemon.flows | .enabled and .table_size == 65536
		and .exported.idle >= 6 and .exported.forced >= 6
		and .exported.end == 0 and .exported.resources == 0
		and .lost_to_subscribers == 0 and (.active | type == "number")' \
		<<<"$js" >/dev/null || fail "daemon flows: $(jq -c .daemon.flows <<<"$js")"
	ctl stats | grep -qE '^flows: on, [0-9]+ in the table \(of 65536\)' ||
		fail "stats text: $(ctl stats)"
	ctl stats | grep -qE '^  xa1 +[0-9]+ flows begun, 0 table full' ||
		fail "stats text per interface: $(ctl stats)"
}

test_slow_flow_subscriber_loses_counted() {
	local n=3000
	ctl config set subscriber_queue=16 idle_timeout=120 >/dev/null
	slow_subscriber '{"cmd":"subscribe","kind":"flows"}' "$T/slow.go" \
		"$T/slow.out"
	local slow=$SLOW_PID
	sleep 0.3
	send 1 $n udp4 --sport 20000 --sports $n --dport 1900 || fail "sending"
	settle
	# All of them end at once.
	ctl config set flows=off >/dev/null
	local lost
	lost=$(ctl stats --json | jq .daemon.flows.lost_to_subscribers)
	[ "$lost" -gt 0 ] || fail "no flow lost to the slow subscriber"
	touch "$T/slow.go"
	wait $slow || fail "slow subscriber: $(cat "$T/slow.out")"
	local got told
	read -r got told <"$T/slow.out"
	diag "slow flow subscriber: $got flows, $told lost (told in the stream)"
	expect_eq told "$told" "$lost"
	expect_eq accounted "$((got + told))" $n
	ctl config set flows=on subscriber_queue=8192 idle_timeout=2 >/dev/null
}

test_config_errors_name_the_key() {
	local out kv
	for kv in flows=maybe records=1 idle_timeout=0 active_timeout=x \
		flow_splt=33 flow_splt=0 flow_accounting=l2; do
		out=$(ctl config set "$kv" 2>&1)
		expect_eq "$kv status" "$?" 1
		case $out in
		*"${kv%%=*} '${kv#*=}'"*bad_config*) ;;
		*) fail "$kv: $out" ;;
		esac
	done
	out=$(ctl config set flow_table_size=4096 2>&1)
	case $out in
	*"flow_table_size cannot change at run time"*) ;;
	*) fail "flow_table_size at run time: $out" ;;
	esac
	expect_eq unchanged "$(ctl config get flow_splt)" 8
	# The file: the line and the key.
	printf 'flows = on\nflow_table_size = 100\n' >"$T/bad.conf"
	out=$("$DAEMON" --check-config -c "$T/bad.conf" 2>&1)
	case $out in
	*"bad.conf:2: flow_table_size '100': want a whole number from 1024 to 16777216"*) ;;
	*) fail "check-config: $out" ;;
	esac
	out=$("$XDPCTL" --socket "$SOCK" flows --top 1 --count 3 2>&1)
	expect_eq "--top --count" "$?" 2
}

test_runtime_keys_and_reload() {
	ctl config set flow_accounting=ip flow_splt=4 active_timeout=60 >/dev/null ||
		fail "config set"
	flows_bg acct.ndjson --count 1
	send 1 2 udp4 --sport 2100 --dport 2101
	wait_bg "$FLOWS_PID" 8 accounting
	# ip: the IPv4 total length, 46 of the 60-byte frame.
	expect_flow "$T/acct.ndjson" 2100 '.accounting == "ip" and .bidirectional_bytes == 92
		and (.splt_ps | length) == 4'
	# SIGHUP: the file's values again (idle_timeout 2, link, 8).
	printf 'flows = on\nidle_timeout = 3\n' >"$CONF"
	kill -HUP "$DAEMON_PID"
	local i
	for i in $(seq 50); do
		[ "$(ctl config get idle_timeout)" = 3 ] && break
		sleep 0.1
	done
	expect_eq reload_idle "$(ctl config get idle_timeout)" 3
	expect_eq reload_accounting "$(ctl config get flow_accounting)" link
	expect_eq reload_splt "$(ctl config get flow_splt)" 8
}

# Last: the daemon stops.
test_shutdown_forces_every_flow() {
	ctl config set idle_timeout=120 >/dev/null
	flows_bg stop.ndjson --count 2
	send 1 5 udp4 --sport 2200 --dport 2201
	send6 1 udp6 --sport 2202 --dport 2203
	sleep 0.3
	stop_daemon
	wait_bg "$FLOWS_PID" 5 shutdown
	expect_flow "$T/stop.ndjson" 2200 '.end_reason == "forced" and .bidirectional_packets == 5'
	expect_flow "$T/stop.ndjson" 2202 '.end_reason == "forced" and .ip_version == 6'
}

# xdpctl flows --proto/--port: only the flows of that protocol and port.
test_stream_filters() {
	flows_bg filt.ndjson --count 1 --proto 17 --port 1901 --format ndjson
	send 1 2 tcp4 --sport 1900 --dport 1901
	send 1 3 udp4 --sport 1902 --dport 1903
	send 1 4 udp4 --sport 1900 --dport 1901
	wait_bg "$FLOWS_PID" 10 "filtered flows"
	expect_eq "filtered flows" "$(wc -l <"$T/filt.ndjson")" 1
	expect_flow "$T/filt.ndjson" 1901 '.protocol == 17 and .bidirectional_packets == 4'
}

run_case test_conversations_exact
run_case test_stream_filters
run_case test_idle_expiry_without_packets
run_case test_records_off_flows_on
run_case test_csv_and_nfstream_columns
run_case test_binary_subscription
run_case test_detach_forces_its_flows
run_case test_flows_off_forces_and_stops
run_case test_top_shows_largest
run_case test_stats_counters
run_case test_slow_flow_subscriber_loses_counted
run_case test_config_errors_name_the_key
run_case test_runtime_keys_and_reload
run_case test_shutdown_forces_every_flow
tap_end
