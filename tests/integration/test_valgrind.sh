#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# valgrind memcheck over the daemon and xdpctl doing real work: attach,
# traffic, stats, tail, config, bad requests, detach, extract. Any memory
# error or leak (definite or indirect) fails the case.
. "$(dirname "$0")/lib.sh"

require_root
command -v valgrind >/dev/null || skip_all "needs valgrind"
SRC=${XPP_SRCDIR:?}
VG=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect
    --error-exitcode=99 "--suppressions=$SRC/tests/valgrind.supp")
# The ASan build cannot run under valgrind: use the release build beside it.
REL=${XPP_RELEASE_BUILDDIR:-$(dirname "$BUILD")/build}
[ -x "$REL/daemon/xdp-preprocd" ] || skip_all "no release build at $REL"
DAEMON=$REL/daemon/xdp-preprocd
XDPCTL=$REL/ctl/xdpctl
netns_pair 1 || skip_all "cannot create a veth pair"

vctl() { "${VG[@]}" "$XDPCTL" --socket "$SOCK" "$@"; }

test_daemon_and_xdpctl_under_memcheck() {
	nsenter --net="/run/netns/$NSA" "${VG[@]}" "$DAEMON" --config "$CONF" \
		--pin-root "$PINS" --socket "$SOCK" >"$T/vg-daemon.log" 2>&1 &
	DAEMON_PID=$!
	local i
	for i in $(seq 200); do
		"$XDPCTL" --socket "$SOCK" version >/dev/null 2>&1 && break
		sleep 0.05
	done
	vctl attach xa1 >/dev/null || fail "attach under valgrind"
	vctl tail xa1 --count 3 >"$T/t.ndjson" &
	local tp=$!
	# xdpctl under valgrind may take seconds to subscribe on a loaded
	# machine: frames sent before it would never reach it.
	for i in $(seq 300); do
		[ "$("$XDPCTL" --socket "$SOCK" stats --json 2>/dev/null |
			jq '.subscribers | length')" = 1 ] && break
		sleep 0.1
	done
	send 1 24 mix
	if ! timeout 30 tail --pid=$tp -f /dev/null; then
		kill $tp 2>/dev/null
		fail "tail under valgrind: 3 records not within 30 s"
	fi
	wait $tp || fail "tail under valgrind (status $?)"
	expect_eq tail "$(wc -l <"$T/t.ndjson")" 3
	vctl stats >/dev/null || fail "stats"
	vctl stats --json >/dev/null || fail "stats --json"
	vctl list >/dev/null || fail "list"
	vctl config set sample=2 filter_ports="53 80-90" >/dev/null || fail "config set"
	vctl config get >/dev/null || fail "config get"
	vctl config set sample=0 >/dev/null 2>&1
	[ $? = 1 ] || fail "bad config set: want exit 1"
	printf '{"cmd":\n[1]\n{"cmd":"nope"}\n' | timeout 10 socat -t 3 - "UNIX-CONNECT:$SOCK" >/dev/null
	vctl detach --all >/dev/null || fail "detach"
	"${VG[@]}" "$XDPCTL" frobnicate >/dev/null 2>&1
	[ $? = 2 ] || fail "usage error: want exit 2"
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID"
	local rc=$?
	DAEMON_PID=
	expect_eq daemon_exit "$rc" 0
	if grep -qE "definitely lost|indirectly lost|Invalid (read|write)|uninitialised" \
		"$T/vg-daemon.log"; then
		fail "memcheck: $(grep -E "lost|Invalid|uninit" "$T/vg-daemon.log" | head -5)"
	fi
}

test_extract_under_memcheck() {
	"$BUILD/tests/xpp-pcap" corpus "$T/c.pcap" || { fail "xpp-pcap"; return; }
	"${VG[@]}" "$XDPCTL" extract "$T/c.pcap" -o "$T/c.ndjson" 2>"$T/vg-extract.log" ||
		fail "extract under valgrind: $(grep -vE "WARNING: unhandled eBPF" "$T/vg-extract.log" | head -5)"
	[ -s "$T/c.ndjson" ] || fail "no records"
}

run_case test_daemon_and_xdpctl_under_memcheck
run_case test_extract_under_memcheck
tap_end
