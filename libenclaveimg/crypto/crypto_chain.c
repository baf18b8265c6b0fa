/* SPDX-License-Identifier: Apache-2.0 */
/* OpenSSL side of Nitro attestation documents (nsm_attest.c): the
 * document's signature with the embedded certificate's key, and the
 * certificate chain through the document's cabundle up to one trusted root.
 * Everything comes in as DER buffers.  Declarations in crypto.h. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "eimg/checktime.h"
#include "eimg/nsm.h"   /* EIMG_NSM_MAX_CABUNDLE */
#include "core/internal.h"
#include "crypto/crypto.h"
#include "crypto/ossl_int.h"

/* Exactly one DER certificate, nothing after it. */
static X509 *parse_der(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	if (len == 0 || len > LONG_MAX)
		return NULL;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	if (x && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	ERR_clear_error();
	return x;
}

static void name_line(const X509_NAME *n, char *out, size_t size)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL;
	long l;
	out[0] = '\0';
	if (bio && X509_NAME_print_ex(bio, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (l = BIO_get_mem_data(bio, &p)) >= 0 && p)
		eimg_escape(p, (size_t)l, out, size);
	BIO_free(bio);
	ERR_clear_error();
}

static int64_t asn1_unix(const ASN1_TIME *t)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
		ERR_clear_error();
		return 0;
	}
	return (int64_t)timegm(&tm);
}

int eimg_chain_cert_info(const char *source, const char *what, const uint8_t *der, size_t len,
			 struct eimg_cert_info *out, eimg_error *err)
{
	X509 *x = parse_der(der, len);
	if (!x)
		return eimg_err(err, EIMG_EINVAL, source, "%s: not a DER X.509 certificate", what);
	name_line(X509_get_subject_name(x), out->subject, sizeof(out->subject));
	name_line(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer));
	out->not_before = asn1_unix(X509_get0_notBefore(x));
	out->not_after = asn1_unix(X509_get0_notAfter(x));
	X509_free(x);
	return EIMG_OK;
}

int eimg_chain_verify_es384(const char *source, const uint8_t *cert, size_t certlen, const uint8_t *msg, size_t msglen,
			    const uint8_t *rs, size_t rslen, eimg_error *err)
{
	X509 *x = parse_der(cert, certlen);
	EVP_PKEY *pk = x ? X509_get0_pubkey(x) : NULL;
	char group[32] = "";
	size_t gl = 0;
	int rc;

	if (!x) {
		rc = eimg_err(err, EIMG_EINVAL, source, "certificate: not a DER X.509 certificate");
		goto out;
	}
	if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
	    EVP_PKEY_get_group_name(pk, group, sizeof(group), &gl) != 1 || strcmp(group, "secp384r1") != 0) {
		rc = eimg_err(err, EIMG_EVERIFY, source, "the signing certificate's key is not an EC P-384 key (ES384)");
		goto out;
	}
	if (rslen != 96) {
		rc = eimg_err(err, EIMG_EVERIFY, source, "an ES384 signature has 96 bytes, got %zu", rslen);
		goto out;
	}
	rc = eimg_ossl_verify_rs(pk, EVP_sha384(), source, msg, msglen, rs, rslen,
				 "the document's signature does not verify with its certificate's key", err);
out:
	ERR_clear_error();
	X509_free(x);
	return rc;
}

int eimg_chain_verify(const char *source, const uint8_t *leaf, size_t leaflen, uint8_t *const *ca,
		      const size_t *calen, size_t nca, const uint8_t *root, size_t rootlen, uint64_t now,
		      char *root_subject, size_t rsize, eimg_error *err)
{
	X509 *lx = NULL, *rx = NULL;
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	int rc;

	if (now > (uint64_t)INT64_MAX)
		return eimg_err(err, EIMG_EUSAGE, source, "time out of range");
	if (!(lx = parse_der(leaf, leaflen))) {
		rc = eimg_err(err, EIMG_EINVAL, source, "certificate: not a DER X.509 certificate");
		goto out;
	}
	if (!(rx = parse_der(root, rootlen))) {
		rc = eimg_err(err, EIMG_EINVAL, source, "the root is not an X.509 certificate");
		goto out;
	}
	name_line(X509_get_subject_name(rx), root_subject, rsize);
	if (!(untrusted = sk_X509_new_null()) || !(store = X509_STORE_new()) || !(ctx = X509_STORE_CTX_new())) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	for (size_t i = 0; i < nca; i++) {
		X509 *c = parse_der(ca[i], calen[i]);
		if (!c) {
			rc = eimg_err(err, EIMG_EINVAL, source, "cabundle[%zu]: not a DER X.509 certificate", i);
			goto out;
		}
		if (!sk_X509_push(untrusted, c)) {
			X509_free(c);
			rc = eimg_err_nomem(err);
			goto out;
		}
	}
	/* The given root is the only trust anchor: no default paths. */
	if (X509_STORE_add_cert(store, rx) != 1 || X509_STORE_CTX_init(ctx, store, lx, untrusted) != 1) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, (time_t)now);
	X509_VERIFY_PARAM_set_depth(param, EIMG_NSM_MAX_CABUNDLE + 1);
	if (X509_verify_cert(ctx) == 1) {
		rc = EIMG_OK;
	} else {
		int e = X509_STORE_CTX_get_error(ctx);
		int depth = X509_STORE_CTX_get_error_depth(ctx);
		X509 *bad = X509_STORE_CTX_get_current_cert(ctx);
		if ((e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID) && bad) {
			/* Name the certificate, its validity and the time used: stored
			 * documents outlive their leaf certificates (Nitro's live hours). */
			char subj[160], nb[32], na[32], at[32];
			name_line(X509_get_subject_name(bad), subj, sizeof(subj));
			rc = eimg_err(err, EIMG_EVERIFY, source,
				      "the certificate chain does not verify to the root: %s (certificate at depth %d, "
				      "'%s', valid from %s to %s; checked as of %s; a stored document can be checked as "
				      "of its own time with --at document)",
				      X509_verify_cert_error_string(e), depth, subj,
				      eimg_time_iso(asn1_unix(X509_get0_notBefore(bad)), nb),
				      eimg_time_iso(asn1_unix(X509_get0_notAfter(bad)), na), eimg_time_iso((int64_t)now, at));
		} else {
			rc = eimg_err(err, EIMG_EVERIFY, source,
				      "the certificate chain does not verify to the root: %s (certificate at depth %d)",
				      X509_verify_cert_error_string(e), depth);
		}
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(lx);
	X509_free(rx);
	return rc;
}
