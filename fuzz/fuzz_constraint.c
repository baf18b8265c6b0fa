/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the constraint parser (string and file forms), the canonical
 * form round trip, and the checker on fixed identities. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/constraint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_all(const eimg_constraint *c)
{
	struct eimg_identity id;
	struct eimg_constraint_failure f[4];
	size_t nf = 0;
	memset(&id, 0, sizeof(id));
	for (int variant = 0; variant < 3; variant++) {
		id.has_sgx = variant != 2;
		memset(id.mrenclave, 0x27, sizeof(id.mrenclave));
		memset(id.mrsigner, 0xbb, sizeof(id.mrsigner));
		id.isvprodid = 10;
		id.isvsvn = (uint16_t)(variant * 3);
		id.debug = variant == 1;
		id.mode = variant == 1 ? EIMG_ID_SIMULATION : EIMG_ID_HARDWARE;
		id.security = variant;
		id.timestamp = variant ? 1700000000u : 0;
		id.pcr_mask = (uint16_t)(variant ? 0x103 : 0);
		int rc = eimg_constraint_check(c, &id, 1711886400u, f, 4, &nf, NULL);
		if ((rc == 0) != (nf == 0))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eimg_constraint *c = NULL, *c2 = NULL;
	eimg_error err;
	char *s = NULL, *s2 = NULL;

	/* file form: arbitrary bytes */
	if (eimg_constraint_parse_buffer("fuzz", (const char *)data, size, &c, &err) == 0) {
		check_all(c);
		/* the canonical form must parse back to the same canonical form */
		if (eimg_constraint_format(c, &s, NULL) != 0)
			abort();
		if (eimg_constraint_parse(s, &c2, &err) != 0)
			abort();
		if (eimg_constraint_format(c2, &s2, NULL) != 0 || strcmp(s, s2) != 0)
			abort();
		eimg_constraint_free(c2);
		free(s);
		free(s2);
		eimg_constraint_free(c);
	}
	/* string form: NUL-terminated copy */
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	c = NULL;
	if (eimg_constraint_parse(text, &c, &err) == 0) {
		check_all(c);
		eimg_constraint_free(c);
	}
	free(text);
	return 0;
}
