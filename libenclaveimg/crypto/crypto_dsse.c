/* SPDX-License-Identifier: Apache-2.0 */
/* OpenSSL side of the measurement statement (oci/statement.c): base64 for
 * DSSE envelopes and registry credentials, and verification of a signature
 * with any public key (RSA PKCS#1 v1.5 or ECDSA, DER), SHA-256.  Declarations
 * in oci/oci_int.h. */
#include <stdlib.h>
#include <string.h>

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/internal.h"
#include "oci/oci_int.h"

char *eimg_b64_encode(const uint8_t *in, size_t len)
{
	if (len > (size_t)INT32_MAX / 2)
		return NULL;
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

int eimg_b64_decode(const char *in, size_t len, size_t max, uint8_t **out, size_t *outlen)
{
	size_t pad = 0;
	if (len == 0 || len % 4 != 0 || len > (size_t)INT32_MAX || len / 4 * 3 > max + 2)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
			  c == '/' || (c == '=' && i >= len - 2);
		if (!ok || (pad && c != '='))
			return -1;
		pad += c == '=';
	}
	uint8_t *buf = malloc(len / 4 * 3 + 1);
	if (!buf)
		return -1;
	int n = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)len);
	if (n < 0 || (size_t)n < pad || (size_t)n - pad > max) {
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = (size_t)n - pad;
	return 0;
}

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
