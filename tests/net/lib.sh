# tests/net/lib.sh - shared by the network tests (sourced, not run).
# Every test: a namespace of its own (unique name with $$), a trap that
# kills only the PIDs it started and deletes what it created, bounded waits.
#   . tests/net/lib.sh; net_init DIR   (DIR = build/normal or build/asan)

net_init() {
	NSD=$(cd "${1:-build/normal}" && pwd)/netstackd
	[ -x "$NSD" ] || { echo "SKIP: no $NSD"; exit 1; }
	NS=nst$$
	WORK=$(mktemp -d /tmp/nstest.XXXXXX)
	PIDS=""
	FAILS=0
	PASSES=0
	trap net_cleanup EXIT
	trap 'exit 130' INT TERM
	ip netns add "$NS" || { echo "FAIL: cannot create namespace $NS"; exit 1; }
	ip -n "$NS" link set lo up
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
}

# exit_desc STATUS: "exit status N" or "killed by signal NAME" for a $? value
exit_desc() {
	if [ "$1" -gt 128 ] && [ "$1" -lt 160 ]; then
		echo "killed by signal SIG$(kill -l $(($1 - 128)) 2>/dev/null) ($1)"
	else
		echo "exit status $1"
	fi
}

# On failure: how every netstackd that is no longer running ended (one that
# died by itself shows its signal), so a failure is not a silent "no answer".
nsd_report_exits() {
	for e in ${NSD_LIST:-}; do
		p=${e%%:*}
		ours "$p" && continue
		wait "$p" 2>/dev/null
		st=$?
		[ $st = 127 ] && continue
		echo "NOTE: netstackd '${e#*:}' (pid $p) was not running at cleanup: $(exit_desc $st)"
		ls /tmp/cores/core.*."$p" 2>/dev/null | sed 's/^/NOTE: core file /'
	done
}

# ours PID: PID is still a child of this shell.  A PID that ended long ago
# may belong to someone else by now (pid_max is small and several test runs
# share the machine): killing it by number would hit another run's netstackd.
# (a zombie is not running: it counts as gone)
ours() {
	set -- $(ps -o ppid=,stat= -p "$1" 2>/dev/null)
	[ "${1:-}" = "$$" ] && [ "${2#Z}" = "${2:-}" ]
}

net_cleanup() {
	rc=$?
	[ $rc = 0 ] || nsd_report_exits
	live=""
	for p in $PIDS; do ours "$p" && live="$live $p"; done
	for p in $live; do kill "$p" 2>/dev/null; done
	for p in $live; do
		i=0
		while ours "$p" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		ours "$p" && kill -9 "$p" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	if [ $rc != 0 ] || [ "${KEEP_LOGS:-}" ]; then
		for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
	fi
	rm -rf "$WORK"
	exit $rc
}

ok() { PASSES=$((PASSES + 1)); echo "ok   - $*"; }
bad() { FAILS=$((FAILS + 1)); echo "FAIL - $*"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else bad "$desc"; fi; }

in_ns() { ip netns exec "$NS" "$@"; }

# nsd_start NAME ARGS...: starts netstackd in the namespace (logs in $WORK/NAME.log,
# stdout in $WORK/NAME.out); sets NSD_PID.
nsd_start() {
	name=$1; shift
	ip netns exec "$NS" "$NSD" "$@" >"$WORK/$name.out" 2>"$WORK/$name.log" &
	NSD_PID=$!
	PIDS="$PIDS $NSD_PID"
	NSD_LIST="${NSD_LIST:-} $NSD_PID:$name"
}

# nsd_stat PID OUTFILE NAME: asks netstackd for its statistics (SIGUSR1, the
# report goes to its stdout file) and prints counter NAME from the newest report.
nsd_stat() {
	n0=$(grep -c '^services:' "$2" 2>/dev/null)
	kill -USR1 "$1" 2>/dev/null || { echo 0; return; }
	i=0
	while [ $i -lt 30 ]; do
		[ "$(grep -c '^services:' "$2" 2>/dev/null)" -gt "${n0:-0}" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	start=$(grep -n '^#netstack' "$2" | tail -n 1 | cut -d: -f1)
	tail -n +"${start:-1}" "$2" | awk -v n="$3" '$1 == n { v = $2 } END { print v + 0 }'
}

# wait_ping ADDR: up to 10 s for the stack to answer.
wait_ping() {
	i=0
	while [ $i -lt 20 ]; do
		in_ns ping -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}

net_finish() {
	echo "$PASSES passed, $FAILS failed"
	[ "$FAILS" = 0 ]
}
