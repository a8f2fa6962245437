#!/usr/bin/env python3
"""tests/net/tools/echo_backpressure.py HOST PID [TOTAL]

Backpressure through the TCP echo service: a client writes without reading
for 3 s.  The echo server must stop reading once its replies cannot be sent
(else it would buffer without bound), so the client's writes stall well
before TOTAL bytes (default 64 MiB), and the server's resident memory
(/proc/PID/status VmRSS) grows by less than 32 MiB.  Then the client reads
and writes the rest, and every byte must come back in order.
Prints "ok STALLED_AT RSS_GROWTH_KIB" or "fail REASON" (exit 1).
"""
import os
import selectors
import socket
import sys
import time


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    host, pid = sys.argv[1], int(sys.argv[2])
    total = int(sys.argv[3]) if len(sys.argv) > 3 else 64 << 20
    data = (bytes(range(256)) * 4096) * (total // (1 << 20))
    data = data[:total]
    r0 = rss(pid)
    s = socket.create_connection((host, 7), timeout=10)
    s.setblocking(False)
    sent = 0
    end = time.monotonic() + 3
    while time.monotonic() < end and sent < total:
        try:
            sent += s.send(data[sent:sent + 65536])
        except BlockingIOError:
            time.sleep(0.01)
    growth = rss(pid) - r0
    if sent >= total:
        print("fail: %d bytes accepted without reading: no backpressure" % sent)
        return 1
    if growth > 32768:
        print("fail: netstackd grew by %d KiB while the client did not read" % growth)
        return 1
    stalled = sent
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    got = 0
    deadline = time.monotonic() + 60
    while got < total and time.monotonic() < deadline:
        for _, ev in sel.select(timeout=1):
            if ev & selectors.EVENT_WRITE and sent < total:
                try:
                    sent += s.send(data[sent:sent + 65536])
                except BlockingIOError:
                    pass
                if sent == total:
                    sel.modify(s, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                try:
                    b = s.recv(262144)
                except BlockingIOError:
                    continue
                if not b:
                    print("fail: EOF after %d bytes" % got)
                    return 1
                if data[got:got + len(b)] != b:
                    print("fail: wrong bytes at %d" % got)
                    return 1
                got += len(b)
    if got < total:
        print("fail: %d of %d bytes back in time" % (got, total))
        return 1
    s.close()
    print("ok %d %d" % (stalled, growth))
    return 0


if __name__ == "__main__":
    sys.exit(main())
