#!/usr/bin/env python3
"""tests/net/tools/conc_echo.py HOST PORT N PID [SECS]

Opens N TCP connections to an echo service at once (nonblocking, selectors),
keeps all of them open while each sends its own random bytes (sizes from 1
byte to 64 KiB, in several writes) and reads them back, and checks every
byte.  While all N are open it reads the Threads line of /proc/PID/status
(the server's thread count).  Prints one summary line:
  ok N CONNS MAX_OPEN THREADS_MAX BYTES
or "fail REASON" and exits 1.  Everything is bounded by SECS (default 60).
"""
import os
import random
import resource
import selectors
import socket
import sys
import time


def threads(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


class Conn:
    def __init__(self, i, size):
        self.i = i
        self.data = os.urandom(size)
        self.sent = 0
        self.got = bytearray()
        self.connected = False
        self.done = False


def main():
    host, port, n, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    secs = float(sys.argv[5]) if len(sys.argv) > 5 else 60.0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = n + 64
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    rng = random.Random(1234)
    deadline = time.monotonic() + secs
    sel = selectors.DefaultSelector()
    conns = []
    # phase 1: all connections open at the same time
    for i in range(n):
        size = rng.choice([1, 100, 1460, 5000, 65536, rng.randint(1, 65536)])
        c = Conn(i, size)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((host, port))
        except BlockingIOError:
            pass
        c.sock = s
        conns.append(c)
        sel.register(s, selectors.EVENT_WRITE, c)
    pending = n
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1.0):
            c = key.data
            if c.connected:
                continue
            err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                print("fail connection %d: connect error %s" % (c.i, os.strerror(err)))
                return 1
            c.connected = True
            pending -= 1
            sel.modify(c.sock, 0 or selectors.EVENT_READ, c)
    if pending:
        print("fail %d of %d connections not established in time" % (pending, n))
        return 1
    tmax = threads(pid)
    # phase 2: every connection sends its bytes and reads them back
    for c in conns:
        sel.modify(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    left = n
    maxopen = n
    total = 0
    last_sample = 0.0
    while left and time.monotonic() < deadline:
        now = time.monotonic()
        if now - last_sample > 0.2:
            tmax = max(tmax, threads(pid))
            last_sample = now
        for key, ev in sel.select(timeout=1.0):
            c = key.data
            if ev & selectors.EVENT_WRITE and c.sent < len(c.data):
                chunk = c.data[c.sent:c.sent + rng.choice([1, 700, 4096, 65536])]
                try:
                    c.sent += c.sock.send(chunk)
                except BlockingIOError:
                    pass
                except OSError as e:
                    print("fail connection %d: send: %s" % (c.i, e))
                    return 1
                if c.sent == len(c.data):
                    sel.modify(c.sock, selectors.EVENT_READ, c)
            if ev & selectors.EVENT_READ:
                try:
                    b = c.sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError as e:
                    print("fail connection %d: recv: %s" % (c.i, e))
                    return 1
                if not b:
                    print("fail connection %d: EOF after %d of %d bytes" % (c.i, len(c.got), len(c.data)))
                    return 1
                c.got += b
                if len(c.got) > len(c.data) or c.data[:len(c.got)] != c.got:
                    print("fail connection %d: wrong bytes at offset %d" % (c.i, len(c.got) - len(b)))
                    return 1
                if len(c.got) == len(c.data):
                    c.done = True
                    total += len(c.got)
                    left -= 1
                    sel.unregister(c.sock)
    if left:
        print("fail %d of %d connections unfinished in time" % (left, n))
        return 1
    tmax = max(tmax, threads(pid))
    for c in conns:
        c.sock.close()
    print("ok %d %d %d %d" % (n, maxopen, tmax, total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
