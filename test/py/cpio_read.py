#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""An independent reader of cpio "newc" archives, written from the format
(cpio(5), the kernel's Documentation/driver-api/early-userspace/buffer-format.rst),
sharing no code with the library: returns every record with its fields."""
import sys


def read(buf):
    """List of dicts: name, ino, mode, uid, gid, nlink, mtime, size, devmajor,
    devminor, rdevmajor, rdevminor, data (bytes), offset (of the header)."""
    out, off = [], 0
    fields = ("ino", "mode", "uid", "gid", "nlink", "mtime", "size", "devmajor", "devminor",
              "rdevmajor", "rdevminor", "namesize", "check")
    while True:
        if buf[off:off + 6] != b"070701":
            raise ValueError("bad magic at %d" % off)
        rec = {"offset": off}
        for i, f in enumerate(fields):
            rec[f] = int(buf[off + 6 + 8 * i: off + 14 + 8 * i], 16)
        p = off + 110
        name = buf[p:p + rec["namesize"]]
        if not name.endswith(b"\0"):
            raise ValueError("name not NUL-terminated at %d" % off)
        rec["name"] = name[:-1].decode()
        p = (p + rec["namesize"] + 3) & ~3
        rec["data"] = buf[p:p + rec["size"]]
        off = (p + rec["size"] + 3) & ~3
        if rec["name"] == "TRAILER!!!":
            rec["end"] = off
            out.append(rec)
            return out
        out.append(rec)


def tree(buf):
    """name -> record, trailer left out."""
    return {r["name"]: r for r in read(buf) if r["name"] != "TRAILER!!!"}


def eif_ramdisks(eif):
    """The ramdisk sections of an EIF (bytes), in order: the section table
    at offset 28 (big-endian u64 offsets), each section a header of type
    (u16), flags (u16) and size (u64), type 3 being a ramdisk."""
    import struct
    out = []
    for i in range(struct.unpack_from(">H", eif, 26)[0]):
        off = struct.unpack_from(">Q", eif, 28 + 8 * i)[0]
        kind, _, size = struct.unpack_from(">HHQ", eif, off)
        if kind == 3:
            out.append(eif[off + 12:off + 12 + size])
    return out


if __name__ == "__main__":
    for r in read(open(sys.argv[1], "rb").read()):
        print("%06o %5d %2d %s %d" % (r["mode"], r["ino"], r["nlink"], r["name"], r["size"]))
