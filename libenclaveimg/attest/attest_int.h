/* SPDX-License-Identifier: Apache-2.0 */
/* Private: the crypto of attestation documents (crypto_attest.c). */
#ifndef EIMG_ATTEST_INT_H
#define EIMG_ATTEST_INT_H

#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"

typedef struct eimg_attest_key eimg_attest_key;

/* A fresh EC P-256 key. */
int eimg_attest_key_generate(eimg_attest_key **out, eimg_error *err);
void eimg_attest_key_free(eimg_attest_key *k);
/* Its public key as DER SubjectPublicKeyInfo (malloc'ed). */
int eimg_attest_key_spki(const eimg_attest_key *k, uint8_t **der, size_t *len, eimg_error *err);
/* ECDSA-SHA256 signature, DER (malloc'ed). */
int eimg_attest_key_sign(const eimg_attest_key *k, const uint8_t *msg, size_t len, uint8_t **sig, size_t *siglen,
			 eimg_error *err);
/* Verifies a DER ECDSA-SHA256 signature with a P-256 DER SPKI; EIMG_EVERIFY
 * when the key is not P-256 or the signature does not verify. */
int eimg_attest_verify_p256(const uint8_t *spki, size_t spkilen, const uint8_t *msg, size_t len,
			    const uint8_t *sig, size_t siglen, eimg_error *err);

#endif
