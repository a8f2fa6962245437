#!/bin/sh
# tests/bench/run.sh [BUILD_DIR] - `make bench`: netstackd against the Linux
# kernel, with the kernel talking to itself over veth as the reference, all
# inside network namespaces this script creates (and deletes on exit).
#
# Clients are always Linux kernel sockets (tests/bench/nsbench.c, wrk, ping).
# Scenarios: "veth" = kernel client in one namespace, kernel server
# (nsbench serve) in another, joined by a veth pair: the reference.
# "tap" = netstackd on a tap with offloads (virtio-net header, TSO/GRO);
# "tap-plain" = the same without offloads; "tap-mq2" = multi-queue tap with
# --threads 2; "afpacket" = netstackd --packet on one end of a veth pair
# (TPACKET_V3 ring), "afpacket-v2" = the same with --packet-ring v2.
#
# Figures: stream kernel->stack and stack->kernel (Gbit/s, discard/chargen),
# 1-byte request/response rate (echo), connect-request-close rate (echo),
# HTTP requests/s (wrk), ping RTT, netstackd peak RSS; a ratio to the veth
# reference for each.  Plus the timer-heap microbenchmark, TCP at scale
# (tcp_scale_bench.c, BENCH_SCALE_N connections, default 100000) and AF_PACKET
# transmit with sendmmsg against a TPACKET_V2 TX ring.
# Environment: BENCH_SECS (default 3) per measurement, BENCH_SCENARIOS
# (default "tap tap-plain afpacket tap-mq2").  Benchmarks, never assertions.
set -u
B=${1:-build/normal}
SECS=${BENCH_SECS:-3}
SCEN=${BENCH_SCENARIOS-"tap tap-plain afpacket afpacket-v2 tap-mq2"}
ND=$B/netstackd
BIN=$B/bench
id=$$
pids=""
nss=""
mkdir -p "$BIN"

if [ "$(id -u)" != 0 ]; then echo "bench: needs root (network namespaces)"; exit 1; fi
cc -std=gnu11 -O2 -Wall -pthread tests/bench/nsbench.c -o "$BIN/nsbench" || exit 1
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -pthread -I. -Inetstack tests/bench/timer_bench.c \
	"$B/libnetstack.a" -lurcu-bp -lurcu-cds -lpthread \
	$(pkg-config --libs libnl-route-3.0 2>/dev/null) -lpcap -o "$BIN/timer_bench" || exit 1
cc -std=gnu11 -O2 -Wall tests/bench/afp_tx_bench.c -o "$BIN/afp_tx_bench" || exit 1
NSB=$(cd "$BIN" && pwd)/nsbench

# only PIDs still our children: one that ended earlier (a stopped scenario's
# netstackd) may have been reused by another run on the machine
ours() { [ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ]; }
cleanup() {
	live=""
	for p in $pids; do ours "$p" && live="$live $p"; done
	for p in $live; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $live; do ours "$p" && kill -9 "$p" 2>/dev/null; done
	for n in $nss; do ip netns del "$n" 2>/dev/null; done
}
trap cleanup EXIT INT TERM

mkns() {
	ip netns add "$1" || exit 1
	nss="$nss $1"
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10000 65000"
}

# measure NS HOST LABEL: fills the M_* variables for one scenario
measure() {
	ns=$1; host=$2
	x() { timeout $((SECS + 20)) ip netns exec "$ns" "$@" 2>/dev/null; }
	M_SEND=$(x "$NSB" send "$host" 9 "$SECS" || echo -)
	M_RECV=$(x "$NSB" recv "$host" 19 "$SECS" || echo -)
	M_RR=$(x "$NSB" rr "$host" 7 "$SECS" || echo -)
	M_CRR=$(x "$NSB" crr "$host" 7 "$SECS" || echo -)
	M_FETCH=$(x "$NSB" fetch "$host" 80 1000000000 || echo -)
	if command -v wrk >/dev/null 2>&1; then
		M_HTTP=$(x wrk -t2 -c32 -d"${SECS}s" "http://$host/" | awk '/Requests\/sec/ {printf "%.0f", $2}')
		[ -n "$M_HTTP" ] || M_HTTP=-
	else
		M_HTTP=-
	fi
	M_PING=$(x ping -c 200 -i 0.005 -q "$host" | awk -F/ '/^rtt|^round-trip/ {print $5}')
	[ -n "$M_PING" ] || M_PING=-
}

wait_ping() {  # ns host
	i=0
	while [ $i -lt 50 ]; do
		ip netns exec "$1" ping -c1 -W1 "$2" >/dev/null 2>&1 && return 0
		i=$((i + 1)); sleep 0.1
	done
	echo "bench: $2 does not answer ping from $1" >&2
	return 1
}

rss_of() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo -; }

results=""
record() {  # label
	results="$results
$1 $M_SEND $M_RECV $M_RR $M_CRR $M_HTTP $M_PING $M_FETCH ${M_RSS:--}"
}

# ---- reference: kernel <-> kernel over veth ----------------------------------------
rc=nsbR-c$id; rs=nsbR-s$id
mkns "$rc"; mkns "$rs"
ip link add vbr0-$id netns "$rc" type veth peer name vbr1-$id netns "$rs"
ip -n "$rc" addr add 198.18.10.1/24 dev vbr0-$id; ip -n "$rc" link set vbr0-$id up
ip -n "$rs" addr add 198.18.10.2/24 dev vbr1-$id; ip -n "$rs" link set vbr1-$id up
ip netns exec "$rs" "$NSB" serve 2>/dev/null & pids="$pids $!"
sleep 0.3
wait_ping "$rc" 198.18.10.2
echo "bench: measuring veth reference (kernel <-> kernel)"
measure "$rc" 198.18.10.2; M_RSS=-
record veth

# ---- netstackd scenarios ---------------------------------------------------------------
start_nd() {  # ns args...: starts netstackd in ns, sets ND_PID
	n=$1; shift
	ip netns exec "$n" "$ND" --log-level error "$@" &
	ND_PID=$!
	pids="$pids $ND_PID"
}
stop_nd() { kill "$ND_PID" 2>/dev/null; wait "$ND_PID" 2>/dev/null; }

run_tap() {  # label extra-args...
	label=$1; shift
	n=nsbT$label$id; mkns "$n"
	start_nd "$n" --tap nbt0 --mac 02:5e:ed:00:11:02 --ip4 198.18.11.2/24 "$@"
	i=0; while [ $i -lt 50 ] && ! ip -n "$n" link show nbt0 >/dev/null 2>&1; do sleep 0.1; i=$((i + 1)); done
	ip -n "$n" addr add 198.18.11.1/24 dev nbt0 2>/dev/null
	ip -n "$n" link set nbt0 up
	if wait_ping "$n" 198.18.11.2; then
		echo "bench: measuring $label"
		measure "$n" 198.18.11.2; M_RSS=$(rss_of "$ND_PID")
		record "$label"
	fi
	stop_nd
}

run_packet() {  # label extra-args...
	label=$1; shift
	c=nsbPc$label$id; s=nsbPs$label$id; mkns "$c"; mkns "$s"
	ip link add vbp0-$id netns "$c" type veth peer name vbp1-$id netns "$s"
	ip -n "$c" addr add 198.18.12.1/24 dev vbp0-$id; ip -n "$c" link set vbp0-$id up
	ip netns exec "$s" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$s" link set vbp1-$id up
	start_nd "$s" --packet vbp1-$id --mac 02:5e:ed:00:12:02 --ip4 198.18.12.2/24 "$@"
	if wait_ping "$c" 198.18.12.2; then
		echo "bench: measuring $label"
		measure "$c" 198.18.12.2; M_RSS=$(rss_of "$ND_PID")
		record "$label"
	fi
	stop_nd
}

for sc in $SCEN; do
	case $sc in
	tap) run_tap tap ;;
	tap-plain) run_tap tap-plain --no-offload ;;
	tap-mq2) run_tap tap-mq2 --threads 2 ;;
	afpacket) run_packet afpacket ;;
	afpacket-v2) run_packet afpacket-v2 --packet-ring v2 ;;
	esac
done

echo
"$BIN/timer_bench"
# TCP at scale: 100,000 connections between two stacks on channels (virtual clock)
cc -std=gnu11 -O2 -pthread -I. -Inetstack -Itests/unit tests/bench/tcp_scale_bench.c tests/unit/helpers/ns_test.c \
	"$B/libnetstack.a" -lurcu-bp -lurcu-cds -lpthread $(pkg-config --libs libnl-route-3.0 2>/dev/null) -lpcap \
	-o "$BIN/tcp_scale_bench" && "$BIN/tcp_scale_bench" "${BENCH_SCALE_N:-100000}"
# AF_PACKET transmit: sendmmsg (used) against a TPACKET_V2 TX ring
tn=nsbX$id; mkns "$tn"
ip -n "$tn" link add vbx0 type veth peer name vbx1
ip -n "$tn" link set vbx0 up; ip -n "$tn" link set vbx1 up
ip netns exec "$tn" "$BIN/afp_tx_bench" vbx0
echo
echo "$results" | awk '
NF == 0 { next }
{ n++; lab[n] = $1; for (i = 2; i <= 9; i++) v[n, i] = $i }
END {
	split("send recv rr crr http ping fetch rss", name, " ")
	split("Gbit/s Gbit/s trans/s conn/s req/s ms Gbit/s KiB", unit, " ")
	split("TCP_stream_kernel->stack TCP_stream_stack->kernel 1-byte_req/resp connect-req-close HTTP_wrk_-c32 ping_RTT_avg HTTP_GET_/bytes/1e9 peak_RSS", desc, " ")
	printf "%-28s %-8s", "measure", "unit"
	for (j = 1; j <= n; j++) printf " %12s", lab[j]
	for (j = 2; j <= n; j++) printf " %9s", "ratio:" lab[j]
	printf "\n"
	for (m = 1; m <= 8; m++) {
		printf "%-28s %-8s", desc[m], unit[m]
		for (j = 1; j <= n; j++) printf " %12s", v[j, m + 1]
		for (j = 2; j <= n; j++) {
			a = v[j, m + 1]; r = v[1, m + 1]
			if (a == "-" || r == "-" || r + 0 == 0) printf " %9s", "-"
			else if (m == 6) printf " %9.2f", r / a      # ping: lower is better
			else printf " %9.2f", a / r
		}
		printf "\n"
	}
	print "(ratio = figure / veth reference; for ping it is reference / figure, so > 1 is better everywhere)"
}'
