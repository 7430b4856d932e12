#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A capture of real traffic for the flow cross-checks (crosscheck.py):
# two network namespaces joined by a veth pair, made here and removed by
# the trap whatever happens, addresses from 198.18.0.0/15 and 2001:2::/48
# only, no route out of the namespaces. tcpdump on the server's side of
# the veth records a few seconds of bounded traffic the kernels really
# exchanged:
#  - HTTP over TCP (python3 http.server, curl), IPv4 and IPv6, one
#    response large enough for segmentation offload (GSO frames of tens
#    of KiB), and one client port used three times (a 5-tuple that
#    repeats: the second connection 0.3 s after the first ended, the
#    third 2 s after the second; each closed by the client with an RST);
#  - UDP to an echo server, IPv4 and IPv6, datagrams of 3000 bytes among
#    them (fragments both ways), and one to a closed port (ICMP port
#    unreachable back);
#  - ICMP and ICMPv6 echo with two identifiers;
#  - whatever the kernels add of their own: ARP, neighbour discovery, MLD.
#
#   tests/flows/capture_real.sh OUT.pcap
# Needs root, iproute2, tcpdump, curl, python3.
set -euo pipefail

OUT=${1:?usage: capture_real.sh OUT.pcap}
PY=/usr/bin/python3
ID=$$
NSA=xppxa-$ID # server, capture
NSB=xppxb-$ID # client
DIR=$(mktemp -d /tmp/xpp-xc.XXXXXX)
TCPDUMP_PID=
SERVER_PIDS=()

cleanup() {
	set +e
	local p
	for p in "${SERVER_PIDS[@]}" $TCPDUMP_PID; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

A4=198.18.7.1 B4=198.18.7.2 A6=2001:2:0:7::1 B6=2001:2:0:7::2

ip netns add "$NSA"
ip netns add "$NSB"
for ns in "$NSA" "$NSB"; do
	# No router solicitations or advertisements; no default route: no
	# address outside the veth's prefixes is reachable.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_ra=0 \
		net.ipv6.conf.default.accept_ra=0 \
		net.ipv6.conf.default.router_solicitations=0
	ip -n "$ns" link set lo up
done
ip link add xca netns "$NSA" type veth peer xcb netns "$NSB"
ip -n "$NSA" addr add $A4/24 dev xca
ip -n "$NSB" addr add $B4/24 dev xcb
ip -n "$NSA" addr add $A6/64 dev xca nodad
ip -n "$NSB" addr add $B6/64 dev xcb nodad
ip -n "$NSA" link set xca up
ip -n "$NSB" link set xcb up

# A file to serve, large enough for several GSO frames.
head -c 300000 /dev/zero | tr '\0' 'x' >"$DIR/big"
echo hello >"$DIR/small"

ip netns exec "$NSA" timeout 60 tcpdump -i xca -w "$OUT" -U 2>"$DIR/tcpdump.log" &
TCPDUMP_PID=$!
for _ in $(seq 100); do
	grep -q "listening on" "$DIR/tcpdump.log" && break
	sleep 0.05
done
grep -q "listening on" "$DIR/tcpdump.log" || { cat "$DIR/tcpdump.log" >&2; exit 1; }

# Servers in $NSA: HTTP on both families (port 8080), a UDP echo on 9999.
(cd "$DIR" && exec ip netns exec "$NSA" timeout 60 "$PY" -m http.server \
	--bind :: 8080 >/dev/null 2>&1) &
SERVER_PIDS+=($!)
ip netns exec "$NSA" timeout 60 "$PY" -c '
import select, socket
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s4.bind(("198.18.7.1", 9999))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.bind(("2001:2:0:7::1", 9999))
while True:
    for s in select.select([s4, s6], [], [])[0]:
        d, a = s.recvfrom(65535)
        s.sendto(d, a)
' &
SERVER_PIDS+=($!)

inb() { ip netns exec "$NSB" timeout 20 "$@"; }
for _ in $(seq 100); do
	inb curl -s -o /dev/null "http://$A4:8080/small" && break
	sleep 0.05
done

# TCP: a large response, IPv6, and one client port three times.
inb curl -s -o /dev/null "http://$A4:8080/big"
inb curl -s -o /dev/null -g "http://[$A6]:8080/small"
# (a client of its own: curl's port may still be in TIME_WAIT; closed
# with an RST, this one's never is)
inb "$PY" - <<'PY'
import socket, struct, time
for gap in (0.3, 2, 0):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.bind(("198.18.7.2", 40404))
    s.settimeout(5)
    s.connect(("198.18.7.1", 8080))
    s.sendall(b"GET /small HTTP/1.0\r\n\r\n")
    while s.recv(65536):
        pass
    s.close()
    time.sleep(gap)
PY

# UDP and ICMP from $NSB.
inb "$PY" - <<'PY'
import os, socket, struct, time

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s & 0xffff) + (s >> 16)
    return ~((s & 0xffff) + (s >> 16)) & 0xffff

def echo(fam, addr, ident, n):
    if fam == socket.AF_INET:
        s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        t = 8
    else:
        s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        t = 128
    s.settimeout(2)
    for seq in range(1, n + 1):
        h = struct.pack("!BBHHH", t, 0, 0, ident, seq) + b"p" * 56
        if fam == socket.AF_INET:  # the kernel sums ICMPv6 itself
            h = h[:2] + struct.pack("!H", csum(h)) + h[4:]
        s.sendto(h, (addr, 0))
        time.sleep(0.05)

def udp(fam, addr, port, sizes, reply=True):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(2)
    for n in sizes:
        s.sendto(b"u" * n, (addr, port))
        if reply:
            s.recvfrom(65535)
        time.sleep(0.05)

udp(socket.AF_INET, "198.18.7.1", 9999, [100, 200, 3000, 50])
udp(socket.AF_INET6, "2001:2:0:7::1", 9999, [100, 3000, 60])
udp(socket.AF_INET, "198.18.7.1", 9, [40], reply=False)
echo(socket.AF_INET, "198.18.7.1", 0x1234, 3)
echo(socket.AF_INET, "198.18.7.1", 0x5678, 2)
echo(socket.AF_INET6, "2001:2:0:7::1", 0x4242, 3)
time.sleep(0.3)
PY

sleep 0.3
kill -INT "$TCPDUMP_PID"
wait "$TCPDUMP_PID" || true
TCPDUMP_PID=
[ -s "$OUT" ] || { echo "capture_real.sh: no capture written" >&2; exit 1; }
