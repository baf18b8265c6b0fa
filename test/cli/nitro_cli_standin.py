#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A stand-in for `nitro-cli` (and `docker save`) on a machine without them,
for test_nitro_compare_pcrs.sh: it answers the commands scripts/
nitro-compare-pcrs runs, in nitro-cli's shapes, computed independently of
the C library (test/py/eif_ref.py: the EIF writer and reader written from
the spec; the boot-strap ramdisk from man/enclave-nitro.7's BOOT BLOBS).

  nitro-cli build-enclave --docker-uri IMG --output-file OUT
      an EIF as nitro-cli lays it out from the blobs in $NITRO_CLI_BLOBS:
      kernel, command line (the cmdline file without surrounding white
      space), metadata, the boot-strap ramdisk (linuxkit + gocpio), and an
      application ramdisk of its own; prints {"Measurements": ...}.
      STANDIN_CMDLINE_EXTRA is appended to the command line (a different
      PCR1, as another nitro-cli release would give).
  nitro-cli describe-eif --eif-path EIF
      describe-eif's JSON: EifVersion, Measurements (HashAlgorithm, PCR0,
      PCR1, PCR2, PCR8 when signed), IsSigned, CheckCRC, ...
      STANDIN_LIE_PCR2=1: PCR2 reported with its last digit changed.
  docker save IMG -o OUT
      a docker-archive of the container image described by $STANDIN_IMAGE_SPEC
      (test/py/oci_make.py's spec).
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["EIMG_TOP"], "test", "py"))
import eif_ref  # noqa: E402
import oci_make  # noqa: E402


def gocpio(entries):
    """linuxkit's tar -> newc (github.com/surma/gocpio): inodes from 721,
    the trailer counted; dev 3:1; uid, gid, mtime 0; padded to 512."""
    out, ino = bytearray(), 721

    def rec(mode, nlink, name, data):
        nonlocal ino
        nb = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, nlink, 0, len(data), 3, 1, 0, 0, len(nb), 0)
        out.extend(b"070701" + "".join("%08x" % v for v in fields).encode() + nb)
        while len(out) % 4:
            out.append(0)
        out.extend(data)
        while len(out) % 4:
            out.append(0)
        ino += 1

    for name, mode, data in entries:
        rec(mode, 2 if mode & 0o040000 else 1, name, data)
    rec(0, 1, "TRAILER!!!", b"")
    while len(out) % 512:
        out.append(0)
    return bytes(out)


def arg(argv, name):
    return argv[argv.index(name) + 1]


def build_enclave(argv):
    blobs = os.environ.get("NITRO_CLI_BLOBS", "/usr/share/nitro_enclaves/blobs")
    uri, out = arg(argv, "--docker-uri"), arg(argv, "--output-file")
    read = lambda n: open(os.path.join(blobs, n), "rb").read()
    cmdline = read("cmdline").strip() + os.environ.get("STANDIN_CMDLINE_EXTRA", "").encode()
    boot = gocpio([("dev", 0o040755, b""), ("init", 0o100755, read("init")), ("nsm.ko", 0o100755, read("nsm.ko"))])
    app = eif_ref.newc([("docker-uri", "file", 0o644, uri.encode())], 0)
    meta = json.dumps({"img_name": uri, "img_version": "latest", "build_info": {"build_tool": "nitro-cli stand-in"},
                       "docker_info": {}}).encode()
    eif_ref.write_eif(out, [(1, os.path.join(blobs, "bzImage")), (2, cmdline), (5, meta), (3, boot), (3, app)])
    d = eif_ref.describe(out)
    print("Start building the Enclave Image...", file=sys.stderr)
    print(json.dumps({"Measurements": measurements(d)}, indent=2))


def measurements(d):
    m = {"HashAlgorithm": "Sha384 { ... }"}
    for p in ("PCR0", "PCR1", "PCR2", "PCR8"):
        if p in d:
            m[p] = d[p]
    if os.environ.get("STANDIN_LIE_PCR2"):
        m["PCR2"] = m["PCR2"][:-1] + ("0" if m["PCR2"][-1] != "0" else "1")
    return m


def describe_eif(argv):
    d = eif_ref.describe(arg(argv, "--eif-path"))
    meta = d.get("metadata", {})
    out = {"EifVersion": d["version"], "Measurements": measurements(d), "IsSigned": "PCR8" in d,
           "CheckCRC": d["crc_ok"], "ImageName": meta.get("img_name"), "ImageVersion": meta.get("img_version"),
           "Metadata": meta}
    print(json.dumps(out, indent=2))


def docker(argv):
    if len(argv) < 4 or argv[0] != "save" or argv[2] != "-o":
        print("docker stand-in: only 'docker save IMAGE -o FILE'", file=sys.stderr)
        return 125
    oci_make.make(json.load(open(os.environ["STANDIN_IMAGE_SPEC"])), argv[3], "docker-archive")
    return 0


def main():
    prog, argv = os.path.basename(sys.argv[1]), sys.argv[2:]
    if prog == "docker":
        return docker(argv)
    if argv[:1] == ["build-enclave"]:
        build_enclave(argv)
        return 0
    if argv[:1] == ["describe-eif"]:
        describe_eif(argv)
        return 0
    print("nitro-cli stand-in: unknown command %s" % argv[:1], file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
