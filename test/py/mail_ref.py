# SPDX-License-Identifier: Apache-2.0
"""Independent implementation of the Mail envelope, version 1, written from
man/enclave-mail.5 with Python's cryptography package only (no code shared
with libenclaveimg or the runtime).  seal() and open_() are used by
test_mail_independent.py against enclave-mail(1) and the enclave runtime."""
import struct

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"EIMGMAIL"
TO_ENCLAVE, REPLY = 1, 2
PAD = 256
MAX_BODY = 960 * 1024
SALT = b"enclaveimg mail v1"


def point(key):
    pub = key.public_key() if hasattr(key, "public_key") else key
    return pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def from_point(b):
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b)


def _kiv(dh1, dh2, recipient, header):
    okm = HKDF(algorithm=hashes.SHA256(), length=44, salt=SALT, info=recipient + header).derive(dh1 + dh2)
    return okm[:32], okm[32:]


def header(kind, seq, sender, eph, topic):
    return MAGIC + bytes([1, kind, len(topic), 0]) + struct.pack(">Q", seq) + sender + eph + topic


def padded_len(n, pad_min=0):
    p = -(-(4 + n) // PAD) * PAD
    return max(p, -(-pad_min // PAD) * PAD)


def seal(sender_key, recipient_point, kind, topic, seq, body, pad_min=0, eph=None):
    eph = eph or ec.generate_private_key(ec.SECP256R1())
    rec = from_point(recipient_point)
    h = header(kind, seq, point(sender_key), point(eph), topic)
    key, iv = _kiv(eph.exchange(ec.ECDH(), rec), sender_key.exchange(ec.ECDH(), rec), recipient_point, h)
    p = padded_len(len(body), pad_min)
    pt = struct.pack(">I", len(body)) + body + bytes(p - 4 - len(body))
    return h + AESGCM(key).encrypt(iv, pt, h)


class Refused(Exception):
    pass


def open_(recipient_key, env):
    """-> dict(kind, seq, topic, sender, body, padded); raises Refused(why)."""
    if len(env) < 150 or env[:8] != MAGIC:
        raise Refused("truncated or not an envelope")
    if env[8] != 1:
        raise Refused("version")
    kind, tlen, res = env[9], env[10], env[11]
    if kind not in (1, 2) or res != 0 or not 1 <= tlen <= 64:
        raise Refused("header")
    seq = struct.unpack(">Q", env[12:20])[0]
    sender, eph = env[20:85], env[85:150]
    hl = 150 + tlen
    topic = env[150:hl]
    ct = env[hl:]
    if len(ct) < 16 + PAD or (len(ct) - 16) % PAD:
        raise Refused("truncated")
    if any(c < 0x21 or c > 0x7e for c in topic):
        raise Refused("topic")
    me = point(recipient_key)
    key, iv = _kiv(recipient_key.exchange(ec.ECDH(), from_point(eph)),
                   recipient_key.exchange(ec.ECDH(), from_point(sender)), me, env[:hl])
    try:
        pt = AESGCM(key).decrypt(iv, ct, env[:hl])
    except Exception:
        raise Refused("authentication")
    n = struct.unpack(">I", pt[:4])[0]
    if n > len(pt) - 4 or any(pt[4 + n:]):
        raise Refused("padding")
    return dict(kind=kind, seq=seq, topic=topic, sender=sender, body=pt[4:4 + n], padded=len(pt))
