#!/bin/sh
# Installs the Debian packages netstack needs, if any are missing.
#   tests/deps.sh build   - to build the library, daemon and tests
#   tests/deps.sh net     - also the peers the network tests use
set -e
BUILD_PKGS="libpcap-dev libnl-3-dev libnl-route-3-dev libcmocka-dev liburcu-dev pkg-config"
NET_PKGS="iproute2 iputils-ping socat ncat netcat-openbsd curl tcpdump python3 python3-scapy nftables procps wrk"
want="$BUILD_PKGS $NET_PKGS"
missing=""
for p in $want; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
		echo "deps: not root and no sudo; install these by hand:$missing" >&2; exit 1; fi
fi
export DEBIAN_FRONTEND=noninteractive
${SUDO:-} apt-get update -qq || ${SUDO:-} apt-get update
${SUDO:-} apt-get install -y -qq --no-install-recommends $missing
