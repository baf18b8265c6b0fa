/* SPDX-License-Identifier: Apache-2.0 */
/* Building the identity of an enclave for constraint and expectation checks. */
#include <string.h>

#include "eimg/identity.h"

void eimg_identity_sgx(const uint8_t mrenclave[32], const struct eimg_sigstruct *ss, int mode, bool debug_launch,
		       struct eimg_identity *out)
{
	memset(out, 0, sizeof(*out));
	out->has_sgx = true;
	memcpy(out->mrenclave, mrenclave, 32);
	out->no_sigstruct = ss == NULL;
	if (ss) {
		eimg_sigstruct_mrsigner(ss, out->mrsigner);
		out->isvprodid = ss->isvprodid;
		out->isvsvn = ss->isvsvn;
	}
	out->debug = debug_launch;
	out->mode = mode;
	out->security = mode == EIMG_ID_HARDWARE && !debug_launch ? EIMG_SEC_STALE : EIMG_SEC_INSECURE;
	out->timestamp = 0;
}
