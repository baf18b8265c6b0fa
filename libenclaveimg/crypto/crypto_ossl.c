/* SPDX-License-Identifier: Apache-2.0 */
/* Small OpenSSL helpers that several files of crypto/ share (ossl_int.h):
 * OpenSSL's error text, taking over an OpenSSL-allocated encoding, and checking an r||s ECDSA
 * signature (as COSE and NSM documents carry it) through its DER form. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "core/internal.h"
#include "crypto/ossl_int.h"

const char *eimg_ossl_reason(char *buf, size_t size)
{
	unsigned long e = ERR_peek_last_error();
	if (e == 0)
		snprintf(buf, size, "unknown OpenSSL error");
	else
		ERR_error_string_n(e, buf, size);
	ERR_clear_error();
	return buf;
}

int eimg_ossl_err(eimg_error *err, int code, const char *file, const char *what)
{
	char r[256];
	return eimg_err(err, code, file, "%s: %s", what, eimg_ossl_reason(r, sizeof(r)));
}

int eimg_ossl_take(unsigned char *p, int n, uint8_t **out, size_t *len, eimg_error *err)
{
	uint8_t *c = malloc((size_t)n);
	if (!c) {
		OPENSSL_free(p);
		return eimg_err_nomem(err);
	}
	memcpy(c, p, (size_t)n);
	OPENSSL_free(p);
	*out = c;
	*len = (size_t)n;
	return EIMG_OK;
}

int eimg_ossl_verify_rs(EVP_PKEY *pk, const EVP_MD *md, const char *source, const uint8_t *msg, size_t msglen,
			const uint8_t *rs, size_t rslen, const char *mismatch, eimg_error *err)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(rs, (int)(rslen / 2), NULL);
	BIGNUM *s = BN_bin2bn(rs + rslen / 2, (int)(rslen / 2), NULL);
	unsigned char *der = NULL;
	EVP_MD_CTX *ctx = NULL;
	int rc, n;

	if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		rc = eimg_err_nomem(err);
		goto out;
	}
	n = i2d_ECDSA_SIG(sig, &der);
	ctx = EVP_MD_CTX_new();
	if (n <= 0 || !ctx) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, pk) != 1) {
		rc = eimg_err(err, EIMG_EINTERNAL, source, "cannot set up signature verification");
		goto out;
	}
	rc = EVP_DigestVerify(ctx, der, (size_t)n, msg, msglen) == 1 ? EIMG_OK
								     : eimg_err(err, EIMG_EVERIFY, source, "%s", mismatch);
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	return rc;
}
