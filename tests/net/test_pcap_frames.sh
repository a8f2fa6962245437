#!/bin/sh
# tests/net/test_pcap_frames.sh DIR - netstackd --pcap against the kernel's
# own capture: tcpdump runs on the kernel side of the tap while the kernel
# pings the stack (also with fragments), exchanges UDP and fetches over TCP
# (GSO/TSO frames with offloads on); then the file netstackd wrote is read
# back with tcpdump -r and compared frame by frame, in both directions,
# with what tcpdump saw on the wire (tests/net/pcap_cmp.py).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/net/lib.sh
. tests/net/fastlink_lib.sh
net_init "${1:-build/normal}"
command -v tcpdump >/dev/null 2>&1 || { echo "SKIP: no tcpdump"; exit 0; }
TAP=nsp$$
MAC=02:00:5e:ed:22:02
STK=198.18.22.2
in_ns ip tuntap add dev "$TAP" mode tap || { echo "FAIL: tuntap"; exit 1; }
in_ns sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1"
in_ns ip addr add 198.18.22.1/24 dev "$TAP"
in_ns ip link set "$TAP" up

# tcpdump_drops: packets the kernel-side capture lost (its exit report)
tcpdump_drops() {
	d=$(sed -n 's/^\([0-9][0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$WORK/tcpdump.log" | tail -n 1)
	echo "${d:-unknown}"
}

# capture_phase: the kernel capture (started first, so it sees every frame
# netstackd sends; a large buffer so a loaded machine does not drop), then
# netstackd and the traffic, then both stop.
capture_phase() {
	rm -f "$WORK/kernel.pcap" "$WORK/ours.pcap"
	ip netns exec "$NS" tcpdump -i "$TAP" -U -B 32768 -w "$WORK/kernel.pcap" -s 262144 --immediate-mode \
		2>"$WORK/tcpdump.log" &
	TCPDUMP=$!
	PIDS="$PIDS $TCPDUMP"
	i=0
	while ! grep -q "listening on" "$WORK/tcpdump.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	nsd_start nsd --tap "$TAP" --mac $MAC --ip4 $STK/24 --pcap "$WORK/ours.pcap" --log-level info
	check "netstackd answers ping" wait_ping $STK
	sleep 0.3

	check "ping" in_ns timeout 10 ping -c 3 -i 0.2 -W 2 -q $STK
	check "ping with fragments" in_ns timeout 10 ping -c 2 -i 0.2 -W 2 -q -s 3000 $STK
	printf 'pcap test\n' >"$WORK/u"
	in_ns timeout 5 socat -t 2 -T 3 - UDP:$STK:7 <"$WORK/u" >"$WORK/u.back" 2>/dev/null
	check "UDP echo" cmp -s "$WORK/u" "$WORK/u.back"
	check "TCP fetch 1 MiB, sha256" bulk_down "$NS" $STK 1048576
	head -c 300000 /dev/urandom >"$WORK/up.bin"
	check "TCP echo 300 KB, sha256" bulk_echo "$NS" $STK "$WORK/up.bin"
	sleep 1                                   # last ACKs, no connection left open
	kill -TERM $TCPDUMP; wait $TCPDUMP 2>/dev/null
	stop_nsd $NSD_PID
	check "netstackd exit status 0" [ $? = 0 ]
}

# A capture that lost frames cannot be compared: run the phase again (at
# most 3 times); a failure of the traffic itself is not retried.
attempt=1
while :; do
	fails0=$FAILS
	capture_phase
	drops=$(tcpdump_drops)
	[ "$drops" = 0 ] || [ $FAILS != $fails0 ] || [ $attempt -ge 3 ] && break
	echo "note: tcpdump reported $drops packets dropped by kernel; capture again ($attempt)"
	attempt=$((attempt + 1))
done
check "kernel capture complete (tcpdump: $drops dropped by kernel)" [ "$drops" = 0 ]

check "tcpdump -r reads our pcap" sh -c "tcpdump -nn -r '$WORK/ours.pcap' >'$WORK/ours.txt' 2>'$WORK/r.err'"
check "it shows both directions of TCP port 80" sh -c \
	"grep -q '$STK.80 > 198.18.22.1' '$WORK/ours.txt' && grep -q '198.18.22.1.[0-9]* > $STK.80' '$WORK/ours.txt'"
n_ours=$(wc -l <"$WORK/ours.txt")
n_kern=$(tcpdump -nn -r "$WORK/kernel.pcap" 2>/dev/null | wc -l)
check "tcpdump -r: as many frames as the kernel saw (plus start-up frames)" \
	sh -c "[ $n_ours -ge $n_kern ] && [ $n_ours -le $((n_kern + 32)) ] && [ $n_kern -gt 100 ]"
check "frame-by-frame identical in both directions" python3 tests/net/pcap_cmp.py \
	"$WORK/ours.pcap" "$WORK/kernel.pcap" $MAC
check "no sanitizer report" no_sanitizer_report "$WORK/nsd.log"
net_finish
