/* SPDX-License-Identifier: Apache-2.0 */
/* Open Enclave enclaves: the image as OE's loader builds it (segments,
 * relocations, the patched properties and symbols), the layout of heap and
 * threads, and the load stream oesign measures (eimg/oe_enclave.h; the
 * behaviour of host/sgx/create.c and loadelf.c in openenclave/openenclave,
 * stated in man/enclave-measurement.7). */
#include <stdlib.h>
#include <string.h>

#include "eimg/oe_enclave.h"
#include "eimg/sgxs.h"
#include "eimg/sigstruct.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "sgx/elf_section.h"

#define PAGE          ((uint64_t)EIMG_PAGE)
#define PT_LOAD_      1u
#define PT_TLS_       7u
#define SHT_NOBITS_   8u
#define SHT_DYNSYM_   11u
#define DT_NEEDED_    1u
#define DT_RPATH_     15u
#define DT_RUNPATH_   29u
#define RELA_SIZE     24u
#define SYM_SIZE      24u
#define SI_R          1ull
#define SI_W          2ull
#define SI_TCS        0x100ull
#define SI_REG        0x200ull
#define CONTROL_PAGES 4u        /* TCS, two SSA, guard (OE_SGX_TCS_CONTROL_PAGES) */
#define TD_PAGES      1u        /* OE_SGX_TCS_THREAD_DATA_PAGES */
#define MAX_PHDRS     4096u
#define MAX_DYN       4096u
#define ATTR_OK       (0x2ull | 0x4ull | 0x80ull)   /* DEBUG, MODE64BIT, KSS */

enum { S_OEINFO, S_TDATA, S_TBSS, S_DYNSYM, S_DYNSTR, S_RELADYN, S_RELAPLT, S_DYNAMIC, S_N };
static const char *const sec_names[S_N] = { ".oeinfo", ".tdata", ".tbss", ".dynsym", ".dynstr", ".rela.dyn",
					     ".rela.plt", ".dynamic" };

struct oe {
	const char *source;
	const uint8_t *file;
	size_t len;
	struct eimg_oe_properties p;
	struct eimg_elf_shdr sec[S_N];
	uint64_t phoff;
	uint16_t phnum;
	uint64_t tdata_align;
	struct eimg_oe_layout l;
	uint8_t *image;             /* l.image_size bytes, patched */
	uint8_t *reloc;             /* l.reloc_size bytes */
	eimg_error *err;
};

static uint64_t round_up(uint64_t v, uint64_t m)
{
	return (v + m - 1) / m * m;
}

static uint64_t pow2(uint64_t n)
{
	uint64_t p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

static int bad(struct oe *o, const char *what)
{
	return eimg_err(o->err, EIMG_EINVAL, o->source, "Open Enclave enclave: %s", what);
}

static void get_phdr(const struct oe *o, size_t i, struct eimg_elf_phdr *ph)
{
	eimg_elf_phdr_get(o->file, o->phoff, i, ph);
}

/* ---- the ELF as loadelf.c reads it ---- */

static int read_header(struct oe *o)
{
	const uint8_t *f = o->file;
	if (o->len < 64 || f[4] != 2 || f[5] != 1)
		return bad(o, "not a 64-bit little-endian ELF");
	if (eimg_get_le16(f + 16) != 3)
		return bad(o, "the ELF is not a PIE or shared object (e_type 3), which OE's loader requires");
	if (eimg_get_le16(f + 18) != 62)
		return bad(o, "the ELF is not x86-64");
	o->phoff = eimg_get_le64(f + 32);
	o->phnum = eimg_get_le16(f + 56);
	if (eimg_get_le16(f + 54) != 56 || o->phnum > MAX_PHDRS || o->phoff > o->len ||
	    (uint64_t)o->phnum * 56 > o->len - o->phoff)
		return bad(o, "ELF program headers are malformed or outside the file");
	o->l.entry = eimg_get_le64(f + 24);
	if (!o->l.entry)
		return bad(o, "the ELF has no entry point (OE's loader needs one for the TCS)");
	return EIMG_OK;
}

/* The .dynamic section as _find_dependent_image reads it (every entry up to
 * the section's size): RPATH/RUNPATH refused; DT_NEEDED names a module OE
 * 0.17+ would load from the enclave's folder, which this reader does not. */
static int check_dynamic(struct oe *o)
{
	const struct eimg_elf_shdr *d = &o->sec[S_DYNAMIC];
	if (!d->found || d->type == SHT_NOBITS_)
		return EIMG_OK;
	if (d->size / 16 > MAX_DYN)
		return bad(o, ".dynamic has more entries than this reader accepts (4096)");
	for (uint64_t i = 0; i + 16 <= d->size; i += 16) {
		uint64_t tag = eimg_get_le64(o->file + d->offset + i);
		if (tag == DT_RPATH_ || tag == DT_RUNPATH_)
			return bad(o, ".dynamic has DT_RPATH or DT_RUNPATH, which OE's loader refuses");
		if (tag == DT_NEEDED_)
			return bad(o, "it links a dependent module (DT_NEEDED), which OE's loader adds from another file: not measured here");
	}
	return EIMG_OK;
}

static int check_tls(struct oe *o, const struct eimg_elf_phdr *ph)
{
	const struct eimg_elf_shdr *td = &o->sec[S_TDATA];
	uint64_t rva = td->found ? td->addr : 0, size = td->found ? td->size : 0;
	if (rva == ph->vaddr)
		o->tdata_align = ph->align;
	else if (rva != 0)
		return bad(o, ".tdata's address differs from the TLS segment's");
	if (size != ph->filesz)
		return bad(o, ".tdata's size differs from the TLS segment's file size");
	return EIMG_OK;
}

/* _initialize_image_segments and _stage_image_segments: PT_LOAD in order,
 * the lowest at 0, none sharing a page, each with some permission. */
static int read_segments(struct oe *o)
{
	struct eimg_elf_phdr ph;
	uint64_t high = 0, prev_end = 0, prev_vaddr = 0;
	size_t nload = 0;
	int rc;
	o->tdata_align = o->sec[S_TDATA].align;
	for (size_t i = 0; i < o->phnum; i++) {
		get_phdr(o, i, &ph);
		if (ph.filesz > ph.memsz)
			return bad(o, "a segment's file size is above its memory size");
		if (ph.type == PT_TLS_ && (rc = check_tls(o, &ph)))
			return rc;
		if (ph.type != PT_LOAD_)
			continue;
		if (ph.offset > o->len || ph.filesz > o->len - ph.offset || ph.vaddr + ph.memsz < ph.vaddr)
			return bad(o, "a loadable segment lies outside the file or wraps around");
		if (!(ph.flags & 7))
			return bad(o, "a loadable segment has no R/W/X permission (OE's loader refuses it)");
		if (nload == 0 && ph.vaddr != 0)
			return bad(o, "the first loadable segment is not at address 0 (OE's loader requires it)");
		if (nload > 0 && (ph.vaddr <= prev_vaddr || prev_end > (ph.vaddr & ~(PAGE - 1))))
			return bad(o, "loadable segments are out of order or share a page");
		prev_vaddr = ph.vaddr;
		prev_end = ph.vaddr + ph.memsz;
		high = prev_end > high ? prev_end : high;
		nload++;
	}
	if (nload == 0 || high == 0)
		return bad(o, "no loadable segment");
	if (high > EIMG_OE_MAX_IMAGE)
		return eimg_err(o->err, EIMG_EINVAL, o->source, "Open Enclave enclave: the image spans %#llx bytes, above the limit of %#llx",
				(unsigned long long)high, (unsigned long long)EIMG_OE_MAX_IMAGE);
	o->l.image_size = round_up(high, PAGE);
	return EIMG_OK;
}

static int stage_image(struct oe *o)
{
	struct eimg_elf_phdr ph;
	o->image = calloc(1, o->l.image_size);
	if (!o->image)
		return eimg_err_nomem(o->err);
	for (size_t i = 0; i < o->phnum; i++) {
		get_phdr(o, i, &ph);
		if (ph.type == PT_LOAD_)
			memcpy(o->image + ph.vaddr, o->file + ph.offset, ph.filesz);
	}
	const struct eimg_elf_shdr *oi = &o->sec[S_OEINFO];
	o->l.oeinfo_rva = oi->addr;
	if (oi->type == SHT_NOBITS_ || oi->addr > o->l.image_size || EIMG_OEINFO_SIZE > o->l.image_size - oi->addr)
		return bad(o, ".oeinfo is not inside the loaded image");
	if (memcmp(o->image + oi->addr, o->file + oi->offset, EIMG_OEINFO_SIZE) != 0)
		return bad(o, "the bytes loaded at .oeinfo's address are not the section's (the properties OE reads differ from the signed ones)");
	return EIMG_OK;
}

static int tls_pages(struct oe *o)
{
	const struct eimg_elf_shdr *td = &o->sec[S_TDATA], *tb = &o->sec[S_TBSS];
	uint64_t size = 0;
	if (td->found && td->size) {
		if (!o->tdata_align || o->tdata_align > EIMG_OE_MAX_IMAGE || td->size > EIMG_OE_MAX_IMAGE)
			return bad(o, ".tdata has no alignment, or its size or alignment is above 256 MiB");
		size += round_up(td->size, o->tdata_align);
	}
	if (tb->found && tb->size) {
		if (!tb->align || tb->align > EIMG_OE_MAX_IMAGE || tb->size > EIMG_OE_MAX_IMAGE)
			return bad(o, ".tbss has no alignment, or its size or alignment is above 256 MiB");
		size += round_up(tb->size, tb->align);
	}
	o->l.tls_pages = round_up(size, PAGE) / PAGE;
	return EIMG_OK;
}

/* ---- relocations (elf64_load_relocations) ---- */

static int rela_section(struct oe *o, int which)
{
	const struct eimg_elf_shdr *s = &o->sec[which];
	if (!s->found)
		return EIMG_OK;
	if (s->entsize != RELA_SIZE || s->type == SHT_NOBITS_ || s->size % RELA_SIZE)
		return eimg_err(o->err, EIMG_EINVAL, o->source, "Open Enclave enclave: %s is not a table of 24-byte entries",
				sec_names[which]);
	for (uint64_t r = 0; r < s->size; r += RELA_SIZE) {
		uint32_t type = (uint32_t)eimg_get_le64(o->file + s->offset + r + 8);
		/* RELATIVE, TPOFF64, GLOB_DAT, 64, JUMP_SLOT */
		if (type != 8 && type != 18 && type != 6 && type != 1 && type != 7)
			return eimg_err(o->err, EIMG_EINVAL, o->source,
					"Open Enclave enclave: relocation type %u in %s, which OE's loader refuses", type,
					sec_names[which]);
	}
	return EIMG_OK;
}

static int check_dynsym(struct oe *o)
{
	const struct eimg_elf_shdr *s = &o->sec[S_DYNSYM], *t = &o->sec[S_DYNSTR];
	if (!s->found || s->type != SHT_DYNSYM_ || s->entsize != SYM_SIZE || !t->found || t->type == SHT_NOBITS_)
		return bad(o, "no .dynsym (24-byte entries) and .dynstr, which OE's loader needs");
	return EIMG_OK;
}

static int load_relocations(struct oe *o)
{
	const struct eimg_elf_shdr *dyn = &o->sec[S_RELADYN], *plt = &o->sec[S_RELAPLT];
	int rc;
	if ((rc = rela_section(o, S_RELADYN)) || (rc = rela_section(o, S_RELAPLT)))
		return rc;
	uint64_t nd = dyn->found ? dyn->size : 0, np = plt->found ? plt->size : 0;
	if (!dyn->found || nd + np == 0)
		return EIMG_OK;                 /* OE: no relocation pages at all */
	if ((rc = check_dynsym(o)))
		return rc;
	o->l.reloc_size = round_up(nd + np, PAGE);
	o->reloc = calloc(1, o->l.reloc_size);
	if (!o->reloc)
		return eimg_err_nomem(o->err);
	memcpy(o->reloc, o->file + dyn->offset, nd);
	if (np)
		memcpy(o->reloc + nd, o->file + plt->offset, np);
	const struct eimg_elf_shdr *sym = &o->sec[S_DYNSYM];
	uint64_t nsym = sym->size / SYM_SIZE;
	for (uint64_t r = 0; r < nd + np; r += RELA_SIZE) {
		uint64_t info = eimg_get_le64(o->reloc + r + 8);
		if ((uint32_t)info != 18)
			continue;
		/* TPOFF64: the addend becomes the symbol's value. */
		if ((info >> 32) >= nsym)
			return bad(o, "a TPOFF64 relocation names a symbol past .dynsym");
		eimg_le64(o->reloc + r + 16, eimg_get_le64(o->file + sym->offset + (info >> 32) * SYM_SIZE + 8));
	}
	return EIMG_OK;
}

/* ---- sizes (_calculate_enclave_size) and properties (validate) ---- */

static int check_props(struct oe *o)
{
	const struct eimg_oe_properties *p = &o->p;
	static const uint8_t zero[16];
	if ((p->attributes & ~ATTR_OK) || !(p->attributes & 0x4))
		return bad(o, ".oeinfo: attributes have bits other than DEBUG, MODE64BIT and KSS, or lack MODE64BIT");
	if (!(p->attributes & 0x80) && (memcmp(p->family_id, zero, 16) || memcmp(p->extended_product_id, zero, 16)))
		return bad(o, ".oeinfo: family or extended product id set without KSS");
	if ((p->flags & 2) && (!p->start_address || p->start_address % PAGE))
		return bad(o, ".oeinfo: a zero-base enclave needs a non-zero, page-aligned start address");
	return EIMG_OK;
}

static int plan_size(struct oe *o)
{
	struct eimg_oe_layout *l = &o->l;
	const struct eimg_oe_properties *p = &o->p;
	const uint64_t max = EIMG_SGXS_MAX_SIZE / PAGE;
	if (p->heap_pages > max || p->stack_pages > max)
		return bad(o, ".oeinfo: heap or stack pages above the enclave size limit");
	uint64_t thread = p->stack_pages + 2 + l->tls_pages + CONTROL_PAGES + TD_PAGES;
	uint64_t pages = (l->image_size + l->reloc_size) / PAGE + p->heap_pages + p->num_tcs * thread;
	uint64_t start = (p->flags & 2) ? p->start_address : 0;
	if (pages > max || start > EIMG_SGXS_MAX_SIZE || pages * PAGE + start > EIMG_SGXS_MAX_SIZE)
		return eimg_err(o->err, EIMG_EINVAL, o->source, "Open Enclave enclave: %llu pages (from address %#llx), above the limit of %llu GiB",
				(unsigned long long)pages, (unsigned long long)start,
				(unsigned long long)(EIMG_SGXS_MAX_SIZE >> 30));
	l->heap_rva = l->image_size + l->reloc_size;
	l->loaded_size = pages * PAGE;
	l->enclave_size = pow2(l->loaded_size);
	l->base_offset = start;
	l->ecreate_size = start ? pow2(l->loaded_size + start) : l->enclave_size;
	if (l->ecreate_size > EIMG_SGXS_MAX_SIZE)
		return bad(o, "the enclave's size rounded up to a power of two is above the limit");
	return EIMG_OK;
}

/* ---- patching (_patch_elf_image) ---- */

static int find_sym(struct oe *o, const char *name, uint64_t *value, bool *found)
{
	const struct eimg_elf_shdr *s = &o->sec[S_DYNSYM], *t = &o->sec[S_DYNSTR];
	size_t nl = strlen(name);
	*found = false;
	for (uint64_t i = 1; i < s->size / SYM_SIZE; i++) {
		const uint8_t *sym = o->file + s->offset + i * SYM_SIZE;
		uint32_t st_name = eimg_get_le32(sym);
		if (!st_name)
			continue;
		if (st_name >= t->size)
			return bad(o, "a .dynsym name lies past .dynstr");
		if (t->size - st_name > nl && memcmp(o->file + t->offset + st_name, name, nl + 1) == 0) {
			*value = eimg_get_le64(sym + 8);
			*found = true;
			return EIMG_OK;
		}
	}
	return EIMG_OK;
}

static int set_sym(struct oe *o, const char *name, uint64_t value, bool required)
{
	uint64_t at = 0;
	bool found;
	int rc = find_sym(o, name, &at, &found);
	if (rc)
		return rc;
	if (!found)
		return required ? eimg_err(o->err, EIMG_EINVAL, o->source,
					   "Open Enclave enclave: no dynamic symbol %s, which OE's loader patches", name) :
				  EIMG_OK;
	if (at > o->l.image_size || 8 > o->l.image_size - at)
		return eimg_err(o->err, EIMG_EINVAL, o->source, "Open Enclave enclave: symbol %s lies outside the image", name);
	eimg_le64(o->image + at, value == UINT64_MAX ? at : value);
	return EIMG_OK;
}

static int patch(struct oe *o)
{
	const struct eimg_oe_layout *l = &o->l;
	const struct eimg_elf_shdr *td = &o->sec[S_TDATA], *tb = &o->sec[S_TBSS];
	uint8_t *info = o->image + l->oeinfo_rva + 96;
	uint64_t v[6] = { l->oeinfo_rva, EIMG_OEINFO_SIZE, l->image_size, l->reloc_size, l->heap_rva, l->enclave_size };
	int rc;
	for (int i = 0; i < 6; i++)
		eimg_le64(info + 8 * i, v[i]);
	if ((rc = check_dynsym(o)) || (rc = set_sym(o, "_enclave_rva", UINT64_MAX, true)) ||
	    (rc = set_sym(o, "_reloc_rva", l->image_size, true)) || (rc = set_sym(o, "_reloc_size", l->reloc_size, true)))
		return rc;
	if (td->found && td->size &&
	    ((rc = set_sym(o, "_tdata_rva", td->addr, false)) || (rc = set_sym(o, "_tdata_size", td->size, false)) ||
	     (rc = set_sym(o, "_tdata_align", o->tdata_align, false))))
		return rc;
	if (tb->found && tb->size &&
	    ((rc = set_sym(o, "_tbss_size", tb->size, false)) || (rc = set_sym(o, "_tbss_align", tb->align, false))))
		return rc;
	if ((rc = set_sym(o, "_td_from_tcs_offset", (l->tls_pages + CONTROL_PAGES) * PAGE, false)))
		return rc;
	memset(o->image + l->oeinfo_rva + EIMG_OEINFO_SIGSTRUCT_OFF, 0, EIMG_SIGSTRUCT_SIZE);
	return EIMG_OK;
}

static void oe_free(struct oe *o)
{
	free(o->image);
	free(o->reloc);
}

/* Everything up to the stream: on success o owns the image and relocations. */
static int prepare(struct oe *o)
{
	int rc;
	if ((rc = eimg_oe_read(o->source, o->file, o->len, &o->p, o->err)) || (rc = check_props(o)) ||
	    (rc = read_header(o)) ||
	    (rc = eimg_elf_sections(o->source, o->file, o->len, sec_names, S_N, o->sec, o->err)) ||
	    (rc = read_segments(o)) || (rc = check_dynamic(o)) || (rc = stage_image(o)) || (rc = tls_pages(o)) || (rc = load_relocations(o)) ||
	    (rc = plan_size(o)) || (rc = patch(o)))
		oe_free(o);
	return rc;
}

int eimg_oe_plan(const char *source, const uint8_t *buf, size_t len, struct eimg_oe_properties *props,
		 struct eimg_oe_layout *out, eimg_error *err)
{
	struct oe o = { .source = source, .file = buf, .len = len, .err = err };
	int rc = prepare(&o);
	if (rc)
		return rc;
	oe_free(&o);
	*props = o.p;
	*out = o.l;
	return EIMG_OK;
}

/* ---- the load stream (add_pages, _add_data_pages) ---- */

static uint64_t seg_flags(uint32_t pf)
{
	return SI_REG | ((pf & 4) ? SI_R : 0) | ((pf & 2) ? SI_W : 0) | ((pf & 1) ? 4 : 0);
}

static int add_image(struct oe *o, eimg_sgxs_writer *w)
{
	struct eimg_elf_phdr ph;
	int rc;
	uint64_t b = o->l.base_offset;
	for (size_t i = 0; i < o->phnum; i++) {
		get_phdr(o, i, &ph);
		if (ph.type != PT_LOAD_)
			continue;
		for (uint64_t pg = ph.vaddr & ~(PAGE - 1); pg < ph.vaddr + ph.memsz; pg += PAGE)
			if ((rc = eimg_sgxs_writer_page(w, b + pg, seg_flags(ph.flags), o->image + pg, true, o->err)))
				return rc;
	}
	for (uint64_t r = 0; r < o->l.reloc_size; r += PAGE)
		if ((rc = eimg_sgxs_writer_page(w, b + o->l.image_size + r, SI_REG | SI_R, o->reloc + r, true, o->err)))
			return rc;
	return EIMG_OK;
}

static int add_thread(struct oe *o, eimg_sgxs_writer *w, uint64_t *va, const uint8_t *stack)
{
	const uint64_t rw = SI_REG | SI_R | SI_W, b = o->l.base_offset;
	uint8_t tcs[4096] = { 0 };
	int rc = 0;
	*va += PAGE;                                            /* guard */
	for (uint64_t i = 0; i < o->p.stack_pages && !rc; i++, *va += PAGE)
		rc = eimg_sgxs_writer_page(w, b + *va, rw, stack, true, o->err);
	if (rc)
		return rc;
	*va += PAGE;                                            /* guard */
	uint64_t fs = b + *va + (o->l.tls_pages + CONTROL_PAGES) * PAGE;
	eimg_le64(tcs + 16, b + *va + PAGE);                    /* OSSA */
	eimg_le32(tcs + 28, 2);                                 /* NSSA */
	eimg_le64(tcs + 32, b + o->l.entry);                    /* OENTRY */
	eimg_le64(tcs + 48, fs);                                /* OFSBASE */
	eimg_le64(tcs + 56, fs);                                /* OGSBASE */
	eimg_le32(tcs + 64, 0xffffffffu);
	eimg_le32(tcs + 68, 0xffffffffu);
	if ((rc = eimg_sgxs_writer_page(w, b + *va, SI_TCS, tcs, true, o->err)))
		return rc;
	*va += PAGE;
	for (int i = 0; i < 2 && !rc; i++, *va += PAGE)         /* SSA */
		rc = eimg_sgxs_writer_page(w, b + *va, rw, NULL, true, o->err);
	*va += PAGE;                                            /* guard */
	for (uint64_t i = 0; i < o->l.tls_pages + TD_PAGES && !rc; i++, *va += PAGE)
		rc = eimg_sgxs_writer_page(w, b + *va, rw, NULL, true, o->err);
	return rc;
}

static int add_data(struct oe *o, eimg_sgxs_writer *w)
{
	uint8_t stack[4096];
	uint64_t va = o->l.heap_rva;
	int rc = 0;
	memset(stack, 0xcc, sizeof(stack));
	for (uint64_t i = 0; i < o->p.heap_pages && !rc; i++, va += PAGE)
		rc = eimg_sgxs_writer_page(w, o->l.base_offset + va, SI_REG | SI_R | SI_W, NULL, false, o->err);
	for (uint64_t t = 0; t < o->p.num_tcs && !rc; t++)
		rc = add_thread(o, w, &va, stack);
	return rc;
}

int eimg_oe_stream(const char *source, const uint8_t *buf, size_t len, eimg_sink_fn sink, void *ctx, eimg_error *err)
{
	struct oe o = { .source = source, .file = buf, .len = len, .err = err };
	eimg_sgxs_writer *w = NULL;
	int rc = prepare(&o);
	if (rc)
		return rc;
	if (!(rc = eimg_sgxs_writer_new(o.l.ecreate_size, 1, sink, ctx, &w, err)) && !(rc = add_image(&o, w)) &&
	    !(rc = add_data(&o, w)))
		rc = eimg_sgxs_writer_finish(w, err);
	eimg_sgxs_writer_free(w);
	oe_free(&o);
	return rc;
}

struct src {
	const char *source;
	const uint8_t *buf;
	size_t len;
};

static int stream_fn(const void *s, eimg_sink_fn sink, void *ctx, eimg_error *err)
{
	const struct src *x = s;
	return eimg_oe_stream(x->source, x->buf, x->len, sink, ctx, err);
}

int eimg_oe_mrenclave(const char *source, const uint8_t *buf, size_t len, uint8_t out[32], eimg_error *err)
{
	struct src s = { source, buf, len };
	return eimg_stream_mrenclave(stream_fn, &s, out, err);
}

int eimg_oe_write_sgxs(const char *source, const uint8_t *buf, size_t len, const char *path, eimg_error *err)
{
	struct src s = { source, buf, len };
	return eimg_stream_write_file(stream_fn, &s, path, err);
}
