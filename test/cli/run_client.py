#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Test client for enclave-run's message channel (test_run.sh, bench).

  run_client.py ADDR CMD...      ADDR = unix:PATH or tcp:HOST:PORT
  CMD: send:N:TEXT   send TEXT as a request frame on connection N (opened on first use)
       recv:N        read one reply frame on connection N, print "CODE<TAB>PAYLOAD"
       raw:N:HEX     send raw bytes (for malformed frames)
       eof:N         read until the server closes connection N, print "closed"
Frames: 4-byte big-endian length, 4-byte big-endian code, payload."""
import socket
import struct
import sys


def connect(addr):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(addr[5:])
    elif addr.startswith("tcp:"):
        host, port = addr[4:].rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    else:
        sys.exit("bad address " + addr)
    s.settimeout(20)
    return s


def read_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            return None
        b += chunk
    return b


def main():
    addr = sys.argv[1]
    conns = {}

    def conn(n):
        if n not in conns:
            conns[n] = connect(addr)
        return conns[n]

    for cmd in sys.argv[2:]:
        op, _, rest = cmd.partition(":")
        if op == "send":
            n, _, text = rest.partition(":")
            data = text.encode()
            conn(n).sendall(struct.pack(">II", len(data), 0) + data)
        elif op == "raw":
            n, _, hx = rest.partition(":")
            conn(n).sendall(bytes.fromhex(hx))
        elif op == "recv":
            h = read_exact(conn(rest), 8)
            if h is None:
                print("closed")
                continue
            ln, code = struct.unpack(">II", h)
            body = read_exact(conn(rest), ln)
            print("%d\t%s" % (code, (body or b"").decode("utf-8", "replace")))
        elif op == "eof":
            s = conn(rest)
            while s.recv(65536):
                pass
            print("closed")
        else:
            sys.exit("bad command " + cmd)
        sys.stdout.flush()


main()
