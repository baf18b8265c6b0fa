/* SPDX-License-Identifier: Apache-2.0 */
/* MRENCLAVE and the SGXS load stream: producing it from a layout (in large
 * batches, never materialising the enclave) and reading/validating SGXS files
 * (in chunks).  Record formats: man/enclave-measurement.7. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eimg/hash.h"
#include "eimg/progress.h"
#include "eimg/sgxs.h"
#include "core/internal.h"

#define PAGE      ((uint64_t)EIMG_PAGE)
#define REC       64u                      /* record header */
#define CHUNK     256u                     /* EEXTEND data */
#define EXT_REC   (REC + CHUNK)            /* 320 */
#define PAGE_REC  (REC + 16 * EXT_REC)     /* EADD + 16 EEXTEND: 5184 */
#define BATCH_PAGES 202u                   /* ~1 MiB batches */
#define BATCH_CAP (REC + BATCH_PAGES * PAGE_REC)

static const uint8_t TAG_ECREATE[8] = { 'E', 'C', 'R', 'E', 'A', 'T', 'E', 0 };
static const uint8_t TAG_EADD[8] = { 'E', 'A', 'D', 'D', 0, 0, 0, 0 };
static const uint8_t TAG_EEXTEND[8] = { 'E', 'E', 'X', 'T', 'E', 'N', 'D', 0 };

/* ---- producing the stream ---- */

struct stream {
	uint8_t *buf;
	size_t len;
	/* buf[0 .. zero_end) holds complete zero-page records (EADD + 16 EEXTEND
	 * with zero data) at multiples of PAGE_REC: writing another zero page
	 * there only needs the offsets patched. */
	size_t zero_end;
	eimg_sink_fn sink;
	void *ctx;
	eimg_error *err;
};

static int flush(struct stream *s)
{
	if (s->len == 0)
		return EIMG_OK;
	int rc = s->sink(s->ctx, s->buf, s->len, s->err);
	s->len = 0;
	return rc;
}

/* Marks buf[pos ..) as about to be overwritten by something other than a
 * zero-page record. */
static void clobber(struct stream *s, size_t pos)
{
	if (pos < s->zero_end)
		s->zero_end = pos / PAGE_REC * PAGE_REC;
}

static void put_header(uint8_t *p, const uint8_t tag[8], uint64_t off, uint64_t secinfo)
{
	memcpy(p, tag, 8);
	eimg_le64(p + 8, off);
	eimg_le64(p + 16, secinfo);
	memset(p + 24, 0, REC - 24);
}

/* Copies bytes [rel, rel+len) of region r's content into dst. */
static void region_bytes(const struct eimg_region *r, uint64_t rel, size_t len, uint8_t *dst)
{
	uint64_t lo = rel, hi = rel + len;
	uint64_t dlo = r->data_off, dhi = r->data_off + r->data_len;
	if (!r->data || dhi <= lo || dlo >= hi) {
		memset(dst, 0, len);
		return;
	}
	if (dlo <= lo && dhi >= hi) {
		memcpy(dst, r->data + (lo - dlo), len);
		return;
	}
	memset(dst, 0, len);
	uint64_t a = dlo > lo ? dlo : lo;
	uint64_t b = dhi < hi ? dhi : hi;
	memcpy(dst + (a - lo), r->data + (a - dlo), b - a);
}

static bool page_is_zero(const struct eimg_region *r, uint64_t rel)
{
	return !r->data || r->data_len == 0 || r->data_off + r->data_len <= rel || r->data_off >= rel + PAGE;
}

static void put_zero_page(struct stream *s, uint64_t off, uint64_t secinfo)
{
	uint8_t *p = s->buf + s->len;
	if (s->len % PAGE_REC == 0 && s->len + PAGE_REC <= s->zero_end) {
		/* The slot holds a zero-page record already: patch the offsets. */
		eimg_le64(p + 8, off);
		eimg_le64(p + 16, secinfo);
		for (unsigned c = 0; c < 16; c++)
			eimg_le64(p + REC + c * EXT_REC + 8, off + c * CHUNK);
	} else {
		clobber(s, s->len);
		put_header(p, TAG_EADD, off, secinfo);
		for (unsigned c = 0; c < 16; c++) {
			uint8_t *q = p + REC + c * EXT_REC;
			put_header(q, TAG_EEXTEND, off + c * CHUNK, 0);
			memset(q + REC, 0, CHUNK);
		}
		if (s->len % PAGE_REC == 0 && s->len == s->zero_end)
			s->zero_end += PAGE_REC;
	}
	s->len += PAGE_REC;
}

static int check_layout(const eimg_layout *l, eimg_error *err)
{
	if (l->size < 2 * PAGE || (l->size & (l->size - 1)) || l->size > EIMG_SGXS_MAX_SIZE)
		return eimg_err(err, EIMG_EINVAL, NULL, "layout: enclave size %#llx is not a power of two from 8 KiB to 64 GiB",
				(unsigned long long)l->size);
	if (l->ssa_frame_size < 1)
		return eimg_err(err, EIMG_EINVAL, NULL, "layout: SSA frame size is 0");
	uint64_t next = 0;
	for (size_t i = 0; i < l->nregions; i++) {
		const struct eimg_region *r = &l->regions[i];
		uint64_t end, dend;
		if (r->offset % PAGE || r->size % PAGE || r->offset < next ||
		    eimg_add_overflow(r->offset, r->size, &end) || end > l->size ||
		    eimg_add_overflow(r->data_off, r->data_len, &dend) || (r->data && dend > r->size))
			return eimg_err(err, EIMG_EINVAL, NULL,
					"layout: region %zu (offset %#llx, size %#llx) is misaligned, overlapping or outside the enclave",
					i, (unsigned long long)r->offset, (unsigned long long)r->size);
		next = end;
	}
	return EIMG_OK;
}

/* ---- the record writer ---- */

struct eimg_sgxs_writer {
	struct stream s;
	uint64_t size;
	uint64_t pages;
};

int eimg_sgxs_writer_new(uint64_t size, uint32_t ssa_frame_size, eimg_sink_fn sink, void *ctx,
			 eimg_sgxs_writer **out, eimg_error *err)
{
	if (size < 2 * PAGE || (size & (size - 1)) || size > EIMG_SGXS_MAX_SIZE)
		return eimg_err(err, EIMG_EINVAL, NULL, "layout: enclave size %#llx is not a power of two from 8 KiB to 64 GiB",
				(unsigned long long)size);
	if (ssa_frame_size < 1)
		return eimg_err(err, EIMG_EINVAL, NULL, "layout: SSA frame size is 0");
	eimg_sgxs_writer *w = calloc(1, sizeof(*w));
	if (!w || !(w->s.buf = malloc(BATCH_CAP))) {
		free(w);
		return eimg_err_nomem(err);
	}
	w->s.sink = sink;
	w->s.ctx = ctx;
	w->s.err = err;
	w->size = size;
	uint8_t *p = w->s.buf;
	memcpy(p, TAG_ECREATE, 8);
	eimg_le32(p + 8, ssa_frame_size);
	eimg_le64(p + 12, size);
	memset(p + 20, 0, REC - 20);
	w->s.len = REC;
	*out = w;
	return EIMG_OK;
}

int eimg_sgxs_writer_page(eimg_sgxs_writer *w, uint64_t off, uint64_t secinfo, const uint8_t *page, bool extend,
			  eimg_error *err)
{
	struct stream *s = &w->s;
	int rc;
	s->err = err;
	if (off % PAGE || off >= w->size)
		return eimg_err(err, EIMG_EINVAL, NULL, "layout: page %#llx is misaligned or outside the enclave (size %#llx)",
				(unsigned long long)off, (unsigned long long)w->size);
	if (BATCH_CAP - s->len < PAGE_REC && (rc = flush(s)))
		return rc;
	w->pages++;
	if (!extend) {
		clobber(s, s->len);
		put_header(s->buf + s->len, TAG_EADD, off, secinfo);
		s->len += REC;
		return EIMG_OK;
	}
	if (!page) {
		put_zero_page(s, off, secinfo);
		return EIMG_OK;
	}
	clobber(s, s->len);
	uint8_t *p = s->buf + s->len;
	put_header(p, TAG_EADD, off, secinfo);
	p += REC;
	for (unsigned c = 0; c < 16; c++, p += EXT_REC) {
		put_header(p, TAG_EEXTEND, off + c * CHUNK, 0);
		memcpy(p + REC, page + c * CHUNK, CHUNK);
	}
	s->len += PAGE_REC;
	return EIMG_OK;
}

uint64_t eimg_sgxs_writer_pages(const eimg_sgxs_writer *w)
{
	return w->pages;
}

int eimg_sgxs_writer_finish(eimg_sgxs_writer *w, eimg_error *err)
{
	w->s.err = err;
	return flush(&w->s);
}

void eimg_sgxs_writer_free(eimg_sgxs_writer *w)
{
	if (!w)
		return;
	free(w->s.buf);
	free(w);
}

/* ---- a layout's stream ---- */

/* A layout and where its progress goes (NULL: nowhere). */
struct layout_src {
	const eimg_layout *l;
	struct eimg_progress *p;
};

static int layout_stream(const void *src, eimg_sink_fn sink, void *ctx, eimg_error *err)
{
	const struct layout_src *ls = src;
	const eimg_layout *l = ls->l;
	eimg_sgxs_writer *w = NULL;
	uint8_t *page = NULL;
	int rc = check_layout(l, err);
	if (rc)
		return rc;
	if ((rc = eimg_sgxs_writer_new(l->size, l->ssa_frame_size, sink, ctx, &w, err)))
		return rc;
	if (!(page = malloc(PAGE))) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	uint64_t total = 0;
	for (size_t i = 0; i < l->nregions; i++)
		total += l->regions[i].size;
	eimg_progress_begin(ls->p, "measuring", total);
	for (size_t i = 0; i < l->nregions && !rc; i++) {
		const struct eimg_region *r = &l->regions[i];
		uint64_t pages = r->size / PAGE;
		for (uint64_t pg = 0; pg < pages && !rc; pg++) {
			uint64_t rel = pg * PAGE;
			bool zero = page_is_zero(r, rel);
			if (!zero)
				region_bytes(r, rel, PAGE, page);
			rc = eimg_sgxs_writer_page(w, r->offset + rel, r->secinfo, zero ? NULL : page, r->measured, err);
			eimg_progress_add(ls->p, PAGE);
		}
	}
	if (!rc)
		rc = eimg_sgxs_writer_finish(w, err);
	eimg_progress_end(ls->p);
out:
	free(page);
	eimg_sgxs_writer_free(w);
	return rc;
}

int eimg_sgx_stream(const eimg_layout *l, eimg_sink_fn sink, void *ctx, eimg_error *err)
{
	struct layout_src ls = { l, NULL };
	return layout_stream(&ls, sink, ctx, err);
}

static int hash_sink(void *ctx, const uint8_t *buf, size_t len, eimg_error *err)
{
	if (eimg_hash_update(ctx, buf, len))
		return eimg_err(err, EIMG_EINTERNAL, NULL, "SHA-256 update failed");
	return EIMG_OK;
}

int eimg_stream_mrenclave(eimg_stream_fn fn, const void *src, uint8_t out[32], eimg_error *err)
{
	uint8_t md[32];
	eimg_hash *h = eimg_hash_new(EIMG_SHA256);
	if (!h)
		return eimg_err_nomem(err);
	int rc = fn(src, hash_sink, h, err);
	if (!rc && eimg_hash_final(h, md))
		rc = eimg_err(err, EIMG_EINTERNAL, NULL, "SHA-256 failed");
	eimg_hash_free(h);
	if (!rc)
		memcpy(out, md, 32);
	return rc;
}

int eimg_sgx_mrenclave(const eimg_layout *l, uint8_t out[32], eimg_error *err)
{
	return eimg_sgx_mrenclave_progress(l, NULL, out, err);
}

int eimg_sgx_mrenclave_progress(const eimg_layout *l, struct eimg_progress *p, uint8_t out[32], eimg_error *err)
{
	struct layout_src ls = { l, p };
	return eimg_stream_mrenclave(layout_stream, &ls, out, err);
}

static int file_sink(void *ctx, const uint8_t *buf, size_t len, eimg_error *err)
{
	return eimg_outfile_write(ctx, buf, len, err);
}

int eimg_stream_write_file(eimg_stream_fn fn, const void *src, const char *path, eimg_error *err)
{
	struct eimg_outfile o;
	int rc = eimg_outfile_open(&o, path, err);
	if (rc)
		return rc;
	rc = fn(src, file_sink, &o, err);
	if (rc) {
		eimg_outfile_abort(&o);
		return rc;
	}
	return eimg_outfile_commit(&o, err);
}

int eimg_sgxs_write_file(const eimg_layout *l, const char *path, eimg_error *err)
{
	struct layout_src ls = { l, NULL };
	return eimg_stream_write_file(layout_stream, &ls, path, err);
}

/* ---- reading SGXS ---- */

struct reader {
	const char *source;
	uint64_t at;           /* file offset of the next record */
	bool have_ecreate;
	bool have_eadd;
	uint64_t last_page;    /* last EADDed page offset */
	uint64_t next_extend;  /* lowest offset the next EEXTEND may have */
	struct eimg_sgxs_info info;
	eimg_hash *h;
};

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static int bad(struct reader *rd, const char *fmt, unsigned long long a, unsigned long long b, eimg_error *err)
{
	char msg[256];
	snprintf(msg, sizeof(msg), fmt, a, b);
	return eimg_err(err, EIMG_EINVAL, rd->source, "not a valid SGXS stream: record at offset %#llx: %s",
			(unsigned long long)rd->at, msg);
}

/* Validates the record at p (complete: REC bytes, or EXT_REC for EEXTEND). */
static int record(struct reader *rd, const uint8_t *p, eimg_error *err)
{
	uint64_t off;
	if (memcmp(p, TAG_ECREATE, 8) == 0) {
		if (rd->have_ecreate)
			return bad(rd, "a second ECREATE record", 0, 0, err);
		uint32_t ssa = eimg_get_le32(p + 8);
		uint64_t size = eimg_get_le64(p + 12);
		if (ssa == 0)
			return bad(rd, "ECREATE SSA frame size is 0", 0, 0, err);
		if (size < 2 * PAGE || (size & (size - 1)))
			return bad(rd, "ECREATE enclave size %#llx is not a power of two of at least 0x2000", size, 0, err);
		if (size > EIMG_SGXS_MAX_SIZE)
			return bad(rd, "ECREATE enclave size %#llx is above the limit of %#llx", size,
				   EIMG_SGXS_MAX_SIZE, err);
		if (!all_zero(p + 20, REC - 20))
			return bad(rd, "ECREATE reserved bytes are not zero", 0, 0, err);
		rd->have_ecreate = true;
		rd->info.ssa_frame_size = ssa;
		rd->info.size = size;
		return EIMG_OK;
	}
	if (!rd->have_ecreate)
		return bad(rd, "the stream does not start with an ECREATE record", 0, 0, err);
	if (memcmp(p, TAG_EADD, 8) == 0) {
		off = eimg_get_le64(p + 8);
		uint64_t flags = eimg_get_le64(p + 16);
		unsigned type = (unsigned)(flags >> 8) & 0xff;
		if (off % PAGE)
			return bad(rd, "EADD page offset %#llx is not page-aligned", off, 0, err);
		if (off >= rd->info.size)
			return bad(rd, "EADD page offset %#llx is outside the enclave (size %#llx)", off,
				   rd->info.size, err);
		if (rd->have_eadd && off <= rd->last_page)
			return bad(rd, "EADD page offset %#llx is not above the previous page %#llx", off,
				   rd->last_page, err);
		if (!all_zero(p + 24, REC - 24))
			return bad(rd, "EADD SECINFO reserved bytes are not zero", 0, 0, err);
		if (flags & ~(uint64_t)0xff07 || (type != 1 && type != 2))
			return bad(rd, "EADD SECINFO flags %#llx are not a regular or TCS page", flags, 0, err);
		if (type == 1 && (flags & 7))
			return bad(rd, "EADD SECINFO flags %#llx: a TCS page must not have R/W/X", flags, 0, err);
		if ((flags & 2) && !(flags & 1))
			return bad(rd, "EADD SECINFO flags %#llx: writable but not readable", flags, 0, err);
		rd->have_eadd = true;
		rd->last_page = off;
		rd->next_extend = off;
		rd->info.neadd++;
		if (type == 1)
			rd->info.ntcs++;
		return EIMG_OK;
	}
	if (memcmp(p, TAG_EEXTEND, 8) == 0) {
		off = eimg_get_le64(p + 8);
		if (!rd->have_eadd)
			return bad(rd, "EEXTEND before any EADD", 0, 0, err);
		if (off % CHUNK)
			return bad(rd, "EEXTEND offset %#llx is not a multiple of 256", off, 0, err);
		if (off < rd->next_extend || off >= rd->last_page + PAGE)
			return bad(rd, "EEXTEND offset %#llx is not inside the page %#llx added last, in increasing order",
				   off, rd->last_page, err);
		if (!all_zero(p + 16, REC - 16))
			return bad(rd, "EEXTEND reserved bytes are not zero", 0, 0, err);
		rd->next_extend = off + CHUNK;
		rd->info.nextend++;
		return EIMG_OK;
	}
	char tag[40];
	eimg_escape((const char *)p, 8, tag, sizeof(tag));
	return eimg_err(err, EIMG_EINVAL, rd->source,
			"not a valid SGXS stream: record at offset %#llx: unknown record tag \"%s\"",
			(unsigned long long)rd->at, tag);
}

/* Consumes the complete records at the start of buf[0..n); *used gets the
 * bytes consumed (also hashed). */
static int records(struct reader *rd, const uint8_t *buf, size_t n, size_t *used, eimg_error *err)
{
	size_t pos = 0;
	int rc = EIMG_OK;
	while (n - pos >= REC) {
		size_t len = memcmp(buf + pos, TAG_EEXTEND, 8) == 0 ? EXT_REC : REC;
		if (n - pos < len)
			break;
		if ((rc = record(rd, buf + pos, err)))
			break;
		pos += len;
		rd->at += len;
	}
	if (pos && eimg_hash_update(rd->h, buf, pos) && !rc)
		rc = eimg_err(err, EIMG_EINTERNAL, NULL, "SHA-256 update failed");
	*used = pos;
	return rc;
}

static int finish(struct reader *rd, size_t leftover, struct eimg_sgxs_info *out, eimg_error *err)
{
	if (leftover)
		return eimg_err(err, EIMG_EINVAL, rd->source,
				"not a valid SGXS stream: truncated record at offset %#llx (%zu bytes left)",
				(unsigned long long)rd->at, leftover);
	if (!rd->have_ecreate)
		return eimg_err(err, EIMG_EINVAL, rd->source, "not a valid SGXS stream: empty (no ECREATE record)");
	if (eimg_hash_final(rd->h, rd->info.mrenclave))
		return eimg_err(err, EIMG_EINTERNAL, NULL, "SHA-256 failed");
	*out = rd->info;
	return EIMG_OK;
}

int eimg_sgxs_read_buffer(const char *source, const uint8_t *buf, size_t len,
			  struct eimg_sgxs_info *out, eimg_error *err)
{
	struct reader rd = { .source = source ? source : "SGXS" };
	size_t used = 0;
	rd.h = eimg_hash_new(EIMG_SHA256);
	if (!rd.h)
		return eimg_err_nomem(err);
	int rc = records(&rd, buf, len, &used, err);
	if (!rc)
		rc = finish(&rd, len - used, out, err);
	eimg_hash_free(rd.h);
	return rc;
}

#define READ_CHUNK (1u << 20)

int eimg_sgxs_read_file(const char *path, struct eimg_sgxs_info *out, eimg_error *err)
{
	struct reader rd = { .source = path };
	uint8_t *buf = NULL;
	size_t have = 0;
	int fd = -1, rc;
	struct stat st;

	bool is_stdin = strcmp(path, "-") == 0;
	if ((rc = eimg_open_input(path, true, "an SGXS file", &fd, &st, err)))
		return rc;
	rd.h = eimg_hash_new(EIMG_SHA256);
	buf = malloc(READ_CHUNK + EXT_REC);
	if (!rd.h || !buf) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	for (;;) {
		long r = eimg_read_some(fd, buf + have, READ_CHUNK + EXT_REC - have, path, err);
		if (r < 0) {
			rc = (int)r;
			goto out;
		}
		if (r == 0)
			break;
		have += (size_t)r;
		if (have < READ_CHUNK)
			continue;
		size_t used;
		if ((rc = records(&rd, buf, have, &used, err)))
			goto out;
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	size_t used;
	if ((rc = records(&rd, buf, have, &used, err)))
		goto out;
	rc = finish(&rd, have - used, out, err);
out:
	eimg_hash_free(rd.h);
	free(buf);
	if (fd >= 0 && !is_stdin)
		close(fd);
	return rc;
}
