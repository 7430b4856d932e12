#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Subscriptions under stress: a subscriber that stops reading loses
# records, counted and told in its stream, while the others get every
# record; hundreds of subscribers come and go while traffic flows.
. "$(dirname "$0")/lib.sh"

require_root
PY=/usr/bin/python3
netns_pair 1 || skip_all "cannot create a veth pair"
printf 'subscriber_queue = 1024\nmax_subscribers = 400\nmax_clients = 512\n' >"$CONF"
start_daemon || { tap_end; exit 1; }
ctl attach xa1 >/dev/null || { fail "attach"; tap_end; exit 1; }

test_slow_subscriber_loses_alone() {
	local n=20000
	# Reads nothing until the fast one is done and the loss is seen.
	slow_subscriber '{"cmd":"subscribe","format":"ndjson"}' "$T/slow.go" \
		"$T/slow.out"
	local slow=$SLOW_PID
	"$XDPCTL" --socket "$SOCK" tail xa1 --count $n >"$T/fast.ndjson" &
	local fast=$!
	sleep 0.5
	send 1 $n udp4 --pps 20000 --max-seconds 30 || fail "sending"
	timeout 20 tail --pid=$fast -f /dev/null || { kill $fast; fail "fast subscriber hung"; }
	expect_eq fast_records "$(wc -l <"$T/fast.ndjson")" $n
	# While the slow one still waits, stats shows its loss.
	local lost
	lost=$(ctl stats --json | jq '[.subscribers[].lost] | max')
	[ "$lost" -gt 0 ] || fail "no loss counted for the slow subscriber"
	touch "$T/slow.go"
	wait $slow || fail "slow subscriber script: $(cat "$T/slow.out")"
	local recs told
	read -r recs told <"$T/slow.out"
	diag "slow subscriber: $recs records, $told lost (told in the stream)"
	[ "$told" -gt 0 ] || fail "loss not told in the stream: $(cat "$T/slow.out")"
	expect_eq accounted "$((recs + told))" $n
	# The kernel lost nothing: the rings were drained all along.
	expect_eq kernel_lost "$(istat xa1 .records_lost)" 0
}

test_hundreds_of_subscribers_come_and_go() {
	local n=6000
	"$XDPCTL" --socket "$SOCK" tail xa1 --count $((n / 12 * 11)) >"$T/steady.ndjson" &
	local steady=$!
	sleep 0.3
	send 1 $n mix --pps 3000 --max-seconds 30 &
	local snd=$!
	# 300 subscribers in waves: connect, subscribe, read a little, leave.
	"$PY" - "$SOCK" <<'PY' || fail "churn script failed"
import random, socket, sys, time
path = sys.argv[1]
random.seed(7)
opened = 0
for wave in range(6):
    socks = []
    for i in range(50):
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        fmt = random.choice(["ndjson", "csv", "binary"])
        s.sendall(('{"cmd":"subscribe","format":"%s"}\n' % fmt).encode())
        socks.append(s)
        opened += 1
    time.sleep(0.2)
    for s in socks:
        s.settimeout(0.05)
        try:
            s.recv(4096)
        except OSError:
            pass
        if random.random() < 0.5:
            s.shutdown(socket.SHUT_RDWR)
        s.close()
print("# subscribers opened:", opened)
PY
	wait $snd || fail "sending"
	timeout 20 tail --pid=$steady -f /dev/null || { kill $steady; fail "steady subscriber hung: $(wc -l <"$T/steady.ndjson") records; $(ctl stats --json | jq -c '[.subscribers[] | {delivered,lost,queued}], .interfaces[0].records')"; }
	# 12 kinds, 11 with an IP header.
	expect_eq steady_records "$(wc -l <"$T/steady.ndjson")" $((n / 12 * 11))
	local i subs
	for i in $(seq 50); do
		subs=$(ctl stats --json | jq .daemon.subscribers)
		[ "$subs" = 0 ] && break
		sleep 0.1
	done
	expect_eq subscribers_left "$subs" 0
	kill -0 "$DAEMON_PID" || fail "daemon died"
}

test_subscriber_limit() {
	local out pids=() i
	ctl config set max_subscribers=2 >/dev/null
	for i in 1 2; do
		"$XDPCTL" --socket "$SOCK" tail xa1 --count 1000000 >/dev/null &
		pids+=($!)
	done
	sleep 0.3
	out=$(ctl tail xa1 --count 1 2>&1)
	expect_eq exit "$?" 1
	case $out in *too_many_subscribers*) ;; *) fail "said: $out" ;; esac
	kill "${pids[@]}"
	wait "${pids[@]}" 2>/dev/null
	ctl config set max_subscribers=400 >/dev/null
}

test_subscribe_filters() {
	"$XDPCTL" --socket "$SOCK" tail xa1 --count 3 --proto 6 >"$T/tcp.ndjson" &
	local p1=$!
	"$XDPCTL" --socket "$SOCK" tail xa1 --count 2 --port 7777 >"$T/port.ndjson" &
	local p2=$!
	sleep 0.3
	send 1 5 udp4
	send 1 3 tcp4
	send 1 2 udp4 --dport 7777
	timeout 5 tail --pid=$p1 -f /dev/null || { kill $p1; fail "proto tail hung"; }
	timeout 5 tail --pid=$p2 -f /dev/null || { kill $p2; fail "port tail hung"; }
	expect_eq proto "$(jq -c .proto "$T/tcp.ndjson" | sort -u)" 6
	expect_eq port "$(jq -c .dport "$T/port.ndjson" | sort -u)" 7777
}

run_case test_slow_subscriber_loses_alone
run_case test_hundreds_of_subscribers_come_and_go
run_case test_subscriber_limit
run_case test_subscribe_filters
stop_daemon
tap_end
