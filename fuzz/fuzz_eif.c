/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the EIF reader and the whole audit (layout, CRC, PCRs,
 * metadata JSON, signature section CBOR/COSE, certificate, cpio lookup). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/eif.h"
#include "eimg/nitro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eimg_nitro_report *r = NULL;
	eimg_error err;
	struct eimg_nitro_audit_opts o = { .now = 1700000000, .threads = 1, .manifest_json = "{}", .manifest_len = 2 };
	if (eimg_nitro_audit_buffer("fuzz.eif", data, size, &o, &r, &err) == EIMG_OK) {
		char *t = NULL;
		eimg_nitro_report_verdict(r, &err);
		if (eimg_nitro_report_text(r, &t, &err) == EIMG_OK)
			free(t);
		if (eimg_nitro_report_json(r, &t, &err) == EIMG_OK)
			free(t);
		eimg_nitro_report_free(r);
	}
	/* Replacing the signature section must work on any valid layout. */
	uint8_t *out = NULL;
	size_t n = 0;
	if (eimg_eif_set_signature("fuzz.eif", data, size, (const uint8_t *)"\x80", 1, &out, &n, &err) == EIMG_OK)
		free(out);
	return 0;
}
