#!/bin/sh
# tests/net/test_tap_mq.sh DIR - netstackd on taps it creates, against the
# Linux kernel: (1) multi-queue tap with offloads and --threads 2 (one queue
# and receive thread each): TCP bulk both ways with sha256, 64 concurrent
# connections, wrk against the HTTP service, both queues used; (2) a
# single-queue tap without offloads (software GSO, software checksums): the
# same bulk transfers.  Also `netstackd --stats` (control socket).  --host-ip4 configures the kernel side (libnl).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/net/lib.sh
. tests/net/fastlink_lib.sh
net_init "${1:-build/normal}"
STK=198.18.21.2
head -c 8388608 /dev/urandom >"$WORK/up.bin"

run_phase() {  # label args...
	label=$1; shift
	TAP=nsq$$$label
	nsd_start "$label" --tap "$TAP" --mac 02:00:5e:ed:21:02 --ip4 $STK/24 --host-ip4 198.18.21.1/24 "$@"
	check "$label: answers ping" wait_ping $STK
	check "$label: TCP stack->kernel 16 MiB, sha256" bulk_down "$NS" $STK 16777216
	check "$label: TCP echo 8 MiB both ways, sha256" bulk_echo "$NS" $STK "$WORK/up.bin"
	check "$label: 64 concurrent connections x 128 KiB" many_conns "$NS" $STK 64 131072
}

run_phase mq --threads 2 --log-level info
check "mq: the tap is multi-queue" sh -c "ip -n $NS -d link show $TAP | grep -q multi_queue"
check "mq: two queues in use (TapQueues 2)" [ "$(nsd_stat $NSD_PID "$WORK/mq.out" TapQueues)" = 2 ]
check "mq: TSO frames sent (TapTxTso > 0)" [ "$(nsd_stat $NSD_PID "$WORK/mq.out" TapTxTso)" -gt 0 ]
if command -v wrk >/dev/null 2>&1; then
	in_ns timeout 30 wrk -t2 -c16 -d2s "http://$STK/" >"$WORK/wrk.txt" 2>&1
	reqs=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
	check "mq: wrk completed requests without errors" sh -c \
		"[ '${reqs:-0}' -gt 100 ] && ! grep -q 'Non-2xx\|Socket errors' '$WORK/wrk.txt'"
fi
# netstackd --stats over the control socket: nstat counters and the ss-style table
in_ns sh -c "sleep 4 | socat - TCP:$STK:9" >/dev/null 2>&1 &
SOC=$!
PIDS="$PIDS $SOC"
sleep 1
in_ns timeout 10 "$NSD" --stats --tap "$TAP" >"$WORK/stats.txt" 2>&1
check "mq: --stats prints nstat counters" grep -q '^TcpPassiveOpens ' "$WORK/stats.txt"
check "mq: --stats lists the listeners" grep -q "^LISTEN .*:80 " "$WORK/stats.txt"
check "mq: --stats shows the open connection with rtt and cwnd" \
	grep -q "^ESTAB .*$STK:9 .*198.18.21.1:[0-9]* *rtt:[0-9.]*/[0-9.]* cwnd:[0-9]" "$WORK/stats.txt"
wait $SOC 2>/dev/null
stop_nsd $NSD_PID
check "mq: exit status 0" [ $? = 0 ]
check "mq: control socket removed" [ ! -e "/run/netstackd/$TAP.sock" ]
check "mq: created tap removed" sh -c "! ip -n $NS link show $TAP >/dev/null 2>&1"
check "mq: no sanitizer report" no_sanitizer_report "$WORK/mq.log"

run_phase plain --no-offload
check "plain: kernel saw no TCP checksum errors" sh -c \
	"[ \"\$(ip netns exec $NS nstat -az TcpInCsumErrors | awk '\$1==\"TcpInCsumErrors\" {print \$2}')\" = 0 ]"
stop_nsd $NSD_PID
check "plain: exit status 0" [ $? = 0 ]
check "plain: no sanitizer report" no_sanitizer_report "$WORK/plain.log"
net_finish
