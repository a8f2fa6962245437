#!/usr/bin/env python3
"""tests/net/pcap_cmp.py OURS THEIRS MAC - compares two Ethernet pcap files
frame by frame, per direction: frames whose source MAC is MAC (sent by the
stack) and the others (received by it) must appear in both files in the same
order with the same bytes.  Either file may begin with up to 16 frames per
direction the other lacks (sent before the other side was listening, or
after it stopped); apart from those
that both must hold the same frames, in the same order within each flow
(threads writing different flows may interleave differently).  Prints a
summary; exit 0 when they agree."""
import struct
import sys
from collections import Counter


def frames(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        end = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        end = '>'
    else:
        sys.exit('%s: not a pcap file' % path)
    linktype = struct.unpack(end + 'I', data[20:24])[0]
    if linktype != 1:
        sys.exit('%s: linktype %d, want 1 (Ethernet)' % (path, linktype))
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, incl, orig = struct.unpack(end + 'IIII', data[off:off + 16])
        off += 16
        if incl != orig:
            sys.exit('%s: frame %d truncated (%d of %d)' % (path, len(out), incl, orig))
        out.append(data[off:off + incl])
        off += incl
    return out


def split(fr, mac):
    return [f for f in fr if f[6:12] == mac], [f for f in fr if f[6:12] != mac]


def flow(f):
    """EtherType plus, for IPv4/IPv6, protocol, addresses and ports."""
    et = f[12:14]
    if et == b'\x08\x00' and len(f) >= 38:
        ihl = (f[14] & 15) * 4
        return et + f[23:24] + f[26:34] + f[14 + ihl:14 + ihl + 4]
    if et == b'\x86\xdd' and len(f) >= 58:
        return et + f[20:21] + f[22:54] + f[54:58]
    return et


def compare(name, a, b):
    """Frames of one direction: a (ours) against b (kernel capture)."""
    # frames before the first common one were seen by one side only: sent
    # before the other started (ours before the capture, or the kernel's ARP
    # requests before netstackd attached)
    pairs = [(i + j, i, j) for i in range(min(17, len(a))) for j in range(min(17, len(b)))
             if a[i] == b[j]]
    _, si, sj = min(pairs) if pairs else (0, 0, 0)
    if si or sj:
        print('%s: skipping %d leading frames of ours, %d of the kernel capture' % (name, si, sj))
    a, b = a[si:], b[sj:]
    # and after the last common one: sent after the capture stopped
    pairs = [(i + j, i, j) for i in range(min(17, len(a))) for j in range(min(17, len(b)))
             if a[len(a) - 1 - i] == b[len(b) - 1 - j]]
    _, ti, tj = min(pairs) if pairs else (0, 0, 0)
    if ti or tj:
        print('%s: skipping %d trailing frames of ours, %d of the kernel capture' % (name, ti, tj))
    a, b = a[:len(a) - ti], b[:len(b) - tj]
    in_order = sum(1 for x, y in zip(a, b) if x == y)
    print('%s: ours %d frames, kernel capture %d frames, %d identical at the same position'
          % (name, len(a), len(b), in_order))
    if not a or Counter(a) != Counter(b):
        print('  %s: the frames differ (not the same multiset of byte strings)' % name)
        return False
    # frames written by different threads may interleave differently in the two
    # captures; within one flow the order must be the same
    for k in set(map(flow, a)):
        if [f for f in a if flow(f) == k] != [f for f in b if flow(f) == k]:
            print('  %s: order differs within flow %s' % (name, k.hex()))
            return False
    return True


def main():
    ours, theirs = frames(sys.argv[1]), frames(sys.argv[2])
    mac = bytes(int(x, 16) for x in sys.argv[3].split(':'))
    ok = True
    for name, a, b in zip(('sent', 'received'), split(ours, mac), split(theirs, mac)):
        ok = compare(name, a, b) and ok
    sys.exit(0 if ok else 1)


main()
