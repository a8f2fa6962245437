#!/usr/bin/env python3
"""tests/net/tools/http_conc.py HOST N [SECS]

N concurrent HTTP/1.1 keep-alive connections to HOST:80, each sending three
pipelined GET /bytes/K requests at once (K = 1000+i, +1, +2), then parsing
the three responses in order: status 200, Content-Length K, body exactly K
bytes of the pattern abc...z.  Prints "ok" or "fail REASON" (exit 1).
"""
import resource
import selectors
import socket
import sys
import time

PAT = b"abcdefghijklmnopqrstuvwxyz"


def parse(buf, size):
    """(response count parsed, bytes used) or raises ValueError."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buf[:end]).decode("latin-1").split("\r\n")
    if not head[0].startswith("HTTP/1.1 200 "):
        raise ValueError("status line %r" % head[0])
    clen = None
    for h in head[1:]:
        k, _, v = h.partition(":")
        if k.strip().lower() == "content-length":
            clen = int(v)
    if clen != size:
        raise ValueError("Content-Length %r, want %d" % (clen, size))
    if len(buf) < end + 4 + clen:
        return None
    body = bytes(buf[end + 4:end + 4 + clen])
    if body != (PAT * (clen // 26 + 1))[:clen]:
        raise ValueError("wrong body for /bytes/%d" % clen)
    return end + 4 + clen


def main():
    host, n = sys.argv[1], int(sys.argv[2])
    secs = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n + 64, hard), hard))
    deadline = time.monotonic() + secs
    sel = selectors.DefaultSelector()
    for i in range(n):
        s = socket.create_connection((host, 80), timeout=20)
        size = 1000 + i
        s.sendall(b"".join(b"GET /bytes/%d HTTP/1.1\r\nHost: t\r\n\r\n" % (size + k) for k in range(3)))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, [size, 0, bytearray()])
    left = n
    while left and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            st = key.data
            b = key.fileobj.recv(65536)
            if not b:
                print("fail: EOF after %d responses" % st[1])
                return 1
            st[2] += b
            while st[1] < 3:
                try:
                    used = parse(st[2], st[0] + st[1])
                except ValueError as e:
                    print("fail: %s" % e)
                    return 1
                if used is None:
                    break
                del st[2][:used]
                st[1] += 1
            if st[1] == 3:
                if st[2]:
                    print("fail: %d bytes after the third response" % len(st[2]))
                    return 1
                sel.unregister(key.fileobj)
                key.fileobj.close()
                left -= 1
    if left:
        print("fail: %d of %d connections unfinished" % (left, n))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
