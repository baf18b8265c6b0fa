/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: attestation document checking (eimg_attestation_check) with a
 * constraint and a quote verifier that accepts any quote of 136+ bytes as
 * the values it carries, so that both signer paths are reached. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int verify_any(void *ctx, const uint8_t *q, size_t len, uint64_t now, struct eimg_quote_info *out,
		      eimg_error *err)
{
	(void)ctx;
	(void)now;
	(void)err;
	if (len < 32 + 32 + 64 + 8)
		return EIMG_EVERIFY;
	memcpy(out->mrenclave, q, 32);
	memcpy(out->mrsigner, q + 32, 32);
	memcpy(out->report_data, q + 64, 64);
	out->isvprodid = (uint16_t)(q[128] | q[129] << 8);
	out->isvsvn = (uint16_t)(q[130] | q[131] << 8);
	out->debug = q[132] & 1;
	out->security = q[133] % 3;
	out->timestamp = q[134];
	return EIMG_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static eimg_constraint *c;
	if (!c && eimg_constraint_parse("C:2797b9581b9377d41a8ffc45990335048e79c976a6bbb4e7692ecad699a55317 SEC:INSECURE",
					&c, NULL) != 0)
		abort();
	struct eimg_quote_ops q = { .ctx = NULL, .get_quote = NULL, .verify_quote = verify_any };
	struct eimg_attest_result res;
	struct eimg_constraint_failure f[2];
	size_t nf = 0;
	eimg_error err;
	const struct eimg_check_time when = { .at = EIMG_AT_TIME, .time = 1795407042u };
	int rc = eimg_attestation_check("fuzz", (const char *)data, size, c, &when, &q, &res, f, 2, &nf, &err);
	if (rc == EIMG_OK) {
		if (!res.public_key) /* public_key_len 0: the enclave published no key */
			abort();
		eimg_attest_result_clear(&res);
	}
	/* without a constraint and without a verifier */
	rc = eimg_attestation_check("fuzz", (const char *)data, size, NULL, &when, NULL, &res, NULL, 0, NULL, &err);
	if (rc == EIMG_OK)
		eimg_attest_result_clear(&res);
	return 0;
}
