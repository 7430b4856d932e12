#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The control protocol under bad input: malformed, oversized and hostile
# requests get an error reply and the connection and the daemon carry on;
# limits hold; state changes need root or the admin group; xdpctl's exit
# codes; configuration files with errors; pins of another schema.
. "$(dirname "$0")/lib.sh"

require_root
command -v socat >/dev/null || skip_all "needs socat (scripts/install-deps)"
netns_pair 1 || skip_all "cannot create a veth pair"
printf 'max_clients = 8\nmax_request_bytes = 1024\n' >"$CONF"
start_daemon || { tap_end; exit 1; }

# raw LINES...: sends each line on one connection, prints the replies.
raw() {
	printf '%s\n' "$@" | timeout 5 socat -t 2 - "UNIX-CONNECT:$SOCK"
}

# code N REPLIES: the error code of reply N (1-based), or "ok".
code() {
	sed -n "${1}p" <<<"$2" | jq -r 'if .ok then "ok" else .error.code end'
}

test_malformed_json_then_carries_on() {
	local out
	out=$(raw '{"cmd":' 'not json at all' '[1,2,3]' '{"cmd":"version"}')
	expect_eq replies "$(wc -l <<<"$out")" 4
	expect_eq 1 "$(code 1 "$out")" bad_request
	expect_eq 2 "$(code 2 "$out")" bad_request
	expect_eq 3 "$(code 3 "$out")" bad_request
	expect_eq 4 "$(code 4 "$out")" ok
}

test_unknown_command_and_bad_fields() {
	local out
	out=$(raw '{"cmd":"reboot"}' '{"nocmd":1}' '{"cmd":42}' \
		'{"cmd":"attach","iface":7}' '{"cmd":"attach"}' \
		'{"cmd":"detach"}' '{"cmd":"stats","iface":"nosuch"}' \
		'{"cmd":"subscribe","format":"xml"}' \
		'{"cmd":"config_set","set":{"sample":"x"}}' \
		'{"cmd":"config_set"}' '{"cmd":"list","id":"abc"}')
	expect_eq replies "$(wc -l <<<"$out")" 11
	expect_eq unknown "$(code 1 "$out")" unknown_command
	expect_eq nocmd "$(code 2 "$out")" bad_request
	expect_eq cmd_type "$(code 3 "$out")" bad_request
	expect_eq iface_type "$(code 4 "$out")" bad_request
	expect_eq no_iface "$(code 5 "$out")" bad_request
	expect_eq detach_nothing "$(code 6 "$out")" bad_request
	expect_eq stats_nosuch "$(code 7 "$out")" not_attached
	expect_eq format "$(code 8 "$out")" bad_request
	expect_eq config_value "$(code 9 "$out")" bad_config
	expect_eq config_empty "$(code 10 "$out")" bad_request
	expect_eq id_echo "$(sed -n 11p <<<"$out" | jq -r .id)" abc
	# Every error says what to do, not only a code.
	sed -n 1p <<<"$out" | jq -e '.error.message | test("known: version")' >/dev/null ||
		fail "unknown command message: $(sed -n 1p <<<"$out")"
}

test_detach_and_strings_checked() {
	local out
	ctl attach xa1 >/dev/null || { fail "attach"; return; }
	# json-c reads any non-empty string as true: only a boolean will do.
	out=$(raw '{"cmd":"detach","all":"false"}' \
		'{"cmd":"detach","all":true,"iface":"nosuch"}' \
		'{"cmd":"detach","all":false}' \
		'{"cmd":"config_set","set":{"sample":"7\u0000junk"}}' \
		'{"cmd":"config_set","set":{"sample\u0000x":"1"}}' \
		'{"cmd":"version","x":"\\u0000"}')
	expect_eq all_string "$(code 1 "$out")" bad_request
	expect_eq all_and_iface "$(code 2 "$out")" bad_request
	expect_eq all_false "$(code 3 "$out")" bad_request
	expect_eq nul_value "$(code 4 "$out")" bad_request
	expect_eq nul_key "$(code 5 "$out")" bad_request
	expect_eq escaped_backslash "$(code 6 "$out")" ok
	expect_eq still_attached "$(ctl list --json | jq '.interfaces | length')" 1
	expect_eq sample "$(ctl config get sample)" 1
	ctl detach xa1 >/dev/null || fail "detach"
}

# Replies are valid UTF-8 even where a message cuts the peer's text.
test_replies_valid_utf8() {
	/usr/bin/python3 - "$SOCK" <<'PY' || fail "see above"
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(('{"cmd":"' + 'a' * 63 + '\u00e9"}\n').encode() +
          ('{"cmd":"config_set","set":{"sample":"' + '\u20ac' * 440 +
           '"}}\n').encode())
buf = b""
while buf.count(b"\n") < 2:
    buf += s.recv(65536)
for line in buf.split(b"\n")[:2]:
    r = json.loads(line.decode("utf-8"))   # raises on invalid UTF-8
    assert not r["ok"], r
PY
}

# A request may be as long as max_request_bytes allows; a reply that would
# pass the 8 MiB output cap (its "id" echoed) is an error, not a close.
test_reply_over_output_cap() {
	ctl config set max_request_bytes=16777216 >/dev/null || { fail "raise"; return; }
	/usr/bin/python3 - "$SOCK" <<'PY' || fail "see above"
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"cmd":"version","id":"' + b"x" * (9 << 20) + b'"}\n')
s.sendall(b'{"cmd":"version"}\n')
f = s.makefile("rb")
r1, r2 = json.loads(f.readline()), json.loads(f.readline())
assert r1["error"]["code"] == "bad_request", r1
assert r2["ok"], r2
PY
	ctl config set max_request_bytes=1024 >/dev/null
}

test_oversized_request_skipped() {
	local big out
	big=$(head -c 5000 /dev/zero | tr '\0' 'x')
	out=$(raw "{\"cmd\":\"$big\"}" '{"cmd":"version"}')
	expect_eq replies "$(wc -l <<<"$out")" 2
	expect_eq big "$(code 1 "$out")" request_too_large
	expect_eq after "$(code 2 "$out")" ok
}

test_invalid_utf8_and_deep_nesting() {
	local deep out
	deep=$(printf '%.0s[' $(seq 200))
	out=$( (printf '{"cmd":"\xff\xfe"}\n'; printf '%s\n' "$deep"
		printf '{"cmd":"version","x":"\xc3\x28"}\n'; echo '{"cmd":"version"}') |
		timeout 5 socat -t 2 - "UNIX-CONNECT:$SOCK")
	expect_eq replies "$(wc -l <<<"$out")" 4
	expect_eq utf8 "$(code 1 "$out")" bad_request
	expect_eq deep "$(code 2 "$out")" bad_request
	expect_eq utf8_value "$(code 3 "$out")" bad_request
	expect_eq after "$(code 4 "$out")" ok
}

test_client_limit() {
	local i pids=() out
	# Hold max_clients (8) connections open, silent.
	for i in $(seq 8); do
		sleep 3 | socat - "UNIX-CONNECT:$SOCK" >/dev/null 2>&1 &
		pids+=($!)
	done
	sleep 0.5
	# Only read: the daemon answers and closes at once, before any request.
	out=$(timeout 5 socat -u "UNIX-CONNECT:$SOCK" - 2>/dev/null)
	expect_eq refused "$(code 1 "$out")" too_many_clients
	kill "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
	sleep 0.3
	expect_eq after "$(code 1 "$(raw '{"cmd":"version"}')")" ok
}

test_half_open_and_silent_peers() {
	local pid
	# A peer that sends half a line and stays: others are served.
	(printf '{"cmd":"vers'; sleep 2) | socat - "UNIX-CONNECT:$SOCK" >/dev/null &
	pid=$!
	sleep 0.2
	expect_eq served "$(code 1 "$(raw '{"cmd":"stats"}')")" ok
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	kill -0 "$DAEMON_PID" || fail "daemon died"
}

test_non_root_refused_state_changes() {
	local nobody=nobody
	id "$nobody" >/dev/null 2>&1 || { diag "no user nobody"; return; }
	# The socket is 0660 root: nobody cannot even connect ...
	local out rc
	out=$(setpriv --reuid "$nobody" --regid nogroup --clear-groups \
		"$XDPCTL" --socket "$SOCK" stats 2>&1)
	rc=$?
	expect_eq connect_exit "$rc" 3
	case $out in *"Permission denied"*) ;; *) fail "said: $out" ;; esac
	# ... and once allowed on the socket, may read but not change state.
	chmod 0666 "$SOCK"
	chmod o+x "$T"
	setpriv --reuid "$nobody" --regid nogroup --clear-groups \
		"$XDPCTL" --socket "$SOCK" stats >/dev/null ||
		fail "nobody could not read stats"
	out=$(setpriv --reuid "$nobody" --regid nogroup --clear-groups \
		"$XDPCTL" --socket "$SOCK" attach xa1 2>&1)
	rc=$?
	expect_eq attach_exit "$rc" 1
	case $out in *permission_denied*) ;; *) fail "said: $out" ;; esac
	out=$(setpriv --reuid "$nobody" --regid nogroup --clear-groups \
		"$XDPCTL" --socket "$SOCK" config set sample=2 2>&1)
	case $out in *permission_denied*) ;; *) fail "config set said: $out" ;; esac
	expect_eq not_attached "$(ctl list --json | jq '.interfaces | length')" 0
	chmod 0660 "$SOCK"
	chmod o-x "$T"
}

# The pins hold the records and the counters: root only, at every level.
test_non_root_cannot_reach_pins() {
	local nobody=nobody f mode out
	id "$nobody" >/dev/null 2>&1 || { diag "no user nobody"; return; }
	ctl attach xa1 --mode native >/dev/null || { fail "attach"; return; }
	# (bpffs roots carry the sticky bit: 1700.)
	expect_eq bpffs_mode "$(stat -c %a "$T/bpf")" 1700
	for f in "$PINS" "$PINS"/* "$PINS"/links/*; do
		mode=$(stat -c %a "$f")
		if [ -d "$f" ]; then
			[ "$mode" = 700 ] || fail "directory $f has mode $mode"
		else
			[ "$mode" = 600 ] || fail "pin $f has mode $mode"
		fi
		[ "$(stat -c %u "$f")" = 0 ] || fail "$f is not root's"
	done
	# Even with every directory on the way opened, the pins stay shut.
	chmod o+x "$T" "$T/bpf" "$PINS"
	for f in xpp_config xpp_counters xpp_ring_data xpp_ring_pos; do
		out=$(setpriv --reuid "$nobody" --regid nogroup --clear-groups \
			bpftool map dump pinned "$PINS/$f" 2>&1) &&
			fail "nobody dumped $f: $out"
		case $out in *"ermission denied"* | *"ot permitted"*) ;;
		*) fail "nobody on $f: $out" ;; esac
	done
	out=$(setpriv --reuid "$nobody" --regid nogroup --clear-groups \
		cat "$PINS/xpp_counters" 2>&1) && fail "nobody read xpp_counters"
	chmod o-x "$T" "$T/bpf" "$PINS"
	ctl detach xa1 >/dev/null || fail "detach"
}

test_xdpctl_exit_codes() {
	local rc
	"$XDPCTL" --socket "$SOCK" frobnicate >/dev/null 2>&1
	expect_eq unknown "$?" 2
	"$XDPCTL" --socket "$SOCK" attach >/dev/null 2>&1
	expect_eq missing_arg "$?" 2
	"$XDPCTL" --socket "$SOCK" attach xa1 --mode warp >/dev/null 2>&1
	expect_eq bad_mode "$?" 2
	"$XDPCTL" --socket "$SOCK" stats --watch 0 >/dev/null 2>&1
	expect_eq bad_watch "$?" 2
	"$XDPCTL" --socket "$T/nosuch.sock" stats >/dev/null 2>&1
	rc=$?
	expect_eq no_daemon "$rc" 3
	"$XDPCTL" --help | grep -q "attach IFACE" || fail "--help"
	"$XDPCTL" --socket "$SOCK" version | grep -q "record version 2, 80 bytes" || fail "version"
}

test_config_file_errors() {
	local f=$T/bad.conf out rc
	printf 'sample = 4\n# fine\n\nfilter_ports = 53 70000\n' >"$f"
	out=$("$DAEMON" --config "$f" --check-config 2>&1)
	rc=$?
	expect_eq exit "$rc" 1
	case $out in *"bad.conf:4: filter_ports: '70000' is not a port"*) ;; *) fail "said: $out" ;; esac
	printf 'sampel = 4\n' >"$f"
	out=$("$DAEMON" --config "$f" --check-config 2>&1)
	case $out in *"bad.conf:1: unknown key 'sampel'"*) ;; *) fail "said: $out" ;; esac
	printf 'verdict = pass\nverdict = drop\n' >"$f"
	out=$("$DAEMON" --config "$f" --check-config 2>&1)
	case $out in *"bad.conf:2: verdict is set twice"*) ;; *) fail "said: $out" ;; esac
	printf 'just words\n' >"$f"
	out=$("$DAEMON" --config "$f" --check-config 2>&1)
	case $out in *"bad.conf:1: 'just words' is not 'key = value'"*) ;; *) fail "said: $out" ;; esac
	printf 'ring_size = 3M\nattach = eth0 turbo\n' >"$f"
	out=$("$DAEMON" --config "$f" --check-config 2>&1)
	case $out in *"bad.conf:1: ring_size '3M'"*) ;; *) fail "said: $out" ;; esac
	out=$("$DAEMON" --config "$T/none.conf" --check-config 2>&1)
	case $out in *"none.conf: No such file"*) ;; *) fail "missing file said: $out" ;; esac
	printf '# all keys\npin_root = /sys/fs/bpf/x\nsocket = /run/x.sock\nsample = 10\nfilter_proto = tcp udp 132\nfilter_ports = 53 8000-8080\nverdict = drop\nattach = eth0 native\nattach = eth1\n' >"$f"
	"$DAEMON" --config "$f" --check-config >/dev/null 2>&1 || fail "valid file refused"
	# What is not a plain file of text is refused, naming why, at once.
	printf 'sample = 9\0garbage\n' >"$f"
	out=$("$DAEMON" --config "$f" --check-config 2>&1)
	case $out in *"bad.conf:1: the line holds a NUL byte"*) ;; *) fail "NUL said: $out" ;; esac
	out=$("$DAEMON" --config "$T" --check-config 2>&1)
	case $out in *"is a directory"*) ;; *) fail "directory said: $out" ;; esac
	mkfifo "$T/fifo.conf"
	out=$(timeout 5 "$DAEMON" --config "$T/fifo.conf" --check-config 2>&1)
	case $out in *"not a regular file"*) ;; *) fail "FIFO said: $out" ;; esac
	"$DAEMON" --bogus >/dev/null 2>&1
	expect_eq bad_option "$?" 2
}

test_foreign_schema_refused() {
	local root=$T/bpf/other out rc
	mkdir -p "$root"
	# Leave a map named like ours but of another shape.
	bpftool map create "$root/xpp_counters" type hash key 4 value 8 \
		entries 16 name xpp_counters || { fail "bpftool map create"; return; }
	out=$(nsenter --net="/run/netns/$NSA" "$DAEMON" --config "$CONF" \
		--pin-root "$root" --socket "$T/other.sock" 2>&1)
	rc=$?
	expect_eq exit "$rc" 1
	case $out in *"holds 1 of the 11 maps"*) ;; *) fail "said: $out" ;; esac
	rm -f "$root/xpp_counters"
	# All maps there, one of them wrong: the message names it.
	local pr=$PINS
	for m in $(ls "$pr"); do
		[ -d "$pr/$m" ] && continue # links/
		if [ "$m" = xpp_counters ]; then
			bpftool map create "$root/$m" type percpu_array key 4 \
				value 16 entries 1025 name xpp_counters
		else
			bpftool map pin pinned "$pr/$m" "$root/$m"
		fi
	done
	out=$(nsenter --net="/run/netns/$NSA" "$DAEMON" --config "$CONF" \
		--pin-root "$root" --socket "$T/other.sock" 2>&1)
	rc=$?
	expect_eq exit2 "$rc" 1
	case $out in *"pinned map $root/xpp_counters has value size 16, this version needs"*) ;;
	*) fail "said: $out" ;; esac
	rm -rf "$root"
}

test_second_daemon_refused() {
	local out rc
	out=$(nsenter --net="/run/netns/$NSA" timeout 5 "$DAEMON" --config "$CONF" \
		--pin-root "$PINS" --socket "$SOCK" 2>&1)
	rc=$?
	expect_eq exit "$rc" 1
	case $out in *"another xdp-preprocd already listens on $SOCK"*) ;; *) fail "said: $out" ;; esac
	expect_eq still_serving "$(code 1 "$(raw '{"cmd":"version"}')")" ok
}

test_docs_valid() {
	local src=${XPP_SRCDIR:?} f out
	for f in "$src"/docs/*.8 "$src"/docs/*.5; do
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
		[ -z "$out" ] || fail "$(basename "$f"): $out"
	done
	"$DAEMON" --check-config -c "$src/examples/xdp-preprocd.conf" >/dev/null ||
		fail "examples/xdp-preprocd.conf is not valid"
	"$DAEMON" --help | grep -q -- "--pin-root DIR" || fail "xdp-preprocd --help"
}

test_thousands_of_clients_and_a_peer_that_never_reads() {
	local rss0 rss1
	rss0=$(awk '/VmRSS/ {print $2}' "/proc/$DAEMON_PID/status")
	/usr/bin/python3 - "$SOCK" <<'PY' || fail "abuse script failed"
import socket, sys, time
path = sys.argv[1]
# 2000 connections in waves; the daemon holds max_clients (8), refuses
# the rest with a reply, and keeps serving.
refused = held = 0
for wave in range(20):
    socks = []
    for i in range(100):
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        socks.append(s)
    time.sleep(0.05)
    for s in socks:
        s.settimeout(0.2)
        try:
            d = s.recv(4096)
            if b"too_many_clients" in d:
                refused += 1
        except socket.timeout:
            held += 1
        s.close()
# Per wave, at most max_clients (8) are held, every other one is refused.
assert refused + held == 2000 and held <= 20 * 8, (refused, held)
# A peer that asks and never reads: its replies pile up to the cap
# (8 MiB), then it is dropped; the daemon goes on.
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.setblocking(False)
sent = 0
end = time.time() + 20
while time.time() < end:
    try:
        s.send(b'{"cmd":"config_get"}\n' * 64)
        sent += 64
    except BlockingIOError:
        time.sleep(0.01)
    except (BrokenPipeError, ConnectionResetError):
        break
else:
    sys.exit("the daemon never dropped a peer that does not read")
print("# refused", refused, "held", held, "requests before the drop", sent)
PY
	ctl version >/dev/null || fail "daemon not serving after the abuse"
	rss1=$(awk '/VmRSS/ {print $2}' "/proc/$DAEMON_PID/status")
	diag "daemon RSS ${rss0} KiB before, ${rss1} KiB after"
	# ASan keeps freed memory in quarantine (256 MiB): only a plain build
	# says anything about growth; leaks are valgrind's and LSan's job.
	if ldd "$DAEMON" | grep -q libasan; then
		diag "sanitizer build: RSS bound not checked"
	elif [ "$rss1" -ge $((rss0 + 32768)) ]; then
		fail "RSS grew from $rss0 to $rss1 KiB"
	fi
	grep -q "does not read its replies; closing it" "$T/daemon.log" ||
		fail "no log line for the dropped peer"
}

test_read_only_bpffs_refused() {
	local ro=$T/robpf out rc
	mkdir -p "$ro/fs"
	mount -t bpf -o ro bpf "$ro/fs" || { diag "cannot mount a read-only bpffs"; return; }
	out=$(nsenter --net="/run/netns/$NSA" timeout 10 "$DAEMON" --config "$CONF" \
		--pin-root "$ro/fs/pins" --socket "$T/ro.sock" 2>&1)
	rc=$?
	umount "$ro/fs"
	expect_eq exit "$rc" 1
	case $out in *"cannot create pin root $ro/fs/pins: Read-only file system"*) ;;
	*) fail "said: $out" ;; esac
	[ -e "$T/ro.sock" ] && fail "socket created by a daemon that refused to start"
}

test_netlink_overflow_resync() {
	# Events pile up while the daemon is stopped; past its receive
	# buffer the kernel drops them and says so (ENOBUFS).
	ip link add xovf0 netns "$NSA" type veth peer xovf1 netns "$NSB" || { fail veth; return; }
	ctl attach xovf0 >/dev/null || { fail "attach"; return; }
	kill -STOP "$DAEMON_PID"
	ip netns exec "$NSA" bash -c '
		for i in $(seq 800); do echo "link add xd$i type veth peer xe$i"; done | ip -batch - 2>/dev/null
		for i in $(seq 800); do echo "link del xd$i"; done | ip -batch - 2>/dev/null'
	ip -n "$NSA" link del xovf0
	kill -CONT "$DAEMON_PID"
	local i
	for i in $(seq 100); do
		grep -q "missed interface events" "$T/daemon.log" && break
		sleep 0.05
	done
	grep -q "missed interface events" "$T/daemon.log" ||
		{ fail "no overflow provoked"; return; }
	ctl list --json | jq -e '[.interfaces[].name] | index("xovf0") == null' >/dev/null ||
		fail "xovf0 still listed after the resync"
}

run_case test_docs_valid
run_case test_malformed_json_then_carries_on
run_case test_unknown_command_and_bad_fields
run_case test_oversized_request_skipped
run_case test_detach_and_strings_checked
run_case test_replies_valid_utf8
run_case test_reply_over_output_cap
run_case test_invalid_utf8_and_deep_nesting
run_case test_client_limit
run_case test_half_open_and_silent_peers
run_case test_non_root_refused_state_changes
run_case test_non_root_cannot_reach_pins
run_case test_xdpctl_exit_codes
run_case test_config_file_errors
run_case test_foreign_schema_refused
run_case test_second_daemon_refused
run_case test_thousands_of_clients_and_a_peer_that_never_reads
run_case test_read_only_bpffs_refused
run_case test_netlink_overflow_resync
stop_daemon
tap_end
