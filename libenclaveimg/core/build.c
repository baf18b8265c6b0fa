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
#include "core/image_int.h"
#include "core/internal.h"
#include "core/measure_int.h"

/* Adds the manifest's files (as they are, left in their files) or keys
 * (normalised to DER) to the image. */
static int load_entries(const struct eimg_manifest_entry *e, size_t n, bool keys, const char *manifest,
			eimg_image *img, eimg_error *err)
{
	for (size_t i = 0; i < n; i++) {
		eimg_blob *b = NULL;
		uint8_t *buf = NULL, *der = NULL;
		size_t len = 0, dlen = 0;
		int rc = keys ? eimg_read_file(e[i].path, EIMG_MAX_KEY_FILE, &buf, &len, err)
			      : eimg_blob_open_file(e[i].path, EIMG_MAX_INPUT_FILE, &b, err);
		if (rc) {
			/* Point at the manifest entry that named the file. */
			eimg_err_context(err, manifest, "%s[%zu].path: '%s'", keys ? "user_keys" : "files", i, e[i].path);
			if (err) {
				err->line = e[i].pos.line;
				err->column = e[i].pos.column;
			}
			return rc;
		}
		if (keys) {
			rc = eimg_pubkey_to_der(e[i].path, buf, len, &der, &dlen, err);
			free(buf);
			if (rc)
				return rc;
			if (!(b = eimg_blob_take_buffer(der, dlen)))
				return eimg_err_nomem(err);
		}
		rc = keys ? eimg_image_add_key(img, e[i].name, b, err) : eimg_image_add_file(img, e[i].name, b, err);
		if (rc)
			return rc;
	}
	return EIMG_OK;
}

static int build_sgx(const eimg_manifest *man, eimg_image *img, struct eimg_build_result *res, eimg_error *err)
{
	eimg_elf elf;
	eimg_layout *layout = NULL;
	struct eimg_layout_input in;
	eimg_blob *eb = NULL;
	const uint8_t *ep;
	char *measured = NULL, *mj = NULL;
	size_t measured_len = 0, mj_len = 0;
	int rc;

	uint8_t *orig = NULL, *canon = NULL;
	size_t orig_len = 0, canon_len = 0;
	rc = eimg_read_file(man->sgx.enclave, EIMG_MAX_ELF_FILE, &orig, &orig_len, err);
	if (rc)
		return rc;
	/* The image stores the canonical ELF: only what reaches the enclave
	 * (enclave-measurement(7), "The stored ELF"); it measures the same. */
	rc = eimg_elf_parse(man->sgx.enclave, orig, orig_len, man->sgx.allow_write_exec, &elf, err);
	if (rc == EIMG_OK && (rc = eimg_elf_canonical(&elf, &canon, &canon_len, err)))
		eimg_err_context(err, man->sgx.enclave, "canonical form");
	free(orig);
	if (rc)
		return rc;
	if (!(eb = eimg_blob_take_buffer(canon, canon_len))) /* frees canon */
		return eimg_err_nomem(err);
	eimg_image_set_elf(img, eb);
	rc = eimg_blob_map(eb, &ep, "enclave.elf", err);
	if (rc)
		return rc;
	rc = eimg_elf_parse("enclave.elf", ep, (size_t)eimg_blob_size(eb), man->sgx.allow_write_exec, &elf, err);
	if (rc)
		return rc;
	if ((rc = load_entries(man->files, man->nfiles, false, man->source, img, err)) ||
	    (rc = load_entries(man->keys, man->nkeys, true, man->source, img, err)))
		return rc;
	rc = eimg_manifest_measured(man, &measured, &measured_len, err);
	if (rc)
		return rc;

	memset(&in, 0, sizeof(in));
	in.manifest = man;
	in.manifest_json = measured;
	in.manifest_len = measured_len;
	in.elf = &elf;
	rc = eimg_layout_members(img, &in, err);
	if (rc == EIMG_OK)
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
		rc = eimg_measurement_json_sgx(&res->sgx, &mj, &mj_len, err);
	}
	if (rc == EIMG_OK)
		rc = eimg_image_set_measurement(img, mj, mj_len, err);
	free(mj);
	eimg_layout_free(layout);
	free(measured);
	return rc;
}

/* The EIF is streamed into an unlinked scratch file (in the output's folder)
 * that the image then refers to: nothing of the application stays in memory. */
static int build_nitro(const eimg_manifest *man, eimg_image *img, const struct eimg_build_options *opt,
		       struct eimg_build_result *res, eimg_error *err)
{
	struct eimg_nitro_build_opts bo;
	uint64_t eif_len = 0;
	size_t clen, mj_len = 0;
	char *mj = NULL;
	const char *canon = eimg_image_manifest(img, &clen);
	int rc, fd = eimg_scratch_fd(opt->scratch_dir, "the EIF", err);

	if (fd < 0)
		return EIMG_EIO;
	memset(&bo, 0, sizeof(bo));
	bo.epoch = opt->mtime;
	bo.progress = opt->progress;
	uint8_t pcr[144];
	rc = eimg_nitro_build_fd(man, canon, clen, &bo, fd, &eif_len, pcr, err);
	if (rc == EIMG_OK)
		memcpy(res->pcr, pcr, sizeof(pcr));
	struct eimg_file *f = eimg_file_new(fd); /* closes fd on failure */
	eimg_blob *b = f ? eimg_blob_from_range(f, 0, eif_len) : NULL;
	eimg_file_unref(f);
	if (rc) {
		eimg_blob_free(b);
		return rc;
	}
	if (!b)
		return eimg_err_nomem(err);
	eimg_image_set_eif(img, b);
	rc = eimg_measurement_json_nitro(&res->pcr[0][0], &mj, &mj_len, err);
	if (rc == EIMG_OK)
		rc = eimg_image_set_measurement(img, mj, mj_len, err);
	free(mj);
	return rc;
}

int eimg_build(const struct eimg_build_options *opt, eimg_image **out, struct eimg_build_result *res,
	       eimg_error *err)
{
	eimg_manifest *man = NULL;
	eimg_image *img = NULL;
	struct eimg_build_result r;
	char *canon = NULL, *rt = NULL;
	size_t canon_len = 0, rt_len = 0;
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
	if ((rc = eimg_nitro_resolve(man, err)))
		goto out;
	rc = eimg_manifest_canonical(man, &canon, &canon_len, err);
	if (rc == EIMG_OK)
		rc = eimg_image_set_manifest(img, canon, canon_len, err);
	if (rc)
		goto out;
	rt_len = strlen(man->runtime_json) + 1;
	rt = malloc(rt_len + 1);
	if (!rt) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	snprintf(rt, rt_len + 1, "%s\n", man->runtime_json);
	if ((rc = eimg_image_set_runtime(img, rt, rt_len, err)))
		goto out;
	r.target = man->target;
	if (man->target == EIMG_TARGET_SGX) {
		rc = build_sgx(man, img, &r, err);
	} else {
		rc = build_nitro(man, img, opt, &r, err);
	}
	if (rc)
		goto out;
	*out = img;
	img = NULL;
	*res = r;
out:
	free(canon);
	free(rt);
	eimg_image_free(img);
	eimg_manifest_free(man);
	return rc;
}
