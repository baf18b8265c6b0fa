/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-2 hashing over OpenSSL EVP.  One of the crypto_* files: the only ones that include OpenSSL. */
#include <stdlib.h>

#include <openssl/evp.h>

#include "eimg/hash.h"
#include "core/internal.h"

struct eimg_hash {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
};

size_t eimg_hash_size(int alg)
{
	return alg == EIMG_SHA256 ? 32 : alg == EIMG_SHA384 ? 48 : alg == EIMG_SHA512 ? 64 : 0;
}

static const EVP_MD *md_of(int alg)
{
	switch (alg) {
	case EIMG_SHA256: return EVP_sha256();
	case EIMG_SHA384: return EVP_sha384();
	case EIMG_SHA512: return EVP_sha512();
	default: return NULL;
	}
}

eimg_hash *eimg_hash_new(int alg)
{
	eimg_hash *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->md = md_of(alg);
	h->ctx = EVP_MD_CTX_new();
	if (!h->md || !h->ctx || EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1) {
		eimg_hash_free(h);
		return NULL;
	}
	return h;
}

int eimg_hash_update(eimg_hash *h, const void *data, size_t len)
{
	return EVP_DigestUpdate(h->ctx, data, len) == 1 ? EIMG_OK : EIMG_EINTERNAL;
}

int eimg_hash_final(eimg_hash *h, uint8_t *out)
{
	unsigned n = 0;
	if (EVP_DigestFinal_ex(h->ctx, out, &n) != 1)
		return EIMG_EINTERNAL;
	return EVP_DigestInit_ex(h->ctx, h->md, NULL) == 1 ? EIMG_OK : EIMG_EINTERNAL;
}

void eimg_hash_free(eimg_hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void eimg_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned n = 32;
	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

void eimg_sha384(const void *data, size_t len, uint8_t out[48])
{
	unsigned n = 48;
	EVP_Digest(data, len, out, &n, EVP_sha384(), NULL);
}
