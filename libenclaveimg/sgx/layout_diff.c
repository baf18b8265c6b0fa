/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-measure --diff for SGX: two page layouts (regions, then page by
 * page, named by region and ELF segment), and two SGXS streams record by
 * record.  Private interface: core/diff_int.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "eimg/report.h"
#include "core/diff_int.h"

#define PAGE 4096u

static void perms(uint64_t secinfo, char out[5])
{
	if (secinfo & EIMG_SECINFO_TCS) {
		snprintf(out, 5, "tcs");
		return;
	}
	out[0] = secinfo & EIMG_SECINFO_R ? 'r' : '-';
	out[1] = secinfo & EIMG_SECINFO_W ? 'w' : '-';
	out[2] = secinfo & EIMG_SECINFO_X ? 'x' : '-';
	out[3] = '\0';
}

/* "ELF segment 2 (r-x)", "heap", "stack of thread 1", ... */
static void region_name(const struct eimg_region *r, const eimg_elf *e, char *out, size_t size)
{
	char p[5];
	perms(r->secinfo, p);
	if (r->kind == EIMG_REGION_ELF && e) {
		for (size_t i = 0; i < e->nseg; i++)
			if (r->offset >= e->seg[i].vaddr && r->offset < e->seg[i].vaddr + e->seg[i].memsz) {
				snprintf(out, size, "ELF segment %zu (%s)", i, p);
				return;
			}
	}
	if (r->kind == EIMG_REGION_STACK || r->kind == EIMG_REGION_TCS || r->kind == EIMG_REGION_TLS ||
	    r->kind == EIMG_REGION_SSA)
		snprintf(out, size, "%s of thread %u (%s)", eimg_region_kind_name(r->kind), r->thread, p);
	else
		snprintf(out, size, "%s (%s)", eimg_region_kind_name(r->kind), p);
}

/* Page by page within two regions of the same shape; runs of differing
 * pages become one item each. */
static void diff_pages(eimg_diff *d, const struct eimg_region *ra, const struct eimg_region *rb, const char *name)
{
	uint8_t pa[PAGE], pb[PAGE];
	uint64_t pages = ra->size / PAGE, run = 0, ndiff = 0;
	for (uint64_t i = 0; i <= pages; i++) {
		bool differs = false;
		if (i < pages) {
			eimg_region_page(ra, i, pa);
			eimg_region_page(rb, i, pb);
			differs = memcmp(pa, pb, PAGE) != 0;
		}
		if (differs) {
			if (run++ == 0)
				ndiff = i; /* start of the run */
			continue;
		}
		if (run) {
			uint64_t lo = ra->offset + ndiff * PAGE, hi = lo + run * PAGE - 1;
			eimg_diff_add(d, true, "pages", "0x%" PRIx64 "-0x%" PRIx64 " (%s): %" PRIu64 " of %" PRIu64
				      " pages differ", lo, hi, name, run, pages);
			run = 0;
		}
	}
}

static void diff_region(eimg_diff *d, const struct eimg_region *ra, const eimg_elf *ea, const struct eimg_region *rb,
			const eimg_elf *eb)
{
	char na[96], nb[96];
	if (ra)
		region_name(ra, ea, na, sizeof(na));
	if (rb)
		region_name(rb, eb, nb, sizeof(nb));
	if (!ra || !rb) {
		const struct eimg_region *r = ra ? ra : rb;
		eimg_diff_add(d, true, "layout", "0x%" PRIx64 "-0x%" PRIx64 " (%s): only in the %s", r->offset,
			      r->offset + r->size - 1, ra ? na : nb, ra ? "first" : "second");
		return;
	}
	if (ra->size != rb->size || ra->kind != rb->kind || ra->secinfo != rb->secinfo) {
		eimg_diff_add(d, true, "layout", "region at 0x%" PRIx64 ": %s, 0x%" PRIx64 " bytes vs %s, 0x%" PRIx64 " bytes",
			      ra->offset, na, ra->size, nb, rb->size);
		return;
	}
	diff_pages(d, ra, rb, na);
}

void eimg_diff_layouts(eimg_diff *d, const eimg_layout *a, const eimg_elf *ea, const eimg_layout *b,
		       const eimg_elf *eb)
{
#define FIELD(f, what)                                                                                          \
	if (a->f != b->f)                                                                                       \
		eimg_diff_add(d, true, "layout", "%s: 0x%" PRIx64 " vs 0x%" PRIx64, what, (uint64_t)a->f, (uint64_t)b->f);
	FIELD(size, "enclave size")
	FIELD(ssa_frame_size, "SSA frame size (pages)")
	FIELD(ssa_frames, "SSA frames")
	FIELD(threads, "threads")
	FIELD(entry, "entry point (OENTRY)")
	FIELD(heap_size, "heap size")
#undef FIELD
	size_t i = 0, j = 0;
	while (i < a->nregions || j < b->nregions) {
		const struct eimg_region *ra = i < a->nregions ? &a->regions[i] : NULL;
		const struct eimg_region *rb = j < b->nregions ? &b->regions[j] : NULL;
		if (ra && rb && ra->offset == rb->offset) {
			diff_region(d, ra, ea, rb, eb);
			i++, j++;
		} else if (ra && (!rb || ra->offset < rb->offset)) {
			diff_region(d, ra, ea, NULL, eb);
			i++;
		} else {
			diff_region(d, NULL, ea, rb, eb);
			j++;
		}
	}
}

/* ---- SGXS streams, record by record ---- */

struct rec {
	uint8_t h[64];
	char tag[9];
	uint64_t off, secinfo;
	uint8_t data[256];
	bool eof;
};

static int get_rec(int fd, const char *name, struct rec *r, eimg_error *err)
{
	uint8_t h[64];
	ssize_t n = read(fd, h, sizeof(h));
	if (n == 0) {
		r->eof = true;
		return EIMG_OK;
	}
	if (n != (ssize_t)sizeof(h))
		return n < 0 ? eimg_err_sys(err, name, "cannot read") : eimg_err(err, EIMG_EINVAL, name, "truncated record");
	memcpy(r->h, h, 64);
	memcpy(r->tag, h, 8);
	r->tag[8] = '\0';
	memcpy(&r->off, h + 8, 8);
	memcpy(&r->secinfo, h + 16, 8);
	if (strcmp(r->tag, "EEXTEND") == 0 && read(fd, r->data, 256) != 256)
		return eimg_err(err, EIMG_EINVAL, name, "truncated EEXTEND record");
	return EIMG_OK;
}

static void rec_text(const struct rec *r, char *out, size_t size)
{
	if (r->eof)
		snprintf(out, size, "end of stream");
	else if (strcmp(r->tag, "ECREATE") == 0) {
		uint32_t ssa;
		uint64_t esize;
		memcpy(&ssa, r->h + 8, 4);
		memcpy(&esize, r->h + 12, 8);
		snprintf(out, size, "ECREATE size 0x%" PRIx64 ", SSA frame size %" PRIu32, esize, ssa);
	} else if (strcmp(r->tag, "EADD") == 0)
		snprintf(out, size, "EADD 0x%" PRIx64 " secinfo 0x%" PRIx64, r->off, r->secinfo);
	else
		snprintf(out, size, "%s 0x%" PRIx64, r->tag, r->off);
}

int eimg_diff_sgxs_files(eimg_diff *d, const char *a, const char *b, eimg_error *err)
{
	int fa = open(a, O_RDONLY | O_CLOEXEC), fb = -1, rc = EIMG_OK;
	uint64_t run_lo = 0, run_hi = 0, nrec = 0;
	bool run = false;
	if (fa < 0)
		return eimg_err_sys(err, a, "cannot open");
	if ((fb = open(b, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = eimg_err_sys(err, b, "cannot open");
		goto out;
	}
	for (;; nrec++) {
		struct rec ra = { 0 }, rb = { 0 };
		if ((rc = get_rec(fa, a, &ra, err)) || (rc = get_rec(fb, b, &rb, err)))
			goto out;
		bool same_rec = ra.eof == rb.eof && memcmp(ra.h, rb.h, 64) == 0;
		uint64_t page = ra.off & ~(uint64_t)(PAGE - 1);
		bool data_differs = same_rec && !ra.eof && strcmp(ra.tag, "EEXTEND") == 0 &&
				    memcmp(ra.data, rb.data, 256) != 0;
		if (run && (!data_differs || page > run_hi + PAGE)) {
			eimg_diff_add(d, true, "pages", "0x%" PRIx64 "-0x%" PRIx64 ": %" PRIu64 " pages differ", run_lo,
				      run_hi + PAGE - 1, (run_hi - run_lo) / PAGE + 1);
			run = false;
		}
		if (data_differs) {
			if (!run)
				run_lo = page;
			run_hi = page;
			run = true;
		}
		if (!same_rec) {
			char ta[96], tb[96];
			rec_text(&ra, ta, sizeof(ta));
			rec_text(&rb, tb, sizeof(tb));
			eimg_diff_add(d, true, "SGXS", "record %" PRIu64 ": %s vs %s (the streams part here)", nrec, ta, tb);
			break;
		}
		if (ra.eof)
			break;
	}
out:
	close(fa);
	if (fb >= 0)
		close(fb);
	return rc;
}
