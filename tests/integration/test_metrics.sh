#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# /metrics (docs/metrics.md): the real daemon with metrics_listen, scraped
# by a real Prometheus server that this test starts in the daemon's
# namespace, on loopback, with its storage in the test's directory. Known
# traffic goes through a veth into the daemon; a PromQL query through
# Prometheus' HTTP API must return the packet count that `xdpctl stats`
# reports. Also: the page passes `promtool check metrics`, other paths
# and methods are refused, the connection limit and the idle timeout
# hold, bad metrics_listen values are refused by name.
. "$(dirname "$0")/lib.sh"

require_root
command -v prometheus >/dev/null && command -v promtool >/dev/null ||
	skip_all "needs prometheus and promtool (scripts/install-deps)"
command -v curl >/dev/null || skip_all "needs curl (scripts/install-deps)"
netns_pair 1 || skip_all "cannot create a veth pair"

# Inside $NSA: its loopback is the test's own, so fixed ports are safe.
MPORT=9101
PPORT=9090
MURL=http://127.0.0.1:$MPORT/metrics
PROM_PID=

prom_stop() {
	[ -n "$PROM_PID" ] || return 0
	kill "$PROM_PID" 2>/dev/null
	timeout 10 tail --pid="$PROM_PID" -f /dev/null 2>/dev/null ||
		kill -9 "$PROM_PID" 2>/dev/null
	wait "$PROM_PID" 2>/dev/null
	PROM_PID=
}
trap 'prom_stop; cleanup' EXIT

# in_ns COMMAND...: in the daemon's namespace.
in_ns() {
	ip netns exec "$NSA" "$@"
}

printf 'metrics_listen = %s\n' "$MPORT" >"$CONF"
start_daemon || { tap_end; exit 1; }
ctl attach xa1 >/dev/null || { fail "attach"; tap_end; exit 1; }

test_bad_values() {
	local v out rc
	for v in 0 65536 x localhost:9100 1.2.3.4 1.2.3.4: 1.2.3.4:0 \
		1.2.3.4:99999 ::1:9100 '[::1' '[::1]' '[1.2.3.4]:80' \
		1.2.3.4.5:80 ' 9100:'; do
		printf 'metrics_listen = %s\n' "$v" >"$T/bad.conf"
		out=$("$DAEMON" --check-config -c "$T/bad.conf" 2>&1)
		rc=$?
		[ "$rc" = 1 ] || fail "'$v': exit status $rc, want 1: $out"
		case "$out" in
		*"metrics_listen '"*"': want off, PORT, IPV4:PORT or [IPV6]:PORT"*) ;;
		*) fail "'$v': the error does not name the key: $out" ;;
		esac
	done
	for v in off 9100 0.0.0.0:9100 '[::1]:9100' '[::]:1'; do
		printf 'metrics_listen = %s\n' "$v" >"$T/good.conf"
		"$DAEMON" --check-config -c "$T/good.conf" >/dev/null 2>&1 ||
			fail "'$v' refused"
	done
	out=$(ctl config get --json | jq -r .metrics_listen)
	expect_eq "config get" "$out" "127.0.0.1:$MPORT"
	# Start-only: the listener is made once, before privileges go.
	out=$(ctl config set metrics_listen=9200 2>&1) &&
		fail "config set metrics_listen was taken: $out"
	case "$out" in
	*"metrics_listen cannot change at run time"*) ;;
	*) fail "config set metrics_listen: $out" ;;
	esac
}

test_page() {
	local page code
	page=$(in_ns curl -sS -m 5 "$MURL") || { fail "GET $MURL"; return; }
	in_ns promtool check metrics <<<"$page" >"$T/promtool.out" 2>&1 ||
		fail "promtool check metrics: $(cat "$T/promtool.out")"
	grep -qx '# TYPE xdp_preprocd_packets_total counter' <<<"$page" ||
		fail "no TYPE line for xdp_preprocd_packets_total"
	grep -q '^xdp_preprocd_packets_total{interface="xa1"} [0-9]*$' <<<"$page" ||
		fail "no xdp_preprocd_packets_total for xa1"
	grep -q '^xdp_preprocd_malformed_packets_total{interface="xa1",kind="ip_trunc"} 0$' <<<"$page" ||
		fail "no malformed counter of kind ip_trunc for xa1"
	grep -q '^xdp_preprocd_delivery_latency_seconds_bucket{le="+Inf"} ' <<<"$page" ||
		fail "no latency histogram"
	code=$(in_ns curl -s -o /dev/null -w '%{http_code}' -m 5 \
		"http://127.0.0.1:$MPORT/")
	expect_eq "GET /" "$code" 404
	code=$(in_ns curl -s -o /dev/null -w '%{http_code}' -m 5 \
		"http://127.0.0.1:$MPORT/metrics/x")
	expect_eq "GET /metrics/x" "$code" 404
	code=$(in_ns curl -s -o /dev/null -w '%{http_code}' -m 5 -X POST \
		-d x=1 "$MURL")
	expect_eq "POST /metrics" "$code" 405
	code=$(in_ns curl -s -o /dev/null -w '%{http_code}' -m 5 -I "$MURL")
	expect_eq "HEAD /metrics" "$code" 200
	code=$(in_ns curl -s -o /dev/null -w '%{http_code}' -m 5 \
		"$MURL?name[]=x")
	expect_eq "GET /metrics?query" "$code" 200
}

# The page and stats --json agree, the histogram included.
test_same_as_stats() {
	local page s
	send 1 23 tcp4
	settle
	s=$(ctl stats --json)
	page=$(in_ns curl -sS -m 5 "$MURL") || { fail "GET $MURL"; return; }
	expect_eq packets \
		"$(sed -n 's/^xdp_preprocd_packets_total{interface="xa1"} //p' <<<"$page")" \
		"$(jq '.interfaces[0].packets' <<<"$s")"
	expect_eq tcp \
		"$(sed -n 's/^xdp_preprocd_tcp_packets_total{interface="xa1"} //p' <<<"$page")" \
		"$(jq '.interfaces[0].tcp' <<<"$s")"
	expect_eq "latency count" \
		"$(sed -n 's/^xdp_preprocd_delivery_latency_seconds_count //p' <<<"$page")" \
		"$(jq '.daemon.delivery_latency_ns.count' <<<"$s")"
	expect_eq "ring wakeups" \
		"$(sed -n 's/^xdp_preprocd_ring_wakeups_total //p' <<<"$page")" \
		"$(jq '.daemon.ring_wakeups' <<<"$s")"
	expect_eq "records delivered" \
		"$(sed -n 's/^xdp_preprocd_records_delivered_total //p' <<<"$page")" \
		"$(jq '.daemon.records_delivered' <<<"$s")"
	# Cumulative buckets: never decreasing, +Inf is the count.
	sed -n 's/^xdp_preprocd_delivery_latency_seconds_bucket{le="[^"]*"} //p' \
		<<<"$page" | sort -c -n ||
		fail "latency buckets are not cumulative"
}

# prom_query PROMQL: the first value of the result, or nothing.
prom_query() {
	in_ns curl -sS -m 5 -G --data-urlencode "query=$1" \
		"http://127.0.0.1:$PPORT/api/v1/query" |
		jq -r '.data.result[0].value[1] // empty'
}

test_prometheus_scrapes() {
	local want got i
	cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: xdp-preprocd
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF
	in_ns promtool check config "$T/prometheus.yml" >/dev/null ||
		{ fail "promtool check config"; return; }
	ip netns exec "$NSA" prometheus --config.file="$T/prometheus.yml" \
		--storage.tsdb.path="$T/prometheus" \
		--web.listen-address="127.0.0.1:$PPORT" \
		>"$T/prometheus.log" 2>&1 &
	PROM_PID=$!
	# Bounded: 30 s, for a loaded machine.
	for i in $(seq 150); do
		in_ns curl -sf -m 1 "http://127.0.0.1:$PPORT/-/ready" \
			>/dev/null 2>&1 && break
		sleep 0.2
	done
	# Known traffic, on top of what earlier cases sent.
	send 1 37 udp4
	settle
	want=$(istat xa1 .packets)
	expect_eq "packets sent so far" "$want" 60
	# Scraped every second; queried until the new value shows (30 s).
	for i in $(seq 150); do
		got=$(prom_query "xdp_preprocd_packets_total{interface=\"xa1\"}")
		[ "$got" = "$want" ] && break
		sleep 0.2
	done
	expect_eq "PromQL xdp_preprocd_packets_total{interface=\"xa1\"}" \
		"$got" "$want"
	diag "PromQL xdp_preprocd_packets_total{interface=\"xa1\"} = $got;" \
		"xdpctl stats: $want"
	expect_eq "PromQL up" "$(prom_query 'up{job="xdp-preprocd"}')" 1
	expect_eq "PromQL udp" \
		"$(prom_query 'xdp_preprocd_udp_packets_total{interface="xa1"}')" \
		"$(istat xa1 .udp)"
	got=$(prom_query 'count(xdp_preprocd_malformed_packets_total{interface="xa1"})')
	[ -n "$got" ] && [ "$got" -gt 0 ] ||
		fail "PromQL: no malformed counters by kind ($got)"
	got=$(prom_query 'histogram_quantile(0.5, xdp_preprocd_delivery_latency_seconds_bucket)')
	[ -n "$got" ] || fail "PromQL histogram_quantile: no answer"
	if [ "$CASE_FAILED" = 1 ]; then
		diag "prometheus log (last 10 lines):"
		tail -n 10 "$T/prometheus.log" | sed 's/^/#   /'
	fi
	prom_stop
}

# More than METRICS_MAX_CONNECTIONS (8) at once: the extra one is closed
# at once, the others are served; an idle one goes after the timeout
# (METRICS_TIMEOUT_S, 10 s).
test_connection_limit() {
	local out
	out=$(in_ns python3 - "$MPORT" <<'PY' 2>&1
import socket, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    return s
def get(s):
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    buf = b""
    while True:
        d = s.recv(65536)
        if not d:
            return buf
        buf += d
idle = [conn() for _ in range(8)]
time.sleep(0.3)
extra = conn()
try:
    r = get(extra)
except (ConnectionResetError, socket.timeout) as e:
    r = b""
assert r == b"", "the ninth connection was served: %r" % r[:40]
# One of the eight is served: the limit counts connections, not requests.
r = get(idle.pop())
assert r.startswith(b"HTTP/1.1 200"), r[:40]
for s in idle:
    s.close()
time.sleep(0.3)
r = get(conn())
assert r.startswith(b"HTTP/1.1 200"), "after closing: %r" % r[:40]
assert b"\nxdp_preprocd_metrics_refused_total 1\n" in r, "refused not counted"
# The idle timeout: the server closes a silent connection.
s = conn()
s.settimeout(25)
t0 = time.time()
d = s.recv(1)
took = time.time() - t0
assert d == b"" and 8 < took < 20, "idle close after %.1f s: %r" % (took, d)
print("ok")
PY
	)
	expect_eq "connection limit and timeout" "$out" ok
	in_ns curl -sf -m 5 -o /dev/null "$MURL" ||
		fail "not served after the limit test"
}

test_address_in_use() {
	local out
	stop_daemon
	# Not through in_ns: $! must be python's own pid.
	ip netns exec "$NSA" python3 -c '
import socket, sys, time
s = socket.socket()
# As the daemon does: the earlier cases left connections in TIME_WAIT.
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
time.sleep(10)' "$MPORT" &
	local holder=$!
	sleep 0.3
	out=$(timeout 10 nsenter --net="/run/netns/$NSA" "$DAEMON" \
		--config "$CONF" --pin-root "$PINS" --socket "$SOCK" 2>&1)
	expect_eq "exit status" "$?" 1
	case "$out" in
	*"metrics_listen 127.0.0.1:$MPORT: cannot listen: Address already in use"*) ;;
	*) fail "the daemon's error: $out" ;;
	esac
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
}

test_off_by_default() {
	local out
	: >"$CONF"
	start_daemon || return
	out=$(in_ns ss -Hltn)
	expect_eq "TCP listeners with metrics_listen unset" "$out" ""
	stop_daemon
}

run_case test_bad_values
run_case test_page
run_case test_same_as_stats
run_case test_prometheus_scrapes
run_case test_connection_limit
run_case test_address_in_use
run_case test_off_by_default
tap_end
