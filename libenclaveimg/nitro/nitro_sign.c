/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-sign for Nitro: signing a Nitro image or a plain EIF with an EC key
 * and its certificate (one step, with any key the shared loader takes:
 * files, encrypted PEM, pkcs11: URIs), the detached flow (export the COSE
 * Sig_structure, attach a signature made elsewhere), and verification. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "eimg/constraint.h"
#include "eimg/identity.h"
#include "eimg/measure.h"
#include "eimg/nitro.h"
#include "eimg/sigstruct.h"
#include "eimg/util.h"
#include "core/image_int.h"
#include "core/internal.h"
#include "nitro/nitro_int.h"
#include "crypto/crypto.h"

static int signer(void *ctx, int hash, const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t *sig_len,
		  eimg_error *err)
{
	return eimg_key_sign(ctx, hash, msg, msg_len, sig, sig_len, err);
}

static int input_kind(const char *path, eimg_error *err)
{
	int kind, rc = eimg_detect_file(path, &kind, err);
	return rc ? -rc : kind;
}

static int refuse_signed(const eimg_nitro_report *rep, const struct eimg_nitro_sign_request *r, eimg_error *err)
{
	if (r->op != EIMG_SIGN_OP_EXPORT && rep->is_signed && !r->force)
		return eimg_err(err, EIMG_EINVAL, r->input,
				"the EIF is already signed; give --force to replace its signature");
	return EIMG_OK;
}

/* A bare EIF's audit, judged before signing: it must measure as it says
 * (CRC, an old signature, a manifest inside), unsigned unless --force. */
static int check_eif(void *ctx, const eimg_nitro_report *rep, eimg_error *err)
{
	int rc = eimg_nitro_report_verdict(rep, err);
	return rc ? rc : refuse_signed(rep, ctx, err);
}

/* A bare EIF: one read (the audit that judges it, hashes it and copies it
 * into the output), one write. */
static int run_eif(const struct eimg_nitro_sign_request *r, eimg_key *key, eimg_error *err)
{
	struct eimg_nitro_file_op op = { .in = r->input, .out = r->output ? r->output : r->input,
					 .cert_path = r->cert_path, .export_tbs = r->op == EIMG_SIGN_OP_EXPORT,
					 .check = check_eif, .check_ctx = (void *)r, .progress = r->progress };
	uint8_t *sig = NULL;
	int rc = EIMG_OK;
	if (r->op == EIMG_SIGN_OP_SIGN) {
		op.fn = signer;
		op.fn_ctx = key;
	} else if (r->op != EIMG_SIGN_OP_EXPORT && (rc = eimg_read_file(r->signature_path, 4096, &sig, &op.sig_len, err))) {
		return rc;
	}
	op.sig = sig;
	rc = eimg_nitro_file_op(&op, err);
	free(sig);
	return rc;
}

/* The signed EIF of an image member read in place: streamed into a
 * temporary file next to the output (memory stays flat whatever the size),
 * then opened as the new member's blob and unlinked. */
static int sign_in_place(const struct eimg_nitro_sign_request *r, eimg_key *key, const eimg_blob *eb,
			 const uint8_t *sig, size_t sig_len, eimg_blob **out, eimg_error *err)
{
	const char *dst = r->output && strcmp(r->output, "-") != 0 ? r->output : r->input;
	char *tmp = NULL;
	int fd, rc;
	uint64_t base;
	if (eimg_blob_fd(eb, &fd, &base) != 0)
		return eimg_err(err, EIMG_EINTERNAL, r->input, "enclave.eif is not in a file");
	if (asprintf(&tmp, "%s.eif-XXXXXX", dst) < 0)
		return eimg_err_nomem(err);
	int tfd = mkostemp(tmp, O_CLOEXEC);
	if (tfd < 0) {
		rc = eimg_err_sys(err, tmp, "cannot create a temporary file");
		free(tmp);
		return rc;
	}
	close(tfd);
	rc = eimg_nitro_sign_range_progress(r->input, fd, base, eimg_blob_size(eb), r->cert_path, sig ? NULL : signer, key,
					    sig, sig_len, tmp, r->progress, err);
	if (rc == EIMG_OK)
		rc = eimg_blob_open_file(tmp, EIMG_EIF_MAX_FILE, out, err);
	unlink(tmp);
	free(tmp);
	return rc;
}

/* The same with the member in memory (an image read from a buffer). */
static int sign_in_memory(const struct eimg_nitro_sign_request *r, eimg_key *key, const eimg_blob *eb,
			  const uint8_t *sig, size_t sig_len, eimg_blob **out, eimg_error *err)
{
	const uint8_t *eif;
	uint8_t *res = NULL;
	size_t res_len = 0, n = (size_t)eimg_blob_size(eb);
	int rc = eimg_blob_map(eb, &eif, r->input, err);
	if (rc)
		return rc;
	rc = sig ? eimg_nitro_attach(r->input, eif, n, r->cert_path, sig, sig_len, &res, &res_len, err)
		 : eimg_nitro_sign_with(r->input, eif, n, r->cert_path, signer, key, &res, &res_len, err);
	if (rc)
		return rc;
	if (!(*out = eimg_blob_take_buffer(res, res_len)))
		return eimg_err_nomem(err);
	return EIMG_OK;
}

/* The Sig_structure over the PCR0 of the image's audit: no second read. */
static int export_member(const struct eimg_nitro_sign_request *r, const eimg_nitro_report *rep, eimg_error *err)
{
	uint8_t *tbs = NULL;
	size_t tl = 0;
	int rc = eimg_nitro_tbs_of_report(rep, r->cert_path, &tbs, &tl, err);
	if (rc == EIMG_OK)
		rc = eimg_write_file_atomic(r->output, tbs, tl, err);
	free(tbs);
	return rc;
}

/* After the audit copied the body to the output at "at": the new header,
 * the signature section, and the image written around them in place. */
static int finish_one_pass(const struct eimg_nitro_sign_request *r, eimg_key *key, eimg_image *img,
			   const eimg_nitro_report *rep, struct eimg_outfile **o, uint64_t at, eimg_error *err)
{
	const eimg_blob *eb = eimg_image_eif(img);
	const char *dst = (*o)->path;
	uint8_t *sig = NULL, *sec = NULL;
	size_t sig_len = 0, seclen = 0;
	uint64_t base, pos = 0, body_end = EIMG_EIF_HEADER_SIZE + rep->body_len;
	int fd, rc = EIMG_OK;
	eimg_blob_fd(eb, &fd, &base);
	if (r->op != EIMG_SIGN_OP_SIGN)
		rc = eimg_read_file(r->signature_path, 4096, &sig, &sig_len, err);
	if (!rc)
		rc = eimg_nitro_section_for(rep, r->cert_path, sig, sig_len, sig ? NULL : signer, key, &sec, &seclen, err);
	if (!rc)
		rc = eimg_nitro_put_signed(r->input, fd, base, rep, sec, seclen, (*o)->fd, at, dst, err);
	uint64_t size = body_end + EIMG_EIF_SECTION_HEADER_SIZE + seclen;
	if (!rc && (rc = eimg_image_eif_offset(img, eimg_image_mtime(img), size, &pos, err)) == EIMG_OK && pos != at)
		rc = eimg_err(err, EIMG_EINTERNAL, dst, "the signed EIF is not where its member goes");
	int nfd = rc ? -1 : dup((*o)->fd);
	struct eimg_file *f = nfd >= 0 ? eimg_file_new(nfd) : NULL;
	eimg_blob *nb = f ? eimg_blob_from_range(f, at, size) : NULL;
	if (!rc && !nb)
		rc = eimg_err_nomem(err);
	if (!rc) {
		f->out = *o; /* the image writer writes around the EIF and renames this file */
		*o = NULL;
		eimg_image_set_eif(img, nb);
		nb = NULL;
		rc = eimg_image_write_file(img, eimg_image_mtime(img), dst, err);
	}
	eimg_blob_free(nb);
	eimg_file_unref(f);
	free(sig);
	free(sec);
	return rc;
}

/* Signing a file-backed image member in one read and one write: the audit
 * that checks the image copies the EIF's body, the very bytes it hashes,
 * into the output's temporary file at the member's offset (settled from the
 * largest signature section); 1: not this way (the caller signs as before). */
static int sign_one_pass(const struct eimg_nitro_sign_request *r, eimg_key *key, eimg_image *img, eimg_error *err)
{
	const eimg_blob *eb = eimg_image_eif(img);
	const char *dst = r->output ? r->output : r->input;
	uint64_t mtime = eimg_image_mtime(img), base, lo = 0, hi = 1;
	eimg_eif_layout l;
	eimg_nitro_report *rep = NULL;
	eimg_error ignored;
	int fd;
	if (strcmp(dst, "-") == 0 || eimg_blob_fd(eb, &fd, &base) != 0 ||
	    eimg_eif_read_layout_range(r->input, fd, base, eimg_blob_size(eb), &l, &ignored) != EIMG_OK)
		return 1;
	uint64_t body_end = l.signature >= 0 ? l.sections[l.signature].offset : l.file_size;
	if (eimg_image_eif_offset(img, mtime, body_end + EIMG_EIF_SECTION_HEADER_SIZE, &lo, &ignored) ||
	    eimg_image_eif_offset(img, mtime, body_end + EIMG_EIF_SECTION_HEADER_SIZE + EIMG_EIF_MAX_SIGNATURE, &hi,
				  &ignored) || lo != hi)
		return 1;
	struct eimg_outfile *o;
	int rc = eimg_outfile_new(dst, &o, err);
	if (rc)
		return rc;
	struct eimg_nitro_audit_opts ao = { .copy_fd = o->fd, .copy_at = lo };
	/* Never sign what does not measure as recorded. */
	rc = eimg_nitro_image_open_opts(img, r->input, &ao, &rep, err);
	if (rc == EIMG_OK)
		rc = eimg_nitro_report_verdict(rep, err);
	if (rc == EIMG_OK)
		rc = refuse_signed(rep, r, err);
	if (rc == EIMG_OK)
		rc = finish_one_pass(r, key, img, rep, &o, lo, err);
	eimg_outfile_free(o);
	eimg_nitro_report_free(rep);
	return rc;
}

static int run_image(const struct eimg_nitro_sign_request *r, eimg_key *key, eimg_error *err)
{
	eimg_image *img = NULL;
	eimg_nitro_report *rep = NULL;
	eimg_blob *nb = NULL;
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	int fd, rc;
	uint64_t base;

	rc = eimg_image_read_file(r->input, &img, err);
	if (rc)
		return rc;
	eimg_image_set_progress(img, r->progress); /* the audit's "hashing", the image's "writing" */
	const eimg_blob *eb = eimg_image_eif(img);
	if (!eb) {
		rc = eimg_err(err, EIMG_EINVAL, r->input,
			      "an SGX image: sign it with an RSA key and without --cert (enclave-sign -k KEY)");
		goto out;
	}
	if (r->op != EIMG_SIGN_OP_EXPORT && (rc = sign_one_pass(r, key, img, err)) != 1)
		goto out;
	/* Never sign what does not measure as recorded. */
	rc = eimg_nitro_image_open(img, r->input, &rep, err);
	if (rc == EIMG_OK)
		rc = eimg_nitro_report_verdict(rep, err);
	if (rc == EIMG_OK)
		rc = refuse_signed(rep, r, err);
	if (rc)
		goto out;
	if (r->op == EIMG_SIGN_OP_EXPORT) {
		rc = export_member(r, rep, err);
		goto out;
	}
	if (r->op != EIMG_SIGN_OP_SIGN && (rc = eimg_read_file(r->signature_path, 4096, &sig, &sig_len, err)))
		goto out;
	rc = eimg_blob_fd(eb, &fd, &base) == 0 ? sign_in_place(r, key, eb, sig, sig_len, &nb, err)
					       : sign_in_memory(r, key, eb, sig, sig_len, &nb, err);
	if (rc)
		goto out;
	eimg_image_set_eif(img, nb);
	/* The image keeps its own timestamp: only enclave.eif's signature section changes. */
	rc = eimg_image_write_file(img, eimg_image_mtime(img), r->output ? r->output : r->input, err);
out:
	free(sig);
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

/* The constraint, checked against the report's PCRs. */
static int check_constraint(const eimg_nitro_report *rep, const struct eimg_constraint *c, const char *path,
			    eimg_error *err)
{
	struct eimg_identity id;
	int rc;
	eimg_nitro_report_identity(rep, &id);
	rc = eimg_constraint_check(c, &id, (uint64_t)time(NULL), NULL, 0, NULL, err);
	if (rc && err)
		eimg_err_context(err, path, "constraint not met");
	return rc;
}

int eimg_nitro_verify_file(const char *path, const struct eimg_constraint *c, eimg_nitro_report **out,
			   eimg_error *err)
{
	return eimg_nitro_verify_file_progress(path, c, NULL, out, err);
}

int eimg_nitro_verify_file_progress(const char *path, const struct eimg_constraint *c, struct eimg_progress *p,
				    eimg_nitro_report **out, eimg_error *err)
{
	eimg_image *img = NULL;
	eimg_nitro_report *rep = NULL;
	struct eimg_nitro_audit_opts ao = { .progress = p };
	int kind = input_kind(path, err), rc;

	if (kind < 0)
		return -kind;
	if (kind == EIMG_INPUT_EIF) {
		rc = eimg_nitro_audit_file(path, &ao, &rep, err);
	} else if (kind == EIMG_INPUT_IMAGE) {
		rc = eimg_image_read_file(path, &img, err);
		if (rc == EIMG_OK && !eimg_image_eif(img))
			rc = eimg_err(err, EIMG_EINVAL, path, "not a Nitro image");
		if (rc == EIMG_OK)
			rc = eimg_nitro_image_open_opts(img, path, &ao, &rep, err);
		eimg_image_free(img);
	} else {
		rc = eimg_err(err, EIMG_EINVAL, path, "not a Nitro image or EIF");
	}
	if (rc)
		return rc;
	rc = eimg_nitro_report_verdict(rep, err);
	if (rc == EIMG_OK && !rep->is_signed)
		rc = eimg_err(err, EIMG_EVERIFY, path, "the EIF is not signed: sign it with 'enclave-sign -k KEY --cert CERT'");
	if (rc == EIMG_OK && c)
		rc = check_constraint(rep, c, path, err);
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
		nitro = eimg_image_eif(img) != NULL;
	eimg_image_free(img);
	return nitro;
}

/* PCR8 of a certificate, with the output written (after signing) or alone
 * (JSON: then with nitro-cli's shape under nitro_cli, as nitro-cli pcr
 * --signing-certificate prints it). */
static int pcr8_report(const char *cert_path, const char *output, bool json, char **out, eimg_error *err)
{
	uint8_t pcr8[48];
	char hex[97];
	struct eimg_sb b = { 0 };
	int rc = eimg_nitro_pcr8_of_cert(cert_path, pcr8, err);
	if (rc)
		return rc;
	eimg_hex(pcr8, 48, hex);
	if (json)
		return eimg_json_dump(output ? json_pack("{s:s, s:s}", "output", output, "pcr8", hex)
					     : json_pack("{s:s, s:{s:s}}", "pcr8", hex, "nitro_cli", "PCR8", hex),
				      out, NULL, err);
	eimg_sb_field(&b, NULL, "pcr8", "%s", hex);
	if (output)
		eimg_sb_printf(&b, "wrote %s\n", output);
	if (!(*out = eimg_sb_done(&b)))
		return eimg_err_nomem(err);
	return EIMG_OK;
}

int eimg_nitro_signed_report(const char *cert_path, const char *output, bool json, char **out, eimg_error *err)
{
	return pcr8_report(cert_path, output, json, out, err);
}

int eimg_nitro_pcr8_report(const char *cert_path, bool json, char **out, eimg_error *err)
{
	return pcr8_report(cert_path, NULL, json, out, err);
}
