#!/bin/sh
# tests/replay/packetdrill.sh - runs every packetdrill script of the shared
# corpus (../shared/packetdrill relative to the repository, or $PACKETDRILL_DIR)
# in-process with pcap-replay, and prints pass / fail / skipped per directory
# plus a summary.  Exit status 0: the corpus result is a report, not a gate.
# usage: sh tests/replay/packetdrill.sh [BUILD_DIR] [-v]
set -u
build=${1:-build/normal}
verbose=${2:-}
repo=$(cd "$(dirname "$0")/../.." && pwd)
dir=${PACKETDRILL_DIR:-$repo/../shared/packetdrill}
bin=$build/pcap-replay
if [ ! -d "$dir/gtests" ]; then
	echo "packetdrill: no scripts at $dir (expected ../shared/packetdrill/gtests next to the repository);"
	echo "packetdrill: set PACKETDRILL_DIR to run them.  Nothing to do."
	exit 0
fi
if [ ! -x "$bin" ]; then
	echo "packetdrill: $bin not built (make V=normal build-all)"
	exit 1
fi
log=${TEST_LOG_DIR:-build/test-logs}
mkdir -p "$log"
out="$log/packetdrill.log"
: >"$out"
find "$dir/gtests" -name '*.pkt' | sort | while read -r f; do
	rel=${f#"$dir"/gtests/}
	(cd "$(dirname "$f")" && timeout 60 "$repo/$bin" script "$(basename "$f")" 2>&1
	 rc=$?; [ "$rc" -le 1 ] || echo "ERROR $(basename "$f") (pcap-replay exited with status $rc)") |
		awk -v p="$rel" '/^(PASS|FAIL|SKIP|ERROR) / { $2 = p } { print }' >>"$out"
done
awk -v verbose="$verbose" '
/^(PASS|FAIL|SKIP|ERROR) / {
	st = $1; path = $2; d = path; sub(/\/[^\/]*$/, "", d)
	dirs[d] = 1; n[d, st]++; tot[st]++; total++
	if (verbose != "" || st != "PASS") { cur = st " " path; print "  " cur }
	next
}
/^    / && verbose != "" { print "  " $0 }
/^    line/ && verbose == "" { print "  " $0 }
END {
	printf "\n%-40s %5s %5s %5s %5s\n", "directory", "pass", "fail", "skip", "error"
	m = 0
	for (d in dirs) keys[++m] = d
	for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (keys[j] < keys[i]) { t = keys[i]; keys[i] = keys[j]; keys[j] = t }
	for (i = 1; i <= m; i++) { d = keys[i]; printf "%-40s %5d %5d %5d %5d\n", d, n[d, "PASS"], n[d, "FAIL"], n[d, "SKIP"], n[d, "ERROR"] }
	printf "%-40s %5d %5d %5d %5d\n", "TOTAL (" total " scripts)", tot["PASS"], tot["FAIL"], tot["SKIP"], tot["ERROR"]
	printf "packetdrill: %d passed, %d failed, %d skipped, %d errors of %d scripts\n", tot["PASS"], tot["FAIL"], tot["SKIP"], tot["ERROR"], total
}' "$out"
echo "packetdrill: full log in $out"
exit 0
