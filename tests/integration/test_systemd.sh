#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The installed units under a real systemd: a throwaway systemd 252 booted
# with systemd-nspawn on a tmpfs overlay of this machine's own root, its
# own network namespace and a private bpffs. Socket activation on the
# first xdpctl call, attach and exact stats with traffic on a veth pair
# inside, systemctl status/reload/restart/stop, the journal (with INTERFACE=),
# the watchdog restarting a hung daemon, attachments and counters kept
# across restarts. Everything is torn down on exit, also on failure.
. "$(dirname "$0")/lib.sh"

require_root
command -v systemd-nspawn >/dev/null || skip_all "needs systemd-nspawn (systemd-container)"
[ -d /sys/fs/cgroup/systemd ] || [ -f /sys/fs/cgroup/cgroup.controllers ] ||
	skip_all "no cgroup hierarchy for systemd"

NAME=xppsd-$ID
# Where meson install puts the programs (the unit's ExecStart says the same).
SBIN=$(meson introspect --buildoptions "$BUILD" | jq -r '
	(.[] | select(.name == "prefix") | .value) + "/" +
	(.[] | select(.name == "sbindir") | .value)')
ROOT=$T/sd
LOWER=$ROOT/lower
UPPER=$ROOT/upper
MERGED=$ROOT/merged
BPFFS=$ROOT/bpffs
NSPAWN_PID=
PID1=
CGROUPS=()

sd_cleanup() {
	set +e
	if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
		kill -TERM "$NSPAWN_PID" # a clean poweroff of the container
		for _ in $(seq 100); do
			kill -0 "$NSPAWN_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$NSPAWN_PID" 2>/dev/null
		wait "$NSPAWN_PID" 2>/dev/null
	fi
	# The container's init, should it outlive nspawn.
	[ -n "$PID1" ] && kill -KILL "$PID1" 2>/dev/null
	for m in "$MERGED" "$UPPER" "$LOWER" "$BPFFS"; do
		mountpoint -q "$m" && umount -l "$m"
	done
	local cg
	for cg in "${CGROUPS[@]}"; do
		# Depth first: nspawn leaves payload/ and supervisor/ behind.
		find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	rm -rf "/run/systemd/nspawn/propagate/$NAME"
	cleanup
}
trap sd_cleanup EXIT

# cin COMMAND...: runs in the container (all its namespaces).
# No terminal for anything in there (no pager, no password agent).
cin() { nsenter -t "$PID1" -a -- "$@" </dev/null; }
sctl() { cin systemctl --no-pager --no-ask-password "$@"; }
xctl() { cin "$SBIN/xdpctl" "$@"; }

boot() {
	mkdir -p "$LOWER" "$UPPER" "$MERGED" "$BPFFS"
	mount --bind / "$LOWER" && mount -o remount,bind,ro "$LOWER" || return 1
	mount -t tmpfs tmpfs "$UPPER" || return 1
	mkdir -p "$UPPER/up" "$UPPER/work"
	mount -t overlay overlay \
		-o "lowerdir=$LOWER,upperdir=$UPPER/up,workdir=$UPPER/work" \
		"$MERGED" || return 1
	mount -t bpf bpf "$BPFFS" || return 1
	systemd-id128 new >"$MERGED/etc/machine-id"
	# Install the project as a package would, into the container only.
	meson install -C "$BUILD" --destdir "$MERGED" --no-rebuild --quiet \
		>/dev/null 2>&1 || return 1
	[ -x "$MERGED$SBIN/xdp-preprocd" ] || return 1
	# A short watchdog, so that a hung daemon is caught within the test;
	# no leak check at exit for sanitizer builds (LSan needs ptrace, which
	# the unit's system call filter refuses, as it should).
	mkdir -p "$MERGED/etc/systemd/system/xdp-preprocd.service.d"
	printf '[Service]\nWatchdogSec=2s\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' \
		>"$MERGED/etc/systemd/system/xdp-preprocd.service.d/test.conf"
	# Only the units under test: nothing else of this host starts.
	rm -f "$MERGED"/etc/systemd/system/multi-user.target.wants/* 2>/dev/null
	(
		local h
		for h in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do
			[ -d "$h" ] || continue
			mkdir -p "$h/$NAME" && echo $BASHPID >"$h/$NAME/cgroup.procs"
		done
		# Its own session, no console: nspawn must not touch our
		# terminal (a background job that does gets stopped).
		exec setsid systemd-nspawn -q --register=no --keep-unit \
			--console=passive \
			--link-journal=no -D "$MERGED" -M "$NAME" \
			--private-network --system-call-filter=bpf \
			--capability=CAP_BPF,CAP_PERFMON \
			--bind="$BPFFS:/sys/fs/bpf" -b -- systemd.unit=basic.target \
			</dev/null >"$T/nspawn.log" 2>&1
	) &
	NSPAWN_PID=$!
	for h in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do
		[ -d "$h" ] && CGROUPS+=("$h/$NAME")
	done
	local i p
	for i in $(seq 200); do
		for p in $(pgrep -x systemd); do
			if grep -qs "$NAME" "/proc/$p/cgroup" 2>/dev/null ||
				[ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$NSPAWN_PID" ]; then
				PID1=$p
			fi
		done
		[ -n "$PID1" ] && cin test -S /run/systemd/private 2>/dev/null && break
		sleep 0.1
	done
	[ -n "$PID1" ] || return 1
	cin systemctl is-system-running --wait >/dev/null 2>&1
	return 0
}

t0=$(date +%s.%N)
if ! boot; then
	diag "nspawn log: $(tail -5 "$T/nspawn.log" 2>/dev/null)"
	skip_all "cannot boot a systemd container here"
fi
diag "container booted in $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-4) s"

test_socket_activation_on_first_call() {
	sctl start xdp-preprocd.socket || fail "start socket"
	expect_eq before "$(sctl is-active xdp-preprocd.service)" inactive
	xctl version >/dev/null || fail "first xdpctl call"
	expect_eq after "$(sctl is-active xdp-preprocd.service)" active
	local st
	st=$(cin stat -c '%a %G' /run/xdp-preprocd/control.sock)
	expect_eq socket_mode "$st" "660 xdp-preprocd"
}

test_attach_and_traffic_in_hardened_unit() {
	# No IPv6 chatter (router solicitations, MLD): only our frames.
	nsenter -t "$PID1" -n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	cin ip link add v0 type veth peer v1 || { fail "veth"; return; }
	cin ip link set v0 up
	cin ip link set v1 up
	xctl attach v0 >/dev/null || fail "attach v0: $(xctl attach v0 2>&1)"
	nsenter -t "$PID1" -n "$SEND" --iface v1 --count 120 --kind udp4 \
		--src 198.18.5.2 --dst 198.18.5.9 >/dev/null || fail "send"
	sleep 0.3
	expect_eq packets "$(xctl stats --json | jq '.interfaces[] | select(.name=="v0") | .packets')" 120
	expect_eq records "$(xctl stats --json | jq '.interfaces[] | select(.name=="v0") | .records')" 120
	sleep 5.2 # one STATUS= period
	sctl status xdp-preprocd --no-pager >"$T/status.txt" 2>&1
	grep -q "Status: \"1 interface attached" "$T/status.txt" ||
		fail "status: $(cat "$T/status.txt")"
	sed 's/^/# | /' "$T/status.txt" | head -12
}

test_journal_names_the_interface() {
	local out
	out=$(cin journalctl -u xdp-preprocd --no-pager -o cat)
	grep -q "attached to interface v0" <<<"$out" || fail "journal: $out"
	out=$(cin journalctl -u xdp-preprocd INTERFACE=v0 --no-pager -o cat)
	grep -q "attached to interface v0" <<<"$out" || fail "no INTERFACE=v0 field"
	# Priorities: the attach line is a notice (5).
	out=$(cin journalctl -u xdp-preprocd -p notice --no-pager -o cat)
	grep -q "attached to interface v0" <<<"$out" || fail "attach not at notice"
	cin journalctl -u xdp-preprocd --no-pager | tail -6 | sed 's/^/# | /'
}

test_reload() {
	mkdir -p "$MERGED/etc/xdp-preprocd"
	printf 'sample = 3\n' >"$MERGED/etc/xdp-preprocd/xdp-preprocd.conf"
	sctl reload xdp-preprocd || fail "reload"
	expect_eq sample "$(xctl config get sample)" 3
	expect_eq active "$(sctl is-active xdp-preprocd)" active
	printf 'sample = 1\n' >"$MERGED/etc/xdp-preprocd/xdp-preprocd.conf"
	sctl reload xdp-preprocd
}

test_restart_keeps_attachment_and_counters() {
	local before
	before=$(xctl stats --json | jq '.interfaces[0].packets')
	sctl restart xdp-preprocd || fail "restart"
	expect_eq listed "$(xctl list --json | jq -r '.interfaces[].name')" v0
	expect_eq packets "$(xctl stats --json | jq '.interfaces[0].packets')" "$before"
}

test_watchdog_restarts_hung_daemon() {
	local pid n0
	# MainPID is a PID of the container's namespace: signal it there.
	pid=$(sctl show -p MainPID --value xdp-preprocd)
	n0=$(sctl show -p NRestarts --value xdp-preprocd)
	cin kill -STOP "$pid" || { fail "cannot stop the daemon"; return; }
	local i
	for i in $(seq 100); do
		[ "$(sctl show -p NRestarts --value xdp-preprocd)" != "$n0" ] &&
			[ "$(sctl is-active xdp-preprocd)" = active ] && break
		sleep 0.1
	done
	expect_eq restarts "$(sctl show -p NRestarts --value xdp-preprocd)" $((n0 + 1))
	expect_eq active "$(sctl is-active xdp-preprocd)" active
	cin journalctl -u xdp-preprocd --no-pager -o cat | grep -qi "watchdog" ||
		fail "no watchdog line in the journal"
	expect_eq still_attached "$(xctl list --json | jq -r '.interfaces[].name')" v0
}

test_stop() {
	sctl stop xdp-preprocd.socket xdp-preprocd.service || fail "stop"
	expect_eq inactive "$(sctl is-active xdp-preprocd.service)" inactive
	# The datapath outlives the daemon.
	cin ip link show v0 | grep -q " xdp" || fail "XDP gone with the service"
}

run_case test_socket_activation_on_first_call
run_case test_attach_and_traffic_in_hardened_unit
run_case test_journal_names_the_interface
run_case test_reload
run_case test_restart_keeps_attachment_and_counters
run_case test_watchdog_restarts_hung_daemon
run_case test_stop
diag "systemd test took $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5) s"
tap_end
