/* SPDX-License-Identifier: Apache-2.0 */
/* OpenSSL side of the measurement statement (oci/statement.c): verification
 * of a signature with any public key (RSA PKCS#1 v1.5 or ECDSA, DER),
 * SHA-256.  Declaration in crypto/crypto.h. */
#include <stdlib.h>
#include <string.h>

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/internal.h"
#include "crypto/crypto.h"

/* A public key from a file: PEM or DER SubjectPublicKeyInfo, or a certificate. */
static EVP_PKEY *load_public(const uint8_t *buf, size_t len)
{
	EVP_PKEY *pk = NULL;
	OSSL_DECODER_CTX *dc = OSSL_DECODER_CTX_new_for_pkey(&pk, NULL, NULL, NULL, EVP_PKEY_PUBLIC_KEY, NULL, NULL);
	const unsigned char *p = buf;
	size_t left = len;
	if (dc && OSSL_DECODER_from_data(dc, &p, &left) == 1) {
		OSSL_DECODER_CTX_free(dc);
		return pk;
	}
	OSSL_DECODER_CTX_free(dc);
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	if (!x) {
		p = buf;
		x = d2i_X509(NULL, &p, (long)len);
	}
	BIO_free(bio);
	pk = x ? X509_get_pubkey(x) : NULL;
	X509_free(x);
	return pk;
}

int eimg_pubkey_verify_file(const char *path, const uint8_t *msg, size_t len, const uint8_t *sig, size_t siglen,
			    eimg_error *err)
{
	uint8_t *buf = NULL;
	size_t blen = 0;
	EVP_PKEY *pk = NULL;
	EVP_MD_CTX *ctx = NULL;
	int rc = eimg_read_file(path, 1u << 20, &buf, &blen, err);
	if (rc)
		return rc;
	pk = blen <= (size_t)INT32_MAX ? load_public(buf, blen) : NULL;
	ERR_clear_error();
	if (!pk) {
		rc = eimg_err(err, EIMG_EINVAL, path, "not a public key (PEM or DER SubjectPublicKeyInfo) nor a certificate");
		goto out;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pk) != 1 ||
	    EVP_DigestVerify(ctx, sig, siglen, msg, len) != 1) {
		ERR_clear_error();
		rc = eimg_err(err, EIMG_EVERIFY, path, "the signature does not verify with this key");
		goto out;
	}
	rc = EIMG_OK;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	free(buf);
	return rc;
}
