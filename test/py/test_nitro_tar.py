#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A .tar application (nitro.app naming a tar file), checked with independent
readers: Python's tarfile reads the archive, cpio_read.py (written from the
newc format) reads the application ramdisk out of the EIF, and every file,
link and mode must match, in ramdisk order whatever the archive's order, for a
pax archive with long names, a gzip-compressed one (spooled while scanned) and
a GNU archive with a sparse member; each gives the folder's EIF byte for byte.
The file data is read from the archive when the ramdisk is written, not held
in memory: enclave-build's peak RSS is a folder's.  Damaged archives and a
decompression bomb are refused with one line.  Exit 77 = skipped."""
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

top = os.environ.get("EIMG_TOP") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(top, "test", "py"))
import cpio_read  # noqa: E402
import eif_ref  # noqa: E402

bindir = os.environ.get("EIMG_BIN") or os.path.join(top, os.environ.get("BUILDDIR", "build"), "bin")
failures = []
passes = []
YAML = """version: 1
name: tarapp
target: nitro
nitro:
  kernel: bzImage
  cmdline: "console=ttyS0"
  init: init
  app: %s
  entrypoint: ["/bin/start"]
"""


class ZeroReader:
    def __init__(self, n):
        self.n = n

    def read(self, k=-1):
        k = self.n if k < 0 else min(k, self.n)
        self.n -= k
        return bytes(k)


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    (passes if cond else failures).append(what)


def build(work, app, eif):
    """enclave-build's result and its own peak RSS in MiB (wait4: this child only)."""
    with open(os.path.join(work, "enclave.yaml"), "w") as f:
        f.write(YAML % app)
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    p = subprocess.Popen([os.path.join(bindir, "enclave-build"), "-q", "-f", "enclave.yaml", "-o", eif + ".eimg",
                          "--eif", eif], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=work)
    out, err = p.stdout.read(), p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err), ru.ru_maxrss >> 10


def make_app(work):
    app = os.path.join(work, "app")
    for d in ("bin", "data/deep/er", "l" * 60 + "/" + "m" * 60):
        os.makedirs(os.path.join(app, d))
    files = {"bin/start": (b"#!/bin/sh\nexec /bin/model\n", 0o755), "data/empty": (b"", 0o644),
             "data/odd": (b"12345", 0o600), "data/deep/er/big": (os.urandom((5 << 19) + 3), 0o644),
             "l" * 60 + "/" + "m" * 60 + "/" + "n" * 40: (b"long name", 0o644), "zz": (b"last", 0o755)}
    for p, (data, mode) in files.items():
        with open(os.path.join(app, p), "wb") as f:
            f.write(data)
        os.chmod(os.path.join(app, p), mode)
    os.symlink("bin/start", os.path.join(app, "run"))
    with open(os.path.join(app, "data", "sparse"), "wb") as f:  # a hole, data, a hole
        f.seek(1 << 20)
        f.write(b"S" * 5000)
        f.truncate(3 << 20)
    return app


def ramdisk_matches(eif, tar_path, label):
    """The last ramdisk of the EIF holds, under rootfs/, what tarfile reads from the archive."""
    data = open(eif, "rb").read()
    secs = eif_ref.describe(eif)["sections"]
    _kind, off, size = [s for s in secs if s[0] == "ramdisk"][-1]
    tree = cpio_read.tree(data[off + 12:off + 12 + size])
    bad = []
    with tarfile.open(tar_path) as t:
        for m in t.getmembers():
            name = os.path.normpath(m.name)
            if name == ".":
                continue
            rec = tree.get("rootfs/" + name)
            if rec is None:
                bad.append(name + ": missing")
            elif m.isfile():
                mode = 0o100755 if m.mode & 0o111 else 0o100644
                if rec["mode"] != mode or rec["data"] != t.extractfile(m).read():
                    bad.append(name + ": data or mode differ")
            elif m.issym():
                if rec["mode"] != 0o120777 or rec["data"] != m.linkname.encode():
                    bad.append(name + ": link differs")
            elif m.isdir() and rec["mode"] != 0o040755:
                bad.append(name + ": not a 0755 folder")
    names = [r["name"] for r in cpio_read.read(data[off + 12:off + 12 + size])][:-1]
    check(not bad and names == sorted(names, key=lambda s: s.encode()),
          "%s: every member is in the ramdisk with its data and mode, in bytewise path order %s" % (label, bad[:3]))


def main():
    if not os.path.exists(os.path.join(bindir, "enclave-build")):
        print("skipped: tools not built in " + bindir)
        return 77
    with tempfile.TemporaryDirectory(prefix="eimg-nitro-tar-") as tmp:
        return run(tmp)


def run(work):
    with open(os.path.join(work, "bzImage"), "wb") as f:
        f.write(b"K" * 4096)
    with open(os.path.join(work, "init"), "wb") as f:
        f.write(b"#!/bin/sh\n")
    app = make_app(work)
    r, _ = build(work, "app", "folder.eif")
    check(r.returncode == 0, "the folder builds: " + r.stderr.decode().strip())
    folder = open(os.path.join(work, "folder.eif"), "rb").read()

    # pax, members in reverse order (the ramdisk is sorted, the archive is not)
    pax = os.path.join(work, "pax.tar")
    with tarfile.open(pax, "w", format=tarfile.PAX_FORMAT) as t:
        for root, dirs, files in sorted(os.walk(app), reverse=True):
            for n in sorted(dirs + files, reverse=True):
                t.add(os.path.join(root, n), arcname=os.path.relpath(os.path.join(root, n), app), recursive=False)
    # gzip-compressed (libarchive detects it; the name stays .tar)
    gz = os.path.join(work, "gz.tar")
    subprocess.run(["tar", "-C", app, "-czf", gz, "."], check=True)
    # GNU format, the sparse file as a sparse member
    sparse = os.path.join(work, "sparse.tar")
    subprocess.run(["tar", "-C", app, "--format=gnu", "--sparse", "-cf", sparse, "."], check=True)
    with tarfile.open(sparse) as t:
        check(any(m.issparse() for m in t.getmembers()), "GNU tar wrote a sparse member")
    for label, path in (("pax", pax), ("gzip", gz), ("sparse", sparse)):
        r, _ = build(work, os.path.basename(path), label + ".eif")
        check(r.returncode == 0, "%s: builds: %s" % (label, r.stderr.decode().strip()))
        if r.returncode == 0:
            check(open(os.path.join(work, label + ".eif"), "rb").read() == folder,
                  "%s: the EIF is the folder's, byte for byte" % label)
            ramdisk_matches(os.path.join(work, label + ".eif"), path, label)

    # Memory: the data is read back from the archive, not held (the limit of
    # 1 GiB of tar data in memory is gone).
    if not os.environ.get("EIMG_SANITIZE"):
        big = os.path.join(work, "bigapp")
        os.makedirs(os.path.join(big, "bin"))
        shutil.copy(os.path.join(app, "bin", "start"), os.path.join(big, "bin", "start"))
        with open(os.path.join(big, "bin", "model"), "wb") as f:
            for _ in range(96):
                f.write(os.urandom(1 << 20))
        subprocess.run(["tar", "-C", big, "-cf", os.path.join(work, "big.tar"), "."], check=True)
        r1, folder_peak = build(work, "bigapp", "bigf.eif")
        r2, tar_peak = build(work, "big.tar", "big.eif")
        # Both include what the spawning Python held; the folder's build streams.
        check(r1.returncode == 0 and r2.returncode == 0 and tar_peak < folder_peak + 24,
              "a 96 MiB .tar application builds in %d MiB peak RSS, the same folder in %d MiB" % (tar_peak, folder_peak))
        shutil.rmtree(big)
        os.unlink(os.path.join(work, "big.tar"))

    # A decompression bomb: 128 MiB of zeros in a gzip archive of about 128 KiB,
    # above 256 times its size plus 64 MiB (the layers' limit).
    bomb = os.path.join(work, "bomb.tar")
    with tarfile.open(bomb, "w:gz") as t:
        ti = tarfile.TarInfo("zeros")
        ti.size = 128 << 20
        t.addfile(ti, ZeroReader(ti.size))
    r, _ = build(work, "bomb.tar", "bomb.eif")
    check(r.returncode == 1 and b"decompression limit" in r.stderr and not os.path.exists(os.path.join(work, "bomb.eif")),
          "a gzip bomb is refused at the decompression limit: " + r.stderr.decode().strip())

    # Damaged archives: one line, exit 1, no output.
    pd = open(pax, "rb").read()
    for label, data in (("cut", pd[:len(pd) // 2]), ("garbage", b"x" * 2048)):
        with open(os.path.join(work, label + ".tar"), "wb") as f:
            f.write(data)
        r, _ = build(work, label + ".tar", label + ".eif")
        lines = [x for x in r.stderr.decode().splitlines() if x]
        check(r.returncode == 1 and len(lines) == 1 and label + ".tar" in lines[0] and
              not os.path.exists(os.path.join(work, label + ".eif")),
              "%s archive: exit 1, one line naming it, no output: %s" % (label, lines))

    print("%d passed, %d failed" % (len(passes), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
