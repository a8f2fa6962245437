#!/bin/sh
# Regenerates NAME.expected.pcap for every NAME.in.pcap with pcap-replay run.
# Only after reviewing the new output (tcpdump -nn -e -r ...) against what
# Linux does: an expected output is a statement about correct behaviour.
# usage: sh tests/replay/corpus/regen.sh [build/normal] [case...]
set -eu
dir=$(dirname "$0")
bin=${1:-build/normal}/pcap-replay
shift 2>/dev/null || true
cases=${*:-$(cd "$dir" && ls *.in.pcap | sed 's/\.in\.pcap$//')}
for c in $cases; do
	conf="$dir/stack.conf"
	[ -f "$dir/$c.conf" ] && conf="$dir/$c.conf"   # a case may bring its own config
	"$bin" run --config "$conf" --in "$dir/$c.in.pcap" --out "$dir/$c.expected.pcap"
done
