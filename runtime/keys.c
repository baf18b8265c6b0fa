/* SPDX-License-Identifier: Apache-2.0 */
/* Key pairs made inside the enclave, for attestation and for clients to
 * encrypt to.  The cryptography is BearSSL's (Debian's libbearssl-dev: a
 * library written for freestanding use, with no allocation and no system
 * calls); the only randomness is the CPU's RDRAND (rand.c).  This file is
 * pulled into an enclave only when it calls enclave_keygen_p256(), and then
 * the enclave links libbearssl.a. */
#include <bearssl.h>

#include "enclave.h"
#include "rt_int.h"

/* DER SubjectPublicKeyInfo of a P-256 key: this fixed header (SEQUENCE,
 * AlgorithmIdentifier id-ecPublicKey + prime256v1, BIT STRING), then the
 * 65-byte uncompressed point. */
static const uint8_t spki_p256_header[26] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00
};

static void wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;
	while (n--)
		*v++ = 0;
}

int enclave_keygen_p256(uint8_t sk[32], uint8_t spki[ENCLAVE_P256_SPKI_LEN])
{
	uint64_t seed[6];
	br_hmac_drbg_context rng;
	br_ec_private_key priv;
	br_ec_public_key pub;
	uint8_t kbuf[BR_EC_KBUF_PRIV_MAX_SIZE], pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	int rc = -1;

	if (eimg_rt_random(seed, sizeof seed))
		goto out;
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof(seed));
	if (br_ec_keygen(&rng.vtable, &br_ec_p256_m31, &priv, kbuf, BR_EC_secp256r1) != 32)
		goto out;
	if (br_ec_compute_pub(&br_ec_p256_m31, &pub, pbuf, &priv) != 65)
		goto out;
	memcpy(sk, priv.x, 32);
	memcpy(spki, spki_p256_header, sizeof(spki_p256_header));
	memcpy(spki + sizeof(spki_p256_header), pub.q, 65);
	rc = 0;
out:
	wipe(seed, sizeof(seed));
	wipe(&rng, sizeof(rng));
	wipe(kbuf, sizeof(kbuf));
	return rc;
}

int enclave_sign_p256(const uint8_t sk[32], const void *msg, size_t len, uint8_t *sig, size_t *siglen)
{
	br_sha256_context h;
	uint8_t digest[32], out[ENCLAVE_P256_SIG_MAX];
	br_ec_private_key priv = { BR_EC_secp256r1, (unsigned char *)(uintptr_t)sk, 32 };
	size_t n;

	br_sha256_init(&h);
	br_sha256_update(&h, msg, len);
	br_sha256_out(&h, digest);
	/* Deterministic ECDSA (RFC 6979): no randomness needed. */
	n = br_ecdsa_i31_sign_asn1(&br_ec_p256_m31, &br_sha256_vtable, digest, &priv, out);
	wipe(&h, sizeof(h));
	if (n == 0 || n > *siglen)
		return -1;
	memcpy(sig, out, n);
	*siglen = n;
	return 0;
}

/* What libbearssl.a, built with Debian's hardening flags, expects from a C
 * library: the stack protector's failure hook and fortified memcpy. */
__attribute__((noreturn)) void __stack_chk_fail(void);
void __stack_chk_fail(void)
{
	enclave_abort("stack smashing detected");
}

void *__memcpy_chk(void *dst, const void *src, size_t len, size_t dstlen);
void *__memcpy_chk(void *dst, const void *src, size_t len, size_t dstlen)
{
	if (len > dstlen)
		enclave_abort("buffer overflow in memcpy");
	return memcpy(dst, src, len);
}

void *__memset_chk(void *dst, int c, size_t len, size_t dstlen);
void *__memset_chk(void *dst, int c, size_t len, size_t dstlen)
{
	if (len > dstlen)
		enclave_abort("buffer overflow in memset");
	return memset(dst, c, len);
}

void *__memmove_chk(void *dst, const void *src, size_t len, size_t dstlen);
void *__memmove_chk(void *dst, const void *src, size_t len, size_t dstlen)
{
	if (len > dstlen)
		enclave_abort("buffer overflow in memmove");
	return memmove(dst, src, len);
}
