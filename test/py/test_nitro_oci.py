#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Container images and nitro-cli blobs, checked independently.

Images are made here from the OCI image-spec (oci_make.py: layout folder, OCI
archive, docker-archive, multi-platform index, gzip/zstd layers) with
whiteouts, an opaque folder, hard and symbolic links and odd modes.  The
merged tree is computed again in Python from the spec's rules, and the
application ramdisk of the EIF that enclave-build writes is read back with
an independent newc reader (cpio_read.py) and compared file by file.
The boot-strap ramdisk is rebuilt from linuxkit's cpio writer rules
(github.com/surma/gocpio, as nitro-cli's linuxkit uses it) and must be
byte-identical; PCRs are recomputed by eif_ref.py.  Hostile layers must be
refused with one line naming the layer and the entry.  Exit 77 = skipped."""
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

top = os.environ.get("EIMG_TOP") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(top, "test", "py"))
import cpio_read  # noqa: E402
import eif_ref  # noqa: E402
import oci_make  # noqa: E402

bindir = os.environ.get("EIMG_BIN") or os.path.join(top, os.environ.get("BUILDDIR", "build"), "bin")
vectors = os.environ.get("EIMG_VECTORS") or os.path.join(top, "..", "shared", "vectors")
failures, passes = [], []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    (passes if cond else failures).append(what)


def tool(name, *args, cwd=None):
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    return subprocess.run([os.path.join(bindir, name)] + list(args), capture_output=True, env=env, cwd=cwd)


# ------------------------------------------------------------ independent models

def merge(layers):
    """The OCI image-spec's layer rules, on a dict path -> (kind, mode, data)."""
    tree = {}
    for entries in layers:
        added = set()
        opaque = [e[1] for e in entries if e[0] == "opaque"]
        for d in opaque:  # hides what lower layers put under d
            for p in [p for p in tree if p.startswith(d + "/")]:
                del tree[p]
        for e in entries:
            kind, path = e[0], e[1]
            if kind == "opaque":
                continue
            if kind == "whiteout":
                for p in [p for p in tree if p == path or p.startswith(path + "/")]:
                    del tree[p]
                continue
            parts = path.split("/")
            for i in range(1, len(parts)):
                tree.setdefault("/".join(parts[:i]), ("dir", 0o755, None))
            if kind == "dir":
                tree[path] = ("dir", int(e[2], 8), None)
            elif kind == "file":
                if path in tree and tree[path][0] == "dir":
                    for p in [p for p in tree if p.startswith(path + "/")]:
                        del tree[p]
                tree[path] = ("file", int(e[2], 8), e[3].encode())
            elif kind == "symlink":
                tree[path] = ("symlink", 0o777, e[2].encode())
            elif kind == "hardlink":
                t = tree[e[2]]
                tree[path] = ("file", t[1], t[2])
            added.add(path)
    return tree


def expected_ramdisk(tree, cmd, env, manifest):
    want = {"cmd": ("file", 0o644, cmd), "env": ("file", 0o644, env), "rootfs": ("dir", 0o755, None)}
    for p, v in tree.items():
        want["rootfs/" + p] = v
    for d in ("dev", "proc", "run", "sys", "tmp", "var", "etc", "etc/enclave"):
        want.setdefault("rootfs/" + d, ("dir", 0o755, None))
    want["rootfs/etc/enclave/manifest.json"] = ("file", 0o644, manifest)
    return want


def gocpio(entries):
    """linuxkit's initrd writer (surma/gocpio): inode numbers from 721 (the
    trailer counts), dev 3:1, nlink 2 for folders, pad 4 after header+name
    and after data, trailer, pad to 512."""
    out, ino = bytearray(), 721

    def pad(m):
        out.extend(b"\0" * ((m - len(out) % m) % m))

    for name, mode, data in entries + [("TRAILER!!!", 0, b"")]:
        pad(4)
        nlink = 2 if mode & 0o170000 == 0o040000 else 1
        out.extend(("070701" + "%08x" * 13 % (ino, mode, 0, 0, nlink, 0, len(data), 3, 1, 0, 0,
                                              len(name) + 1, 0)).encode())
        out.extend(name.encode() + b"\0")
        pad(4)
        out.extend(data)
        ino += 1
    pad(4)
    pad(512)
    return bytes(out)


def sections(path):
    d = open(path, "rb").read()
    return [(t, data) for t, _o, _s, data in eif_parts(d)]


def eif_parts(d):
    import struct
    n = struct.unpack_from(">H", d, 26)[0]
    for i in range(n):
        off = struct.unpack_from(">Q", d, 28 + 8 * i)[0]
        size = struct.unpack_from(">Q", d, 284 + 8 * i)[0]
        t = struct.unpack_from(">H", d, off)[0]
        yield t, off, size, d[off + 12:off + 12 + size]


# ------------------------------------------------------------ fixtures

LAYERS = [
    [["dir", "bin", "0755"], ["file", "bin/app", "0755", "#!/bin/sh\necho hi\n"], ["dir", "etc", "0755"],
     ["file", "etc/a", "0644", "A"], ["file", "etc/b", "0600", "B"], ["dir", "opq", "0700"],
     ["file", "opq/old", "0644", "old"], ["dir", "opq/sub", "0755"], ["file", "opq/sub/x", "0644", "x"],
     ["symlink", "lib", "usr/lib"], ["dir", "usr/lib", "0755"], ["file", "usr/lib/libz.so", "0644", "zz"],
     ["hardlink", "usr/lib/libz.so.1", "usr/lib/libz.so"], ["file", "usr/bin/sudo", "4755", "s"],
     ["file", "gone/deep/f", "0644", "f"]],
    [["whiteout", "etc/a"], ["opaque", "opq"], ["file", "opq/new", "0644", "new"], ["file", "etc/c", "0640", "C"],
     ["whiteout", "gone"], ["file", "bin/app", "0750", "v2"]],
]
CONFIG = {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["/bin/app", "--port", "80"], "Env": ["PATH=/usr/bin:/bin", "MODE=x"],
          "WorkingDir": "/srv"}


def blobs(folder, cmdline=b"  console=ttyS0 panic=30 \n"):
    os.makedirs(folder)
    files = {"bzImage": os.urandom(5000), "init": os.urandom(3001), "nsm.ko": os.urandom(777), "cmdline": cmdline,
             "bzImage.config": b"#\n# Automatically generated file; DO NOT EDIT.\n"
                               b"# Linux/x86_64 4.14.256-209.484.amzn2.x86_64 Kernel Configuration\n#\n"}
    for k, v in files.items():
        open(os.path.join(folder, k), "wb").write(v)
    return files


def manifest(folder, image, extra=""):
    open(os.path.join(folder, "enclave.yaml"), "w").write(
        "version: 1\nname: oci\ntarget: nitro\nmode: hardware\nnitro:\n  blobs: blobs\n  image: %s\n%s" % (image, extra))


def build(folder, out="app.eif"):
    return tool("enclave-build", "-f", "enclave.yaml", "-o", "app.eimg", "--eif", out, cwd=folder)


# ------------------------------------------------------------ cases

def case_formats(tmp):
    """The same image as layout, OCI archive, docker-archive, zstd, multi-platform: same ramdisk, right tree."""
    results = {}
    for fmt, spec in [("layout", {}), ("oci-archive", {}), ("docker-archive", {}), ("layout", {"compression": "zstd"}),
                      ("layout", {"platforms": ["linux/arm64", "linux/amd64"], "nested_index": True})]:
        name = fmt + "-" + "-".join(sorted(spec)) if spec else fmt
        d = os.path.join(tmp, name)
        files = blobs(os.path.join(d, "blobs"))
        digests = oci_make.make(dict(spec, layers=LAYERS, config=CONFIG), os.path.join(d, "img"), fmt)
        manifest(d, "img", "  platform: linux/amd64\n")
        r = build(d)
        check(r.returncode == 0, "%s: enclave-build exits 0 (%s)" % (name, r.stderr.decode().strip()[:200]))
        if r.returncode:
            continue
        secs = sections(os.path.join(d, "app.eif"))
        rd = [data for t, data in secs if t == 3]
        cm = [data for t, data in secs if t == 2][0]
        got = cpio_read.tree(rd[1])
        man = got["rootfs/etc/enclave/manifest.json"]["data"]
        js = json.loads(man)
        want = expected_ramdisk(merge(LAYERS), b"/bin/app\n--port\n80\n", b"PATH=/usr/bin:/bin\nMODE=x\n", man)
        kinds = {0o040000: "dir", 0o100000: "file", 0o120000: "symlink"}
        mine = {}
        for p, r_ in got.items():
            k = kinds.get(r_["mode"] & 0o170000)
            data = r_["data"] if k != "dir" else None
            if k == "file" and r_["nlink"] > 1 and not data:  # a later name of a hard-linked file
                first = [x for x in got.values() if x["ino"] == r_["ino"] and x["data"]]
                data = first[0]["data"] if first else data
            mine[p] = (k, r_["mode"] & 0o7777, data)
        check(mine == want, "%s: the ramdisk holds exactly the merged layers, file by file" % name)
        if mine != want:
            for p in sorted(set(mine) | set(want)):
                if mine.get(p) != want.get(p):
                    print("     %s: got %s want %s" % (p, mine.get(p), want.get(p)))
        check(all(r_["uid"] == 0 and r_["gid"] == 0 and r_["mtime"] == 1700000000 for r_ in got.values()),
              "%s: owners 0 and times SOURCE_DATE_EPOCH" % name)
        check(got["rootfs/usr/lib/libz.so"]["ino"] == got["rootfs/usr/lib/libz.so.1"]["ino"] and
              got["rootfs/usr/lib/libz.so"]["nlink"] == 2, "%s: a hard link shares its inode" % name)
        want_digest = digests["linux/amd64"] or js["nitro"]["image_config"]
        check(js["nitro"]["image_digest"] == want_digest and js["nitro"]["platform"] == "linux/amd64",
              "%s: the canonical manifest records the image digest and platform" % name)
        check(js["nitro"]["working_dir"] == "/srv" and js["nitro"]["entrypoint"] == CONFIG["Cmd"],
              "%s: argv is the config's Cmd (as nitro-cli), WorkingDir recorded" % name)
        check(cm == b"console=ttyS0 panic=30", "%s: the command line is stored trimmed, as nitro-cli" % name)
        check(rd[0] == gocpio([("dev", 0o040755, b""), ("init", 0o100755, files["init"]),
                               ("nsm.ko", 0o100755, files["nsm.ko"])]),
              "%s: the boot-strap ramdisk is byte-identical to linuxkit's" % name)
        ref = eif_ref.describe(os.path.join(d, "app.eif"))
        pcr1 = eif_ref.extend(hashlib.sha384(files["bzImage"] + cm + rd[0]).digest()).hex()
        m = tool("enclave-measure", "--json", "app.eif", cwd=d)
        mj = json.loads(m.stdout) if m.returncode == 0 else {}
        check(mj.get("measurements", {}).get("pcr1") == pcr1 == ref["PCR1"] and
              mj["measurements"]["pcr2"] == ref["PCR2"], "%s: PCR1 and PCR2 as recomputed independently" % name)
        check(ref["metadata"]["BuildMetadata"]["KernelVersion"] == "4.14.256" and
              ref["metadata"]["DockerInfo"]["Id"] == js["nitro"]["image_config"],
              "%s: metadata KernelVersion and image ID as nitro-cli records them" % name)
        # The same files whatever the format (the manifest differs: it records the image's digest).
        results[name] = repr(sorted((p, r_["mode"], r_["data"]) for p, r_ in got.items()
                                    if not p.endswith("manifest.json")))
    same = len(set(results.values())) == 1 and len(results) == 5
    check(same, "every format gives the same application tree")


def case_platform_and_pin(tmp):
    d = os.path.join(tmp, "plat")
    blobs(os.path.join(d, "blobs"))
    dg = oci_make.make({"layers": LAYERS[:1], "config": CONFIG, "platforms": ["linux/arm64", "linux/amd64"]},
                       os.path.join(d, "img"), "layout")
    manifest(d, "img", "  platform: linux/s390x\n")
    r = build(d)
    err = r.stderr.decode()
    check(r.returncode == 1 and "linux/s390x" in err and "linux/arm64, linux/amd64" in err and err.count("\n") == 1,
          "a platform the index lacks: exit 1, one line listing what it has (%s)" % err.strip())
    manifest(d, "img", "  platform: linux/arm64\n  entrypoint: [/bin/app]\n  env: []\n")
    r = build(d)
    js = json.loads(cpio_read.tree([x for t, x in sections(os.path.join(d, "app.eif")) if t == 3][1])
                    ["rootfs/etc/enclave/manifest.json"]["data"]) if r.returncode == 0 else {}
    check(r.returncode == 0 and js["nitro"]["image_digest"] == dg["linux/arm64"] and js["nitro"]["env"] == [] and
          js["nitro"]["entrypoint"] == ["/bin/app"], "linux/arm64 picked; the manifest's entrypoint and env win")
    manifest(d, "img", "  platform: linux/amd64\n  image_digest: %s\n" % dg["linux/arm64"])
    r = build(d)
    check(r.returncode == 3 and "pins" in r.stderr.decode(), "an image other than the pinned digest: exit 3")
    # A changed blob: the digest check names it.
    blob = os.path.join(d, "img", "blobs", "sha256", dg["linux/amd64"][7:])
    data = json.load(open(blob))
    open(blob, "w").write(json.dumps(data) + " ")
    manifest(d, "img", "  platform: linux/amd64\n")
    r = build(d)
    check(r.returncode == 3 and "image manifest" in r.stderr.decode(), "an altered manifest blob: exit 3 (%s)" %
          r.stderr.decode().strip()[:160])


def hostile(tmp, name, entries, expect):
    d = os.path.join(tmp, "hostile-" + name)
    blobs(os.path.join(d, "blobs"))
    oci_make.make({"layers": [[["file", "ok", "0644", "ok"]], entries], "config": CONFIG}, os.path.join(d, "img"))
    manifest(d, "img")
    r = build(d)
    err = r.stderr.decode()
    ok = r.returncode == 1 and err.count("\n") == 1 and "layer 2" in err and re.search(expect, err)
    check(bool(ok) and not os.path.exists(os.path.join(d, "app.eif")),
          "hostile layer (%s): exit 1, one line naming layer and entry, no output (%s)" % (name, err.strip()[:200]))


def raw(name, kind=tarfile.REGTYPE, size=0, link="", data=b""):
    t = tarfile.TarInfo(name)
    t.type, t.size, t.linkname = kind, size, link
    return ["raw", t, data]


def case_hostile(tmp):
    hostile(tmp, "dotdot", [raw("a/../../etc/passwd", size=1, data=b"x")], r"entry 'a/\.\./\.\./etc/passwd'.*'\.\.'")
    hostile(tmp, "symlink-escape", [raw("l", tarfile.SYMTYPE, link="../../../etc/shadow")], r"entry 'l'.*leaves")
    hostile(tmp, "device", [raw("dev/mem", tarfile.CHRTYPE)], r"entry 'dev/mem'.*device node")
    hostile(tmp, "fifo", [raw("p", tarfile.FIFOTYPE)], r"entry 'p'.*FIFO")
    hostile(tmp, "whiteout-dotdot", [raw("a/.wh..", size=0)], r"whiteout")
    hostile(tmp, "hardlink-out", [raw("h", tarfile.LNKTYPE, link="../../etc/shadow")], r"entry 'h'.*hard link")
    hostile(tmp, "hardlink-missing", [raw("h", tarfile.LNKTYPE, link="nothere")], r"entry 'h'.*hard link")
    hostile(tmp, "through-symlink", [raw("s", tarfile.SYMTYPE, link="/etc"), raw("s/x", size=1, data=b"x")],
            r"entry 's/x'.*not a folder")
    # A size above the cpio limit, without the data (refused before reading it).
    big = raw("huge", size=5 << 30)
    hostile(tmp, "absurd-size", [big], r"entry 'huge'.*bytes \(limit")


def case_altered_layer(tmp):
    """An uncompressed layer is read in place, its digest checked while the ramdisk is written: a byte
    changed in a file's data (same size) is exit 3, one line naming the layer, and no output at all."""
    for fmt in ("layout", "docker-archive"):
        d = os.path.join(tmp, "altered-" + fmt)
        blobs(os.path.join(d, "blobs"))
        data = b"x" * 70000 + b"MARK" + b"y" * 100
        oci_make.make({"layers": [[["file", "ok", "0644", b"ok"]], [["file", "big", "0644", data]]], "config": CONFIG,
                       "compression": "none"}, os.path.join(d, "img"), fmt)
        manifest(d, "img")
        r = build(d)
        check(r.returncode == 0, "%s, uncompressed: built (%s)" % (fmt, r.stderr.decode().strip()[:160]))
        for f in ("app.eif", "app.eimg"):
            if os.path.exists(os.path.join(d, f)):
                os.unlink(os.path.join(d, f))
        files = [os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(d, "img")) for f in fs] \
            if fmt == "layout" else [os.path.join(d, "img")]
        for f in files:
            b = open(f, "rb").read()
            if b"MARK" in b:
                with open(f, "r+b") as w:
                    w.seek(b.index(b"MARK"))
                    w.write(b"MARX")
        r = build(d)
        err = r.stderr.decode()
        left = [f for f in os.listdir(d) if f.startswith(".eimg") or f in ("app.eif", "app.eimg")]
        check(r.returncode == 3 and err.count("\n") == 1 and "'img': layer 2" in err and "digest sha256:" in err and not left,
              "%s, a changed byte in an uncompressed layer: exit 3, one line naming it, no output (%s; left %s)" %
              (fmt, err.strip()[:200], left))


def case_real_blobs(tmp):
    """With nitro-cli's real blobs (EIMG_NITRO_BLOBS=DIR, kernel included): PCR1 must equal the one genuine
    attestation documents of 2022-2023 report.  Not run by default: the kernel is too large to keep here."""
    bdir = os.environ.get("EIMG_NITRO_BLOBS")
    readme = os.path.join(vectors, "real", "README.md")
    if not bdir or not os.path.exists(os.path.join(bdir, "bzImage")) or not os.path.exists(readme):
        print("skip real blobs: set EIMG_NITRO_BLOBS to aws-nitro-enclaves-cli v1.2.x blobs/x86_64 with its bzImage")
        return
    want = re.search(r"PCR1 ([0-9a-f]{96})", open(readme).read()).group(1)
    d = os.path.join(tmp, "real")
    os.makedirs(d)
    os.symlink(os.path.abspath(bdir), os.path.join(d, "blobs"))
    oci_make.make({"layers": LAYERS, "config": CONFIG}, os.path.join(d, "img"))
    manifest(d, "img")
    r = build(d)
    got = eif_ref.describe(os.path.join(d, "app.eif"))["PCR1"] if r.returncode == 0 else r.stderr.decode()
    check(got == want, "real nitro-cli blobs: PCR1 %s equals the genuine documents' %s" % (got, want))


def main():
    if not os.path.exists(os.path.join(bindir, "enclave-build")):
        print("skipped: %s/enclave-build not built" % bindir)
        return 77
    if not shutil.which("zstd"):
        print("skipped: zstd not installed (apt-get install zstd)")
        return 77
    tmp = tempfile.mkdtemp(prefix="eimg-oci-")
    try:
        case_formats(tmp)
        case_platform_and_pin(tmp)
        case_hostile(tmp)
        case_altered_layer(tmp)
        case_real_blobs(tmp)
    finally:
        shutil.rmtree(tmp)
    print("%d passed, %d failed" % (len(passes), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
