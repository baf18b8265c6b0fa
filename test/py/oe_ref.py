# SPDX-License-Identifier: Apache-2.0
"""Open Enclave enclaves, written and measured from Open Enclave's own
descriptions, independently of libenclaveimg:

- the properties oe_sgx_enclave_properties_t of
  include/openenclave/bits/sgx/sgxproperties.h (section .oeinfo, 1960 bytes,
  SIGSTRUCT at 144, image info at 96);
- the loader's measurement (host/sgx/create.c oe_sgx_build_enclave and
  host/sgx/loadelf.c, OE 0.17 to 0.19): ECREATE with SSA frame size 1; the
  PT_LOAD segments of the loaded image page by page; the relocations
  (.rela.dyn + .rela.plt, TPOFF64 addends set to the symbol's value) padded to
  a page, read-only; the heap (EADD without EEXTEND); per thread a guard,
  the stack (0xCC), a guard, the TCS, two SSA pages, a guard, the TLS pages
  and one thread-data page.  Before measuring, the loader writes the image
  info and the symbols _enclave_rva, _reloc_rva, _reloc_size, _tdata_*,
  _tbss_*, _td_from_tcs_offset into the image and zeroes the SIGSTRUCT.

build_enclave() writes a small ET_DYN x86-64 ELF in that shape; mrenclave()
measures one.  Nothing here imports or calls the code under test."""
import hashlib
import struct

PAGE = 4096
SI_R, SI_W, SI_X, SI_TCS, SI_REG = 1, 2, 4, 0x100, 0x200
OEINFO = 1960
R_64, R_GLOB_DAT, R_JUMP_SLOT, R_RELATIVE, R_TPOFF64 = 1, 6, 7, 8, 18


def up(v, m=PAGE):
    return (v + m - 1) // m * m


def pow2(n):
    p = 1
    while p < n:
        p <<= 1
    return p


# ---------------------------------------------------------------- writing

def properties(heap=16, stack=4, tcs=2, product_id=7, svn=3, attributes=0x6, flags=0, start=0,
               sigstruct=bytes(1808), image_info=bytes(48)):
    p = struct.pack("<IIQQQ", OEINFO, 2, heap, stack, tcs)
    p += struct.pack("<HHI16s16sQQQ", product_id, svn, flags, bytes(16), bytes(16), attributes, 0, start)
    p += image_info + sigstruct + struct.pack("<Q", 0xecececececececec)
    assert len(p) == OEINFO
    return p


SYMS = ["_enclave_rva", "_reloc_rva", "_reloc_size", "_tdata_rva", "_tdata_size", "_tdata_align", "_tbss_size",
        "_tbss_align", "_td_from_tcs_offset", "tls_var", "ext_weak"]


def build_enclave(props=None, tls=True, plt=True, needed=False, runpath=False, extra_reloc_type=None, omit_sym=None,
                  oeinfo_unloaded=False, entry=0x1040, data_vaddr=0x3a20, tls_align=16):
    """Two segments: text (R+X) at 0 holding the headers and code; data
    (R+W) at an unaligned address holding .oeinfo, the patched symbols'
    slots, .tdata and .dynamic, with .bss after it.  .dynsym, .dynstr and
    the relocation tables sit in the file after the data (OE reads them from
    the section headers).  Returns the ELF bytes."""
    props = props if props is not None else properties()
    text_size = 0x2400
    data_off = 0x2a20 if data_vaddr == 0x3a20 else data_vaddr - 0x1000
    data = bytearray(0x1200)
    oeinfo_at = 0x40                      # in data
    data[oeinfo_at:oeinfo_at + OEINFO] = props
    slots = {name: 0x800 + 8 * i for i, name in enumerate(SYMS[:9])}
    tdata_at, tdata_size = 0x900, 0x24
    data[tdata_at:tdata_at + tdata_size] = bytes(range(1, tdata_size + 1))
    dyn_at = 0xa00
    dyn = b""
    if needed:                            # DT_STRTAB and DT_NEEDED (a name in .dynstr)
        dyn += struct.pack("<QQQQ", 5, 0, 1, 1)
    if runpath:
        dyn += struct.pack("<QQ", 29, 1)  # DT_RUNPATH
    dyn += struct.pack("<QQ", 0, 0)
    data[dyn_at:dyn_at + len(dyn)] = dyn
    data_memsz = len(data) + 0x2100       # .bss
    text = bytearray(text_size)
    for i in range(0x40, text_size):
        text[i] = (i * 7 + 3) & 0xff
    # dynamic symbols
    dynstr = b"\0"
    names = {}
    for n in SYMS:
        if n == omit_sym:
            continue
        names[n] = len(dynstr)
        dynstr += n.encode() + b"\0"
    dynsym = bytes(24)
    index = {}
    for n in names:
        if n == "tls_var":
            value, shndx, info = 0x10, 5, 0x16        # STT_TLS, global
        elif n == "ext_weak":
            value, shndx, info = 0, 0, 0x20           # undefined weak
        else:
            value, shndx, info = data_vaddr + slots[n], 4, 0x11
        index[n] = len(dynsym) // 24
        dynsym += struct.pack("<IBBHQQ", names[n], info, 0, shndx, value, 8)
    rela = b""
    for k in range(6):
        rela += struct.pack("<QQq", data_vaddr + 0x600 + 8 * k, R_RELATIVE, 0x1000 + 0x10 * k)
    if "tls_var" in index:
        rela += struct.pack("<QQq", data_vaddr + 0x700, index["tls_var"] << 32 | R_TPOFF64, 0x55)
    rela += struct.pack("<QQq", data_vaddr + 0x708, (index.get("ext_weak", 0)) << 32 | R_GLOB_DAT, 0)
    if extra_reloc_type is not None:
        rela += struct.pack("<QQq", data_vaddr + 0x710, extra_reloc_type, 0)
    relaplt = struct.pack("<QQq", data_vaddr + 0x718, (index.get("ext_weak", 0)) << 32 | R_JUMP_SLOT, 0) if plt else b""
    # file: text, data, then the unloaded tables and section headers
    body = bytearray(data_off + len(data))
    body[0:text_size] = text
    body[data_off:data_off + len(data)] = data
    tabs = {}
    for name, blob in ((".dynsym", dynsym), (".dynstr", dynstr), (".rela.dyn", rela), (".rela.plt", relaplt)):
        while len(body) % 8:
            body.append(0)
        tabs[name] = (len(body), len(blob))
        body += blob
    if oeinfo_unloaded:                   # .oeinfo's file bytes outside the segments, with one more heap page
        while len(body) % 8:
            body.append(0)
        tabs[".oeinfo-copy"] = (len(body), OEINFO)
        copy = bytearray(props)
        copy[8] = (copy[8] + 1) & 0xff
        body += copy
    secs = []                             # (name, type, flags, addr, offset, size, align, entsize)
    if oeinfo_unloaded:
        secs.append((b".oeinfo", 1, 3, data_vaddr + oeinfo_at, tabs[".oeinfo-copy"][0], OEINFO, 8, 0))
    else:
        secs.append((b".oeinfo", 1, 3, data_vaddr + oeinfo_at, data_off + oeinfo_at, OEINFO, 8, 0))
    if tls:
        secs.append((b".tdata", 1, 0x403, data_vaddr + tdata_at, data_off + tdata_at, tdata_size, 16, 0))
        secs.append((b".tbss", 8, 0x403, data_vaddr + tdata_at + 0x30, data_off + tdata_at + 0x30, 0x38, 8, 0))
    secs.append((b".dynamic", 6, 3, data_vaddr + dyn_at, data_off + dyn_at, len(dyn), 8, 16))
    secs.append((b".dynsym", 11, 2, 0, tabs[".dynsym"][0], tabs[".dynsym"][1], 8, 24))
    secs.append((b".dynstr", 3, 2, 0, tabs[".dynstr"][0], tabs[".dynstr"][1], 1, 0))
    secs.append((b".rela.dyn", 4, 2, 0, tabs[".rela.dyn"][0], tabs[".rela.dyn"][1], 8, 24))
    if plt:
        secs.append((b".rela.plt", 4, 2, 0, tabs[".rela.plt"][0], tabs[".rela.plt"][1], 8, 24))
    shstr = b"\0"
    named = []
    for s in secs:
        named.append((len(shstr),) + s[1:])
        shstr += s[0] + b"\0"
    shstr_name = len(shstr)
    shstr += b".shstrtab\0"
    shstr_off = len(body)
    body += shstr
    while len(body) % 8:
        body.append(0)
    shoff = len(body)
    sh = bytes(64)
    for nm, typ, fl, addr, off, size, align, ent in named:
        sh += struct.pack("<IIQQQQIIQQ", nm, typ, fl, addr, off, size, 0, 0, align, ent)
    sh += struct.pack("<IIQQQQIIQQ", shstr_name, 3, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0)
    body += sh
    phdrs = [(1, 5, 0, 0, text_size, text_size, PAGE),
             (1, 6, data_off, data_vaddr, len(data), data_memsz, PAGE),
             (2, 6, data_off + dyn_at, data_vaddr + dyn_at, len(dyn), len(dyn), 8)]
    if tls:
        phdrs.append((7, 4, data_off + tdata_at, data_vaddr + tdata_at, tdata_size, 0x68, tls_align))
    ph = b"".join(struct.pack("<IIQQQQQQ", t, f, o, v, v, fs, ms, a) for t, f, o, v, fs, ms, a in phdrs)
    ehdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    ehdr += struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, entry, 64, shoff, 0, 64, 56, len(phdrs), 64,
                        len(named) + 2, len(named) + 1)
    body[0:64] = ehdr
    body[64:64 + len(ph)] = ph
    return bytes(body)


def oeinfo_offset(buf):
    return section(buf, b".oeinfo")[1]


def with_properties(buf, props):
    off = oeinfo_offset(buf)
    out = bytearray(buf)
    out[off:off + OEINFO] = props
    return bytes(out)


def with_sigstruct(buf, ss):
    """What oesign writes: the SIGSTRUCT into .oeinfo at byte 144."""
    off = oeinfo_offset(buf) + 144
    return buf[:off] + ss + buf[off + 1808:]


# ---------------------------------------------------------------- reading

def section(buf, name):
    """(addr, offset, size, align, entsize) of the section called name, or None."""
    shoff, = struct.unpack_from("<Q", buf, 40)
    shnum, shstrndx = struct.unpack_from("<HH", buf, 60)
    stro = struct.unpack_from("<Q", buf, shoff + 64 * shstrndx + 24)[0]
    for i in range(shnum):
        nm, _, _, addr, off, size, _, _, align, ent = struct.unpack_from("<IIQQQQIIQQ", buf, shoff + 64 * i)
        if buf[stro + nm:].split(b"\0", 1)[0] == name:
            return addr, off, size, align, ent
    return None


def phdrs(buf):
    phoff, = struct.unpack_from("<Q", buf, 32)
    phnum, = struct.unpack_from("<H", buf, 56)
    return [struct.unpack_from("<IIQQQQQQ", buf, phoff + 56 * i) for i in range(phnum)]


class Measure:
    def __init__(self, size):
        self.h = hashlib.sha256()
        self.h.update(struct.pack("<8sIQ", b"ECREATE\0", 1, size).ljust(64, b"\0"))

    def page(self, off, flags, content, extend=True):
        self.h.update(struct.pack("<8sQQ", b"EADD\0\0\0\0", off, flags).ljust(64, b"\0"))
        if extend:
            content = content if content is not None else bytes(PAGE)
            for c in range(0, PAGE, 256):
                self.h.update(struct.pack("<8sQ", b"EEXTEND\0", off + c).ljust(64, b"\0"))
                self.h.update(content[c:c + 256])


def _dynsym(buf, name):
    _, off, size, _, _ = section(buf, b".dynsym")
    _, soff, _, _, _ = section(buf, b".dynstr")
    for i in range(1, size // 24):
        st_name, = struct.unpack_from("<I", buf, off + 24 * i)
        if st_name and buf[soff + st_name:].split(b"\0", 1)[0] == name.encode():
            return struct.unpack_from("<Q", buf, off + 24 * i + 8)[0]
    return None


def _relocations(buf):
    dyn, plt = section(buf, b".rela.dyn"), section(buf, b".rela.plt")
    if dyn is None or dyn[2] + (plt[2] if plt else 0) == 0:
        return b""
    r = bytearray(buf[dyn[1]:dyn[1] + dyn[2]] + (buf[plt[1]:plt[1] + plt[2]] if plt else b""))
    _, symoff, _, _, _ = section(buf, b".dynsym")
    for i in range(0, len(r), 24):
        info, = struct.unpack_from("<Q", r, i + 8)
        if info & 0xffffffff == R_TPOFF64:
            struct.pack_into("<Q", r, i + 16, struct.unpack_from("<Q", buf, symoff + 24 * (info >> 32) + 8)[0])
    return bytes(r) + bytes(up(len(r)) - len(r))


def _tls_pages(buf):
    size = 0
    td, tb = section(buf, b".tdata"), section(buf, b".tbss")
    if td and td[2]:
        align = td[3]
        for t, _, _, v, _, _, _, a in phdrs(buf):
            if t == 7 and v == td[0]:
                align = a
        size += up(td[2], align)
    if tb and tb[2]:
        size += up(tb[2], tb[3])
    return up(size) // PAGE


def layout(buf):
    """The loader's figures: a dict of image, reloc, tls, heap_rva, enclave, ecreate, base, props."""
    loads = [p for p in phdrs(buf) if p[0] == 1]
    high = max(v + ms for _, _, _, v, _, _, ms, _ in loads)
    oi = section(buf, b".oeinfo")
    props = buf[oi[1]:oi[1] + OEINFO]
    heap, stack, tcs = struct.unpack_from("<QQQ", props, 8)
    flags, = struct.unpack_from("<I", props, 36)
    start, = struct.unpack_from("<Q", props, 88)
    image = up(high)
    reloc = len(_relocations(buf))
    tls = _tls_pages(buf)
    loaded = image + reloc + heap * PAGE + tcs * (stack + 2 + tls + 5) * PAGE
    base = start if flags & 2 else 0
    enclave = pow2(loaded)
    return dict(image=image, reloc=reloc, tls=tls, heap_rva=image + reloc, enclave=enclave, base=base,
                ecreate=pow2(loaded + base) if base else enclave, heap=heap, stack=stack, tcs=tcs, oeinfo_rva=oi[0])


def mrenclave(buf):
    L = layout(buf)
    img = bytearray(L["image"])
    for _, _, off, v, _, fs, _, _ in phdrs(buf):
        img[v:v + fs] = buf[off:off + fs]
    rva = L["oeinfo_rva"]
    struct.pack_into("<6Q", img, rva + 96, rva, OEINFO, L["image"], L["reloc"], L["heap_rva"], L["enclave"])

    def put(name, value):
        at = _dynsym(buf, name)
        if at is not None:
            struct.pack_into("<Q", img, at, value)
    put("_enclave_rva", _dynsym(buf, "_enclave_rva"))
    put("_reloc_rva", L["image"])
    put("_reloc_size", L["reloc"])
    td, tb = section(buf, b".tdata"), section(buf, b".tbss")
    if td and td[2]:
        align = [a for t, _, _, v, _, _, _, a in phdrs(buf) if t == 7 and v == td[0]] or [td[3]]
        put("_tdata_rva", td[0])
        put("_tdata_size", td[2])
        put("_tdata_align", align[0])
    if tb and tb[2]:
        put("_tbss_size", tb[2])
        put("_tbss_align", tb[3])
    put("_td_from_tcs_offset", (L["tls"] + 4) * PAGE)
    img[rva + 144:rva + 144 + 1808] = bytes(1808)
    b = L["base"]
    m = Measure(L["ecreate"])
    for t, pf, _, v, _, _, ms, _ in phdrs(buf):
        if t != 1:
            continue
        fl = SI_REG | (SI_R if pf & 4 else 0) | (SI_W if pf & 2 else 0) | (SI_X if pf & 1 else 0)
        for pg in range(v - v % PAGE, v + ms, PAGE):
            m.page(b + pg, fl, bytes(img[pg:pg + PAGE]))
    rel = _relocations(buf)
    for i in range(0, len(rel), PAGE):
        m.page(b + L["image"] + i, SI_REG | SI_R, rel[i:i + PAGE])
    va = L["heap_rva"]
    for _ in range(L["heap"]):
        m.page(b + va, SI_REG | SI_R | SI_W, None, extend=False)
        va += PAGE
    entry, = struct.unpack_from("<Q", buf, 24)
    for _ in range(L["tcs"]):
        va += PAGE
        for _ in range(L["stack"]):
            m.page(b + va, SI_REG | SI_R | SI_W, b"\xcc" * PAGE)
            va += PAGE
        va += PAGE
        fs = b + va + (L["tls"] + 4) * PAGE
        tcs = bytearray(PAGE)
        struct.pack_into("<QIIQQQQII", tcs, 16, b + va + PAGE, 0, 2, b + entry, 0, fs, fs, 0xffffffff, 0xffffffff)
        m.page(b + va, SI_TCS, bytes(tcs))
        va += PAGE
        for _ in range(2):
            m.page(b + va, SI_REG | SI_R | SI_W, None)
            va += PAGE
        va += PAGE
        for _ in range(L["tls"] + 1):
            m.page(b + va, SI_REG | SI_R | SI_W, None)
            va += PAGE
    return m.h.hexdigest()
