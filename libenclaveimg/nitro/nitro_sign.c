/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-sign for Nitro: signing a Nitro image or a plain EIF with an EC key
 * and its certificate (one step, with any key the shared loader takes:
 * files, encrypted PEM, pkcs11: URIs), the detached flow (export the COSE
 * Sig_structure, attach a signature made elsewhere), and verification. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eimg/measure.h"
#include "eimg/nitro.h"
#include "eimg/sigstruct.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "crypto/crypto.h"

static int signer(void *ctx, int hash, const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t *sig_len,
		  eimg_error *err)
{
	return eimg_key_sign(ctx, hash, msg, msg_len, sig, sig_len, err);
}

static int input_kind(const char *path, eimg_error *err)
{
	uint8_t head[512];
	ssize_t n;
	int fd = strcmp(path, "-") == 0 ? -1 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -eimg_err_sys(err, path, "cannot open");
	n = read(fd, head, sizeof(head));
	close(fd);
	return eimg_detect_input(head, n > 0 ? (size_t)n : 0);
}

static int refuse_signed(const eimg_nitro_report *rep, const struct eimg_nitro_sign_request *r, eimg_error *err)
{
	if (r->op != EIMG_SIGN_OP_EXPORT && rep->is_signed && !r->force)
		return eimg_err(err, EIMG_EINVAL, r->input,
				"the EIF is already signed; give --force to replace its signature");
	return EIMG_OK;
}

static int run_eif(const struct eimg_nitro_sign_request *r, eimg_key *key, eimg_error *err)
{
	eimg_nitro_report *rep = NULL;
	const char *out = r->output ? r->output : r->input;
	int rc = eimg_nitro_audit_file(r->input, NULL, &rep, err);
	if (rc)
		return rc;
	rc = eimg_nitro_report_verdict(rep, err);
	if (rc == EIMG_OK)
		rc = refuse_signed(rep, r, err);
	eimg_nitro_report_free(rep);
	if (rc)
		return rc;
	switch (r->op) {
	case EIMG_SIGN_OP_SIGN:
		return eimg_nitro_sign_with_file(r->input, out, r->cert_path, signer, key, err);
	case EIMG_SIGN_OP_EXPORT:
		return eimg_nitro_export_tbs_file(r->input, r->cert_path, r->output, err);
	default:
		return eimg_nitro_attach_file(r->input, r->cert_path, r->signature_path, out, err);
	}
}

static int run_image(const struct eimg_nitro_sign_request *r, eimg_key *key, eimg_error *err)
{
	eimg_image *img = NULL;
	eimg_nitro_report *rep = NULL;
	uint8_t *res = NULL, *sig = NULL;
	size_t res_len = 0, sig_len = 0;
	int rc;

	rc = eimg_image_read_file(r->input, &img, err);
	if (rc)
		return rc;
	if (!img->eif) {
		rc = eimg_err(err, EIMG_EINVAL, r->input,
			      "an SGX image: sign it with an RSA key and without --cert (enclave-sign -k KEY)");
		goto out;
	}
	/* Never sign what does not measure as recorded. */
	rc = eimg_nitro_image_open(img, r->input, &rep, err);
	if (rc == EIMG_OK)
		rc = eimg_nitro_report_verdict(rep, err);
	if (rc == EIMG_OK)
		rc = refuse_signed(rep, r, err);
	if (rc)
		goto out;
	switch (r->op) {
	case EIMG_SIGN_OP_SIGN:
		rc = eimg_nitro_sign_with(r->input, img->eif, img->eif_size, r->cert_path, signer, key, &res, &res_len, err);
		break;
	case EIMG_SIGN_OP_EXPORT:
		rc = eimg_nitro_export_tbs(r->input, img->eif, img->eif_size, r->cert_path, &res, &res_len, err);
		if (rc == EIMG_OK)
			rc = eimg_write_file_atomic(r->output, res, res_len, err);
		goto out;
	default:
		rc = eimg_read_file(r->signature_path, 4096, &sig, &sig_len, err);
		if (rc == EIMG_OK)
			rc = eimg_nitro_attach(r->input, img->eif, img->eif_size, r->cert_path, sig, sig_len, &res, &res_len,
					       err);
		break;
	}
	if (rc)
		goto out;
	free(img->eif);
	img->eif = res;
	img->eif_size = res_len;
	res = NULL;
	/* The image keeps its own timestamp: only enclave.eif's signature section changes. */
	rc = eimg_image_write_file(img, img->mtime, r->output ? r->output : r->input, err);
out:
	free(sig);
	free(res);
	eimg_nitro_report_free(rep);
	eimg_image_free(img);
	return rc;
}

int eimg_nitro_sign_run(const struct eimg_nitro_sign_request *r, eimg_error *err)
{
	eimg_key *key = NULL;
	int kind, rc;

	if (!r->input || !r->cert_path)
		return eimg_err(err, EIMG_EUSAGE, NULL, "Nitro signing needs an input and a certificate");
	if (r->op == EIMG_SIGN_OP_EXPORT && !r->output)
		return eimg_err(err, EIMG_EUSAGE, NULL, "export needs an output file");
	if (r->op == EIMG_SIGN_OP_ATTACH && !r->signature_path)
		return eimg_err(err, EIMG_EUSAGE, NULL, "attach needs a signature file");
	if (r->op == EIMG_SIGN_OP_EXPORT_DIGEST)
		return eimg_err(err, EIMG_EUSAGE, NULL,
				"--digest is for SGX: a Nitro signature is made over the exported Sig_structure itself");
	kind = input_kind(r->input, err);
	if (kind < 0)
		return -kind;
	/* Signing and attaching update the input in place (or write -o); an
	 * export never replaces it. */
	if (r->op != EIMG_SIGN_OP_EXPORT)
		eimg_output_may_replace(r->input);
	if (kind != EIMG_INPUT_EIF && kind != EIMG_INPUT_IMAGE)
		return eimg_err(err, EIMG_EINVAL, r->input, "not a Nitro image or EIF (--cert is for Nitro signing)");
	if (r->op == EIMG_SIGN_OP_SIGN) {
		rc = eimg_key_load_private(r->key, &key, err);
		if (rc)
			return rc;
	}
	rc = kind == EIMG_INPUT_EIF ? run_eif(r, key, err) : run_image(r, key, err);
	eimg_key_free(key);
	/* One-step: a signature that does not verify means the key is not the certificate's. */
	if (rc == EIMG_EVERIFY && r->op == EIMG_SIGN_OP_SIGN)
		rc = eimg_err(err, EIMG_EINVAL, r->key->path,
			      "this key does not belong to the certificate '%s' (its signature does not verify with it)",
			      r->cert_path);
	return rc;
}

int eimg_nitro_verify_file(const char *path, eimg_nitro_report **out, eimg_error *err)
{
	eimg_image *img = NULL;
	eimg_nitro_report *rep = NULL;
	int kind = input_kind(path, err), rc;

	if (kind < 0)
		return -kind;
	if (kind == EIMG_INPUT_EIF) {
		rc = eimg_nitro_audit_file(path, NULL, &rep, err);
	} else if (kind == EIMG_INPUT_IMAGE) {
		rc = eimg_image_read_file(path, &img, err);
		if (rc == EIMG_OK && !img->eif)
			rc = eimg_err(err, EIMG_EINVAL, path, "not a Nitro image");
		if (rc == EIMG_OK)
			rc = eimg_nitro_image_open(img, path, &rep, err);
		eimg_image_free(img);
	} else {
		rc = eimg_err(err, EIMG_EINVAL, path, "not a Nitro image or EIF");
	}
	if (rc)
		return rc;
	rc = eimg_nitro_report_verdict(rep, err);
	if (rc == EIMG_OK && !rep->is_signed)
		rc = eimg_err(err, EIMG_EVERIFY, path, "the EIF is not signed: sign it with 'enclave-sign -k KEY --cert CERT'");
	if (rc) {
		eimg_nitro_report_free(rep);
		return rc;
	}
	*out = rep;
	return EIMG_OK;
}

bool eimg_is_nitro_input(const char *path)
{
	eimg_image *img = NULL;
	int kind = input_kind(path, NULL);
	bool nitro = kind == EIMG_INPUT_EIF;
	if (kind == EIMG_INPUT_IMAGE && eimg_image_read_file(path, &img, NULL) == EIMG_OK)
		nitro = img->eif != NULL;
	eimg_image_free(img);
	return nitro;
}
