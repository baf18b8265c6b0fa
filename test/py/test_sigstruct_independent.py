#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Independent check of enclave-sign's SIGSTRUCTs, from the published layout only.

Parses the 1808 bytes with struct, checks every field against what was asked
for, checks RSASSA-PKCS1-v1_5/SHA-256 twice (once with the `cryptography`
package, once by hand: s^3 mod n against the expected encoded message),
recomputes q1/q2 with Python integers and MRSIGNER with hashlib.  The public
vectors (../shared/vectors) are checked the same way when present.
"""
import hashlib
import json
import os
import secrets
import struct
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

TOP = os.environ.get("EIMG_TOP", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BIN = os.environ.get("EIMG_BIN", os.path.join(TOP, "build", "bin"))
SIGN = os.path.join(BIN, "enclave-sign")
VECTORS = os.environ.get("EIMG_VECTORS", os.path.join(TOP, "..", "shared", "vectors"))

HEADER = bytes.fromhex("06000000e100000000000100")
HEADER2 = bytes.fromhex("01010000600000006000000001000000")
DIGESTINFO_SHA256 = bytes.fromhex("3031300d060960864801650304020105000420")

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)


def parse(ss):
    assert len(ss) == 1808, len(ss)
    f = {}
    f["header"] = ss[0:12]
    f["type"], f["vendor"], f["date"] = struct.unpack_from("<III", ss, 12)
    f["header2"] = ss[24:40]
    f["swdefined"] = struct.unpack_from("<I", ss, 40)[0]
    f["reserved1"] = ss[44:128]
    f["modulus"] = ss[128:512]
    f["exponent"] = struct.unpack_from("<I", ss, 512)[0]
    f["signature"] = ss[516:900]
    f["miscselect"], f["miscmask"] = struct.unpack_from("<II", ss, 900)
    f["cet"] = ss[908:912]
    f["isvfamilyid"] = ss[912:928]
    f["attr_flags"], f["attr_xfrm"], f["mask_flags"], f["mask_xfrm"] = struct.unpack_from("<QQQQ", ss, 928)
    f["enclavehash"] = ss[960:992]
    f["reserved3"] = ss[992:1008]
    f["isvextprodid"] = ss[1008:1024]
    f["isvprodid"], f["isvsvn"] = struct.unpack_from("<HH", ss, 1024)
    f["reserved4"] = ss[1028:1040]
    f["q1"] = ss[1040:1424]
    f["q2"] = ss[1424:1808]
    return f


def verify_first_principles(ss, name, public_key=None):
    """Everything EINIT checks, computed here without the project's code."""
    f = parse(ss)
    check(f["header"] == HEADER, f"{name}: header")
    check(f["header2"] == HEADER2, f"{name}: header2")
    check(f["reserved1"] == bytes(84) and f["reserved3"] == bytes(16) and f["reserved4"] == bytes(12),
          f"{name}: reserved fields")
    check(f["exponent"] == 3, f"{name}: exponent")
    n = int.from_bytes(f["modulus"], "little")
    s = int.from_bytes(f["signature"], "little")
    check(n.bit_length() == 3072, f"{name}: modulus is {n.bit_length()} bits")
    check(s < n, f"{name}: signature below modulus")
    signed = ss[0:128] + ss[900:1028]
    # By hand: EMSA-PKCS1-v1_5 encoding of SHA-256(signed).
    t = DIGESTINFO_SHA256 + hashlib.sha256(signed).digest()
    em = b"\x00\x01" + b"\xff" * (384 - len(t) - 3) + b"\x00" + t
    check(pow(s, 3, n) == int.from_bytes(em, "big"), f"{name}: s^3 mod n is not the PKCS#1 v1.5 encoding")
    # With the cryptography package.
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers
    pub = RSAPublicNumbers(3, n).public_key()
    try:
        pub.verify(s.to_bytes(384, "big"), signed, padding.PKCS1v15(), hashes.SHA256())
    except Exception as e:  # noqa: BLE001
        check(False, f"{name}: cryptography says the signature is invalid: {e!r}")
    if public_key is not None:
        check(public_key.public_numbers().n == n, f"{name}: modulus is not the signing key's")
        check(public_key.public_numbers().e == 3, f"{name}: key exponent")
    q1 = s * s // n
    q2 = s * (s * s % n) // n
    check(f["q1"] == q1.to_bytes(384, "little"), f"{name}: q1")
    check(f["q2"] == q2.to_bytes(384, "little"), f"{name}: q2")
    f["mrsigner"] = hashlib.sha256(f["modulus"]).hexdigest()
    return f


def run(*args, env=None):
    e = dict(os.environ)
    e.pop("SOURCE_DATE_EPOCH", None)
    if env:
        e.update(env)
    p = subprocess.run([SIGN, *args], capture_output=True, env=e)
    if p.returncode != 0:
        raise SystemExit(f"enclave-sign {' '.join(args)} failed ({p.returncode}): {p.stderr.decode()}")
    return p.stdout.decode()


def bcd(y, m, d):
    return int(f"{y:04d}{m:02d}{d:02d}", 16)


def image_case(tmp, key, pub):
    """A signed image: its SIGSTRUCT signs the MRENCLAVE that the independent
    calculator (sgx_measure.py) computes, with the manifest's fields."""
    build = os.path.join(BIN, "enclave-build")
    if not os.access(build, os.X_OK):
        print("enclave-build not built: image part skipped")
        return
    src = os.path.join(tmp, "e.c")
    open(src, "w").write("static volatile unsigned long c = 7;\n"
                         "void enclave_entry(void) { for (;;) { c++; __asm__ volatile(\"pause\"); } }\n")
    elf = os.path.join(tmp, "app.elf")
    try:
        subprocess.run(["gcc", "-O1", "-nostdlib", "-static-pie", "-fPIE", "-ffreestanding", "-fno-stack-protector",
                        "-Wl,-z,max-page-size=4096", "-Wl,-z,separate-code", "-Wl,-z,noexecstack",
                        "-Wl,-e,enclave_entry", "-o", elf, src], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("cannot build a test ELF (%s): image part skipped" % e)
        return
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import sgx_measure  # the independent MRENCLAVE calculator in this folder
    for debug in (False, True):
        man = os.path.join(tmp, "enclave.yaml")
        open(man, "w").write(
            "version: 1\nname: indep\ntarget: sgx\nmode: simulation\nsgx:\n  enclave: app.elf\n"
            "  heap_size: 64K\n  stack_size: 16K\n  product_id: 4242\n  security_version: 17\n"
            "  debug: %s\n  kss: true\n  isv_family_id: \"%s\"\n  isv_ext_product_id: \"%s\"\n"
            % ("true" if debug else "false", "5a" * 16, "c3" * 16))
        img = os.path.join(tmp, "app.eimg")
        p = subprocess.run([build, "-q", "-f", man, "-o", img], capture_output=True)
        if p.returncode != 0:
            raise SystemExit("enclave-build failed: " + p.stderr.decode())
        run("--in-place", "-k", key, "--date", "2026-11-23", img)
        import tarfile
        with tarfile.open(img) as t:
            ss = t.extractfile("sigstruct.bin").read()
        name = "image debug=%s" % debug
        f = verify_first_principles(ss, name, pub)
        indep = sgx_measure.measure_image(img)["mrenclave"]
        indep = indep if isinstance(indep, bytes) else bytes.fromhex(indep)
        check(f["enclavehash"] == indep, f"{name}: SIGSTRUCT MRENCLAVE differs from the independent measurement")
        check(f["isvprodid"] == 4242 and f["isvsvn"] == 17, f"{name}: isvprodid/isvsvn from the manifest")
        check(f["attr_flags"] == 0x84 and f["attr_xfrm"] == 3, f"{name}: attributes MODE64BIT|KSS, xfrm 3")
        want = 0xFFFFFFFFFFFFFFFD if debug else 0xFFFFFFFFFFFFFFFF
        check(f["mask_flags"] == want, f"{name}: mask flags 0x{f['mask_flags']:x}")
        check(f["mask_xfrm"] == 0xFFFFFFFFFFFFFF1B, f"{name}: xfrm mask")
        check((f["miscselect"], f["miscmask"]) == (0, 0xFFFFFFFF), f"{name}: misc")
        check(f["isvfamilyid"] == bytes([0x5A] * 16) and f["isvextprodid"] == bytes([0xC3] * 16), f"{name}: KSS ids")
        check(f["date"] == 0x20261123, f"{name}: date")


def main():
    if not os.access(SIGN, os.X_OK):
        print(f"skipped: {SIGN} not built")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        key = os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "genrsa", "-3", "-out", key, "3072"], check=True, capture_output=True)
        pub = serialization.load_pem_private_key(open(key, "rb").read(), None).public_key()

        cases = [
            dict(args=[], debug=False, kss=False, prod=0, svn=0, misc=(0, 0xFFFFFFFF), xfrm=(3, 0xFFFFFFFFFFFFFF1B)),
            dict(args=["--debug", "--isvprodid", "65535", "--isvsvn", "4660"], debug=True, kss=False, prod=65535,
                 svn=4660, misc=(0, 0xFFFFFFFF), xfrm=(3, 0xFFFFFFFFFFFFFF1B)),
            dict(args=["--kss", "--isvfamilyid", "0f" * 16, "--isvextprodid", "a5" * 16, "--misc", "0x1:0xfffffffe",
                       "--xfrm", "0x7:0xffffffffffffff1f", "--isvprodid", "3"],
                 debug=False, kss=True, prod=3, svn=0, misc=(1, 0xFFFFFFFE), xfrm=(7, 0xFFFFFFFFFFFFFF1F)),
        ]
        for i, c in enumerate(cases):
            mre = secrets.token_bytes(32)
            out = os.path.join(tmp, f"c{i}.sig")
            run("-k", key, "--mrenclave", mre.hex(), "--date", "2026-11-23", "-o", out, *c["args"])
            ss = open(out, "rb").read()
            name = f"case {i} {' '.join(c['args'])}"
            f = verify_first_principles(ss, name, pub)
            check(f["enclavehash"] == mre, f"{name}: MRENCLAVE field")
            check(f["date"] == 0x20261123, f"{name}: date 0x{f['date']:08x} is not BCD 0x20261123")
            check(f["vendor"] == 0 and f["type"] == 0 and f["swdefined"] == 0, f"{name}: vendor/type/swdefined")
            flags = 0x4 | (0x80 if c["kss"] else 0)
            check(f["attr_flags"] == flags, f"{name}: attribute flags 0x{f['attr_flags']:x}")
            check(f["attr_xfrm"] == c["xfrm"][0] and f["mask_xfrm"] == c["xfrm"][1], f"{name}: xfrm")
            want_mask = 0xFFFFFFFFFFFFFFFD if c["debug"] else 0xFFFFFFFFFFFFFFFF
            check(f["mask_flags"] == want_mask, f"{name}: mask flags 0x{f['mask_flags']:x}")
            check((f["miscselect"], f["miscmask"]) == c["misc"], f"{name}: misc")
            check(f["isvprodid"] == c["prod"] and f["isvsvn"] == c["svn"], f"{name}: isvprodid/isvsvn")
            check(f["isvfamilyid"] == (bytes([0x0F] * 16) if c["kss"] else bytes(16)), f"{name}: isvfamilyid")
            check(f["isvextprodid"] == (bytes([0xA5] * 16) if c["kss"] else bytes(16)), f"{name}: isvextprodid")
            check(f["cet"] == bytes(4), f"{name}: CET bytes")
            # MRSIGNER as enclave-sign reports it.
            shown = json.loads(run("show", "--json", out))
            check(shown["mrsigner"] == f["mrsigner"], f"{name}: MRSIGNER shown {shown['mrsigner']}")
            mod_be = pub.public_numbers().n.to_bytes(384, "big")
            check(f["mrsigner"] == hashlib.sha256(mod_be[::-1]).hexdigest(), f"{name}: MRSIGNER from the key")

        # The date from SOURCE_DATE_EPOCH is BCD of the UTC day (2000-02-29 23:59:59).
        out = os.path.join(tmp, "sde.sig")
        run("-k", key, "--mrenclave", "00" * 32, "-o", out, env={"SOURCE_DATE_EPOCH": "951868799"})
        check(parse(open(out, "rb").read())["date"] == bcd(2000, 2, 29), "SOURCE_DATE_EPOCH date")

        # Two-step: exported bytes signed here with `cryptography` give the same SIGSTRUCT.
        priv = serialization.load_pem_private_key(open(key, "rb").read(), None)
        data = os.path.join(tmp, "data.bin")
        run("export", "--mrenclave", "11" * 32, "--date", "2026-01-02", "-o", data)
        sig = priv.sign(open(data, "rb").read(), padding.PKCS1v15(), hashes.SHA256())
        open(os.path.join(tmp, "sig.bin"), "wb").write(sig)
        pubpem = os.path.join(tmp, "pub.pem")
        open(pubpem, "wb").write(pub.public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
        a = os.path.join(tmp, "attached.sig")
        b = os.path.join(tmp, "onestep.sig")
        run("attach", "-s", os.path.join(tmp, "sig.bin"), "-p", pubpem, "--mrenclave", "11" * 32,
            "--date", "2026-01-02", "-o", a)
        run("-k", key, "--mrenclave", "11" * 32, "--date", "2026-01-02", "-o", b)
        check(open(a, "rb").read() == open(b, "rb").read(), "two-step result differs from one-step")
        verify_first_principles(open(a, "rb").read(), "two-step", pub)

        image_case(tmp, key, pub)

    # Public vectors.
    if os.path.isdir(VECTORS):
        f = verify_first_principles(open(os.path.join(VECTORS, "test_enclave.sig"), "rb").read(), "test_enclave.sig")
        check(f["mrsigner"] == "fb4bab3d6036ac1d730fa83d7366df1dd2dfeac194ef335d6854d8a6c6475542", "test_enclave MRSIGNER")
        check(f["enclavehash"] == hashlib.sha256(open(os.path.join(VECTORS, "test_enclave.sgxs"), "rb").read()).digest(),
              "test_enclave.sig MRENCLAVE != sha256(test_enclave.sgxs)")
        f = verify_first_principles(open(os.path.join(VECTORS, "sig1.sigstruct.bin"), "rb").read(), "sig1")
        check(f["mrsigner"] == "83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e", "sig1 MRSIGNER")
    else:
        print(f"vectors absent at {VECTORS}: vector part skipped")

    print("failures:", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
