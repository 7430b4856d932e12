#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# xdpctl extract on captures that real tools made of real traffic, not
# our own builder's: tcpdump on "any" (Linux cooked v1 and v2), dumpcap
# on two interfaces with two snap lengths, editcap and mergecap
# conversions, and GSO frames of tens of KiB from a TCP connection. Each
# capture agrees with tshark field by field, and every frame tshark sees
# is a record or counted as not IP, too short, or refused.
. "$(dirname "$0")/lib.sh"

require_root
command -v tshark >/dev/null || skip_all "needs tshark (scripts/install-deps)"
PY=/usr/bin/python3
SRC=${XPP_SRCDIR:?}

# Records without the fields that differ between two extractions of the
# same frames (the CPU that ran them). ts, a string, keeps every ns.
strip() { jq -c 'del(.ts_ns, .ktime_ns, .seq, .ring)' "$@"; }

# Records without what two captures of the same frames may differ in:
# timestamps, interface, and a single VLAN tag, taken off.
untag() {
	jq -c 'del(.ts, .ts_ns, .ktime_ns, .seq, .ring, .ifindex) |
		if .flags == ["vlan"] then .frame_len -= 4 | .vlan = 0 |
			.flags = [] else . end' "$@"
}

# wait_for FILE TEXT: until FILE holds TEXT (a capture tool saying it
# listens), 5 s at most.
wait_for() {
	local _
	for _ in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "$1 never said '$2': $(cat "$1")"
	return 1
}

# agrees NAME CAPTURE: extracts CAPTURE into $T/NAME.ndjson (summary in
# $T/NAME.err), holds every record against tshark, and accounts for
# every frame tshark sees. Nothing is refused in these captures.
agrees() {
	local name=$1 cap=$2 out sum frames recs not_ip runts refused
	"$XDPCTL" extract "$cap" >"$T/$name.ndjson" 2>"$T/$name.err" ||
		{ fail "$name: extract failed: $(cat "$T/$name.err")"; return 1; }
	out=$("$PY" "$SRC/tests/offline/compare_tshark.py" "$cap" \
		"$T/$name.ndjson" "$T/$name.err" 2>&1) ||
		{ fail "$name: $(tail -8 <<<"$out")"; return 1; }
	sum=$(tail -1 "$T/$name.err")
	frames=$(sed -n 's/.*: \([0-9]*\) frames:.*/\1/p' <<<"$sum")
	recs=$(sed -n 's/.* \([0-9]*\) records,.*/\1/p' <<<"$sum")
	not_ip=$(sed -n 's/.* \([0-9]*\) not IP,.*/\1/p' <<<"$sum")
	runts=$(sed -n 's/.* \([0-9]*\) too short for Ethernet.*/\1/p' <<<"$sum")
	refused=$(sed -n 's/.* \([0-9]*\) refused;.*/\1/p' <<<"$sum")
	expect_eq "$name frames" "$frames" "$(tshark -r "$cap" 2>/dev/null | wc -l)"
	expect_eq "$name records" "$recs" "$(wc -l <"$T/$name.ndjson")"
	expect_eq "$name refused" "$refused" 0
	expect_eq "$name accounted" "$((recs + not_ip + runts + refused))" "$frames"
	diag "$name: $(tail -1 <<<"$out"); ${sum#*: }"
}

# count NAME JQ-CONDITION: records of $T/NAME.ndjson that meet it.
count() { jq -s "[.[] | select($2)] | length" "$T/$1.ndjson"; }

# The mix from xb$1 to a host nobody has (nothing answers), $2 frames.
mix() { send "$1" "$2" mix; }

# UDP datagrams of $3 bytes from a real socket in $NSB to 198.18.$1.1
# port 9, $2 of them: ARP first, and ICMP port unreachable back (as
# many as $NSA's rate limit lets out).
udp_to() {
	ip netns exec "$NSB" timeout 10 "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[2])):
    s.sendto(b"\x5a" * int(sys.argv[3]), (sys.argv[1], 9))
' "198.18.$1.1" "$2" "$3"
}

netns_pair 1 || skip_all "cannot create a veth pair"
netns_pair 2 || skip_all "cannot create a veth pair"

# tcpdump -i any: Linux cooked captures, v1 (-y LINUX_SLL, microseconds)
# and v2 (the default, here in nanoseconds), of the same 24 frames.
test_tcpdump_any_cooked() {
	local pid1 pid2 ifx
	ip netns exec "$NSA" timeout 15 tcpdump -i any -y LINUX_SLL -c 24 \
		-w "$T/sll.pcap" -U 2>"$T/sll.log" &
	pid1=$!
	ip netns exec "$NSA" timeout 15 tcpdump -i any -y LINUX_SLL2 -c 24 \
		--time-stamp-precision=nano -w "$T/sll2.pcap" -U 2>"$T/sll2.log" &
	pid2=$!
	wait_for "$T/sll.log" "listening on" && wait_for "$T/sll2.log" "listening on" ||
		{ kill $pid1 $pid2; return; }
	mix 1 24 || fail "sending"
	wait $pid1 || fail "tcpdump (SLL) did not see 24 frames: $(cat "$T/sll.log")"
	wait $pid2 || fail "tcpdump (SLL2) did not see 24 frames: $(cat "$T/sll2.log")"
	agrees sll "$T/sll.pcap" || return
	agrees sll2 "$T/sll2.pcap" || return
	grep -q "link types: linux-sll 24;" "$T/sll.err" || fail "sll: $(cat "$T/sll.err")"
	grep -q "link types: linux-sll2 24;" "$T/sll2.err" || fail "sll2: $(cat "$T/sll2.err")"
	# SLL2 names the interface: xa1's index in $NSA; SLL does not.
	ifx=$(ip -n "$NSA" -j link show xa1 | jq '.[0].ifindex')
	expect_eq sll2_ifindex "$(jq .ifindex "$T/sll2.ndjson" | sort -u)" "$ifx"
	expect_eq sll_ifindex "$(jq .ifindex "$T/sll.ndjson" | sort -u)" 0
	# xpp-send's frames go to the broadcast address.
	expect_eq pkt_type "$(jq .pkt_type "$T/sll.ndjson" "$T/sll2.ndjson" | sort -u)" 1
	# The mix: 2 ARP, and 2 QinQ frames that reach a cooked capture
	# without their inner tag's TPID (the kernel took the outer tag
	# into its metadata): neither tshark nor the program finds IPv6
	# behind it. 20 records.
	expect_eq records "$(wc -l <"$T/sll2.ndjson")" 20
	# The kernel takes a VLAN tag into its metadata; libpcap puts it
	# back into SLL frames (1.10 not into SLL2 ones).
	expect_eq sll_vlan "$(count sll '.vlan == 100 and .frame_len == 64 and .flags == ["vlan"]')" 2
	# Same frames, same records, but the interface, the clock's
	# precision, and that tag.
	cmp -s <(untag "$T/sll.ndjson") <(untag "$T/sll2.ndjson") ||
		fail "SLL and SLL2 records differ: $(diff <(untag "$T/sll.ndjson") <(untag "$T/sll2.ndjson") | head -4)"
	[ "$(count sll2 '.ts | test("000Z$") | not')" -gt 0 ] ||
		fail "no record has a timestamp finer than a microsecond"
}

# dumpcap on two interfaces, snap lengths 96 and 65535: one pcapng with
# two interface blocks, as Wireshark writes it.
test_dumpcap_two_interfaces() {
	local pid
	ip netns exec "$NSA" dumpcap -q -i xa1 -s 96 -i xa2 -s 65535 \
		-a duration:30 -w "$T/two.pcapng" 2>"$T/dumpcap.log" &
	pid=$!
	wait_for "$T/dumpcap.log" "Capturing on 'xa1' and 'xa2'" || { kill $pid; return; }
	mix 1 24 && mix 2 24 || fail "sending"
	udp_to 1 5 1000 && udp_to 2 5 1400 || fail "udp"
	sleep 0.5
	kill -INT $pid
	wait $pid || fail "dumpcap: $(cat "$T/dumpcap.log")"
	agrees two "$T/two.pcapng" || return
	# Interface ids 0 and 1: ifindex 1 (snap 96) and 2.
	expect_eq ifindexes "$(jq .ifindex "$T/two.ndjson" | sort -u | tr '\n' ' ')" "1 2 "
	# The datagrams: 1042 and 1442 bytes on the wire, whatever was kept.
	expect_eq cut_udp "$(count two '.ifindex == 1 and .frame_len == 1042 and .ip_len == 1028 and .proto == 17 and .flags == ["ip_trunc"]')" 5
	expect_eq whole_udp "$(count two '.ifindex == 2 and .frame_len == 1442 and .ip_len == 1428 and .proto == 17 and .flags == []')" 5
	# Every frame longer than 96 bytes on xa1 has lost part of its IP
	# packet; on xa2 only the mix's frame cut on purpose has.
	expect_eq xa1_long_whole "$(count two '.ifindex == 1 and .frame_len > 96 and (.flags | index("ip_trunc") | not)')" 0
	expect_eq xa2_trunc "$(count two '.ifindex == 2 and (.flags | index("ip_trunc"))' )" \
		"$(count two '.ifindex == 2 and .frame_len == 36')"
	expect_eq cut_by_snap "$(sed -n 's/.*; \([0-9]*\) cut by the snap length.*/\1/p' "$T/two.err")" \
		"$(tshark -r "$T/two.pcapng" -Y 'frame.cap_len < frame.len' 2>/dev/null | wc -l)"
}

# editcap and mergecap conversions of the captures above.
# Link headers written by hand (Python's struct, not our capture tool), as
# other systems write them: tshark decodes IP in each, so must we.
test_link_headers_other_systems_write() {
	"$PY" - "$T" <<'PY' || { fail "writing the captures"; return; }
import struct, sys
d = sys.argv[1]
def csum(h):
    s = sum(struct.unpack("!10H", h))
    s = (s & 0xffff) + (s >> 16)
    return (~((s & 0xffff) + (s >> 16))) & 0xffff
def ip4(sport, dport, n=30):
    udp = struct.pack("!HHHH", sport, dport, 8 + n, 0) + b"u" * n
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                    bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2]))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + udp
def ip6(sport, dport, n=20):
    udp = struct.pack("!HHHH", sport, dport, 8 + n, 0) + b"v" * n
    a = bytes.fromhex("20010002" + "00" * 11 + "01")
    b = bytes.fromhex("20010002" + "00" * 11 + "02")
    return struct.pack("!IHBB", 6 << 28, len(udp), 17, 64) + a + b + udp
def pcap(name, lt, frames):
    with open(f"{d}/{name}", "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, lt))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)) + fr)
def sll(hatype, proto, data):
    return struct.pack(">HHH8sH", 0, hatype, 6, b"\x02\0\0\0\0\x09\0\0",
                       proto) + data
# tcpdump -i any on a GRE tunnel: SLL's protocol is the GRE type.
pcap("gre.pcap", 113, [sll(778, 0x0800, ip4(1, 2)), sll(778, 0x86dd, ip6(3, 4))])
# BSD NULL with an ethertype in either order, and PPP in HDLC framing.
pcap("null.pcap", 0, [struct.pack("<I", 0x0800) + ip4(5, 6),
                      struct.pack(">I", 0x86dd) + ip6(7, 8),
                      b"\xff\x03\x00\x21" + ip4(9, 10),
                      b"\xff\x03\x00\x57" + ip6(11, 12)])
# LINKTYPE_IPV4 holding an IPv6 packet; an empty raw IP frame.
pcap("ipv4lt.pcap", 228, [ip6(13, 14), ip4(15, 16), b""])
pcap("raw101.pcap", 101, [ip4(17, 18), b""])
# LLC/SNAP longer than an 802.3 length can say: SLL's 802.2 protocol, and
# Ethernet's Jumbo LLC ethertype 0x8870 (scapy's default for LLC).
snap = b"\xaa\xaa\x03\x00\x00\x00\x08\x00"
pcap("llc.pcap", 113, [sll(1, 0x0004, snap + ip4(19, 20, 2000))])
pcap("jllc.pcap", 1, [b"\x02" * 6 + b"\x04" * 6 + b"\x88\x70" + snap +
                      ip4(21, 22, 2000)])
PY
	local c want
	for c in gre null ipv4lt raw101 llc jllc; do
		agrees "$c" "$T/$c.pcap" || continue
	done
	# Every IP packet above made a record, with its own ports.
	for c in gre:1,3 null:5,7,9,11 ipv4lt:13,15 raw101:17 llc:19 jllc:21; do
		want=${c#*:}
		expect_eq "${c%%:*} sports" \
			"$(jq -s -r 'map(.sport) | join(",")' "$T/${c%%:*}.ndjson")" "$want"
	done
	grep -q " 0 refused" "$T/raw101.err" || fail "an empty raw IP frame refused: $(cat "$T/raw101.err")"
	for c in llc jllc; do  # whole packets: walked, not cut
		expect_eq "$c flags" "$(jq -c .flags "$T/$c.ndjson")" '["llc_snap"]'
	done
}

test_editcap_mergecap() {
	local n
	[ -s "$T/two.pcapng" ] && [ -s "$T/sll2.pcap" ] ||
		{ fail "needs the captures of the cases above"; return; }
	n=$(tshark -r "$T/two.pcapng" 2>/dev/null | wc -l)
	# pcapng to pcap with nanoseconds: the same records, no interface.
	editcap -F nsecpcap "$T/two.pcapng" "$T/ns.pcap" || { fail "editcap nsecpcap"; return; }
	agrees ns "$T/ns.pcap" || return
	cmp -s <(strip "$T/ns.ndjson") <(jq -c '.ifindex = 0' "$T/two.ndjson" | strip) ||
		fail "nanosecond pcap: records differ from the pcapng's"
	[ "$(count ns '.ts | test("000Z$") | not')" -gt 0 ] ||
		fail "no record has a timestamp finer than a microsecond"

	# An Ethernet pcapng and an SLL2 pcap merged: two link types in one
	# file; the records of both, unchanged.
	mergecap -F pcapng -w "$T/merged.pcapng" "$T/two.pcapng" "$T/sll2.pcap" ||
		{ fail mergecap; return; }
	agrees merged "$T/merged.pcapng" || return
	grep -q "link types: ether $n, linux-sll2 24;" "$T/merged.err" ||
		fail "merged: $(cat "$T/merged.err")"
	cmp -s <(strip "$T/merged.ndjson" | sort) \
		<(strip "$T/two.ndjson" "$T/sll2.ndjson" | sort) ||
		fail "merged records differ from those of its two captures"

	# Ethernet headers chopped off, raw IP: every frame without a VLAN
	# tag gives the same record. editcap keeps the wire length, which
	# still counts the 14 bytes chopped off, and the reader adds 14 of
	# its own.
	editcap -F nsecpcap -C 14 -T rawip "$T/ns.pcap" "$T/raw.pcap" || { fail "editcap rawip"; return; }
	agrees raw "$T/raw.pcap" || return
	grep -q "link types: rawip $n;" "$T/raw.err" || fail "raw: $(cat "$T/raw.err")"
	# What is not IPv4 or IPv6 (ARP, tagged frames, cut short by -C) is
	# counted not IP: its made-up Ethernet header must not read as an
	# 802.3 length and send it into the LLC parser.
	grep -q "llc_trunc" "$T/raw.err" && fail "non-IP raw frames parsed as LLC: $(tail -2 "$T/raw.err")"
	cmp -s <(strip "$T/raw.ndjson" | sort) \
		<(jq -c 'select(.flags | index("vlan") | not) | .frame_len += 14' \
			"$T/ns.ndjson" | strip | sort) ||
		fail "raw IP records differ from the Ethernet ones"

	# Cut to 60 bytes (into a pcapng, editcap's default): the wire
	# length stays, ip_trunc where the IP packet went past byte 60,
	# fields from what is left.
	editcap -s 60 "$T/ns.pcap" "$T/s60.pcapng" || { fail "editcap -s 60"; return; }
	agrees s60 "$T/s60.pcapng" || return
	jq -s -e --slurpfile cut "$T/s60.ndjson" '
		INDEX(.ts) as $whole | $cut | all(.[];
			$whole[.ts] as $w | $w != null and
			.frame_len == $w.frame_len and .ip_len == $w.ip_len and
			((.flags | index("ip_trunc")) != null) ==
			(($w.flags | index("ip_trunc")) != null or .frame_len > 60))' \
		"$T/ns.ndjson" >/dev/null || fail "cut records do not match the whole ones"
	# QinQ IPv6 frames (14 + 8 + 40 bytes of headers) lose their record.
	expect_eq s60_records "$(wc -l <"$T/s60.ndjson")" \
		$(($(wc -l <"$T/ns.ndjson") - $(count ns '.flags | index("vlan_qinq")')))
}

# A real TCP connection over a veth pair with segmentation offload: the
# receiving side captures GSO frames of up to 64 KiB, longer than a
# test run takes (3520 bytes).
test_gso_frames() {
	local pid spid big syn
	netns_pair 3 || { fail "veth"; return; }
	ip netns exec "$NSA" timeout 20 tcpdump -i xa3 -w "$T/gso.pcap" -U \
		2>"$T/gso.log" &
	pid=$!
	wait_for "$T/gso.log" "listening on" || { kill $pid; return; }
	ip netns exec "$NSA" timeout 15 "$PY" -c '
import socket
s = socket.socket()
s.bind(("198.18.3.1", 5001))
s.listen(1)
s.settimeout(10)
c, _ = s.accept()
c.settimeout(10)
n = 0
while True:
    b = c.recv(1 << 16)
    if not b:
        break
    n += len(b)
print(n)
' >"$T/gso.server" &
	spid=$!
	# (connections refused until it listens: their SYNs are captured
	# too, the connection's is the last)
	ip netns exec "$NSB" timeout 15 "$PY" -c '
import socket, time
for _ in range(100):
    try:
        c = socket.create_connection(("198.18.3.1", 5001), timeout=10)
        break
    except ConnectionRefusedError:
        time.sleep(0.05)
c.sendall(b"\x5a" * 1000000)
c.close()
' || fail "client"
	wait $spid || fail "server"
	expect_eq received "$(cat "$T/gso.server")" 1000000
	sleep 0.3
	kill -INT $pid
	wait $pid
	agrees gso "$T/gso.pcap" || return
	big=$(count gso '.frame_len > 3520')
	[ "$big" -gt 0 ] || { fail "no frame over 3520 bytes: GSO off?"; return; }
	diag "$big frames over 3520 bytes, the longest $(jq -s 'map(.frame_len) | max' "$T/gso.ndjson")"
	# Their length on the wire, IP's total length; the program had
	# 3520 bytes of each (ip_trunc), the TCP header whole: the
	# connection's ports, ACK set.
	syn=$(jq -s 'map(select(.tcp_flags == 2)) | last | .sport' "$T/gso.ndjson")
	expect_eq big_fields "$(count gso ".frame_len > 3520 and .ip_len == .frame_len - 14 and .flags == [\"ip_trunc\"] and .proto == 6 and .sport == $syn and .dport == 5001 and (.tcp_flags / 16 | floor) % 2 == 1")" "$big"
	expect_eq cut_to_3520 "$(sed -n 's/.*, \([0-9]*\) cut to 3520 bytes.*/\1/p' "$T/gso.err")" "$big"
}

# run_with "TOOLS" NAME: the case, or a skip naming the tool missing.
run_with() {
	local t
	for t in $1; do
		if ! command -v "$t" >/dev/null; then
			TAP_N=$((TAP_N + 1))
			echo "ok $TAP_N - $2 # SKIP needs $t (scripts/install-deps)"
			return
		fi
	done
	run_case "$2"
}

run_with tcpdump test_tcpdump_any_cooked
run_with dumpcap test_dumpcap_two_interfaces
run_with "tcpdump dumpcap editcap mergecap" test_editcap_mergecap
run_with tcpdump test_gso_frames
run_with tshark test_link_headers_other_systems_write
tap_end
