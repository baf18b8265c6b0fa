/* SPDX-License-Identifier: Apache-2.0 */
/* Building an image from a manifest (enclave-build); measure.c reopens
 * and measures what this writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/keys.h"
#include "eimg/measure.h"
#include "eimg/nitro.h"
#include "eimg/sgxs.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "core/measure_int.h"

static void free_members(struct eimg_member *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].data);
	}
	free(v);
}

/* Reads the manifest's files (as they are) or keys (normalised to DER). */
static int load_entries(const struct eimg_manifest_entry *e, size_t n, bool keys, const char *manifest,
			struct eimg_member **out, eimg_error *err)
{
	struct eimg_member *v = calloc(n ? n : 1, sizeof(*v));
	int rc = EIMG_OK;
	if (!v)
		return eimg_err_nomem(err);
	for (size_t i = 0; i < n; i++) {
		uint8_t *buf = NULL;
		size_t len = 0;
		rc = eimg_read_file(e[i].path, keys ? EIMG_MAX_KEY_FILE : EIMG_MAX_INPUT_FILE, &buf, &len, err);
		if (rc) {
			/* Point at the manifest entry that named the file. */
			eimg_err_context(err, manifest, "%s[%zu].path: '%s'", keys ? "user_keys" : "files", i, e[i].path);
			if (err) {
				err->line = e[i].pos.line;
				err->column = e[i].pos.column;
			}
			goto out;
		}
		if (keys) {
			uint8_t *der = NULL;
			size_t dlen = 0;
			rc = eimg_pubkey_to_der(e[i].path, buf, len, &der, &dlen, err);
			free(buf);
			if (rc)
				goto out;
			buf = der;
			len = dlen;
		}
		v[i].data = buf;
		v[i].size = len;
		v[i].name = strdup(e[i].name);
		if (!v[i].name) {
			rc = eimg_err_nomem(err);
			goto out;
		}
	}
	*out = v;
	return EIMG_OK;
out:
	free_members(v, n);
	return rc;
}

static int build_sgx(const eimg_manifest *man, eimg_image *img, struct eimg_build_result *res, eimg_error *err)
{
	eimg_elf elf;
	eimg_layout *layout = NULL;
	struct eimg_layout_input in;
	char *measured = NULL;
	size_t measured_len = 0;
	int rc;

	uint8_t *orig = NULL;
	size_t orig_len = 0;
	rc = eimg_read_file(man->sgx.enclave, EIMG_MAX_ELF_FILE, &orig, &orig_len, err);
	if (rc)
		return rc;
	/* The image stores the canonical ELF: only what reaches the enclave
	 * (enclave-measurement(7), "The stored ELF"); it measures the same. */
	rc = eimg_elf_parse(man->sgx.enclave, orig, orig_len, man->sgx.allow_write_exec, &elf, err);
	if (rc == EIMG_OK && (rc = eimg_elf_canonical(&elf, &img->elf, &img->elf_size, err)))
		eimg_err_context(err, man->sgx.enclave, "canonical form");
	free(orig);
	if (rc == EIMG_OK)
		rc = eimg_elf_parse("enclave.elf", img->elf, img->elf_size, man->sgx.allow_write_exec, &elf, err);
	if (rc)
		return rc;
	rc = load_entries(man->files, man->nfiles, false, man->source, &img->files, err);
	if (rc)
		return rc;
	img->nfiles = man->nfiles;
	rc = load_entries(man->keys, man->nkeys, true, man->source, &img->keys, err);
	if (rc)
		return rc;
	img->nkeys = man->nkeys;
	rc = eimg_manifest_measured(man, &measured, &measured_len, err);
	if (rc)
		return rc;

	memset(&in, 0, sizeof(in));
	in.manifest = man;
	in.manifest_json = measured;
	in.manifest_len = measured_len;
	in.elf = &elf;
	in.files = img->files;
	in.nfiles = img->nfiles;
	in.keys = img->keys;
	in.nkeys = img->nkeys;
	rc = eimg_layout_sgx(&in, &layout, err);
	if (rc) {
		free(measured);
		if (err && !err->file[0])
			snprintf(err->file, sizeof(err->file), "%s", man->source);
		return rc;
	}
	memset(&res->sgx, 0, sizeof(res->sgx));
	rc = eimg_sgx_mrenclave(layout, res->sgx.mrenclave, err);
	if (rc == EIMG_OK) {
		eimg_fill_measurement(man, layout, &res->sgx);
		rc = eimg_measurement_json_sgx(&res->sgx, &img->measurement_json, &img->measurement_len, err);
	}
	eimg_layout_free(layout);
	free(measured);
	return rc;
}

static int build_nitro(const eimg_manifest *man, eimg_image *img, uint64_t mtime, struct eimg_build_result *res,
		       eimg_error *err)
{
	struct eimg_nitro_build_opts bo;
	eimg_nitro_report *rep = NULL;
	int rc;

	memset(&bo, 0, sizeof(bo));
	bo.epoch = mtime;
	rc = eimg_nitro_build(man, img->manifest_json, img->manifest_len, &bo, &img->eif, &img->eif_size, &rep, err);
	if (rc)
		return rc;
	memcpy(res->pcr[0], rep->pcr0, 48);
	memcpy(res->pcr[1], rep->pcr1, 48);
	memcpy(res->pcr[2], rep->pcr2, 48);
	eimg_nitro_report_free(rep);
	return eimg_measurement_json_nitro(&res->pcr[0][0], &img->measurement_json, &img->measurement_len, err);
}

int eimg_build(const struct eimg_build_options *opt, eimg_image **out, struct eimg_build_result *res,
	       eimg_error *err)
{
	eimg_manifest *man = NULL;
	eimg_image *img = NULL;
	struct eimg_build_result r;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = eimg_manifest_parse_file(opt->manifest_path, &man, err);
	if (rc)
		return rc;
	img = eimg_image_new();
	if (!img) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	rc = eimg_manifest_canonical(man, &img->manifest_json, &img->manifest_len, err);
	if (rc)
		goto out;
	img->runtime_len = strlen(man->runtime_json) + 1;
	img->runtime_json = malloc(img->runtime_len + 1);
	if (!img->runtime_json) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	snprintf(img->runtime_json, img->runtime_len + 1, "%s\n", man->runtime_json);
	r.target = man->target;
	if (man->target == EIMG_TARGET_SGX) {
		rc = build_sgx(man, img, &r, err);
	} else {
		rc = build_nitro(man, img, opt->mtime, &r, err);
	}
	if (rc)
		goto out;
	*out = img;
	img = NULL;
	*res = r;
out:
	eimg_image_free(img);
	eimg_manifest_free(man);
	return rc;
}
