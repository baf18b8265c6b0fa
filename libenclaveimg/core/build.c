/* SPDX-License-Identifier: Apache-2.0 */
/* Building an image from a manifest (enclave-build); measure.c reopens
 * and measures what this writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	rc = eimg_sgx_mrenclave_progress(layout, eimg_image_progress(img), res->sgx.mrenclave, err);
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

/* Where the EIF goes.  Into the temporary file of the image's output at
 * the offset of its member when that offset is settled (the member's
 * headers are the same for every size in [lo, hi]): eimg_image_write_file
 * then writes the other members around it and renames that file (no copy).
 * Else into a scratch file beside the output, copied from there. */
struct place {
	const eimg_image *img;
	const struct eimg_build_options *opt;
	struct eimg_outfile *out;   /* the output's temporary file, or NULL */
	int fd;
	uint64_t at;                /* the EIF's offset in fd */
	uint64_t head;              /* its member's headers: lo's and hi's */
};

static int place_eif(void *ctx, uint64_t lo, uint64_t hi, eimg_error *err)
{
	struct place *p = ctx;
	uint64_t a = 0, b = 0;
	const char *o = p->opt->output;
	int rc = o && strcmp(o, "-") != 0 ? eimg_image_eif_offset(p->img, p->opt->mtime, lo, &a, err) : EIMG_EINVAL;
	if (rc == EIMG_OK)
		rc = eimg_image_eif_offset(p->img, p->opt->mtime, hi, &b, err);
	if (rc == EIMG_OK && a == b && eimg_outfile_new(o, &p->out, err) == EIMG_OK &&
	    lseek(p->out->fd, (off_t)a, SEEK_SET) == (off_t)a && (p->fd = dup(p->out->fd)) >= 0) {
		p->at = p->head = a;
		return p->fd;
	}
	eimg_outfile_free(p->out);
	p->out = NULL;
	/* The scratch file: beside the output (one file system, no /tmp). */
	char dir[4096] = ".";
	const char *slash = o ? strrchr(o, '/') : NULL;
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", slash == o ? 1 : (int)(slash - o), o);
	p->fd = eimg_scratch_fd(o && strcmp(o, "-") != 0 ? dir : NULL, "the EIF", err);
	p->at = 0;
	return p->fd;
}

static int build_nitro(const eimg_manifest *man, eimg_image *img, const struct eimg_build_options *opt,
		       struct eimg_build_result *res, eimg_error *err)
{
	struct eimg_nitro_build_opts bo;
	struct place pl = { img, opt, NULL, -1, 0, 0 };
	uint64_t eif_len = 0, at = 0;
	size_t clen, mj_len = 0;
	char *mj = NULL;
	uint8_t pcr[144];
	const char *canon = eimg_image_manifest(img, &clen);

	struct eimg_outfile *copy = NULL;
	if (opt->eif_output) {
		if (strcmp(opt->eif_output, "-") == 0)
			return eimg_err(err, EIMG_EUSAGE, NULL, "the EIF's copy needs a file name");
		int rc = eimg_outfile_new(opt->eif_output, &copy, err);
		if (rc)
			return rc;
	}
	memset(&bo, 0, sizeof(bo));
	bo.epoch = opt->mtime;
	bo.copy = copy != NULL;
	bo.copy_fd = copy ? copy->fd : -1;
	bo.copy_name = opt->eif_output;
	bo.progress = opt->progress;
	bo.place = place_eif;
	bo.place_ctx = &pl;
	int rc = eimg_nitro_build_fd(man, canon, clen, &bo, -1, &eif_len, pcr, err);
	struct eimg_file *f = pl.fd >= 0 ? eimg_file_new(pl.fd) : NULL; /* takes fd */
	eimg_blob *b = f ? eimg_blob_from_range(f, pl.at, eif_len) : NULL;
	if (f && pl.out) {
		/* In place only if the member's headers came out as planned. */
		if (rc == EIMG_OK && eimg_image_eif_offset(img, opt->mtime, eif_len, &at, err) == EIMG_OK && at == pl.head) {
			f->out = pl.out;
		} else {
			eimg_outfile_free(pl.out);
		}
		pl.out = NULL;
	}
	if (f && rc == EIMG_OK) { /* put in place with the image */
		f->copy = copy;
		copy = NULL;
	}
	eimg_outfile_free(copy);
	eimg_file_unref(f);
	eimg_outfile_free(pl.out);
	if (rc || !b) {
		eimg_blob_free(b);
		return rc ? rc : eimg_err_nomem(err);
	}
	memcpy(res->pcr, pcr, sizeof(pcr));
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
		eimg_image_set_progress(img, opt->progress);
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
