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


# reassembly timeout: only the first fragment arrives; Linux answers with ICMP
# time exceeded (fragment reassembly) after 30 s (IPv6: 60 s), RFC 792 / 8200
first = fragment(IP(src=B, dst=A, id=0x4444) / ICMP(type=8, id=10, seq=1) / Raw(b"T" * 3000), fragsize=1480)[0]
cases["ipv4_fragment_timeout"] = at([arp_who_has(0.0), (0.01, Ether(src=PEER, dst=US) / first)])
first6 = fragment6(IPv6(src=B6, dst=A6) / IPv6ExtHdrFragment(id=0x78) / ICMPv6EchoRequest(id=7, seq=1, data=b"T" * 3000), 1280)[0]
cases["ipv6_fragment_timeout"] = at([ns_for_us(0.0), (0.01, Ether(src=PEER, dst=US) / first6)])
# overlapping fragments are dropped (RFC 5722 for IPv6; Linux drops the datagram for IPv4 too)
o1 = IP(src=B, dst=A, id=0x4545, flags="MF", frag=0, proto=1) / Raw(bytes(ICMP(type=8, id=11, seq=1)) + b"A" * 1000)
o2 = IP(src=B, dst=A, id=0x4545, frag=100, proto=1) / Raw(b"B" * 400)   # offset 800 < 1008: overlap
cases["ipv4_fragments_overlap"] = at([arp_who_has(0.0), (0.01, Ether(src=PEER, dst=US) / o1), (0.02, Ether(src=PEER, dst=US) / o2)])


# TCP: the peer acknowledges an "original" ISN of ORIG and echoes TS values from
# ORIG_TS; pcap-replay run adapts both to the ISN/TSval our stack chooses.
ORIG, ORIG_TS = 1000000, 5000


class Peer:
    def __init__(self, dport, sport=40000, isn=7000, ts=True):
        self.dport, self.sport, self.seq, self.ts, self.tsval, self.pkts = dport, sport, isn, ts, 100, []
        self.ack = ORIG + 1

    def opts(self, t, syn=False):
        o = [("MSS", 1460), ("SAckOK", b"")] if syn else []
        if self.ts:
            o += [("Timestamp", (self.tsval + int(t * 1000), 0 if syn else ORIG_TS + int(t * 1000)))]
        if syn:
            o += [("NOP", None), ("WScale", 7)]
        return o

    def send(self, t, flags, data=b"", ack=None, win=502, sack=None):
        if ack is not None:
            self.ack = ORIG + 1 + ack
        syn = "S" in flags
        opts = self.opts(t, syn)
        if sack:
            opts = opts + [("NOP", None), ("NOP", None), ("SAck", tuple(ORIG + 1 + x for b in sack for x in b))]
        tcp = TCP(sport=self.sport, dport=self.dport, flags=flags, seq=self.seq,
                  ack=self.ack if "A" in flags else 0, window=64240 if syn else win, options=opts)
        self.pkts.append(v4(t, tcp / Raw(data) if data else tcp))
        self.seq += len(data) + (1 if syn or "F" in flags else 0)
        return self


p = Peer(7)
p.send(0.01, "S").send(0.02, "A", ack=0).send(0.03, "PA", b"hello, echo").send(0.08, "A", ack=11)
p.send(0.10, "FA").send(0.15, "A", ack=12)
cases["tcp_echo_handshake_close"] = at([arp_who_has(0.0)] + p.pkts)

p = Peer(9)
p.send(0.01, "S").send(0.02, "A", ack=0)
for i in range(40):
    p.send(0.03 + 0.001 * i, "A" if i % 8 else "PA", bytes([i]) * 1448)
p.send(0.2, "FA")
cases["tcp_bulk_discard"] = at([arp_who_has(0.0)] + p.pkts)

# loss recovery: the echo of 10 segments loses its first one; SACKed duplicate
# ACKs must bring a fast retransmission (RFC 6675 / RACK), then everything is acked
p = Peer(7)
p.send(0.01, "S").send(0.02, "A", ack=0)
for i in range(10):
    p.send(0.03, "A" if i < 9 else "PA", bytes([65 + i]) * 1448)
M = 1448
p.send(0.05, "A", ack=0, sack=[(M, 2 * M)]).send(0.0505, "A", ack=0, sack=[(M, 3 * M)])
p.send(0.051, "A", ack=0, sack=[(M, 4 * M)]).send(0.0515, "A", ack=0, sack=[(M, 5 * M)])
p.send(0.052, "A", ack=0, sack=[(M, 6 * M)]).send(0.0525, "A", ack=0, sack=[(M, 10 * M)])
p.send(0.08, "A", ack=10 * M).send(0.1, "FA").send(0.15, "A", ack=10 * M + 1)
cases["tcp_loss_sack_recovery"] = at([arp_who_has(0.0)] + p.pkts)

p = Peer(8080)
p.send(0.01, "S").send(0.02, "A", ack=0).send(0.03, "PA", b"x" * 100).send(0.05, "RA")
cases["tcp_rst_established"] = at([arp_who_has(0.0)] + p.pkts)

p = Peer(8080)
p.send(0.01, "S")                       # never completes: SYN-ACK retransmissions
cases["tcp_synack_retransmit"] = at([arp_who_has(0.0)] + p.pkts)

p = Peer(7, ts=False)
p.send(0.01, "S").send(0.02, "A", ack=0, win=0).send(0.03, "PA", b"z" * 3000, win=0)
p.send(2.5, "A", ack=0, win=65535)      # the window opens: the echo flows
p.send(2.6, "A", ack=3000, win=65535).send(2.7, "FA", win=65535).send(2.8, "A", ack=3001, win=65535)
cases["tcp_zero_window_persist"] = at([arp_who_has(0.0)] + p.pkts)

p = Peer(40000, sport=40000, ts=False)
p.seq = 555
cases["tcp_stray_ack_rst"] = at([arp_who_has(0.0), v4(0.01, TCP(sport=40001, dport=8080, flags="A", seq=555, ack=123456))])


cases["tcp_closed_port_rst"] = at([arp_who_has(0.0),
                                   v4(0.01, TCP(sport=40000, dport=5555, flags="S", seq=1000, window=64240,
                                               options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]))])

for name, pkts in cases.items():
    wrpcap(f"{name}.in.pcap", pkts)
    print(name, len(pkts))
