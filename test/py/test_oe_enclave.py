#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Open Enclave enclaves through the real tools, judged by the independent
implementation in oe_ref.py (written from Open Enclave's loader and
properties):

(a) fixtures (with and without TLS, .rela.plt, several heap/stack/TCS
    settings, a zero-base enclave): enclave-measure's recomputed MRENCLAVE
    and the sha256 of its --sgxs stream equal oe_ref's; the figures shown
    (image, relocations, heap, enclave size) equal oe_ref's;
(b) signed as oesign does (a SIGSTRUCT made here over oe_ref's MRENCLAVE,
    written into .oeinfo at byte 144): verify says "content recomputed: yes";
    one .text byte flipped, a relocation changed, or a signed property changed
    gives exit 3 naming both values; enclave-sign show prints the properties;
(c) hostile inputs refused with one line (exit 1): 5000 TCS, 2^40 heap
    pages, overlapping segments, .oeinfo's bytes not the loaded ones, a
    dependent module, a relocation type OE refuses, a missing patched
    symbol, no entry point; verify on such a signed file says "content
    recomputed: no (why)";
(d) optional local check on real enclaves: every file in $EIMG_OE_ENCLAVES
    with a signed .oeinfo must have oe_ref's and enclave-measure's MRENCLAVE
    equal to the ENCLAVEHASH its signer signed (skipped when unset: such
    files are other projects' binaries and not kept here);
(e) optional check against Open Enclave's own loader: $EIMG_OE_MEASURE_CMD
    is a program built from Open Enclave's sources (host/sgx/create.c,
    loadelf.c, elf.c, sgxload.c, common/sgx/sgxmeasure.c, in measurement
    mode) that prints "FILE MRENCLAVE" for each file given; every fixture of
    (a) and 40 random ones must measure the same with it, oe_ref and
    enclave-measure (skipped when unset: that code is not kept here).
Exit 0 pass, 1 fail, 77 skipped (tools not built)."""
import hashlib
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import oe_ref as oe  # noqa: E402
import foreign_check as fc  # noqa: E402
from foreign_check import check, measure_json, run, schema_check, sign  # noqa: E402


def measured(path):
    j, err = measure_json(path)
    return (j.get("mrenclave"), j, "") if j else (None, None, err)


FIXTURES = {
    "default": {},
    "no-tls-no-plt": dict(tls=False, plt=False),
    "one-thread": dict(props=oe.properties(heap=100, stack=8, tcs=1)),
    "many-threads": dict(props=oe.properties(heap=1, stack=1, tcs=9, attributes=0x4)),
    "zero-base": dict(props=oe.properties(flags=2, start=0x100000)),
    "page-aligned-data": dict(data_vaddr=0x3000),
}


def one_line(err):
    return len(err.strip().splitlines()) == 1


def part_a(d):
    seen = set()
    for name, kw in FIXTURES.items():
        buf = oe.build_enclave(**kw)
        path = os.path.join(d, "fx-%s.elf" % name)
        open(path, "wb").write(buf)
        want = oe.mrenclave(buf)
        seen.add(want)
        got, j, err = measured(path)
        check(got == want, "%s: enclave-measure %s, oe_ref %s %s" % (name, got, want, err))
        L = oe.layout(buf)
        lay = (j or {}).get("layout", {})
        check(lay.get("image_size") == L["image"] and lay.get("reloc_size") == L["reloc"] and
              lay.get("enclave_size") == L["enclave"] and lay.get("heap_rva") == L["heap_rva"] and
              lay.get("tls_pages") == L["tls"], "%s: the layout figures equal oe_ref's (%s)" % (name, lay))
        sgxs = os.path.join(d, "fx-%s.sgxs" % name)
        rc, _, err = run("enclave-measure", "--sgxs", sgxs, path)
        ok = rc == 0 and hashlib.sha256(open(sgxs, "rb").read()).hexdigest() == want
        check(ok, "%s: sha256 of --sgxs equals MRENCLAVE %s" % (name, err.strip()))
    check(len(seen) == len(FIXTURES), "every fixture measures differently (%d values)" % len(seen))
    schema_check(os.path.join(d, "fx-default.elf"))
    rc, out, _ = run("enclave-measure", os.path.join(d, "fx-zero-base.elf"))
    check(rc == 0 and "elrange: 0x200000 (image at 0x100000)" in out,
          "a zero-base enclave shows its ELRANGE and start address")


def part_b(d):
    buf = oe.build_enclave()
    mr = oe.mrenclave(buf)
    signed = oe.with_sigstruct(buf, sign(d, mr, "--isvprodid", "7", "--isvsvn", "3"))
    check(oe.mrenclave(signed) == mr, "oe_ref: the SIGSTRUCT in .oeinfo does not change MRENCLAVE (zeroed before measuring)")
    path = os.path.join(d, "enclave.signed")
    open(path, "wb").write(signed)
    rc, out, err = run("enclave-sign", "verify", path)
    check(rc == 0 and ("signature valid over MRENCLAVE %s; content recomputed: yes" % mr) in out,
          "verify a signed Open Enclave enclave: %s%s" % (out.splitlines()[0] if out else "", err.strip()))
    rc, out, _ = run("enclave-sign", "show", path)
    check(rc == 0 and "Open Enclave" in out and "isvprodid" in out and "properties (.oeinfo):\n  product id: 7\n" in out
          and "  heap: 16 pages\n" in out, "enclave-sign show reads the .oeinfo SIGSTRUCT and prints the properties")
    rc, out, err = run("enclave-measure", "--expect", mr, path)
    check(rc == 0 and "signed: yes" in out, "enclave-measure --expect the recomputed MRENCLAVE %s" % err.strip())
    rc, _, err = run("enclave-measure", "--expect", "0" * 64, path)
    check(rc == 3, "enclave-measure --expect another MRENCLAVE: exit 3 (%s)" % err.strip())
    text_at = 0x1234
    rela_at = oe.section(signed, b".rela.dyn")[1] + 16
    heap_at = oe.oeinfo_offset(signed) + 8
    for what, off in (("a .text byte", text_at), ("a relocation addend", rela_at), ("the signed heap size", heap_at)):
        t = bytearray(signed)
        t[off] ^= 0x01
        tp = os.path.join(d, "tampered.signed")
        open(tp, "wb").write(bytes(t))
        want = oe.mrenclave(bytes(t))
        rc, out, err = run("enclave-sign", "verify", tp)
        check(rc == 3 and mr in err and want in err and want != mr and one_line(err),
              "%s flipped: exit 3 naming the signed %s and the content's %s (got %d: %s)" %
              (what, mr[:8], want[:8], rc, err.strip()))


def hostile(d):
    base = oe.build_enclave()
    cases = {
        "5000 TCS": (oe.build_enclave(props=oe.properties(tcs=5000)), "TCS"),
        "2^40 heap pages": (oe.build_enclave(props=oe.properties(heap=1 << 40)), "limit"),
        "attributes without MODE64BIT": (oe.build_enclave(props=oe.properties(attributes=0x2)), "MODE64BIT"),
        "a zero-base enclave at an unaligned address": (oe.build_enclave(props=oe.properties(flags=2, start=0x1234)),
                                                        "start address"),
        "segments sharing a page": (oe.build_enclave(data_vaddr=0x2a20), "share a page"),
        ".oeinfo's file bytes not the loaded ones": (oe.build_enclave(oeinfo_unloaded=True), "loaded"),
        "a dependent module": (oe.build_enclave(needed=True), "DT_NEEDED"),
        "a DT_RUNPATH": (oe.build_enclave(runpath=True), "RUNPATH"),
        "a TLS alignment of 2^62": (oe.build_enclave(tls_align=1 << 62), "alignment"),
        "relocation type R_X86_64_PC32": (oe.build_enclave(extra_reloc_type=2), "relocation type 2"),
        "no _reloc_size symbol": (oe.build_enclave(omit_sym="_reloc_size"), "_reloc_size"),
        "no entry point": (oe.build_enclave(entry=0), "entry point"),
    }
    t = bytearray(base)
    t[16] = 2                              # ET_EXEC
    cases["an ET_EXEC file"] = (bytes(t), "PIE")
    return cases


def part_c(d):
    key_mr = oe.mrenclave(oe.build_enclave())
    ss = sign(d, key_mr)
    for what, (buf, word) in hostile(d).items():
        p = os.path.join(d, "hostile.elf")
        open(p, "wb").write(buf)
        sg = os.path.join(d, "hostile.sgxs")
        rc, out, err = run("enclave-measure", "--sgxs", sg, p)
        check(rc == 1 and word in err and one_line(err) and not os.path.exists(sg),
              "%s: refused with one line naming %r, nothing written (%d: %s)" % (what, word, rc, err.strip()))
        open(p, "wb").write(oe.with_sigstruct(buf, ss))
        rc, out, err = run("enclave-sign", "verify", p)
        check(rc == 0 and "content recomputed: no (" in out and word in out,
              "%s, signed: verify says content recomputed: no (why) (%d: %s%s)" %
              (what, rc, out.strip().splitlines()[0] if out.strip() else "", err.strip()))


def part_d(_d):
    where = os.environ.get("EIMG_OE_ENCLAVES")
    if not where or not os.path.isdir(where):
        print("skip real Open Enclave enclaves: set EIMG_OE_ENCLAVES to a folder of signed enclaves to check them")
        return
    n = 0
    for name in sorted(os.listdir(where)):
        path = os.path.join(where, name)
        buf = open(path, "rb").read()
        try:
            off = oe.oeinfo_offset(buf)
        except (TypeError, struct.error, IndexError):
            continue
        ss = buf[off + 144:off + 144 + 1808]
        if ss == bytes(1808):
            continue
        signed = ss[960:992].hex()
        got, _, err = measured(path)
        n += 1
        check(oe.mrenclave(buf) == signed and got == signed,
              "%s: ENCLAVEHASH %s, oe_ref and enclave-measure agree (%s) %s" % (name, signed, got, err))
    check(n > 0, "EIMG_OE_ENCLAVES holds at least one signed Open Enclave enclave")


def part_e(d):
    cmd = os.environ.get("EIMG_OE_MEASURE_CMD")
    if not cmd:
        print("skip Open Enclave's own loader: set EIMG_OE_MEASURE_CMD to a program built from its sources")
        return
    import random
    rnd = random.Random(7)
    kws = list(FIXTURES.values())
    for _ in range(40):
        zb = rnd.random() < 0.3
        kws.append(dict(props=oe.properties(heap=rnd.randint(0, 60), stack=rnd.randint(0, 12), tcs=rnd.randint(1, 6),
                                            flags=2 if zb else 0, start=rnd.choice([0x1000, 0x7f000000]) if zb else 0,
                                            attributes=rnd.choice([4, 6, 0x84, 0x86])),
                        tls=rnd.random() < 0.6, plt=rnd.random() < 0.5,
                        data_vaddr=rnd.choice([0x3a20, 0x3000, 0x4ff8, 0x5008])))
    same = 0
    for i, kw in enumerate(kws):
        p = os.path.join(d, "oe-%02d.elf" % i)
        buf = oe.build_enclave(**kw)
        open(p, "wb").write(buf)
        r = subprocess.run([cmd, p], capture_output=True, text=True).stdout.split()
        got, _, _ = measured(p)
        same += bool(r) and r[-1] == got == oe.mrenclave(buf)
    check(same == len(kws), "Open Enclave's own loader, oe_ref and enclave-measure agree on %d of %d enclaves" %
          (same, len(kws)))


if __name__ == "__main__":
    sys.exit(fc.main("eimg-oe-", [part_a, part_b, part_c, part_d, part_e]))
