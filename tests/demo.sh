#!/bin/sh
# tests/demo.sh - `make demo`: netstackd on a tap in a private network
# namespace, answering the Linux kernel: ping, curl http://ADDR/, an nc echo.
# Then, when run from a terminal, it waits so you can try things by hand;
# everything it created is removed on exit (Ctrl-C is fine).
# Needs root (namespaces and taps); uses build/normal/netstackd.
set -u
cd "$(dirname "$0")/.." || exit 1
NSD=$(pwd)/${NSD_DIR:-build/normal}/netstackd
NS=nsdemo$$
TAP=nsdemo0
HOST=198.18.0.1
STK=198.18.0.2
PID=""

if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root (network namespaces and tap devices); try: sudo make demo" >&2
	exit 1
fi
[ -x "$NSD" ] || { echo "demo: $NSD is missing; run make first" >&2; exit 1; }

cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -f "/tmp/$NS.log"
	echo "demo: cleaned up (namespace $NS removed)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; ip netns exec "$NS" "$@"; }

ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev $TAP mode tap
ip -n "$NS" addr add $HOST/24 dev $TAP
ip -n "$NS" link set $TAP up
step "netstackd --tap $TAP --mac 02:00:5e:ed:00:02 --ip4 $STK/24   (in namespace $NS)"
ip netns exec "$NS" "$NSD" --tap $TAP --mac 02:00:5e:ed:00:02 --ip4 $STK/24 --log-level info \
	2>"/tmp/$NS.log" &
PID=$!
i=0
until ip netns exec "$NS" ping -c 1 -W 1 $STK >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -ge 20 ] || ! kill -0 $PID 2>/dev/null; then
		echo "demo: netstackd did not come up:"; cat "/tmp/$NS.log"; exit 1
	fi
	sleep 0.5
done
echo "netstackd is up: the Linux kernel ($HOST) talks to our stack ($STK) through $TAP"

run ping -c 3 -i 0.3 $STK
run curl -sS --max-time 5 http://$STK/
step "echo 'hello, netstack' | nc -q 1 $STK 7      (TCP echo)"
echo 'hello, netstack' | ip netns exec "$NS" timeout 5 nc -q 1 $STK 7
step "echo 'hello over UDP' | nc -u -w 1 $STK 7    (UDP echo)"
echo 'hello over UDP' | ip netns exec "$NS" timeout 5 nc -u -w 1 $STK 7
step "curl -s http://$STK/bytes/1000000 | wc -c"
ip netns exec "$NS" curl -s --max-time 10 http://$STK/bytes/1000000 | wc -c
step "kill -USR1 <netstackd>   (statistics under Linux's counter names)"
kill -USR1 $PID
sleep 0.3

cat <<EOT

Try it by hand (in another terminal, as root):
  ip netns exec $NS ping $STK
  ip netns exec $NS curl http://$STK/            # or /bytes/N for exactly N bytes
  ip netns exec $NS nc $STK 7                    # TCP echo; 9 discard, 19 chargen
  ip netns exec $NS nc -u $STK 7                 # UDP echo
  kill -USR1 $PID                                # statistics (printed above this line)
EOT
if [ -t 0 ]; then
	printf '\nPress Enter (or Ctrl-C) to stop netstackd and clean up. '
	read -r _ || true
fi
