#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The systemd side without a running systemd: the units pass
# `systemd-analyze verify`, their exposure stays within the documented
# bound, `meson install --destdir` lays files out as a package would, the
# notify protocol against a listener on NOTIFY_SOCKET (READY, STATUS,
# WATCHDOG, RELOADING, STOPPING), and socket activation through
# systemd-socket-activate.
. "$(dirname "$0")/lib.sh"

require_root
SRC=${XPP_SRCDIR:?}
PY=/usr/bin/python3
MAX_EXPOSURE=4.0
command -v systemd-analyze >/dev/null || skip_all "needs systemd-analyze"

# The units with ExecStart pointing at this build.
units() {
	mkdir -p "$T/units"
	sed "s|@SBINDIR@/xdp-preprocd|$DAEMON|" "$SRC/systemd/xdp-preprocd.service" \
		>"$T/units/xdp-preprocd.service"
	cp "$SRC/systemd/xdp-preprocd.socket" "$T/units/"
}

test_units_verify() {
	units
	local out
	out=$(systemd-analyze verify --man=no "$T/units/xdp-preprocd.service" \
		"$T/units/xdp-preprocd.socket" 2>&1) || fail "verify: $out"
	[ -z "$out" ] || fail "verify printed: $out"
}

test_security_exposure() {
	units
	local out score
	out=$(systemd-analyze security --offline=true \
		"$T/units/xdp-preprocd.service" 2>&1)
	score=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' <<<"$out")
	[ -n "$score" ] || { fail "no score in: $(tail -3 <<<"$out")"; return; }
	diag "exposure $score (bound $MAX_EXPOSURE)"
	[ "$(echo "$score <= $MAX_EXPOSURE" | bc)" = 1 ] ||
		fail "exposure $score above $MAX_EXPOSURE"
}

test_install_layout() {
	local prefix root=$T/root f
	prefix=$(meson introspect --buildoptions "$BUILD" |
		jq -r '.[] | select(.name == "prefix") | .value')
	meson install -C "$BUILD" --destdir "$root" --no-rebuild --quiet >/dev/null 2>&1 ||
		{ fail "meson install --destdir failed"; return; }
	for f in "$prefix/sbin/xdp-preprocd" "$prefix/sbin/xdpctl" \
		"$prefix/share/man/man8/xdp-preprocd.8" \
		"$prefix/share/man/man8/xdpctl.8" \
		"$prefix/share/man/man5/xdp-preprocd.conf.5"; do
		[ -e "$root$f" ] || fail "missing $f"
	done
	[ -n "$(find "$root" -name xdp-preprocd.service)" ] || fail "no service unit"
	[ -n "$(find "$root" -name xdp-preprocd.socket)" ] || fail "no socket unit"
	[ -n "$(find "$root" -path '*sysusers.d/xdp-preprocd.conf')" ] || fail "no sysusers"
	[ -n "$(find "$root" -path '*tmpfiles.d/xdp-preprocd.conf')" ] || fail "no tmpfiles"
	if [ "$prefix" = /usr ]; then
		[ -e "$root/etc/xdp-preprocd/xdp-preprocd.conf" ] ||
			fail "no /etc/xdp-preprocd/xdp-preprocd.conf"
		grep -q "ExecStart=/usr/sbin/xdp-preprocd" \
			"$(find "$root" -name xdp-preprocd.service)" ||
			fail "ExecStart does not point at /usr/sbin"
	fi
	# The Python package, in a directory Debian's python3 searches.
	local pydir
	pydir=$(find "$root" -path '*/xdp_preprocd/__init__.py' -printf '%h\n')
	pydir=${pydir%/xdp_preprocd}
	if [ -z "$pydir" ]; then
		fail "no Python package xdp_preprocd"
	else
		"$PY" -c 'import sys; sys.exit(sys.argv[1] not in sys.path)' \
			"${pydir#"$root"}" || fail "python3 does not search ${pydir#"$root"}"
		"$PY" -c 'import pandas' 2>/dev/null && ! PYTHONPATH=$pydir \
			"$PY" -c 'import xdp_preprocd' && fail "the installed package does not import"
	fi
	# Nothing outside the destdir.
	[ ! -e /usr/sbin/xdp-preprocd ] || diag "note: /usr/sbin/xdp-preprocd exists on this host"
}

test_notify_protocol() {
	netns_pair 1 || { fail veth; return; }
	local ns=$T/notify.sock
	"$PY" - "$ns" >"$T/notify.log" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(8)
end = time.time() + 8
try:
    while time.time() < end:
        msg = s.recv(4096).decode()
        print(msg.replace("\n", "|"), flush=True)
        if "STOPPING=1" in msg:
            break
except socket.timeout:
    pass
PY
	local lpid=$!
	sleep 0.3
	NOTIFY_SOCKET=$ns WATCHDOG_USEC=200000 start_daemon || { kill $lpid; return; }
	sleep 1
	kill -HUP "$DAEMON_PID"
	sleep 0.5
	stop_daemon
	wait $lpid
	local log
	log=$(cat "$T/notify.log")
	grep -q "READY=1" <<<"$log" || fail "no READY=1: $log"
	grep -q "STATUS=0 interfaces attached" <<<"$log" || fail "no STATUS: $log"
	[ "$(grep -c "WATCHDOG=1" <<<"$log")" -ge 5 ] ||
		fail "fewer than 5 watchdog pings in 1.5 s at WATCHDOG_USEC=200000: $log"
	grep -q "RELOADING=1" <<<"$log" || fail "no RELOADING=1 on SIGHUP"
	[ "$(grep -c "READY=1" <<<"$log")" -ge 2 ] || fail "no READY=1 after reload"
	grep -q "STOPPING=1" <<<"$log" || fail "no STOPPING=1"
	# READY comes only once the socket listens.
	[ "$(head -1 <<<"$log" | grep -c READY=1)" = 1 ] || fail "first message: $(head -1 <<<"$log")"
}

test_socket_activation() {
	command -v systemd-socket-activate >/dev/null || { diag "no systemd-socket-activate"; return; }
	local asock=$T/act.sock apid
	nsenter --net="/run/netns/$NSA" systemd-socket-activate -l "$asock" \
		"$DAEMON" --config "$CONF" --pin-root "$PINS" --socket "$asock" \
		>>"$T/daemon.log" 2>&1 &
	apid=$!
	for _ in $(seq 50); do [ -S "$asock" ] && break; sleep 0.05; done
	# No daemon yet: the first call starts it.
	grep -q "passed by systemd" "$T/daemon.log" && fail "daemon started before any call"
	"$XDPCTL" --socket "$asock" version >/dev/null || fail "first call failed"
	"$XDPCTL" --socket "$asock" attach xa1 >/dev/null || fail "attach over the activated socket"
	grep -q "using the control socket passed by systemd" "$T/daemon.log" ||
		fail "daemon did not take the passed socket"
	# systemd-socket-activate execs the daemon in place: same PID.
	kill -TERM "$apid"
	wait "$apid" 2>/dev/null
	[ -S "$asock" ] && diag "socket file left by systemd-socket-activate (it owns it)"
	rm -f "$asock"
}

run_case test_units_verify
run_case test_security_exposure
run_case test_install_layout
run_case test_notify_protocol
run_case test_socket_activation
tap_end
