#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Makes Nitro NSM-like attestation documents for tests, independently of
the C library: a CA chain made here with the `cryptography` package, the
CBOR encoded by hand from RFC 8949 (no cbor2), COSE_Sign1 (RFC 9052) signed
ES384.  Usage: nsm_doc.py OUTDIR  -> writes into OUTDIR:

  root.pem, other-root.pem        the trusted root, and an unrelated one
  good.cose                       valid, untagged, PCR0..4 and PCR8, nulls for
                                  public_key/user_data/nonce (as the NSM writes)
  good-tagged.cose                the same payload as tag 18 with user_data/nonce
  badsig.cose                     one byte of the signature flipped
  badpayload.cose                 payload altered after signing
  expired.cose                    leaf certificate expired a day ago
  debug.cose                      PCR0..2 all zeros (debug mode)
  es256.cose                      signed ES256 with a P-256 leaf (refused)
  wrongkey.cose                   signed by a key that is not the certificate's
  pcrs.txt                        PCR0=hex lines of good.cose
  hostile-*.cose                  malformed CBOR of many kinds
"""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID


# ---- CBOR (RFC 8949), just what a document needs ----
def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | extra]) + n.to_bytes(size, "big")
    raise ValueError(n)


def enc(v):
    if v is None:
        return b"\xf6"
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, (bytes, bytearray)):
        return head(2, len(v)) + bytes(v)
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(enc(x) for x in v)
    if isinstance(v, dict):
        return head(5, len(v)) + b"".join(enc(k) + enc(x) for k, x in v.items())
    raise TypeError(type(v))


# ---- certificates ----
NOW = datetime.datetime.now(datetime.timezone.utc)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subject_cn, key, issuer_cn, issuer_key, ca, not_before, not_after, pathlen=None):
    b = (x509.CertificateBuilder().subject_name(name(subject_cn)).issuer_name(name(issuer_cn))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(not_before).not_valid_after(not_after)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen if ca else None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                          crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
    else:
        b = b.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                          crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
    return b.sign(issuer_key, hashes.SHA384())


def der(c):
    return c.public_bytes(serialization.Encoding.DER)


def cose_sign1(payload, key, alg=-35, tag=False, corrupt_sig=False):
    prot = enc({1: alg})
    tbs = enc(["Signature1", prot, b"", payload])
    h = hashes.SHA384() if alg == -35 else hashes.SHA256()
    r, s = decode_dss_signature(key.sign(tbs, ec.ECDSA(h)))
    n = 48 if alg == -35 else 32
    sig = bytearray(r.to_bytes(n, "big") + s.to_bytes(n, "big"))
    if corrupt_sig:
        sig[10] ^= 1
    out = enc([prot, {}, payload, bytes(sig)])
    return (b"\xd2" + out) if tag else out


def main():
    outdir = sys.argv[1]
    P384 = ec.SECP384R1()
    root_key, other_key = ec.generate_private_key(P384), ec.generate_private_key(P384)
    inter_key, leaf_key = ec.generate_private_key(P384), ec.generate_private_key(P384)
    day = datetime.timedelta(days=1)
    root = cert("test nitro root", root_key, "test nitro root", root_key, True, NOW - day, NOW + 3650 * day)
    other = cert("test nitro root", other_key, "test nitro root", other_key, True, NOW - day, NOW + 3650 * day)
    inter = cert("test intermediate", inter_key, "test nitro root", root_key, True, NOW - day, NOW + 30 * day)
    leaf = cert("i-0123-enc0123", leaf_key, "test intermediate", inter_key, False, NOW - datetime.timedelta(hours=1),
                NOW + datetime.timedelta(hours=2))
    old_leaf = cert("i-0123-enc0123", leaf_key, "test intermediate", inter_key, False, NOW - 3 * day, NOW - day)
    for fn, c in (("root.pem", root), ("other-root.pem", other)):
        with open(os.path.join(outdir, fn), "wb") as f:
            f.write(c.public_bytes(serialization.Encoding.PEM))

    pcrs = {i: bytes([0x10 + i]) * 48 for i in (0, 1, 2, 3, 4, 8)}
    ts = int(NOW.timestamp() * 1000)

    def payload(leaf_cert=leaf, p=pcrs, extra=None, t=ts):
        m = {"module_id": "i-0123456789abcdef0-enc0123456789abcd", "digest": "SHA384", "timestamp": t, "pcrs": p,
             "certificate": der(leaf_cert), "cabundle": [der(root), der(inter)],
             "public_key": None, "user_data": None, "nonce": None}
        if extra:
            m.update(extra)
        return enc(m)

    docs = {
        "good": cose_sign1(payload(), leaf_key),
        "good-tagged": cose_sign1(payload(extra={"user_data": b"hello", "nonce": b"\x01\x02\x03"}), leaf_key, tag=True),
        "badsig": cose_sign1(payload(), leaf_key, corrupt_sig=True),
        "expired": cose_sign1(payload(leaf_cert=old_leaf, t=int((NOW - 2 * day).timestamp() * 1000)), leaf_key),
        "debug": cose_sign1(payload(p={i: (bytes(48) if i < 3 else v) for i, v in pcrs.items()}), leaf_key),
        "wrongkey": cose_sign1(payload(), inter_key),
    }
    good = bytearray(docs["good"])
    i = good.find(b"i-0123456789abcdef0")
    good[i] ^= 0x20  # module_id changed after signing
    docs["badpayload"] = bytes(good)
    k256 = ec.generate_private_key(ec.SECP256R1())
    leaf256 = cert("p256 leaf", k256, "test intermediate", inter_key, False, NOW - day, NOW + day)
    docs["es256"] = cose_sign1(payload(leaf_cert=leaf256), k256, alg=-7)

    g = docs["good"]
    prot = enc({1: -35})
    hostile = {
        "truncated": g[: len(g) - 7],
        "trailing": g + b"\x00",
        "garbage": b"\x9f\xff\x00not cbor at all",
        "empty-array": b"\x80",
        "huge-length": b"\x84\x44\xa1\x01\x38\x22\xa0\x5b\xff\xff\xff\xff\xff\xff\xff\xf0",
        "indefinite-payload": enc([prot, {}, b"\x5f\x41\x00\xff", bytes(96)]),
        "payload-not-map": cose_sign1(enc([1, 2, 3]), leaf_key),
        "payload-deep": cose_sign1(b"\x81" * 64 + b"\x00", leaf_key),
        "payload-unknown-key": cose_sign1(payload(extra={"evil": 1}), leaf_key),
        "payload-missing-pcrs": cose_sign1(enc({"module_id": "m", "digest": "SHA384", "timestamp": ts,
                                                "certificate": der(leaf), "cabundle": [der(root)]}), leaf_key),
        "payload-bad-pcr": cose_sign1(payload(p={0: b"\x00" * 47}), leaf_key),
        "payload-float": cose_sign1(b"\xa1\x69timestamp\xfb" + bytes(8), leaf_key),
        "payload-sha256": cose_sign1(payload(extra={"digest": "SHA256"}), leaf_key),
        "payload-cert-junk": cose_sign1(payload(extra={"certificate": b"\x30\x03junk"}), leaf_key),
        "payload-cert-null": cose_sign1(payload(extra={"certificate": None}), leaf_key),
        "payload-pcr-index-32": cose_sign1(payload(p={32: bytes(48)}), leaf_key),
        "payload-pcrs-empty": cose_sign1(payload(p={}), leaf_key),
        "payload-cabundle-17": cose_sign1(payload(extra={"cabundle": [der(root)] * 17}), leaf_key),
        "payload-cabundle-empty": cose_sign1(payload(extra={"cabundle": []}), leaf_key),
        "payload-user-data-big": cose_sign1(payload(extra={"user_data": bytes(1025)}), leaf_key),
        "payload-module-empty": cose_sign1(payload(extra={"module_id": ""}), leaf_key),
        "payload-timestamp-zero": cose_sign1(payload(t=0), leaf_key),
        "payload-bool": cose_sign1(payload(extra={"nonce": True}), leaf_key),
        "payload-tag": cose_sign1(b"\xa1\x69timestamp\xc1\x01", leaf_key),
        # the same key twice: a map of 10 entries whose last repeats "nonce"
        "payload-duplicate-key": cose_sign1(head(5, 10) + payload()[1:] + enc("nonce") + enc(None), leaf_key),
        "payload-trailing": cose_sign1(payload() + b"\x00", leaf_key),
        "protected-es512": enc([enc({1: -36}), {}, payload(), bytes(132)]),
        "protected-extra": enc([enc({1: -35, 4: b"kid"}), {}, payload(), bytes(96)]),
        "short-signature": enc([prot, {}, payload(), bytes(95)]),
    }
    for k, v in list(docs.items()) + [("hostile-" + k, v) for k, v in hostile.items()]:
        with open(os.path.join(outdir, k + ".cose"), "wb") as f:
            f.write(v)
    with open(os.path.join(outdir, "pcrs.txt"), "w") as f:
        for i, v in pcrs.items():
            f.write("PCR%d=%s\n" % (i, v.hex()))


if __name__ == "__main__":
    main()
