#!/bin/sh
# tests/net/test_tap_ipv6.sh DIR - netstackd on a tap against the Linux kernel
# (IPv6): DAD then ping -6 to our global and link-local addresses, 3000-byte
# echoes (fragments both ways), UDP echo with socat and nc over IPv6,
# neighbour discovery in both directions (the kernel resolves us; we probe
# the kernel from DELAY/PROBE), TCP echo and HTTP with curl -6 when TCP is
# built, SLAAC from a router advertisement (default router, MTU option), and
# our Ip6/Icmp6 counters.  Runs as root in a namespace of its own.
set -u
cd "$(dirname "$0")/../.." || exit 1
[ -f tests/net/lib.sh ] || { echo "SKIP: tests/net/lib.sh not here yet"; exit 0; }
. tests/net/lib.sh
net_init "${1:-build/normal}"

TAP=nstap6$$
HOST=fd00:5eed::1
STK=fd00:5eed::2
LL=fe80::5eff:feed:2            # EUI-64 of 02:00:5e:ed:00:02
in_ns ip tuntap add dev "$TAP" mode tap || { echo "FAIL: tuntap"; exit 1; }
in_ns ip -6 addr add $HOST/64 dev "$TAP" nodad
in_ns ip link set "$TAP" up
nsd_start nsd --tap "$TAP" --mac 02:00:5e:ed:00:02 --ip4 198.18.0.2/24 --ip6 $STK/64 \
	--log-level info --pcap "$WORK/cap.pcap" ${NSD_EXTRA:-}
OUT=$WORK/nsd.out
# nsd_start may wrap netstackd in timeout(1): signal the daemon itself
real_pid() {
	sleep 0.3
	if [ "$(cat /proc/$1/comm 2>/dev/null)" = timeout ]; then
		kid=$(cat /proc/$1/task/*/children 2>/dev/null | awk '{ print $1; exit }')
		[ -n "$kid" ] && { echo "$kid"; return; }
	fi
	echo "$1"
}
NSD_PID=$(real_pid $NSD_PID)

# wait_ping6 ADDR: up to 10 s (DAD keeps the address tentative for 1-2 s)
wait_ping6() {
	i=0
	while [ $i -lt 20 ]; do
		in_ns ping -6 -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}
wait_ping6_from() {
	i=0
	while [ $i -lt 20 ]; do
		in_ns ping -6 -c 1 -W 1 -I "$1" "$2" >/dev/null 2>&1 && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}
kstat() { in_ns nstat -az "$1" 2>/dev/null | awk -v n="$1" '$1 == n { print $2 }'; }

check "global address answers ping -6 after DAD" wait_ping6 $STK
check "ping -6 -c 3 global" in_ns timeout 10 ping -6 -c 3 -i 0.2 -W 2 -q $STK
check "ping -6 link-local %$TAP" in_ns timeout 10 ping -6 -c 3 -i 0.2 -W 2 -q "$LL%$TAP"

k0=$(kstat Ip6ReasmOKs)
check "ping -6 -s 3000 (fragments both ways)" in_ns timeout 10 ping -6 -c 3 -i 0.2 -W 2 -q -s 3000 $STK
check "ping -6 -s 20000" in_ns timeout 10 ping -6 -c 2 -i 0.2 -W 2 -q -s 20000 $STK
k1=$(kstat Ip6ReasmOKs)
check "kernel reassembled our fragmented replies" [ "${k1:-0}" -gt "${k0:-0}" ]
check "netstackd reassembled (Ip6ReasmOKs > 0)" [ "$(nsd_stat $NSD_PID "$OUT" Ip6ReasmOKs)" -gt 0 ]
check "netstackd fragmented (Ip6FragCreates > 0)" [ "$(nsd_stat $NSD_PID "$OUT" Ip6FragCreates)" -gt 0 ]
check "Icmp6InEchos counted" [ "$(nsd_stat $NSD_PID "$OUT" Icmp6InEchos)" -ge 11 ]
check "Icmp6OutEchoReplies counted" [ "$(nsd_stat $NSD_PID "$OUT" Icmp6OutEchoReplies)" -ge 11 ]

# neighbour discovery: the kernel resolved us (NS in), we answered (NA out)
check "we received neighbour solicitations" [ "$(nsd_stat $NSD_PID "$OUT" Icmp6InNeighborSolicits)" -gt 0 ]
check "we sent neighbour advertisements" [ "$(nsd_stat $NSD_PID "$OUT" Icmp6OutNeighborAdvertisements)" -gt 0 ]
in_ns ip -6 neigh show dev "$TAP" >"$WORK/neigh.txt"
check "kernel neighbour entry for us (REACHABLE/STALE/DELAY)" \
	grep -Eq "^$STK lladdr 02:00:5e:ed:00:02 .*(REACHABLE|STALE|DELAY|PROBE)" "$WORK/neigh.txt"
# we learned the kernel from its NS (STALE), used it (DELAY) and, with no
# upper-layer confirmation, probe it with a unicast NS after 5 s
ns0=$(nsd_stat $NSD_PID "$OUT" Icmp6OutNeighborSolicits)
kna0=$(kstat Icmp6OutNeighborAdvertisements)
in_ns ping -6 -c 1 -W 2 -q $STK >/dev/null 2>&1
# the probe is due 5 s later (DELAY_FIRST_PROBE_TIME): wait for it and the
# kernel's answer, at most 20 s (a loaded machine may be late)
sleep 5
i=0
while :; do
	ns1=$(nsd_stat $NSD_PID "$OUT" Icmp6OutNeighborSolicits)
	kna1=$(kstat Icmp6OutNeighborAdvertisements)
	[ "$ns1" -gt "$ns0" ] && [ "${kna1:-0}" -gt "${kna0:-0}" ] && break
	[ $i -lt 30 ] || break
	sleep 0.5
	i=$((i + 1))
done
check "we solicited the kernel (unicast probe)" [ "$ns1" -gt "$ns0" ]
check "the kernel answered our solicitation" [ "${kna1:-0}" -gt "${kna0:-0}" ]
check "still reachable after the probe" in_ns timeout 5 ping -6 -c 1 -W 2 -q $STK
# a new kernel source that never solicited us: the kernel already knows our
# MAC, so our reply needs a fresh resolution (INCOMPLETE, multicast NS, NA)
in_ns ip -6 addr add fd00:5eed::5/64 dev "$TAP" nodad
na0=$(nsd_stat $NSD_PID "$OUT" Icmp6InNeighborAdvertisements)
check "ping -6 from a source we never saw" in_ns timeout 10 ping -6 -c 2 -W 3 -q -I fd00:5eed::5 $STK
check "we resolved it (NS sent, NA received)" \
	[ "$(nsd_stat $NSD_PID "$OUT" Icmp6InNeighborAdvertisements)" -gt "$na0" ]

# UDP over IPv6 (echo, RFC 862)
printf 'hello netstack over IPv6\n' >"$WORK/small"
in_ns timeout 5 socat -t 2 -T 3 - "UDP6:[$STK]:7" <"$WORK/small" >"$WORK/small.back" 2>>"$WORK/socat.log"
check "UDP6 echo, small" cmp -s "$WORK/small" "$WORK/small.back"
head -c 3000 /dev/urandom >"$WORK/mid"
in_ns timeout 5 socat -t 2 -T 3 -b 65536 - "UDP6:[$STK]:7" <"$WORK/mid" >"$WORK/mid.back" 2>>"$WORK/socat.log"
check "UDP6 echo, 3000 bytes (fragmented both ways)" cmp -s "$WORK/mid" "$WORK/mid.back"
printf 'via nc -6\n' >"$WORK/nc"
in_ns timeout 5 nc -6 -u -w 2 $STK 7 <"$WORK/nc" >"$WORK/nc.back" 2>>"$WORK/socat.log"
check "UDP6 echo with nc -6" cmp -s "$WORK/nc" "$WORK/nc.back"
in_ns timeout 5 socat -t 2 -T 3 - "UDP6:[$LL%$TAP]:7" <"$WORK/small" >"$WORK/ll.back" 2>>"$WORK/socat.log"
check "UDP6 echo to the link-local address" cmp -s "$WORK/small" "$WORK/ll.back"
n0=$(nsd_stat $NSD_PID "$OUT" Icmp6OutDestUnreachs)
in_ns timeout 5 socat -T 2 - "UDP6:[$STK]:4444" <"$WORK/small" >/dev/null 2>"$WORK/refused.log"
check "closed UDP6 port: connection refused" grep -qi "refused" "$WORK/refused.log"
check "port unreachable counted" [ "$(nsd_stat $NSD_PID "$OUT" Icmp6OutDestUnreachs)" -gt "$n0" ]

# TCP over IPv6, both directions of data (only when TCP is built)
if [ -f tcp/scaffold.c ]; then
	echo "skip - TCP over IPv6 (TCP not built yet)"
else
	head -c 200000 /dev/urandom >"$WORK/tcp"
	in_ns timeout 10 socat -t 3 - "TCP6:[$STK]:7" <"$WORK/tcp" >"$WORK/tcp.back" 2>>"$WORK/socat.log"
	check "TCP6 echo, 200 kB" cmp -s "$WORK/tcp" "$WORK/tcp.back"
	in_ns timeout 10 curl -6 -s -o "$WORK/http.body" "http://[$STK]:80/" 2>>"$WORK/socat.log"
	check "curl -6 over HTTP" [ -s "$WORK/http.body" ]
	# large bodies (the /bytes/N pattern of http.c), checksums compared
	for n in 65536 10485761; do
		want=$(python3 -c "
import sys
n = int(sys.argv[1]); a = b'abcdefghijklmnopqrstuvwxyz' * 2600
out = sys.stdout.buffer
while n > 0:
    k = min(n, 65520); out.write(a[:k]); n -= k
" $n | sha256sum | cut -d' ' -f1)
		got=$(in_ns timeout 60 curl -6 -sS "http://[$STK]/bytes/$n" 2>>"$WORK/curl.log" | sha256sum | cut -d' ' -f1)
		check "curl -6 /bytes/$n: sha256 matches" [ "$want" = "$got" ]
	done
	got=$(in_ns timeout 60 curl -6 -sS "http://[$LL%25$TAP]/bytes/100000" 2>>"$WORK/curl.log" | wc -c)
	check "curl -6 to the link-local address" [ "$got" = 100000 ]
fi

# SLAAC (--slaac): a second daemon on a second tap; the kernel side sends a
# router advertisement (prefix fd00:5eed:1::/64, MTU 1400) and becomes our
# default router, so replies to an off-link source go back through it.
TAP2=nsslaac$$
SL=fd00:5eed:1::5eff:feed:3     # prefix + EUI-64 of 02:00:5e:ed:00:03
FAR=fd00:5eed:9::1              # a kernel address only reachable via the router
in_ns ip tuntap add dev "$TAP2" mode tap
in_ns ip link set "$TAP2" up
in_ns ip -6 addr add $FAR/128 dev lo
in_ns ip -6 route add fd00:5eed:1::/64 dev "$TAP2"
nsd_start nsd2 --tap "$TAP2" --mac 02:00:5e:ed:00:03 --slaac --log-level info
NSD2=$(real_pid $NSD_PID)
i=0
while [ $i -lt 30 ] && in_ns ip -6 addr show dev "$TAP2" scope link | grep -q tentative; do
	sleep 0.2; i=$((i + 1))
done
sleep 1
in_ns python3 tests/net/tools/send_ra.py "$TAP2" fd00:5eed:1::/64 1800 1400 2>>"$WORK/ra.log"
check "SLAAC address answers ping -6 from behind the router" wait_ping6_from $FAR $SL
check "router advertisement counted" [ "$(nsd_stat $NSD2 "$WORK/nsd2.out" Icmp6InRouterAdvertisements)" -ge 1 ]
check "router solicitations were sent" [ "$(nsd_stat $NSD2 "$WORK/nsd2.out" Icmp6OutRouterSolicits)" -ge 1 ]
f0=$(nsd_stat $NSD2 "$WORK/nsd2.out" Ip6FragCreates)
check "ping -6 -s 1380 through the RA MTU 1400" in_ns timeout 10 ping -6 -c 2 -W 2 -q -s 1380 -I $FAR $SL
check "replies fragmented to the RA MTU" [ "$(nsd_stat $NSD2 "$WORK/nsd2.out" Ip6FragCreates)" -gt "$f0" ]

check "no IPv6 header errors counted" [ "$(nsd_stat $NSD_PID "$OUT" Ip6InHdrErrors)" -eq 0 ]
check "no DAD failure" [ "$(nsd_stat $NSD_PID "$OUT" NdDadFailures)" -eq 0 ]
kill -TERM "$NSD_PID"
i=0
while kill -0 "$NSD_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "netstackd exits on SIGTERM" sh -c "! kill -0 $NSD_PID 2>/dev/null"
net_finish
