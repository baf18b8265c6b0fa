/* SPDX-License-Identifier: Apache-2.0 */
/* Mail's cryptography on the host (OpenSSL 3): P-256 keys, ECDH, HKDF-SHA256,
 * AES-256-GCM.  The envelope logic is in libenclaveimg/mail/mail.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "eimg/mail.h"
#include "eimg/mail_envelope.h"
#include "core/internal.h"
#include "crypto/crypto.h"

struct eimg_mail_key {
	EVP_PKEY *pk;
	uint8_t pub[EIMG_MAIL_POINT];
};

static int is_p256(EVP_PKEY *pk)
{
	char group[32];
	size_t n = 0;
	return EVP_PKEY_is_a(pk, "EC") &&
	       EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &n) == 1 &&
	       strcmp(group, "prime256v1") == 0;
}

static int wrap_key(EVP_PKEY *pk, const char *source, eimg_mail_key **out, eimg_error *err)
{
	size_t n = 0;
	eimg_mail_key *k = NULL;
	if (!is_p256(pk)) {
		EVP_PKEY_free(pk);
		return eimg_err(err, EIMG_EINVAL, source, "not an EC P-256 key (Mail uses P-256)");
	}
	if (!(k = calloc(1, sizeof *k))) {
		EVP_PKEY_free(pk);
		return eimg_err_nomem(err);
	}
	if (EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, k->pub, sizeof k->pub, &n) != 1 ||
	    n != EIMG_MAIL_POINT || k->pub[0] != 4) {
		/* a key stored with a compressed point: ask for the uncompressed form */
		if (EVP_PKEY_set_utf8_string_param(pk, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed") != 1 ||
		    EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, k->pub, sizeof k->pub, &n) != 1 ||
		    n != EIMG_MAIL_POINT) {
			EVP_PKEY_free(pk);
			free(k);
			ERR_clear_error();
			return eimg_err(err, EIMG_EINVAL, source, "cannot read the public point of the key");
		}
	}
	k->pk = pk;
	*out = k;
	return EIMG_OK;
}

int eimg_mail_key_load(const char *path, eimg_mail_key **out, eimg_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = eimg_read_file(path, 65536, &buf, &len, err);
	if (rc)
		return rc;
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	eimg_free_secret(buf, len);
	ERR_clear_error();
	if (!pk)
		return eimg_err(err, EIMG_EINVAL, path, "not a PEM private key (make one with: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256)");
	return wrap_key(pk, path, out, err);
}

int eimg_mail_key_generate(eimg_mail_key **out, eimg_error *err)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	if (!pk) {
		ERR_clear_error();
		return eimg_err(err, EIMG_EINTERNAL, NULL, "cannot make a P-256 key pair");
	}
	return wrap_key(pk, NULL, out, err);
}

void eimg_mail_key_public(const eimg_mail_key *k, uint8_t pub[EIMG_MAIL_POINT])
{
	memcpy(pub, k->pub, EIMG_MAIL_POINT);
}

void eimg_mail_key_free(eimg_mail_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pk);   /* OpenSSL clears private key material on free */
	free(k);
}

/* An EVP_PKEY for a peer's uncompressed point (checked to be on the curve). */
static EVP_PKEY *peer_key(const uint8_t point[EIMG_MAIL_POINT])
{
	EVP_PKEY *pk = NULL;
	char group[] = "prime256v1";
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)(uintptr_t)point, EIMG_MAIL_POINT),
		OSSL_PARAM_END
	};
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	if (pk) {
		EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new(pk, NULL);
		if (!chk || EVP_PKEY_public_check(chk) != 1) {
			EVP_PKEY_free(pk);
			pk = NULL;
		}
		EVP_PKEY_CTX_free(chk);
	}
	ERR_clear_error();
	return pk;
}

int eimg_mail_point_from_spki(const uint8_t *der, size_t len, uint8_t pub[EIMG_MAIL_POINT], eimg_error *err)
{
	const unsigned char *p = der;
	eimg_mail_key *k = NULL;
	if (len == 0 || len > 16384)
		return eimg_err(err, EIMG_EINVAL, NULL, "the enclave published no public key");
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)len);
	if (!pk || p != der + len) {
		EVP_PKEY_free(pk);
		ERR_clear_error();
		return eimg_err(err, EIMG_EINVAL, NULL, "the enclave's public key is not DER SubjectPublicKeyInfo");
	}
	int rc = wrap_key(pk, NULL, &k, err);
	if (rc)
		return eimg_err_context(err, NULL, "the enclave's public key");
	memcpy(pub, k->pub, EIMG_MAIL_POINT);
	eimg_mail_key_free(k);
	return EIMG_OK;
}

int eimg_mail_ecdh(const eimg_mail_key *priv, const uint8_t peer[EIMG_MAIL_POINT], uint8_t out[32], eimg_error *err)
{
	EVP_PKEY *pk = peer_key(peer);
	EVP_PKEY_CTX *ctx = NULL;
	size_t n = 32;
	int rc = EIMG_OK;
	if (!pk)
		return eimg_err(err, EIMG_EINVAL, NULL, "a public key in the envelope is not a P-256 point");
	ctx = EVP_PKEY_CTX_new(priv->pk, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, pk) != 1 ||
	    EVP_PKEY_derive(ctx, out, &n) != 1 || n != 32)
		rc = eimg_err(err, EIMG_EINVAL, NULL, "ECDH with the envelope's key failed");
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return rc;
}

int eimg_mail_hkdf(const uint8_t ikm[64], const uint8_t *info, size_t info_len, uint8_t out[44], eimg_error *err)
{
	char digest[] = "SHA256";
	char salt[] = EIMG_MAIL_SALT;
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)ikm, 64),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_SALT, salt, sizeof salt - 1),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_INFO, (void *)(uintptr_t)info, info_len),
		OSSL_PARAM_END
	};
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	int ok = ctx && EVP_KDF_derive(ctx, out, 44, params) == 1;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	ERR_clear_error();
	return ok ? EIMG_OK : eimg_err(err, EIMG_EINTERNAL, NULL, "HKDF-SHA256 failed");
}

static EVP_CIPHER_CTX *gcm_ctx(const uint8_t kiv[44], int enc, const uint8_t *aad, size_t aad_len)
{
	int n;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	if (!c || EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, kiv, kiv + 32, enc) != 1 ||
	    aad_len > INT32_MAX || EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) != 1) {
		EVP_CIPHER_CTX_free(c);
		return NULL;
	}
	return c;
}

int eimg_mail_gcm_encrypt(const uint8_t kiv[44], const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t len,
			  uint8_t *ct, uint8_t tag[16], eimg_error *err)
{
	int n1 = 0, n2 = 0, ok = 0;
	EVP_CIPHER_CTX *c = gcm_ctx(kiv, 1, aad, aad_len);
	if (c && len <= INT32_MAX && EVP_CipherUpdate(c, ct, &n1, pt, (int)len) == 1 &&
	    EVP_CipherFinal_ex(c, ct + n1, &n2) == 1 && (size_t)(n1 + n2) == len &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1)
		ok = 1;
	EVP_CIPHER_CTX_free(c);
	ERR_clear_error();
	return ok ? EIMG_OK : eimg_err(err, EIMG_EINTERNAL, NULL, "AES-256-GCM encryption failed");
}

int eimg_mail_gcm_decrypt(const uint8_t kiv[44], const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t len,
			  const uint8_t tag[16], uint8_t *pt, eimg_error *err)
{
	int n1 = 0, n2 = 0, rc;
	EVP_CIPHER_CTX *c = gcm_ctx(kiv, 0, aad, aad_len);
	if (!c || len > INT32_MAX || EVP_CipherUpdate(c, pt, &n1, ct, (int)len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(uintptr_t)tag) != 1)
		rc = eimg_err(err, EIMG_EINTERNAL, NULL, "AES-256-GCM decryption failed");
	else if (EVP_CipherFinal_ex(c, pt + n1, &n2) != 1)
		rc = eimg_err(err, EIMG_EVERIFY, NULL, "%s", eimg_mail_status_text(EIMG_MAIL_EAUTH));
	else
		rc = EIMG_OK;
	EVP_CIPHER_CTX_free(c);
	ERR_clear_error();
	return rc;
}
