#!/bin/sh
# tests/net/test_afpacket.sh DIR - netstackd --packet on one end of a veth
# pair (AF_PACKET, TPACKET_V3 rings, fanout over --threads 2), the Linux
# kernel on the other end in a second namespace: ping, TCP bulk both ways
# with sha256 compared (the kernel sends GSO/GRO frames up to 64 KiB through
# the ring; we send TSO frames with virtio-net headers), 32 concurrent
# connections, a device that is down, no permission (CAP_NET_RAW); then
# the same transfers with --packet-ring v2.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/net/lib.sh
. tests/net/fastlink_lib.sh
net_init "${1:-build/normal}"
NS2=nst2$$
trap 'rc=$?; ip netns del "$NS2" 2>/dev/null; (exit $rc); net_cleanup' EXIT

ip netns add "$NS2" || { echo "FAIL: netns"; exit 1; }
VK=vk$$; VS=vs$$
ip link add "$VK" netns "$NS2" type veth peer name "$VS" netns "$NS" || { echo "FAIL: veth"; exit 1; }
ip -n "$NS2" addr add 198.18.20.1/24 dev "$VK"
ip -n "$NS2" link set "$VK" up
ip -n "$NS2" link set lo up
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1
STK=198.18.20.2

# a device that is down is refused with one line
nsd_start down --packet "$VS" --ip4 $STK/24
wait $NSD_PID
rc=$?
check "interface down: nonzero exit, one line naming it" sh -c \
	"[ $rc != 0 ] && [ \$(grep -c . '$WORK/down.log') = 1 ] && grep -q 'down' '$WORK/down.log'"
in_ns ip link set "$VS" up

# without CAP_NET_RAW
if command -v setpriv >/dev/null 2>&1; then
	in_ns setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
		"$NSD" --packet "$VS" --ip4 $STK/24 >/dev/null 2>"$WORK/perm.log"
	rc=$?
	check "no CAP_NET_RAW: one 'permission denied' line" sh -c \
		"[ $rc != 0 ] && [ \$(grep -c . '$WORK/perm.log') = 1 ] && grep -qi 'permission denied' '$WORK/perm.log'"
fi

nsd_start nsd --packet "$VS" --mac 02:00:5e:ed:20:02 --ip4 $STK/24 --threads 2 --log-level info
check "netstackd --packet answers ping" wait_ping_in "$NS2" $STK
check "ping -s 4000 (fragments both ways)" ip netns exec "$NS2" timeout 10 ping -c 3 -i 0.2 -W 2 -q -s 4000 $STK
check "TCP stack->kernel 16 MiB, sha256" bulk_down "$NS2" $STK 16777216
head -c 8388608 /dev/urandom >"$WORK/up.bin"
check "TCP echo 8 MiB both ways, sha256" bulk_echo "$NS2" $STK "$WORK/up.bin"
check "32 concurrent connections x 256 KiB" many_conns "$NS2" $STK 32 262144
check "kernel counted no TCP checksum errors" sh -c \
	"[ \"\$(ip netns exec $NS2 nstat -az TcpInCsumErrors | awk '\$1==\"TcpInCsumErrors\" {print \$2}')\" = 0 ]"
check "AF_PACKET delivered frames (PacketRxFrames > 0)" [ "$(nsd_stat $NSD_PID "$WORK/nsd.out" PacketRxFrames)" -gt 0 ]
stop_nsd $NSD_PID
check "exit status 0 after SIGTERM" [ $? = 0 ]
check "no sanitizer report" no_sanitizer_report "$WORK/nsd.log"

# the TPACKET_V2 ring (per-frame hand-over): same transfers, and a ping
# round trip well under the V3 ring's 1 ms block timeout
nsd_start v2 --packet "$VS" --mac 02:00:5e:ed:20:02 --ip4 $STK/24 --packet-ring v2
check "v2 ring: answers ping" wait_ping_in "$NS2" $STK
check "v2 ring: TCP stack->kernel 8 MiB, sha256" bulk_down "$NS2" $STK 8388608
check "v2 ring: TCP echo 8 MiB both ways, sha256" bulk_echo "$NS2" $STK "$WORK/up.bin"
rtt=$(ip netns exec "$NS2" ping -c 20 -i 0.01 -q $STK | awk -F/ '/^rtt/ {print $5}')
echo "    v2 ring ping rtt avg: ${rtt:-?} ms"
check "v2 ring: ping answered" [ -n "$rtt" ]
stop_nsd $NSD_PID
check "v2 ring: exit status 0" [ $? = 0 ]
check "v2 ring: no sanitizer report" no_sanitizer_report "$WORK/v2.log"
net_finish
