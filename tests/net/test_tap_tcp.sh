#!/bin/sh
# tests/net/test_tap_tcp.sh DIR - netstackd's TCP services against the Linux
# kernel over a tap: echo (1 MiB both ways, checked), discard (16 MiB),
# chargen (RFC 864 pattern checked), HTTP (/ page, /bytes/N for several N up
# to 100 MiB with sha256 compared, 404, keep-alive, pipelining, HEAD), RST
# for a closed port, many concurrent connections, statistics.
# NSD_EXTRA adds netstackd options (test_tap_tcp_plain.sh: --no-offload).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/net/lib.sh
net_init "${1:-build/normal}"

TAP=nstcp$$
HOST=198.18.0.1
STK=198.18.0.2
in_ns ip tuntap add dev "$TAP" mode tap || { echo "FAIL: tuntap"; exit 1; }
in_ns ip addr add $HOST/24 dev "$TAP"
in_ns ip link set "$TAP" up
nsd_start nsd --tap "$TAP" --mac 02:00:5e:ed:00:02 --ip4 $STK/24 --log-level info ${NSD_EXTRA:-}
OUT=$WORK/nsd.out
check "netstackd answers ping" wait_ping $STK
if grep -q "tcp/7 over IPv4 unavailable" "$WORK/nsd.log"; then
	echo "SKIP: this build has no TCP (netstackd: $(grep 'tcp/7' "$WORK/nsd.log"))"
	exit 0
fi

# the /bytes/N and chargen patterns, for comparisons
pattern() { python3 -c "
import sys
n = int(sys.argv[1]); a = b'abcdefghijklmnopqrstuvwxyz' * 2600
out = sys.stdout.buffer
while n > 0:
    k = min(n, 65520); out.write(a[:k]); n -= k
" "$1"; }
chargen() { python3 -c "
import sys
n = int(sys.argv[1]); out = bytearray(); s = 0
while len(out) < n:
    out += bytes(32 + (s + i) % 95 for i in range(72)) + b'\r\n'; s = (s + 1) % 95
sys.stdout.buffer.write(out[:n])
" "$1"; }

# echo (RFC 862): 1 MiB through and back, half-close at the end
head -c 1048576 /dev/urandom >"$WORK/echo.in"
in_ns timeout 30 socat -t 10 - TCP:$STK:7 <"$WORK/echo.in" >"$WORK/echo.out" 2>>"$WORK/socat.log"
check "TCP echo, 1 MiB" cmp -s "$WORK/echo.in" "$WORK/echo.out"
printf 'line one\n' | in_ns timeout 5 nc -N $STK 7 >"$WORK/echo.nc" 2>>"$WORK/socat.log"
check "TCP echo with nc" grep -qx "line one" "$WORK/echo.nc"

# discard (RFC 863): 16 MiB accepted, nothing returned
head -c 16777216 /dev/zero | in_ns timeout 60 socat -t 5 - TCP:$STK:9 >"$WORK/discard.out" 2>>"$WORK/socat.log"
check "TCP discard, 16 MiB sent without error" [ $? = 0 ]
check "TCP discard returns nothing" [ ! -s "$WORK/discard.out" ]

# chargen (RFC 864)
in_ns timeout 10 socat -u TCP:$STK:19 - 2>/dev/null | head -c 200000 >"$WORK/chargen.out"
chargen 200000 >"$WORK/chargen.want"
check "TCP chargen pattern (200 kB)" cmp -s "$WORK/chargen.want" "$WORK/chargen.out"

# HTTP
in_ns timeout 5 curl -sS -o "$WORK/page" -w '%{http_code}' http://$STK/ >"$WORK/code" 2>>"$WORK/curl.log"
check "GET / is 200 with a page" sh -c "grep -qx 200 '$WORK/code' && grep -q netstack '$WORK/page'"
for n in 0 1 1000 65536 1048577 104857600; do
	want=$(pattern $n | sha256sum | cut -d' ' -f1)
	got=$(in_ns timeout 120 curl -sS http://$STK/bytes/$n 2>>"$WORK/curl.log" | sha256sum | cut -d' ' -f1)
	check "GET /bytes/$n: sha256 matches" [ "$want" = "$got" ]
done
got=$(in_ns timeout 5 curl -s "http://$STK/bytes/10?x=1")
check "a query string is ignored" [ "$got" = abcdefghij ]
printf 'GET http://x/bytes/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | in_ns timeout 5 nc -N $STK 80 >"$WORK/abs.out"
check "absolute-form request target" sh -c "tail -c 3 '$WORK/abs.out' | grep -qx abc"
# malformed and unusual requests: status line of the (first) response
http_status() {
	printf "$1" | in_ns timeout 5 nc -N $STK 80 2>/dev/null | head -n 1 | tr -d '\r'
}
check "garbage request: 400" [ "$(http_status 'hello\r\n\r\n')" = "HTTP/1.1 400 Bad Request" ]
check "HTTP/2.0 request: 505" [ "$(http_status 'GET / HTTP/2.0\r\n\r\n')" = "HTTP/1.1 505 HTTP Version Not Supported" ]
check "POST: 405" [ "$(http_status 'POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc')" = "HTTP/1.1 405 Method Not Allowed" ]
check "chunked body: 501" [ "$(http_status 'PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n')" = "HTTP/1.1 501 Not Implemented" ]
python3 -c "import sys; sys.stdout.write('GET / HTTP/1.1\r\nX: ' + 'a' * 20000 + '\r\n\r\n')" >"$WORK/bighdr"
st=$(in_ns timeout 5 nc -N $STK 80 <"$WORK/bighdr" 2>/dev/null | head -n 1 | tr -d '\r')
check "20 kB header: 431" [ "$st" = "HTTP/1.1 431 Request Header Fields Too Large" ]
printf 'GET /bytes/4 HTTP/1.0\r\n\r\nGET /bytes/5 HTTP/1.0\r\n\r\n' | in_ns timeout 5 nc -N $STK 80 >"$WORK/h10" 2>/dev/null
check "HTTP/1.0 closes after one response" sh -c "[ \$(grep -c '^HTTP/1.1 200' '$WORK/h10') = 1 ] && grep -q '^Connection: close' '$WORK/h10'"
printf 'GET /bytes/4 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /bytes/5 HTTP/1.0\r\n\r\n' | in_ns timeout 5 nc -N $STK 80 >"$WORK/h10ka" 2>/dev/null
check "HTTP/1.0 keep-alive serves the next request" sh -c "[ \$(grep -o 'HTTP/1.1 200' '$WORK/h10ka' | wc -l) = 2 ] && grep -q '^Connection: keep-alive' '$WORK/h10ka'"
code=$(in_ns timeout 5 curl -s -o /dev/null -w '%{http_code}' http://$STK/nope)
check "GET /nope is 404" [ "$code" = 404 ]
len=$(in_ns timeout 5 curl -sSI http://$STK/bytes/12345 | tr -d '\r' | awk -F': ' 'tolower($1) == "content-length" { print $2 }')
check "HEAD /bytes/12345 has Content-Length 12345" [ "$len" = 12345 ]
in_ns timeout 10 curl -sv http://$STK/bytes/10 http://$STK/bytes/20 -o /dev/null -o /dev/null 2>"$WORK/ka.log"
check "keep-alive: curl re-used the connection" grep -qi "re-using existing connection\|reusing existing" "$WORK/ka.log"
printf 'GET /bytes/5 HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/7 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	in_ns timeout 10 nc -N $STK 80 >"$WORK/pipe.out" 2>>"$WORK/socat.log"
# bodies have no newline, so the next status line follows on the same line
check "pipelining: three responses in order" sh -c "[ \$(grep -o 'HTTP/1.1 200' '$WORK/pipe.out' | wc -l) = 3 ] && grep -q 'abcdeHTTP/1.1 200' '$WORK/pipe.out' && grep -q 'abcdefgHTTP/1.1 200' '$WORK/pipe.out' && tail -n 1 '$WORK/pipe.out' | grep -q '</html>'"

# many concurrent connections (each curl bounded by its own timeout)
cpids=""
i=0
while [ $i -lt 50 ]; do
	in_ns timeout 30 curl -s -o "$WORK/conc.$i" http://$STK/bytes/100000 &
	cpids="$cpids $!"
	i=$((i + 1))
done
for p in $cpids; do wait "$p"; done
complete=0
i=0
while [ $i -lt 50 ]; do
	[ "$(wc -c <"$WORK/conc.$i" 2>/dev/null || echo 0)" = 100000 ] && complete=$((complete + 1))
	i=$((i + 1))
done
check "50 concurrent HTTP transfers complete" [ $complete = 50 ]

# a closed port answers with RST: the kernel client sees "connection refused" at once
in_ns timeout 5 socat -T 2 - TCP:$STK:4444,connect-timeout=3 </dev/null 2>"$WORK/rst.log"
check "closed TCP port: connection refused" grep -qi refused "$WORK/rst.log"

# the SIGUSR1 report lists listeners and open connections like `ss -tan`
(sleep 3; echo bye) | in_ns timeout 10 nc $STK 7 >/dev/null 2>&1 &
hold=$!
sleep 1
nsd_stat $NSD_PID "$OUT" TcpCurrEstab >/dev/null
check "report lists the listener on port 80" grep -Eq "^LISTEN +[0-9]+ +[0-9]+ +0.0.0.0:80 " "$OUT"
check "report lists the open echo connection" grep -Eq "^ESTAB .* $STK:7 +$HOST:[0-9]+ +rtt:" "$OUT"
check "report says which service holds it" grep -Eq "^service echo " "$OUT"
kill $hold 2>/dev/null
wait $hold 2>/dev/null

check "TcpPassiveOpens counted" [ "$(nsd_stat $NSD_PID "$OUT" TcpPassiveOpens)" -ge 60 ]
check "TcpOutRsts counted" [ "$(nsd_stat $NSD_PID "$OUT" TcpOutRsts)" -ge 1 ]

kill -TERM $NSD_PID
wait $NSD_PID
check "exit status 0 after SIGTERM" [ $? = 0 ]
check "no sanitizer report" sh -c "! grep -q 'ERROR: AddressSanitizer\|runtime error' '$WORK/nsd.log'"
net_finish
