/* SPDX-License-Identifier: Apache-2.0 */
/* Intel SGX SDK enclaves: the ELF as Intel's loader sees it, the layout
 * table walk, and the load stream the sign tool measures (psw/urts/loader.cpp
 * and sdk/sign_tool in intel/linux-sgx describe the behaviour reproduced
 * here; man/enclave-measurement.7 states it). */
#include <stdlib.h>
#include <string.h>

#include "eimg/sdk_enclave.h"
#include "eimg/sgxs.h"
#include "sgx/sdk_int.h"
#include "sgx/elf_section.h"
#include "core/internal.h"

#define PAGE        ((uint64_t)EIMG_PAGE)
#define PT_LOAD_    1u
#define PT_DYNAMIC_ 2u
#define PHDR_SIZE   56u
#define SI_TCS      0x100ull
#define SI_REG      0x200ull
#define SI_EXTERNAL 0xff07ull
#define DT_TEXTREL_ 22u
#define DT_RELA_    7u
#define DT_RELASZ_  8u
#define DT_JMPREL_  23u
#define DT_PLTRELSZ_ 2u
#define MAX_DYN     4096u

static uint64_t trim(uint64_t v)
{
	return v & ~(PAGE - 1);
}

static uint64_t round_up(uint64_t v)
{
	return (v + PAGE - 1) & ~(PAGE - 1);
}

/* ---- the layout table ---- */

int eimg_sdk_walk(const struct eimg_sdk_metadata *m, eimg_sdk_place_fn fn, void *ctx)
{
	int rc;
	for (size_t i = 0; i < m->nlayout; i++) {
		const struct eimg_sdk_layout *r = &m->layout[i];
		if (!r->group) {
			if ((rc = fn(ctx, r, 0)))
				return rc;
			continue;
		}
		uint64_t step = 0;
		for (uint32_t j = 0; j < r->load_times; j++) {
			step += r->load_step;
			for (size_t k = i - r->entry_count; k < i; k++)
				if ((rc = fn(ctx, &m->layout[k], step)))
					return rc;
		}
	}
	return 0;
}

struct ranges {
	uint64_t (*r)[2];
	size_t n;
	uint64_t limit;
	bool bad;
};

static int collect(void *ctx, const struct eimg_sdk_layout *row, uint64_t delta)
{
	struct ranges *rs = ctx;
	uint64_t off = row->rva + delta, size = (uint64_t)row->page_count * PAGE;
	if (off % PAGE || off < row->rva || off >= rs->limit || size > rs->limit - off) {
		rs->bad = true;
		return 1;
	}
	rs->r[rs->n][0] = off;
	rs->r[rs->n][1] = size;
	rs->n++;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

static int check_rows(const struct eimg_sdk_metadata *m, const char *source, size_t idx, size_t *placed,
		      eimg_error *err)
{
	uint64_t total = 0;
	for (size_t i = 0; i < m->nlayout; i++) {
		const struct eimg_sdk_layout *r = &m->layout[i];
		if (r->group) {
			if (r->entry_count > i)
				return eimg_err(err, EIMG_EINVAL, source, "SDK metadata %zu: layout row %zu repeats %u rows, only %zu come before it",
						idx, i, r->entry_count, i);
			for (size_t k = i - r->entry_count; k < i; k++)
				if (m->layout[k].group)
					return eimg_err(err, EIMG_EINVAL, source, "SDK metadata %zu: layout row %zu: a group inside a group", idx, i);
			if (r->load_step && r->load_times > m->enclave_size / r->load_step)
				return eimg_err(err, EIMG_EINVAL, source, "SDK metadata %zu: layout row %zu: the group steps past the enclave", idx, i);
			total += (uint64_t)r->load_times * r->entry_count;
		} else {
			total++;
			if ((r->si_flags & ~SI_EXTERNAL) || (r->content_offset && !(r->content_offset < m->size &&
			    r->content_size <= m->size - r->content_offset)))
				return eimg_err(err, EIMG_EINVAL, source, "SDK metadata %zu: layout row %zu: SECINFO flags %#llx or content outside the metadata",
						idx, i, (unsigned long long)r->si_flags);
			if (r->content_offset && r->content_size > (r->si_flags == SI_TCS ? PAGE : (uint64_t)r->page_count * PAGE))
				return eimg_err(err, EIMG_EINVAL, source, "SDK metadata %zu: layout row %zu: content larger than its pages", idx, i);
		}
		if (total > EIMG_SDK_MAX_PLACED)
			return eimg_err(err, EIMG_EINVAL, source, "SDK metadata %zu: more than %u layout entries once groups are repeated",
					idx, EIMG_SDK_MAX_PLACED);
	}
	*placed = (size_t)total;
	return EIMG_OK;
}

int eimg_sdk_check_layout(const struct eimg_sdk_metadata *m, const char *source, size_t idx, eimg_error *err)
{
	size_t placed = 0;
	int rc = check_rows(m, source, idx, &placed, err);
	if (rc)
		return rc;
	struct ranges rs = { .limit = m->enclave_size };
	rs.r = malloc((placed ? placed : 1) * sizeof(*rs.r));
	if (!rs.r)
		return eimg_err_nomem(err);
	eimg_sdk_walk(m, collect, &rs);
	if (rs.bad) {
		rc = eimg_err(err, EIMG_EINVAL, source, "SDK metadata %zu: a layout entry is misaligned or outside the enclave (size %#llx)",
			      idx, (unsigned long long)m->enclave_size);
		goto out;
	}
	qsort(rs.r, rs.n, sizeof(*rs.r), cmp_range);
	for (size_t i = 0; i + 1 < rs.n; i++)
		if (rs.r[i][0] + rs.r[i][1] > rs.r[i + 1][0]) {
			rc = eimg_err(err, EIMG_EINVAL, source, "SDK metadata %zu: layout entries overlap at %#llx", idx,
				      (unsigned long long)rs.r[i + 1][0]);
			goto out;
		}
out:
	free(rs.r);
	return rc;
}

static int summarise_one(void *ctx, const struct eimg_sdk_layout *r, uint64_t delta)
{
	struct eimg_sdk_metadata *m = ctx;
	struct eimg_sdk_summary *s = &m->sum;
	uint64_t bytes = (uint64_t)r->page_count * PAGE;
	bool added = (r->attributes & EIMG_SDK_ATTR_EADD) && r->si_flags;
	switch (r->id) {
	case EIMG_SDK_TCS:
		s->tcs_static += added ? r->page_count : 0;
		s->tcs_removed += added && (r->attributes & EIMG_SDK_ATTR_EREMOVE) ? r->page_count : 0;
		break;
	case EIMG_SDK_TCS_DYN: s->tcs_dynamic += r->page_count; break;
	case EIMG_SDK_HEAP_MIN: s->heap_min += bytes; break;
	case EIMG_SDK_HEAP_INIT: s->heap_init += bytes; break;
	case EIMG_SDK_HEAP_MAX: s->heap_max += bytes; break;
	case EIMG_SDK_RSRV_MIN: s->reserved_min += bytes; break;
	case EIMG_SDK_RSRV_INIT: s->reserved_init += bytes; break;
	case EIMG_SDK_RSRV_MAX: s->reserved_max += bytes; break;
	case EIMG_SDK_USER_REGION: s->user_region += bytes; break;
	case EIMG_SDK_STACK_MIN: if (!delta && !s->stack_min) s->stack_min = bytes; break;
	case EIMG_SDK_STACK_MAX: if (!delta && !s->stack_max) s->stack_max = bytes; break;
	case EIMG_SDK_SSA: if (!delta && !s->ssa_pages) s->ssa_pages = r->page_count; break;
	default: break;
	}
	return 0;
}

void eimg_sdk_summarise(struct eimg_sdk_metadata *m)
{
	struct eimg_sdk_summary *s = &m->sum;
	memset(s, 0, sizeof(*s));
	eimg_sdk_walk(m, summarise_one, m);
	/* The table holds increments: init = min + init row, max = init + max row;
	 * the stack's max row is what lies above its min row. */
	s->heap_init += s->heap_min;
	s->heap_max += s->heap_init;
	s->reserved_init += s->reserved_min;
	s->reserved_max += s->reserved_init;
	s->stack_max += s->stack_min;
	s->tcs_max = s->tcs_static + s->tcs_dynamic;
	s->nssa = m->ssa_frame_size ? s->ssa_pages / m->ssa_frame_size : 0;
}

/* ---- the ELF ---- */

static void get_phdr(const eimg_sdk_enclave *e, size_t i, struct eimg_elf_phdr *ph)
{
	eimg_elf_phdr_get(e->file, eimg_get_le64(e->file + 32), i, ph);
}

static int check_segments(eimg_sdk_enclave *e, eimg_error *err)
{
	struct eimg_elf_phdr a, b;
	for (size_t i = 0; i < e->phnum; i++) {
		get_phdr(e, i, &a);
		if (a.offset > e->file_len || a.filesz > e->file_len - a.offset)
			return eimg_err(err, EIMG_EINVAL, e->source, "program header %zu lies outside the file", i);
		if (a.type != PT_LOAD_)
			continue;
		if (a.align % PAGE || a.filesz > a.memsz || a.vaddr + a.memsz < a.vaddr || !(a.flags & 7))
			return eimg_err(err, EIMG_EINVAL, e->source,
					"segment %zu: not page-aligned, file size above memory size, or no R/W/X (Intel's loader refuses it)", i);
		for (size_t j = 0; j < i; j++) {
			get_phdr(e, j, &b);
			uint64_t ea = round_up(a.vaddr + a.memsz), eb = round_up(b.vaddr + b.memsz);
			if (b.type == PT_LOAD_ && a.vaddr < eb && b.vaddr < ea)
				return eimg_err(err, EIMG_EINVAL, e->source, "segments %zu and %zu overlap", j, i);
		}
	}
	return EIMG_OK;
}

static int find_textrel(eimg_sdk_enclave *e)
{
	struct eimg_elf_phdr ph;
	for (size_t i = 0; i < e->phnum; i++) {
		get_phdr(e, i, &ph);
		if (ph.type != PT_DYNAMIC_)
			continue;
		for (uint64_t o = 0; o + 16 <= ph.filesz && o < MAX_DYN * 16; o += 16) {
			uint64_t tag = eimg_get_le64(e->file + ph.offset + o);
			if (tag == 0)
				break;
			if (tag == DT_TEXTREL_)
				e->textrel = true;
		}
	}
	return EIMG_OK;
}

int eimg_sdk_read_elf(eimg_sdk_enclave *e, eimg_error *err)
{
	const uint8_t *f = e->file;
	if (e->file_len < 64 || f[4] != 2 || f[5] != 1 || eimg_get_le16(f + 18) != 62)
		return eimg_err(err, EIMG_EINVAL, e->source, "not a 64-bit little-endian x86-64 ELF (Intel SGX SDK enclaves are)");
	uint64_t phoff = eimg_get_le64(f + 32);
	uint16_t phentsize = eimg_get_le16(f + 54), phnum = eimg_get_le16(f + 56);
	if (phentsize != PHDR_SIZE || phnum > EIMG_SDK_MAX_PHDRS || phoff > e->file_len ||
	    (uint64_t)phnum * PHDR_SIZE > e->file_len - phoff)
		return eimg_err(err, EIMG_EINVAL, e->source, "ELF program headers are malformed or outside the file");
	e->entry = eimg_get_le64(f + 24);
	e->phnum = phnum;
	int rc = check_segments(e, err);
	return rc ? rc : find_textrel(e);
}

/* ---- the load stream ---- */

struct emit {
	const eimg_sdk_enclave *e;
	const struct eimg_sdk_metadata *m;
	const uint8_t *file;        /* patched copy */
	eimg_sgxs_writer *w;
	uint64_t shift;             /* ELRANGE: image address - range start */
	uint8_t *bitmap;            /* pages with text relocations, or NULL */
	uint64_t bitmap_pages;
	uint8_t page[4096];
	eimg_error *err;
};

static int put(struct emit *em, uint64_t rva, uint64_t flags, const uint8_t *page, bool extend)
{
	return eimg_sgxs_writer_page(em->w, rva + em->shift, flags, page, extend, em->err);
}

static bool reloc_page(const struct emit *em, uint64_t rva)
{
	uint64_t pg = rva / PAGE;
	return em->bitmap && pg < em->bitmap_pages && (em->bitmap[pg / 8] >> (pg % 8) & 1);
}

/* Intel's build_mem_region: initialised bytes page by page (a partial page
 * zero-filled around them), then zero pages up to the virtual size. */
static int mem_region(struct emit *em, const uint8_t *data, uint64_t raw, uint64_t rva, uint64_t vsize, uint64_t flags)
{
	uint64_t off = 0;
	int rc;
	while (off < raw) {
		uint64_t at = rva + off, in = at % PAGE, n = PAGE - in < raw - off ? PAGE - in : raw - off;
		uint64_t f = reloc_page(em, at) ? flags | 2 : flags;
		if (n == PAGE) {
			rc = put(em, at, f, data + off, true);
		} else {
			memset(em->page, 0, PAGE);
			memcpy(em->page + in, data + off, n);
			rc = put(em, trim(at), f, em->page, true);
		}
		if (rc)
			return rc;
		off += PAGE - in;
	}
	if (vsize > off) {
		uint64_t at = rva + off, end = trim(at) + round_up(vsize - off + at % PAGE);
		for (uint64_t p = trim(at); p < end; p += PAGE)
			if ((rc = put(em, p, flags, NULL, true)))
				return rc;
	}
	return EIMG_OK;
}

/* File offset of the bytes at address a (inside a PT_LOAD's file part). */
static bool addr_to_file(const eimg_sdk_enclave *e, uint64_t a, uint64_t len, uint64_t *off)
{
	struct eimg_elf_phdr ph;
	for (size_t i = 0; i < e->phnum; i++) {
		get_phdr(e, i, &ph);
		if (ph.type == PT_LOAD_ && a >= ph.vaddr && a - ph.vaddr <= ph.filesz && len <= ph.filesz - (a - ph.vaddr)) {
			*off = ph.offset + (a - ph.vaddr);
			return true;
		}
	}
	return false;
}

static void mark(struct emit *em, uint64_t pg)
{
	if (pg < em->bitmap_pages)
		em->bitmap[pg / 8] |= (uint8_t)(1u << (pg % 8));
}

/* Intel's get_reloc_bitmap: with DT_TEXTREL, every page a RELA or PLT
 * relocation (other than R_X86_64_NONE) writes to, and the next page when
 * the 8-byte target crosses into it. */
static int reloc_bitmap(struct emit *em)
{
	const eimg_sdk_enclave *e = em->e;
	uint64_t tab[2][2] = { { 0, 0 }, { 0, 0 } }; /* {addr, size} of RELA and JMPREL */
	struct eimg_elf_phdr ph;
	for (size_t i = 0; i < e->phnum; i++) {
		get_phdr(e, i, &ph);
		for (uint64_t o = 0; ph.type == PT_DYNAMIC_ && o + 16 <= ph.filesz && o < MAX_DYN * 16; o += 16) {
			uint64_t tag = eimg_get_le64(e->file + ph.offset + o), val = eimg_get_le64(e->file + ph.offset + o + 8);
			if (tag == DT_RELA_) tab[0][0] = val;
			else if (tag == DT_RELASZ_) tab[0][1] = val;
			else if (tag == DT_JMPREL_) tab[1][0] = val;
			else if (tag == DT_PLTRELSZ_) tab[1][1] = val;
		}
	}
	em->bitmap_pages = em->m->enclave_size / PAGE;
	em->bitmap = calloc(em->bitmap_pages / 8 + 1, 1);
	if (!em->bitmap)
		return eimg_err_nomem(em->err);
	for (int t = 0; t < 2; t++) {
		uint64_t off;
		if (!tab[t][0])
			continue;
		if (!addr_to_file(e, tab[t][0], tab[t][1], &off))
			return eimg_err(em->err, EIMG_EINVAL, e->source, "a relocation table lies outside the loaded file");
		for (uint64_t r = 0; r + 24 <= tab[t][1]; r += 24) {
			uint64_t where = eimg_get_le64(e->file + off + r);
			if ((uint32_t)eimg_get_le64(e->file + off + r + 8) == 0)
				continue;
			mark(em, where / PAGE);
			if (where % PAGE > PAGE - 8)
				mark(em, where / PAGE + 1);
		}
	}
	return EIMG_OK;
}

static uint64_t seg_flags(uint32_t pf)
{
	/* ELF PF_X 1, PF_W 2, PF_R 4 to SECINFO R 1, W 2, X 4. */
	return SI_REG | ((pf & 4) ? 1 : 0) | ((pf & 2) ? 2 : 0) | ((pf & 1) ? 4 : 0);
}

static bool is_v1_3(uint64_t v)
{
	return v == ((uint64_t)1 << 32 | 3);
}

/* Metadata 1.3 (SDK 1.5) added one more zero page after the segment with
 * the highest address when its end is not page-aligned within its last page
 * run; Intel's loader still does, for those enclaves' sake. */
static int v13_extra(struct emit *em, const struct eimg_elf_phdr *last, const struct eimg_elf_phdr *next)
{
	uint64_t end = round_up(last->vaddr + last->memsz);
	if (end >= round_up(round_up(last->memsz) + last->vaddr))
		return EIMG_OK;
	if (next && end >= trim(next->vaddr))
		return EIMG_OK;
	return put(em, end, seg_flags(last->flags), NULL, true);
}

static int segments(struct emit *em)
{
	const eimg_sdk_enclave *e = em->e;
	struct eimg_elf_phdr ph, last;
	bool have_last = false;     /* Intel's last_section: the highest rva above 0 */
	uint64_t max_rva = 0;
	int rc;
	for (size_t i = 0; i < e->phnum; i++) {
		get_phdr(e, i, &ph);
		if (ph.type != PT_LOAD_)
			continue;
		if (is_v1_3(em->m->version) && have_last && (rc = v13_extra(em, &last, &ph)))
			return rc;
		if (ph.vaddr > max_rva) {
			max_rva = ph.vaddr;
			last = ph;
			have_last = true;
		}
		if ((rc = mem_region(em, em->file + ph.offset, ph.filesz, ph.vaddr, ph.memsz, seg_flags(ph.flags))))
			return rc;
	}
	if (is_v1_3(em->m->version) && have_last)
		return v13_extra(em, &last, NULL);
	return EIMG_OK;
}

/* Intel's build_context for one placed layout entry. */
static int place(void *ctx, const struct eimg_sdk_layout *r, uint64_t delta)
{
	struct emit *em = ctx;
	uint64_t rva = r->rva + delta;
	bool extend = (r->attributes & (EIMG_SDK_ATTR_EADD | EIMG_SDK_ATTR_EEXTEND)) ==
		      (EIMG_SDK_ATTR_EADD | EIMG_SDK_ATTR_EEXTEND);
	int rc = 0;
	if (!(r->attributes & EIMG_SDK_ATTR_EADD))
		return 0;
	if (r->content_offset && r->si_flags != SI_TCS)
		return mem_region(em, em->m->blob + r->content_offset, r->content_size, rva, (uint64_t)r->page_count * PAGE,
				  r->si_flags);
	if (!r->content_offset && !r->si_flags)
		return 0;                    /* guard pages */
	const uint8_t *src = NULL;
	if (r->content_offset) {
		/* TCS from its template, offsets moved to this page. */
		memset(em->page, 0, PAGE);
		memcpy(em->page, em->m->blob + r->content_offset, r->content_size);
		eimg_le64(em->page + 16, eimg_get_le64(em->page + 16) + rva);
		eimg_le64(em->page + 48, eimg_get_le64(em->page + 48) + rva);
		eimg_le64(em->page + 56, eimg_get_le64(em->page + 56) + rva);
		src = em->page;
	} else if (r->content_size) {
		for (unsigned i = 0; i < PAGE; i += 4)
			eimg_le32(em->page + i, r->content_size);
		src = em->page;
	}
	for (uint32_t p = 0; p < r->page_count && !rc; p++)
		rc = put(em, rva + (uint64_t)p * PAGE, r->si_flags, src, extend);
	return rc;
}

static int apply_patches(struct emit *em, uint8_t *copy)
{
	const struct eimg_sdk_metadata *m = em->m;
	for (size_t i = 0; i < m->npatch; i++) {
		const struct eimg_sdk_patch *p = &m->patch[i];
		if (p->dst > em->e->file_len || p->size > em->e->file_len - p->dst)
			return eimg_err(em->err, EIMG_EINVAL, em->e->source, "SDK metadata: patch entry %zu writes past the end of the file", i);
		memcpy(copy + p->dst, m->blob + p->src, p->size);
	}
	return EIMG_OK;
}

int eimg_sdk_stream(const eimg_sdk_enclave *e, size_t which, eimg_sink_fn sink, void *ctx, eimg_error *err)
{
	if (which >= e->nmeta)
		return eimg_err(err, EIMG_EINVAL, e->source, "SDK metadata %zu: there are only %zu", which, e->nmeta);
	const struct eimg_sdk_metadata *m = &e->meta[which];
	if (m->extend_shared_object)
		return eimg_err(err, EIMG_EINVAL, e->source,
				"SDK metadata: the enclave embeds a FIPS provider (extend entry 0x1002), whose pages this reader does not measure");
	struct emit *em = calloc(1, sizeof(*em));
	uint8_t *copy = malloc(e->file_len ? e->file_len : 1);
	int rc;
	if (!em || !copy) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	memcpy(copy, e->file, e->file_len);
	em->e = e;
	em->m = m;
	em->file = copy;
	em->err = err;
	em->shift = m->elrange_size ? m->elrange_image - m->elrange_start : 0;
	if ((rc = apply_patches(em, copy)) || (e->textrel && (rc = reloc_bitmap(em))))
		goto out;
	rc = eimg_sgxs_writer_new(m->elrange_size ? m->elrange_size : m->enclave_size, m->ssa_frame_size, sink, ctx, &em->w,
				  err);
	if (rc)
		goto out;
	if ((rc = segments(em)))
		goto out;
	rc = eimg_sdk_walk(m, place, em);
	if (!rc)
		rc = eimg_sgxs_writer_finish(em->w, err);
out:
	if (em) {
		eimg_sgxs_writer_free(em->w);
		free(em->bitmap);
	}
	free(em);
	free(copy);
	return rc;
}

struct which {
	const eimg_sdk_enclave *e;
	size_t which;
};

static int stream_fn(const void *src, eimg_sink_fn sink, void *ctx, eimg_error *err)
{
	const struct which *w = src;
	return eimg_sdk_stream(w->e, w->which, sink, ctx, err);
}

int eimg_sdk_mrenclave(const eimg_sdk_enclave *e, size_t which, uint8_t out[32], eimg_error *err)
{
	struct which w = { e, which };
	return eimg_stream_mrenclave(stream_fn, &w, out, err);
}

int eimg_sdk_write_sgxs(const eimg_sdk_enclave *e, const char *path, eimg_error *err)
{
	struct which w = { e, 0 };
	return eimg_stream_write_file(stream_fn, &w, path, err);
}
