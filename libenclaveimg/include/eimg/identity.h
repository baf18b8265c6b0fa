/* SPDX-License-Identifier: Apache-2.0 */
/* The identity of an enclave that constraints and expectations are checked
 * against, built one way for every tool (enclave-measure --constraint,
 * enclave-sign verify --constraint, enclave-run). */
#ifndef EIMG_IDENTITY_H
#define EIMG_IDENTITY_H

#include <stdbool.h>
#include "eimg/constraint.h"
#include "eimg/expect.h"
#include "eimg/measure.h"
#include "eimg/sigstruct.h"

/* Identity of a launch (or a would-be launch) of an SGX enclave:
 * mrenclave is the RECOMPUTED measurement; ss the SIGSTRUCT (NULL if
 * unsigned); mode the image's build mode (enum eimg_mode) or
 * EIMG_ID_MOCK; debug_launch whether the operator launches with DEBUG. When
 * no launch is decided yet, pass debug_launch = true only if the signature
 * permits nothing else.  No attestation: security STALE for hardware
 * (INSECURE is forced for debug/simulation/mock by the checker). */
void eimg_identity_sgx(const uint8_t mrenclave[32], const struct eimg_sigstruct *ss, int mode, bool debug_launch,
		       struct eimg_identity *out);

#endif
