/* SPDX-License-Identifier: Apache-2.0 */
/* OpenSSL side of attestation documents: the throwaway P-256 key that signs
 * simulation documents, ECDSA-SHA256 signing and verification against a DER
 * SubjectPublicKeyInfo.  Declarations in crypto.h. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "crypto/ossl_int.h"
#include "core/internal.h"

struct eimg_attest_key {
	EVP_PKEY *pk;
};

static int ossl_err(eimg_error *err, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[160] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return eimg_err(err, EIMG_EINTERNAL, NULL, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

int eimg_attest_key_generate(eimg_attest_key **out, eimg_error *err)
{
	eimg_attest_key *k = calloc(1, sizeof(*k));
	if (!k)
		return eimg_err_nomem(err);
	k->pk = EVP_EC_gen("P-256");
	if (!k->pk) {
		free(k);
		return ossl_err(err, "cannot generate the simulation key");
	}
	*out = k;
	return EIMG_OK;
}

void eimg_attest_key_free(eimg_attest_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pk); /* OpenSSL clears private key material on free */
	free(k);
}

int eimg_attest_key_spki(const eimg_attest_key *k, uint8_t **der, size_t *len, eimg_error *err)
{
	unsigned char *p = NULL;
	int n = i2d_PUBKEY(k->pk, &p);
	if (n <= 0)
		return ossl_err(err, "cannot encode the simulation public key");
	return eimg_ossl_take(p, n, der, len, err);
}

int eimg_attest_key_sign(const eimg_attest_key *k, const uint8_t *msg, size_t len, uint8_t **sig, size_t *siglen,
		      eimg_error *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t *s = NULL;
	size_t n = 0;
	int rc;
	if (!ctx)
		return eimg_err_nomem(err);
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pk) != 1 ||
	    EVP_DigestSign(ctx, NULL, &n, msg, len) != 1) {
		rc = ossl_err(err, "cannot sign the attestation document");
		goto out;
	}
	s = malloc(n);
	if (!s) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	if (EVP_DigestSign(ctx, s, &n, msg, len) != 1) {
		rc = ossl_err(err, "cannot sign the attestation document");
		goto out;
	}
	*sig = s;
	*siglen = n;
	s = NULL;
	rc = EIMG_OK;
out:
	free(s);
	EVP_MD_CTX_free(ctx);
	return rc;
}

int eimg_attest_verify_p256(const uint8_t *spki, size_t spkilen, const uint8_t *msg, size_t len,
			   const uint8_t *sig, size_t siglen, eimg_error *err)
{
	const unsigned char *p = spki;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)spkilen);
	EVP_MD_CTX *ctx = NULL;
	int rc;
	char group[32] = "";
	size_t gl = 0;
	if (!pk || p != spki + spkilen) {
		ERR_clear_error();
		rc = eimg_err(err, EIMG_EVERIFY, NULL, "the signing key is not a DER SubjectPublicKeyInfo");
		goto out;
	}
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC || EVP_PKEY_get_group_name(pk, group, sizeof(group), &gl) != 1 ||
	    strcmp(group, "prime256v1") != 0) {
		rc = eimg_err(err, EIMG_EVERIFY, NULL, "the signing key is not an EC P-256 key");
		goto out;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pk) != 1) {
		rc = ossl_err(err, "cannot verify the attestation document");
		goto out;
	}
	if (EVP_DigestVerify(ctx, sig, siglen, msg, len) != 1) {
		ERR_clear_error();
		rc = eimg_err(err, EIMG_EVERIFY, NULL, "the signature does not verify");
		goto out;
	}
	rc = EIMG_OK;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return rc;
}
