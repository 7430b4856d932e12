#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# xdpctl's command line: each command takes the options of its own table
# and refuses any other by name, its --help lists exactly those, and the
# invocations of the docs, scripts and tests still parse. xdpctl parses
# the whole line before it connects, so without a daemon a line it took
# exits 3 (no daemon) and one it refused exits 2: the argument checks need
# no daemon and no root. The last case runs the same lines against one.
. "$(dirname "$0")/lib.sh"

NOSOCK=$T/nosuch.sock
COMMANDS="attach detach list stats tail flows extract config version"
OPTIONS="mode all socket json watch iterations format count proto port
	 output quiet flows idle-timeout active-timeout accounting splt columns
	 flow-table-size top help"

# What each command takes: the specification this test holds xdpctl to.
declare -A TAKES=(
	[attach]="mode socket json help"
	[detach]="all socket json help"
	[list]="socket json help"
	[stats]="watch iterations socket json help"
	[tail]="format count proto port socket help"
	[flows]="format count columns proto port top watch iterations socket json help"
	[extract]="format output quiet flows idle-timeout active-timeout accounting splt columns flow-table-size help"
	[config]="socket json help"
	[version]="socket json help"
)
# A value each option accepts, so that only the command can refuse it.
declare -A VALUE=(
	[mode]=native [socket]=$NOSOCK [watch]=1 [iterations]=2 [format]=csv
	[count]=3 [proto]=6 [port]=53 [output]=$T/out
	[idle-timeout]=5 [active-timeout]=10 [accounting]=ip [splt]=4
	[columns]=nfstream [flow-table-size]=2048 [top]=3
)
# Arguments that make each command's line valid otherwise.
declare -A ARGS=(
	[attach]=xa1 [detach]=xa1 [stats]=xa1 [tail]=xa1 [flows]=xa1
	[extract]=$T/none.pcap [config]=get
)

takes() { [[ " ${TAKES[$1]} " == *" $2 "* ]]; }

# opt NAME: the option as words, with its value when it takes one.
opt() {
	echo "--$1${VALUE[$1]:+ ${VALUE[$1]}}"
}

# expect_refused WHAT OPTION COMMAND ARGS...: xdpctl ARGS must exit 2
# naming OPTION and COMMAND, then show COMMAND's usage.
expect_refused() {
	local what=$1 option=$2 cmd=$3 err rc
	shift 3
	err=$("$XDPCTL" "$@" 2>&1 >/dev/null)
	rc=$?
	expect_eq "$what: status" "$rc" 2
	case $err in
	*"xdpctl $cmd: option '$option' is not valid here"*) ;;
	*) fail "$what: no refusal naming $option: $err" ;;
	esac
	case $err in
	*"Usage: xdpctl $cmd "*) ;;
	*) fail "$what: no usage of $cmd after the refusal: $err" ;;
	esac
}

test_other_commands_options_refused() {
	local cmd o n=0 nosock
	for cmd in $COMMANDS; do
		# Should a refusal fail, the line must not reach a daemon.
		nosock=
		takes "$cmd" socket && nosock="--socket $NOSOCK"
		for o in $OPTIONS; do
			takes "$cmd" "$o" && continue
			# shellcheck disable=SC2046,SC2086 # words, split
			expect_refused "$cmd --$o" "--$o" "$cmd" \
				$nosock "$cmd" ${ARGS[$cmd]:-} $(opt "$o")
			# Before the command, as a global option would go.
			# shellcheck disable=SC2046,SC2086
			expect_refused "--$o $cmd" "--$o" "$cmd" \
				$(opt "$o") $nosock "$cmd" ${ARGS[$cmd]:-}
			n=$((n + 1))
		done
	done
	# 21 options, 9 commands, 50 taken: no refusal is left out.
	expect_eq refused "$n" 139
	# A short option is named as it was given.
	expect_refused "stats -m" -m stats -s "$NOSOCK" stats -m native
	expect_refused "extract -s" -s extract extract "$T/x.pcap" -s "$NOSOCK"
	expect_refused "tail -j" -j tail -s "$NOSOCK" tail -j
}

# help_options COMMAND: the long names its --help lists, sorted.
help_options() {
	"$XDPCTL" "$1" --help | sed -nE 's/^ +(-[a-zA-Z], )?--([a-z-]+).*/\2/p' |
		sort | tr '\n' ' '
}

test_help_lists_exactly_own_options() {
	local cmd want out rc
	for cmd in $COMMANDS; do
		want=$(tr ' ' '\n' <<<"${TAKES[$cmd]}" | sort | tr '\n' ' ')
		expect_eq "$cmd --help" "$(help_options "$cmd")" "$want"
		out=$("$XDPCTL" "$cmd" --help)
		rc=$?
		expect_eq "$cmd --help status" "$rc" 0
		case $out in
		"Usage: xdpctl $cmd "*) ;;
		*) fail "$cmd --help: not its usage: $out" ;;
		esac
		# Help wins over the rest of the line, before the command too.
		expect_eq "--help $cmd" \
			"$("$XDPCTL" --help "$cmd" -m x -s "$NOSOCK" 2>&1)" "$out"
	done
}

test_global_help_lists_commands() {
	local out cmd
	out=$("$XDPCTL" --help) || fail "--help status $?"
	for cmd in $COMMANDS; do
		grep -qE "^  $cmd( |$)" <<<"$out" || fail "--help lacks $cmd: $out"
	done
	grep -q "attach IFACE" <<<"$out" || fail "--help lacks 'attach IFACE'"
	out=$("$XDPCTL" 2>&1 >/dev/null)
	expect_eq "no command: status" "$?" 2
	case $out in
	"Usage: xdpctl "*) ;;
	*) fail "no command: no usage on stderr: $out" ;;
	esac
	"$XDPCTL" frobnicate >/dev/null 2>&1
	expect_eq "unknown command: status" "$?" 2
	"$XDPCTL" -s "$NOSOCK" stats --frobnicate >/dev/null 2>&1
	expect_eq "unknown option: status" "$?" 2
}

# The lines of README, docs/xdpctl.8, scripts/demo, bench/ and the other
# integration tests, after "xdpctl --socket PATH".
DAEMON_LINES=(
	"attach xa1"
	"attach xa1 --mode native"
	"attach xa2 --mode generic"
	"detach xa1"
	"detach --all"
	"list"
	"list --json"
	"stats"
	"stats --json"
	"stats xa1 --json"
	"stats --watch 1"
	"stats --watch 1 --iterations 3"
	"tail xa1 --count 10"
	"tail xa1 --count 2 --format csv"
	"tail --format binary --count 1000"
	"tail xa1 --count 3 --proto 6"
	"tail xa1 --count 2 --port 7777"
	"flows"
	"flows xa1 --count 2 --format ndjson"
	"flows --format csv --columns nfstream --count 1"
	"flows --format binary --count 5"
	"flows --top 10"
	"flows --top 5 --watch 1 --iterations 2"
	"flows --watch 1 --iterations 2"
	"flows --top 3 --json"
	"config set sample=100 max_subscribers=2"
	"config get"
	"config get sample"
	"version"
)

test_known_invocations_parse() {
	local line err rc
	for line in "${DAEMON_LINES[@]}"; do
		# shellcheck disable=SC2086 # the line's words
		err=$("$XDPCTL" --socket "$NOSOCK" $line 2>&1 >/dev/null)
		rc=$?
		expect_eq "$line: status" "$rc" 3
		case $err in
		*"cannot connect to $NOSOCK"*) ;;
		*) fail "$line: did not get as far as connecting: $err" ;;
		esac
	done
	# The socket after the command and as -s (bench/subscribers_cpu.sh).
	"$XDPCTL" stats --json --socket "$NOSOCK" >/dev/null 2>&1
	expect_eq "socket after: status" "$?" 3
	"$XDPCTL" -s "$NOSOCK" attach b0 >/dev/null 2>&1
	expect_eq "-s: status" "$?" 3
	# extract needs no daemon: a missing capture is its own status 1.
	for line in "--quiet" "--format csv -o $T/c.csv" \
		"--format binary -o $T/c.bin --quiet" "-o $T/c.ndjson --quiet" \
		"--quiet --format csv"; do
		# shellcheck disable=SC2086
		err=$("$XDPCTL" extract "$T/none.pcap" $line 2>&1 >/dev/null)
		rc=$?
		expect_eq "extract $line: status" "$rc" 1
		case $err in
		*"xdpctl: extract: "*none.pcap*) ;;
		*) fail "extract $line: did not get as far as the file: $err" ;;
		esac
	done
}

test_bad_values_still_usage_errors() {
	"$XDPCTL" --socket "$NOSOCK" attach xa1 --mode warp >/dev/null 2>&1
	expect_eq bad_mode "$?" 2
	"$XDPCTL" --socket "$NOSOCK" stats --watch 0 >/dev/null 2>&1
	expect_eq bad_watch "$?" 2
	"$XDPCTL" --socket "$NOSOCK" tail --format xml >/dev/null 2>&1
	expect_eq bad_format "$?" 2
	"$XDPCTL" --socket "$NOSOCK" tail --port 65536 >/dev/null 2>&1
	expect_eq bad_port "$?" 2
	"$XDPCTL" --socket "$NOSOCK" detach xa1 --all >/dev/null 2>&1
	expect_eq detach_both "$?" 2
	"$XDPCTL" --socket "$NOSOCK" flows --top 0 >/dev/null 2>&1
	expect_eq top_zero "$?" 2
	# --watch alone is the --top table (a valid line: the socket is
	# what fails); --iterations alone, or --watch with a stream's
	# options, is not.
	"$XDPCTL" --socket "$NOSOCK" flows --watch 1 >/dev/null 2>&1
	expect_eq watch_without_top "$?" 3
	"$XDPCTL" --socket "$NOSOCK" flows --iterations 2 >/dev/null 2>&1
	expect_eq iterations_without_watch "$?" 2
	"$XDPCTL" --socket "$NOSOCK" flows xa1 --watch 1 >/dev/null 2>&1
	expect_eq watch_with_iface "$?" 2
	"$XDPCTL" --socket "$NOSOCK" flows xa1 --top 3 >/dev/null 2>&1
	expect_eq top_with_iface "$?" 2
	"$XDPCTL" --socket "$NOSOCK" flows --columns ms >/dev/null 2>&1
	expect_eq bad_columns "$?" 2
}

# The same kinds of lines, for real: they reach the daemon and it answers.
test_invocations_against_the_daemon() {
	local out pid
	netns_pair 1 || { fail "cannot create a veth pair"; return; }
	start_daemon || return
	out=$(ctl attach xa1 --mode generic) || fail "attach --mode: $out"
	expect_eq list "$(ctl list --json | jq -r '.interfaces[].name')" xa1
	expect_eq stats_iface "$(ctl stats xa1 --json |
		jq -r '.interfaces[].name')" xa1
	expect_eq watch_prints "$(ctl stats --watch 1 --iterations 2 |
		grep -c '^INTERFACE')" 2
	ctl tail xa1 --count 2 --format csv --proto 17 >"$T/tail.csv" &
	pid=$!
	sleep 0.3
	send 1 2 udp4 --sport 1111 --dport 53
	if ! timeout 5 tail --pid=$pid -f /dev/null; then
		kill $pid
		fail "tail did not end after 2 records"
	fi
	wait $pid || fail "tail failed"
	expect_eq tail_lines "$(wc -l <"$T/tail.csv")" 3
	ctl config set sample=1 >/dev/null || fail "config set"
	expect_eq config_get "$(ctl config get sample)" 1
	ctl version --json | jq -e .protocol >/dev/null || fail "version --json"
	ctl flows --top 2 --json | jq -e '.flows | type == "array"' >/dev/null ||
		fail "flows --top --json"
	expect_eq detach "$(ctl detach --all --json | jq -r '.detached[]')" xa1
	stop_daemon
}

run_case test_other_commands_options_refused
run_case test_help_lists_exactly_own_options
run_case test_global_help_lists_commands
run_case test_known_invocations_parse
run_case test_bad_values_still_usage_errors
if [ "$(id -u)" = 0 ] && command -v jq >/dev/null &&
	ip netns add "xppprobe-$ID" 2>/dev/null; then
	ip netns del "xppprobe-$ID"
	run_case test_invocations_against_the_daemon
else
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - test_invocations_against_the_daemon # SKIP needs" \
		"root, jq and network namespaces"
fi
tap_end
