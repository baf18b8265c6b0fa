/* SPDX-License-Identifier: Apache-2.0 */
/* RSA-3072 for SGX SIGSTRUCTs, the checking side: PKCS#1 v1.5 SHA-256
 * verification with a little-endian modulus (and a diagnosis when it fails),
 * q1/q2 with BIGNUM, and detached signature formats (raw, DER, hex, base64).
 * Keys and signing are in crypto_rsa.c. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "eimg/hash.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "crypto/crypto.h"
#include "crypto/ossl_int.h"

static void reverse(uint8_t *out, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = in[n - 1 - i];
}

static EVP_PKEY *pubkey_from_le(const uint8_t mod_le[EIMG_RSA_BYTES], uint32_t exponent)
{
	BIGNUM *n = BN_lebin2bn(mod_le, EIMG_RSA_BYTES, NULL), *e = BN_new();
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	if (!n || !e || !bld || !BN_set_word(e, exponent))
		goto out;
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pkey;
}

static const uint8_t sha256_prefix[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
					  0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};

/* What a PKCS#1 v1.5 signature that failed verification is over. */
static void diagnose(EVP_PKEY *pkey, const uint8_t *msg, size_t len, const uint8_t sig_be[EIMG_RSA_BYTES],
		     char *why, size_t whysize)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
	uint8_t rec[EIMG_RSA_BYTES], digest[32];
	size_t reclen = sizeof(rec);
	char h1[17], h2[17];
	eimg_sha256(msg, len, digest);
	if (!ctx || EVP_PKEY_verify_recover_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_verify_recover(ctx, rec, &reclen, sig_be, EIMG_RSA_BYTES) != 1) {
		snprintf(why, whysize, "not a PKCS#1 v1.5 signature made with this key (other key, or corrupted)");
	} else if (reclen == 32 && memcmp(rec, digest, 32) == 0) {
		snprintf(why, whysize, "it is over the bare SHA-256 digest without the DigestInfo prefix "
			 "(sign the digest with 'openssl pkeyutl -sign -pkeyopt digest:sha256')");
	} else if (reclen == len && memcmp(rec, msg, len) == 0) {
		snprintf(why, whysize, "it is over the unhashed bytes "
			 "(sign them with 'openssl dgst -sha256 -sign' or 'openssl pkeyutl -sign -pkeyopt digest:sha256' on the digest)");
	} else if (reclen == 51 && memcmp(rec, sha256_prefix, sizeof(sha256_prefix)) == 0) {
		snprintf(why, whysize, "it is for other bytes (SHA-256 %s..., expected %s...: other fields or date?)",
			 eimg_hex(rec + 19, 8, h1), eimg_hex(digest, 8, h2));
	} else {
		snprintf(why, whysize, "it is a PKCS#1 v1.5 signature by this key over something else (%zu bytes)", reclen);
	}
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
}

int eimg_rsa_verify_le(const uint8_t mod_le[EIMG_RSA_BYTES], uint32_t exponent, const uint8_t *msg, size_t len,
		       const uint8_t sig_le[EIMG_RSA_BYTES], char *why, size_t whysize, eimg_error *err)
{
	uint8_t sig_be[EIMG_RSA_BYTES];
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	int rc;

	if (why && whysize)
		why[0] = '\0';
	if (exponent < 3 || exponent % 2 == 0)
		return eimg_err(err, EIMG_EVERIFY, NULL, "invalid RSA exponent %u", exponent);
	pkey = pubkey_from_le(mod_le, exponent);
	if (!pkey) {
		rc = eimg_ossl_err(err, EIMG_EVERIFY, NULL, "the modulus is not a usable RSA public key");
		goto out;
	}
	reverse(sig_be, sig_le, EIMG_RSA_BYTES);
	mctx = EVP_MD_CTX_new();
	if (!mctx) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	if (EVP_DigestVerifyInit(mctx, &pctx, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
		rc = eimg_ossl_err(err, EIMG_EINTERNAL, NULL, "cannot set up verification");
		goto out;
	}
	if (EVP_DigestVerify(mctx, sig_be, EIMG_RSA_BYTES, msg, len) != 1) {
		ERR_clear_error();
		if (why && whysize)
			diagnose(pkey, msg, len, sig_be, why, whysize);
		rc = eimg_err(err, EIMG_EVERIFY, NULL, "the RSA signature does not verify");
		goto out;
	}
	rc = EIMG_OK;
out:
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_free(pkey);
	return rc;
}

int eimg_rsa_q1q2(const uint8_t sig_le[EIMG_RSA_BYTES], const uint8_t mod_le[EIMG_RSA_BYTES],
		  uint8_t q1[EIMG_RSA_BYTES], uint8_t q2[EIMG_RSA_BYTES], eimg_error *err)
{
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *s = BN_lebin2bn(sig_le, EIMG_RSA_BYTES, NULL), *n = BN_lebin2bn(mod_le, EIMG_RSA_BYTES, NULL);
	BIGNUM *t = BN_new(), *a = BN_new(), *r = BN_new(), *b = BN_new();
	uint8_t o1[EIMG_RSA_BYTES], o2[EIMG_RSA_BYTES];
	int rc;

	if (!ctx || !s || !n || !t || !a || !r || !b) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	if (BN_is_zero(n) || BN_cmp(s, n) >= 0) {
		rc = eimg_err(err, EIMG_EVERIFY, NULL, "the signature is not below the modulus");
		goto out;
	}
	/* q1 = floor(s^2 / n), r = s^2 mod n, q2 = floor(s * r / n). */
	if (!BN_sqr(t, s, ctx) || !BN_div(a, r, t, n, ctx) || !BN_mul(t, s, r, ctx) || !BN_div(b, NULL, t, n, ctx)) {
		rc = eimg_ossl_err(err, EIMG_EINTERNAL, NULL, "q1/q2");
		goto out;
	}
	if (BN_bn2lebinpad(a, o1, EIMG_RSA_BYTES) != EIMG_RSA_BYTES ||
	    BN_bn2lebinpad(b, o2, EIMG_RSA_BYTES) != EIMG_RSA_BYTES) {
		rc = eimg_err(err, EIMG_EINTERNAL, NULL, "q1/q2 do not fit 384 bytes");
		goto out;
	}
	memcpy(q1, o1, EIMG_RSA_BYTES);
	memcpy(q2, o2, EIMG_RSA_BYTES);
	rc = EIMG_OK;
out:
	BN_free(s);
	BN_free(n);
	BN_free(t);
	BN_free(a);
	BN_free(r);
	BN_free(b);
	BN_CTX_free(ctx);
	return rc;
}

/* ---- detached signatures ---- */

/* One DER TLV spanning exactly buf: tag, content. */
static int der_one(const uint8_t *buf, size_t len, uint8_t *tag, const uint8_t **content, size_t *clen)
{
	size_t n, hdr;
	if (len < 2)
		return 0;
	*tag = buf[0];
	if (buf[1] < 0x80) {
		n = buf[1];
		hdr = 2;
	} else if (buf[1] == 0x81 && len >= 3) {
		n = buf[2];
		hdr = 3;
		if (n < 0x80)
			return 0;
	} else if (buf[1] == 0x82 && len >= 4) {
		n = (size_t)buf[2] << 8 | buf[3];
		hdr = 4;
		if (n < 0x100)
			return 0;
	} else {
		return 0;
	}
	if (hdr + n != len)
		return 0;
	*content = buf + hdr;
	*clen = n;
	return 1;
}

static int sig_from_binary(const uint8_t *buf, size_t len, uint8_t out[EIMG_RSA_BYTES])
{
	uint8_t tag;
	const uint8_t *c;
	size_t n;
	if (len == EIMG_RSA_BYTES) {
		memcpy(out, buf, EIMG_RSA_BYTES);
		return 1;
	}
	if (!der_one(buf, len, &tag, &c, &n))
		return 0;
	if (tag == 0x03) {           /* BIT STRING: unused-bits byte 0 */
		if (n < 1 || c[0] != 0)
			return 0;
		c++;
		n--;
		if (n != EIMG_RSA_BYTES)
			return 0;
	} else if (tag == 0x02) {    /* INTEGER: positive, minimal */
		if (n == 0 || (c[0] & 0x80))
			return 0;
		if (n > 1 && c[0] == 0) {
			if (!(c[1] & 0x80))
				return 0;
			c++;
			n--;
		}
		if (n > EIMG_RSA_BYTES)
			return 0;
	} else if (tag == 0x04) {    /* OCTET STRING */
		if (n != EIMG_RSA_BYTES)
			return 0;
	} else {
		return 0;
	}
	memset(out, 0, EIMG_RSA_BYTES);
	memcpy(out + EIMG_RSA_BYTES - n, c, n);
	return 1;
}

int eimg_rsa_parse_detached(const char *source, const uint8_t *buf, size_t len, uint8_t sig_be[EIMG_RSA_BYTES],
			    eimg_error *err)
{
	uint8_t tmp[EIMG_RSA_BYTES];
	if (sig_from_binary(buf, len, tmp)) {
		memcpy(sig_be, tmp, EIMG_RSA_BYTES);
		return EIMG_OK;
	}
	/* base64 (cloud KMS APIs hand out base64): whitespace ignored. */
	if (len <= 4096) {
		char b64[4097];
		uint8_t dec[3 * 4096 / 4 + 3];
		size_t m = 0, pad = 0;
		int ok = 1;
		for (size_t i = 0; i < len; i++) {
			unsigned char c = buf[i];
			if (isspace(c))
				continue;
			if (!(isalnum(c) || c == '+' || c == '/' || c == '=')) {
				ok = 0;
				break;
			}
			b64[m++] = (char)c;
		}
		if (ok && m > 0 && m % 4 == 0) {
			b64[m] = '\0';
			int d = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)m);
			if (b64[m - 1] == '=')
				pad++;
			if (m > 1 && b64[m - 2] == '=')
				pad++;
			if (d >= 0 && (size_t)d >= pad && sig_from_binary(dec, (size_t)d - pad, tmp)) {
				memcpy(sig_be, tmp, EIMG_RSA_BYTES);
				return EIMG_OK;
			}
			ERR_clear_error();
		}
	}
	return eimg_err(err, EIMG_EINVAL, source,
			"not an RSA-3072 signature: expected 384 bytes big-endian (as 'openssl dgst -sha256 -sign' "
			"or 'openssl pkeyutl -sign' write it), DER or base64, got %zu bytes", len);
}
