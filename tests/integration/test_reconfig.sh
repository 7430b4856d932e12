#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Every key that `config set` changes at run time, raised and lowered while
# clients, subscribers and traffic are live, then pushed past the old
# limit. docs/protocol.md ("Runtime configuration and live connections")
# says what each key does to what already exists; these cases hold the
# daemon to it. The first case is the heap overflow of a request buffer
# sized at a client's first byte and filled under a limit raised later.
. "$(dirname "$0")/lib.sh"

require_root
netns_pair 1 || skip_all "cannot create a veth pair"
printf 'max_clients = 16\nmax_subscribers = 8\nsubscriber_queue = 1024\n' >"$CONF"
start_daemon || { tap_end; exit 1; }
ctl attach xa1 >/dev/null || { fail "attach"; tap_end; exit 1; }

# The protocol driver the cases share: connections that stay open across
# config changes, line by line. py SCRIPT [args]: runs SCRIPT with it.
cat >"$T/drv.py" <<'PY'
import json, os, socket, subprocess, sys, time
SOCK = os.environ["SOCK"]

class Conn:
    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(SOCK)
        self.s.settimeout(5)
        self.buf = b""
    def send(self, b):
        self.s.sendall(b)
    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(1 << 20)
            if not d:
                raise EOFError("the daemon closed the connection")
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return json.loads(l)
    def call(self, req):
        self.send(json.dumps(req).encode() + b"\n")
        return self.line()
    def lines_for(self, seconds):
        """Every line that comes within seconds."""
        out, end = [], time.time() + seconds
        while time.time() < end:
            self.s.settimeout(max(0.01, end - time.time()))
            try:
                d = self.s.recv(1 << 20)
            except socket.timeout:
                break
            if not d:
                break
            self.buf += d
            while b"\n" in self.buf:
                l, self.buf = self.buf.split(b"\n", 1)
                out.append(json.loads(l))
        self.s.settimeout(5)
        return out
    def close(self):
        self.s.close()

def code(r):
    return "ok" if r.get("ok") else r["error"]["code"]

def expect(what, got, want):
    if got != want:
        sys.exit(f"{what}: got {got!r}, want {want!r}")

def config(**kv):
    r = Conn().call({"cmd": "config_set",
                     "set": {k: str(v) for k, v in kv.items()}})
    expect(f"config_set {kv}", code(r), "ok")

def send(n, kind="udp4", *extra):
    # From one CPU: the frames meet one ring, whose wakeup mark counts
    # them (rings are per CPU).
    subprocess.run(["taskset", "-c", "0", "ip", "netns", "exec", os.environ["NSB"],
                    os.environ["SEND"], "--iface", "xb1", "--count", str(n),
                    "--kind", kind, "--src", "198.18.1.2",
                    "--dst", "198.18.1.9", "--pps", "20000",
                    "--max-seconds", "20", *extra],
                   check=True, stdout=subprocess.DEVNULL)

def records(lines):
    return [l for l in lines if "event" not in l and "ok" not in l]

exec(open(sys.argv[1]).read())
PY
py() {
	SOCK=$SOCK NSB=$NSB SEND=$SEND /usr/bin/python3 "$T/drv.py" "$@"
}

test_request_buffer_follows_max_request_bytes() {
	# The overflow: a buffer sized at the first byte under the old
	# limit, filled under the new one.
	cat >"$T/req.py" <<'PY'
a = Conn()
a.send(b"{")
time.sleep(0.2)
config(max_request_bytes=1048576)
a.send(b'"cmd":"version","pad":"' + b"x" * 300000 + b'"}\n')
expect("300000-byte request after the raise", code(a.line()), "ok")
# Lowered under a connection whose buffer grew: the new limit holds.
config(max_request_bytes=1024)
a.send(b'{"cmd":"version","pad":"' + b"x" * 5000 + b'"}\n')
expect("5000 bytes after lowering to 1024", code(a.line()),
       "request_too_large")
expect("same connection, small request", code(a.call({"cmd": "version"})), "ok")
# A line half sent when the limit drops below its length so far is
# refused at its next byte, and the connection carries on.
b = Conn()
b.send(b'{"cmd":"version","pad":"' + b"y" * 800)
time.sleep(0.2)
config(max_request_bytes=256)
b.send(b'y"}\n')
expect("line already over the lowered limit", code(b.line()),
       "request_too_large")
expect("after it", code(b.call({"cmd": "version"})), "ok")
# Raised again: the old connection takes the longer line too.
config(max_request_bytes=65536)
b.send(b'{"cmd":"version","pad":"' + b"z" * 60000 + b'"}\n')
expect("60000 bytes after raising to 65536", code(b.line()), "ok")
a.close(); b.close()
PY
	py "$T/req.py" || fail "request buffer: see above"
	kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon died"
}

test_max_clients_raise_lower() {
	cat >"$T/clients.py" <<'PY'
held = [Conn() for _ in range(6)]
for c in held:
    expect("held client", code(c.call({"cmd": "version"})), "ok")
config(max_clients=4)     # below the 6 (+1 for config) connected now
for c in held:            # those already connected stay served
    expect("existing client after lowering", code(c.call({"cmd": "list"})), "ok")
n = Conn()
expect("new client over the lowered limit", code(n.line()), "too_many_clients")
for c in held[:3]:
    c.close()
time.sleep(0.2)           # 3 left: under 4 again
under = Conn()
expect("new client under the limit", code(under.call({"cmd": "version"})), "ok")
# Raised past the old limit of 16 (by a client already connected: the
# daemon may not yet have seen a just-closed one go, and a new one
# would be the fifth of four), then 20 at once.
expect("raise", code(held[3].call({"cmd": "config_set",
                                    "set": {"max_clients": "32"}})), "ok")
more = [Conn() for _ in range(20)]
for c in more:
    expect("client past the old limit", code(c.call({"cmd": "version"})), "ok")
for c in more + held[3:] + [under]:
    c.close()
config(max_clients=16)
PY
	py "$T/clients.py" || fail "max_clients: see above"
}

test_max_subscribers_raise_lower() {
	cat >"$T/subs.py" <<'PY'
subs = []
for _ in range(3):
    s = Conn()
    expect("subscribe", code(s.call({"cmd": "subscribe"})), "ok")
    subs.append(s)
config(max_subscribers=1)
late = Conn()
expect("subscriber over the lowered limit",
       code(late.call({"cmd": "subscribe"})), "too_many_subscribers")
send(500)
for i, s in enumerate(subs):  # the three keep their streams
    got = records(s.lines_for(2))
    expect(f"records for existing subscriber {i}", len(got), 500)
config(max_subscribers=12)    # past the old limit of 8
more = []
for _ in range(9):
    s = Conn()
    expect("subscriber past the old limit", code(s.call({"cmd": "subscribe"})), "ok")
    more.append(s)
send(200)
for s in subs + more:
    expect("records for every subscriber", len(records(s.lines_for(2))), 200)
for s in subs + more + [late]:
    s.close()
config(max_subscribers=8)
PY
	py "$T/subs.py" || fail "max_subscribers: see above"
}

test_subscriber_queue_raise_lower() {
	cat >"$T/queue.py" <<'PY'
old = Conn()
r = old.call({"cmd": "subscribe"})
expect("queue of the first subscriber", r["result"]["queue"], 1024)
config(subscriber_queue=16)
small = Conn()
expect("queue after lowering", small.call({"cmd": "subscribe"})["result"]["queue"], 16)
config(subscriber_queue=65536)
big = Conn()
expect("queue after raising", big.call({"cmd": "subscribe"})["result"]["queue"], 65536)
# Nobody reads while 5000 records arrive: the queues hold what their
# size says; what does not fit is lost, counted and told, never more.
send(5000)
time.sleep(0.5)
res = {}
for name, c in (("old", old), ("small", small), ("big", big)):
    ls = c.lines_for(3)
    got = len(records(ls))
    told = sum(l["count"] for l in ls if l.get("event") == "lost")
    expect(f"{name}: records + lost", got + told, 5000)
    res[name] = (got, told)
# The subscriber made under the raised limit holds past the old one.
expect("big subscriber lost", res["big"][1], 0)
print("# delivered/lost per subscriber:", res)
for c in (old, small, big):
    c.close()
config(subscriber_queue=1024)
PY
	py "$T/queue.py" || fail "subscriber_queue: see above"
}

test_old_wakeup_keys_under_traffic() {
	cat >"$T/wake.py" <<'PY'
def stats():
    return Conn().call({"cmd": "stats"})["result"]["daemon"]
s = Conn()
expect("subscribe", code(s.call({"cmd": "subscribe"})), "ok")
# The old timer and mark keys change nothing: the waiting daemon is
# woken by the first record, whatever they say.
config(flush_interval_ms=1000, wakeup_bytes=800)
time.sleep(1.2)
w0 = stats()["ring_wakeups"]
send(10)
expect("records within 0.5 s under a 1-s interval", len(records(s.lines_for(0.5))), 10)
if stats()["ring_wakeups"] <= w0:
    sys.exit("no wakeup counted")
config(wakeup_bytes="1G", flush_interval_ms=50)
send(300)
expect("records with a mark past the ring", len(records(s.lines_for(1.5))), 300)
# Lowered to one record while traffic flows; then percent instead of bytes.
config(wakeup_bytes=80)
send(300)
expect("records at a one-record mark", len(records(s.lines_for(1.5))), 300)
config(wakeup_bytes=0, wakeup_fill_percent=0)
send(100)
expect("records with no mark at all", len(records(s.lines_for(1.5))), 100)
config(wakeup_fill_percent=100, flush_interval_ms=1)
send(100)
expect("records with a full-ring mark", len(records(s.lines_for(1.5))), 100)
config(wakeup_fill_percent=50, flush_interval_ms=5)
s.close()
PY
	py "$T/wake.py" || fail "wakeup marks: see above"
	expect_eq kernel_lost "$(istat xa1 .records_lost)" 0
}

test_datapath_keys_under_traffic() {
	cat >"$T/dp.py" <<'PY'
s = Conn()
expect("subscribe", code(s.call({"cmd": "subscribe"})), "ok")
def written():
    st = Conn().call({"cmd": "stats", "iface": "xa1"})["result"]
    return st["interfaces"][0]["records"]
config(sample=10)
w0 = written()
send(1000)
got = len(records(s.lines_for(1.5)))
# Sampling counts per CPU from where that CPU's count stood: 1000 frames
# give 100 records, one more or fewer per CPU that received some.
if not 98 <= got <= 102:
    sys.exit(f"1 in 10 of 1000: got {got}")
expect("records delivered against records written", got, written() - w0)
config(sample=1)
send(100)
expect("every one of 100", len(records(s.lines_for(1.5))), 100)
config(filter_proto="tcp")
send(100, "udp4"); send(50, "tcp4")
got = records(s.lines_for(1.5))
expect("tcp only", (len(got), {r["proto"] for r in got}), (50, {6}))
config(filter_proto="any", filter_ports="4000-4001")
send(40, "udp4", "--dport", "4001"); send(60, "udp4", "--dport", "5000")
expect("port filter", len(records(s.lines_for(1.5))), 40)
config(filter_ports="any", verdict="drop", filter_proto="udp")
send(30, "udp4")
expect("records while dropping", len(records(s.lines_for(1.5))), 30)
config(verdict="pass", filter_proto="any")
send(30, "tcp4")
expect("records after pass again", len(records(s.lines_for(1.5))), 30)
s.close()
PY
	local drop0 drop1
	drop0=$(istat xa1 .dropped)
	py "$T/dp.py" || fail "datapath keys: see above"
	drop1=$(istat xa1 .dropped)
	expect_eq dropped_while_drop "$((drop1 - drop0))" 30
	# Whatever failed above, the cases after this one get the defaults.
	ctl config set sample=1 filter_proto=any filter_ports=any verdict=pass >/dev/null
}

test_log_level_raise_lower() {
	local n0
	n0=$(grep -c "attached to interface xa1" "$T/daemon.log")
	ctl config set log_level=err >/dev/null || fail "log_level=err"
	ctl detach xa1 >/dev/null && ctl attach xa1 >/dev/null || fail "re-attach"
	sleep 0.2
	expect_eq notices_after_lowering "$(grep -c "attached to interface xa1" "$T/daemon.log")" \
		"$n0"
	ctl config set log_level=debug >/dev/null || fail "log_level=debug"
	ctl detach xa1 >/dev/null && ctl attach xa1 >/dev/null || fail "re-attach"
	sleep 0.2
	expect_eq notices_after_raise "$(grep -c "attached to interface xa1" "$T/daemon.log")" \
		$((n0 + 1))
	ctl config set log_level=info >/dev/null
}

test_reattach_toggle() {
	netns_pair 2 || { fail "veth xa2"; return; }
	ctl attach xa2 >/dev/null || { fail "attach xa2"; return; }
	ctl config set reattach=no >/dev/null || fail "reattach=no"
	ip -n "$NSA" link del xa2
	sleep 0.3
	netns_pair 2 || { fail "veth xa2 again"; return; }
	sleep 0.3
	ctl list --json | jq -e '.interfaces[] | select(.name == "xa2")' >/dev/null &&
		fail "xa2 attached again with reattach=no"
	# Turned on while it is away: decided when it comes back.
	ctl attach xa2 >/dev/null || fail "attach xa2 by hand"
	ip -n "$NSA" link del xa2
	sleep 0.3
	ctl config set reattach=yes >/dev/null || fail "reattach=yes"
	netns_pair 2 || { fail "veth xa2 a third time"; return; }
	local i ok=
	for i in $(seq 40); do
		ctl list --json | jq -e '.interfaces[] | select(.name == "xa2")' \
			>/dev/null && { ok=1; break; }
		sleep 0.05
	done
	[ -n "$ok" ] || fail "xa2 not attached again after reattach=yes"
	ctl detach xa2 >/dev/null
	ip -n "$NSA" link del xa2
}

# A client that changes the configuration faster than the drain interval
# must not put the drain off: the timer keeps the time already waited.
test_config_set_storm_does_not_stall_the_drain() {
	cat >"$T/storm.py" <<'PY'
s = Conn()
expect("subscribe", code(s.call({"cmd": "subscribe"})), "ok")
config(wakeup_fill_percent=0, wakeup_bytes=0, flush_interval_ms=100)
admin = Conn()
send(10)
got, end = [], time.time() + 1.5
while time.time() < end:   # a config_set every 20 ms, five per interval
    expect("storm", code(admin.call({"cmd": "config_set",
                                     "set": {"flush_interval_ms": "100"}})), "ok")
    got += records(s.lines_for(0.02))
expect("records delivered during the storm", len(got), 10)
config(wakeup_fill_percent=50, flush_interval_ms=5)
s.close(); admin.close()
PY
	py "$T/storm.py" || fail "config_set storm: see above"
}

# Out of file descriptors, the daemon pauses accepting instead of spinning
# on a listening socket that stays readable, and serves what it holds.
test_out_of_descriptors_pauses_accepts() {
	local before after
	ctl config set max_clients=1000 >/dev/null || { fail "max_clients"; return; }
	# The soft limit only: the daemon may not raise a hard one again.
	prlimit --pid "$DAEMON_PID" --nofile=60: || { fail "prlimit"; return; }
	before=$(grep -c "pausing accepts" "$T/daemon.log")
	cat >"$T/fds.py" <<'PY'
held = Conn()
socks = []
for _ in range(100):       # past the limit; the kernel queues the rest
    s = socket.socket(socket.AF_UNIX)
    s.setblocking(False)
    try:
        s.connect(SOCK)
    except OSError:
        pass
    socks.append(s)
time.sleep(2)
expect("held connection served while out of fds",
       code(held.call({"cmd": "version"})), "ok")
for s in socks:
    s.close()
time.sleep(0.5)
expect("new connection after the fds came back",
       code(Conn().call({"cmd": "version"})), "ok")
PY
	py "$T/fds.py" || fail "descriptors: see above"
	after=$(grep -c "pausing accepts" "$T/daemon.log")
	diag "pause messages in about 2 s: $((after - before))"
	[ $((after - before)) -ge 1 ] || fail "no message about the pause"
	# One message per 200 ms pause at most, not a busy loop.
	[ $((after - before)) -le 20 ] || fail "$((after - before)) messages: a busy loop"
	prlimit --pid "$DAEMON_PID" --nofile=4096: || fail "prlimit back"
	ctl config set max_clients=16 >/dev/null
}

# A subscriber that shuts down its sending side still reads its stream
# (echo '{"cmd":"subscribe"}' | nc -U does that); one that closes is gone.
test_half_closed_subscriber_keeps_its_stream() {
	cat >"$T/half.py" <<'PY'
s = Conn()
expect("subscribe", code(s.call({"cmd": "subscribe"})), "ok")
s.s.shutdown(socket.SHUT_WR)
time.sleep(0.2)
send(20)
expect("records after the half-close", len(records(s.lines_for(1.5))), 20)
s.close()
time.sleep(0.3)   # no more output to fail on: the next drain sees the end
st = Conn().call({"cmd": "stats"})["result"]["daemon"]
expect("subscribers after the close", st["subscribers"], 0)
PY
	py "$T/half.py" || fail "half-closed subscriber: see above"
}

# A subscription by interface name follows the interface when it is
# deleted and made again (new ifindex), once it is attached again.
test_subscription_follows_recreated_interface() {
	netns_pair 3 || { fail "veth xa3"; return; }
	ctl attach xa3 >/dev/null || { fail "attach xa3"; return; }
	# The pair is made again by a script the driver runs.
	cat >"$T/mkpair.sh" <<SH
ip link add xa3 netns $NSA type veth peer xb3 netns $NSB &&
ip -n $NSA addr add 198.18.3.1/24 dev xa3 &&
ip -n $NSB addr add 198.18.3.2/24 dev xb3 &&
ip -n $NSA link set xa3 up && ip -n $NSB link set xb3 up
SH
	cat >"$T/follow.py" <<'PY'
def send3(n):
    subprocess.run(["ip", "netns", "exec", os.environ["NSB"], os.environ["SEND"],
                    "--iface", "xb3", "--count", str(n), "--kind", "udp4",
                    "--src", "198.18.3.2", "--dst", "198.18.3.9",
                    "--pps", "20000", "--max-seconds", "20"],
                   check=True, stdout=subprocess.DEVNULL)
s = Conn()
expect("subscribe", code(s.call({"cmd": "subscribe", "iface": "xa3"})), "ok")
send3(10)
expect("records before", len(records(s.lines_for(1.5))), 10)
subprocess.run(["ip", "-n", os.environ["NSA"], "link", "del", "xa3"], check=True)
subprocess.run(["bash", os.environ["MKPAIR"]], check=True)
for _ in range(40):          # attached again (reattach = yes)
    l = Conn().call({"cmd": "list"})["result"]["interfaces"]
    if any(i["name"] == "xa3" for i in l):
        break
    time.sleep(0.05)
send3(20)
expect("records after the interface was made again",
       len(records(s.lines_for(1.5))), 20)
s.close()
PY
	MKPAIR=$T/mkpair.sh NSA=$NSA py "$T/follow.py" ||
		fail "subscription by name: see above"
	ctl detach xa3 >/dev/null
	ip -n "$NSA" link del xa3 2>/dev/null
}

# Detaching an interface that vanished while attached cancels its return.
test_detach_cancels_reattach() {
	netns_pair 4 || { fail "veth xa4"; return; }
	ctl attach xa4 >/dev/null || { fail "attach xa4"; return; }
	ip -n "$NSA" link del xa4
	sleep 0.3
	ctl detach xa4 >/dev/null || fail "detach of the vanished xa4"
	netns_pair 4 || { fail "veth xa4 again"; return; }
	sleep 0.5
	ctl list --json | jq -e '.interfaces[] | select(.name == "xa4")' >/dev/null &&
		fail "xa4 attached again after it was detached"
	ip -n "$NSA" link del xa4
}

run_case test_request_buffer_follows_max_request_bytes
run_case test_max_clients_raise_lower
run_case test_max_subscribers_raise_lower
run_case test_subscriber_queue_raise_lower
run_case test_old_wakeup_keys_under_traffic
run_case test_datapath_keys_under_traffic
run_case test_log_level_raise_lower
run_case test_reattach_toggle
run_case test_config_set_storm_does_not_stall_the_drain
run_case test_out_of_descriptors_pauses_accepts
run_case test_half_closed_subscriber_keeps_its_stream
run_case test_subscription_follows_recreated_interface
run_case test_detach_cancels_reattach
kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon died"
stop_daemon
tap_end
