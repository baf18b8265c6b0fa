/* SPDX-License-Identifier: Apache-2.0 */
/* ECDSA signature formats for Nitro EIF signing (OpenSSL): DER to r||s.
 * Keys are loaded and used by the shared signing-key code (crypto_rsa.c). */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "eimg/hash.h"
#include "core/internal.h"
#include "crypto/crypto.h"

static int sig_to_rs(const ECDSA_SIG *sig, size_t fb, uint8_t *rs, eimg_error *err)
{
	const BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG_get0(sig, &r, &s);
	if (!r || !s || BN_is_negative(r) || BN_is_negative(s) || (size_t)BN_num_bytes(r) > fb ||
	    (size_t)BN_num_bytes(s) > fb || BN_bn2binpad(r, rs, (int)fb) < 0 || BN_bn2binpad(s, rs + fb, (int)fb) < 0)
		return eimg_err(err, EIMG_EINVAL, NULL, "ECDSA signature values do not fit a %zu-byte field", fb);
	return EIMG_OK;
}

int eimg_ec_der_to_rs(const uint8_t *der, size_t len, size_t fb, uint8_t *rs, eimg_error *err)
{
	const unsigned char *p = der;
	unsigned char *re = NULL;
	int rc;
	if (len == 0 || len > 1024)
		return eimg_err(err, EIMG_EINVAL, NULL, "not a DER ECDSA signature (%zu bytes)", len);
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	if (!sig || p != der + len) {
		rc = eimg_err(err, EIMG_EINVAL, NULL, "not a DER ECDSA signature");
		goto out;
	}
	/* Strict DER: re-encoding must give the same bytes. */
	int n = i2d_ECDSA_SIG(sig, &re);
	if (n <= 0 || (size_t)n != len || memcmp(re, der, len) != 0) {
		rc = eimg_err(err, EIMG_EINVAL, NULL, "ECDSA signature is not in strict DER");
		goto out;
	}
	rc = sig_to_rs(sig, fb, rs, err);
out:
	ERR_clear_error();
	OPENSSL_free(re);
	ECDSA_SIG_free(sig);
	return rc;
}
