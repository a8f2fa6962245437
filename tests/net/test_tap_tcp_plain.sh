#!/bin/sh
# tests/net/test_tap_tcp_plain.sh DIR - test_tap_tcp.sh on the plain tap
# endpoint (no virtio-net header, no offloads).
cd "$(dirname "$0")/../.." || exit 1
NSD_EXTRA="--no-offload" exec sh tests/net/test_tap_tcp.sh "$@"
