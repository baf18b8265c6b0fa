/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated sealing key (seal_crypto.h) and randomness, with OpenSSL. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "eimg/enclave_abi.h"
#include "core/internal.h"
#include "crypto/crypto.h"

#define LABEL "enclaveimg simulated seal key v1"

int eimg_seal_sim_key(const uint8_t secret[EIMG_SEAL_SECRET], int policy, const struct eimg_identity *id,
		      uint16_t isvsvn, const uint8_t keyid[32], uint8_t key[16], eimg_error *err)
{
	uint8_t msg[sizeof LABEL - 1 + 2 + 34 + 2 + 32], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t n = 0;
	memcpy(msg, LABEL, sizeof LABEL - 1);
	n += sizeof LABEL - 1;
	eimg_le16(msg + n, (uint16_t)policy);
	n += 2;
	if (policy == EIMG_SEAL_MRENCLAVE) {
		memcpy(msg + n, id->mrenclave, 32);
		n += 32;
	} else if (policy == EIMG_SEAL_MRSIGNER) {
		memcpy(msg + n, id->mrsigner, 32);
		eimg_le16(msg + n + 32, id->isvprodid);
		n += 34;
	} else {
		return eimg_err(err, EIMG_EINVAL, NULL, "unknown sealing policy %d", policy);
	}
	eimg_le16(msg + n, isvsvn);
	n += 2;
	memcpy(msg + n, keyid, 32);
	n += 32;
	int ok = HMAC(EVP_sha256(), secret, EIMG_SEAL_SECRET, msg, n, mac, &maclen) != NULL && maclen >= 16;
	if (ok)
		memcpy(key, mac, 16);
	OPENSSL_cleanse(mac, sizeof mac);
	ERR_clear_error();
	return ok ? EIMG_OK : eimg_err(err, EIMG_EINTERNAL, NULL, "HMAC-SHA256 failed");
}

int eimg_random_bytes(uint8_t *out, size_t len, eimg_error *err)
{
	if (len > INT32_MAX || RAND_bytes(out, (int)len) != 1) {
		ERR_clear_error();
		return eimg_err(err, EIMG_EINTERNAL, NULL, "no randomness from OpenSSL");
	}
	return EIMG_OK;
}
