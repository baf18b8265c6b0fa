/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: Nitro NSM attestation documents (eimg_nsm_attest_check:
 * COSE_Sign1, the strict payload parser, certificate parsing and the ES384
 * signature), then the identity and both reports of an accepted document. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/nsm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eimg_nsm_doc *d = NULL;
	struct eimg_identity id;
	eimg_error err;
	char *text = NULL;
	/* 2100-01-01: no seed document lies in the future */
	const struct eimg_check_time when = { .at = EIMG_AT_TIME, .time = 4102444800u };
	if (eimg_nsm_attest_check("fuzz", data, size, NULL, &when, &d, &err) != EIMG_OK)
		return 0;
	if (!d->certificate || d->ncabundle == 0 || d->chain_checked)
		abort();
	eimg_nsm_identity(d, &id);
	if (eimg_nsm_report_text(d, "fuzz", &text, &err) == EIMG_OK)
		free(text);
	if (eimg_nsm_report_json(d, "fuzz", &text, &err) == EIMG_OK)
		free(text);
	eimg_nsm_doc_free(d);
	return 0;
}
