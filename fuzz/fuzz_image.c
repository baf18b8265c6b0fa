/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the enclave image reader (enclave-image(5)).
 * Any input must be rejected cleanly or accepted; an accepted image must
 * write back and read again to the same content (the writer never produces
 * what the reader rejects).  Seeds: fuzz/corpus/fuzz_image/ (sgx-sample and
 * nitro-sample from "test_image --write-samples DIR", a truncated copy, and a
 * GNU-format archive with a long name written by Python's tarfile). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const void *a, size_t na, const void *b, size_t nb)
{
	if (na != nb || (na && memcmp(a, b, na) != 0))
		abort();
}

static void same_members(const struct eimg_member *a, size_t na, const struct eimg_member *b, size_t nb)
{
	if (na != nb)
		abort();
	for (size_t i = 0; i < na; i++) {
		if (strcmp(a[i].name, b[i].name) != 0)
			abort();
		same(a[i].data, a[i].size, b[i].data, b[i].size);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eimg_error err;
	eimg_image *img = NULL, *back = NULL;
	uint8_t *out = NULL;
	size_t len = 0;

	if (eimg_image_read_buffer("fuzz.eimg", data, size, &img, &err) != EIMG_OK) {
		if (img || !err.msg[0])
			abort();
		return 0;
	}
	if (eimg_image_write_buffer(img, 0, &out, &len, &err) != EIMG_OK)
		abort();
	if (eimg_image_read_buffer("again.eimg", out, len, &back, &err) != EIMG_OK)
		abort();
	same(img->manifest_json, img->manifest_len, back->manifest_json, back->manifest_len);
	same(img->runtime_json, img->runtime_len, back->runtime_json, back->runtime_len);
	same(img->measurement_json, img->measurement_len, back->measurement_json, back->measurement_len);
	same(img->elf, img->elf_size, back->elf, back->elf_size);
	same(img->eif, img->eif_size, back->eif, back->eif_size);
	same(img->sigstruct, img->sigstruct_size, back->sigstruct, back->sigstruct_size);
	same_members(img->files, img->nfiles, back->files, back->nfiles);
	same_members(img->keys, img->nkeys, back->keys, back->nkeys);
	free(out);
	eimg_image_free(back);
	eimg_image_free(img);
	return 0;
}
