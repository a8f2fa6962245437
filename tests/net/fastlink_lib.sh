# tests/net/fastlink_lib.sh - helpers for the link-endpoint network tests
# (test_afpacket.sh, test_tap_mq.sh, test_pcap_frames.sh); sourced after
# tests/net/lib.sh.  Every client is a Linux kernel socket run in namespace
# $1 (curl, socat); every transfer is checked by sha256.

# pattern_sha N: sha256 of netstackd's /bytes/N body ("abc...z" repeated)
pattern_sha() {
	python3 -c 'import hashlib,string,sys
n=int(sys.argv[1]); p=(string.ascii_lowercase*(n//26+1))[:n]
print(hashlib.sha256(p.encode()).hexdigest())' "$1"
}

# bulk_down NS ADDR N: curl GET /bytes/N from the stack, body sha256 checked
bulk_down() {
	want=$(pattern_sha "$3")
	got=$(ip netns exec "$1" timeout 120 curl -sf --max-time 100 "http://$2/bytes/$3" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || { echo "    bulk_down $3 bytes: sha256 $got, want $want" >&2; return 1; }
}

# bulk_echo NS ADDR FILE: FILE through the TCP echo service and back
# (kernel -> stack and stack -> kernel at once), sha256 compared
bulk_echo() {
	out=$3.back.$$
	ip netns exec "$1" timeout 120 socat -t 30 -b 65536 - "TCP:$2:7" <"$3" >"$out" 2>/dev/null
	a=$(sha256sum <"$3" | cut -d' ' -f1)
	b=$(sha256sum <"$out" | cut -d' ' -f1)
	rm -f "$out"
	[ "$a" = "$b" ] || { echo "    bulk_echo: sha256 differs ($(wc -c <"$3") bytes sent)" >&2; return 1; }
}

# many_conns NS ADDR K M: K concurrent GET /bytes/M, every body checked
many_conns() {
	want=$(pattern_sha "$4")
	seq 1 "$3" | ip netns exec "$1" timeout 120 xargs -P "$3" -I{} sh -c \
		"curl -sf --max-time 60 http://$2/bytes/$4 | sha256sum | cut -d' ' -f1" >"$WORK/many.$$" 2>/dev/null
	n=$(grep -c "^$want\$" "$WORK/many.$$")
	rm -f "$WORK/many.$$"
	[ "$n" = "$3" ] || { echo "    many_conns: $n of $3 bodies correct" >&2; return 1; }
}

# wait_ping_in NS ADDR: up to 10 s for ADDR to answer from NS
wait_ping_in() {
	i=0
	while [ $i -lt 20 ]; do
		ip netns exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}

# stop_nsd PID: SIGTERM, bounded wait, exit status 0
stop_nsd() {
	if ! kill -0 "$1" 2>/dev/null; then
		wait "$1"
		st=$?
		echo "    netstackd (pid $1) had ended before SIGTERM: $(exit_desc $st)" >&2
		[ $st != 0 ] || st=1
		return $st
	fi
	kill -TERM "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	wait "$1"
}

no_sanitizer_report() { ! grep -q 'ERROR: AddressSanitizer\|runtime error\|LeakSanitizer' "$1"; }
