/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the enclave image reader (enclave-image(5)).
 * Any input must be rejected cleanly or accepted; since the reader accepts
 * only the canonical encoding, an accepted image must write back to exactly
 * the input bytes (with its own mtime), and the coverage list must describe
 * every member.  Seeds: fuzz/corpus/fuzz_image/ (sgx-sample and nitro-sample
 * from "test_image --write-samples DIR", a truncated copy, and a GNU-format
 * archive with a long name written by Python's tarfile). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eimg_error err;
	eimg_image *img = NULL;
	uint8_t *out = NULL;
	size_t len = 0;

	if (eimg_image_read_buffer("fuzz.eimg", data, size, &img, &err) != EIMG_OK) {
		if (img || !err.msg[0])
			abort();
		return 0;
	}
	if (eimg_image_write_buffer(img, eimg_image_mtime(img), &out, &len, &err) != EIMG_OK)
		abort();
	if (len != size || memcmp(out, data, size) != 0)
		abort();
	struct eimg_image_entry e;
	for (size_t i = 0; i < eimg_image_count(img); i++)
		if (eimg_image_entry_at(img, i, &e) != EIMG_OK || !e.path[0])
			abort();
	free(out);
	eimg_image_free(img);
	return 0;
}
