/* SIGSTRUCT signing operations: fields from a manifest, one-step signing,
 * two-step (detached) signing, verification, and the same on images. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/hash.h"
#include "eimg/manifest.h"
#include "eimg/measure.h"
#include "eimg/sigstruct.h"
#include "eimg/util.h"
#include "internal.h"
#include "sigstruct_int.h"

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

void eimg_sign_fields_default(uint32_t date, struct eimg_sign_fields *f)
{
	struct eimg_manifest_sgx m;
	memset(&m, 0, sizeof(m));
	m.xfrm = 0x3;
	m.xfrm_mask = 0xffffffffffffff1bull;
	m.misc_select = 0;
	m.misc_mask = 0xffffffffu;
	m.debug = false;
	eimg_sign_fields_from_manifest(&m, date, f);
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
	eimg_rsa *k = NULL;
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
	eimg_rsa_free(k);   /* wipes the private key */
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
	eimg_rsa_free(k);
	return rc;
}

int eimg_sigstruct_attach(uint8_t ss[EIMG_SIGSTRUCT_SIZE], const char *sig_path, const char *pubkey_path,
			  eimg_error *err)
{
	uint8_t tmp[EIMG_SIGSTRUCT_SIZE], msg[EIMG_SIGSTRUCT_SIGNED];
	uint8_t mod[EIMG_RSA_BYTES], sig_be[EIMG_RSA_BYTES], sig_le[EIMG_RSA_BYTES];
	uint8_t *buf = NULL;
	size_t len = 0;
	eimg_rsa *k = NULL;
	char why[256];
	int rc;

	rc = eimg_read_file(sig_path, MAX_DETACHED_SIG, &buf, &len, err);
	if (rc)
		return rc;
	rc = eimg_rsa_parse_detached(sig_path, buf, len, sig_be, err);
	free(buf);
	if (rc)
		return rc;
	rc = eimg_rsa_load_public(pubkey_path, &k, err);
	if (rc)
		return rc;
	rc = eimg_rsa_modulus_le(k, mod, err);
	eimg_rsa_free(k);
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

int eimg_sign_image_fields(const eimg_image *img, const char *source, uint32_t date, uint8_t mrenclave[32],
			   struct eimg_sign_fields *out, eimg_error *err)
{
	eimg_sgx_image *si = NULL;
	int rc = eimg_sgx_image_open(img, source, &si, err);
	if (rc == EIMG_EVERIFY) {
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

static int field_mismatch(eimg_error *err, const char *source, const char *what, unsigned long long sig,
			  unsigned long long man)
{
	return eimg_err(err, EIMG_EVERIFY, source, "the signature's %s is 0x%llx, the image's manifest gives 0x%llx",
			what, sig, man);
}

int eimg_sign_verify_image(const eimg_image *img, const char *source, struct eimg_sigstruct *out, eimg_error *err)
{
	struct eimg_sigstruct s;
	struct eimg_sign_fields f;
	uint8_t mre[32];
	char h1[65], h2[65];
	int rc;

	if (!img->sigstruct)
		return eimg_err(err, EIMG_EINVAL, source, "the image is not signed (no sigstruct.bin): sign it with enclave-sign -k KEY");
	rc = eimg_sigstruct_decode(source, img->sigstruct, img->sigstruct_size, &s, err);
	if (rc)
		return rc;
	rc = eimg_sigstruct_verify(img->sigstruct, source, err);
	if (rc)
		return rc;
	rc = eimg_sign_image_fields(img, source, s.date, mre, &f, err);
	if (rc)
		return rc;
	if (memcmp(mre, s.enclavehash, 32) != 0)
		return eimg_err(err, EIMG_EVERIFY, source, "the signature is for MRENCLAVE %s, the image measures %s",
				eimg_hex(s.enclavehash, 32, h1), eimg_hex(mre, 32, h2));
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
