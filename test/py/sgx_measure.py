#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Independent MRENCLAVE calculator for enclave images (.eimg) and SGXS files.

Written from man/enclave-measurement.7 (layout version 1) alone, with the
Python standard library only (tarfile, json, hashlib, struct): it shares no
code with the C library, so agreement between the two is evidence that both
follow the specification.

usage: sgx_measure.py [--json] [--sgxs-out FILE] IMAGE.eimg
       sgx_measure.py [--json] --sgxs FILE.sgxs
Prints MRENCLAVE in hex (or a JSON object with --json).  Exit 0, or 1 with a
message on bad input.
"""
import hashlib
import json
import struct
import sys
import tarfile

PAGE = 4096
LAYOUT_VERSION = 1

SEC_R, SEC_W, SEC_X = 0x1, 0x2, 0x4
SEC_TCS, SEC_REG = 0x100, 0x200

MAX_ELF_IMAGE = 1 << 30
MAX_SEGMENTS = 64
MAX_ENCLAVE = 64 << 30
MAX_THREADS = 1024


class MeasureError(Exception):
    pass


def page_up(x):
    return -(-x // PAGE) * PAGE


# ----------------------------------------------------------------- the ELF

PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_TLS = 1, 2, 3, 7
PF_X, PF_W, PF_R = 1, 2, 4


def read_elf(data, allow_wx=False):
    """Returns (entry, segments); a segment is (first page offset, bytes of
    its whole page range, SECINFO permission bits)."""
    if len(data) < 64 or data[:4] != b"\x7fELF":
        raise MeasureError("enclave.elf: not an ELF file")
    if data[4] != 2 or data[5] != 1 or data[6] != 1:
        raise MeasureError("enclave.elf: not a 64-bit little-endian ELF version 1")
    (e_type, e_machine, _ver, e_entry, e_phoff, _shoff, _flags, _ehsize,
     e_phentsize, e_phnum) = struct.unpack_from("<HHIQQQIHHH", data, 16)
    if e_machine != 62:
        raise MeasureError("enclave.elf: machine is not x86-64")
    if e_type != 3:
        raise MeasureError("enclave.elf: not ET_DYN (position-independent)")
    if e_phentsize != 56 or e_phnum == 0 or e_phoff + 56 * e_phnum > len(data):
        raise MeasureError("enclave.elf: bad program header table")
    segs = []
    entry_ok = False
    prev_end = None
    for i in range(e_phnum):
        (p_type, p_flags, p_offset, p_vaddr, _paddr, p_filesz, p_memsz,
         _align) = struct.unpack_from("<IIQQQQQQ", data, e_phoff + 56 * i)
        if p_type == PT_INTERP:
            raise MeasureError("enclave.elf: has PT_INTERP")
        if p_type == PT_TLS:
            raise MeasureError("enclave.elf: has PT_TLS")
        if p_type != PT_LOAD:
            continue
        if p_memsz == 0 or p_filesz > p_memsz or p_offset + p_filesz > len(data):
            raise MeasureError("enclave.elf: segment %d: bad sizes" % i)
        if p_vaddr % PAGE != p_offset % PAGE:
            raise MeasureError("enclave.elf: segment %d: misaligned" % i)
        if p_vaddr + p_memsz > MAX_ELF_IMAGE:
            raise MeasureError("enclave.elf: segment %d: beyond 1 GiB" % i)
        first = p_vaddr - p_vaddr % PAGE
        end = page_up(p_vaddr + p_memsz)
        if prev_end is not None and first < prev_end:
            raise MeasureError("enclave.elf: segment %d overlaps or shares a page" % i)
        prev_end = end
        perm = ((SEC_R if p_flags & PF_R else 0) | (SEC_W if p_flags & PF_W else 0)
                | (SEC_X if p_flags & PF_X else 0))
        if perm & SEC_W and not perm & SEC_R:
            raise MeasureError("enclave.elf: segment %d: W without R" % i)
        if perm & SEC_W and perm & SEC_X and not allow_wx:
            raise MeasureError("enclave.elf: segment %d: W+X" % i)
        content = bytearray(end - first)
        at = p_vaddr - first
        content[at:at + p_filesz] = data[p_offset:p_offset + p_filesz]
        segs.append((first, bytes(content), perm))
        if perm & SEC_X and p_vaddr <= e_entry < p_vaddr + p_memsz:
            entry_ok = True
    if not segs or len(segs) > MAX_SEGMENTS:
        raise MeasureError("enclave.elf: needs 1 to 64 PT_LOAD segments")
    if not entry_ok:
        raise MeasureError("enclave.elf: entry point not in an executable segment")
    return e_entry, segs


def canonical_elf(data):
    """The canonical form of an ELF (enclave-measurement(7), "The stored
    ELF"): ELF header, PT_LOAD program headers, the loaded bytes; nothing
    else.  data must already be a valid enclave ELF (read_elf)."""
    e_entry, e_phoff, e_phnum = struct.unpack_from("<Q", data, 24)[0], \
        struct.unpack_from("<Q", data, 32)[0], struct.unpack_from("<H", data, 56)[0]
    loads = []
    for i in range(e_phnum):
        ph = struct.unpack_from("<IIQQQQQQ", data, e_phoff + 56 * i)
        if ph[0] == PT_LOAD:
            loads.append(ph)
    pos = 64 + 56 * len(loads)
    placed = []
    for (_t, flags, off, vaddr, _pa, filesz, memsz, _al) in loads:
        at = pos + ((vaddr % PAGE) - pos) % PAGE
        body = data[off:off + filesz].rstrip(b"\0")  # trailing zeros load as the zero fill does
        placed.append((at, body))
        pos = at + len(body)
    out = bytearray(pos)
    out[0:16] = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    out[16:64] = struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, e_entry, 64, 0, 0, 64, 56, len(loads), 0, 0, 0)
    for i, (_t, flags, _off, vaddr, _pa, filesz, memsz, _al) in enumerate(loads):
        at = placed[i][0]
        body = placed[i][1]
        struct.pack_into("<IIQQQQQQ", out, 64 + 56 * i, PT_LOAD, flags & (PF_R | PF_W | PF_X), at, vaddr, vaddr,
                         len(body), page_up(vaddr + memsz) - vaddr, PAGE)
        out[at:at + len(body)] = body
    return bytes(out)


# ------------------------------------------------------------- info blob

def pad_item(b):
    """An item, one zero byte, zeros up to a multiple of 8."""
    n = (len(b) + 8) & ~7
    return b + bytes(n - len(b))


def info_blob(mode, manifest, files, keys):
    """files/keys: lists of (name bytes, data bytes), already in bytewise order."""
    entries = files + keys
    base = 64 + 32 * len(entries)
    items = bytearray()
    table = bytearray()

    def place(b):
        off = base + len(items)
        items.extend(pad_item(b))
        return off

    moff = place(manifest)
    for name, data in entries:
        noff = place(name)
        doff = place(data)
        table += struct.pack("<QQQQ", noff, len(name), doff, len(data))
    length = base + len(items)
    header = b"EIMGINFO" + struct.pack("<IIQQQIIQQ", LAYOUT_VERSION, mode, length, moff,
                                       len(manifest), len(files), len(keys), 64, 0)
    assert len(header) == 64
    return header + bytes(table) + bytes(items)


# ---------------------------------------------------------------- layout

# Signing parameters: in manifest.json, but not in the enclave's measured copy
# (they belong to the SIGSTRUCT, as on hardware DEBUG/ISVSVN are not in MRENCLAVE).
SIGNING_KEYS = ("product_id", "security_version", "debug", "xfrm", "xfrm_mask", "misc_select",
                "misc_mask", "kss", "isv_family_id", "isv_ext_product_id")


def measured_manifest(manifest_bytes):
    """The bytes placed in the enclave: manifest.json without the signing keys,
    in the same canonical JSON form (sorted keys, two-space indent, newline)."""
    man = json.loads(manifest_bytes)
    for k in SIGNING_KEYS:
        man["sgx"].pop(k, None)
    return (json.dumps(man, indent=2, sort_keys=True, ensure_ascii=False, separators=(",", ": ")) + "\n").encode()


def layout(elf_bytes, manifest_bytes, files, keys):
    """Applies layout version 1.  Returns a dict with size, ssa_frame_size and
    regions: a list of (offset, size, secinfo, content bytes (zero-extended),
    kind)."""
    man = json.loads(manifest_bytes)
    sgx = man["sgx"]
    mode = {"hardware": 1, "simulation": 2}[man["mode"]]
    heap, stack = int(sgx["heap_size"]), int(sgx["stack_size"])
    threads, nssa, ssasz = int(sgx["threads"]), int(sgx["ssa_frames"]), int(sgx["ssa_frame_size"])
    if not (1 <= threads <= MAX_THREADS) or nssa < 1 or ssasz < 1:
        raise MeasureError("manifest.json: bad threads or SSA settings")
    if heap % PAGE or stack % PAGE or stack == 0:
        raise MeasureError("manifest.json: heap_size/stack_size not multiples of 4096")
    entry, segs = read_elf(elf_bytes, bool(sgx.get("allow_write_exec", False)))

    regions = []
    for first, content, perm in segs:
        regions.append((first, len(content), SEC_REG | perm, content, "elf"))
    cur = segs[-1][0] + len(segs[-1][1])
    info_off = cur
    blob = info_blob(mode, measured_manifest(manifest_bytes), files, keys)
    regions.append((cur, page_up(len(blob)), SEC_REG | SEC_R, blob, "info"))
    cur += page_up(len(blob)) + PAGE
    heap_off = cur
    if heap:
        regions.append((cur, heap, SEC_REG | SEC_R | SEC_W, b"", "heap"))
    cur += heap
    ssa_bytes = nssa * ssasz * PAGE
    thread_pages = []
    for t in range(threads):
        stack_off = cur + PAGE
        tcs = stack_off + stack
        tls = tcs + PAGE
        ssa = tls + PAGE
        cur = ssa + ssa_bytes
        thread_pages.append((t, stack_off, tcs, tls, ssa))
    size = 8192
    while size < cur:
        size *= 2
    if size > MAX_ENCLAVE:
        raise MeasureError("enclave larger than 64 GiB")
    rw = SEC_REG | SEC_R | SEC_W
    for t, stack_off, tcs, tls, ssa in thread_pages:
        tcs_page = struct.pack("<QQQIIQQQQII", 0, 0, ssa, 0, nssa, entry, 0, tls, tls, 0xfff, 0xfff)
        tls_page = struct.pack("<11Q", tls, tcs, stack_off, tcs, ssa, heap_off, heap, info_off,
                               t, threads, size)
        regions.append((stack_off, stack, rw, b"", "stack"))
        regions.append((tcs, PAGE, SEC_TCS, tcs_page, "tcs"))
        regions.append((tls, PAGE, rw, tls_page, "tls"))
        regions.append((ssa, ssa_bytes, rw, b"", "ssa"))
    return {"size": size, "ssa_frame_size": ssasz, "regions": regions, "entry": entry,
            "threads": threads, "heap": heap_off, "info": info_off,
            "tcs": [p[2] for p in thread_pages]}


# ----------------------------------------------------------- measurement

ZERO_CHUNK = bytes(256)


def record_stream(size, ssa_frame_size, pages):
    """Yields the record stream.  pages: iterable of (offset, secinfo,
    content) with content a 4096-byte page, or None for a page that is added
    but not measured."""
    yield b"ECREATE\0" + struct.pack("<IQ", ssa_frame_size, size) + bytes(44)
    for off, secinfo, content in pages:
        yield b"EADD\0\0\0\0" + struct.pack("<QQ", off, secinfo) + bytes(40)
        if content is None:
            continue
        for c in range(16):
            yield b"EEXTEND\0" + struct.pack("<Q", off + 256 * c) + bytes(48)
            yield content[256 * c:256 * c + 256]


def region_pages(regions):
    for off, rsize, secinfo, content, _kind in regions:
        for p in range(0, rsize, PAGE):
            page = content[p:p + PAGE]
            if len(page) < PAGE:
                page = page + bytes(PAGE - len(page))
            yield off + p, secinfo, page


def mrenclave(size, ssa_frame_size, pages, out=None):
    h = hashlib.sha256()
    for rec in record_stream(size, ssa_frame_size, pages):
        h.update(rec)
        if out is not None:
            out.write(rec)
    return h.hexdigest()


def read_image(path):
    """Returns (elf bytes, manifest bytes, files, keys) from an .eimg."""
    files, keys = [], []
    elf = manifest = None
    with tarfile.open(path, "r:") as tar:
        for m in tar.getmembers():
            if not m.isfile():
                continue
            data = tar.extractfile(m).read()
            name = m.name
            if name == "manifest.json":
                manifest = data
            elif name == "enclave.elf":
                elf = data
            elif name.startswith("files/"):
                files.append((name[6:].encode("utf-8", "surrogateescape"), data))
            elif name.startswith("keys/"):
                keys.append((name[5:].encode("utf-8", "surrogateescape"), data))
    if manifest is None or elf is None:
        raise MeasureError("%s: not an SGX enclave image (manifest.json or enclave.elf missing)" % path)
    files.sort()
    keys.sort()
    return elf, manifest, files, keys


def measure_image(path, sgxs_out=None):
    elf, manifest, files, keys = read_image(path)
    lay = layout(elf, manifest, files, keys)
    canon = canonical_elf(elf)
    if canon != elf:
        at = next((i for i in range(min(len(canon), len(elf))) if canon[i] != elf[i]), min(len(canon), len(elf)))
        raise MeasureError("%s: enclave.elf is not in canonical form (first difference at offset %d)" % (path, at))
    out = open(sgxs_out, "wb") if sgxs_out else None
    try:
        md = mrenclave(lay["size"], lay["ssa_frame_size"], region_pages(lay["regions"]), out)
    finally:
        if out:
            out.close()
    npages = sum(r[1] // PAGE for r in lay["regions"])
    regions = [{"offset": off, "pages": rsize // PAGE, "secinfo": sec, "kind": kind}
               for off, rsize, sec, _content, kind in lay["regions"]]
    return {"mrenclave": md, "size": lay["size"], "pages": npages, "threads": lay["threads"],
            "entry": lay["entry"], "layout_version": LAYOUT_VERSION, "regions": regions}


def measure_sgxs(path):
    """Hashes an SGXS file in chunks, counting records (light validation)."""
    h = hashlib.sha256()
    info = {"eadd": 0, "eextend": 0, "tcs": 0}
    with open(path, "rb") as f:
        first = f.read(64)
        if len(first) != 64 or first[:8] != b"ECREATE\0":
            raise MeasureError("%s: does not start with ECREATE" % path)
        info["ssa_frame_size"], info["size"] = struct.unpack_from("<IQ", first, 8)
        h.update(first)
        while True:
            rec = f.read(64)
            if not rec:
                break
            if len(rec) != 64:
                raise MeasureError("%s: truncated record" % path)
            h.update(rec)
            tag = rec[:8]
            if tag == b"EADD\0\0\0\0":
                info["eadd"] += 1
                if (struct.unpack_from("<Q", rec, 16)[0] >> 8) & 0xff == 1:
                    info["tcs"] += 1
            elif tag == b"EEXTEND\0":
                data = f.read(256)
                if len(data) != 256:
                    raise MeasureError("%s: truncated EEXTEND" % path)
                h.update(data)
                info["eextend"] += 1
            else:
                raise MeasureError("%s: unknown record %r" % (path, tag))
    info["mrenclave"] = h.hexdigest()
    return info


def main(argv):
    args = argv[1:]
    as_json = "--json" in args
    args = [a for a in args if a != "--json"]
    sgxs_out = None
    if "--sgxs-out" in args:
        i = args.index("--sgxs-out")
        sgxs_out = args[i + 1]
        del args[i:i + 2]
    if len(args) == 2 and args[0] == "--sgxs":
        fn, path = measure_sgxs, args[1]
    elif len(args) == 1 and not args[0].startswith("-"):
        fn, path = (lambda p: measure_image(p, sgxs_out)), args[0]
    else:
        sys.stderr.write(__doc__)
        return 2
    try:
        res = fn(path)
    except (MeasureError, OSError, tarfile.TarError, ValueError, KeyError) as e:
        sys.stderr.write("sgx_measure.py: %s\n" % e)
        return 1
    print(json.dumps(res, sort_keys=True) if as_json else res["mrenclave"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
