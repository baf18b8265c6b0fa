/* SPDX-License-Identifier: Apache-2.0 */
/* Private: the host services behind the enclave's state ocalls
 * (enclave_abi.h: EIMG_OCALL_SEAL_KEY, _STATE_READ, _STATE_WRITE) for
 * enclave-run --state DIR.  DIR holds:
 *   state.sealed            the enclave's sealed key-value store, replaced
 *                           atomically (temporary file, fsync, rename, fsync
 *                           of DIR) on every commit
 *   seal-secret.INSECURE    32 random bytes (mode 0600) from which simulation
 *                           and mock runs derive sealing keys: whoever reads
 *                           it can unseal; hardware runs use EGETKEY instead
 * Thread-safe: one lock serialises the services. */
#ifndef EIMG_STATE_INT_H
#define EIMG_STATE_INT_H

#include <stddef.h>
#include <stdint.h>
#include "eimg/constraint.h"
#include "eimg/error.h"

#define EIMG_STATE_FILE  "state.sealed"
#define EIMG_STATE_SECRET "seal-secret.INSECURE"

struct eimg_state;

/* Opens (creating DIR with mode 0700 and the secret when missing) the state
 * folder for the enclave id (MRENCLAVE, MRSIGNER, ISVPRODID, ISVSVN). */
int eimg_state_open(const char *dir, const struct eimg_identity *id, struct eimg_state **out, eimg_error *err);
void eimg_state_close(struct eimg_state *s);

/* Serves one ocall: the request is buf[0..len), the answer goes to
 * buf[0..cap); returns the ocall result (answer length or EIMG_OCALL_E*).
 * s may be NULL (no --state): every service answers EIMG_OCALL_ENOSTATE. */
uint64_t eimg_state_ocall(struct eimg_state *s, uint64_t op, uint8_t *buf, size_t len, size_t cap);

#endif
