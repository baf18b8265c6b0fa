/* SPDX-License-Identifier: Apache-2.0 */
/* Reading and checking an enclave ELF: static, position-independent x86-64.
 * The only file that includes libelf.  Rules: man/enclave-measurement.7. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gelf.h>
#include <libelf.h>

#include "eimg/elf.h"
#include "core/internal.h"

#define PAGE_MASK ((uint64_t)EIMG_PAGE - 1)

static const char *seg_perm(unsigned f, char buf[4])
{
	buf[0] = (f & EIMG_SEG_R) ? 'R' : '-';
	buf[1] = (f & EIMG_SEG_W) ? 'W' : '-';
	buf[2] = (f & EIMG_SEG_X) ? 'X' : '-';
	buf[3] = '\0';
	return buf;
}

/* Looks for DT_TEXTREL / DF_TEXTREL in the PT_DYNAMIC segment. */
static int check_dynamic(const char *source, Elf *e, size_t idx, const GElf_Phdr *ph, size_t len,
			 eimg_error *err)
{
	uint64_t end;
	if (eimg_add_overflow(ph->p_offset, ph->p_filesz, &end) || end > len)
		return eimg_err(err, EIMG_EINVAL, source,
				"not a valid ELF file: dynamic segment (program header %zu) lies outside the file", idx);
	if (ph->p_filesz == 0)
		return EIMG_OK;
	Elf_Data *d = elf_getdata_rawchunk(e, (int64_t)ph->p_offset, ph->p_filesz, ELF_T_DYN);
	if (!d)
		return eimg_err(err, EIMG_EINVAL, source,
				"not a valid ELF file: cannot read the dynamic segment (program header %zu): %s",
				idx, elf_errmsg(-1));
	size_t n = ph->p_filesz / sizeof(Elf64_Dyn);
	for (size_t i = 0; i < n; i++) {
		GElf_Dyn dyn;
		if (!gelf_getdyn(d, (int)i, &dyn))
			break;
		if (dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag == DT_TEXTREL || (dyn.d_tag == DT_FLAGS && (dyn.d_un.d_val & DF_TEXTREL)))
			return eimg_err(err, EIMG_EINVAL, source,
					"has relocations in read-only code (DT_TEXTREL); rebuild all objects with -fPIE");
	}
	return EIMG_OK;
}

/* The ELF header: x86-64, position-independent, program headers present. */
static int check_header(const char *source, Elf *e, GElf_Ehdr *eh, size_t *phnum, eimg_error *err)
{
	if (!gelf_getehdr(e, eh))
		return eimg_err(err, EIMG_EINVAL, source, "not a valid ELF file: %s", elf_errmsg(-1));
	if (eh->e_machine != EM_X86_64)
		return eimg_err(err, EIMG_EINVAL, source,
				"ELF machine is %u, expected x86-64 (%u)", (unsigned)eh->e_machine, (unsigned)EM_X86_64);
	if (eh->e_type == ET_EXEC)
		return eimg_err(err, EIMG_EINVAL, source,
				"is a fixed-address executable (ET_EXEC); an enclave must be position-independent: link with -static-pie");
	if (eh->e_type != ET_DYN)
		return eimg_err(err, EIMG_EINVAL, source,
				"ELF type is %u, expected a position-independent executable (ET_DYN)", (unsigned)eh->e_type);
	if (elf_getphdrnum(e, phnum) != 0)
		return eimg_err(err, EIMG_EINVAL, source, "not a valid ELF file: %s", elf_errmsg(-1));
	if (*phnum == 0)
		return eimg_err(err, EIMG_EINVAL, source, "has no program headers");
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return eimg_err(err, EIMG_EINVAL, source,
				"not a valid ELF file: program header entry size is %u, expected %zu",
				(unsigned)eh->e_phentsize, sizeof(Elf64_Phdr));
	return EIMG_OK;
}

/* Loadable segment i (ph): its ranges, its order after the previous one,
 * its permissions; appended to out.  *vend: where it ends in memory. */
static int add_segment(const char *source, size_t i, const GElf_Phdr *ph, size_t len, bool allow_wx, eimg_elf *out,
		       uint64_t *vend, eimg_error *err)
{
	uint64_t fend;
	char perm[4];
	if (out->nseg == EIMG_ELF_MAX_SEGMENTS)
		return eimg_err(err, EIMG_EINVAL, source,
				"has more than %d loadable segments", EIMG_ELF_MAX_SEGMENTS);
	if (ph->p_memsz == 0)
		return eimg_err(err, EIMG_EINVAL, source, "segment %zu is empty (p_memsz is 0)", i);
	if (ph->p_filesz > ph->p_memsz)
		return eimg_err(err, EIMG_EINVAL, source,
				"segment %zu has more file bytes (%#llx) than memory bytes (%#llx)", i,
				(unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
	if (eimg_add_overflow(ph->p_offset, ph->p_filesz, &fend) || fend > len)
		return eimg_err(err, EIMG_EINVAL, source,
				"segment %zu: file range %#llx+%#llx lies outside the file (%zu bytes)", i,
				(unsigned long long)ph->p_offset, (unsigned long long)ph->p_filesz, len);
	if ((ph->p_vaddr & PAGE_MASK) != (ph->p_offset & PAGE_MASK))
		return eimg_err(err, EIMG_EINVAL, source,
				"segment %zu: address %#llx and file offset %#llx differ modulo the page size 4096", i,
				(unsigned long long)ph->p_vaddr, (unsigned long long)ph->p_offset);
	if (eimg_add_overflow(ph->p_vaddr, ph->p_memsz, vend) || *vend > EIMG_ELF_MAX_IMAGE)
		return eimg_err(err, EIMG_EINVAL, source,
				"segment %zu ends beyond the ELF image limit of %llu MiB", i,
				(unsigned long long)(EIMG_ELF_MAX_IMAGE >> 20));
	uint64_t start = ph->p_vaddr & ~PAGE_MASK;
	uint64_t end = (*vend + PAGE_MASK) & ~PAGE_MASK;
	if (out->nseg > 0) {
		const struct eimg_elf_segment *prev = &out->seg[out->nseg - 1];
		if (ph->p_vaddr < prev->vaddr + prev->data_off)
			return eimg_err(err, EIMG_EINVAL, source,
					"segment %zu is not sorted by address after the previous loadable segment", i);
		if (start < prev->vaddr + prev->memsz)
			return eimg_err(err, EIMG_EINVAL, source,
					"segment %zu (at %#llx) overlaps or shares a page with the previous loadable segment (whose last page ends at %#llx); link with -z separate-code -z max-page-size=4096",
					i, (unsigned long long)ph->p_vaddr, (unsigned long long)(prev->vaddr + prev->memsz));
	}
	unsigned flags = 0;
	if (ph->p_flags & PF_R)
		flags |= EIMG_SEG_R;
	if (ph->p_flags & PF_W)
		flags |= EIMG_SEG_W;
	if (ph->p_flags & PF_X)
		flags |= EIMG_SEG_X;
	if ((flags & EIMG_SEG_W) && !(flags & EIMG_SEG_R))
		return eimg_err(err, EIMG_EINVAL, source,
				"segment %zu is writable but not readable (%s), which SGX does not allow", i,
				seg_perm(flags, perm));
	if ((flags & EIMG_SEG_W) && (flags & EIMG_SEG_X) && !allow_wx)
		return eimg_err(err, EIMG_EINVAL, source,
				"segment %zu is writable and executable; set sgx.allow_write_exec: true in the manifest to accept it",
				i);
	struct eimg_elf_segment *s = &out->seg[out->nseg++];
	s->vaddr = start;
	s->memsz = end - start;
	s->data_off = ph->p_vaddr & PAGE_MASK;
	s->file_off = ph->p_offset;
	s->filesz = ph->p_filesz;
	s->flags = flags;
	out->image_end = end;
	return EIMG_OK;
}

static int parse(const char *source, Elf *e, size_t len, bool allow_wx, eimg_elf *out, eimg_error *err)
{
	GElf_Ehdr eh;
	size_t phnum = 0;
	int rc;

	if ((rc = check_header(source, e, &eh, &phnum, err)))
		return rc;
	out->nseg = 0;
	out->entry = eh.e_entry;
	out->image_end = 0;
	bool entry_ok = false;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		uint64_t vend = 0;
		if (!gelf_getphdr(e, (int)i, &ph))
			return eimg_err(err, EIMG_EINVAL, source,
					"not a valid ELF file: cannot read program header %zu: %s", i, elf_errmsg(-1));
		switch (ph.p_type) {
		case PT_INTERP:
			return eimg_err(err, EIMG_EINVAL, source,
					"requests a program interpreter (PT_INTERP); an enclave must be linked statically (-static-pie)");
		case PT_TLS:
			return eimg_err(err, EIMG_EINVAL, source,
					"has a PT_TLS segment: thread-local storage is not supported");
		case PT_DYNAMIC:
			if ((rc = check_dynamic(source, e, i, &ph, len, err)))
				return rc;
			continue;
		case PT_LOAD:
			break;
		default:
			continue;
		}
		if ((rc = add_segment(source, i, &ph, len, allow_wx, out, &vend, err)))
			return rc;
		if ((ph.p_flags & PF_X) && eh.e_entry >= ph.p_vaddr && eh.e_entry < vend)
			entry_ok = true;
	}
	if (out->nseg == 0)
		return eimg_err(err, EIMG_EINVAL, source, "has no loadable (PT_LOAD) segment");
	if (!entry_ok)
		return eimg_err(err, EIMG_EINVAL, source,
				"entry point %#llx is not inside an executable segment",
				(unsigned long long)eh.e_entry);
	return EIMG_OK;
}

int eimg_elf_parse(const char *source, const uint8_t *buf, size_t len, bool allow_wx,
		   eimg_elf *out, eimg_error *err)
{
	int rc;
	Elf *e = NULL;
	char *copy = NULL;
	eimg_elf *res = NULL;

	if (!source)
		source = "enclave ELF";
	/* Checked here, before libelf sees the bytes, so that the messages are precise. */
	if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0)
		return eimg_err(err, EIMG_EINVAL, source, "not an ELF file (bad magic)");
	if (buf[EI_CLASS] != ELFCLASS64)
		return eimg_err(err, EIMG_EINVAL, source,
				"ELF class is %u, expected 64-bit (ELFCLASS64)", (unsigned)buf[EI_CLASS]);
	if (buf[EI_DATA] != ELFDATA2LSB)
		return eimg_err(err, EIMG_EINVAL, source,
				"ELF data encoding is %u, expected little-endian (ELFDATA2LSB)", (unsigned)buf[EI_DATA]);
	if (buf[EI_VERSION] != EV_CURRENT)
		return eimg_err(err, EIMG_EINVAL, source, "ELF version is %u, expected 1", (unsigned)buf[EI_VERSION]);
	if (len < sizeof(Elf64_Ehdr))
		return eimg_err(err, EIMG_EINVAL, source, "not a valid ELF file: truncated header (%zu bytes)", len);

	if (elf_version(EV_CURRENT) == EV_NONE)
		return eimg_err(err, EIMG_EINTERNAL, source, "libelf initialisation failed: %s", elf_errmsg(-1));
	/* libelf takes a non-const buffer: give it a private copy so the
	 * caller's bytes are never touched. */
	copy = malloc(len);
	res = malloc(sizeof(*res));
	if (!copy || !res) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	memcpy(copy, buf, len);
	e = elf_memory(copy, len);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		rc = eimg_err(err, EIMG_EINVAL, source, "not a valid ELF file: %s", elf_errmsg(-1));
		goto out;
	}
	memset(res, 0, sizeof(*res));
	rc = parse(source, e, len, allow_wx, res, err);
	if (rc)
		goto out;
	res->data = buf;
	res->size = len;
	memcpy(out, res, sizeof(*out));
out:
	if (e)
		elf_end(e);
	free(copy);
	free(res);
	return rc;
}

/* ---------------------------------------------------------------------------
 * The canonical enclave ELF (enclave-image(5), enclave-measurement(7)):
 * the ELF header, one program header per loaded segment, and each segment's
 * file bytes at the first offset after the previous one that is congruent to
 * its address modulo 4096; every other byte zero; nothing after the last
 * segment's bytes.  Everything in it is either measured (segment bytes,
 * addresses, sizes, permissions, entry point) or a constant.  A segment's
 * file bytes end at its last non-zero byte: zeros after it load as the zero
 * fill does, so a longer p_filesz would be a byte that changes nothing.
 * ------------------------------------------------------------------------- */

static uint64_t canon_filesz(const eimg_elf *e, size_t i)
{
	const uint8_t *d = e->data + e->seg[i].file_off;
	uint64_t n = e->seg[i].filesz;
	while (n > 0 && d[n - 1] == 0)
		n--;
	return n;
}

static void canon_offsets(const eimg_elf *e, uint64_t off[EIMG_ELF_MAX_SEGMENTS], uint64_t *total)
{
	uint64_t pos = sizeof(Elf64_Ehdr) + e->nseg * sizeof(Elf64_Phdr);
	for (size_t i = 0; i < e->nseg; i++) {
		off[i] = pos + ((e->seg[i].data_off - pos) & PAGE_MASK);
		pos = off[i] + canon_filesz(e, i);
	}
	*total = pos;
}

static void canon_headers(const eimg_elf *e, const uint64_t off[], uint8_t *b)
{
	Elf64_Ehdr eh;
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_DYN;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = e->entry;
	eh.e_phoff = sizeof(Elf64_Ehdr);
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (Elf64_Half)e->nseg;
	memcpy(b, &eh, sizeof(eh)); /* x86-64 host: the in-memory layout is the file's */
	for (size_t i = 0; i < e->nseg; i++) {
		const struct eimg_elf_segment *s = &e->seg[i];
		Elf64_Phdr ph;
		memset(&ph, 0, sizeof(ph));
		ph.p_type = PT_LOAD;
		ph.p_flags = ((s->flags & EIMG_SEG_R) ? PF_R : 0) | ((s->flags & EIMG_SEG_W) ? PF_W : 0) |
			     ((s->flags & EIMG_SEG_X) ? PF_X : 0);
		ph.p_offset = off[i];
		ph.p_vaddr = ph.p_paddr = s->vaddr + s->data_off;
		ph.p_filesz = canon_filesz(e, i);
		ph.p_memsz = s->memsz - s->data_off; /* ends where the page-rounded segment ends */
		ph.p_align = EIMG_PAGE;
		memcpy(b + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr), &ph, sizeof(ph));
	}
}

int eimg_elf_canonical(const eimg_elf *e, uint8_t **out, size_t *len, eimg_error *err)
{
	uint64_t off[EIMG_ELF_MAX_SEGMENTS], total;
	canon_offsets(e, off, &total);
	if (total > EIMG_ELF_MAX_CANONICAL)
		return eimg_err(err, EIMG_EINVAL, NULL,
				"the canonical enclave ELF would be %llu bytes, above the limit of %llu",
				(unsigned long long)total, (unsigned long long)EIMG_ELF_MAX_CANONICAL);
	uint8_t *b = calloc(1, (size_t)total);
	if (!b)
		return eimg_err_nomem(err);
	canon_headers(e, off, b);
	for (size_t i = 0; i < e->nseg; i++)
		if (canon_filesz(e, i))
			memcpy(b + off[i], e->data + e->seg[i].file_off, canon_filesz(e, i));
	*out = b;
	*len = (size_t)total;
	return EIMG_OK;
}

/* Names what lies at pos in the canonical layout, for the refusal. */
static void canon_where(const eimg_elf *e, uint64_t pos, char *buf, size_t cap)
{
	static const struct { unsigned off; const char *name; } ehf[] = {
		{ 0, "e_ident" }, { 16, "e_type" }, { 18, "e_machine" }, { 20, "e_version" }, { 24, "e_entry" },
		{ 32, "e_phoff" }, { 40, "e_shoff" }, { 48, "e_flags" }, { 52, "e_ehsize" }, { 54, "e_phentsize" },
		{ 56, "e_phnum" }, { 58, "e_shentsize" }, { 60, "e_shnum" }, { 62, "e_shstrndx" } };
	static const struct { unsigned off; const char *name; } phf[] = {
		{ 0, "p_type" }, { 4, "p_flags" }, { 8, "p_offset" }, { 16, "p_vaddr" }, { 24, "p_paddr" },
		{ 32, "p_filesz" }, { 40, "p_memsz" }, { 48, "p_align" } };
	uint64_t off[EIMG_ELF_MAX_SEGMENTS], total;
	uint64_t hdr = sizeof(Elf64_Ehdr) + e->nseg * sizeof(Elf64_Phdr);
	canon_offsets(e, off, &total);
	if (pos < sizeof(Elf64_Ehdr)) {
		size_t k = 0;
		while (k + 1 < sizeof(ehf) / sizeof(ehf[0]) && ehf[k + 1].off <= pos)
			k++;
		snprintf(buf, cap, "ELF header field %s", ehf[k].name);
	} else if (pos < hdr) {
		uint64_t r = (pos - sizeof(Elf64_Ehdr)) % sizeof(Elf64_Phdr);
		size_t k = 0;
		while (k + 1 < sizeof(phf) / sizeof(phf[0]) && phf[k + 1].off <= r)
			k++;
		snprintf(buf, cap, "program header %llu field %s",
			 (unsigned long long)((pos - sizeof(Elf64_Ehdr)) / sizeof(Elf64_Phdr)), phf[k].name);
	} else if (pos >= total) {
		snprintf(buf, cap, "bytes after the last loaded segment (section headers, symbols or debugging information)");
	} else {
		size_t i = 0;
		while (i < e->nseg && pos >= off[i] + e->seg[i].filesz)
			i++;
		if (i < e->nseg && pos >= off[i])
			snprintf(buf, cap, "bytes of loaded segment %zu", i);
		else
			snprintf(buf, cap, "padding before loaded segment %zu, which must be zero", i);
	}
}

int eimg_elf_check_canonical(const char *source, const eimg_elf *e, eimg_error *err)
{
	uint8_t *c = NULL;
	size_t clen = 0;
	char where[160];
	int rc = eimg_elf_canonical(e, &c, &clen, err);
	if (rc)
		return rc;
	size_t n = clen < e->size ? clen : e->size, i = 0;
	while (i < n && c[i] == e->data[i])
		i++;
	if (i == n && clen == e->size) {
		free(c);
		return EIMG_OK;
	}
	canon_where(e, i, where, sizeof(where));
	if (i < n)
		rc = eimg_err(err, EIMG_EINVAL, source,
			      "not a canonical enclave ELF: byte at offset %zu (%s) is 0x%02x, the canonical form has 0x%02x; rebuild the image with enclave-build",
			      i, where, e->data[i], c[i]);
	else
		rc = eimg_err(err, EIMG_EINVAL, source,
			      "not a canonical enclave ELF: %zu bytes where the canonical form has %zu; first difference at offset %zu (%s); rebuild the image with enclave-build",
			      e->size, clen, i, where);
	free(c);
	return rc;
}

int eimg_elf_same_load(const char *path, const eimg_elf *stored, bool allow_wx, eimg_error *err)
{
	uint8_t *buf = NULL, *c = NULL;
	size_t len = 0, clen = 0;
	eimg_elf e;
	char where[160];
	int rc = eimg_read_file(path, EIMG_ELF_MAX_CANONICAL, &buf, &len, err);
	if (rc)
		return rc;
	rc = eimg_elf_parse(path, buf, len, allow_wx, &e, err);
	if (rc == EIMG_OK)
		rc = eimg_elf_canonical(&e, &c, &clen, err);
	if (rc)
		goto out;
	size_t n = clen < stored->size ? clen : stored->size, i = 0;
	while (i < n && c[i] == stored->data[i])
		i++;
	if (i < n || clen != stored->size) {
		canon_where(stored, i, where, sizeof(where));
		rc = eimg_err(err, EIMG_EVERIFY, path,
			      "not the ELF this image was built from: its canonical form differs from the image's enclave.elf at offset %zu (%s)",
			      i, where);
	}
out:
	free(c);
	free(buf);
	return rc;
}
