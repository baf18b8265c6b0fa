#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Clients that send and never read, against enclave-run --listen (test_listen_backpressure.sh,
bench/listen-backpressure), beside one well-behaved client.

  flood_client.py ADDR PID FLOODERS MIB_EACH SECONDS [MSG_BYTES]

FLOODERS connections each try to send MIB_EACH MiB of request frames (MSG_BYTES payload, default
65536) and never read a reply; one more connection, made first, sends a request and reads its reply, in a loop (enclave-run
serves at most 64 connections: with 64 flooders the last waits in the listen queue).
For SECONDS seconds (or until every flooder has sent everything) it samples the resident memory
of process PID.  Prints key=value lines: peak_rss_kib (VmHWM of PID at the end), sent_mib (total
the flooders got into the socket), good_replies, good_worst_ms (slowest round trip of the
well-behaved client), and exits 1 when the well-behaved client got a wrong or no reply."""
import select
import socket
import struct
import sys
import time


def connect(addr):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(addr[5:])
    else:
        host, port = addr[4:].rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    return s


def vm(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def main():
    addr, pid, n, mib, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    size = int(sys.argv[6]) if len(sys.argv) > 6 else 65536
    frame = struct.pack(">II", size, 0) + b"F" * size
    target = mib << 20
    # The well-behaved client connects first: enclave-run serves at most 64
    # connections, and later ones wait in the listen queue.
    good = connect(addr)
    good.settimeout(30)
    flooders = []
    for _ in range(n):
        s = connect(addr)
        s.setblocking(False)
        flooders.append([s, 0, 0])  # socket, bytes sent, offset in frame
    replies, worst, ok = 0, 0.0, True
    end = time.monotonic() + secs
    next_good = 0.0
    while time.monotonic() < end:
        active = [f for f in flooders if f[1] < target]
        if active:
            _, w, _ = select.select([], [f[0] for f in active], [], 0.05)
            for f in active:
                if f[0] not in w:
                    continue
                try:
                    k = f[0].send(frame[f[2]:])
                except BlockingIOError:
                    continue
                f[1] += k
                f[2] = (f[2] + k) % len(frame)
        elif time.monotonic() >= next_good:
            time.sleep(0.05)
        if time.monotonic() >= next_good:
            t0 = time.monotonic()
            msg = b"ping %d" % replies
            good.sendall(struct.pack(">II", len(msg), 0) + msg)
            h = b""
            while len(h) < 8:
                c = good.recv(8 - len(h))
                if not c:
                    break
                h += c
            if len(h) < 8:
                ok = False
                break
            ln, code = struct.unpack(">II", h)
            body = b""
            while len(body) < ln:
                c = good.recv(ln - len(body))
                if not c:
                    break
                body += c
            if code != 0 or msg not in body:
                ok = False
                break
            replies += 1
            worst = max(worst, time.monotonic() - t0)
            next_good = time.monotonic() + 0.1
    peak = vm(pid, "VmHWM")
    print("peak_rss_kib=%d" % peak)
    print("sent_mib=%.1f" % (sum(f[1] for f in flooders) / 1048576.0))
    print("good_replies=%d" % replies)
    print("good_worst_ms=%.0f" % (worst * 1000))
    for f in flooders:
        f[0].close()
    good.close()
    return 0 if ok and replies > 0 else 1


sys.exit(main())
