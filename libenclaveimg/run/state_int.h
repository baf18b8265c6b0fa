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

/* eimg_ocall_fn (eimg/sim.h) over eimg_state_ocall, for the backends that
 * run in this process (mock, hardware); ctx is the struct eimg_state. */
uint64_t eimg_state_ocall_fn(void *ctx, uint32_t tcs, uint64_t op, uint8_t *buf, size_t len, size_t cap);

/* A thread serving one TCS's service channel (CH_OCALL frames, sim_int.h)
 * from the sandboxed simulation child until it closes; max bounds requests
 * and answers (the message limit). */
struct eimg_state_server {
	struct eimg_state *s;
	int fd;
	size_t max;
};
void *eimg_state_serve(void *arg);

/* The services of one run (run/services.c). */
#include <pthread.h>
#include <stdbool.h>
struct eimg_run_services {
	struct eimg_state *state;          /* NULL: no --state */
	uint32_t n;                        /* service channels (simulation child) */
	int *child_fds;                    /* the child's ends, -1 once given away */
	struct eimg_state_server *srv;     /* the runner's ends and their threads */
	pthread_t *threads;
};
/* Opens the state folder; with channels, also n service channels and their
 * threads (max: the message limit).  On failure, eimg_services_stop cleans up. */
int eimg_services_start(struct eimg_run_services *sv, const char *dir, const struct eimg_identity *id, uint32_t n,
			size_t max, bool channels, eimg_error *err);
/* In-process backends: the loaded enclave calls the services directly. */
void eimg_services_attach(struct eimg_run_services *sv, bool hardware, void *enclave);
/* After the fork: the child has its ends, close ours. */
void eimg_services_forked(struct eimg_run_services *sv);
/* Ends the threads (after the child is gone) and closes everything; safe on a zeroed struct. */
void eimg_services_stop(struct eimg_run_services *sv);

#endif
