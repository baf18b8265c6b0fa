#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Independent check of the enclave image archive format (man/enclave-image.5).

1. An independent writer, written from the man page alone, builds the two
   sample images that the C test program writes (test_image --write-samples,
   contents defined again below) and the bytes must be identical.
2. Python's tarfile (an independent reader) reads the C output: members,
   order, types, metadata and contents.
3. Archives written by Python's tarfile in other encodings (GNU, pax, padded
   to a 10240-byte record) must be accepted by the C reader
   (test_image --read), and hostile ones rejected with the right message.

Skips (exit 77) when the C test program is not built yet.
"""
import gzip
import io
import os
import subprocess
import sys
import tarfile
import tempfile

TOP = os.environ.get("EIMG_TOP", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILDDIR = os.environ.get("BUILDDIR", "build")
PROG = os.path.join(TOP, BUILDDIR, "test", "test_image")

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def pattern(n, mul, add):
    return bytes((i * mul + add) & 0xFF for i in range(n))


# The sample images, defined as in test/unit/test_image.c (sample_sgx, sample_nitro).
SGX_MTIME = 1700000000
SGX = [
    ("EIMAGE", b"enclave-image 1\n"),
    ("manifest.json", b'{"name":"sample","target":"sgx"}\n'),
    ("runtime.json", b'{"env":{"A":"1"}}\n'),
    ("enclave.elf", pattern(3000, 7, 0)),
    ("files/a.txt", b"hello\n"),
    ("files/" + "b" * 94, pattern(512, 0, ord("x"))),
    ("files/" + "c" * 95, b""),
    ("files/" + "d" * 101, b"d\n"),
    ("files/" + "e" * 255, pattern(256, 1, 0)),
    ("keys/k1.pem", pattern(91, 3, 1)),
    ("measurement.json", b'{"mrenclave":"00"}\n'),
    ("sigstruct.bin", pattern(1808, 13, 5)),
]
NITRO_MTIME = 0
NITRO = [
    ("EIMAGE", b"enclave-image 1\n"),
    ("manifest.json", b'{"name":"n","target":"nitro"}\n'),
    ("runtime.json", b"{}\n"),
    ("enclave.eif", pattern(1000, 5, 3)),
    ("measurement.json", b'{"pcr0":"ab"}\n'),
]


# ---- independent writer, from enclave-image(5) "Archive encoding" ----

def octal(value, digits):
    s = "%0*o" % (digits, value)
    assert len(s) == digits
    return s.encode()


def header(name, prefix, size, mtime, typeflag):
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"000644 \0"
    h[108:116] = b"000000 \0"
    h[116:124] = b"000000 \0"
    h[124:136] = octal(size, 11) + b" "
    h[136:148] = octal(mtime, 11) + b" "
    h[156:157] = typeflag
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[329:337] = b"000000 \0"
    h[337:345] = b"000000 \0"
    h[345:345 + len(prefix)] = prefix
    h[148:156] = b" " * 8
    h[148:156] = octal(sum(h), 6) + b"\0 "
    return bytes(h)


def padded(data):
    return data + b"\0" * (-len(data) % 512)


def pax_record(key, value):
    body = b" " + key + b"=" + value + b"\n"
    n = len(body) + 1
    while len(str(n).encode() + body) != n:
        n = len(str(n).encode() + body)
    return str(n).encode() + body


def write_image(members, mtime):
    out = b""
    for path, data in members:
        p = path.encode()
        if len(p) <= 100:
            out += header(p, b"", len(data), mtime, b"0")
        else:
            top, name = p.split(b"/", 1)
            if len(name) <= 100:
                out += header(name, top, len(data), mtime, b"0")
            else:
                rec = pax_record(b"path", p)
                out += header(b"PaxHeader/" + name[:87], top, len(rec), mtime, b"x") + padded(rec)
                out += header(name[:98], top, len(data), mtime, b"0")
        out += padded(data)
    return out + b"\0" * 1024


def first_diff(a, b):
    for i in range(min(len(a), len(b))):
        if a[i] != b[i]:
            return i
    return min(len(a), len(b))


def run_reader(path):
    r = subprocess.run([PROG, "--read", path], capture_output=True, text=True)
    return r.returncode, r.stdout.strip()


def main():
    if not os.access(PROG, os.X_OK):
        print("skipped: %s not built (make BUILDDIR=%s %s)" % (PROG, BUILDDIR, PROG))
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([PROG, "--write-samples", tmp], capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL: --write-samples:", r.stderr)
            return 1

        for label, members, mtime in (("sgx", SGX, SGX_MTIME), ("nitro", NITRO, NITRO_MTIME)):
            got = open(os.path.join(tmp, "sample-%s.eimg" % label), "rb").read()
            want = write_image(members, mtime)
            # the length formula of the man page
            npax = sum(1 for p, _ in members if "/" in p and len(p.split("/", 1)[1]) > 100)
            formula = sum(512 + -(-len(d) // 512) * 512 for _, d in members) + 1024 * npax + 1024
            check(len(want) == formula, "%s: length formula %d != %d" % (label, len(want), formula))
            check(got == want, "%s: C writer and independent writer differ (lengths %d/%d, first difference at byte %d)"
                  % (label, len(got), len(want), first_diff(got, want)))

            # Python's tarfile as an independent reader of the C output
            with tarfile.open(fileobj=io.BytesIO(got), mode="r:") as tf:
                infos = tf.getmembers()
                check([i.name for i in infos] == [p for p, _ in members], "%s: member names/order" % label)
                for info, (path, data) in zip(infos, members):
                    check(info.isreg(), "%s: %s is a regular file" % (label, path))
                    check(info.mode == 0o644 and info.uid == 0 and info.gid == 0, "%s: %s mode/owner" % (label, path))
                    check(info.uname == "" and info.gname == "", "%s: %s has no user/group names" % (label, path))
                    check(info.mtime == mtime, "%s: %s mtime" % (label, path))
                    extra = set(info.pax_headers) - {"path"}
                    check(not extra, "%s: %s unexpected pax records %s" % (label, path, extra))
                    check(tf.extractfile(info).read() == data, "%s: %s content" % (label, path))

        # other encodings of a valid image, written by Python's tarfile, are accepted
        for fmt, fname in ((tarfile.GNU_FORMAT, "gnu"), (tarfile.PAX_FORMAT, "pax"), (tarfile.USTAR_FORMAT, "ustar")):
            members = SGX if fmt != tarfile.USTAR_FORMAT else [m for m in SGX if len(m[0].split("/", 1)[-1]) <= 100]
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
                for path, data in members:
                    ti = tarfile.TarInfo(path)
                    ti.size = len(data)
                    ti.mtime = 12345
                    ti.mode = 0o600
                    ti.uname = "someone"
                    tf.addfile(ti, io.BytesIO(data))
            raw = buf.getvalue()
            check(len(raw) % 10240 == 0, "tarfile pads to a record")
            p = os.path.join(tmp, "py-%s.eimg" % fname)
            open(p, "wb").write(raw)
            rc, out = run_reader(p)
            check(rc == 0 and out.startswith("ok"), "%s archive from tarfile accepted: %s" % (fname, out))
            if rc == 0:
                listed = [line.split(" ")[0] for line in out.splitlines()[2:]]
                want = [m[0] for m in members if m[0].startswith(("files/", "keys/", "sigstruct"))]
                check(listed == want, "%s archive: members as read by C" % fname)

        # hostile archives written by tarfile are rejected with the documented messages
        def hostile(label, entries, want, compress=False):
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
                for ti, data in entries:
                    tf.addfile(ti, io.BytesIO(data) if data is not None else None)
            raw = buf.getvalue()
            if compress:
                raw = gzip.compress(raw, mtime=0)
            p = os.path.join(tmp, "hostile-%s" % label)
            open(p, "wb").write(raw)
            rc, out = run_reader(p)
            check(rc == 1 and want in out, "%s: expected rejection with %r, got %r" % (label, want, out))

        def reg(path, data):
            ti = tarfile.TarInfo(path)
            ti.size = len(data)
            return ti, data

        head = [reg(p, d) for p, d in NITRO[:4]]
        sym = tarfile.TarInfo("files/x")
        sym.type = tarfile.SYMTYPE
        sym.linkname = "/etc/shadow"
        hostile("symlink", head + [(sym, None)], "member 'files/x': is a symbolic link")
        hostile("dotdot", head + [reg("files/../../x", b"x")], "member 'files/../../x': path contains '..'")
        hostile("unknown", head + [reg("README", b"x")], "member 'README': unknown member")
        hostile("order", [reg(p, d) for p, d in NITRO[:1] + NITRO[2:3] + NITRO[1:2]],
                "member 'manifest.json': out of order")
        hostile("gzip", [reg(p, d) for p, d in NITRO], "compressed archive (gzip)", compress=True)
        hostile("missing", head, "missing member 'measurement.json'")
        # a valid image followed by a second archive
        p = os.path.join(tmp, "two")
        one = open(os.path.join(tmp, "sample-nitro.eimg"), "rb").read()
        open(p, "wb").write(one + one)
        rc, out = run_reader(p)
        check(rc == 1 and "second archive" in out, "appended archive rejected: %r" % out)

    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("ok: C writer matches the independent writer; tarfile reads it; C reader accepts other encodings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
