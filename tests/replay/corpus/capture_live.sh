#!/bin/sh
# tests/replay/corpus/capture_live.sh BUILD_DIR - records live sessions of the
# Linux kernel against netstackd (netstackd --pcap, both directions) for the
# corpus: NAME.in.pcap.  The replay skips netstackd's own frames (our MAC) and
# adapts the kernel's ISN/TS echoes to the replayed stack.  Run as root, then
# review and regenerate the expected outputs with regen.sh.
set -u
B=${1:-build/normal}
D=$(cd "$(dirname "$0")" && pwd)
N=nsrlive$$
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	ip netns del "$N" 2>/dev/null
}
trap cleanup EXIT INT TERM
ip netns add "$N" || exit 1
ip netns exec "$N" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec "$N" sysctl -qw net.ipv4.tcp_rmem="4096 131072 6291456" net.ipv4.tcp_wmem="4096 16384 4194304"
live() {   # live NAME PYTHON-CLIENT
	ip netns exec "$N" "$B/netstackd" --tap nsrl0 --mac 02:00:00:00:00:01 --ip4 198.18.0.1/24 \
		--host-ip4 198.18.0.2/24 --no-offload --services echo,discard --pcap "/tmp/$N.$1.pcap" &
	PIDS="$PIDS $!"
	np=$!
	i=0; while ! ip netns exec "$N" ip link show nsrl0 >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 0.5
	ip netns exec "$N" ip link set nsrl0 address 02:00:00:00:00:02 2>/dev/null
	ip netns exec "$N" /usr/bin/python3 -c "$2"
	sleep 0.5
	kill "$np"; wait "$np" 2>/dev/null
	cp "/tmp/$N.$1.pcap" "$D/$1.in.pcap" && rm -f "/tmp/$N.$1.pcap"
	echo "$1: $(tcpdump -nn -r "$D/$1.in.pcap" 2>/dev/null | wc -l) frames"
}
live tcp_live_echo '
import socket
s = socket.create_connection(("198.18.0.1", 7), timeout=5)
data = bytes(range(256)) * 40
s.sendall(data)
got = b""
while len(got) < len(data):
    got += s.recv(65536)
assert got == data
s.shutdown(socket.SHUT_WR)
assert s.recv(10) == b""
s.close()'
live tcp_live_discard_bulk '
import socket, time
s = socket.create_connection(("198.18.0.1", 9), timeout=5)
s.sendall(b"d" * 200000)
s.shutdown(socket.SHUT_WR)
s.recv(10)
s.close()'
