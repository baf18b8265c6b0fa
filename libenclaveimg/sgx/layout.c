/* SPDX-License-Identifier: Apache-2.0 */
/* The SGX enclave page layout, version 1 (layout.h; normative text in
 * man/enclave-measurement.7). */
#include <stdlib.h>
#include <string.h>

#include "eimg/layout.h"
#include "core/internal.h"

#define PAGE ((uint64_t)EIMG_PAGE)

#define TCS_LEN 72   /* significant bytes of a TCS page */
#define TLS_LEN 88   /* significant bytes of a thread data page */

#define INFO_HDR 64  /* info blob header */
#define INFO_ENT 32  /* one entry of the info blob table */

static uint64_t align8(uint64_t v) { return (v + 7) & ~(uint64_t)7; }

/* Bytes an item takes in the info blob: the item, one zero byte, padding to 8. */
static int item_size(uint64_t len, uint64_t *out)
{
	uint64_t v;
	if (eimg_add_overflow(len, 8, &v))
		return -1;
	*out = v & ~(uint64_t)7;
	return 0;
}

/* Adds n to *acc; returns -1 on overflow. */
static int acc_add(uint64_t *acc, uint64_t n)
{
	return eimg_add_overflow(*acc, n, acc) ? -1 : 0;
}

static int blob_size(const struct eimg_layout_input *in, uint64_t *out)
{
	uint64_t n = INFO_HDR, t, k;
	if (eimg_mul_overflow((uint64_t)in->nfiles + in->nkeys, INFO_ENT, &t) || acc_add(&n, t))
		return -1;
	if (item_size(in->manifest_len, &k) || acc_add(&n, k))
		return -1;
	for (size_t pass = 0; pass < 2; pass++) {
		const struct eimg_member *m = pass ? in->keys : in->files;
		size_t cnt = pass ? in->nkeys : in->nfiles;
		for (size_t i = 0; i < cnt; i++) {
			if (item_size(strlen(m[i].name), &k) || acc_add(&n, k))
				return -1;
			if (item_size(m[i].size, &k) || acc_add(&n, k))
				return -1;
		}
	}
	*out = n;
	return 0;
}

/* Writes len bytes at *pos followed by one zero and padding to 8 (the blob is
 * zeroed beforehand); returns the item's offset. */
static uint64_t put_item(uint8_t *blob, uint64_t *pos, const void *p, uint64_t len)
{
	uint64_t at = *pos;
	if (len)
		memcpy(blob + at, p, len);
	*pos = align8(at + len + 1);
	return at;
}

static void build_blob(const struct eimg_layout_input *in, int mode, uint8_t *blob, uint64_t len)
{
	uint64_t nent = (uint64_t)in->nfiles + in->nkeys;
	uint64_t pos = INFO_HDR + nent * INFO_ENT;

	memcpy(blob, "EIMGINFO", 8);
	eimg_le32(blob + 8, EIMG_LAYOUT_VERSION);
	eimg_le32(blob + 12, (uint32_t)mode);
	eimg_le64(blob + 16, len);
	uint64_t moff = put_item(blob, &pos, in->manifest_json, in->manifest_len);
	eimg_le64(blob + 24, moff);
	eimg_le64(blob + 32, in->manifest_len);
	eimg_le32(blob + 40, (uint32_t)in->nfiles);
	eimg_le32(blob + 44, (uint32_t)in->nkeys);
	eimg_le64(blob + 48, INFO_HDR);
	/* 56: zero */
	uint8_t *ent = blob + INFO_HDR;
	for (size_t pass = 0; pass < 2; pass++) {
		const struct eimg_member *m = pass ? in->keys : in->files;
		size_t cnt = pass ? in->nkeys : in->nfiles;
		for (size_t i = 0; i < cnt; i++, ent += INFO_ENT) {
			uint64_t nlen = strlen(m[i].name);
			uint64_t noff = put_item(blob, &pos, m[i].name, nlen);
			uint64_t doff = put_item(blob, &pos, m[i].data, m[i].size);
			eimg_le64(ent, noff);
			eimg_le64(ent + 8, nlen);
			eimg_le64(ent + 16, doff);
			eimg_le64(ent + 24, m[i].size);
		}
	}
}

static int check_sorted(const struct eimg_member *m, size_t n, const char *what, eimg_error *err)
{
	for (size_t i = 1; i < n; i++)
		if (strcmp(m[i - 1].name, m[i].name) >= 0)
			return eimg_err(err, EIMG_EINTERNAL, NULL, "layout: %s are not sorted by name and unique", what);
	return EIMG_OK;
}

/* The manifest's SGX settings, the checked ELF and the sorted files and keys;
 * *blob_len: the bytes of the info region's blob. */
static int check_input(const struct eimg_layout_input *in, uint64_t *blob_len, eimg_error *err)
{
	const eimg_manifest *m = in->manifest;
	const eimg_elf *elf = in->elf;
	int rc;

	if (!m || !elf || (!in->manifest_json && in->manifest_len))
		return eimg_err(err, EIMG_EINTERNAL, NULL, "layout: missing input");
	const struct eimg_manifest_sgx *sgx = &m->sgx;
	const char *src = m->source;
	if (m->target != EIMG_TARGET_SGX)
		return eimg_err(err, EIMG_EINVAL, src, "the SGX layout needs target: sgx");
	if (m->mode != EIMG_MODE_HARDWARE && m->mode != EIMG_MODE_SIMULATION)
		return eimg_err(err, EIMG_EINVAL, src, "mode must be hardware or simulation");
	if (sgx->threads < 1 || sgx->threads > EIMG_MAX_THREADS)
		return eimg_err(err, EIMG_EINVAL, src, "sgx.threads: expected 1 to %d, got %u",
				EIMG_MAX_THREADS, sgx->threads);
	if (sgx->ssa_frames < 1)
		return eimg_err(err, EIMG_EINVAL, src, "sgx.ssa_frames: expected at least 1, got 0");
	if (sgx->ssa_frame_size < 1)
		return eimg_err(err, EIMG_EINVAL, src, "sgx.ssa_frame_size: expected at least 1 page, got 0");
	if (sgx->heap_size % PAGE)
		return eimg_err(err, EIMG_EINVAL, src, "sgx.heap_size: %llu is not a multiple of 4096",
				(unsigned long long)sgx->heap_size);
	if (sgx->stack_size % PAGE || sgx->stack_size == 0)
		return eimg_err(err, EIMG_EINVAL, src,
				"sgx.stack_size: %llu is not a positive multiple of 4096",
				(unsigned long long)sgx->stack_size);
	if (elf->nseg == 0 || elf->image_end % PAGE || elf->image_end > EIMG_ELF_MAX_IMAGE)
		return eimg_err(err, EIMG_EINTERNAL, NULL, "layout: ELF was not checked");
	if ((rc = check_sorted(in->files, in->nfiles, "files", err)) ||
	    (rc = check_sorted(in->keys, in->nkeys, "user keys", err)))
		return rc;
	if (blob_size(in, blob_len) || *blob_len > EIMG_MAX_ENCLAVE_SIZE)
		return eimg_err(err, EIMG_EINVAL, src, "the measured files and keys exceed the enclave size limit of %llu GiB",
				(unsigned long long)(EIMG_MAX_ENCLAVE_SIZE >> 30));
	return EIMG_OK;
}

/* The SSA size of one thread and the enclave size (a power of two), with
 * every sum checked against the size limit. */
static int plan_size(const struct eimg_layout_input *in, uint64_t info_size, uint64_t *ssa_size, uint64_t *size,
		     eimg_error *err)
{
	const struct eimg_manifest_sgx *sgx = &in->manifest->sgx;
	uint64_t v, cur;

	/* Per-thread span: guard, stack, TCS, thread data, SSA. */
	if (eimg_mul_overflow((uint64_t)sgx->ssa_frames, sgx->ssa_frame_size, &v) ||
	    eimg_mul_overflow(v, PAGE, ssa_size))
		goto too_big;
	uint64_t per_thread = 3 * PAGE, all_threads;
	if (acc_add(&per_thread, sgx->stack_size) || acc_add(&per_thread, *ssa_size) ||
	    eimg_mul_overflow(per_thread, sgx->threads, &all_threads))
		goto too_big;
	cur = in->elf->image_end;
	if (acc_add(&cur, info_size) || acc_add(&cur, PAGE) || acc_add(&cur, sgx->heap_size) ||
	    acc_add(&cur, all_threads) || cur > EIMG_MAX_ENCLAVE_SIZE)
		goto too_big;
	*size = 2 * PAGE;
	while (*size < cur)
		*size <<= 1;
	if (*size > EIMG_MAX_ENCLAVE_SIZE)
		goto too_big;
	return EIMG_OK;
too_big:
	return eimg_err(err, EIMG_EINVAL, in->manifest->source,
			"the enclave (ELF, measured files, heap, %u threads with stack and SSA) exceeds the size limit of %llu GiB",
			sgx->threads, (unsigned long long)(EIMG_MAX_ENCLAVE_SIZE >> 30));
}

/* Thread t at *cur: guard page, stack, TCS, thread data, SSA; its TCS and
 * thread data written into td; four regions appended at r[*n]. */
static void add_thread(eimg_layout *l, const struct eimg_manifest_sgx *sgx, uint64_t entry, uint32_t t,
		       uint64_t ssa_size, uint8_t *td, uint64_t *cur, size_t *n)
{
	struct eimg_region *r = l->regions;
	uint64_t stack = *cur + PAGE;
	uint64_t tcs = stack + sgx->stack_size;
	uint64_t tls = tcs + PAGE;
	uint64_t ssa = tls + PAGE;
	uint8_t *tcsb = td, *tlsb = td + TCS_LEN;
	l->tcs_offsets[t] = tcs;

	eimg_le64(tcsb + 16, ssa);               /* OSSA */
	eimg_le32(tcsb + 28, sgx->ssa_frames);   /* NSSA */
	eimg_le64(tcsb + 32, entry);             /* OENTRY */
	eimg_le64(tcsb + 48, tls);               /* OFSBASE */
	eimg_le64(tcsb + 56, tls);               /* OGSBASE */
	eimg_le32(tcsb + 64, 0xfff);             /* FSLIMIT */
	eimg_le32(tcsb + 68, 0xfff);             /* GSLIMIT */

	eimg_le64(tlsb + 0, tls);
	eimg_le64(tlsb + 8, tcs);                /* stack top */
	eimg_le64(tlsb + 16, stack);             /* stack base */
	eimg_le64(tlsb + 24, tcs);
	eimg_le64(tlsb + 32, ssa);
	eimg_le64(tlsb + 40, l->heap_offset);
	eimg_le64(tlsb + 48, l->heap_size);
	eimg_le64(tlsb + 56, l->info_offset);
	eimg_le64(tlsb + 64, t);
	eimg_le64(tlsb + 72, sgx->threads);
	eimg_le64(tlsb + 80, l->size);

	const uint64_t rw = EIMG_SECINFO_REG | EIMG_SECINFO_R | EIMG_SECINFO_W;
	r[(*n)++] = (struct eimg_region){ .offset = stack, .size = sgx->stack_size, .secinfo = rw,
		.measured = true, .kind = EIMG_REGION_STACK, .thread = t };
	r[(*n)++] = (struct eimg_region){ .offset = tcs, .size = PAGE, .secinfo = EIMG_SECINFO_TCS,
		.measured = true, .kind = EIMG_REGION_TCS, .thread = t, .data = tcsb, .data_len = TCS_LEN };
	r[(*n)++] = (struct eimg_region){ .offset = tls, .size = PAGE, .secinfo = rw,
		.measured = true, .kind = EIMG_REGION_TLS, .thread = t, .data = tlsb, .data_len = TLS_LEN };
	r[(*n)++] = (struct eimg_region){ .offset = ssa, .size = ssa_size, .secinfo = rw,
		.measured = true, .kind = EIMG_REGION_SSA, .thread = t };
	*cur = ssa + ssa_size;
}

int eimg_layout_sgx(const struct eimg_layout_input *in, eimg_layout **out, eimg_error *err)
{
	const eimg_manifest *m = in->manifest;
	const eimg_elf *elf = in->elf;
	eimg_layout *l = NULL;
	uint64_t blob_len = 0, info_size, cur, ssa_size = 0, size = 0;
	int rc;

	if ((rc = check_input(in, &blob_len, err)))
		return rc;
	const struct eimg_manifest_sgx *sgx = &m->sgx;
	info_size = (blob_len + PAGE - 1) & ~(PAGE - 1);
	if ((rc = plan_size(in, info_size, &ssa_size, &size, err)))
		return rc;

	l = calloc(1, sizeof(*l));
	if (!l)
		return eimg_err_nomem(err);
	size_t nreg = elf->nseg + 2 + (size_t)sgx->threads * 4;
	size_t owned_len = (size_t)info_size + (size_t)sgx->threads * (TCS_LEN + TLS_LEN);
	l->regions = calloc(nreg, sizeof(*l->regions));
	l->tcs_offsets = calloc(sgx->threads, sizeof(*l->tcs_offsets));
	l->owned = calloc(1, owned_len);
	if (!l->regions || !l->tcs_offsets || !l->owned) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	l->size = size;
	l->ssa_frame_size = sgx->ssa_frame_size;
	l->ssa_frames = sgx->ssa_frames;
	l->threads = sgx->threads;
	l->entry = elf->entry;
	l->mode = m->mode;

	struct eimg_region *r = l->regions;
	size_t n = 0;
	for (size_t i = 0; i < elf->nseg; i++) {
		const struct eimg_elf_segment *s = &elf->seg[i];
		r[n] = (struct eimg_region){
			.offset = s->vaddr, .size = s->memsz,
			.secinfo = EIMG_SECINFO_REG | (s->flags & (EIMG_SEG_R | EIMG_SEG_W | EIMG_SEG_X)),
			.measured = true, .kind = EIMG_REGION_ELF,
			.data = s->filesz ? elf->data + s->file_off : NULL,
			.data_off = s->data_off, .data_len = s->filesz,
		};
		n++;
	}
	uint8_t *blob = l->owned;
	build_blob(in, m->mode, blob, blob_len);
	cur = elf->image_end;
	l->info_offset = cur;
	r[n++] = (struct eimg_region){
		.offset = cur, .size = info_size, .secinfo = EIMG_SECINFO_REG | EIMG_SECINFO_R,
		.measured = true, .kind = EIMG_REGION_INFO, .data = blob, .data_len = blob_len,
	};
	cur += info_size + PAGE;
	l->heap_offset = cur;
	l->heap_size = sgx->heap_size;
	if (sgx->heap_size) {
		r[n++] = (struct eimg_region){
			.offset = cur, .size = sgx->heap_size,
			.secinfo = EIMG_SECINFO_REG | EIMG_SECINFO_R | EIMG_SECINFO_W,
			.measured = true, .kind = EIMG_REGION_HEAP,
		};
	}
	cur += sgx->heap_size;
	uint8_t *td = blob + info_size;
	for (uint32_t t = 0; t < sgx->threads; t++, td += TCS_LEN + TLS_LEN)
		add_thread(l, sgx, elf->entry, t, ssa_size, td, &cur, &n);
	l->nregions = n;
	l->npages = 0;
	for (size_t i = 0; i < n; i++)
		l->npages += r[i].size / PAGE;
	*out = l;
	return EIMG_OK;
out:
	eimg_layout_free(l);
	return rc;
}

void eimg_region_page(const struct eimg_region *r, uint64_t i, uint8_t *out)
{
	uint64_t lo = i * PAGE, hi = lo + PAGE;
	uint64_t dlo = r->data_off, dhi = r->data_off + r->data_len;
	memset(out, 0, PAGE);
	if (!r->data || dhi <= lo || dlo >= hi)
		return;
	uint64_t a = dlo > lo ? dlo : lo;
	uint64_t b = dhi < hi ? dhi : hi;
	memcpy(out + (a - lo), r->data + (a - dlo), b - a);
}

void eimg_layout_free(eimg_layout *l)
{
	if (!l)
		return;
	free(l->regions);
	free(l->tcs_offsets);
	free(l->owned);
	free(l);
}
