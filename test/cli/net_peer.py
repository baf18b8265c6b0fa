#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Peers for test_supervisor.sh, written from RFC 9110 (CONNECT) and the ports of
enclave-nitro(7), independently of the C engine.  Every loop is bounded in count
and time (socket timeouts).

  net_peer.py server IP PORT LOG     echo server: answers "hello from IP\\n", then each
                                     line upper-cased; notes each connection in LOG
  net_peer.py app RESULTS            the test application inside the "enclave": checks its
                                     environment, uses the proxy from HTTPS_PROXY, serves
                                     one ingress connection on 127.0.0.1:8080, exits 7
  net_peer.py connect PROXY DEST     one CONNECT through PROXY (IP:PORT) to DEST (host:port);
                                     prints the status, then the relayed exchange
  net_peer.py ingress IP PORT        one connection to an ingress port: sends a line,
                                     prints the answer
  net_peer.py probe IP PORT          connects, prints how many bytes come before the end
  net_peer.py raw PROXY HEX|@N|slow  sends raw bytes (hex), an N-byte header, or one byte
                                     a second; prints the status line the proxy answers
  net_peer.py flood PROXY N DEST     N concurrent connections; prints how many got 503 and
                                     whether a CONNECT still passes afterwards
  net_peer.py batch                  "TAG CMD ARGS..." lines from standard input, each output
                                     line as "TAG line"
"""
import contextlib
import io
import os
import select
import socket
import sys
import threading
import time

TIMEOUT = 15


def addr(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def read_until(s, sep, buf=b"", limit=65536):
    """Reads until sep (or the end, or limit bytes): (text before sep, bytes after it)."""
    while sep not in buf and len(buf) < limit:
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    text, _, rest = buf.partition(sep)
    return text.decode("latin-1"), rest


def read_head(s):
    return read_until(s, b"\r\n\r\n")


def status_of(head):
    parts = head.split("\r\n", 1)[0].split(" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def tunnel(proxy, dest):
    """CONNECT dest through proxy: (status, socket, bytes after the head)."""
    s = socket.create_connection(addr(proxy), timeout=TIMEOUT)
    s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: net_peer\r\n\r\n" % (dest, dest)).encode())
    head, rest = read_head(s)
    return status_of(head), s, rest, head


def read_line(s, buf=b""):
    return read_until(s, b"\n", buf)


def exchange(s, rest):
    """Reads the greeting, sends a line, reads its echo: both lines."""
    greeting, rest = read_line(s, rest)
    s.sendall(b"ping through the tunnel\n")
    echo, _ = read_line(s, rest)
    return greeting, echo


def cmd_server(ip, port, log):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((ip, int(port)))
    ls.listen(64)
    open(log + ".ready", "w").close()

    def serve(c):
        with c:
            c.settimeout(TIMEOUT)
            try:
                c.sendall(("hello from %s\n" % ip).encode())
                buf = b""
                for _ in range(100):
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    buf += chunk
                    while b"\n" in buf:
                        line, _, buf = buf.partition(b"\n")
                        c.sendall(line.upper() + b"\n")
            except OSError:
                pass
    deadline = time.time() + 120
    ls.settimeout(1)
    while time.time() < deadline:
        try:
            c, peer = ls.accept()
        except socket.timeout:
            continue
        with open(log, "a") as f:
            f.write("connection from %s\n" % peer[0])
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def cmd_app(results):
    out = []
    env = os.environ
    out.append("env GREETING=%s" % env.get("GREETING"))
    out.append("env HTTPS_PROXY=%s" % env.get("HTTPS_PROXY"))
    out.append("env http_proxy=%s" % env.get("http_proxy"))
    out.append("env NO_PROXY=%s" % env.get("NO_PROXY"))
    out.append("cwd %s" % os.getcwd())
    proxy = env["HTTPS_PROXY"].replace("http://", "")
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 8080))
    ls.listen(4)
    for dest in ("127.0.0.2:7000", "127.0.0.3:7000", "127.0.0.4:7000", "nowhere.test:443"):
        try:
            st, s, rest, head = tunnel(proxy, dest)
            line = "connect %s %d" % (dest, st)
            if st == 200:
                greeting, echo = exchange(s, rest)
                line += " | %s | %s" % (greeting, echo)
            else:
                line += " | %s" % head.split("\r\n", 1)[0]
            s.close()
        except OSError as e:
            line = "connect %s error %s" % (dest, e)
        out.append(line)
    with open(results + ".tmp", "w") as f:
        f.write("\n".join(out) + "\n")
    os.rename(results + ".tmp", results)
    ls.settimeout(TIMEOUT)
    c, _ = ls.accept()
    with c:
        c.settimeout(TIMEOUT)
        line, _ = read_line(c)
        c.sendall(("ingress got: %s\n" % line).encode())
    with open(results, "a") as f:
        f.write("ingress %s\n" % line)
    sys.exit(7)


def cmd_connect(proxy, dest):
    st, s, rest, head = tunnel(proxy, dest)
    print(st)
    if st == 200:
        print(" | ".join(exchange(s, rest)))
    else:
        print(head.split("\r\n", 1)[0])
        print(rest.decode("latin-1").strip())
    s.close()


def cmd_ingress(ip, port):
    s = socket.create_connection((ip, int(port)), timeout=TIMEOUT)
    s.sendall(b"hello enclave\n")
    line, _ = read_line(s)
    print(line)


def cmd_probe(ip, port):
    s = socket.create_connection((ip, int(port)), timeout=5)
    print(len(s.recv(10)))


def cmd_raw(proxy, what):
    s = socket.create_connection(addr(proxy), timeout=TIMEOUT)
    start = time.time()
    try:
        if what == "slow":
            for b in b"CONNECT 127.0.0.2:7000 HTTP/1.1\r\n":
                s.sendall(bytes([b]))
                if select.select([s], [], [], 1)[0] or time.time() - start > TIMEOUT:
                    break   # the proxy answered
        elif what.startswith("@"):
            s.sendall(b"CONNECT 127.0.0.2:7000 HTTP/1.1\r\nX-Big: " + b"a" * int(what[1:]) + b"\r\n\r\n")
        else:
            s.sendall(bytes.fromhex(what))
    except OSError:
        pass   # the proxy may answer and close while we still send
    head, _ = read_head(s)
    print("%s (%.1f s)" % (head.split("\r\n", 1)[0], time.time() - start))


def cmd_flood(proxy, n, dest):
    socks, refused = [], 0
    for _ in range(int(n)):
        socks.append(socket.create_connection(addr(proxy), timeout=TIMEOUT))
    time.sleep(0.5)
    for s in socks:
        s.settimeout(0.2)
        try:
            data = s.recv(4096)
            if data.startswith(b"HTTP/1.1 503"):
                refused += 1
        except socket.timeout:
            pass
        except OSError:
            refused += 1
    for s in socks:
        s.close()
    time.sleep(0.5)
    st, s, _, _ = tunnel(proxy, dest)
    s.close()
    print("refused %d afterwards %d" % (refused, st))


def cmd_batch():
    """Lines "TAG CMD ARGS..." on standard input, run in turn: each output line as "TAG line"
    (one Python for many cases: starting Python is the slow part on a busy machine)."""
    for line in sys.stdin:
        if not line.strip():
            continue
        tag, cmd, *args = line.split()
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                CMDS[cmd](*args)
        except OSError as e:
            buf.write("error %s\n" % e)
        for out in buf.getvalue().splitlines() or [""]:
            print("%s %s" % (tag, out), flush=True)


CMDS = {"server": cmd_server, "app": cmd_app, "connect": cmd_connect, "ingress": cmd_ingress,
        "raw": cmd_raw, "probe": cmd_probe, "flood": cmd_flood, "batch": cmd_batch}

if __name__ == "__main__":
    CMDS[sys.argv[1]](*sys.argv[2:])
