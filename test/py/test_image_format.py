#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Independent check of the enclave image archive format (man/enclave-image.5).

1. An independent writer, written from the man page alone, builds the two
   sample images that the C test program writes (test_image --write-samples,
   contents defined again below) and the bytes must be identical.
2. Python's tarfile (an independent reader) reads the C output: members,
   order, types, metadata and contents.
3. The C reader (test_image --read) accepts the independent writer's bytes,
   refuses the same content in other encodings (Python's tarfile: GNU, pax,
   ustar), and refuses hostile archives (canonical but for the hostile part:
   g/X/L/K/V/S headers, unknown pax records, padding, altered fields) with
   the documented message; a member of 8 GiB + 1 through a pax size record
   (a sparse file) is read.

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

        # the C reader accepts the independent writer's bytes
        p = os.path.join(tmp, "independent.eimg")
        open(p, "wb").write(write_image(SGX, SGX_MTIME))
        rc, out = run_reader(p)
        check(rc == 0 and out.startswith("ok"), "independent writer's image accepted: %r" % out)

        # other encodings of the same content, written by Python's tarfile, are refused:
        # the reader accepts only the canonical encoding (enclave-image(5))
        for fmt, fname in ((tarfile.GNU_FORMAT, "gnu"), (tarfile.PAX_FORMAT, "pax"), (tarfile.USTAR_FORMAT, "ustar")):
            members = SGX if fmt != tarfile.USTAR_FORMAT else [m for m in SGX if len(m[0].split("/", 1)[-1]) <= 100]
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
                for path, data in members:
                    ti = tarfile.TarInfo(path)
                    ti.size = len(data)
                    ti.mtime = 12345
                    tf.addfile(ti, io.BytesIO(data))
            p = os.path.join(tmp, "py-%s.eimg" % fname)
            open(p, "wb").write(buf.getvalue())
            rc, out = run_reader(p)
            check(rc == 1 and "member 'EIMAGE': header at offset 0: field 'mode'" in out,
                  "%s archive from tarfile refused at the first non-canonical field: %r" % (fname, out))

        # hostile archives: canonical except for the hostile part, refused with the documented messages
        def raw(entries, tail=b"\0" * 1024):
            out = b""
            for name, prefix, data, typeflag in entries:
                out += header(name, prefix, len(data), 0, typeflag) + padded(data)
            return out + tail

        def hostile(label, blob, want):
            p = os.path.join(tmp, "hostile-%s" % label)
            open(p, "wb").write(blob)
            rc, out = run_reader(p)
            check(rc == 1 and want in out, "%s: expected rejection with %r, got %r" % (label, want, out))

        head = [(n.encode(), b"", d, b"0") for n, d in NITRO[:4]]
        meas = [(b"measurement.json", b"", NITRO[4][1], b"0")]
        hostile("symlink", raw(head + [(b"files/x", b"", b"", b"2")] + meas),
                "field 'typeflag' is '2' (a symbolic link)")
        for t, what in ((b"g", "a pax global header"), (b"X", "a Solaris extended header"), (b"L", "a GNU long name"),
                        (b"K", "a GNU long link name"), (b"V", "a GNU volume header"), (b"S", "a GNU sparse file")):
            hostile("type-" + t.decode(), raw(head + [(b"files/x", b"", b"x", t)] + meas),
                    "header at offset 4608: field 'typeflag' is '%s' (%s)" % (t.decode(), what))
        hostile("g-first", raw([(b"pax_global_header", b"", pax_record(b"comment", b"x"), b"g")] + head + meas),
                "member #1 'pax_global_header': header at offset 0: field 'typeflag' is 'g'")
        hostile("comment", raw(head + [(b"PaxHeader/x", b"", pax_record(b"comment", b"hi"), b"x"),
                                       (b"files/x", b"", b"x", b"0")] + meas),
                "record 'comment' is not allowed")
        hostile("dotdot", raw(head + [(b"files/../../x", b"", b"x", b"0")]), "member 'files/../../x': path contains '..'")
        hostile("unknown", raw(head + [(b"README", b"", b"x", b"0")]), "member 'README': unknown member")
        hostile("order", raw([head[0], head[2], head[1]]), "member 'manifest.json': out of order")
        hostile("gzip", gzip.compress(write_image(NITRO, 0), mtime=0), "compressed archive (gzip)")
        hostile("missing", raw(head), "missing member 'measurement.json'")
        good = write_image(NITRO, 0)
        hostile("padded", good + b"\0" * 512, "data after the end of the archive")
        bad = bytearray(good)
        bad[512 + 16] = 1
        hostile("padding", bytes(bad), "member 'EIMAGE': non-zero padding at offset 528")
        bad = bytearray(good)
        bad[1024 + 108:1024 + 116] = b"000001 \0"  # uid 1, checksum fixed
        bad[1024 + 148:1024 + 156] = b" " * 8
        bad[1024 + 148:1024 + 156] = octal(sum(bad[1024:1536]), 6) + b"\0 "
        hostile("uid", bytes(bad), "member 'manifest.json': header at offset 1024: field 'uid' (byte 113)")
        # a valid image followed by a second archive
        hostile("two", good + good, "second archive")

        # sizes of 8 GiB and more: a pax size record (sparse file, data never written)
        big = (8 << 30) + 1
        p = os.path.join(tmp, "large.eimg")
        with open(p, "wb") as f:
            for path, data in NITRO[:3]:
                f.write(header(path.encode(), b"", len(data), 0, b"0") + padded(data))
            rec = pax_record(b"size", str(big).encode())
            f.write(header(b"PaxHeader/enclave.eif", b"", len(rec), 0, b"x") + padded(rec))
            f.write(header(b"enclave.eif", b"", 0, 0, b"0"))
            f.seek(f.tell() + -(-big // 512) * 512)
            f.write(header(b"measurement.json", b"", len(NITRO[4][1]), 0, b"0") + padded(NITRO[4][1]) + b"\0" * 1024)
        rc, out = run_reader(p)
        check(rc == 0 and ("enclave.eif %d" % big) in out, "8 GiB + 1 member through a pax size record: %r" % out)
        os.unlink(p)

    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("ok: C writer matches the independent writer; tarfile reads it; C reader accepts only the canonical encoding")
    return 0


if __name__ == "__main__":
    sys.exit(main())
