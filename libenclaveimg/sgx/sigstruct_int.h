/* SPDX-License-Identifier: Apache-2.0 */
/* Private: the RSA operations behind SIGSTRUCT signing (crypto_rsa.c, the
 * only file of this module that includes OpenSSL). */
#ifndef EIMG_SIGSTRUCT_INT_H
#define EIMG_SIGSTRUCT_INT_H

#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"
#include "eimg/sigstruct.h"

#define EIMG_MAX_KEY_INPUT   (1u << 20)   /* key files */
#define EIMG_MAX_PASSPHRASE  1024

typedef struct eimg_key eimg_key;

/* Loads any private key (PEM or DER file, possibly encrypted, or a pkcs11:
 * URI) for signing; no check of its type. */
int eimg_key_load_private(const struct eimg_key_source *src, eimg_key **out, eimg_error *err);
/* Signs msg with the key's own scheme and the given hash (256/384/512): ECDSA
 * gives a DER ECDSA-Sig-Value.  *siglen: capacity in, length out. */
int eimg_key_sign(eimg_key *k, int hash_bits, const uint8_t *msg, size_t len, uint8_t *sig, size_t *siglen,
		  eimg_error *err);

/* Loads a private key (PEM or DER file, possibly encrypted, or a pkcs11: URI)
 * and checks it is RSA, 3072 bits, exponent 3 (EIMG_EINVAL with a message
 * saying how to make one otherwise). */
int eimg_rsa_load_private(const struct eimg_key_source *src, eimg_key **out, eimg_error *err);
/* Loads a public key: PEM/DER SubjectPublicKeyInfo or PKCS#1, a certificate,
 * or an unencrypted private key (its public half).  Same checks. */
int eimg_rsa_load_public(const char *path, eimg_key **out, eimg_error *err);
void eimg_key_free(eimg_key *k);

/* The modulus, little-endian, 384 bytes. */
int eimg_rsa_modulus_le(const eimg_key *k, uint8_t out[EIMG_RSA_BYTES], eimg_error *err);
/* RSASSA-PKCS1-v1_5 with SHA-256 over msg: 384 bytes big-endian. */
int eimg_rsa_sign(eimg_key *k, const uint8_t *msg, size_t len, uint8_t sig_be[EIMG_RSA_BYTES], eimg_error *err);

/* Verifies a little-endian signature over msg with the key (modulus LE,
 * exponent).  EIMG_EVERIFY when it does not verify; *why (may be NULL)
 * receives a short explanation of what the signature is over when that
 * can be told (other bytes, a bare digest, unhashed data). */
int eimg_rsa_verify_le(const uint8_t mod_le[EIMG_RSA_BYTES], uint32_t exponent, const uint8_t *msg, size_t len,
		       const uint8_t sig_le[EIMG_RSA_BYTES], char *why, size_t whysize, eimg_error *err);

/* q1 = floor(s^2 / n), q2 = floor(s * (s^2 mod n) / n), little-endian. */
int eimg_rsa_q1q2(const uint8_t sig_le[EIMG_RSA_BYTES], const uint8_t mod_le[EIMG_RSA_BYTES],
		  uint8_t q1[EIMG_RSA_BYTES], uint8_t q2[EIMG_RSA_BYTES], eimg_error *err);

/* A detached signature file's content: raw 384 bytes big-endian, DER
 * (OCTET STRING, BIT STRING or INTEGER holding it) or base64 of either.
 * Output: 384 bytes big-endian. */
int eimg_rsa_parse_detached(const char *source, const uint8_t *buf, size_t len, uint8_t sig_be[EIMG_RSA_BYTES],
			    eimg_error *err);

#endif
