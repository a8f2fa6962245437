#!/bin/sh
# tests/net/test_replay_diff.sh DIR - pcap-replay's differential mode against
# the real Linux kernel: in two namespaces joined by a veth pair, a peer
# pings a Linux host, sends UDP to a closed port, and (when our stack has TCP)
# talks TCP to it; tcpdump records the host side.  `pcap-replay diff` then
# injects the peer's frames into our stack (configured with the host's MAC and
# address) and must find the same answers as Linux's, flow by flow.
set -u
DIR=${1:-build/normal}
BIN=$DIR/pcap-replay
[ -x "$BIN" ] || { echo "no $BIN"; exit 1; }
command -v tcpdump >/dev/null || { echo "SKIP: tcpdump missing"; exit 0; }
PY=/usr/bin/python3
H=nsrh$$
P=nsrp$$
T=$(mktemp -d /tmp/nsr-diff.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	ip netns del "$H" 2>/dev/null
	ip netns del "$P" 2>/dev/null
	[ -n "${KEEP:-}" ] && cp -r "$T" /tmp/nsr-keep; rm -rf "$T"
}
trap cleanup EXIT INT TERM
ip netns add "$H" && ip netns add "$P" || exit 1
ip link add nsrh0 netns "$H" address 02:00:00:00:00:01 type veth peer name nsrp0 netns "$P" address 02:00:00:00:00:02 || exit 1
for ns in "$H" "$P"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$H" addr add 198.18.0.1/24 dev nsrh0
ip -n "$P" addr add 198.18.0.2/24 dev nsrp0
ip -n "$H" link set nsrh0 up
ip -n "$P" link set nsrp0 up
ip -n "$H" link set lo up
# Linux's stock TCP buffer sizes (what netstack's defaults follow), whatever this host uses
ip netns exec "$H" sysctl -qw net.ipv4.tcp_rmem="4096 131072 6291456" net.ipv4.tcp_wmem="4096 16384 4194304" 2>/dev/null

cat >"$T/host.conf" <<CONF
mac 02:00:00:00:00:01
addr 198.18.0.1/24
flags noauto6 nodad
listen tcp 8080
CONF

# the captures: tcpdump on the host's interface while the peer talks to it
capture() {   # capture NAME COMMAND...
	name=$1; shift
	ip netns exec "$H" tcpdump -i nsrh0 --immediate-mode -U -n -w "$T/$name.pcap" >/dev/null 2>&1 &
	tp=$!
	PIDS="$PIDS $tp"
	i=0; while [ ! -s "$T/$name.pcap" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	"$@"
	sleep 0.5
	kill "$tp"; wait "$tp" 2>/dev/null
}
peer_icmp_udp() {
	ip netns exec "$P" ping -c 2 -i 0.2 -W 1 198.18.0.1 >/dev/null
	ip netns exec "$P" "$PY" -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"is anybody there?", ("198.18.0.1", 5555)); time.sleep(0.1)
s.sendto(b"x" * 1200, ("198.18.0.1", 5556)); time.sleep(0.1)'
}
fail=0
capture icmp_udp peer_icmp_udp
echo "== differential replay: ICMP echo, UDP to closed ports"
"$BIN" diff --config "$T/host.conf" --in "$T/icmp_udp.pcap" -v | tee "$T/icmp_udp.txt"
grep -q "^SAME" "$T/icmp_udp.txt" || fail=1

# TCP only once the stack has it (a stream socket can be opened)
printf '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 close(3) = 0\n' >"$T/probe.pkt"
if "$BIN" script "$T/probe.pkt" | grep -q '^PASS'; then
	peer_tcp() {
		ip netns exec "$H" "$PY" -c '
import socket, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("198.18.0.1", 8080)); l.listen(8); l.settimeout(5)
c, _ = l.accept(); c.settimeout(5)
while True:
    d = c.recv(65536)
    if not d: break
c.close()' &
		lp=$!
		sleep 0.3
		ip netns exec "$P" "$PY" -c '
import socket, time
s = socket.create_connection(("198.18.0.1", 8080), timeout=5)
s.sendall(b"hello"); time.sleep(0.1); s.sendall(b"y" * 3000); time.sleep(0.3)
s.shutdown(socket.SHUT_WR); time.sleep(0.5); s.close()
try:
    socket.create_connection(("198.18.0.1", 9), timeout=2)
except OSError:
    pass'
		wait "$lp"
	}
	capture tcp peer_tcp
	echo "== differential replay: TCP handshake, data, close, RST from a closed port"
	"$BIN" diff --config "$T/host.conf" --in "$T/tcp.pcap" -v | tee "$T/tcp.txt"
	# Asserted: the RST from a closed port is the same, and the handshake and data ACKs
	# (packets 1-3) line up (flags, relative seq/ack, options, lengths) - which needs the
	# on-the-fly ISN/TS rewriting to work.  Window sizing and the close sequence are
	# reported above (real differences are the TCP owners' to judge), not asserted here;
	# so is the SYN-ACK's MSS (a known bug: tests/replay/corpus/known_failures.txt).
	grep -qE "^flow tcp 198.18.0.1.9 > .*linux sent 1, ours 1, 0 differ" "$T/tcp.txt" || fail=1
	if grep -E "8080 > .*\] packet [123]: " "$T/tcp.txt" | grep -vqE "packet [0-9]+: (win: [^;]*; |wscale: [^;]*; |mss: [^;]*; )+$"; then
		fail=1
	fi
else
	echo "note: TCP part skipped (the stack cannot open a stream socket yet)"
fi
[ $fail = 0 ] && echo "PASS test_replay_diff" || echo "FAIL test_replay_diff"
exit $fail
