#!/bin/sh
# tests/bench/crr_profile.sh [BUILD_DIR] - where netstackd spends its work in
# the connect-request-close benchmark (nsbench crr against the echo service
# over a tap, kernel client in a namespace this script creates and deletes).
#
# Prints: the connection rate natively (and the load average around it), then
# netstackd's instructions per connection under callgrind (counted only while
# the benchmark runs: callgrind_control -z before, -d after; connections from
# the TcpPassiveOpens delta) and the top functions by inclusive and self cost.
# Instruction counts do not depend on the machine's load, rates do.
# Environment: CRR_SECS (native, default 5), CG_SECS (under callgrind,
# default 10), CRR_ARGS (extra netstackd options, e.g. "--workers 1"),
# CG_KEEP=FILE keeps the callgrind profile, PERF=1 adds a `perf record -g` profile of the native run (cpu-clock).
set -u
B=${1:-build/normal}
ND=$(cd "$B" && pwd)/netstackd
BIN=$B/bench
SECS=${CRR_SECS:-5}
CGS=${CG_SECS:-10}
id=$$
NS=nsbC$id
OUT=$(mktemp -d /tmp/crrprof.XXXXXX)
PID=""
if [ "$(id -u)" != 0 ]; then echo "crr_profile: needs root"; exit 1; fi
mkdir -p "$BIN"
cc -std=gnu11 -O2 -Wall -pthread tests/bench/nsbench.c -o "$BIN/nsbench" || exit 1
NSB=$(cd "$BIN" && pwd)/nsbench

ours() { [ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ]; }
cleanup() {
	if [ -n "$PID" ] && ours "$PID"; then
		kill "$PID" 2>/dev/null
		i=0; while ours "$PID" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		ours "$PID" && kill -9 "$PID"
	fi
	ip netns del "$NS" 2>/dev/null
	rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10000 65000"
ip -n "$NS" tuntap add dev nbc0 mode tap
ip -n "$NS" addr add 198.18.13.1/24 dev nbc0
ip -n "$NS" link set nbc0 up
CTL=$OUT/ctl.sock
X() { ip netns exec "$NS" "$@"; }

start() {  # wrapper...: netstackd under the wrapper (may be empty)
	ip netns exec "$NS" "$@" "$ND" --tap nbc0 --mac 02:5e:ed:00:13:02 --ip4 198.18.13.2/24 --ctl "$CTL" \
		--log-level error ${CRR_ARGS:-} >"$OUT/nd.out" 2>"$OUT/nd.err" &
	PID=$!
	i=0
	while [ $i -lt 300 ]; do
		X ping -c1 -W1 198.18.13.2 >/dev/null 2>&1 && return 0
		i=$((i + 1)); sleep 0.2
	done
	echo "crr_profile: netstackd does not answer"; cat "$OUT/nd.err"; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null; PID=""; }
opens() { "$ND" --stats --ctl "$CTL" | awk '$1 == "TcpPassiveOpens" { v = $2 } END { print v + 0 }'; }

# ---- native rate ------------------------------------------------------------------
start
X "$NSB" crr 198.18.13.2 7 1 >/dev/null   # warm-up
l0=$(cut -d' ' -f1 /proc/loadavg)
if [ "${PERF:-}" ]; then
	perf record -q -g -o "$OUT/perf.data" -p "$PID" -- sleep "$SECS" 2>/dev/null &
	PP=$!
fi
rate=$(X "$NSB" crr 198.18.13.2 7 "$SECS")
[ "${PERF:-}" ] && wait $PP
l1=$(cut -d' ' -f1 /proc/loadavg)
echo "connect-request-close: $rate conn/s over ${SECS}s (load average $l0 -> $l1, $(nproc) CPUs)"
if [ "${PERF:-}" ]; then
	perf report -i "$OUT/perf.data" --no-children --stdio --percent-limit 1.5 -g none 2>/dev/null |
		grep -v '^#' | grep -v '^$' | head -40
fi
stop

# ---- instructions per connection under callgrind ----------------------------------------
command -v valgrind >/dev/null 2>&1 || { echo "no valgrind: no instruction counts"; exit 0; }
rm -f "$CTL"
start valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" --dump-instr=no
X "$NSB" crr 198.18.13.2 7 1 >/dev/null
o0=$(opens)
callgrind_control -z "$PID" >/dev/null
crate=$(X "$NSB" crr 198.18.13.2 7 "$CGS")
callgrind_control -d "$PID" >/dev/null
o1=$(opens)
stop
n=$((o1 - o0))
f=$(ls "$OUT"/cg.out.* 2>/dev/null | head -n 1)
[ -n "$f" ] || f=$OUT/cg.out
tot=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
[ "${CG_KEEP:-}" ] && cp "$f" "$CG_KEEP"
echo "under callgrind: $n connections ($crate/s), $tot instructions: $((tot / (n > 0 ? n : 1))) per connection"
echo "--- top functions, self cost (instructions per connection)"
callgrind_annotate "$f" 2>/dev/null | awk -v n="$n" '
	/^-+$/ { s++; next }
	s >= 3 && $1 ~ /^[0-9,]+$/ { c = $1; gsub(",", "", c); $1 = ""; if (k++ < 25) printf "%8d %s\n", c / n, $0 }'
echo "--- inclusive"
callgrind_annotate --inclusive=yes "$f" 2>/dev/null | awk -v n="$n" '
	/^-+$/ { s++; next }
	s >= 3 && $1 ~ /^[0-9,]+$/ { c = $1; gsub(",", "", c); $1 = ""; if (k++ < 30) printf "%8d %s\n", c / n, $0 }'
