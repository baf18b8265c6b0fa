#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Mail (enclave-mail(5)) checked by an independent implementation, mail_ref.py
(Python cryptography package only), in every direction:
  - enclave-mail send seals, the reference opens (to a document bound to the
    reference's own key): body, topic, sequence number, sender, padding;
  - the reference seals replies, enclave-mail open opens them and refuses
    altered, misdirected, wrong-topic, wrong-number and unattested ones;
  - the reference talks to examples/average through enclave-run: its numbers
    are accepted and averaged, its replies open, and hostile envelopes
    (truncated, replayed, reordered, wrong key, wrong topic, wrong version,
    oversize) are each refused with their reason and change nothing.
Exit 77 = skipped."""
import base64
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

top = os.environ.get("EIMG_TOP") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(top, "test", "py"))
try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    import mail_ref as ref  # noqa: E402
except ImportError:
    print("skipped: python3-cryptography missing")
    sys.exit(77)

bindir = os.environ.get("EIMG_BIN") or os.path.join(top, os.environ.get("BUILDDIR", "build"), "bin")
example = os.path.join(top, os.environ.get("BUILDDIR", "build"), "examples", "average")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def tool(name, *args, cwd=None, data=None):
    return subprocess.run([os.path.join(bindir, name)] + list(args), capture_output=True, cwd=cwd, input=data)


def pem(key, path):
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def fake_document(template, key, path):
    """A simulation document like template, but binding `key` (signed by a throwaway key, as
    enclave-attestation(5) describes), so that the reference can open what is sealed to it."""
    doc = json.load(open(template))
    claims = json.loads(base64.b64decode(doc["payload"]))
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    claims["public_key"] = base64.b64encode(der).decode()
    claims["report_data"] = hashlib.sha256(der).hexdigest() + "00" * 32
    payload = json.dumps(claims, separators=(",", ":")).encode()
    signer = ec.generate_private_key(ec.SECP256R1())
    doc["payload"] = base64.b64encode(payload).decode()
    doc["key"] = base64.b64encode(signer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    doc["signature"] = base64.b64encode(signer.sign(payload, ec.ECDSA(hashes.SHA256()))).decode()
    json.dump(doc, open(path, "w"))
    return claims["mrenclave"]


class Enclave:
    """enclave-run over pipes: frames in, frames out, one reply per request."""

    def __init__(self, image, d):
        self.att = os.path.join(d, "att.json")
        self.p = subprocess.Popen([os.path.join(bindir, "enclave-run"), "-q", "--attestation-out", self.att, image],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(200):
            if os.path.exists(self.att) and os.path.getsize(self.att) > 0:
                break
            time.sleep(0.05)
        claims = json.loads(base64.b64decode(json.load(open(self.att))["payload"]))
        pub = serialization.load_der_public_key(base64.b64decode(claims["public_key"]))
        self.point = ref.point(pub)
        self.sent = b""

    def ask(self, env):
        frame = struct.pack(">II", len(env), 0) + env
        self.sent += frame
        self.p.stdin.write(frame)
        self.p.stdin.flush()
        n, code = struct.unpack(">II", self.p.stdout.read(8))
        return code, self.p.stdout.read(n)

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=30)
        return self.p.returncode


def client_to_reference(d, template):
    me = ec.generate_private_key(ec.SECP256R1())
    client = ec.generate_private_key(ec.SECP256R1())
    pem(client, os.path.join(d, "client.pem"))
    mre = fake_document(template, me, os.path.join(d, "ref-att.json"))
    con = "C:%s SEC:INSECURE" % mre
    common = ["-a", "ref-att.json", "-c", con, "-k", "client.pem", "-t", "news/today"]
    r = tool("enclave-mail", "send", *common, "-n", "7", "--message", "hello enclave", "-o", "e1", cwd=d)
    check(r.returncode == 0, "enclave-mail send to the reference's key: exit 0 (%s)" % r.stderr.decode().strip())
    m = ref.open_(me, open(os.path.join(d, "e1"), "rb").read())
    check(m["body"] == b"hello enclave" and m["topic"] == b"news/today" and m["seq"] == 7 and m["kind"] == 1,
          "the reference opens it: body, topic, sequence number, kind")
    check(m["sender"] == ref.point(client), "the sender is the client's key")
    check(m["padded"] == 256, "a short body is padded to 256 bytes (got %d)" % m["padded"])
    with open(os.path.join(d, "body300"), "wb") as f:
        f.write(b"x" * 300)
    tool("enclave-mail", "send", *common, "body300", "-o", "e2", cwd=d)
    check(ref.open_(me, open(os.path.join(d, "e2"), "rb").read())["padded"] == 512, "300 bytes are padded to 512")
    tool("enclave-mail", "send", *common, "--pad-to", "1000", "--message", "x", "-o", "e3", cwd=d)
    check(ref.open_(me, open(os.path.join(d, "e3"), "rb").read())["padded"] == 1024, "--pad-to 1000 gives 1024")
    e1 = open(os.path.join(d, "e1"), "rb").read()
    check(len(e1) == 150 + 10 + 256 + 16, "envelope length = header + topic + padded body + tag")
    e2 = tool("enclave-mail", "send", *common, "-n", "7", "--message", "hello enclave", cwd=d).stdout
    check(e2[85:150] != e1[85:150] and e2[160:] != e1[160:], "a fresh ephemeral key per envelope")

    # replies: the reference seals, enclave-mail open opens
    def reply(body, seq=7, topic=b"news/today", kind=ref.REPLY, sender=me):
        with open(os.path.join(d, "r"), "wb") as f:
            f.write(ref.seal(sender, ref.point(client), kind, topic, seq, body))
        return tool("enclave-mail", "open", *common, "-n", "7", "r", cwd=d)
    r = reply(b"the answer")
    check(r.returncode == 0 and r.stdout == b"the answer", "enclave-mail open: the reference's reply")
    r = reply(b"x", seq=8)
    check(r.returncode == 3, "a reply to another sequence number: exit 3")
    r = reply(b"x", topic=b"other")
    check(r.returncode == 3 and b"topic" in r.stderr, "a reply on another topic: exit 3, says topic")
    r = reply(b"x", kind=ref.TO_ENCLAVE)
    check(r.returncode == 3, "a request instead of a reply: exit 3")
    r = reply(b"x", sender=ec.generate_private_key(ec.SECP256R1()))
    check(r.returncode == 3 and b"sender" in r.stderr, "a reply from a key the document does not bind: exit 3")
    env = bytearray(ref.seal(me, ref.point(client), ref.REPLY, b"news/today", 7, b"x"))
    env[-20] ^= 1
    open(os.path.join(d, "r"), "wb").write(bytes(env))
    r = tool("enclave-mail", "open", *common, "-n", "7", "r", cwd=d)
    check(r.returncode == 3 and b"does not decrypt" in r.stderr, "an altered reply: exit 3, does not decrypt")
    check(len(r.stderr.strip().split(b"\n")) == 1, "one line on stderr")


def hostile(enc, client):
    def sealed(seq, body=b"result", topic=b"average", to=None, kind=ref.TO_ENCLAVE):
        return ref.seal(client, to or enc.point, kind, topic, seq, body)
    cases = [
        ("truncated", sealed(0)[:-40], b"truncated"),
        ("cut in the header", sealed(0)[:100], b"truncated"),
        ("another recipient", sealed(0, to=ref.point(ec.generate_private_key(ec.SECP256R1()))), b"does not decrypt"),
        ("wrong topic", sealed(0, topic=b"median"), b"topic not accepted"),
        ("version 2", sealed(0)[:8] + b"\x02" + sealed(0)[9:], b"unsupported envelope version"),
        ("skips ahead", sealed(5), b"out of order"),
        ("a reply kind", sealed(0, kind=ref.REPLY), b"wrong kind"),
    ]
    big = bytearray(sealed(0))
    big = bytes(big[:160]) + bytes(983296 + 256) + bytes(16)
    cases.append(("oversize", big, b"larger than the Mail limit"))
    for name, env, why in cases:
        code, rep = enc.ask(env)
        check(code == 0 and rep.startswith(b"error: mail refused:") and why in rep,
              "hostile envelope refused (%s): %s" % (name, rep[:80]))


def with_enclave(d):
    key = os.path.join(d, "k.pem")
    subprocess.run(["openssl", "genrsa", "-3", "-out", key, "3072"], capture_output=True, check=True)
    img = os.path.join(d, "a.eimg")
    r = tool("enclave-build", "-q", "-o", img, cwd=example)
    r2 = tool("enclave-sign", "--in-place", "-k", key, img)
    check(r.returncode == 0 and r2.returncode == 0, "build and sign examples/average")
    enc = Enclave(img, d)
    clients = [ec.generate_private_key(ec.SECP256R1()) for _ in range(3)]
    answers = []
    for i, (c, v) in enumerate(zip(clients, [b"10", b"20", b"60.5"])):
        code, rep = enc.ask(ref.seal(c, enc.point, ref.TO_ENCLAVE, b"average", 0, b"submit " + v))
        m = ref.open_(c, rep)
        answers.append(m["body"])
        check(m["kind"] == ref.REPLY and m["sender"] == enc.point and m["seq"] == 0 and m["topic"] == b"average",
              "client %d: the reply is from the attested key, to message 0 on 'average'" % i)
    check(answers[2] == b"accepted: 3 of 3 in round 1", "third submission closes the round: %r" % answers[2])
    replay = ref.seal(clients[0], enc.point, ref.TO_ENCLAVE, b"average", 1, b"result")
    code, rep = enc.ask(replay)
    got = ref.open_(clients[0], rep)["body"]
    check(got == b"round 1: average of 3 inputs is 30.167", "the average of 10, 20, 60.5: %r" % got)
    code, rep = enc.ask(replay)
    check(rep.startswith(b"error: mail refused: replayed"), "the same envelope again: refused as replayed")
    hostile(enc, clients[1])
    code, rep = enc.ask(ref.seal(clients[1], enc.point, ref.TO_ENCLAVE, b"average", 1, b"submit 1"))
    check(ref.open_(clients[1], rep)["body"] == b"accepted: 1 of 3 in round 2",
          "after the hostile envelopes the sender's next number still works, nothing else changed")
    code, rep = enc.ask(b"submit 5")
    check(rep.startswith(b"error: inputs are accepted only as Mail"), "a number in the clear is refused")
    check(b"submit" not in enc.sent.replace(b"submit 5", b""), "no submission crossed the host in the clear")
    check(enc.close() == 0, "enclave-run exits 0")
    return enc.att


def main():
    if not os.path.exists(os.path.join(example, "average.elf")):
        print("skipped: examples not built (make examples)")
        return 77
    with tempfile.TemporaryDirectory() as d:
        att = with_enclave(d)
        client_to_reference(d, att)
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
