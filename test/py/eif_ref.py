#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Independent reference for the Nitro EIF format, written from the spec
(shared/specs/nitro-eif.md and man/enclave-nitro.7) with hashlib and zlib only,
plus the `cryptography` package to verify signatures.  It shares no code with
the C library; the tests compare the two.

Commands (all output is JSON on stdout):
  eif_ref.py describe EIF            layout, CRC check, PCR0/1/2 (+PCR8), signature check
  eif_ref.py build OUT --kernel F --cmdline F [--metadata F] --ramdisk F... [--mem N] [--cpus N] [--flags N]
                                      writes an EIF (streams large inputs; F may be zero:N)
  eif_ref.py cpio OUT --mtime T SPEC   writes a newc archive from a spec file (JSON list of
                                      [path, "dir"|"file"|"link", mode, data-file-or-target])
"""
import hashlib
import json
import struct
import sys
import zlib

HDR = 548
SEC = 12
TYPES = {1: "kernel", 2: "cmdline", 3: "ramdisk", 4: "signature", 5: "metadata"}


def extend(digest):
    return hashlib.sha384(b"\0" * 48 + digest).digest()


# ---------------------------------------------------------------- CBOR (minimal)

class CborError(Exception):
    pass


def cbor_decode(buf, pos=0, depth=0):
    if depth > 16:
        raise CborError("too deep")
    if pos >= len(buf):
        raise CborError("truncated")
    ib = buf[pos]
    mt, ai = ib >> 5, ib & 31
    pos += 1
    if ai < 24:
        val = ai
    elif ai in (24, 25, 26, 27):
        n = 1 << (ai - 24)
        if pos + n > len(buf):
            raise CborError("truncated")
        val = int.from_bytes(buf[pos:pos + n], "big")
        pos += n
    else:
        raise CborError("unsupported additional info %d" % ai)
    if mt == 0:
        return val, pos
    if mt == 1:
        return -1 - val, pos
    if mt in (2, 3):
        if pos + val > len(buf):
            raise CborError("truncated string")
        b = bytes(buf[pos:pos + val])
        return (b if mt == 2 else b.decode()), pos + val
    if mt == 4:
        if val > len(buf) - pos:
            raise CborError("array too long")
        out = []
        for _ in range(val):
            x, pos = cbor_decode(buf, pos, depth + 1)
            out.append(x)
        return out, pos
    if mt == 5:
        if 2 * val > len(buf) - pos:
            raise CborError("map too long")
        out = {}
        for _ in range(val):
            k, pos = cbor_decode(buf, pos, depth + 1)
            v, pos = cbor_decode(buf, pos, depth + 1)
            out[k] = v
        return out, pos
    if mt == 6:
        x, pos = cbor_decode(buf, pos, depth + 1)
        return ("tag", val, x), pos
    raise CborError("unsupported major type %d" % mt)


def cbor_head(mt, n):
    if n < 24:
        return bytes([mt << 5 | n])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < (1 << (8 * size)):
            return bytes([mt << 5 | ai]) + n.to_bytes(size, "big")
    raise ValueError(n)


def cbor_bytes_as_array(b):
    return cbor_head(4, len(b)) + b"".join(cbor_head(0, x) for x in b)


def cbor_text(s):
    return cbor_head(3, len(s)) + s.encode()


def cbor_bstr(b):
    return cbor_head(2, len(b)) + b


def from_array(x):
    if not isinstance(x, list) or not all(isinstance(v, int) and 0 <= v <= 255 for v in x):
        raise CborError("expected an array of byte values")
    return bytes(x)


# ---------------------------------------------------------------- EIF

def write_eif(out, parts, flags=0, mem=1 << 30, cpus=2):
    """parts: list of (type, filename-or-bytes or "zero:N").  Streams files."""
    sizes = []
    for t, src in parts:
        if isinstance(src, str) and src.startswith("zero:"):
            sizes.append(int(src[5:]))
        elif isinstance(src, bytes):
            sizes.append(len(src))
        else:
            with open(src, "rb") as f:
                f.seek(0, 2)
                sizes.append(f.tell())
    offs, pos = [], HDR
    for s in sizes:
        offs.append(pos)
        pos += SEC + s
    hdr = bytearray(HDR)
    hdr[0:4] = b".eif"
    struct.pack_into(">HHQQHH", hdr, 4, 4, flags, mem, cpus, 0, len(parts))
    for i, (o, s) in enumerate(zip(offs, sizes)):
        struct.pack_into(">Q", hdr, 28 + 8 * i, o)
        struct.pack_into(">Q", hdr, 284 + 8 * i, s)
    crc = zlib.crc32(bytes(hdr[:544]))
    with open(out, "wb") as f:
        f.write(hdr)
        for (t, src), s in zip(parts, sizes):
            sh = struct.pack(">HHQ", t, 0, s)
            crc = zlib.crc32(sh, crc)
            f.write(sh)
            if isinstance(src, bytes):
                crc = zlib.crc32(src, crc)
                f.write(src)
            elif src.startswith("zero:"):
                left, z = s, bytes(1 << 20)
                while left:
                    b = z[:min(left, len(z))]
                    crc = zlib.crc32(b, crc)
                    f.write(b)
                    left -= len(b)
            else:
                with open(src, "rb") as g:
                    while True:
                        b = g.read(1 << 20)
                        if not b:
                            break
                        crc = zlib.crc32(b, crc)
                        f.write(b)
        f.seek(544)
        f.write(struct.pack(">I", crc))


def describe(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < HDR or data[:4] != b".eif":
        raise SystemExit("not an EIF")
    version, flags, mem, cpus, _res, n = struct.unpack_from(">HHQQHH", data, 4)
    crc_rec = struct.unpack_from(">I", data, 544)[0]
    secs = []
    for i in range(n):
        off = struct.unpack_from(">Q", data, 28 + 8 * i)[0]
        size = struct.unpack_from(">Q", data, 284 + 8 * i)[0]
        t, _fl, s2 = struct.unpack_from(">HHQ", data, off)
        assert s2 == size, "section size mismatch"
        secs.append((t, off, size, data[off + SEC:off + SEC + size]))
    crc = zlib.crc32(data[:544])
    crc = zlib.crc32(data[HDR:], crc)
    h0, h1, h2 = hashlib.sha384(), hashlib.sha384(), hashlib.sha384()
    nram = 0
    for t, _o, _s, d in secs:
        if t in (1, 2):
            h0.update(d)
            h1.update(d)
        elif t == 3:
            h0.update(d)
            (h1 if nram == 0 else h2).update(d)
            nram += 1
    res = {
        "version": version, "flags": flags, "default_mem": mem, "default_cpus": cpus,
        "sections": [[TYPES.get(t, "invalid"), o, s] for t, o, s, _d in secs],
        "crc_ok": crc == crc_rec,
        "PCR0": extend(h0.digest()).hex(), "PCR1": extend(h1.digest()).hex(),
        "PCR2": extend(h2.digest()).hex(),
    }
    for t, _o, _s, d in secs:
        if t == 5:
            res["metadata"] = json.loads(d)
        if t == 4:
            res.update(check_signature(d, res["PCR0"]))
    return res


def check_signature(sec, pcr0_hex):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    from cryptography.exceptions import InvalidSignature

    root, end = cbor_decode(sec)
    assert end == len(sec), "trailing bytes in signature section"
    assert isinstance(root, list) and len(root) == 1 and isinstance(root[0], dict)
    m = root[0]
    pem = from_array(m["signing_certificate"])
    cose = from_array(m["signature"])
    cert = x509.load_pem_x509_certificate(pem)
    der = cert.public_bytes(serialization.Encoding.DER)
    out = {"PCR8": extend(hashlib.sha384(der).digest()).hex()}
    c, end = cbor_decode(cose)
    assert end == len(cose)
    if isinstance(c, tuple):
        c = c[2]
    prot, unprot, payload, sig = c
    alg = cbor_decode(prot)[0][1]
    hash_alg = {-7: hashes.SHA256(), -35: hashes.SHA384(), -36: hashes.SHA512()}[alg]
    fb = {-7: 32, -35: 48, -36: 66}[alg]
    pl = cbor_decode(payload)[0]
    out["payload_index"] = pl["register_index"]
    out["payload_matches_pcr0"] = from_array(pl["register_value"]).hex() == pcr0_hex
    tbs = cbor_head(4, 4) + cbor_text("Signature1") + cbor_bstr(prot) + cbor_bstr(b"") + cbor_bstr(payload)
    r = int.from_bytes(sig[:fb], "big")
    s = int.from_bytes(sig[fb:], "big")
    try:
        cert.public_key().verify(encode_dss_signature(r, s), tbs, ec.ECDSA(hash_alg))
        out["signature_valid"] = True
    except InvalidSignature:
        out["signature_valid"] = False
    out["alg"] = alg
    out["protected_hex"] = prot.hex()
    out["tbs_hex"] = tbs.hex()
    return out


# ---------------------------------------------------------------- cpio newc

def newc(entries, mtime):
    """entries: list of (path, kind, mode, data bytes); sorted here, parents
    added, inode numbers 1.. in order, as man/enclave-nitro.7 describes."""
    byname = {}
    for p, kind, mode, data in entries:
        parts = p.split("/")
        for i in range(1, len(parts)):
            byname.setdefault("/".join(parts[:i]), ("dir", 0o755, b""))
        byname[p] = (kind, mode, data)
    out = bytearray()

    def rec(ino, mode, nlink, size, name, t=mtime):
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join("%08x" % v for v in (ino, mode, 0, 0, nlink, t, size, 0, 0, 0, 0, len(nb), 0))
        out.extend(hdr.encode() + nb)
        while len(out) % 4:
            out.append(0)

    ino = 0
    for name in sorted(byname, key=lambda s: s.encode()):
        kind, mode, data = byname[name]
        ino += 1
        if kind == "dir":
            rec(ino, 0o040000 | mode, 2, 0, name)
        elif kind == "file":
            rec(ino, 0o100000 | mode, 1, len(data), name)
            out.extend(data)
        else:
            rec(ino, 0o120000 | 0o777, 1, len(data), name)
            out.extend(data)
        while len(out) % 4:
            out.append(0)
    rec(0, 0, 1, 0, "TRAILER!!!", 0)  # the trailer: everything 0 but nlink 1
    return bytes(out)


def main(argv):
    if len(argv) >= 2 and argv[0] == "describe":
        print(json.dumps(describe(argv[1]), sort_keys=True))
        return 0
    if len(argv) >= 2 and argv[0] == "build":
        out, args = argv[1], argv[2:]
        parts, opts = [], {"mem": 1 << 30, "cpus": 2, "flags": 0}
        kinds = {"--kernel": 1, "--cmdline": 2, "--ramdisk": 3, "--signature": 4, "--metadata": 5}
        while args:
            k, v = args[0], args[1]
            args = args[2:]
            if k in kinds:
                parts.append((kinds[k], v))
            else:
                opts[k[2:]] = int(v)
        write_eif(out, parts, opts["flags"], opts["mem"], opts["cpus"])
        return 0
    if len(argv) >= 4 and argv[0] == "cpio" and argv[2] == "--mtime":
        spec = json.load(open(argv[4]))
        ents = []
        for p, kind, mode, src in spec:
            if kind == "file":
                data = open(src, "rb").read() if src is not None else b""
            elif kind == "link":
                data = src.encode()
            else:
                data = b""
            ents.append((p, kind, mode, data))
        open(argv[1], "wb").write(newc(ents, int(argv[3])))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
