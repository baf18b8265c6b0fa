#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Intel SGX SDK enclaves through the real tools, judged by the independent
implementation in sdk_ref.py (written from Intel's formats):

(a) fixtures of several metadata versions (1.3 with its extra page, 1.4,
    1.5, 2.4 with a 1.4 copy, 3.3): enclave-measure's recomputed MRENCLAVE and
    the sha256 of its --sgxs stream equal sdk_ref's, for every metadata copy;
(b) signed with enclave-sign (a key made here) as sgx_sign catsig would:
    verify says "content recomputed: yes"; a flipped code byte, a changed TCS
    template or a patch gives exit 3 naming both values;
(c) the note-offset case: metadata padded to note offset 28 (how a generic
    note reader would have it), an all-zero note (enclave.so before sgx_sign);
(d) optional local check on real enclaves: every *.so in $EIMG_SDK_ENCLAVES
    must have sdk_ref's and enclave-measure's MRENCLAVE equal to the
    ENCLAVEHASH its signer signed (skipped when unset: such files are
    other projects' binaries and not kept here).
Exit 0 pass, 1 fail, 77 skipped (tools not built)."""
import hashlib
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sdk_ref as sr  # noqa: E402
import foreign_check as fc  # noqa: E402
from foreign_check import check, measure_json, run, schema_check, sign  # noqa: E402


def measured(path):
    j, err = measure_json(path)
    return (j["mrenclave"], "") if j else (None, err)


FIXTURES = {
    "1.3": dict(ver=sr.version(1, 3), compat=(), data_memsz=0x2100),
    "1.4": dict(ver=sr.version(1, 4), compat=(), data_memsz=0x2100),
    "1.5": dict(ver=sr.version(1, 5), compat=()),
    "2.4+1.4": dict(ver=sr.version(2, 4), compat=(sr.version(1, 4),)),
    "3.3+1.5": dict(ver=sr.version(3, 3), compat=(sr.version(1, 5),)),
}


def part_a(d):
    seen = set()
    for name, kw in FIXTURES.items():
        buf = sr.build_enclave(**kw)
        path = os.path.join(d, "fx-%s.so" % name)
        open(path, "wb").write(buf)
        want = sr.mrenclave(buf)
        seen.add(want)
        copies = [sr.mrenclave(buf, i) for i in range(len(sr.blobs(buf)))]
        check(all(c == want for c in copies), "metadata %s: every copy measures the same (sdk_ref)" % name)
        got, err = measured(path)
        check(got == want, "metadata %s: enclave-measure %s, sdk_ref %s %s" % (name, got, want, err))
        sgxs = os.path.join(d, "fx-%s.sgxs" % name)
        rc, _, err = run("enclave-measure", "--sgxs", sgxs, path)
        ok = rc == 0 and hashlib.sha256(open(sgxs, "rb").read()).hexdigest() == want
        check(ok, "metadata %s: sha256 of --sgxs equals MRENCLAVE %s" % (name, err.strip()))
    check(len(seen) == 3, "1.3's extra page and the layouts change MRENCLAVE where they should (%d values)" % len(seen))
    schema_check(os.path.join(d, "fx-2.4+1.4.so"))
    rc, out, _ = run("enclave-measure", os.path.join(d, "fx-2.4+1.4.so"))
    for line in ("metadata version: 2.4", "compatible metadata: 1.4", "tcs policy: unbind (1)",
                 "tcs: 3 added at load (0 removed after init), 1 dynamic", "ssa: frame size 1 page, 2 frames",
                 "stack: min 0x1000 max 0x3000", "heap: min 0x2000 init 0x4000", "sigstruct: none"):
        check(line in out, "dump shows %r" % line)


def part_b(d):
    buf = sr.build_enclave()
    mr = sr.mrenclave(buf)
    signed = sr.with_sigstruct(buf, sign(d, mr, "--isvprodid", "5"))
    path = os.path.join(d, "signed.so")
    open(path, "wb").write(signed)
    rc, out, err = run("enclave-sign", "verify", path)
    check(rc == 0 and ("signature valid over MRENCLAVE %s; content recomputed: yes" % mr) in out,
          "verify a signed SDK enclave: %s%s" % (out.splitlines()[0] if out else "", err.strip()))
    rc, out, _ = run("enclave-measure", path)
    check(rc == 0 and re.search(r"isvprodid: +5$", out, re.M) is not None, "enclave-measure shows the SIGSTRUCT fields")
    schema_check(path)
    rc, _, err = run("enclave-measure", "--expect", mr, path)
    check(rc == 0, "enclave-measure --expect the recomputed MRENCLAVE %s" % err.strip())
    rc, _, err = run("enclave-measure", "--expect", "0" * 64, path)
    check(rc == 3, "enclave-measure --expect another MRENCLAVE: exit 3 (%s)" % err.strip())
    tampers = {
        "a code byte": 0x100,
        "a TCS template byte": None,
    }
    blob_at = signed.index(struct.pack("<Q", sr.MAGIC))
    tampers["a TCS template byte"] = blob_at + sr.HDR + 8 * sr.ndirs(sr.version(2, 4)) + 32   # OENTRY
    for what, off in tampers.items():
        t = bytearray(signed)
        t[off] ^= 0x40
        tp = os.path.join(d, "tampered.so")
        open(tp, "wb").write(bytes(t))
        want = sr.mrenclave(bytes(t))
        rc, out, err = run("enclave-sign", "verify", tp)
        check(rc == 3 and mr in err and want in err and len(err.strip().splitlines()) == 1,
              "%s flipped: exit 3 naming the signed %s and the content's %s (got %d: %s)" %
              (what, mr[:8], want[:8], rc, err.strip()))


def part_c(d):
    p = os.path.join(d, "padded.so")
    open(p, "wb").write(sr.build_enclave(padded=True))
    rc, _, err = run("enclave-measure", p)
    check(rc == 1 and "offset 25" in err and "offset 28" in err and len(err.strip().splitlines()) == 1,
          "metadata at note offset 28: refused, naming offsets 25 and 28 (%s)" % err.strip())
    rc, _, err = run("enclave-sign", "verify", p)
    check(rc == 1 and "offset 25" in err, "enclave-sign verify refuses it too")
    buf = bytearray(sr.build_enclave())
    start = buf.index(struct.pack("<Q", sr.MAGIC))
    buf[start:start + 0x6000] = bytes(0x6000)
    z = os.path.join(d, "enclave.so")
    open(z, "wb").write(bytes(buf))
    rc, _, err = run("enclave-measure", z)
    check(rc == 1 and "all zeros" in err, "an enclave.so before sgx_sign: says so (%s)" % err.strip())


def part_d(_d):
    where = os.environ.get("EIMG_SDK_ENCLAVES")
    if not where or not os.path.isdir(where):
        print("skip real SDK enclaves: set EIMG_SDK_ENCLAVES to a folder of *.signed.so to check them")
        return
    for name in sorted(os.listdir(where)):
        path = os.path.join(where, name)
        buf = open(path, "rb").read()
        try:
            signed = sr.blobs(buf)[0][64 + 960:64 + 992].hex()
        except (ValueError, IndexError, struct.error):
            continue
        got, err = measured(path)
        check(sr.mrenclave(buf) == signed and got == signed,
              "%s: ENCLAVEHASH %s, sdk_ref and enclave-measure agree %s" % (name, signed, err))


if __name__ == "__main__":
    sys.exit(fc.main("eimg-sdk-", [part_a, part_b, part_c, part_d]))
