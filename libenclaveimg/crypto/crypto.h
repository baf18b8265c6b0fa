/* SPDX-License-Identifier: Apache-2.0 */
/* The crypto module's API: everything the library does with OpenSSL, behind
 * opaque handles (no OpenSSL type here).  Only the files of crypto/ include
 * OpenSSL; the rest of the library calls these.  Hashing is in the public
 * eimg/hash.h, key loading for the tools in eimg/keys.h.  Not installed. */
#ifndef EIMG_CRYPTO_H
#define EIMG_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"
#include "eimg/sigstruct.h"   /* EIMG_RSA_BYTES, struct eimg_key_source */
#include "eimg/constraint.h"  /* struct eimg_identity */
#include "eimg/mail.h"        /* eimg_mail_key, EIMG_MAIL_POINT */

/* ---- crypto_keys.c, crypto_rsa.c: private keys, RSA-3072 for SIGSTRUCTs ---- */
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

/* ---- crypto_x509.c: X.509 certificates (Nitro signing) ---- */
typedef struct eimg_x509 eimg_x509;
/* Exactly one PEM certificate (nothing else but whitespace around it). */
int eimg_x509_parse_pem(const char *source, const uint8_t *pem, size_t len, eimg_x509 **out, eimg_error *err);
/* Reads a certificate file (PEM or DER). */
int eimg_x509_load_file(const char *path, eimg_x509 **out, eimg_error *err);
void eimg_x509_free(eimg_x509 *x);
int eimg_x509_der(const eimg_x509 *x, uint8_t **der, size_t *len, eimg_error *err);
int eimg_x509_pubkey_der(const eimg_x509 *x, uint8_t **der, size_t *len, eimg_error *err);
int eimg_x509_pem(const eimg_x509 *x, uint8_t **pem, size_t *len, eimg_error *err);
/* Distinguished names as "CN=..., O=..." (RFC 2253 order reversed as
 * OpenSSL's oneline; escaped) and as name/value pairs for JSON. */
struct eimg_x509_info {
	char issuer[512], subject[512];
	char sig_alg[64];        /* e.g. "ecdsa-with-SHA384" */
	char key_alg[32];        /* "EC P-384", "RSA 2048", ... */
	int key_bits;            /* EC: 256, 384, 521; 0 if not EC */
	int64_t not_before, not_after; /* Unix seconds */
	char serial[130];        /* hex */
};
int eimg_x509_info(const eimg_x509 *x, struct eimg_x509_info *out, eimg_error *err);
/* Issuer/subject as an array of {"name","value"} pairs (jansson json_t *). */
void *eimg_x509_name_json(const eimg_x509 *x, bool issuer);
/* Verifies an ECDSA signature given as r||s over msg with the certificate's
 * key, hashing with SHA-256/384/512 (hash = 256/384/512). EIMG_EVERIFY if bad. */
int eimg_x509_verify_rs(const eimg_x509 *x, int hash, const uint8_t *msg, size_t msglen,
			const uint8_t *rs, size_t rslen, eimg_error *err);

/* ---- crypto_ec.c ---- */
/* DER ECDSA-Sig-Value -> r||s with each half of fbytes bytes (strict DER). */
int eimg_ec_der_to_rs(const uint8_t *der, size_t len, size_t fbytes, uint8_t *rs, eimg_error *err);

/* ---- crypto_attest.c: the P-256 keys of attestation documents ---- */
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

/* ---- crypto_chain.c: Nitro attestation document certificates ---- */
struct eimg_cert_info {
	char subject[256], issuer[256]; /* RFC 2253, escaped */
	int64_t not_before, not_after;  /* Unix seconds */
};

/* Parses one DER certificate (nothing after it) for display; EIMG_EINVAL
 * naming what when it is not one. */
int eimg_chain_cert_info(const char *source, const char *what, const uint8_t *der, size_t len,
			 struct eimg_cert_info *out, eimg_error *err);

/* Verifies an ES384 signature (r||s, 96 bytes) over msg with the P-384 key
 * of the DER certificate cert.  EIMG_EVERIFY when it does not verify. */
int eimg_chain_verify_es384(const char *source, const uint8_t *cert, size_t certlen, const uint8_t *msg,
			    size_t msglen, const uint8_t *rs, size_t rslen, eimg_error *err);

/* Verifies the leaf through the untrusted certificates ca[0..nca) to root
 * (DER), the only trust anchor, at time now.  root_subject receives the
 * root's subject.  EIMG_EVERIFY naming OpenSSL's reason when it does not. */
int eimg_chain_verify(const char *source, const uint8_t *leaf, size_t leaflen, uint8_t *const *ca,
		      const size_t *calen, size_t nca, const uint8_t *root, size_t rootlen, uint64_t now,
		      char *root_subject, size_t rsize, eimg_error *err);

/* ---- crypto_mail.c: Mail (eimg/mail.h); points are uncompressed P-256 points ---- */
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

/* ---- crypto_seal.c: simulated sealing keys for enclave-run --state (run/state.c) ---- */
#define EIMG_SEAL_SECRET 32

/* The key EGETKEY would give, simulated: the first 16 bytes of
 * HMAC-SHA256(secret, "enclaveimg simulated seal key v1" || u16 policy ||
 * MRENCLAVE (policy 1) or MRSIGNER || u16 ISVPRODID (policy 2) ||
 * u16 isvsvn || keyid), integers little-endian.  INSECURE: whoever holds
 * the secret (the host) has every key. */
int eimg_seal_sim_key(const uint8_t secret[EIMG_SEAL_SECRET], int policy, const struct eimg_identity *id,
		      uint16_t isvsvn, const uint8_t keyid[32], uint8_t key[16], eimg_error *err);

/* len bytes from OpenSSL's CSPRNG. */
int eimg_random_bytes(uint8_t *out, size_t len, eimg_error *err);

/* ---- crypto_dsse.c: the measurement statement (oci/statement.c) ---- */
/* Verifies sig over msg (SHA-256; RSA PKCS#1 v1.5 or DER ECDSA) with the
 * public key or certificate in path.  EIMG_EVERIFY when it does not verify. */
int eimg_pubkey_verify_file(const char *path, const uint8_t *msg, size_t len, const uint8_t *sig, size_t siglen,
			    eimg_error *err);

#endif
