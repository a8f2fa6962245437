#!/bin/sh
# tests/net/test_tap_ipv4.sh DIR - netstackd on a tap against the Linux kernel
# (IPv4): ping, ping with 4000-byte payloads (fragments in both directions),
# UDP echo with socat (small, larger than the MTU), UDP discard, a closed
# UDP port answered by ICMP port unreachable, SIGUSR1 statistics, SIGTERM.
# Runs as root inside a namespace of its own.  NSD_EXTRA adds netstackd options
# (test_tap_ipv4_plain.sh runs it again with --no-offload).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/net/lib.sh
net_init "${1:-build/normal}"

TAP=nstap$$
HOST=198.18.0.1
STK=198.18.0.2
in_ns ip tuntap add dev "$TAP" mode tap || { echo "FAIL: tuntap"; exit 1; }
in_ns ip addr add $HOST/24 dev "$TAP"
in_ns ip link set "$TAP" up
nsd_start nsd --tap "$TAP" --mac 02:00:5e:ed:00:02 --ip4 $STK/24 --log-level info --pcap "$WORK/cap.pcap" ${NSD_EXTRA:-}
OUT=$WORK/nsd.out

check "netstackd answers ping within 10 s" wait_ping $STK
want_off=1
case "${NSD_EXTRA:-}" in *--no-offload*) want_off=0 ;; esac
check "tap offload mode is $want_off" [ "$(nsd_stat $NSD_PID "$OUT" TapOffload)" = $want_off ]
check "ping -c 3" in_ns timeout 10 ping -c 3 -i 0.2 -W 2 -q $STK

# 4000-byte echo requests: the kernel fragments them, we reassemble, our reply
# is fragmented by us and reassembled by the kernel
k_reasm0=$(in_ns nstat -az IpReasmOKs 2>/dev/null | awk '$1 == "IpReasmOKs" { print $2 }')
check "ping -s 4000 (fragments both ways)" in_ns timeout 10 ping -c 3 -i 0.2 -W 2 -q -s 4000 $STK
check "ping -s 8000" in_ns timeout 10 ping -c 2 -i 0.2 -W 2 -q -s 8000 $STK
k_reasm1=$(in_ns nstat -az IpReasmOKs 2>/dev/null | awk '$1 == "IpReasmOKs" { print $2 }')
check "kernel reassembled our fragmented replies" [ "${k_reasm1:-0}" -gt "${k_reasm0:-0}" ]
check "netstackd reassembled (IpReasmOKs > 0)" [ "$(nsd_stat $NSD_PID "$OUT" IpReasmOKs)" -gt 0 ]
check "netstackd fragmented (IpFragCreates > 0)" [ "$(nsd_stat $NSD_PID "$OUT" IpFragCreates)" -gt 0 ]
check "IcmpInEchos counted" [ "$(nsd_stat $NSD_PID "$OUT" IcmpInEchos)" -ge 8 ]

# UDP echo (RFC 862)
printf 'hello netstack\n' >"$WORK/small"
in_ns timeout 5 socat -t 2 -T 3 - UDP:$STK:7 <"$WORK/small" >"$WORK/small.back" 2>>"$WORK/socat.log"
check "UDP echo, 15 bytes" cmp -s "$WORK/small" "$WORK/small.back"
head -c 3000 /dev/urandom >"$WORK/mid"
in_ns timeout 5 socat -t 2 -T 3 -b 65536 - UDP:$STK:7 <"$WORK/mid" >"$WORK/mid.back" 2>>"$WORK/socat.log"
check "UDP echo, 3000 bytes (fragmented both ways)" cmp -s "$WORK/mid" "$WORK/mid.back"
head -c 20000 /dev/urandom >"$WORK/big"
in_ns timeout 5 socat -t 2 -T 3 -b 65536 - UDP:$STK:7 <"$WORK/big" >"$WORK/big.back" 2>>"$WORK/socat.log"
check "UDP echo, 20000 bytes" cmp -s "$WORK/big" "$WORK/big.back"
# nc as a second client
printf 'via nc\n' >"$WORK/nc"
in_ns timeout 5 nc -u -w 2 $STK 7 <"$WORK/nc" >"$WORK/nc.back" 2>>"$WORK/socat.log"
check "UDP echo with nc" cmp -s "$WORK/nc" "$WORK/nc.back"

# UDP discard (RFC 863): counted, never answered
d0=$(nsd_stat $NSD_PID "$OUT" UdpInDatagrams)
in_ns timeout 5 socat -t 1 -T 1 - UDP:$STK:9 <"$WORK/small" >"$WORK/discard.back" 2>>"$WORK/socat.log"
check "UDP discard sends nothing back" [ ! -s "$WORK/discard.back" ]
d1=$(nsd_stat $NSD_PID "$OUT" UdpInDatagrams)
check "UDP discard received the datagram" [ "$d1" -gt "$d0" ]

# a closed port: ICMP port unreachable, the kernel socket sees ECONNREFUSED
n0=$(nsd_stat $NSD_PID "$OUT" UdpNoPorts)
in_ns timeout 5 socat -T 2 - UDP:$STK:4444 <"$WORK/small" >/dev/null 2>"$WORK/refused.log"
check "closed UDP port: connection refused" grep -qi "refused" "$WORK/refused.log"
check "UdpNoPorts counted" [ "$(nsd_stat $NSD_PID "$OUT" UdpNoPorts)" -gt "$n0" ]
check "IcmpOutDestUnreachs counted" [ "$(nsd_stat $NSD_PID "$OUT" IcmpOutDestUnreachs)" -gt 0 ]

# ARP: the kernel learned our MAC
check "kernel neighbour entry has our MAC" sh -c "ip -n $NS neigh show $STK | grep -q 02:00:5e:ed:00:02"

# clean shutdown on SIGTERM, leaving the persistent tap as it was
kill -TERM $NSD_PID
i=0
while kill -0 $NSD_PID 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "netstackd exits on SIGTERM within 5 s" sh -c "! kill -0 $NSD_PID 2>/dev/null"
wait $NSD_PID
st=$?
check "exit status 0 (netstackd: $(exit_desc $st))" [ $st = 0 ]
check "persistent tap still exists" in_ns ip link show "$TAP"
# --pcap recorded both directions, readable by tcpdump
tcpdump -nn -r "$WORK/cap.pcap" 2>/dev/null >"$WORK/cap.txt"
check "pcap has echo requests and replies" sh -c "grep -q 'ICMP echo request' '$WORK/cap.txt' && grep -q 'ICMP echo reply' '$WORK/cap.txt'"
check "pcap has UDP both ways" sh -c "grep -q '$HOST.[0-9]* > $STK.7: UDP' '$WORK/cap.txt' && grep -q '$STK.7 > $HOST.[0-9]*: UDP' '$WORK/cap.txt'"
check "no sanitizer report" sh -c "! grep -q 'ERROR: AddressSanitizer\|runtime error' '$WORK/nsd.log'"
net_finish
