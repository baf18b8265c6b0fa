/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-measure --diff (eimg/diff.h): detects both inputs, recomputes
 * their measurements, and names every difference: manifest fields and
 * members here, pages and SGXS records in sgx/layout_diff.c, EIF sections
 * and ramdisk files in nitro/eif_diff.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "eimg/diff.h"
#include "eimg/hash.h"
#include "eimg/measure.h"
#include "eimg/nitro.h"
#include "eimg/sgxs.h"
#include "eimg/util.h"
#include "core/diff_int.h"

void eimg_diff_add(eimg_diff *d, bool measured, const char *where, const char *fmt, ...)
{
	d->total++;
	if (d->n >= EIMG_DIFF_MAX_ITEMS)
		return;
	struct eimg_diff_item *it = &d->items[d->n++];
	va_list ap;
	va_start(ap, fmt);
	snprintf(it->where, sizeof(it->where), "%s", where);
	vsnprintf(it->what, sizeof(it->what), fmt, ap);
	va_end(ap);
	it->measured = measured;
}

void eimg_diff_free(eimg_diff *d)
{
	if (!d)
		return;
	free(d->items);
	free(d);
}

static int head_kind(const char *path, int *kind, eimg_error *err)
{
	return eimg_detect_file(path, kind, err);
}

static const char *kind_name(int k)
{
	switch (k) {
	case EIMG_INPUT_IMAGE: return "an enclave image";
	case EIMG_INPUT_SGXS: return "an SGXS stream";
	case EIMG_INPUT_EIF: return "an EIF";
	case EIMG_INPUT_SIGSTRUCT: return "a SIGSTRUCT";
	case EIMG_INPUT_ELF: return "an ELF file";
	default: return "of unknown kind";
	}
}

/* ---- manifest fields, by JSON path ---- */

static void json_text(const json_t *v, char *out, size_t size)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!s) {
		snprintf(out, size, "?");
		return;
	}
	if (strlen(s) >= size && size > 4)
		snprintf(out, size, "%.*s...", (int)(size - 4), s);
	else
		snprintf(out, size, "%s", s);
	free(s);
}

static void diff_json(eimg_diff *d, const char *where, const char *path, const json_t *a, const json_t *b, int depth)
{
	char va[150], vb[150];
	if (json_equal(a, b))
		return;
	if (a && b && json_is_object(a) && json_is_object(b) && depth < 16) {
		const char *k;
		json_t *v;
		char sub[256];
		json_object_foreach((json_t *)a, k, v) {
			snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", k);
			diff_json(d, where, sub, v, json_object_get(b, k), depth + 1);
		}
		json_object_foreach((json_t *)b, k, v) {
			if (!json_object_get(a, k)) {
				snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", k);
				diff_json(d, where, sub, NULL, v, depth + 1);
			}
		}
		return;
	}
	if (a && b && json_is_array(a) && json_is_array(b) && json_array_size(a) == json_array_size(b) && depth < 16) {
		char sub[256];
		for (size_t i = 0; i < json_array_size(a); i++) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			diff_json(d, where, sub, json_array_get(a, i), json_array_get(b, i), depth + 1);
		}
		return;
	}
	if (a)
		json_text(a, va, sizeof(va));
	if (b)
		json_text(b, vb, sizeof(vb));
	eimg_diff_add(d, strcmp(where, "manifest") == 0, where, "%s: %s vs %s", *path ? path : "(whole)",
		      a ? va : "(absent)", b ? vb : "(absent)");
}

static void diff_json_text(eimg_diff *d, const char *where, const char *a, size_t alen, const char *b, size_t blen)
{
	json_t *ja = a ? json_loadb(a, alen, 0, NULL) : NULL, *jb = b ? json_loadb(b, blen, 0, NULL) : NULL;
	diff_json(d, where, "", ja, jb, 0);
	json_decref(ja);
	json_decref(jb);
}

/* ---- members ---- */

static void diff_bytes(eimg_diff *d, bool measured, const char *member, const uint8_t *a, size_t alen,
		       const uint8_t *b, size_t blen)
{
	char where[128], ha[65], hb[65];
	uint8_t h[32];
	snprintf(where, sizeof(where), "member %s", member);
	if (!a && !b)
		return;
	if (!a || !b) {
		eimg_diff_add(d, measured, where, "only in %s (%zu bytes)", a ? "the first" : "the second", a ? alen : blen);
		return;
	}
	if (alen == blen && memcmp(a, b, alen) == 0)
		return;
	eimg_sha256(a, alen, h);
	eimg_hex(h, 32, ha);
	eimg_sha256(b, blen, h);
	eimg_hex(h, 32, hb);
	eimg_diff_add(d, measured, where, "%zu bytes, sha256 %.16s... vs %zu bytes, sha256 %.16s...", alen, ha, blen,
		      hb);
}

static void measure_hex(eimg_diff *d, const uint8_t *a, const uint8_t *b, size_t len, unsigned i)
{
	eimg_hex(a, len, d->measure_a[i]);
	eimg_hex(b, len, d->measure_b[i]);
}

static int diff_sgx_images(eimg_diff *d, const eimg_image *ia, const char *a, const eimg_image *ib, const char *b,
			   eimg_error *err)
{
	eimg_sgx_image *sa = NULL, *sb = NULL;
	int rc;
	if ((rc = eimg_sgx_image_open(ia, a, &sa, err)) || (rc = eimg_sgx_image_open(ib, b, &sb, err)))
		goto out;
	d->nmeasure = 1;
	measure_hex(d, sa->m.mrenclave, sb->m.mrenclave, 32, 0);
	d->measurement_equal = memcmp(sa->m.mrenclave, sb->m.mrenclave, 32) == 0;
	eimg_diff_layouts(d, sa->layout, &sa->elf, sb->layout, &sb->elf);
out:
	eimg_sgx_image_free(sa);
	eimg_sgx_image_free(sb);
	return rc;
}

/* A member's bytes at one address (mapped; NULL for an absent member). */
static const uint8_t *bytes_of(const eimg_blob *b, size_t *len)
{
	const uint8_t *p = NULL;
	*len = 0;
	if (b && eimg_blob_map(b, &p, "member", NULL) == EIMG_OK)
		*len = (size_t)eimg_blob_size(b);
	return p;
}

static void diff_blobs(eimg_diff *d, bool measured, const char *where, const eimg_blob *a, const eimg_blob *b)
{
	size_t la, lb;
	const uint8_t *pa = bytes_of(a, &la), *pb = bytes_of(b, &lb);
	diff_bytes(d, measured, where, pa, la, pb, lb);
}

static void diff_member_lists(eimg_diff *d, bool keys, const eimg_image *ia, const eimg_image *ib)
{
	size_t i = 0, j = 0, na = keys ? eimg_image_nkeys(ia) : eimg_image_nfiles(ia);
	size_t nb = keys ? eimg_image_nkeys(ib) : eimg_image_nfiles(ib);
	char name[300];
	while (i < na || j < nb) {
		const eimg_blob *ba = NULL, *bb = NULL;
		const char *x = i < na ? (keys ? eimg_image_key : eimg_image_file)(ia, i, &ba) : NULL;
		const char *y = j < nb ? (keys ? eimg_image_key : eimg_image_file)(ib, j, &bb) : NULL;
		int c = !x ? 1 : !y ? -1 : strcmp(x, y);
		snprintf(name, sizeof(name), "%s%s", keys ? "keys/" : "files/", c <= 0 ? x : y);
		diff_blobs(d, true, name, c <= 0 ? ba : NULL, c >= 0 ? bb : NULL);
		i += c <= 0;
		j += c >= 0;
	}
}

static void diff_texts(eimg_diff *d, const eimg_image *ia, const eimg_image *ib)
{
	size_t la, lb;
	const char *ta = eimg_image_manifest(ia, &la), *tb = eimg_image_manifest(ib, &lb);
	diff_json_text(d, "manifest", ta, la, tb, lb);
	ta = eimg_image_runtime(ia, &la);
	tb = eimg_image_runtime(ib, &lb);
	diff_json_text(d, "runtime.json (unmeasured)", ta, la, tb, lb);
}

static int diff_images(eimg_diff *d, const char *a, const char *b, struct eimg_progress *p, eimg_error *err)
{
	eimg_image *ia = NULL, *ib = NULL;
	int rc;
	if ((rc = eimg_image_read_file(a, &ia, err)) || (rc = eimg_image_read_file(b, &ib, err)))
		goto out;
	int ta = eimg_image_eif(ia) ? EIMG_TARGET_NITRO : EIMG_TARGET_SGX;
	int tb = eimg_image_eif(ib) ? EIMG_TARGET_NITRO : EIMG_TARGET_SGX;
	d->target = ta;
	if (ta != tb) {
		rc = eimg_err(err, EIMG_EINVAL, NULL, "'%s' is a %s image, '%s' a %s image: compare like with like", a,
			      eimg_target_name(ta), b, eimg_target_name(tb));
		goto out;
	}
	eimg_image_set_progress(ia, p); /* an SGX image's "measuring" */
	eimg_image_set_progress(ib, p);
	diff_texts(d, ia, ib);
	diff_blobs(d, true, "enclave.elf", eimg_image_elf(ia), eimg_image_elf(ib));
	diff_member_lists(d, false, ia, ib);
	diff_member_lists(d, true, ia, ib);
	const uint8_t *sa_ = eimg_image_sigstruct(ia), *sb_ = eimg_image_sigstruct(ib);
	diff_bytes(d, false, "sigstruct.bin (signature)", sa_, sa_ ? 1808 : 0, sb_, sb_ ? 1808 : 0);
	if (ta == EIMG_TARGET_SGX) {
		rc = diff_sgx_images(d, ia, a, ib, b, err);
	} else {
		size_t la, lb;
		const uint8_t *pa = bytes_of(eimg_image_eif(ia), &la), *pb = bytes_of(eimg_image_eif(ib), &lb);
		struct eimg_diff_src sa = { a, -1, pa, la, p }, sb = { b, -1, pb, lb, p };
		rc = eimg_diff_eifs(d, &sa, &sb, err);
	}
out:
	eimg_image_free(ia);
	eimg_image_free(ib);
	return rc;
}

static int diff_sgxs(eimg_diff *d, const char *a, const char *b, eimg_error *err)
{
	struct eimg_sgxs_info xa, xb;
	int rc;
	if ((rc = eimg_sgxs_read_file(a, &xa, err)) || (rc = eimg_sgxs_read_file(b, &xb, err)))
		return rc;
	d->nmeasure = 1;
	measure_hex(d, xa.mrenclave, xb.mrenclave, 32, 0);
	d->measurement_equal = memcmp(xa.mrenclave, xb.mrenclave, 32) == 0;
	if (d->measurement_equal)
		return EIMG_OK; /* the same stream: SHA-256 is collision resistant */
	return eimg_diff_sgxs_files(d, a, b, err);
}

static int diff_eif_files(eimg_diff *d, const char *a, const char *b, struct eimg_progress *p, eimg_error *err)
{
	struct eimg_diff_src sa = { a, -1, NULL, 0, p }, sb = { b, -1, NULL, 0, p };
	int rc;
	if ((sa.fd = open(a, O_RDONLY | O_CLOEXEC)) < 0)
		return eimg_err_sys(err, a, "cannot open");
	if ((sb.fd = open(b, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = eimg_err_sys(err, b, "cannot open");
		goto out;
	}
	rc = eimg_diff_eifs(d, &sa, &sb, err);
out:
	close(sa.fd);
	if (sb.fd >= 0)
		close(sb.fd);
	return rc;
}

int eimg_diff_files(const char *a, const char *b, eimg_diff **out, eimg_error *err)
{
	return eimg_diff_files_progress(a, b, NULL, out, err);
}

int eimg_diff_files_progress(const char *a, const char *b, struct eimg_progress *progress, eimg_diff **out,
			     eimg_error *err)
{
	int ka, kb, rc;
	if (!a || !b || !out)
		return eimg_err(err, EIMG_EUSAGE, NULL, "--diff needs two inputs");
	if ((rc = head_kind(a, &ka, err)) || (rc = head_kind(b, &kb, err)))
		return rc;
	if (ka != kb)
		return eimg_err(err, EIMG_EINVAL, NULL, "'%s' is %s, '%s' %s: compare like with like", a, kind_name(ka), b,
				kind_name(kb));
	eimg_diff *d = calloc(1, sizeof(*d));
	if (!d || !(d->items = calloc(EIMG_DIFF_MAX_ITEMS, sizeof(*d->items)))) {
		free(d);
		return eimg_err_nomem(err);
	}
	d->kind = ka;
	switch (ka) {
	case EIMG_INPUT_IMAGE: rc = diff_images(d, a, b, progress, err); break;
	case EIMG_INPUT_SGXS: rc = diff_sgxs(d, a, b, err); break;
	case EIMG_INPUT_EIF: rc = diff_eif_files(d, a, b, progress, err); break;
	default:
		rc = eimg_err(err, EIMG_EINVAL, a, "is %s: --diff compares two images, two EIFs or two SGXS streams",
			      kind_name(ka));
	}
	if (rc) {
		eimg_diff_free(d);
		return rc;
	}
	*out = d;
	return EIMG_OK;
}

/* ---- reports ---- */

int eimg_diff_report_text(const eimg_diff *d, const char *a, const char *b, char **out, eimg_error *err)
{
	static const char *const names[3] = { "pcr0", "pcr1", "pcr2" };
	struct eimg_sb s = { 0 };
	bool nitro = d->nmeasure == 3;
	eimg_sb_field(&s, NULL, "a", "%s", a);
	eimg_sb_field(&s, NULL, "b", "%s", b);
	for (unsigned i = 0; i < d->nmeasure; i++) {
		const char *n = nitro ? names[i] : "mrenclave";
		if (strcmp(d->measure_a[i], d->measure_b[i]) == 0)
			eimg_sb_field(&s, NULL, n, "%s (equal)", d->measure_a[i]);
		else
			eimg_sb_field(&s, NULL, n, "%s vs %s", d->measure_a[i], d->measure_b[i]);
	}
	eimg_sb_field(&s, NULL, "measurement_equal", "%s", d->measurement_equal ? "yes" : "no");
	eimg_sb_field(&s, NULL, "differences_total", "%zu%s", d->total, d->total == 0 ? " (no difference)" : "");
	for (size_t i = 0; i < d->n; i++)
		eimg_sb_printf(&s, "%s %s: %s\n", d->items[i].measured ? "-" : "~", d->items[i].where, d->items[i].what);
	if (d->total > d->n)
		eimg_sb_printf(&s, "... and %zu more differences\n", d->total - d->n);
	if (!(*out = eimg_sb_done(&s)))
		return eimg_err_nomem(err);
	return EIMG_OK;
}

int eimg_diff_report_json(const eimg_diff *d, const char *a, const char *b, char **out, eimg_error *err)
{
	static const char *const names[3] = { "pcr0", "pcr1", "pcr2" };
	json_t *ma = json_object(), *mb = json_object(), *items = json_array();
	for (unsigned i = 0; i < d->nmeasure && ma && mb; i++) {
		const char *n = d->nmeasure == 3 ? names[i] : "mrenclave";
		json_object_set_new(ma, n, json_string(d->measure_a[i]));
		json_object_set_new(mb, n, json_string(d->measure_b[i]));
	}
	for (size_t i = 0; i < d->n && items; i++)
		json_array_append_new(items, json_pack("{s:s, s:s, s:b}", "where", d->items[i].where, "what",
						       d->items[i].what, "measured", d->items[i].measured));
	/* json_pack takes the references of ma, mb and items, also on failure. */
	json_t *o = json_pack("{s:s?, s:s?, s:b, s:o?, s:o?, s:o?, s:I}", "a", a, "b", b, "measurement_equal",
			      d->measurement_equal, "measurement_a", ma, "measurement_b", mb, "differences", items,
			      "differences_total", (json_int_t)d->total);
	if (!o || !ma || !mb || !items || json_array_size(items) != d->n) {
		json_decref(o);
		return eimg_err_nomem(err);
	}
	return eimg_json_dump(o, out, NULL, err); /* takes o */
}
