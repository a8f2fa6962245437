#!/bin/sh
# tests/net/test_tap_ipv6_plain.sh DIR - test_tap_ipv6.sh on the plain tap
# endpoint (tap/tap.c: no virtio-net header, no offloads).
cd "$(dirname "$0")/../.." || exit 1
NSD_EXTRA="--no-offload" exec sh tests/net/test_tap_ipv6.sh "$@"
