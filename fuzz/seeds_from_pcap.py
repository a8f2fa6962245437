#!/usr/bin/python3
"""fuzz/seeds_from_pcap.py PCAP... - turns captured frames into seed inputs
for the fuzz targets (fuzz/corpus/TARGET/), in each target's input format:
eth = the frame; arp = the ARP packet; ipv4 = flag byte 0x03 + IPv4 datagram;
icmp4/udp/tcp = the L4 message (udp/tcp prefixed with a flag byte: bit 0 =
IPv6); ipv6 = next-header byte + payload after the fixed header; icmp6 =
flag byte + message.  Plain struct parsing, no third-party modules."""
import hashlib, os, struct, sys

def frames(path):
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack('<I', data[:4])[0]
    end = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + 'IIII', data[off:off + 16])
        off += 16
        yield data[off:off + incl]
        off += incl

def save(target, blob):
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'pcap-' + hashlib.sha1(blob).hexdigest()[:16]), 'wb') as f:
        f.write(blob)

for path in sys.argv[1:]:
    for fr in frames(path):
        if len(fr) < 14:
            continue
        save('eth', fr)
        et = struct.unpack('>H', fr[12:14])[0]
        p = fr[14:]
        if et == 0x0806:
            save('arp', p)
        elif et == 0x0800 and len(p) >= 20:
            save('ipv4', b'\x03' + p)
            ihl = (p[0] & 15) * 4
            tot = struct.unpack('>H', p[2:4])[0]
            l4 = p[ihl:tot]
            if p[9] == 1:
                save('icmp4', l4)
            elif p[9] == 17:
                save('udp', b'\x00' + l4)
            elif p[9] == 6:
                save('tcp', b'\x00' + l4)
        elif et == 0x86dd and len(p) >= 40:
            plen = struct.unpack('>H', p[4:6])[0]
            nh, l4 = p[6], p[40:40 + plen]
            save('ipv6', bytes([nh]) + l4)
            if nh == 58:
                save('icmp6', b'\x00' + l4)
            elif nh == 17:
                save('udp', b'\x01' + l4)
            elif nh == 6:
                save('tcp', b'\x01' + l4)
