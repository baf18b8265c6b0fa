#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Nitro end to end, checked by the independent reference eif_ref.py
(hashlib/zlib/tarfile only): enclave-build writes the EIF of examples/nitro,
the reference rebuilds both ramdisks and the whole EIF from the inputs and
must get the same bytes and PCRs; builds are reproducible; enclave-measure
agrees, reports mismatching PCRs with exit 3, and rejects damaged files with
exit 1; the published single-ramdisk PCR2 holds.  Exit 77 = skipped."""
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

top = os.environ.get("EIMG_TOP") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(top, "test", "py"))
import eif_ref  # noqa: E402
import supervisor_env  # noqa: E402

bindir = os.environ.get("EIMG_BIN") or os.path.join(top, os.environ.get("BUILDDIR", "build"), "bin")
EPOCH = "1700000000"
KAT_PCR2 = "21b9efbc184807662e966d34f390821309eeac6802309798826296bf3e8bec7c10edb30948c90ba67310f7b964fc500a"
failures = []
passes = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    (passes if cond else failures).append(what)


def tool(name, *args, env=None, cwd=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([os.path.join(bindir, name)] + list(args), capture_output=True, env=e, cwd=cwd)


def app_entries(app, canon, entrypoint, supervisor=None):
    """The application ramdisk as man/enclave-nitro.7 describes it: with a
    network policy, the supervisor is placed and cmd starts it."""
    if supervisor is not None:
        entrypoint = ["/enclaveimg/eimg-supervisor", "--manifest", "/etc/enclave/manifest.json"]
    ents = [("cmd", "file", 0o644, "".join(a + "\n" for a in entrypoint).encode()),
            ("env", "file", 0o644, b""), ("rootfs", "dir", 0o755, b"")]
    if supervisor is not None:
        ents += [("rootfs/enclaveimg", "dir", 0o755, b""),
                 ("rootfs/enclaveimg/eimg-supervisor", "file", 0o755, supervisor)]
    for root, dirs, files in os.walk(app):
        rel = os.path.relpath(root, app)
        base = "rootfs" if rel == "." else "rootfs/" + rel
        for d in dirs:
            p = os.path.join(root, d)
            if os.path.islink(p):
                ents.append((base + "/" + d, "link", 0o777, os.readlink(p).encode()))
            else:
                ents.append((base + "/" + d, "dir", 0o755, b""))
        for f in files:
            p = os.path.join(root, f)
            if os.path.islink(p):
                ents.append((base + "/" + f, "link", 0o777, os.readlink(p).encode()))
            else:
                mode = 0o755 if os.stat(p).st_mode & 0o111 else 0o644
                ents.append((base + "/" + f, "file", mode, open(p, "rb").read()))
    ents.append(("rootfs/etc/enclave/manifest.json", "file", 0o644, canon))
    have = {e[0] for e in ents}
    ents += [("rootfs/" + d, "dir", 0o755, b"") for d in ("dev", "proc", "run", "sys", "tmp") if "rootfs/" + d not in have]
    return ents


def main():
    if not os.path.exists(os.path.join(bindir, "enclave-build")):
        print("skipped: tools not built in " + bindir)
        return 77
    tmp = tempfile.mkdtemp(prefix="eimg-nitro-py-")
    try:
        return run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp):
    ex = os.path.join(top, "examples", "nitro")
    work = os.path.join(tmp, "ex")
    # examples/nitro declares ingress and egress: enclave-build places the
    # supervisor (the build tree's, else a stand-in ELF; its bytes are opaque here).
    sup = supervisor_env.ensure(bindir)
    sup_bytes = open(sup, "rb").read()
    shutil.copytree(os.path.join(ex, "app"), os.path.join(work, "app"), symlinks=True)
    shutil.copy(os.path.join(ex, "enclave.yaml"), work)
    subprocess.run([os.path.join(ex, "make-placeholders.sh"), os.path.join(work, "blobs")], check=True)

    r = tool("enclave-build", "-f", "enclave.yaml", "-o", "a.eimg", "--eif", "a.eif", env={"SOURCE_DATE_EPOCH": EPOCH}, cwd=work)
    if r.returncode != 0 and b"not built yet" in r.stderr:
        print("skipped: enclave-build has no Nitro support yet")
        return 77
    check(r.returncode == 0, "enclave-build of examples/nitro succeeds: " + r.stderr.decode().strip())
    if r.returncode:
        return 1
    r2 = tool("enclave-build", "-f", "enclave.yaml", "-o", "b.eimg", "--eif", "b.eif", env={"SOURCE_DATE_EPOCH": EPOCH}, cwd=work)
    eif = open(os.path.join(work, "a.eif"), "rb").read()
    check(r2.returncode == 0 and eif == open(os.path.join(work, "b.eif"), "rb").read(), "two builds give identical EIF bytes")
    check(open(os.path.join(work, "a.eimg"), "rb").read() == open(os.path.join(work, "b.eimg"), "rb").read(),
          "two builds give identical .eimg bytes")
    os.utime(os.path.join(work, "app", "bin", "hello"), (1, 1))
    os.chmod(os.path.join(work, "app", "share", "hello", "greeting.txt"), 0o600)
    r3 = tool("enclave-build", "-f", "enclave.yaml", "-o", "c.eimg", "--eif", "c.eif", env={"SOURCE_DATE_EPOCH": EPOCH, "TZ": "Asia/Tokyo", "LC_ALL": "C"}, cwd=work)
    check(r3.returncode == 0 and eif == open(os.path.join(work, "c.eif"), "rb").read(),
          "host mtimes, modes (other than execute), time zone do not change the EIF")

    # The reference reads the EIF: same PCRs as enclave-measure.
    ref = eif_ref.describe(os.path.join(work, "a.eif"))
    check(ref["crc_ok"], "reference: CRC of the built EIF is correct")
    check([s[0] for s in ref["sections"]] == ["kernel", "cmdline", "metadata", "ramdisk", "ramdisk"],
          "sections in the reference order")
    m = tool("enclave-measure", "--json", "a.eif", cwd=work)
    check(m.returncode == 0, "enclave-measure a.eif exits 0")
    js = json.loads(m.stdout)
    for p in ("PCR0", "PCR1", "PCR2"):
        check(js["measurements"][p.lower()] == ref[p] == js["nitro_cli"]["Measurements"][p],
              "enclave-measure %s equals the reference (and so does its nitro-cli alias)" % p)
    check(js["check_crc"] is True and js["is_signed"] is False, "check_crc true, is_signed false")
    check(js["image_name"] == "hello-nitro" and js["metadata"]["build_time"] == "2023-11-14T22:13:20Z",
          "metadata: image_name and build_time from SOURCE_DATE_EPOCH")
    check(js["nitro_cli"]["ImageName"] == "hello-nitro" and js["nitro_cli"]["Metadata"]["BuildTime"] == "2023-11-14T22:13:20Z"
          and js["nitro_cli"]["CheckCRC"] is True, "nitro_cli: describe-eif's names and shape")
    mi = tool("enclave-measure", "--json", "a.eimg", cwd=work)
    check(mi.returncode == 0 and json.loads(mi.stdout)["measurements"]["pcr2"] == ref["PCR2"],
          "enclave-measure a.eimg gives the same PCR2 and accepts the manifest copy")

    # The reference rebuilds both ramdisks and the whole EIF: the same bytes.
    with tarfile.open(os.path.join(work, "a.eimg")) as t:
        canon = t.extractfile("manifest.json").read()
    blobs = os.path.join(work, "blobs")
    rd0 = eif_ref.newc([("init", "file", 0o755, open(os.path.join(blobs, "init"), "rb").read())] +
                       [(d, "dir", 0o755, b"") for d in ("dev", "proc", "run", "sys", "tmp", "var")], int(EPOCH))
    rd1 = eif_ref.newc(app_entries(os.path.join(work, "app"), canon, ["/bin/hello", "--port", "8000"], sup_bytes), int(EPOCH))
    meta = json.dumps({"BuildMetadata": {"BuildTime": "2023-11-14T22:13:20Z", "BuildTool": "enclave-build",
                                         "BuildToolVersion": js["metadata"]["build_tool_version"],
                                         "KernelVersion": "6.1.0", "OperatingSystem": "Linux"},
                       "CustomMetadata": {}, "DockerInfo": {}, "ImageName": "hello-nitro", "ImageVersion": "1.0"},
                      sort_keys=True, separators=(",", ":")).encode()
    cmdline = ("reboot=k panic=30 pci=off nomodules console=ttyS0 random.trust_cpu=on "
               "virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=4K@0xd0001000:6").encode()
    out = os.path.join(tmp, "ref.eif")
    eif_ref.write_eif(out, [(1, open(os.path.join(blobs, "bzImage"), "rb").read()), (2, cmdline), (5, meta),
                            (3, rd0), (3, rd1)], 0, 512 << 20, 2)
    refbytes = open(out, "rb").read()
    check(refbytes == eif, "the reference builds the same EIF bytes from the same inputs (%d bytes)" % len(eif))
    check(b"rootfs/etc/enclave/manifest.json" in rd1 and b"\"egress\"" in canon, "the manifest with its policy is in ramdisk 1")
    check(json.loads(canon)["nitro"].get("supervisor_sha384") == hashlib.sha384(sup_bytes).hexdigest(),
          "the canonical manifest records the supervisor's SHA-384")

    # Expected PCRs: exit 3 naming the PCR with both values.
    wrong = "0" * 96
    e = tool("enclave-measure", "--expect", "PCR2:" + wrong + " PCR0:" + ref["PCR0"], "a.eif", cwd=work)
    err = e.stderr.decode()
    check(e.returncode == 3 and "PCR2" in err and wrong in err and ref["PCR2"] in err and "PCR0 differs" not in err,
          "--expect with a wrong PCR2: exit 3 naming PCR2, expected and actual")
    e = tool("enclave-measure", "--expect", "PCR0:" + ref["PCR0"] + " PCR1:" + ref["PCR1"] + " PCR2:" + ref["PCR2"], "a.eif", cwd=work)
    check(e.returncode == 0, "--expect with the right PCRs: exit 0")

    # Damaged files: one-line errors, exit 1.
    for name, data in (("trunc.eif", eif[:len(eif) // 2]), ("magic.eif", b".eiX" + eif[4:]),
                       ("crc.eif", eif[:-1] + bytes([eif[-1] ^ 1]))):
        open(os.path.join(tmp, name), "wb").write(data)
        d = tool("enclave-measure", os.path.join(tmp, name))
        lines = [x for x in d.stderr.decode().splitlines() if x]
        check(d.returncode == 1 and len(lines) == 1, "%s: exit 1 with one line: %s" % (name, lines))

    # Published known answer: a single ramdisk gives PCR2 = extend(SHA-384(empty)) and PCR0 == PCR1.
    kat = os.path.join(tmp, "kat.eif")
    eif_ref.write_eif(kat, [(1, b"K" * 1000), (2, b"console=ttyS0"), (3, b"070701" + bytes(100))])
    check(eif_ref.extend(hashlib.sha384(b"").digest()).hex() == KAT_PCR2, "reference: published PCR2 of an empty PCR2 input")
    k = tool("enclave-measure", "--json", kat)
    kj = json.loads(k.stdout) if k.returncode == 0 else {"measurements": {}}
    check(kj["measurements"].get("pcr2") == KAT_PCR2 and kj["measurements"].get("pcr0") == kj["measurements"].get("pcr1"),
          "enclave-measure: single-ramdisk EIF has the published PCR2 and PCR0 == PCR1")

    print("%d passed, %d failed" % (len(passes), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
