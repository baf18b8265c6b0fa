#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the independent MRENCLAVE calculator (sgx_measure.py) against the
known answers, then builds images with the real tools and requires the tools
and the independent calculator to agree.

(a) vector A and variants (specs/sgx.md), the worked example of
    enclave-measurement(7), the public SGXS files (EIMG_VECTORS, default
    ../shared/vectors; skipped with a message when absent);
(b) images built by $EIMG_BIN/enclave-build (default build/bin) with varied
    manifests: MRENCLAVE from enclave-build --json, enclave-measure --json,
    sgx_measure.py and sha256 of the SGXS stream must all be equal.
Exit 0 pass, 1 fail, 77 skipped (tools not built)."""
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("EIMG_TOP") or os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import sgx_measure as sm  # noqa: E402

failures = []


def check(cond, what):
    if cond:
        print("ok   %s" % what)
    else:
        print("FAIL %s" % what)
        failures.append(what)


# ------------------------------------------------------------ (a) vectors

def part_a():
    page = bytes(i % 256 for i in range(4096))
    a = sm.mrenclave(0x10000, 1, [(0, 0x205, page), (0x1000, 0x100, None)])
    check(a == "dfb678268c380f68c443631b70fbb8058eb372ddcc45b02dec934f4017935093", "vector A")
    a2 = sm.mrenclave(0x10000, 1, [(0, 0x205, page), (0x1000, 0x100, bytes(4096))])
    check(a2 == "002750eb3d5f2b7692af3f4f183be94db4002a7c30c37cc5bedc59a9d2c8ec75",
          "vector A with the TCS page measured")
    e = sm.mrenclave(0x10000, 1, [])
    check(e == "03c79954895fe98c9bd1b86ebe8b7b1748b65bfc30085dd387cb4351e7de51e2", "ECREATE record alone")

    # The worked example of enclave-measurement(7).
    big = bytes((i ^ (i >> 8)) & 0xff for i in range(9000))
    files = [(b"a.txt", b"hello"), (b"b.bin", big)]
    keys = [(b"k1", b"KEY")]
    blob = sm.info_blob(1, b'{"x":1}\n', files, keys)
    check(len(blob) == 9224, "worked example: info blob length 9224")
    ents = [struct.unpack_from("<QQQQ", blob, 64 + 32 * i) for i in range(3)]
    check(ents == [(176, 5, 184, 5), (192, 5, 200, 9000), (9208, 2, 9216, 3)],
          "worked example: info blob entry table")
    check(struct.unpack_from("<QQ", blob, 24) == (160, 8), "worked example: manifest offset/length")
    elf = handmade_elf([(4, 0, 0, 0x200, 0x200), (5, 0x1000, 0x1000, 0x800, 0x800),
                        (6, 0x2010, 0x3010, 0x20, 0x1ff0)], entry=0x1010, size=0x3000)
    man = json.dumps({"mode": "hardware", "sgx": {"heap_size": 65536, "stack_size": 16384, "threads": 3,
                                                  "ssa_frames": 2, "ssa_frame_size": 1}}).encode()
    lay = sm.layout(elf, man, files, keys)
    npages = sum(r[1] // 4096 for r in lay["regions"])
    check(lay["size"] == 0x40000 and lay["tcs"] == [0x1e000, 0x27000, 0x30000] and lay["heap"] == 0x9000
          and lay["info"] == 0x5000 and npages == 47, "worked example: offsets, SIZE and 47 pages")

    vec = os.environ.get("EIMG_VECTORS") or os.path.join(TOP, "..", "shared", "vectors")
    for name, want, size, neadd, nextend in [
            ("test_enclave.sgxs", "784acfd7d5096a8f0fbd3265760bff21b120f62407a9a9e5ba31aa3c8ed198fc", 0x40000, 9, 144),
            ("report.sgxs", "a06a560b26f5e397b2d7872fac66fe4b43bf4f507296ee048f110be6fb1a2290", 0x4000, 3, 48)]:
        path = os.path.join(vec, name)
        if not os.path.exists(path):
            print("skip %s: not found in %s (set EIMG_VECTORS)" % (name, vec))
            continue
        info = sm.measure_sgxs(path)
        check(info["mrenclave"] == want and info["size"] == size and info["eadd"] == neadd
              and info["eextend"] == nextend and info["ssa_frame_size"] == 1, "SGXS vector %s" % name)


def handmade_elf(segs, entry, size):
    """segs: (p_flags, p_offset, p_vaddr, p_filesz, p_memsz)."""
    eh = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    eh += struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, entry, 64, 0, 0, 64, 56, len(segs), 64, 0, 0)
    ph = b"".join(struct.pack("<IIQQQQQQ", 1, f, o, v, v, fs, ms, 0x1000) for f, o, v, fs, ms in segs)
    b = bytearray(size)
    b[:len(eh + ph)] = eh + ph
    for i in range(len(eh + ph), size):
        b[i] = (i * 13 + 1) & 0xff
    return bytes(b)


# ------------------------------------------------------------ (b) tools

ENCLAVE_C = r"""
static volatile int counter = 5;
static volatile int bss[3000];
const char msg[] = "hello";
void _start(void) { counter++; bss[3] = counter + msg[0]; for (;;) __asm__ volatile("ud2"); }
"""

VARIANTS = [
    ("one thread, simulation, one file",
     "mode: simulation\nsgx:\n  enclave: enclave.elf\n  heap_size: 256K\n  stack_size: 64K\n  threads: 1\n"
     "files:\n  - name: greeting.txt\n    path: greeting.txt\n"),
    ("three threads, hardware, SSA 3x2, files and two keys",
     "mode: hardware\nsgx:\n  enclave: enclave.elf\n  heap_size: 1M\n  stack_size: 32K\n  threads: 3\n"
     "  ssa_frames: 3\n  ssa_frame_size: 2\n"
     "files:\n  - name: greeting.txt\n    path: greeting.txt\n  - name: blob.bin\n    path: blob.bin\n"
     "  - name: empty\n    path: empty\n"
     "user_keys:\n  - name: bob\n    path: ec.pub.pem\n  - name: alice\n    path: rsa.pub.pem\n"),
    ("three threads, simulation, no files",
     "mode: simulation\nsgx:\n  enclave: enclave.elf\n  heap_size: 64K\n  stack_size: 16K\n  threads: 3\n"),
    ("defaults, hardware, debug and ids set",
     "mode: hardware\nsgx:\n  enclave: enclave.elf\n  debug: true\n  product_id: 7\n  security_version: 3\n"
     "files:\n  - name: Z\n    path: greeting.txt\n  - name: a\n    path: blob.bin\n  - name: B.txt\n    path: empty\n"),
    ("big heap, one thread",
     "mode: hardware\nsgx:\n  enclave: enclave.elf\n  heap_size: 8M\n  stack_size: 256K\n  threads: 1\n"
     "  ssa_frames: 1\n"),
]


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        print("command failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr.decode(errors="replace")))
        return None
    return p.stdout


def part_b(bindir):
    build = os.path.join(bindir, "enclave-build")
    measure = os.path.join(bindir, "enclave-measure")
    if not os.access(build, os.X_OK) or not os.access(measure, os.X_OK):
        return "enclave-build/enclave-measure not built in %s (run make)" % bindir
    if not shutil.which("gcc"):
        return "gcc not available to link a test enclave"
    have_openssl = shutil.which("openssl") is not None
    tmp = tempfile.mkdtemp(prefix="test_sgx_measure.")
    try:
        with open(os.path.join(tmp, "enclave.c"), "w") as f:
            f.write(ENCLAVE_C)
        if run(["gcc", "-nostdlib", "-static-pie", "-fPIE", "-O1", "-Wl,-z,max-page-size=4096",
                "-Wl,-z,separate-code", "-o", "enclave.elf", "enclave.c"], tmp) is None:
            failures.append("gcc")
            return None
        with open(os.path.join(tmp, "greeting.txt"), "wb") as f:
            f.write(b"hello, measured world\n")
        with open(os.path.join(tmp, "blob.bin"), "wb") as f:
            f.write(bytes((i * 31 + 7) & 0xff for i in range(10007)))
        open(os.path.join(tmp, "empty"), "wb").close()
        if have_openssl:
            for name, alg in (("ec", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]),
                              ("rsa", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])):
                if run(["openssl", "genpkey"] + alg + ["-out", name + ".pem"], tmp) is None or \
                        run(["openssl", "pkey", "-in", name + ".pem", "-pubout", "-out", name + ".pub.pem"], tmp) is None:
                    failures.append("openssl key generation")
                    return None
        seen = set()
        for i, (what, body) in enumerate(VARIANTS):
            if "user_keys" in body and not have_openssl:
                print("skip %s: openssl not available to make keys" % what)
                continue
            yaml = "version: 1\nname: v%d\ntarget: sgx\n" % i + body
            mpath = os.path.join(tmp, "m%d.yaml" % i)
            with open(mpath, "w") as f:
                f.write(yaml)
            img = os.path.join(tmp, "v%d.eimg" % i)
            out = run([build, "-f", mpath, "-o", img, "--json"], tmp)
            if out is None:
                check(False, "%s: enclave-build" % what)
                continue
            built = json.loads(out)["mrenclave"]
            out = run([measure, "--json", img], tmp)
            mjson = json.loads(out) if out is not None else {}
            measured = mjson.get("mrenclave")
            sgxs_tool = os.path.join(tmp, "v%d.tool.sgxs" % i)
            sgxs_py = os.path.join(tmp, "v%d.py.sgxs" % i)
            indep = sm.measure_image(img, sgxs_out=sgxs_py)
            check(built == measured == indep["mrenclave"],
                  "%s: enclave-build %s, enclave-measure %s, independent %s"
                  % (what, built, measured, indep["mrenclave"]))
            seen.add(indep["mrenclave"])
            if "layout" in mjson:
                tool_regions = [{k: r.get(k) for k in ("offset", "pages", "secinfo", "kind")} for r in mjson["layout"]]
                check(tool_regions == indep["regions"] and mjson.get("enclave_size") == indep["size"]
                      and mjson.get("pages") == indep["pages"],
                      "%s: enclave-measure's layout summary matches the independent layout" % what)
            # The SGXS stream: the tool's file, byte for byte the same as the
            # independent stream, hashing to MRENCLAVE.
            if run([measure, "--sgxs", sgxs_tool, img], tmp) is not None and os.path.exists(sgxs_tool):
                with open(sgxs_tool, "rb") as f:
                    tool_bytes = f.read()
                with open(sgxs_py, "rb") as f:
                    py_bytes = f.read()
                check(tool_bytes == py_bytes and hashlib.sha256(tool_bytes).hexdigest() == built,
                      "%s: SGXS stream identical and sha256 == MRENCLAVE" % what)
                info = sm.measure_sgxs(sgxs_tool)
                check(info["eadd"] == indep["pages"] and info["eextend"] == 16 * indep["pages"]
                      and info["size"] == indep["size"], "%s: SGXS record counts" % what)
            else:
                check(False, "%s: enclave-measure --sgxs" % what)
        check(len(seen) == len([v for v in VARIANTS if have_openssl or "user_keys" not in v[1]]),
              "every variant has its own MRENCLAVE")
        # The examples (real runtime ELFs with relocations and RELRO), if built.
        exdir = os.path.join(os.path.dirname(bindir), "examples")
        for ex in sorted(os.listdir(exdir)) if os.path.isdir(exdir) else []:
            yaml = os.path.join(exdir, ex, "enclave.yaml")
            if not os.path.exists(yaml):
                continue
            with open(yaml) as f:
                if not any(line.strip() == "target: sgx" for line in f):
                    continue   # a Nitro example: its PCRs are checked by test_nitro_independent.py
            img = os.path.join(tmp, "example-%s.eimg" % ex)
            out = run([build, "-f", yaml, "-o", img, "--json"], tmp)
            if out is None:
                check(False, "example %s: enclave-build" % ex)
                continue
            built = json.loads(out)["mrenclave"]
            indep = sm.measure_image(img)
            check(built == indep["mrenclave"], "example %s: enclave-build %s, independent %s"
                  % (ex, built, indep["mrenclave"]))
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    part_a()
    bindir = os.environ.get("EIMG_BIN") or os.path.join(TOP, "build", "bin")
    skipped = part_b(bindir)
    if failures:
        print("%d check(s) failed: %s" % (len(failures), "; ".join(failures)))
        return 1
    if skipped:
        print("skipped: %s" % skipped)
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
