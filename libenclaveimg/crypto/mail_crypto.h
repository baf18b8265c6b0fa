/* SPDX-License-Identifier: Apache-2.0 */
/* Private: the cryptographic operations of Mail (crypto_mail.c, OpenSSL),
 * used by the envelope logic in libenclaveimg/mail/.  Points are
 * uncompressed P-256 points (EIMG_MAIL_POINT bytes). */
#ifndef EIMG_MAIL_CRYPTO_H
#define EIMG_MAIL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include "eimg/mail.h"

/* A fresh P-256 key pair (the ephemeral key of one envelope). */
int eimg_mail_key_generate(eimg_mail_key **out, eimg_error *err);
/* X coordinate of priv * peer (32 bytes).  EIMG_EINVAL: peer is not a point on P-256. */
int eimg_mail_ecdh(const eimg_mail_key *priv, const uint8_t peer[EIMG_MAIL_POINT], uint8_t out[32], eimg_error *err);
/* HKDF-SHA256 with the Mail salt: out is key(32) || iv(12). */
int eimg_mail_hkdf(const uint8_t ikm[64], const uint8_t *info, size_t info_len, uint8_t out[44], eimg_error *err);
/* AES-256-GCM.  Encrypt: ct gets len bytes, tag 16.  Decrypt: EIMG_EVERIFY when the tag does not match. */
int eimg_mail_gcm_encrypt(const uint8_t kiv[44], const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t len,
			  uint8_t *ct, uint8_t tag[16], eimg_error *err);
int eimg_mail_gcm_decrypt(const uint8_t kiv[44], const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t len,
			  const uint8_t tag[16], uint8_t *pt, eimg_error *err);

#endif
