#!/bin/sh
# tests/net/test_netstackd_conc.sh DIR - netstackd's event loop under many
# connections, against the Linux kernel over a tap: 2,000 concurrent TCP
# echo connections (tests/net/tools/conc_echo.py: all open at once, each
# sends its own random bytes and must get every byte back) while the daemon's
# thread count (/proc/PID/status) stays small and does not grow with the
# connections; echo backpressure (a client that does not read: netstackd
# stops reading, its memory stays bounded, every byte comes back); then
# --workers 1 with 500 echo connections and HTTP keep-alive requests over 500
# concurrent connections.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/net/lib.sh
net_init "${1:-build/normal}"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 0; }

TAP=nscc$$
HOST=198.18.23.1
STK=198.18.23.2
in_ns ip tuntap add dev "$TAP" mode tap || { echo "FAIL: tuntap"; exit 1; }
in_ns ip addr add $HOST/24 dev "$TAP"
in_ns ip link set "$TAP" up
in_ns sysctl -qw net.ipv4.ip_local_port_range="10000 65000"

threads_of() { awk '/^Threads:/ {print $2}' /proc/"$1"/status 2>/dev/null; }

# phase LABEL N ARGS...: netstackd with ARGS, N concurrent echo connections
phase() {
	label=$1; n=$2; shift 2
	nsd_start "$label" --tap "$TAP" --mac 02:00:5e:ed:23:02 --ip4 $STK/24 "$@"
	check "$label: netstackd answers ping" wait_ping $STK
	base=$(threads_of $NSD_PID)
	in_ns timeout 150 python3 tests/net/tools/conc_echo.py $STK 7 "$n" $NSD_PID 120 \
		>"$WORK/$label.conc" 2>&1
	read -r res cn cmax tmax bytes <"$WORK/$label.conc"
	echo "     $label: $(cat "$WORK/$label.conc"); threads before: $base"
	check "$label: $n concurrent echo connections, every byte back" [ "$res" = ok ]
	# the workers and the stack's own threads: nothing per connection
	check "$label: thread count stays small (${tmax:-?} <= 16, was $base)" \
		sh -c "[ '${tmax:-999}' -le 16 ] && [ '${tmax:-999}' -le $((base + 2)) ]"
}

phase evloop 2000 --log-level info
# backpressure: a client that does not read stops the echo service reading
in_ns timeout 90 python3 tests/net/tools/echo_backpressure.py $STK $NSD_PID >"$WORK/bp.txt" 2>&1
echo "     backpressure: $(cat "$WORK/bp.txt") (stalled at bytes, RSS growth KiB)"
check "evloop: echo stops reading while its replies cannot be sent; 64 MiB back in order" \
	grep -q "^ok " "$WORK/bp.txt"
check "evloop: one worker per CPU by default" grep -q "netstackd: $(nproc) worker thread" "$WORK/evloop.log"
kill $NSD_PID; wait $NSD_PID
check "evloop: exit status 0 after SIGTERM" [ $? = 0 ]

phase one 500 --workers 1 --log-level info
check "one: --workers 1 starts one worker" grep -q "netstackd: 1 worker thread" "$WORK/one.log"
# HTTP: 500 concurrent keep-alive connections, three requests each
in_ns timeout 90 python3 tests/net/tools/http_conc.py $STK 500 60 >"$WORK/http.conc" 2>&1
check "one: 500 concurrent HTTP keep-alive connections x 3 pipelined requests" grep -qx ok "$WORK/http.conc"
kill $NSD_PID; wait $NSD_PID
check "one: exit status 0 after SIGTERM" [ $? = 0 ]
check "no sanitizer report" sh -c "! grep -q 'Sanitizer' '$WORK'/*.log"
net_finish
