# SPDX-License-Identifier: Apache-2.0
"""Intel SGX SDK enclaves, written and measured from the formats' own
descriptions, independently of libenclaveimg:

- the metadata layout of intel/linux-sgx common/inc/internal/metadata.h
  (metadata_t, layout_entry_t / layout_group_t, patch_entry_t) and the note of
  sdk/trts/linux/metadata_sec.S (name "sgx_metadata\\0", the descriptor right
  after it: note offset 25, no padding);
- the measurement of the sign tool (psw/urts/loader.cpp with
  sdk/sign_tool/SignTool/enclave_creator_sign.cpp): ECREATE, the PT_LOAD
  segments page by page, then the layout table in order.

build_enclave() writes a small x86-64 ELF with such a note; mrenclave()
measures one.  Nothing here imports or calls the code under test."""
import hashlib
import struct

PAGE = 4096
MAGIC = 0x86A80294635D0E4C
EADD, EEXTEND, EREMOVE, POST_ADD = 1, 2, 4, 8
SI_R, SI_W, SI_X, SI_TCS, SI_REG = 1, 2, 4, 0x100, 0x200
(HEAP_MIN, HEAP_INIT, HEAP_MAX, TCS, TD, SSA, STACK_MAX, STACK_MIN) = range(1, 9)
GUARD, TCS_DYN, THREAD_GROUP = 10, 14, 0x1009
HDR = 1872              # metadata_t up to dirs


def version(major, minor):
    return major << 32 | minor


def ndirs(ver):
    major, minor = ver >> 32, ver & 0xffffffff
    if major > 10:
        return 4
    m = major % 10
    return 2 if m == 2 or (m == 1 and minor < 5) or (m == 3 and minor < 2) else 4


# ---------------------------------------------------------------- writing

def entry(id_, pages, rva, attrs, flags, content_size=0, content_offset=0):
    return struct.pack("<HHIQIIQ", id_, attrs, pages, rva, content_size, content_offset, flags)


def group(entry_count, load_times, step):
    return struct.pack("<HHIQ16x", THREAD_GROUP, entry_count, load_times, step)


def tcs_template(ossa, ofs, ogs, oentry, nssa):
    t = bytearray(72)
    struct.pack_into("<QIIQQQQII", t, 16, ossa, 0, nssa, oentry, 0, ofs, ogs, 0xffffffff, 0xffffffff)
    return bytes(t)


def metadata_blob(ver, enclave_size, rows, patches, extra, sigstruct=bytes(1808)):
    """rows: layout rows (bytes, 32 each); patches: [(dst, src_data)];
    extra: bytes referenced by rows as content (placed first in data, at
    offset data0; rows must be built knowing data0 = HDR + 8*ndirs)."""
    nd = ndirs(ver)
    data0 = HDR + 8 * nd
    data = bytearray(extra)
    patch_tab = b""
    for dst, blob in patches:
        src = data0 + len(data)
        data += blob
        patch_tab += struct.pack("<QII16x", dst, src, len(blob))
    patch_off = data0 + len(data)
    data += patch_tab
    layout_off = data0 + len(data)
    data += b"".join(rows)
    size = data0 + len(data)
    dirs = [(patch_off, len(patch_tab)), (layout_off, 32 * len(rows))] + [(0, 0)] * (nd - 2)
    head = struct.pack("<QQIIIIIIQQQ", MAGIC, ver, size, 1, 1, 2632, 0, 1, enclave_size, 4, 3)
    assert len(head) == 64
    return head + sigstruct + b"".join(struct.pack("<II", *d) for d in dirs) + bytes(data)


def note(desc, padded=False):
    name = b"sgx_metadata\0"
    pad = b"\0" * 3 if padded else b""     # padded: how a generic ELF note writer would do it
    return struct.pack("<III", len(name), len(desc), 1) + name + pad + desc


def elf(segments, note_bytes, entry_point=0x1000, secname=b".note.sgxmeta"):
    """segments: [(vaddr, flags PF_*, data, memsz, file_offset)], the file
    laid out as given; the note and section headers follow."""
    end = max(off + len(d) for _, _, d, _, off in segments)
    body = bytearray(end)
    for _, _, d, _, off in segments:
        body[off:off + len(d)] = d
    phoff = 64
    ph = b""
    for vaddr, flags, d, memsz, off in segments:
        ph += struct.pack("<IIQQQQQQ", 1, flags, off, vaddr, vaddr, len(d), memsz, PAGE)
    note_off = len(body)
    body += note_bytes
    shstr = b"\0" + secname + b"\0.shstrtab\0"
    shstr_off = len(body)
    body += shstr
    while len(body) % 8:
        body += b"\0"
    shoff = len(body)
    sh = bytes(64)
    sh += struct.pack("<IIQQQQIIQQ", 1, 7, 0, 0, note_off, len(note_bytes), 0, 0, 1, 0)
    sh += struct.pack("<IIQQQQIIQQ", len(secname) + 2, 3, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0)
    body += sh
    ehdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    ehdr += struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, entry_point, phoff, shoff, 0, 64, 56, len(segments), 64, 3, 2)
    body[0:64] = ehdr
    body[phoff:phoff + len(ph)] = ph
    return bytes(body)


def build_enclave(ver=version(2, 4), compat=(version(1, 4),), padded=False, sigstruct=bytes(1808), desc_size=0x6000,
                  data_memsz=0x2800):
    """A two-segment enclave (text R+X at 0, data R+W at an unaligned address
    with .bss), heap, one static thread, a thread group of two more, a
    dynamic TCS, one patch.  Returns the ELF bytes."""
    text = bytearray(0x2400)
    for i in range(64, len(text)):
        text[i] = (i * 7 + 3) & 0xff
    data = bytes((i * 13) & 0xff for i in range(0x900))
    segments = [(0, 5, bytes(text), len(text), 0), (0x3a20, 6, data, data_memsz, 0x2a20)]
    image_end = 0x7000
    heap = image_end
    rows_for = []
    t = {}
    # thread block: guard, stack max (filled), stack min, tcs, ssa x2, guard, td
    t["guard0"] = heap + 0x4000
    stack = t["guard0"] + PAGE
    tcs = stack + 3 * PAGE
    ssa = tcs + PAGE
    td = ssa + 3 * PAGE
    block = td + PAGE - t["guard0"]
    size = 1 << 20
    blobs = []
    for v in (ver,) + tuple(compat):
        data0 = HDR + 8 * ndirs(v)
        tmpl = tcs_template(ssa - tcs, td - tcs, td - tcs, 0x1000, 2)
        rows = [
            entry(HEAP_MIN, 2, heap, EADD | EEXTEND, SI_REG | SI_R | SI_W),
            entry(HEAP_INIT, 2, heap + 2 * PAGE, EADD | POST_ADD, SI_REG | SI_R | SI_W),
            entry(GUARD, 1, t["guard0"], 0, 0),
            entry(STACK_MAX, 2, stack, EADD | EEXTEND, SI_REG | SI_R | SI_W, 0xCCCCCCCC),
            entry(STACK_MIN, 1, stack + 2 * PAGE, EADD | EEXTEND, SI_REG | SI_R | SI_W, 0xCCCCCCCC),
            entry(TCS, 1, tcs, EADD | EEXTEND, SI_TCS, len(tmpl), data0),
            entry(SSA, 2, ssa, EADD | EEXTEND, SI_REG | SI_R | SI_W),
            entry(GUARD, 1, ssa + 2 * PAGE, 0, 0),
            entry(TD, 1, td, EADD | EEXTEND, SI_REG | SI_R | SI_W, 0x40, data0 + 72),
            group(7, 2, block),
            entry(TCS_DYN, 1, td + 3 * block + PAGE, POST_ADD, SI_TCS),
        ]
        td_content = bytes(range(0x40))
        blobs.append(metadata_blob(v, size, rows, [(0x2a20 + 0x10, b"PATCHED!")], tmpl + td_content, sigstruct))
        rows_for.append(rows)
    desc = b"".join(blobs)
    desc += bytes(max(0, desc_size - len(desc)))
    return elf(segments, note(desc, padded))


# ---------------------------------------------------------------- reading

def _section(buf, name):
    shoff, = struct.unpack_from("<Q", buf, 40)
    shnum, shstrndx = struct.unpack_from("<HH", buf, 60)
    strtab_off = struct.unpack_from("<Q", buf, shoff + 64 * shstrndx + 24)[0]
    for i in range(shnum):
        nm, _, _, _, off, size = struct.unpack_from("<IIQQQQ", buf, shoff + 64 * i)
        if buf[strtab_off + nm:].split(b"\0", 1)[0] == name:
            return off, size
    raise ValueError("no section " + name.decode())


def blobs(buf):
    off, _ = _section(buf, b".note.sgxmeta")
    namesz, descsz = struct.unpack_from("<II", buf, off)
    d = off + 12 + namesz
    out, pos = [], d
    while pos + 8 <= d + descsz and struct.unpack_from("<Q", buf, pos)[0] == MAGIC:
        size, = struct.unpack_from("<I", buf, pos + 16)
        out.append(buf[pos:pos + size])
        pos += size
    return out


class Measure:
    def __init__(self, size, ssa_frame_size):
        self.h = hashlib.sha256()
        self.h.update(struct.pack("<8sIQ", b"ECREATE\0", ssa_frame_size, size).ljust(64, b"\0"))

    def page(self, off, flags, content, extend=True):
        self.h.update(struct.pack("<8sQQ", b"EADD\0\0\0\0", off, flags).ljust(64, b"\0"))
        if not extend:
            return
        content = content if content is not None else bytes(PAGE)
        for c in range(0, PAGE, 256):
            self.h.update(struct.pack("<8sQ", b"EEXTEND\0", off + c).ljust(64, b"\0"))
            self.h.update(content[c:c + 256])


def _region(m, data, rva, vsize, flags):
    """The sign tool's rule: bytes page by page at their address (a partial
    page zero-filled around them), then zero pages up to vsize."""
    off = 0
    while off < len(data):
        at = rva + off
        inpage = at % PAGE
        n = min(PAGE - inpage, len(data) - off)
        page = bytearray(PAGE)
        page[inpage:inpage + n] = data[off:off + n]
        m.page(at - inpage, flags, bytes(page))
        off += PAGE - inpage
    if vsize > off:
        at = rva + off
        start = at - at % PAGE
        end = start + (vsize - off + at % PAGE + PAGE - 1) // PAGE * PAGE
        for p in range(start, end, PAGE):
            m.page(p, flags, None)


def _round(v):
    return (v + PAGE - 1) // PAGE * PAGE


def mrenclave(buf, which=0):
    """MRENCLAVE of an SDK enclave, metadata blob `which` (no text
    relocations, no ELRANGE).  Metadata 1.3 (SDK 1.5): one more zero page
    after the highest segment (above address 0) when its last page run ends
    past the rounded end of its bytes, before the next segment or at the end."""
    blob = blobs(buf)[which]
    ver, _, _, ssa_fs = struct.unpack_from("<QIII", blob, 8)
    size, = struct.unpack_from("<Q", blob, 40)
    nd = ndirs(ver)
    dirs = [struct.unpack_from("<II", blob, HDR + 8 * i) for i in range(nd)]
    f = bytearray(buf)
    for i in range(dirs[0][1] // 32):
        dst, src, n = struct.unpack_from("<QII", blob, dirs[0][0] + 32 * i)
        f[dst:dst + n] = blob[src:src + n]
    m = Measure(size, ssa_fs)
    phoff, = struct.unpack_from("<Q", f, 32)
    phnum, = struct.unpack_from("<H", f, 56)
    last = None

    def extra(nxt):
        if ver != version(1, 3) or last is None:
            return
        vaddr, memsz, flags = last
        end = _round(vaddr + memsz)
        if end < _round(_round(memsz) + vaddr) and (nxt is None or end < nxt - nxt % PAGE):
            m.page(end, flags, None)
    for i in range(phnum):
        typ, pf, off, vaddr, _, filesz, memsz, _ = struct.unpack_from("<IIQQQQQQ", f, phoff + 56 * i)
        if typ != 1:
            continue
        flags = SI_REG | (SI_R if pf & 4 else 0) | (SI_W if pf & 2 else 0) | (SI_X if pf & 1 else 0)
        extra(vaddr)
        if vaddr > (last[0] if last else 0):
            last = (vaddr, memsz, flags)
        _region(m, bytes(f[off:off + filesz]), vaddr, memsz, flags)
    extra(None)
    rows = [blob[dirs[1][0] + 32 * i:dirs[1][0] + 32 * (i + 1)] for i in range(dirs[1][1] // 32)]
    for i, r in enumerate(rows):
        id_, = struct.unpack_from("<H", r)
        if id_ & 0x1000:
            _, count, times, step = struct.unpack_from("<HHIQ", r)
            for j in range(1, times + 1):
                for rr in rows[i - count:i]:
                    _place(m, blob, rr, step * j)
        else:
            _place(m, blob, r, 0)
    return m.h.hexdigest()


def _place(m, blob, r, delta):
    _, attrs, pages, rva, csize, coff, flags = struct.unpack("<HHIQIIQ", r)
    rva += delta
    if not attrs & EADD:
        return
    if coff and flags != SI_TCS:
        _region(m, blob[coff:coff + csize], rva, pages * PAGE, flags)
        return
    if not coff and not flags:
        return
    content = None
    if coff:
        t = bytearray(PAGE)
        t[:csize] = blob[coff:coff + csize]
        for o in (16, 48, 56):
            struct.pack_into("<Q", t, o, struct.unpack_from("<Q", t, o)[0] + rva)
        content = bytes(t)
    elif csize:
        content = struct.pack("<I", csize) * (PAGE // 4)
    for p in range(pages):
        m.page(rva + p * PAGE, flags, content, attrs & (EADD | EEXTEND) == EADD | EEXTEND)


def with_sigstruct(buf, ss):
    """The enclave with ss in every metadata blob (what sgx_sign catsig does)."""
    off, _ = _section(buf, b".note.sgxmeta")
    namesz, descsz = struct.unpack_from("<II", buf, off)
    out = bytearray(buf)
    pos = off + 12 + namesz
    while struct.unpack_from("<Q", out, pos)[0] == MAGIC:
        out[pos + 64:pos + 64 + 1808] = ss
        pos += struct.unpack_from("<I", out, pos + 16)[0]
    return bytes(out)
