#!/bin/sh
# Runs every test once per build directory given (build/normal, build/asan):
# the cmocka unit binaries in DIR/tests/, then the network tests in
# tests/net/*.sh (as root only; each creates and removes its own namespaces)
# against DIR's netstackd.  Prints a final line "N passed, N failed".
set -u
pass=0
fail=0
failed=""
log=${TEST_LOG_DIR:-build/test-logs}
mkdir -p "$log"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
run_one() {
	name=$1; shift
	out="$log/$(echo "$name" | tr '/ ' '__').log"
	start=$(date +%s)
	if timeout "${TEST_TIMEOUT:-900}" "$@" >"$out" 2>&1; then
		pass=$((pass + 1)); st=PASS
	else
		fail=$((fail + 1)); st=FAIL; failed="$failed $name"
	fi
	grep -E '^\[  (PASSED|FAILED)  \]|^[0-9]+ passed, [0-9]+ failed' "$out" | sed "s|^|    |"
	echo "$st $name ($(( $(date +%s) - start ))s)"
	if [ $st = FAIL ]; then tail -n 40 "$out" | sed 's/^/    | /'; fi
}
for dir in "$@"; do
	variant=$(basename "$dir")
	for t in "$dir"/tests/test_* "$dir"/tests/example_*; do
		[ -x "$t" ] || continue
		run_one "$variant/$(basename "$t")" "$t"
	done
	# fuzz seed corpora and every regression input, replayed once
	for t in "$dir"/fuzz/fuzz_*; do
		[ -x "$t" ] || continue
		n=$(basename "$t" | sed 's/^fuzz_//')
		run_one "$variant/fuzz/$n" "$t" "fuzz/corpus/$n" "fuzz/regressions/$n"
	done
	# the whole-stack target with the clock a long campaign reaches (2^64 ns
	# minus four hours): its harness must start a fresh stack, not wrap
	if [ -x "$dir/fuzz/fuzz_whole" ]; then
		run_one "$variant/fuzz/whole-late-clock" env FZ_CLOCK_START=18446729673709551616 \
			"$dir/fuzz/fuzz_whole" fuzz/regressions/whole
	fi
	if [ "$(id -u)" = 0 ] && [ -z "${NS_SKIP_NET:-}" ]; then
		for s in tests/net/test_*.sh; do
			[ -f "$s" ] || continue
			run_one "$variant/net/$(basename "$s" .sh)" sh "$s" "$dir"
		done
	else
		echo "note: network tests skipped (need root)"
	fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
