#!/usr/bin/env python3
# tests/net/tools/send_ra.py IFNAME PREFIX/64 [LIFETIME] [MTU]
# Sends one router advertisement (RFC 4861 4.2) from the kernel side of a
# test interface to ff02::1: router lifetime LIFETIME (default 1800 s),
# a Prefix Information option (on-link, autonomous) and an MTU option.
# The kernel fills in the ICMPv6 checksum and the link-local source.
import socket
import struct
import sys

ifname, prefix = sys.argv[1], sys.argv[2]
lifetime = int(sys.argv[3]) if len(sys.argv) > 3 else 1800
mtu = int(sys.argv[4]) if len(sys.argv) > 4 else 0
pfx, plen = prefix.split("/")
ifindex = socket.if_nametoindex(ifname)

ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, lifetime, 0, 0)
pio = struct.pack("!BBBBIII", 3, 4, int(plen), 0xC0, 86400, 14400, 0)
pio += socket.inet_pton(socket.AF_INET6, pfx)
msg = ra + pio
if mtu:
    msg += struct.pack("!BBHI", 5, 1, 0, mtu)

s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
s.sendto(msg, ("ff02::1", 0, 0, ifindex))
