#!/bin/sh
# tests/net/test_netstackd_cli.sh DIR - netstackd's command line and life
# cycle: --help/--version, bad arguments, options not implemented yet, a
# tap it creates (removed on exit), a busy tap, no permission, a device
# that is not a tap.  Every error must be exactly one line and a nonzero exit.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/net/lib.sh
net_init "${1:-build/normal}"

# expect_err DESC PATTERN ARGS...: nonzero exit, exactly one stderr line matching PATTERN
expect_err() {
	desc=$1; pat=$2; shift 2
	in_ns ${AS_USER:-} timeout 10 "$NSD" "$@" >"$WORK/err.out" 2>"$WORK/err.txt"
	rc=$?
	lines=$(grep -c . "$WORK/err.txt")
	if [ $rc != 0 ] && [ $rc != 124 ] && [ "$lines" = 1 ] && grep -qi -- "$pat" "$WORK/err.txt"; then
		ok "$desc"
	else
		bad "$desc (rc=$rc, $lines lines: $(head -c 300 "$WORK/err.txt"))"
	fi
}

check "--help exits 0 with usage" sh -c "'$NSD' --help | grep -q -- '--tap NAME'"
check "--version prints the version" sh -c "'$NSD' --version | grep -q '^netstackd [0-9]'"
expect_err "no arguments" "--tap"
expect_err "unknown option" "unknown option" --tap t0 --ip4 198.18.0.2/24 --frobnicate
expect_err "missing option argument" "needs an argument" --tap
expect_err "bad MAC" "mac" --tap t0 --mac 02:00:zz:00:00:01 --ip4 198.18.0.2/24
expect_err "multicast MAC" "mac" --tap t0 --mac 01:00:5e:00:00:01 --ip4 198.18.0.2/24
expect_err "bad IPv4 address" "ip4" --tap t0 --ip4 198.18.0.300/24
expect_err "IPv4 without prefix length" "ip4" --tap t0 --ip4 198.18.0.2
expect_err "bad gateway" "gw4" --tap t0 --ip4 198.18.0.2/24 --gw4 nonsense
expect_err "bad MTU" "mtu" --tap t0 --ip4 198.18.0.2/24 --mtu 12
expect_err "unknown service" "service" --tap t0 --ip4 198.18.0.2/24 --services echo,gopher
expect_err "bad log level" "log-level" --tap t0 --ip4 198.18.0.2/24 --log-level loud
expect_err "interface name too long" "tap" --tap abcdefghijklmnopq --ip4 198.18.0.2/24
expect_err "--tap and --packet together" "together" --tap t0 --packet eth0 --ip4 198.18.0.2/24
expect_err "too many threads" "threads" --tap t0 --ip4 198.18.0.2/24 --threads 99
expect_err "zero workers" "workers" --tap t0 --ip4 198.18.0.2/24 --workers 0
expect_err "too many workers" "workers" --tap t0 --ip4 198.18.0.2/24 --workers 1000
check "--help documents --workers" sh -c "'$NSD' --help | grep -q -- '--workers N'"
expect_err "missing AF_PACKET device" "no interface" --packet nsnone$$ --ip4 198.18.0.2/24
expect_err "not a tap device" "not a usable tap" --tap lo --ip4 198.18.0.2/24

# no permission: an unprivileged user cannot create or attach a tap
if command -v setpriv >/dev/null 2>&1 && setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all --bounding-set=-all test -x "$NSD"; then
	AS_USER="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all"
	expect_err "no permission" "permission denied" --tap nsnp$$ --ip4 198.18.0.2/24
	AS_USER=""
fi

# a tap netstackd creates (and configures on the host side) goes away when it exits
TAP=nsc$$
nsd_start created --tap "$TAP" --ip4 198.18.0.2/24 --mac 02:00:5e:ed:00:02 --host-ip4 198.18.0.1/24
i=0
while ! in_ns ip link show "$TAP" >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "netstackd created tap $TAP" in_ns ip link show "$TAP"
check "--host-ip4 configured the kernel side" sh -c "ip -n $NS addr show $TAP | grep -q 198.18.0.1/24"
check "the created tap answers ping" wait_ping 198.18.0.2
# a second daemon on the same device: busy
expect_err "busy tap" "busy" --tap "$TAP" --ip4 198.18.0.3/24
kill -TERM $NSD_PID
wait $NSD_PID
check "exit status 0 after SIGTERM" [ $? = 0 ]
check "the created tap is gone" sh -c "! ip -n $NS link show $TAP >/dev/null 2>&1"
check "no sanitizer report" sh -c "! grep -q 'ERROR: AddressSanitizer\|runtime error' '$WORK/created.log'"
net_finish
