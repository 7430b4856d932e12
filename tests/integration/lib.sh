# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Shared by the integration tests: the real daemon and the real xdpctl, on
# veth pairs between network namespaces this test creates, with a private
# bpffs pin root and socket. Everything a test creates is removed on exit,
# whatever happened (trap). Output is TAP.

set -u

BUILD=${XPP_BUILDDIR:?XPP_BUILDDIR must point at the build directory}
DAEMON=$BUILD/daemon/xdp-preprocd
XDPCTL=$BUILD/ctl/xdpctl
SEND=$BUILD/tests/xpp-send

T=$(mktemp -d /tmp/xpp-it.XXXXXX)
ID=$(basename "$T" | tr -dc 'a-zA-Z0-9' | tail -c 6)
NSA=xppa-$ID # the daemon's side
NSB=xppb-$ID # the traffic's side
PINS=$T/bpf/pins
SOCK=$T/ctl.sock
CONF=$T/xdp-preprocd.conf
DAEMON_PID=
TAP_N=0
TAP_FAILED=0
CASE_FAILED=0

cleanup() {
	set +e
	if [ -n "$DAEMON_PID" ]; then
		kill -9 "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	# Pins first (links detach once their last reference is gone), then
	# the namespaces, then the private bpffs.
	[ -d "$PINS" ] && rm -rf "$PINS"
	for ns in $(ip netns list | awk '{print $1}' | grep -E "^xpp[ab]-$ID"); do
		ip netns del "$ns"
	done
	mountpoint -q "$T/bpf" && umount "$T/bpf"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

: >"$CONF"

# --- TAP ------------------------------------------------------------------

diag() { printf '# %s\n' "$*"; }

fail() {
	diag "FAIL: $*"
	CASE_FAILED=1
}

# run_case NAME: runs the function NAME as one test case.
run_case() {
	local name=$1
	CASE_FAILED=0
	TAP_N=$((TAP_N + 1))
	"$name"
	if [ "$CASE_FAILED" = 0 ]; then
		echo "ok $TAP_N - $name"
	else
		echo "not ok $TAP_N - $name"
		TAP_FAILED=$((TAP_FAILED + 1))
		if [ -f "$T/daemon.log" ]; then
			diag "daemon log (last 15 lines):"
			tail -n 15 "$T/daemon.log" | sed 's/^/#   /'
		fi
	fi
}

# A TAP plan of 0 with SKIP: meson counts it as skipped (an exit status
# of 77 would be an error under the TAP protocol).
skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

tap_end() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" = 0 ]
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# --- the network ------------------------------------------------------------

# netns_pair SUFFIX: namespaces $NSA and $NSB (created once), joined by a
# veth pair: xa$SUFFIX in $NSA (198.18.$SUFFIX.1) and xb$SUFFIX in $NSB.
netns_pair() {
	local s=$1 ns
	for ns in "$NSA" "$NSB"; do
		if [ ! -e "/run/netns/$ns" ]; then
			ip netns add "$ns" || return 1
			# No router solicitations, MLD or DAD: the only frames
			# are the ones the tests send.
			ip netns exec "$ns" sysctl -qw \
				net.ipv6.conf.all.disable_ipv6=1 \
				net.ipv6.conf.default.disable_ipv6=1 || return 1
			ip -n "$ns" link set lo up
		fi
	done
	ip link add "xa$s" netns "$NSA" type veth peer "xb$s" netns "$NSB" ||
		return 1
	ip -n "$NSA" addr add "198.18.$s.1/24" dev "xa$s"
	ip -n "$NSB" addr add "198.18.$s.2/24" dev "xb$s"
	ip -n "$NSA" link set "xa$s" up
	ip -n "$NSB" link set "xb$s" up
}

# send SUFFIX COUNT KIND [more xpp-send options]: frames from xb$SUFFIX
# to 198.18.$SUFFIX.9, an address nobody has: $NSA's kernel drops them
# without a reply, so no ARP or ICMP comes back to add frames of its own.
send() {
	local s=$1 n=$2 kind=$3
	shift 3
	ip netns exec "$NSB" "$SEND" --iface "xb$s" --count "$n" --kind "$kind" \
		--src "198.18.$s.2" --dst "198.18.$s.9" "$@" >/dev/null
}

# --- the daemon -------------------------------------------------------------

# start_daemon [options]: in $NSA, private pin root and socket; waits
# until the socket answers.
start_daemon() {
	nsenter --net="/run/netns/$NSA" "$DAEMON" --config "$CONF" \
		--pin-root "$PINS" --socket "$SOCK" "$@" >>"$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	local i
	for i in $(seq 100); do
		if [ -S "$SOCK" ] && ctl version >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			wait "$DAEMON_PID"
			DAEMON_PID=
			fail "the daemon exited during start"
			return 1
		fi
		sleep 0.05
	done
	fail "the daemon did not answer within 5 s"
	return 1
}

stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID"
	local rc=$?
	DAEMON_PID=
	[ "$rc" = 0 ] || fail "the daemon exited with $rc on SIGTERM"
}

kill9_daemon() {
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
}

ctl() {
	"$XDPCTL" --socket "$SOCK" "$@"
}

# wait_flow_subscriber: true once the daemon counts a flow subscriber
# (bounded: 2.5 s), so that what is sent next reaches it.
wait_flow_subscriber() {
	local i
	for i in $(seq 50); do
		[ "$(ctl stats --json | jq '[.subscribers[] | select(.kind == "flows")] | length')" -gt 0 ] &&
			return 0
		sleep 0.05
	done
	return 1
}

# The daemon drains as records come; wait until no record is left
# in the rings (bounded).
settle() {
	local i p
	for i in $(seq 100); do
		p=$(ctl stats --json | jq '.daemon.records_pending')
		[ "$p" = 0 ] && return 0
		sleep 0.02
	done
	fail "records still pending after 2 s"
}

# istat IFACE FIELD: one counter from stats --json (jq path after the
# interface object, e.g. .packets or .malformed.ip_trunc).
istat() {
	ctl stats --json | jq -r --arg i "$1" \
		".interfaces[] | select(.name == \$i) | $2"
}

# slow_subscriber REQUEST GO OUT: a subscriber in the background (its pid
# in SLOW_PID) that sends REQUEST, a subscribe line, and reads nothing
# until the file GO exists; then it reads to the end of the stream (or
# 1.5 s of silence) and writes to OUT the records or flows it got and the
# sum of the loss notices of the stream (ndjson).
slow_subscriber() {
	python3 - "$SOCK" "$1" "$2" >"$3" 2>&1 <<'PY' &
import json, os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
s.settimeout(1.5)
buf = b""
try:
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        buf += d
except socket.timeout:
    pass
lines = buf.decode().splitlines()
assert json.loads(lines[0])["ok"], lines[0]
got = lost = 0
for l in lines[1:]:
    o = json.loads(l)
    if o.get("event") == "lost":
        lost += o["count"]
    else:
        got += 1
print(got, lost)
PY
	SLOW_PID=$!
}

require_root() {
	[ "$(id -u)" = 0 ] || skip_all "needs root (BPF, network namespaces)"
	command -v jq >/dev/null || skip_all "needs jq (scripts/install-deps)"
	ip netns add "xppprobe-$ID" 2>/dev/null ||
		skip_all "cannot create network namespaces here"
	ip netns del "xppprobe-$ID"
}
