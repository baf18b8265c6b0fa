/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the forms an attestation document arrives in
 * (eimg_attest_doc_decode: JSON, CBOR, hex or base64 text) and the --at /
 * --max-age parsers.  Invariants: never crashes; a refused input leaves the
 * outputs untouched; an accepted COSE document starts as a COSE_Sign1 does
 * and is never larger than its input; JSON is passed through unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/attest.h"
#include "eimg/checktime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sentinel = 0, *out = &sentinel;
	size_t n = 12345;
	int kind = -7;
	eimg_error err;
	if (eimg_attest_doc_decode("fuzz", data, size, &out, &n, &kind, &err) == EIMG_OK) {
		if (kind == EIMG_ATTEST_DOC_COSE && (n == 0 || n > size || (out[0] != 0x84 && out[0] != 0xd2)))
			abort();
		if (kind == EIMG_ATTEST_DOC_JSON && (n != size || memcmp(out, data, size) != 0))
			abort();
		if (kind != EIMG_ATTEST_DOC_COSE && kind != EIMG_ATTEST_DOC_JSON)
			abort();
		free(out);
	} else if (out != &sentinel || n != 12345 || kind != -7) {
		abort();
	}
	/* The same bytes as --at and --max-age arguments. */
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct eimg_check_time t = { .at = EIMG_AT_TIME, .time = 1, .max_age = 2 }, before = t;
	if (eimg_check_time_parse(text, &t, &err) != EIMG_OK && memcmp(&t, &before, sizeof(t)) != 0)
		abort();
	uint64_t v = 3;
	if (eimg_duration_parse(text, &v, &err) == EIMG_OK ? (v == 0 || v > EIMG_MAX_DURATION) : v != 3)
		abort();
	free(text);
	return 0;
}
