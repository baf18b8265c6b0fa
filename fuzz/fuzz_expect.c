/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the --expect / --expect-file parser and the checker.
 * Invariants: parsing never crashes; a failed parse leaves the expectations
 * unchanged; a parsed expectation matches the identity made from its own
 * values and mismatches one that differs in every byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/constraint.h"
#include "eimg/expect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eimg_expect e, before;
	struct eimg_identity id;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&e, 0, sizeof(e));
	before = e;
	if (eimg_expect_parse(&e, text, "fuzz", NULL) != 0) {
		if (memcmp(&e, &before, sizeof(e)) != 0)
			abort();
		free(text);
		return 0;
	}
	memset(&id, 0, sizeof(id));
	id.has_sgx = true;
	memcpy(id.mrenclave, e.mrenclave, 32);
	memcpy(id.mrsigner, e.mrsigner, 32);
	id.pcr_mask = e.pcr_mask;
	memcpy(id.pcr, e.pcr, sizeof(id.pcr));
	if (eimg_expect_check(&e, &id, NULL) != 0)
		abort();
	for (size_t i = 0; i < 32; i++) {
		id.mrenclave[i] ^= 0xff;
		id.mrsigner[i] ^= 0xff;
	}
	for (int p = 0; p < EIMG_NPCR; p++)
		for (size_t i = 0; i < 48; i++)
			id.pcr[p][i] ^= 0xff;
	if (!eimg_expect_empty(&e) && eimg_expect_check(&e, &id, NULL) != EIMG_EVERIFY)
		abort();
	free(text);
	return 0;
}
