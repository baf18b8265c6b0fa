/* SPDX-License-Identifier: Apache-2.0 */
/* Normalising user public keys to DER SubjectPublicKeyInfo (OpenSSL). */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "eimg/keys.h"
#include "core/internal.h"

static int looks_private(const uint8_t *in, size_t len)
{
	static const char *const marks[] = { "PRIVATE KEY-----", "ENCRYPTED PRIVATE KEY-----" };
	for (size_t m = 0; m < sizeof(marks) / sizeof(marks[0]); m++) {
		size_t ml = strlen(marks[m]);
		for (size_t i = 0; i + ml <= len; i++)
			if (memcmp(in + i, marks[m], ml) == 0)
				return 1;
	}
	return 0;
}

int eimg_pubkey_to_der(const char *source, const uint8_t *in, size_t len, uint8_t **der, size_t *derlen,
		       eimg_error *err)
{
	EVP_PKEY *pk = NULL;
	BIO *bio = NULL;
	X509 *cert = NULL;
	unsigned char *buf = NULL;
	int rc, n;

	if (len == 0 || len > (size_t)INT32_MAX)
		return eimg_err(err, EIMG_EINVAL, source, "empty or oversized public key file");
	if (looks_private(in, len))
		return eimg_err(err, EIMG_EINVAL, source,
				"this is a private key; give the public key only (openssl pkey -pubout)");
	bio = BIO_new_mem_buf(in, (int)len);
	if (!bio)
		return eimg_err_nomem(err);
	pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (!pk) {
		(void)BIO_reset(bio);
		cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		if (cert)
			pk = X509_get_pubkey(cert);
	}
	if (!pk) {
		const unsigned char *p = in;
		pk = d2i_PUBKEY(NULL, &p, (long)len);
		if (pk && p != in + len) {
			EVP_PKEY_free(pk);
			pk = NULL;
		}
	}
	if (!pk) {
		rc = eimg_err(err, EIMG_EINVAL, source,
			      "not a public key (expected PEM \"PUBLIC KEY\", a certificate, or DER SubjectPublicKeyInfo)");
		goto out;
	}
	n = i2d_PUBKEY(pk, &buf);
	if (n <= 0 || (size_t)n > EIMG_MAX_PUBKEY_DER) {
		rc = eimg_err(err, EIMG_EINVAL, source, "cannot encode the public key");
		goto out;
	}
	uint8_t *copy = malloc((size_t)n);
	if (!copy) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	memcpy(copy, buf, (size_t)n);
	*der = copy;
	*derlen = (size_t)n;
	rc = EIMG_OK;
out:
	OPENSSL_free(buf);
	EVP_PKEY_free(pk);
	X509_free(cert);
	BIO_free(bio);
	return rc;
}

int eimg_pubkey_describe(const uint8_t *der, size_t len, char *out, size_t size)
{
	const unsigned char *p = der;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)len);
	if (!pk)
		return EIMG_EINVAL;
	int id = EVP_PKEY_get_base_id(pk);
	int bits = EVP_PKEY_get_bits(pk);
	const char *t = id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_EC ? "EC" : id == EVP_PKEY_ED25519 ? "Ed25519"
		: id == EVP_PKEY_ED448 ? "Ed448" : id == EVP_PKEY_X25519 ? "X25519" : "key";
	snprintf(out, size, "%s %d", t, bits);
	EVP_PKEY_free(pk);
	return EIMG_OK;
}
