/* SPDX-License-Identifier: Apache-2.0 */
/* Reopening and measuring: what kind of file an input is, the measurement
 * records, and reopening an SGX or Nitro image to recompute its measurement
 * from content and compare it with what the image records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "eimg/keys.h"
#include "eimg/measure.h"
#include "eimg/nitro.h"
#include "eimg/sgxs.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "core/measure_int.h"

int eimg_measurement_json_sgx(const struct eimg_sgx_measurement *m, char **out, size_t *len, eimg_error *err)
{
	char hex[65];
	return eimg_json_dump(json_pack("{s:s, s:s, s:i, s:s, s:s, s:I}", "format", EIMG_MEASUREMENT_FORMAT, "target",
					"sgx", "layout_version", EIMG_LAYOUT_VERSION, "mode", eimg_mode_name(m->mode),
					"mrenclave", eimg_hex(m->mrenclave, 32, hex), "enclave_size",
					(json_int_t)m->enclave_size),
			      out, len, err);
}

int eimg_measurement_json_nitro(const uint8_t *pcr012, char **out, size_t *len, eimg_error *err)
{
	char h[3][97];
	for (int i = 0; i < 3; i++)
		eimg_hex(pcr012 + 48 * i, 48, h[i]);
	return eimg_json_dump(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "format", EIMG_MEASUREMENT_FORMAT, "target",
					"nitro", "hash_algorithm", "sha384", "pcr0", h[0], "pcr1", h[1], "pcr2", h[2]),
			      out, len, err);
}

void eimg_fill_measurement(const eimg_manifest *man, const eimg_layout *l, struct eimg_sgx_measurement *m)
{
	m->enclave_size = l->size;
	m->threads = l->threads;
	m->ssa_frames = l->ssa_frames;
	m->ssa_frame_size = l->ssa_frame_size;
	m->heap_size = l->heap_size;
	m->stack_size = man->sgx.stack_size;
	m->npages = l->npages;
	m->entry = l->entry;
	m->mode = l->mode;
}


int eimg_layout_members(const eimg_image *img, struct eimg_layout_input *in, eimg_error *err)
{
	int rc = eimg_image_files_view(img, &in->files, &in->nfiles, err);
	return rc ? rc : eimg_image_keys_view(img, &in->keys, &in->nkeys, err);
}

static int check_members_match(const struct eimg_manifest_entry *e, size_t n, const struct eimg_member *m,
			       size_t nm, const char *what, const char *source, eimg_error *err)
{
	if (n != nm)
		return eimg_err(err, EIMG_EINVAL, source, "manifest.json lists %zu %s but the image holds %zu",
				n, what, nm);
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].name, m[i].name) != 0) {
			char esc[300];
			return eimg_err(err, EIMG_EINVAL, source, "%s member '%s' is not the one manifest.json lists",
					what, eimg_escape(m[i].name, strlen(m[i].name), esc, sizeof(esc)));
		}
	return EIMG_OK;
}

static int check_recorded(const eimg_image *img, const struct eimg_sgx_measurement *m, const char *source,
			  eimg_error *err)
{
	json_error_t jerr;
	size_t mlen;
	const char *mtext = eimg_image_measurement(img, &mlen);
	json_t *o = json_loadb(mtext, mlen, JSON_REJECT_DUPLICATES, &jerr);
	const char *fmt = NULL, *target = NULL, *mr = NULL, *mode = NULL;
	json_int_t size = 0, lv = 0;
	int rc = EIMG_OK;
	char hex[65];

	if (!o || json_unpack(o, "{s:s, s:s, s:s, s:s, s:I, s:I}", "format", &fmt, "target", &target,
			      "mrenclave", &mr, "mode", &mode, "enclave_size", &size, "layout_version", &lv) != 0) {
		rc = eimg_err(err, EIMG_EINVAL, source, "measurement.json is malformed");
		goto out;
	}
	if (strcmp(fmt, EIMG_MEASUREMENT_FORMAT) != 0 || strcmp(target, "sgx") != 0 || lv != EIMG_LAYOUT_VERSION) {
		rc = eimg_err(err, EIMG_EUNSUPPORTED, source,
			      "measurement.json: unsupported format, target or layout version");
		goto out;
	}
	eimg_hex(m->mrenclave, 32, hex);
	if (strcmp(mr, hex) != 0) {
		char esc[80];
		rc = eimg_err(err, EIMG_EVERIFY, source,
			      "recorded MRENCLAVE %s differs from the recomputed %s: the image was altered after it was built",
			      eimg_escape(mr, strlen(mr), esc, sizeof(esc)), hex);
		goto out;
	}
	if ((uint64_t)size != m->enclave_size || strcmp(mode, eimg_mode_name(m->mode)) != 0) {
		rc = eimg_err(err, EIMG_EVERIFY, source,
			      "recorded enclave size or mode differs from the recomputed one: the image was altered");
		goto out;
	}
out:
	json_decref(o);
	return rc;
}

/* The image's manifest.json: parsed, of the expected target, and canonical
 * (so that its bytes are a function of its content). */
static int open_manifest(const eimg_image *img, const char *source, int target, eimg_manifest **out,
			 eimg_error *err)
{
	eimg_manifest *m = NULL;
	char *canon = NULL;
	size_t canon_len = 0;
	size_t mlen;
	const char *mtext = eimg_image_manifest(img, &mlen);
	int rc = eimg_manifest_parse_buffer("manifest.json", mtext, mlen, NULL, &m, err);
	if (rc) {
		/* Keep the position inside manifest.json but say which image. */
		if (!err)
			return rc;
		if (err->line)
			return eimg_err_context(err, source, "manifest.json:%u:%u", err->line, err->column);
		return eimg_err_context(err, source, "manifest.json");
	}
	if (m->target != target) {
		rc = eimg_err(err, EIMG_EINVAL, source, "manifest.json target is %s but the image holds %s",
			      eimg_target_name(m->target), target == EIMG_TARGET_SGX ? "enclave.elf" : "enclave.eif");
		goto out;
	}
	rc = eimg_manifest_canonical(m, &canon, &canon_len, err);
	if (rc)
		goto out;
	if (canon_len != mlen || memcmp(canon, mtext, canon_len) != 0) {
		rc = eimg_err(err, EIMG_EINVAL, source, "manifest.json is not in canonical form");
		goto out;
	}
	*out = m;
	m = NULL;
out:
	free(canon);
	eimg_manifest_free(m);
	return rc;
}

int eimg_sgx_image_open(const eimg_image *img, const char *source, eimg_sgx_image **out, eimg_error *err)
{
	eimg_sgx_image *s = calloc(1, sizeof(*s));
	char *canon = NULL;
	size_t canon_len = 0;
	struct eimg_layout_input in;
	int rc;

	if (!s)
		return eimg_err_nomem(err);
	s->image = img;
	if (!eimg_image_elf(img)) {
		rc = eimg_err(err, EIMG_EINVAL, source, "not an SGX image (no enclave.elf)");
		goto out;
	}
	rc = open_manifest(img, source, EIMG_TARGET_SGX, &s->manifest, err);
	if (rc)
		goto out;
	memset(&in, 0, sizeof(in));
	if ((rc = eimg_layout_members(img, &in, err)))
		goto out;
	rc = check_members_match(s->manifest->files, s->manifest->nfiles, in.files, in.nfiles, "files", source, err);
	if (rc == EIMG_OK)
		rc = check_members_match(s->manifest->keys, s->manifest->nkeys, in.keys, in.nkeys, "keys", source, err);
	if (rc)
		goto out;
	for (size_t i = 0; i < in.nkeys; i++) {
		uint8_t *der = NULL;
		size_t dlen = 0;
		rc = eimg_pubkey_to_der(source, in.keys[i].data, in.keys[i].size, &der, &dlen, err);
		if (rc == EIMG_OK && (dlen != in.keys[i].size || memcmp(der, in.keys[i].data, dlen) != 0))
			rc = eimg_err(err, EIMG_EINVAL, source, "keys/%s is not a DER SubjectPublicKeyInfo", in.keys[i].name);
		free(der);
		if (rc)
			goto out;
	}
	const uint8_t *ep;
	if ((rc = eimg_blob_map(eimg_image_elf(img), &ep, "enclave.elf", err)))
		goto out;
	rc = eimg_elf_parse("enclave.elf", ep, (size_t)eimg_blob_size(eimg_image_elf(img)), s->manifest->sgx.allow_write_exec,
			    &s->elf, err);
	/* No byte of the member outside what is measured: it must be canonical. */
	if (rc == EIMG_OK)
		rc = eimg_elf_check_canonical("enclave.elf", &s->elf, err);
	if (rc) {
		eimg_err_context(err, source, "enclave.elf");
		goto out;
	}
	free(canon);
	canon = NULL;
	rc = eimg_manifest_measured(s->manifest, &canon, &canon_len, err);
	if (rc)
		goto out;
	in.manifest = s->manifest;
	in.manifest_json = canon;
	in.manifest_len = canon_len;
	in.elf = &s->elf;
	rc = eimg_layout_sgx(&in, &s->layout, err);
	if (rc)
		goto out;
	rc = eimg_sgx_mrenclave_progress(s->layout, eimg_image_progress(img), s->m.mrenclave, err);
	if (rc)
		goto out;
	eimg_fill_measurement(s->manifest, s->layout, &s->m);
	rc = check_recorded(img, &s->m, source, err);
	if (rc)
		goto out;
	*out = s;
	s = NULL;
out:
	free(canon);
	eimg_sgx_image_free(s);
	return rc;
}

void eimg_sgx_image_free(eimg_sgx_image *s)
{
	if (!s)
		return;
	eimg_layout_free(s->layout);
	eimg_manifest_free(s->manifest);
	free(s);
}

int eimg_measure_image(const eimg_image *img, struct eimg_sgx_measurement *out, eimg_error *err)
{
	eimg_sgx_image *s = NULL;
	int rc = eimg_sgx_image_open(img, "image", &s, err);
	if (rc)
		return rc;
	*out = s->m;
	eimg_sgx_image_free(s);
	return EIMG_OK;
}

int eimg_nitro_image_open(const eimg_image *img, const char *source, struct eimg_nitro_report **out,
			  eimg_error *err)
{
	return eimg_nitro_image_open_opts(img, source, NULL, out, err);
}

int eimg_nitro_image_open_opts(const eimg_image *img, const char *source, const struct eimg_nitro_audit_opts *opts,
			       struct eimg_nitro_report **out, eimg_error *err)
{
	eimg_manifest *man = NULL;
	eimg_nitro_report *rep = NULL;
	struct eimg_nitro_audit_opts ao;
	char *rec = NULL;
	size_t rec_len = 0;
	uint8_t pcr[3][48];
	int rc;

	if (!eimg_image_eif(img))
		return eimg_err(err, EIMG_EINVAL, source, "not a Nitro image (no enclave.eif)");
	rc = open_manifest(img, source, EIMG_TARGET_NITRO, &man, err);
	if (rc)
		goto out;
	if (eimg_image_nfiles(img) || eimg_image_nkeys(img) || eimg_image_sigstruct(img)) {
		rc = eimg_err(err, EIMG_EINVAL, source, "a Nitro image holds no files/, keys/ or sigstruct.bin members");
		goto out;
	}
	memset(&ao, 0, sizeof(ao));
	if (opts)
		ao = *opts;
	if (!ao.progress)
		ao.progress = eimg_image_progress(img);
	ao.manifest_json = eimg_image_manifest(img, &ao.manifest_len);
	/* In place: a file-backed member is streamed through the PCR pass. */
	const eimg_blob *eb = eimg_image_eif(img);
	const uint8_t *eif;
	int efd;
	uint64_t ebase;
	if (eimg_blob_fd(eb, &efd, &ebase) == 0)
		rc = eimg_nitro_audit_range(source, efd, ebase, eimg_blob_size(eb), &ao, &rep, err);
	else if ((rc = eimg_blob_map(eb, &eif, source, err)) == EIMG_OK)
		rc = eimg_nitro_audit_buffer(source, eif, (size_t)eimg_blob_size(eb), &ao, &rep, err);
	if (rc)
		goto out;
	memcpy(pcr[0], rep->pcr0, 48);
	memcpy(pcr[1], rep->pcr1, 48);
	memcpy(pcr[2], rep->pcr2, 48);
	rc = eimg_measurement_json_nitro(&pcr[0][0], &rec, &rec_len, err);
	if (rc)
		goto out;
	/* The record is canonical JSON of the recomputed values: any difference is an alteration. */
	size_t mlen;
	const char *mtext = eimg_image_measurement(img, &mlen);
	if (rec_len != mlen || memcmp(rec, mtext, rec_len) != 0) {
		rc = eimg_err(err, EIMG_EVERIFY, source,
			      "recorded PCRs in measurement.json differ from the recomputed ones: the image was altered after it was built");
		goto out;
	}
	*out = rep;
	rep = NULL;
out:
	free(rec);
	eimg_nitro_report_free(rep);
	eimg_manifest_free(man);
	return rc;
}
