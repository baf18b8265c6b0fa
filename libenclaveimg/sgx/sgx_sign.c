/* SPDX-License-Identifier: Apache-2.0 */
/* SIGSTRUCT signing operations: fields from a manifest, one-step signing,
 * two-step (detached) signing, verification, and the same on images. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "eimg/constraint.h"
#include "eimg/identity.h"
#include "eimg/hash.h"
#include "eimg/manifest.h"
#include "eimg/measure.h"
#include "eimg/sgxs.h"
#include "eimg/sigstruct.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "crypto/crypto.h"
#include "sgx/sigstruct_int.h"

#define MAX_DETACHED_SIG 65536

void eimg_sign_fields_from_manifest(const struct eimg_manifest_sgx *m, uint32_t date, struct eimg_sign_fields *f)
{
	memset(f, 0, sizeof(*f));
	f->isvprodid = m->product_id;
	f->isvsvn = m->security_version;
	f->attr_flags = EIMG_ATTR_MODE64BIT | (m->kss ? EIMG_ATTR_KSS : 0);
	f->attr_xfrm = m->xfrm;
	/* A manifest that allows debug launch leaves DEBUG out of the mask (one
	 * signature for both modes); otherwise DEBUG is in the mask and clear:
	 * a production-only signature. */
	f->mask_flags = m->debug ? EIMG_MASK_FLAGS_DEBUG_ALLOWED : EIMG_MASK_FLAGS_PRODUCTION;
	f->mask_xfrm = m->xfrm_mask;
	f->miscselect = m->misc_select;
	f->miscmask = m->misc_mask;
	f->date = date;
	f->vendor = 0;
	if (m->kss) {
		memcpy(f->isvfamilyid, m->isv_family_id, 16);
		memcpy(f->isvextprodid, m->isv_ext_product_id, 16);
	}
}

/* A manifest with every signing field at its default. */
static void default_manifest(struct eimg_manifest_sgx *m)
{
	memset(m, 0, sizeof(*m));
	m->xfrm = 0x3;
	m->xfrm_mask = 0xffffffffffffff1bull;
	m->misc_select = 0;
	m->misc_mask = 0xffffffffu;
	m->debug = false;
}

void eimg_sign_fields_default(uint32_t date, struct eimg_sign_fields *f)
{
	struct eimg_manifest_sgx m;
	default_manifest(&m);
	eimg_sign_fields_from_manifest(&m, date, f);
}

void eimg_sign_fields_from_options(const struct eimg_sign_field_options *o, uint32_t date,
				   struct eimg_sign_fields *f)
{
	struct eimg_manifest_sgx m;
	default_manifest(&m);
	if (o->have_xfrm) {
		m.xfrm = o->xfrm;
		if (o->xfrm_mask)
			m.xfrm_mask = o->xfrm_mask;
	}
	if (o->have_misc) {
		m.misc_select = o->misc;
		if (o->misc_mask)
			m.misc_mask = o->misc_mask;
	}
	m.product_id = o->isvprodid;
	m.security_version = o->isvsvn;
	m.debug = o->debug;
	m.kss = o->kss;
	memcpy(m.isv_family_id, o->family, 16);
	memcpy(m.isv_ext_product_id, o->extprod, 16);
	eimg_sign_fields_from_manifest(&m, date, f);
	if (o->have_attr) {
		f->attr_flags = o->attr_flags;
		f->attr_xfrm = o->attr_xfrm;
	}
	if (o->have_attrmask) {
		f->mask_flags = o->mask_flags;
		f->mask_xfrm = o->mask_xfrm;
	}
}

int eimg_sign_date(const char *date_arg, uint32_t *date, eimg_error *err)
{
	uint64_t t;
	int rc;
	if (date_arg)
		return eimg_bcd_date_parse(date_arg, date, err);
	rc = eimg_source_date_epoch(1, &t, err);
	if (rc)
		return rc;
	return eimg_bcd_date_from_epoch(t, date, err);
}

void eimg_sigstruct_prepare(const uint8_t mrenclave[32], const struct eimg_sign_fields *f,
			    uint8_t out[EIMG_SIGSTRUCT_SIZE])
{
	struct eimg_sigstruct s;
	memset(&s, 0, sizeof(s));
	s.vendor = f->vendor;
	s.date = f->date;
	s.miscselect = f->miscselect;
	s.miscmask = f->miscmask;
	memcpy(s.isvfamilyid, f->isvfamilyid, 16);
	s.attr_flags = f->attr_flags;
	s.attr_xfrm = f->attr_xfrm;
	s.mask_flags = f->mask_flags;
	s.mask_xfrm = f->mask_xfrm;
	memcpy(s.enclavehash, mrenclave, 32);
	memcpy(s.isvextprodid, f->isvextprodid, 16);
	s.isvprodid = f->isvprodid;
	s.isvsvn = f->isvsvn;
	eimg_sigstruct_encode(&s, out);
}

static void reverse(uint8_t *out, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = in[n - 1 - i];
}

/* Puts modulus, exponent, signature and q1/q2 into a copy of ss. */
static int complete(uint8_t ss[EIMG_SIGSTRUCT_SIZE], const uint8_t mod_le[EIMG_RSA_BYTES],
		    const uint8_t sig_be[EIMG_RSA_BYTES], eimg_error *err)
{
	uint8_t sig_le[EIMG_RSA_BYTES];
	memcpy(ss + EIMG_SS_MODULUS, mod_le, EIMG_RSA_BYTES);
	eimg_le32(ss + EIMG_SS_EXPONENT, EIMG_RSA_EXPONENT);
	reverse(sig_le, sig_be, EIMG_RSA_BYTES);
	memcpy(ss + EIMG_SS_SIGNATURE, sig_le, EIMG_RSA_BYTES);
	return eimg_rsa_q1q2(sig_le, mod_le, ss + EIMG_SS_Q1, ss + EIMG_SS_Q2, err);
}

int eimg_sigstruct_sign(uint8_t ss[EIMG_SIGSTRUCT_SIZE], const struct eimg_key_source *key, eimg_error *err)
{
	uint8_t tmp[EIMG_SIGSTRUCT_SIZE], msg[EIMG_SIGSTRUCT_SIGNED];
	uint8_t mod[EIMG_RSA_BYTES], sig[EIMG_RSA_BYTES];
	eimg_key *k = NULL;
	int rc;

	rc = eimg_rsa_load_private(key, &k, err);
	if (rc)
		return rc;
	memcpy(tmp, ss, sizeof(tmp));
	/* Clear what a previous signature left, then sign the fields. */
	memset(tmp + EIMG_SS_MODULUS, 0, EIMG_SS_MISCSELECT - EIMG_SS_MODULUS);
	memset(tmp + EIMG_SS_Q1, 0, EIMG_SIGSTRUCT_SIZE - EIMG_SS_Q1);
	rc = eimg_rsa_modulus_le(k, mod, err);
	if (rc)
		goto out;
	eimg_sigstruct_signed_bytes(tmp, msg);
	rc = eimg_rsa_sign(k, msg, sizeof(msg), sig, err);
	eimg_key_free(k);   /* wipes the private key */
	k = NULL;
	if (rc)
		goto out;
	rc = complete(tmp, mod, sig, err);
	if (rc)
		goto out;
	/* Never hand out a signature that does not verify (faulty token, bug). */
	rc = eimg_sigstruct_verify(tmp, key->path, err);
	if (rc) {
		char msgbuf[EIMG_ERROR_MSG_MAX];
		snprintf(msgbuf, sizeof(msgbuf), "%s", err ? err->msg : "");
		rc = eimg_err(err, EIMG_EINTERNAL, NULL, "the new signature does not verify: %s", msgbuf);
		goto out;
	}
	memcpy(ss, tmp, EIMG_SIGSTRUCT_SIZE);
out:
	eimg_key_free(k);
	return rc;
}

int eimg_sigstruct_attach(uint8_t ss[EIMG_SIGSTRUCT_SIZE], const char *sig_path, const char *pubkey_path,
			  eimg_error *err)
{
	uint8_t tmp[EIMG_SIGSTRUCT_SIZE], msg[EIMG_SIGSTRUCT_SIGNED];
	uint8_t mod[EIMG_RSA_BYTES], sig_be[EIMG_RSA_BYTES], sig_le[EIMG_RSA_BYTES];
	uint8_t *buf = NULL;
	size_t len = 0;
	char why[256];
	int rc;

	rc = eimg_read_file(sig_path, MAX_DETACHED_SIG, &buf, &len, err);
	if (rc)
		return rc;
	rc = eimg_rsa_parse_detached(sig_path, buf, len, sig_be, err);
	free(buf);
	if (rc)
		return rc;
	rc = eimg_sgx_public_modulus(pubkey_path, mod, err);
	if (rc)
		return rc;
	memcpy(tmp, ss, sizeof(tmp));
	memset(tmp + EIMG_SS_MODULUS, 0, EIMG_SS_MISCSELECT - EIMG_SS_MODULUS);
	memset(tmp + EIMG_SS_Q1, 0, EIMG_SIGSTRUCT_SIZE - EIMG_SS_Q1);
	eimg_sigstruct_signed_bytes(tmp, msg);
	reverse(sig_le, sig_be, EIMG_RSA_BYTES);
	rc = eimg_rsa_verify_le(mod, EIMG_RSA_EXPONENT, msg, sizeof(msg), sig_le, why, sizeof(why), err);
	if (rc == EIMG_EVERIFY)
		return eimg_err(err, EIMG_EVERIFY, sig_path,
				"the detached signature does not verify over these signed bytes with '%s': %s",
				pubkey_path, why[0] ? why : "bad signature");
	if (rc)
		return rc;
	rc = complete(tmp, mod, sig_be, err);
	if (rc)
		return rc;
	rc = eimg_sigstruct_verify(tmp, sig_path, err);
	if (rc)
		return rc;
	memcpy(ss, tmp, EIMG_SIGSTRUCT_SIZE);
	return EIMG_OK;
}

int eimg_sigstruct_verify(const uint8_t ss[EIMG_SIGSTRUCT_SIZE], const char *source, eimg_error *err)
{
	struct eimg_sigstruct s;
	uint8_t msg[EIMG_SIGSTRUCT_SIGNED], q1[EIMG_RSA_BYTES], q2[EIMG_RSA_BYTES];
	char why[256];
	int rc;

	rc = eimg_sigstruct_decode(source, ss, EIMG_SIGSTRUCT_SIZE, &s, err);
	if (rc)
		return rc;
	rc = eimg_sigstruct_check_layout(&s, source, err);
	if (rc)
		return rc;
	eimg_sigstruct_signed_bytes(ss, msg);
	rc = eimg_rsa_verify_le(s.modulus, s.exponent, msg, sizeof(msg), s.signature, why, sizeof(why), err);
	if (rc == EIMG_EVERIFY)
		return eimg_err(err, EIMG_EVERIFY, source, "SIGSTRUCT signature does not verify: %s",
				why[0] ? why : "bad signature");
	if (rc)
		return rc;
	rc = eimg_rsa_q1q2(s.signature, s.modulus, q1, q2, err);
	if (rc)
		return rc;
	if (memcmp(q1, s.q1, EIMG_RSA_BYTES) != 0)
		return eimg_err(err, EIMG_EVERIFY, source, "SIGSTRUCT q1 is wrong (EINIT would reject it)");
	if (memcmp(q2, s.q2, EIMG_RSA_BYTES) != 0)
		return eimg_err(err, EIMG_EVERIFY, source, "SIGSTRUCT q2 is wrong (EINIT would reject it)");
	return EIMG_OK;
}

/* ---- images ---- */

static int image_fields(const eimg_image *img, const char *source, uint32_t date, uint8_t mrenclave[32],
			struct eimg_sign_fields *out, bool signing, eimg_error *err)
{
	eimg_sgx_image *si = NULL;
	int rc = eimg_sgx_image_open(img, source, &si, err);
	if (rc == EIMG_EVERIFY && signing) {
		char m[EIMG_ERROR_MSG_MAX];
		snprintf(m, sizeof(m), "%s", err ? err->msg : "");
		return eimg_err(err, EIMG_EVERIFY, source, "refusing to sign: %s", m);
	}
	if (rc)
		return rc;
	eimg_sign_fields_from_manifest(&si->manifest->sgx, date, out);
	memcpy(mrenclave, si->m.mrenclave, 32);
	eimg_sgx_image_free(si);
	return EIMG_OK;
}

int eimg_sign_image_fields(const eimg_image *img, const char *source, uint32_t date, uint8_t mrenclave[32],
			   struct eimg_sign_fields *out, eimg_error *err)
{
	return image_fields(img, source, date, mrenclave, out, true, err);
}

static int field_mismatch(eimg_error *err, const char *source, const char *what, unsigned long long sig,
			  unsigned long long man)
{
	bool dec = strncmp(what, "isv", 3) == 0;
	return eimg_err(err, EIMG_EVERIFY, source,
			dec ? "the signature's %s is %llu, the image's manifest gives %llu"
			    : "the signature's %s is 0x%llx, the image's manifest gives 0x%llx",
			what, sig, man);
}

int eimg_sign_verify_opened(const eimg_sgx_image *si, const char *source, struct eimg_sigstruct *out,
			    eimg_error *err)
{
	const eimg_image *img = si->image;
	struct eimg_sigstruct s;
	struct eimg_sign_fields f;
	char h1[65], h2[65];
	int rc;

	const uint8_t *sig = eimg_image_sigstruct(img);
	if (!sig)
		return eimg_err(err, EIMG_EINVAL, source, "the image is not signed (no sigstruct.bin): sign it with enclave-sign -k KEY");
	rc = eimg_sigstruct_decode(source, sig, EIMG_SIGSTRUCT_SIZE, &s, err);
	if (rc)
		return rc;
	rc = eimg_sigstruct_verify(sig, source, err);
	if (rc)
		return rc;
	eimg_sign_fields_from_manifest(&si->manifest->sgx, s.date, &f);
	if (memcmp(si->m.mrenclave, s.enclavehash, 32) != 0)
		return eimg_err(err, EIMG_EVERIFY, source, "the signature is for MRENCLAVE %s, the image measures %s",
				eimg_hex(s.enclavehash, 32, h1), eimg_hex(si->m.mrenclave, 32, h2));
	if (s.isvprodid != f.isvprodid)
		return field_mismatch(err, source, "isvprodid", s.isvprodid, f.isvprodid);
	if (s.isvsvn != f.isvsvn)
		return field_mismatch(err, source, "isvsvn", s.isvsvn, f.isvsvn);
	if (s.attr_flags != f.attr_flags)
		return field_mismatch(err, source, "attributes flags", s.attr_flags, f.attr_flags);
	if (s.mask_flags != f.mask_flags)
		return field_mismatch(err, source, "attributes mask flags (debug launch)", s.mask_flags, f.mask_flags);
	if (s.attr_xfrm != f.attr_xfrm)
		return field_mismatch(err, source, "xfrm", s.attr_xfrm, f.attr_xfrm);
	if (s.mask_xfrm != f.mask_xfrm)
		return field_mismatch(err, source, "xfrm mask", s.mask_xfrm, f.mask_xfrm);
	if (s.miscselect != f.miscselect)
		return field_mismatch(err, source, "miscselect", s.miscselect, f.miscselect);
	if (s.miscmask != f.miscmask)
		return field_mismatch(err, source, "miscmask", s.miscmask, f.miscmask);
	if (memcmp(s.isvfamilyid, f.isvfamilyid, 16) != 0)
		return eimg_err(err, EIMG_EVERIFY, source, "the signature's isvfamilyid differs from the manifest's");
	if (memcmp(s.isvextprodid, f.isvextprodid, 16) != 0)
		return eimg_err(err, EIMG_EVERIFY, source, "the signature's isvextprodid differs from the manifest's");
	if (out)
		*out = s;
	return EIMG_OK;
}

int eimg_sign_verify_image(const eimg_image *img, const char *source, struct eimg_sigstruct *out, eimg_error *err)
{
	eimg_sgx_image *si = NULL;
	int rc;
	if (!eimg_image_sigstruct(img))
		return eimg_err(err, EIMG_EINVAL, source, "the image is not signed (no sigstruct.bin): sign it with enclave-sign -k KEY");
	rc = eimg_sgx_image_open(img, source, &si, err);
	if (rc == EIMG_OK)
		rc = eimg_sign_verify_opened(si, source, out, err);
	eimg_sgx_image_free(si);
	return rc;
}

/* ---- what enclave-sign does ---- */

static int write_out(const char *path, const uint8_t *buf, size_t len, eimg_error *err)
{
	return eimg_write_file_atomic(path, buf, len, err);
}

/* The request makes sense: one enclave, the outputs and keys its operation needs. */
static int check_request(const struct eimg_sign_request *r, eimg_error *err)
{
	int n = !!r->image_path + !!r->sgxs_path + !!r->mrenclave;
	if (n != 1)
		return eimg_err(err, EIMG_EUSAGE, NULL, "give exactly one of an image, --sgxs FILE or --mrenclave HEX");
	if (r->image_path && r->fields)
		return eimg_err(err, EIMG_EUSAGE, NULL,
				"an image's signature fields come from its manifest: field options only apply with --sgxs or --mrenclave");
	if (!r->image_path && !r->output)
		return eimg_err(err, EIMG_EUSAGE, NULL, "standalone signing needs -o FILE for the SIGSTRUCT");
	if ((r->op == EIMG_SIGN_OP_EXPORT || r->op == EIMG_SIGN_OP_EXPORT_DIGEST) && !r->output)
		return eimg_err(err, EIMG_EUSAGE, NULL, "export needs -o FILE");
	if (r->op == EIMG_SIGN_OP_SIGN && (!r->key || !r->key->path))
		return eimg_err(err, EIMG_EUSAGE, NULL, "signing needs a key (-k KEY)");
	if (r->op == EIMG_SIGN_OP_ATTACH && (!r->signature_path || !r->pubkey_path))
		return eimg_err(err, EIMG_EUSAGE, NULL, "attach needs --signature FILE and --public-key FILE");
	if (!eimg_bcd_date_valid(r->date))
		return eimg_err(err, EIMG_EUSAGE, NULL, "date 0x%08x is not a valid BCD date", r->date);
	return EIMG_OK;
}

/* MRENCLAVE and the fields: from the image (*img, read here; refused when
 * already signed unless force or an export), else from the request. */
static int what_to_sign(const struct eimg_sign_request *r, eimg_image **img, uint8_t mre[32],
			struct eimg_sign_fields *f, eimg_error *err)
{
	int rc;
	if (r->image_path) {
		rc = eimg_image_read_file(r->image_path, img, err);
		if (rc)
			return rc;
		eimg_image_set_progress(*img, r->progress);
		if (eimg_image_sigstruct(*img) && !r->force && r->op != EIMG_SIGN_OP_EXPORT && r->op != EIMG_SIGN_OP_EXPORT_DIGEST)
			return eimg_err(err, EIMG_EINVAL, r->image_path,
					"the image is already signed: use --force to replace its signature");
		return eimg_sign_image_fields(*img, r->image_path, r->date, mre, f, err);
	}
	if (r->fields)
		*f = *r->fields;
	else
		eimg_sign_fields_default(r->date, f);
	f->date = r->date;
	if (r->sgxs_path) {
		struct eimg_sgxs_info info;
		rc = eimg_sgxs_read_file(r->sgxs_path, &info, err);
		if (rc)
			return rc;
		memcpy(mre, info.mrenclave, 32);
	} else {
		memcpy(mre, r->mrenclave, 32);
	}
	return EIMG_OK;
}

/* The export: the signed bytes, or their SHA-256. */
static int export_signed(const struct eimg_sign_request *r, const uint8_t ss[EIMG_SIGSTRUCT_SIZE], eimg_error *err)
{
	uint8_t msg[EIMG_SIGSTRUCT_SIGNED], d[32];
	eimg_sigstruct_signed_bytes(ss, msg);
	if (r->op == EIMG_SIGN_OP_EXPORT)
		return write_out(r->output, msg, sizeof(msg), err);
	eimg_sha256(msg, sizeof(msg), d);
	return write_out(r->output, d, sizeof(d), err);
}

/* The signed result: the image with its new sigstruct.bin, or the bare SIGSTRUCT. */
static int write_signed(const struct eimg_sign_request *r, eimg_image *img, const uint8_t ss[EIMG_SIGSTRUCT_SIZE],
			eimg_error *err)
{
	if (!img)
		return write_out(r->output, ss, EIMG_SIGSTRUCT_SIZE, err);
	/* The signed image keeps the image's own timestamp: only sigstruct.bin is
	 * added.  It replaces the image it came from (the one input that may). */
	int rc = eimg_image_set_sigstruct(img, ss, EIMG_SIGSTRUCT_SIZE, err);
	if (rc == EIMG_OK) {
		eimg_output_may_replace(r->image_path);
		rc = eimg_image_write_file(img, eimg_image_mtime(img), r->output ? r->output : r->image_path, err);
	}
	return rc;
}

int eimg_sign_run(const struct eimg_sign_request *r, struct eimg_sigstruct *out, eimg_error *err)
{
	uint8_t ss[EIMG_SIGSTRUCT_SIZE], mre[32];
	struct eimg_sign_fields f;
	eimg_image *img = NULL;
	int rc;

	if ((rc = check_request(r, err)))
		return rc;
	if ((rc = what_to_sign(r, &img, mre, &f, err)))
		goto out;
	eimg_sigstruct_prepare(mre, &f, ss);
	switch (r->op) {
	case EIMG_SIGN_OP_EXPORT:
	case EIMG_SIGN_OP_EXPORT_DIGEST:
		rc = export_signed(r, ss, err);
		goto out;
	case EIMG_SIGN_OP_SIGN:
		rc = eimg_sigstruct_sign(ss, r->key, err);
		break;
	case EIMG_SIGN_OP_ATTACH:
		rc = eimg_sigstruct_attach(ss, r->signature_path, r->pubkey_path, err);
		break;
	default:
		rc = eimg_err(err, EIMG_EINTERNAL, NULL, "unknown signing operation %d", r->op);
		break;
	}
	if (rc || (rc = write_signed(r, img, ss, err)))
		goto out;
	if (out)
		rc = eimg_sigstruct_decode(NULL, ss, sizeof(ss), out, err);
out:
	eimg_image_free(img);
	return rc;
}

/* unsigned_code: the status for an image without a signature. */
static int read_sig(const char *path, uint8_t out[EIMG_SIGSTRUCT_SIZE], int *format, eimg_image **imgp,
		    int unsigned_code, eimg_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	eimg_image *img = NULL;
	int rc, fmt = 0;

	int kind;
	rc = eimg_detect_file(path, &kind, err);
	if (rc)
		return rc;
	if (kind == EIMG_INPUT_IMAGE) {
		/* Images are streamed with the image format's own limits. */
		rc = eimg_image_read_file(path, &img, err);
	} else {
		rc = eimg_read_file(path, EIMG_SIGSTRUCT_MAX_INPUT, &buf, &len, err);
		if (rc == EIMG_OK)
			kind = eimg_detect_input(buf, len);
	}
	if (rc)
		goto out;
	switch (kind) {
	case EIMG_INPUT_IMAGE:
		if (!eimg_image_sigstruct(img)) {
			rc = eimg_err(err, unsigned_code, path,
				      "the image is not signed (no sigstruct.bin): sign it with 'enclave-sign -k KEY'");
			goto out;
		}
		memcpy(out, eimg_image_sigstruct(img), EIMG_SIGSTRUCT_SIZE);
		fmt = EIMG_SIGFMT_IMAGE;
		break;
	case EIMG_INPUT_SGXS:
		rc = eimg_err(err, EIMG_EINVAL, path, "is an SGXS load stream, not a signature (use it with --sgxs)");
		goto out;
	case EIMG_INPUT_EIF:
		rc = eimg_err(err, EIMG_EINVAL, path, "is a Nitro EIF: Nitro signing takes an EC key and --cert CERT");
		goto out;
	default:
		/* Neither a SIGSTRUCT (by its size) nor a signed ELF: the message every tool gives. */
		if (kind == EIMG_INPUT_UNKNOWN && len != EIMG_SIGSTRUCT_SIZE) {
			rc = eimg_input_unknown(path, err);
			goto out;
		}
		rc = eimg_sigstruct_extract(path, buf, len, out, &fmt, err);
		if (rc)
			goto out;
		break;
	}
	if (format)
		*format = fmt;
	if (imgp) {
		*imgp = img;
		img = NULL;
	}
	rc = EIMG_OK;
out:
	eimg_image_free(img);
	free(buf);
	return rc;
}

int eimg_sigstruct_read_file(const char *path, uint8_t out[EIMG_SIGSTRUCT_SIZE], int *format, eimg_image **img,
			     eimg_error *err)
{
	return read_sig(path, out, format, img, EIMG_EINVAL, err);
}

int eimg_sigstruct_show_file(const char *path, struct eimg_sigstruct *s, int *format, char *status, size_t size,
			     eimg_error *err)
{
	uint8_t ss[EIMG_SIGSTRUCT_SIZE];
	eimg_error verr;
	int rc;

	*format = 0;
	rc = eimg_sigstruct_read_file(path, ss, format, NULL, err);
	if (rc == EIMG_OK)
		rc = eimg_sigstruct_decode(path, ss, sizeof(ss), s, err);
	if (rc)
		return rc;
	/* The SIGSTRUCT's own validity (not the enclave match: that is verify's job). */
	eimg_error_clear(&verr);
	if (eimg_sigstruct_verify(ss, path, &verr))
		snprintf(status, size, "INVALID: %s", verr.msg);
	else
		snprintf(status, size, "valid (MRENCLAVE not checked: use 'enclave-sign verify')");
	return EIMG_OK;
}

/* "no (why; what was compared)": why is the reason already recorded (a
 * foreign format's), else what a bare SIGSTRUCT lacks. */
static void not_recomputed(struct eimg_verify_result *v, const char *compared)
{
	char why[sizeof(v->how)];
	size_t n = strlen(v->how);
	if (n > 5 && memcmp(v->how, "no (", 4) == 0 && v->how[n - 1] == ')')
		snprintf(why, sizeof(why), "%.*s", (int)(n - 5), v->how + 4);
	else
		snprintf(why, sizeof(why), "a bare SIGSTRUCT carries no enclave content");
	snprintf(v->how, sizeof(v->how), "no (%s; %s)", why, compared);
}

int eimg_sign_verify_file(const struct eimg_verify_request *r, struct eimg_verify_result *res, eimg_error *err)
{
	struct eimg_verify_result v;
	uint8_t ss[EIMG_SIGSTRUCT_SIZE], mrs[32];
	eimg_image *img = NULL;
	char h1[65], h2[65];
	int rc;

	memset(&v, 0, sizeof(v));
	rc = read_sig(r->input, ss, &v.format, &img, EIMG_EVERIFY, err);
	if (rc)
		return rc;
	if (img) {
		eimg_image_set_progress(img, r->progress);
		rc = eimg_sign_verify_image(img, r->input, &v.s, err);
		if (rc)
			goto out;
		v.mrenclave_checked = v.content_recomputed = true;
		snprintf(v.how, sizeof(v.how), "yes (from the image's ELF, files and manifest)");
	} else {
		rc = eimg_sigstruct_verify(ss, r->input, err);
		if (rc)
			goto out;
		rc = eimg_sigstruct_decode(r->input, ss, sizeof(ss), &v.s, err);
		if (rc)
			goto out;
		if (v.format == EIMG_SIGFMT_INTEL_SDK || v.format == EIMG_SIGFMT_OPENENCLAVE) {
			if ((rc = eimg_foreign_verify(r->input, ss, &v, err)))
				goto out;
			v.mrenclave_checked = v.content_recomputed;
		}
	}
	if (r->sgxs_path) {
		struct eimg_sgxs_info info;
		rc = eimg_sgxs_read_file(r->sgxs_path, &info, err);
		if (rc)
			goto out;
		if (memcmp(info.mrenclave, v.s.enclavehash, 32) != 0) {
			rc = eimg_err(err, EIMG_EVERIFY, r->input, "the signature is for MRENCLAVE %s, '%s' measures %s",
				      eimg_hex(v.s.enclavehash, 32, h1), r->sgxs_path, eimg_hex(info.mrenclave, 32, h2));
			goto out;
		}
		v.mrenclave_checked = true;
		if (!v.content_recomputed && v.format == EIMG_SIGFMT_RAW) {
			v.content_recomputed = true;
			snprintf(v.how, sizeof(v.how), "yes (the SGXS load stream '%s')", r->sgxs_path);
		} else if (!v.content_recomputed) {
			not_recomputed(&v, "MRENCLAVE equals that of the SGXS stream given");
		}
	}
	if (r->mrenclave) {
		if (memcmp(r->mrenclave, v.s.enclavehash, 32) != 0) {
			rc = eimg_err(err, EIMG_EVERIFY, r->input, "the signature is for MRENCLAVE %s, expected %s",
				      eimg_hex(v.s.enclavehash, 32, h1), eimg_hex(r->mrenclave, 32, h2));
			goto out;
		}
		v.mrenclave_checked = true;
		if (!v.content_recomputed)
			not_recomputed(&v, "MRENCLAVE equals the --mrenclave value given");
	}
	if (!v.how[0])
		snprintf(v.how, sizeof(v.how), "no (a bare SIGSTRUCT carries no enclave content: give --sgxs FILE or --mrenclave HEX)");
	eimg_sigstruct_mrsigner(&v.s, mrs);
	if (r->mrsigner && memcmp(r->mrsigner, mrs, 32) != 0) {
		rc = eimg_err(err, EIMG_EVERIFY, r->input, "MRSIGNER is %s, expected %s", eimg_hex(mrs, 32, h1),
			      eimg_hex(r->mrsigner, 32, h2));
		goto out;
	}
	if (r->constraint) {
		struct eimg_identity id;
		int mode = EIMG_ID_HARDWARE; /* a bare SIGSTRUCT says nothing about the mode */
		if (img) {
			eimg_manifest *m = NULL;
			size_t mlen;
			const char *mtext = eimg_image_manifest(img, &mlen);
			rc = eimg_manifest_parse_buffer("manifest.json", mtext, mlen, NULL, &m, err);
			if (rc)
				goto out;
			mode = m->mode;
			eimg_manifest_free(m);
		}
		/* No launch yet: judge the signature by the launch it permits;
		 * a debug-only signature can only ever run as a debug enclave. */
		eimg_identity_sgx(v.s.enclavehash, &v.s, mode, !eimg_sigstruct_production_allowed(&v.s), &id);
		rc = eimg_constraint_check(r->constraint, &id, (uint64_t)time(NULL), NULL, 0, NULL, err);
		if (rc) {
			if (err)
				eimg_err_context(err, r->input, "constraint not met");
			goto out;
		}
	}
	if (res)
		*res = v;
	rc = EIMG_OK;
out:
	eimg_image_free(img);
	return rc;
}
