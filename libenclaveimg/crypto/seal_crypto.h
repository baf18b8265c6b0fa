/* SPDX-License-Identifier: Apache-2.0 */
/* Private: the simulated sealing key and randomness (crypto_seal.c, OpenSSL),
 * used by the state service of enclave-run --state (run/state.c). */
#ifndef EIMG_SEAL_CRYPTO_H
#define EIMG_SEAL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include "eimg/constraint.h"
#include "eimg/error.h"

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

#endif
