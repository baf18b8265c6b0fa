#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The canonical enclave ELF, checked against an independent implementation
(sgx_measure.canonical_elf, written from enclave-measurement(7) alone):

1. enclave-build stores, for every example ELF, exactly the canonical form
   that the Python code derives from the original ELF, and MRENCLAVE is the
   one the original ELF gives (the canonical form measures the same);
2. the original ELF (sections, symbols) is not canonical, and no symbol name
   of it survives in the image;
3. a byte changed inside enclave.elf outside the loaded bytes (an ELF header
   field, padding) is refused by enclave-measure (exit 1, naming the offset
   and the field), by enclave-sign verify and by enclave-run (exit 3, nothing
   run), and by the independent calculator; a changed loaded byte changes
   MRENCLAVE.
Exit 0 pass, 1 fail, 77 skipped (tools or examples not built)."""
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("EIMG_TOP") or os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("EIMG_BIN") or os.path.join(TOP, os.environ.get("BUILDDIR", "build"), "bin")
EXAMPLES = os.path.join(TOP, os.environ.get("BUILDDIR", "build"), "examples")
sys.path.insert(0, HERE)
import sgx_measure as sm  # noqa: E402

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(*args, stdin=None):
    p = subprocess.run(list(args), capture_output=True, input=stdin)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def member(path, name):
    """(offset of the member's data in the file, its bytes)"""
    with tarfile.open(path, "r:") as t:
        m = t.getmember(name)
        return m.offset_data, t.extractfile(m).read()


def flipped(src, dst, at):
    data = bytearray(open(src, "rb").read())
    data[at] ^= 0x01
    open(dst, "wb").write(data)


def main():
    if not os.path.exists(os.path.join(BIN, "enclave-build")) or not os.path.isdir(os.path.join(EXAMPLES, "hello")):
        print("skipped: tools or examples not built (make all examples)")
        return 77
    tmp = tempfile.mkdtemp(prefix="eimg-canon-")
    try:
        env_key = os.path.join(tmp, "k.pem")
        subprocess.run(["openssl", "genrsa", "-3", "-out", env_key, "3072"], capture_output=True, check=True)
        for ex in ("hello", "files", "average"):
            d = os.path.join(EXAMPLES, ex)
            if not os.path.isdir(d):
                continue
            img = os.path.join(tmp, ex + ".eimg")
            rc, out, err = run(os.path.join(BIN, "enclave-build"), "--json", "-f", os.path.join(d, "enclave.yaml"),
                               "-o", img)
            check(rc == 0, "%s: built (%s)" % (ex, err.strip()))
            if rc:
                continue
            built_mr = json.loads(out)["mrenclave"]
            elf_path = os.path.join(d, ex + ".elf")
            original = open(elf_path, "rb").read()
            _, stored = member(img, "enclave.elf")
            check(stored == sm.canonical_elf(original), "%s: enclave.elf is the independently derived canonical form" % ex)
            check(stored != original, "%s: the original ELF is not canonical" % ex)
            check(sm.canonical_elf(stored) == stored, "%s: the canonical form is a fixed point" % ex)
            check(b"enclave_on_message" in original and b"enclave_on_message" not in stored,
                  "%s: no symbol name survives" % ex)
            check(len(stored) < len(original), "%s: %d of %d bytes kept" % (ex, len(stored), len(original)))
            # the original ELF measures like the canonical one (independent layout)
            _e, manifest, files, keys = sm.read_image(img)
            lay = sm.layout(original, manifest, files, keys)
            md = sm.mrenclave(lay["size"], lay["ssa_frame_size"], sm.region_pages(lay["regions"]))
            check(md == built_mr, "%s: MRENCLAVE of the original ELF = the image's %s" % (ex, built_mr[:16]))
            check(sm.measure_image(img)["mrenclave"] == built_mr, "%s: independent MRENCLAVE of the image" % ex)

        img = os.path.join(tmp, "hello.eimg")
        if os.path.exists(img):
            run(os.path.join(BIN, "enclave-sign"), "--in-place", "-k", env_key, img)
            off, stored = member(img, "enclave.elf")
            nload = stored[56]
            cases = [(48, "ELF header field e_flags"), (7, "ELF header field e_ident"),
                     (64 + 56 * nload + 3, "padding before loaded segment 0, which must be zero"),
                     (64 + 48, "program header 0 field p_align")]
            for at, what in cases:
                bad = os.path.join(tmp, "bad.eimg")
                flipped(img, bad, off + at)
                rc, _o, err = run(os.path.join(BIN, "enclave-measure"), bad)
                check(rc == 1 and ("byte at offset %d (%s)" % (at, what)) in err and err.count("\n") == 1,
                      "enclave-measure refuses a change at %d (%s): %s" % (at, what, err.strip()))
                rc, _o, err = run(os.path.join(BIN, "enclave-sign"), "verify", bad)
                check(rc == 1 and "not a canonical enclave ELF" in err, "enclave-sign verify refuses it (%d)" % rc)
                rc, out, err = run(os.path.join(BIN, "enclave-run"), "--lines", bad, stdin=b"hi\n")
                check(rc == 3 and out == "" and "not a canonical enclave ELF" in err, "enclave-run runs nothing (%d)" % rc)
                try:
                    sm.measure_image(bad)
                    check(False, "the independent calculator accepted it")
                except sm.MeasureError as e:
                    check("not in canonical form" in str(e), "the independent calculator refuses it")
            # a loaded byte: the image still parses, MRENCLAVE changes (exit 3)
            seg0 = int.from_bytes(stored[64 + 8:64 + 16], "little")
            bad = os.path.join(tmp, "bad.eimg")
            flipped(img, bad, off + seg0 + 100)
            rc, _o, err = run(os.path.join(BIN, "enclave-measure"), bad)
            check(rc == 3 and "differs from the recomputed" in err, "a changed loaded byte changes MRENCLAVE (%d)" % rc)
    finally:
        shutil.rmtree(tmp)
    print("%d failed" % len(failures))
    return 1 if failures else 0


sys.exit(main())
