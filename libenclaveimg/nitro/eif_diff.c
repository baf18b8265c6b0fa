/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-measure --diff for Nitro: two EIFs (from files or image members):
 * PCR0/1/2 recomputed, the header, every section, and the files of each
 * ramdisk that differs (path, mode, size, SHA-256 of the content).
 * Private interface: core/diff_int.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eimg/hash.h"
#include "eimg/nitro.h"
#include "eimg/util.h"
#include "core/diff_int.h"
#include "nitro/nitro_int.h"

/* A window of a source: section data at base. */
struct win {
	const struct eimg_diff_src *src;
	uint64_t base;
};

static int win_read(void *ctx, uint64_t off, void *buf, size_t n)
{
	const struct win *w = ctx;
	uint64_t at = w->base + off;
	if (w->src->fd < 0) {
		if (at > w->src->len || n > w->src->len - at) {
			errno = EINVAL;
			return -1;
		}
		memcpy(buf, w->src->buf + at, n);
		return 0;
	}
	for (size_t done = 0; done < n;) {
		ssize_t r = pread(w->src->fd, (uint8_t *)buf + done, n - done, (off_t)(at + done));
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

/* SHA-256 of len bytes at off of a window, in 64 KiB steps. */
static int hash_range(const struct win *w, uint64_t off, uint64_t len, uint8_t out[32], eimg_error *err)
{
	static const size_t step = 64u << 10;
	uint8_t *buf = malloc(step);
	eimg_hash *h = eimg_hash_new(EIMG_SHA256);
	int rc = EIMG_OK;
	if (!buf || !h) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done < step ? (size_t)(len - done) : step;
		if (win_read((void *)w, off + done, buf, n)) {
			rc = eimg_err_sys(err, w->src->name, "cannot read");
			goto out;
		}
		eimg_hash_update(h, buf, n);
		done += n;
	}
	eimg_hash_final(h, out);
out:
	eimg_hash_free(h);
	free(buf);
	return rc;
}

/* ---- ramdisk files ---- */

struct entry {
	char *name;
	uint32_t mode;
	uint64_t size;
	uint8_t sha[32];
};

struct entries {
	const struct win *w;
	struct entry *v;
	size_t n, cap;
};

static int collect(void *ctx, const struct eimg_cpio_entry *e, eimg_error *err)
{
	struct entries *es = ctx;
	if (es->n == es->cap) {
		size_t cap = es->cap ? 2 * es->cap : 256;
		struct entry *v = realloc(es->v, cap * sizeof(*v));
		if (!v)
			return eimg_err_nomem(err);
		es->v = v;
		es->cap = cap;
	}
	struct entry *x = &es->v[es->n];
	memset(x, 0, sizeof(*x));
	if (!(x->name = strdup(e->name)))
		return eimg_err_nomem(err);
	es->n++;
	x->mode = e->mode;
	x->size = e->size;
	return hash_range(es->w, e->data_off, e->size, x->sha, err);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static void free_entries(struct entries *es)
{
	for (size_t i = 0; i < es->n; i++)
		free(es->v[i].name);
	free(es->v);
}

static void diff_entry(eimg_diff *d, const char *where, const struct entry *a, const struct entry *b)
{
	char esc[200], ha[65], hb[65];
	const struct entry *x = a ? a : b;
	eimg_escape(x->name, strlen(x->name), esc, sizeof(esc));
	if (!a || !b) {
		eimg_diff_add(d, true, where, "%s: only in the %s (mode %06o, %" PRIu64 " bytes)", esc,
			      a ? "first" : "second", x->mode, x->size);
		return;
	}
	if (a->mode != b->mode)
		eimg_diff_add(d, true, where, "%s: mode %06o vs %06o", esc, a->mode, b->mode);
	if (a->size != b->size || memcmp(a->sha, b->sha, 32) != 0)
		eimg_diff_add(d, true, where, "%s: %" PRIu64 " bytes, sha256 %.16s... vs %" PRIu64 " bytes, sha256 %.16s...",
			      esc, a->size, eimg_hex(a->sha, 32, ha), b->size, eimg_hex(b->sha, 32, hb));
}

static int diff_ramdisk(eimg_diff *d, const char *where, const struct win *wa, uint64_t la, const struct win *wb,
			uint64_t lb, eimg_error *err)
{
	struct entries ea = { .w = wa }, eb = { .w = wb };
	size_t before = d->total;
	int rc;
	if ((rc = eimg_cpio_walk(wa->src->name, win_read, (void *)wa, la, collect, &ea, err)) ||
	    (rc = eimg_cpio_walk(wb->src->name, win_read, (void *)wb, lb, collect, &eb, err)))
		goto out;
	bool same_order = ea.n == eb.n;
	for (size_t i = 0; same_order && i < ea.n; i++)
		same_order = strcmp(ea.v[i].name, eb.v[i].name) == 0;
	qsort(ea.v, ea.n, sizeof(*ea.v), cmp_entry);
	qsort(eb.v, eb.n, sizeof(*eb.v), cmp_entry);
	for (size_t i = 0, j = 0; i < ea.n || j < eb.n;) {
		int c = i == ea.n ? 1 : j == eb.n ? -1 : strcmp(ea.v[i].name, eb.v[j].name);
		diff_entry(d, where, c <= 0 ? &ea.v[i] : NULL, c >= 0 ? &eb.v[j] : NULL);
		i += c <= 0;
		j += c >= 0;
	}
	if (d->total == before)
		eimg_diff_add(d, true, where, same_order ? "same files; the archives differ in their headers (owners, "
							   "times, inode numbers or padding)"
							 : "same files in another order");
out:
	free_entries(&ea);
	free_entries(&eb);
	return rc;
}

/* ---- sections ---- */

/* The reader's names (eif.c), but a diff says "unknown" where it says "invalid". */
static const char *section_name(uint16_t type)
{
	const char *n = eimg_eif_section_name(type);
	return strcmp(n, "invalid") == 0 ? "unknown" : n;
}

static int diff_section(eimg_diff *d, unsigned i, const struct eimg_diff_src *a, const struct eimg_eif_section *sa,
			const struct eimg_diff_src *b, const struct eimg_eif_section *sb, eimg_error *err)
{
	char where[64], ha[65], hb[65];
	uint8_t xa[32], xb[32];
	struct win wa = { a, sa->offset + EIMG_EIF_SECTION_HEADER_SIZE }, wb = { b, sb->offset + EIMG_EIF_SECTION_HEADER_SIZE };
	bool measured = sa->type == EIMG_EIF_KERNEL || sa->type == EIMG_EIF_CMDLINE || sa->type == EIMG_EIF_RAMDISK;
	int rc;
	snprintf(where, sizeof(where), "EIF section %u (%s%s)", i, section_name(sa->type),
		 sa->type == EIMG_EIF_SIGNATURE ? ", PCR8 comes from its certificate" : measured ? "" : ", unmeasured");
	if (sa->type != sb->type) {
		eimg_diff_add(d, true, where, "a %s section vs a %s section", section_name(sa->type), section_name(sb->type));
		return EIMG_OK;
	}
	if ((rc = hash_range(&wa, 0, sa->size, xa, err)) || (rc = hash_range(&wb, 0, sb->size, xb, err)))
		return rc;
	if (sa->size == sb->size && memcmp(xa, xb, 32) == 0)
		return EIMG_OK;
	if (sa->type == EIMG_EIF_RAMDISK)
		return diff_ramdisk(d, where, &wa, sa->size, &wb, sb->size, err);
	if (sa->type == EIMG_EIF_CMDLINE && sa->size < 512 && sb->size < 512) {
		char ca[512], cb[512], ea[600], eb[600];
		if (win_read(&wa, 0, ca, sa->size) || win_read(&wb, 0, cb, sb->size))
			return eimg_err_sys(err, a->name, "cannot read");
		eimg_escape(ca, sa->size, ea, sizeof(ea));
		eimg_escape(cb, sb->size, eb, sizeof(eb));
		eimg_diff_add(d, true, where, "\"%.180s\" vs \"%.180s\"", ea, eb);
		return EIMG_OK;
	}
	eimg_diff_add(d, measured, where, "%" PRIu64 " bytes, sha256 %.16s... vs %" PRIu64 " bytes, sha256 %.16s...",
		      sa->size, eimg_hex(xa, 32, ha), sb->size, eimg_hex(xb, 32, hb));
	return EIMG_OK;
}

static int audit(const struct eimg_diff_src *s, eimg_nitro_report **r, eimg_error *err)
{
	struct eimg_nitro_audit_opts o = { .progress = s->progress };
	return s->fd >= 0 ? eimg_nitro_audit_file(s->name, &o, r, err)
			  : eimg_nitro_audit_buffer(s->name, s->buf, (size_t)s->len, &o, r, err);
}

int eimg_diff_eifs(eimg_diff *d, const struct eimg_diff_src *a, const struct eimg_diff_src *b, eimg_error *err)
{
	eimg_nitro_report *ra = NULL, *rb = NULL;
	int rc;
	if ((rc = audit(a, &ra, err)) || (rc = audit(b, &rb, err)))
		goto out;
	const uint8_t *pa[3] = { ra->pcr0, ra->pcr1, ra->pcr2 }, *pb[3] = { rb->pcr0, rb->pcr1, rb->pcr2 };
	d->nmeasure = 3;
	d->measurement_equal = true;
	for (unsigned i = 0; i < 3; i++) {
		eimg_hex(pa[i], 48, d->measure_a[i]);
		eimg_hex(pb[i], 48, d->measure_b[i]);
		d->measurement_equal &= memcmp(pa[i], pb[i], 48) == 0;
	}
	const eimg_eif_layout *la = &ra->layout, *lb = &rb->layout;
	if (la->flags != lb->flags)
		eimg_diff_add(d, true, "EIF header", "architecture flags 0x%x vs 0x%x", la->flags, lb->flags);
	if (la->default_mem != lb->default_mem || la->default_cpus != lb->default_cpus)
		eimg_diff_add(d, false, "EIF header (unmeasured)", "default memory %" PRIu64 ", CPUs %" PRIu64
			      " vs memory %" PRIu64 ", CPUs %" PRIu64, la->default_mem, la->default_cpus, lb->default_mem,
			      lb->default_cpus);
	for (unsigned i = 0; i < la->nsections || i < lb->nsections; i++) {
		if (i >= la->nsections || i >= lb->nsections) {
			const struct eimg_eif_section *s = i < la->nsections ? &la->sections[i] : &lb->sections[i];
			char where[64];
			snprintf(where, sizeof(where), "EIF section %u (%s)", i, section_name(s->type));
			eimg_diff_add(d, true, where, "only in the %s (%" PRIu64 " bytes)",
				      i < la->nsections ? "first" : "second", s->size);
			continue;
		}
		if ((rc = diff_section(d, i, a, &la->sections[i], b, &lb->sections[i], err)))
			goto out;
	}
out:
	eimg_nitro_report_free(ra);
	eimg_nitro_report_free(rb);
	return rc;
}
