#!/bin/sh
# tests/net/test_tap_ipv6.sh DIR - netstackd on a tap against the Linux kernel
# over IPv6: neighbour discovery, ping (also 4000-byte payloads: fragments
# both ways), UDP echo (small and fragmented), a closed UDP port answered by
# ICMPv6 port unreachable.  Runs as root in a namespace of its own.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/net/lib.sh
net_init "${1:-build/normal}"

TAP=nst6$$
HOST=fd00:5eed::1
STK=fd00:5eed::2
in_ns ip tuntap add dev "$TAP" mode tap || { echo "FAIL: tuntap"; exit 1; }
in_ns ip addr add 198.18.0.1/24 dev "$TAP"
in_ns ip addr add $HOST/64 dev "$TAP" nodad
in_ns ip link set "$TAP" up
nsd_start nsd --tap "$TAP" --mac 02:00:5e:ed:00:02 --ip4 198.18.0.2/24 --ip6 $STK/64 --log-level info ${NSD_EXTRA:-}
OUT=$WORK/nsd.out

ping6_ready() {
	i=0
	while [ $i -lt 20 ]; do
		in_ns ping -6 -c 1 -W 1 $STK >/dev/null 2>&1 && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}
check "netstackd answers ping -6 within 10 s (after DAD)" ping6_ready
check "ping -6 -c 3" in_ns timeout 10 ping -6 -c 3 -i 0.2 -W 2 -q $STK
check "ping -6 -s 4000 (fragments both ways)" in_ns timeout 10 ping -6 -c 3 -i 0.2 -W 2 -q -s 4000 $STK
check "kernel neighbour entry has our MAC" sh -c "ip -n $NS -6 neigh show $STK | grep -q 02:00:5e:ed:00:02"

printf 'hello over IPv6\n' >"$WORK/small"
in_ns timeout 5 socat -t 2 -T 3 - "UDP6:[$STK]:7" <"$WORK/small" >"$WORK/small.back" 2>>"$WORK/socat.log"
check "UDP echo over IPv6" cmp -s "$WORK/small" "$WORK/small.back"
head -c 3000 /dev/urandom >"$WORK/mid"
in_ns timeout 5 socat -t 2 -T 3 -b 65536 - "UDP6:[$STK]:7" <"$WORK/mid" >"$WORK/mid.back" 2>>"$WORK/socat.log"
check "UDP echo over IPv6, 3000 bytes (fragmented)" cmp -s "$WORK/mid" "$WORK/mid.back"
in_ns timeout 5 socat -T 2 - "UDP6:[$STK]:4444" <"$WORK/small" >/dev/null 2>"$WORK/refused.log"
check "closed UDP port over IPv6: connection refused" grep -qi "refused" "$WORK/refused.log"
check "Icmp6InEchos counted" [ "$(nsd_stat $NSD_PID "$OUT" Icmp6InEchos)" -ge 6 ]

kill -TERM $NSD_PID
wait $NSD_PID
check "exit status 0 after SIGTERM" [ $? = 0 ]
check "no sanitizer report" sh -c "! grep -q 'ERROR: AddressSanitizer\|runtime error' '$WORK/nsd.log'"
net_finish
