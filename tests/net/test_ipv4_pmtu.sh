#!/bin/sh
# tests/net/test_ipv4_pmtu.sh DIR - IPv4 through a Linux router: netstackd on
# a tap behind a gateway (ARP for the gateway, routing), and path MTU
# discovery (RFC 1191): the router's egress link toward the far host has a
# 1000-byte MTU, so our 1500-byte TCP segments (DF) draw ICMP
# fragmentation-needed; the stack records the path MTU, TCP shrinks its
# segments (never fragments: a TCP segment keeps DF) and the HTTP download
# completes.  (The far host cannot send us more than 1000 bytes: veth drops
# frames over the receiving side's MTU.)
#
#   namespace $NS (router, forwarding on)           namespace $NS2 (far host)
#   tap: 198.18.0.1/24  <->  netstackd 198.18.0.2   va 198.18.1.1/24 (mtu 1000)
#                                                   <-> vb 198.18.1.2/24
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/net/lib.sh
net_init "${1:-build/normal}"

NS2=nst2$$
TAP=nspm$$
cleanup2() {
	rc=$?
	ip netns del "$NS2" 2>/dev/null
	(exit $rc)                      # net_cleanup reads the exit status from $?
	net_cleanup
}
trap cleanup2 EXIT
ip netns add "$NS2" || { echo "FAIL: cannot create namespace $NS2"; exit 1; }
ip -n "$NS2" link set lo up
in_ns ip tuntap add dev "$TAP" mode tap || { echo "FAIL: tuntap"; exit 1; }
in_ns ip addr add 198.18.0.1/24 dev "$TAP"
in_ns ip link set "$TAP" up
in_ns ip link add va type veth peer name vb netns "$NS2"
in_ns ip addr add 198.18.1.1/24 dev va
in_ns ip link set va mtu 1000 up
ip -n "$NS2" addr add 198.18.1.2/24 dev vb
ip -n "$NS2" link set vb up
ip -n "$NS2" route add default via 198.18.1.1
in_ns sysctl -qw net.ipv4.ip_forward=1
in_ns sysctl -qw net.ipv4.icmp_ratelimit=0

nsd_start nsd --tap "$TAP" --mac 02:00:5e:ed:00:02 --ip4 198.18.0.2/24 --gw4 198.18.0.1 \
	--log-level info ${NSD_EXTRA:-}
OUT=$WORK/nsd.out
in_ns2() { ip netns exec "$NS2" "$@"; }

i=0
while [ $i -lt 20 ] && ! in_ns2 ping -c 1 -W 1 198.18.0.2 >/dev/null 2>&1; do
	sleep 0.5
	i=$((i + 1))
done
check "far host pings netstackd through the router" in_ns2 ping -c 2 -i 0.2 -W 2 -q 198.18.0.2
a=$(nsd_stat $NSD_PID "$OUT" ArpInReplies)
b=$(nsd_stat $NSD_PID "$OUT" ArpInRequests)
check "netstackd learned its gateway by ARP" [ $((a + b)) -ge 1 ]
check "the router learned netstackd's MAC" sh -c "ip -n $NS neigh show 198.18.0.2 | grep -q 02:00:5e:ed:00:02"
check "ping -s 900 across the 1000-byte link" in_ns2 ping -c 2 -i 0.2 -W 2 -q -s 900 198.18.0.2

# TCP download: segments of 1500 bytes hit the 1000-byte link
r0=$(in_ns nstat -az IcmpMsgOutType3 2>/dev/null | awk '$1 == "IcmpMsgOutType3" { print $2 }')
in_ns2 timeout 20 curl -s -o "$WORK/dl" -w '%{size_download}' http://198.18.0.2/bytes/400000 \
	>"$WORK/curl.out" 2>"$WORK/curl.log"
check "HTTP download of 400000 bytes completes" [ "$(cat "$WORK/curl.out")" = 400000 ]
r1=$(in_ns nstat -az IcmpMsgOutType3 2>/dev/null | awk '$1 == "IcmpMsgOutType3" { print $2 }')
check "the router sent fragmentation-needed" [ "${r1:-0}" -gt "${r0:-0}" ]
check "netstackd received it (IcmpInDestUnreachs)" [ "$(nsd_stat $NSD_PID "$OUT" IcmpInDestUnreachs)" -ge 1 ]
check "no TCP segment was fragmented (IpFragCreates 0)" [ "$(nsd_stat $NSD_PID "$OUT" IpFragCreates)" = 0 ]
in_ns2 timeout 20 curl -s -o /dev/null -w '%{size_download}' http://198.18.0.2/bytes/400000 \
	>"$WORK/curl2.out" 2>>"$WORK/curl.log"
check "a second download uses the learned path MTU" [ "$(cat "$WORK/curl2.out")" = 400000 ]

kill -TERM $NSD_PID
i=0
while kill -0 $NSD_PID 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "no sanitizer report" sh -c "! grep -q 'ERROR: AddressSanitizer\|runtime error' '$WORK/nsd.log'"
net_finish
