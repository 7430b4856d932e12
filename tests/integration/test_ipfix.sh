#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# IPFIX export (docs/flows.md, "IPFIX") against real collectors, with the
# real daemon and known traffic through a veth pair:
# - UDP to nfdump's nfcapd on the daemon's loopback: nfdump reads back the
#   packets, bytes, addresses, ports and times the flow subscriber got;
# - TCP to a collector that writes the stream as an IPFIX file: ipfixDump
#   decodes the standard and enterprise-specific elements, with the same
#   values; the collector stopped and started again mid-run: the flows of
#   the outage arrive after the reconnection, those the queue could not
#   hold are counted as dropped, and nothing else is missing;
# - configuration errors name the key and the cause.
. "$(dirname "$0")/lib.sh"

require_root
for t in nfcapd nfdump ipfixDump python3 tcpdump curl; do
	command -v "$t" >/dev/null || skip_all "needs $t (scripts/install-deps)"
done
netns_pair 1 || skip_all "cannot create a veth pair"

CHECK=$(dirname "$0")/ipfix_check.py
COLLECTOR=$(dirname "$0")/ipfix_collector.py
NFPORT=4739
TCPPORT=4740
COLL_PID=
NFCAPD_PID=
TCPDUMP_PID=

stop_pid() { # PID: TERM, then bounded wait
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	timeout 5 tail --pid="$1" -f /dev/null || kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

ipfix_cleanup() {
	stop_pid "$COLL_PID"
	stop_pid "$NFCAPD_PID"
	stop_pid "$TCPDUMP_PID"
	# For a look at what the collectors got: IPFIX_KEEP=DIR.
	[ -n "${IPFIX_KEEP:-}" ] && cp -r "$T" "$IPFIX_KEEP"
	cleanup
}
trap ipfix_cleanup EXIT

A4=198.18.1.2
B4=198.18.1.9
A6=2001:2::2
B6=2001:2::9

# istat-like: a field of daemon.ipfix.
ipfix() {
	ctl stats --json | jq -r ".daemon.ipfix.$1"
}

# wait_ipfix JQ-TEST SECONDS: until daemon.ipfix passes the test.
wait_ipfix() {
	local i
	for i in $(seq $(($2 * 10))); do
		ctl stats --json | jq -e ".daemon.ipfix | $1" >/dev/null && return 0
		sleep 0.1
	done
	fail "daemon.ipfix: want $1 within $2 s, got $(ctl stats --json | jq -c .daemon.ipfix)"
	return 1
}

# flows_bg NAME COUNT: a flow subscriber taking COUNT flows into $T/NAME.
flows_bg() {
	"$XDPCTL" --socket "$SOCK" flows --count "$2" --format ndjson \
		>"$T/$1" 2>"$T/$1.err" &
	FLOWS_PID=$!
	wait_flow_subscriber ||
		fail "the flow subscriber did not subscribe: $(cat "$T/$1.err")"
}

wait_flows() { # SECONDS
	if ! timeout "$1" tail --pid="$FLOWS_PID" -f /dev/null; then
		kill "$FLOWS_PID" 2>/dev/null
		fail "the flow subscriber did not get its flows within $1 s"
	fi
	wait "$FLOWS_PID" 2>/dev/null
}

# The known conversations: UDP 5 out and 3 back, TCP SYNs 4 out and 2
# back, IPv6 UDP 6 one way.
send_known() {
	send 1 5 udp4 --sport 1111 --dport 2222
	send 1 3 udp4 --src "$B4" --dst "$A4" --sport 2222 --dport 1111
	send 1 4 tcp4 --sport 3333 --dport 80
	send 1 2 tcp4 --src "$B4" --dst "$A4" --sport 80 --dport 3333
	send 1 6 udp6 --src "$A6" --dst "$B6" --sport 5555 --dport 53
}

start_collector() { # the TCP collector, appending to $T/tcp.ipfix
	rm -f "$T/tcp.ipfix.ready"
	ip netns exec "$NSA" python3 "$COLLECTOR" 127.0.0.1 "$TCPPORT" \
		"$T/tcp.ipfix" 2>>"$T/collector.log" &
	COLL_PID=$!
	local i
	for i in $(seq 50); do
		[ -f "$T/tcp.ipfix.ready" ] && return 0
		sleep 0.1
	done
	fail "the TCP collector did not listen within 5 s"
}

test_config_errors() {
	local v out
	while IFS='|' read -r v want; do
		printf '%s\n' "$v" >"$T/bad.conf"
		out=$("$DAEMON" --check-config --config "$T/bad.conf" 2>&1) &&
			fail "'$v' was accepted"
		grep -qF -- "$want" <<<"$out" ||
			fail "'$v': want an error with '$want', got: $out"
	done <<'EOF'
ipfix_collector = collector.example|ipfix_collector 'collector.example': want HOST:PORT
ipfix_collector = 127.0.0.1:0|port '0': want 1 to 65535
ipfix_collector = 127.0.0.1:65536|port '65536': want 1 to 65535
ipfix_collector = 127.0.0.1:4739/sctp|transport 'sctp': want tcp or udp
ipfix_collector = ::1:4739|an IPv6 address goes in brackets
ipfix_collector = [::1:4739|want HOST:PORT
ipfix_collector = a b:4739|is not a host name or address
ipfix_observation_domain = 4294967296|ipfix_observation_domain '4294967296': want a whole number from 0 to 4294967295
ipfix_observation_domain = -1|ipfix_observation_domain '-1'
ipfix_queue = 15|ipfix_queue '15': want a whole number from 16
ipfix_template_refresh = 0|ipfix_template_refresh '0': want a whole number from 1 to 86400
EOF
	printf 'ipfix_collector = [::1]:4739/tcp\nipfix_observation_domain = 4294967295\n' >"$T/good.conf"
	out=$("$DAEMON" --check-config --config "$T/good.conf" 2>&1) ||
		fail "a good configuration was refused: $out"
}

test_udp_to_nfcapd() {
	local i n
	mkdir -p "$T/nf"
	ip netns exec "$NSA" nfcapd -w "$T/nf" -p "$NFPORT" -b 127.0.0.1 \
		-t 3600 >"$T/nfcapd.log" 2>&1 &
	NFCAPD_PID=$!
	# What goes over loopback: the templates again every second.
	ip netns exec "$NSA" tcpdump -i lo -U -w "$T/lo.pcap" \
		udp port "$NFPORT" 2>"$T/tcpdump.log" &
	TCPDUMP_PID=$!
	for i in $(seq 50); do
		grep -q listening "$T/tcpdump.log" && break
		sleep 0.1
	done
	printf 'flows = on\nidle_timeout = 1\nipfix_collector = 127.0.0.1:%s\nipfix_observation_domain = 7\nipfix_template_refresh = 1\n' \
		"$NFPORT" >"$CONF"
	start_daemon || return
	ctl attach xa1 >/dev/null || { fail "attach"; return; }
	expect_eq collector "$(ipfix collector)" "127.0.0.1:$NFPORT/udp"
	expect_eq "config get" "$(ctl config get ipfix_collector)" \
		"127.0.0.1:$NFPORT/udp"
	ctl config set ipfix_collector=127.0.0.1:1 >"$T/set.out" 2>&1 &&
		fail "ipfix_collector changed at run time"
	grep -q "ipfix_collector cannot change at run time" "$T/set.out" ||
		fail "config set ipfix_collector: $(cat "$T/set.out")"
	flows_bg udp.ndjson 3
	send_known
	wait_flows 10
	expect_eq "subscriber flows" "$(wc -l <"$T/udp.ndjson")" 3
	wait_ipfix '.exported == 3 and .queued == 0' 5
	expect_eq dropped "$(ipfix dropped)" 0
	expect_eq state "$(ipfix state)" up
	sleep 3.5
	stop_daemon
	stop_pid "$TCPDUMP_PID"
	TCPDUMP_PID=
	python3 "$CHECK" messages "$T/lo.pcap" >"$T/messages.txt"
	# The templates go in rounds (the flow templates and the RFC 5610
	# descriptions of the elements: several messages), one a second.
	awk '$2 == "templates" { if (n == 0 || $1 - last > 0.5) { if (n) gap = $1 - last > gap ? $1 - last : gap; n++ } last = $1 }
		END { printf "%d %.3f\n", n, gap }' "$T/messages.txt" >"$T/rounds.txt"
	read -r n gap <"$T/rounds.txt"
	[ "$n" -ge 4 ] ||
		fail "$n rounds of templates over UDP in 4 s and more, want one a second: $(tr '\n' ' ' <"$T/messages.txt")"
	awk -v g="$gap" 'BEGIN { exit !(g >= 0.8 && g <= 1.6) }' ||
		fail "templates: the largest gap between rounds is $gap s, want about 1"
	expect_eq "empty messages" "$(grep -c empty "$T/messages.txt")" 0
	# nfcapd writes its file when it stops.
	stop_pid "$NFCAPD_PID"
	NFCAPD_PID=
	nfdump -R "$T/nf" -q -N -6 \
		-o 'fmt:%tsr|%td|%pr|%sa|%sp|%da|%dp|%ipkt|%opkt|%ibyt|%obyt|%in' \
		>"$T/nfdump.txt" 2>&1 || fail "nfdump: $(cat "$T/nfdump.txt")"
	diag "nfdump read:"
	sed 's/^/#   /' "$T/nfdump.txt"
	# nfcapd maps the reverse counters to its out packets and bytes.
	python3 "$CHECK" nfdump "$T/udp.ndjson" "$T/nfdump.txt" >"$T/check.txt" ||
		fail "nfdump differs from the flow subscriber: $(cat "$T/check.txt")"
}

test_tcp_elements_and_outage() {
	local dropped exported i got
	start_collector
	printf 'flows = on\nidle_timeout = 1\nipfix_collector = 127.0.0.1:%s/tcp\nipfix_observation_domain = 9\nipfix_queue = 16\nmetrics_listen = 9464\n' \
		"$TCPPORT" >"$CONF"
	start_daemon || return
	# Still attached from the last run (attachments outlive the daemon).
	ctl attach xa1 >/dev/null 2>&1
	ctl list | grep -q xa1 || { fail "attach"; return; }
	wait_ipfix '.state == "up"' 5
	flows_bg tcp.ndjson 3
	send_known
	wait_flows 10
	wait_ipfix '.exported == 3 and .queued == 0' 5

	# The outage: 20 flows while the collector is away, 16 of them fit
	# the queue.
	stop_pid "$COLL_PID"
	COLL_PID=
	flows_bg outage.ndjson 20
	for i in $(seq 20); do
		send 1 1 udp4 --sport $((7000 + i)) --dport 7777
	done
	wait_flows 10
	wait_ipfix '.queued + .dropped + .exported == 23' 5
	expect_eq "dropped in the outage" "$(ipfix dropped)" 4
	[ "$(ipfix state)" != up ] || fail "state up in the outage"
	start_collector
	# The backoff is at most 8 s.
	wait_ipfix '.queued == 0 and .state == "up"' 15
	exported=$(ipfix exported)
	dropped=$(ipfix dropped)
	expect_eq "exported + dropped" $((exported + dropped)) 23
	[ "$(ipfix reconnects)" -ge 1 ] || fail "no reconnection counted"
	# /metrics says the same as stats.
	ip netns exec "$NSA" curl -s http://127.0.0.1:9464/metrics >"$T/metrics.txt" ||
		fail "curl /metrics"
	expect_eq "metrics exported" \
		"$(awk '$1 == "xdp_preprocd_ipfix_exported_flows_total" { print $2 }' "$T/metrics.txt")" \
		"$exported"
	expect_eq "metrics dropped" \
		"$(awk '$1 == "xdp_preprocd_ipfix_dropped_flows_total" { print $2 }' "$T/metrics.txt")" \
		"$dropped"
	expect_eq "metrics up" \
		"$(awk '$1 == "xdp_preprocd_ipfix_up" { print $2 }' "$T/metrics.txt")" 1
	stop_daemon
	stop_pid "$COLL_PID"
	COLL_PID=

	ipfixDump --rfc5610 -d --hexdump=512 -i "$T/tcp.ipfix" \
		>"$T/dump.txt" 2>"$T/dump.err" ||
		fail "ipfixDump: $(head -5 "$T/dump.err")"
	diag "ipfixDump, the UDP flow (first lines):"
	grep -m1 -B60 'sourceTransportPort : 1111' "$T/dump.txt" |
		grep -E 'xpp|Count|Address|Nanoseconds' | head -24 | sed 's/^/#   /'
	python3 "$CHECK" dump "$T/tcp.ndjson" "$T/dump.txt" "$T/tcp.ipfix" \
		>"$T/check.txt" ||
		fail "ipfixDump differs from the flow subscriber: $(cat "$T/check.txt")"
	# Every outage flow is in the capture once or was dropped.
	got=$(python3 "$CHECK" ports "$T/dump.txt" | awk '$1 > 7000 && $1 <= 7020' |
		sort -u | wc -l)
	expect_eq "outage flows delivered" "$got" 16
	expect_eq "outage flows delivered + dropped" $((got + dropped)) 20
	expect_eq "records in the capture" \
		"$(python3 "$CHECK" ports "$T/dump.txt" | wc -l)" $((exported))
}

# A collector that never answers (an address nobody has on the veth's
# subnet: the connection waits for ARP): the loop goes on serving the
# socket and the flow subscribers, the flows wait in the queue.
test_silent_collector() {
	local t0 t1
	printf 'flows = on\nidle_timeout = 1\nipfix_collector = 198.18.1.77:4739/tcp\n' \
		>"$CONF"
	start_daemon || return
	ctl attach xa1 >/dev/null 2>&1
	flows_bg silent.ndjson 1
	send 1 3 udp4 --sport 1500 --dport 1501
	wait_flows 10
	wait_ipfix '.queued == 1' 3
	t0=$(date +%s%N)
	ctl stats --json >/dev/null || fail "stats"
	t1=$(date +%s%N)
	[ $(((t1 - t0) / 1000000)) -lt 1000 ] ||
		fail "stats took $(((t1 - t0) / 1000000)) ms while the exporter waits"
	expect_eq exported "$(ipfix exported)" 0
	diag "while the collector is silent: $(ctl stats --json | jq -c .daemon.ipfix)"
	# Shutdown ends the connection attempt: no wait for its timeout.
	t0=$(date +%s%N)
	stop_daemon
	t1=$(date +%s%N)
	[ $(((t1 - t0) / 1000000)) -le 2500 ] ||
		fail "the daemon took $(((t1 - t0) / 1000000)) ms to stop"
}

run_case test_config_errors
run_case test_udp_to_nfcapd
run_case test_tcp_elements_and_outage
run_case test_silent_collector
tap_end
