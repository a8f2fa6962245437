#!/usr/bin/python3
"""Builds the peer side (input) captures of the pcap-replay regression corpus
with scapy.  Each case is NAME.in.pcap; its expected output NAME.expected.pcap
is produced by `pcap-replay run` and reviewed by hand before it is committed
(see README.md in this directory).  Run: /usr/bin/python3 gen.py"""
from scapy.all import Ether, ARP, IP, IPv6, ICMP, UDP, TCP, Raw, fragment, wrpcap, \
    ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPv6ExtHdrFragment, fragment6

US = "02:00:00:00:00:01"   # the stack
PEER = "02:00:00:00:00:02"
BC = "ff:ff:ff:ff:ff:ff"
A, B = "198.18.0.1", "198.18.0.2"
A6, B6 = "fd00:5eed::1", "fd00:5eed::2"
T0 = 1700000000.0


def at(pkts):
    """pkts: list of (seconds after T0, packet)"""
    out = []
    for t, p in pkts:
        p.time = T0 + t
        out.append(p)
    return out


def arp_who_has(t=0.0):
    return (t, Ether(src=PEER, dst=BC) / ARP(op=1, hwsrc=PEER, psrc=B, pdst=A))


def arp_reply(t):
    return (t, Ether(src=PEER, dst=US) / ARP(op=2, hwsrc=PEER, psrc=B, hwdst=US, pdst=A))


def v4(t, l4, **kw):
    return (t, Ether(src=PEER, dst=US) / IP(src=B, dst=A, id=kw.get("id", 1), ttl=64) / l4)


cases = {}
cases["arp_request"] = at([arp_who_has(0.0), (0.5, Ether(src=PEER, dst=BC) /
                          ARP(op=1, hwsrc=PEER, psrc=B, pdst="198.18.0.77"))])
cases["icmp_echo"] = at([arp_who_has(0.0),
                         v4(0.01, ICMP(type=8, id=0x1234, seq=1) / Raw(b"abcdefgh" * 7)),
                         v4(1.01, ICMP(type=8, id=0x1234, seq=2) / Raw(b"abcdefgh" * 7))])
cases["icmp_echo_needs_arp"] = at([v4(0.0, ICMP(type=8, id=7, seq=1) / Raw(b"x" * 32)), arp_reply(0.002)])
cases["udp_echo"] = at([arp_who_has(0.0),
                        v4(0.01, UDP(sport=40000, dport=7) / Raw(b"hello, netstack")),
                        v4(0.02, UDP(sport=40001, dport=7) / Raw(b"")),
                        v4(0.03, UDP(sport=40002, dport=7) / Raw(bytes(range(256)) * 4))])
cases["udp_port_unreachable"] = at([arp_who_has(0.0),
                                    v4(0.01, UDP(sport=40000, dport=5555) / Raw(b"anyone there?"))])
frags = fragment(IP(src=B, dst=A, id=0x4242) / ICMP(type=8, id=9, seq=1) / Raw(bytes(range(256)) * 12), fragsize=1480)
cases["ipv4_fragments"] = at([arp_who_has(0.0)] + [(0.01 + 0.001 * i, Ether(src=PEER, dst=US) / f) for i, f in enumerate(frags)])
frags_rev = list(reversed(fragment(IP(src=B, dst=A, id=0x4343) / UDP(sport=40000, dport=7) / Raw(b"R" * 3000), fragsize=1000)))
cases["ipv4_fragments_reversed_udp"] = at([arp_who_has(0.0)] + [(0.01 + 0.001 * i, Ether(src=PEER, dst=US) / f) for i, f in enumerate(frags_rev)])
cases["ipv4_bad_checksum"] = at([arp_who_has(0.0),
                                 (0.01, Ether(src=PEER, dst=US) / IP(src=B, dst=A, chksum=0x1234) / ICMP(type=8, id=1, seq=1)),
                                 v4(0.02, ICMP(type=8, id=1, seq=2))])


def ns_for_us(t=0.0):
    """the peer resolves our IPv6 address (and we learn its MAC from the NS)"""
    return (t, Ether(src=PEER, dst="33:33:ff:00:00:01") / IPv6(src=B6, dst="ff02::1:ff00:1", hlim=255) /
            ICMPv6ND_NS(tgt=A6) / ICMPv6NDOptSrcLLAddr(lladdr=PEER))


def v6(t, l4):
    return (t, Ether(src=PEER, dst=US) / IPv6(src=B6, dst=A6) / l4)


cases["icmp6_echo"] = at([ns_for_us(0.0), v6(0.01, ICMPv6EchoRequest(id=5, seq=1, data=b"ping6" * 10))])
cases["udp6_echo"] = at([ns_for_us(0.0), v6(0.01, UDP(sport=40000, dport=7) / Raw(b"hello over IPv6"))])
cases["udp6_port_unreachable"] = at([ns_for_us(0.0), v6(0.01, UDP(sport=40000, dport=5555) / Raw(b"x" * 20))])
f6 = fragment6(IPv6(src=B6, dst=A6) / IPv6ExtHdrFragment(id=0x77) / ICMPv6EchoRequest(id=6, seq=1, data=bytes(range(256)) * 12), 1280)
cases["ipv6_fragments"] = at([ns_for_us(0.0)] + [(0.01 + 0.001 * i, Ether(src=PEER, dst=US) / f) for i, f in enumerate(f6)])


def tcp_peer(sport, dport, seq):
    return IP(src=B, dst=A) / TCP(sport=sport, dport=dport, seq=seq)


cases["tcp_closed_port_rst"] = at([arp_who_has(0.0),
                                   v4(0.01, TCP(sport=40000, dport=5555, flags="S", seq=1000, window=64240,
                                               options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]))])

for name, pkts in cases.items():
    wrpcap(f"{name}.in.pcap", pkts)
    print(name, len(pkts))
