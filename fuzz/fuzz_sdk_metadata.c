/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: other tool chains' enclaves.  The input is read as an Intel
 * SGX SDK enclave (note, every metadata blob, the loader's checks, the dump
 * in text and JSON, and the load stream when the enclave is small enough to
 * hash quickly) and as an Open Enclave one (.oeinfo properties). */
#include <stdint.h>
#include <stdlib.h>

#include "eimg/oe_enclave.h"
#include "eimg/sdk_enclave.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eimg_sdk_enclave *e = NULL;
	struct eimg_oe_properties oe;
	eimg_error err;
	uint8_t mr[32];
	char *text = NULL;

	if (size > (4u << 20))
		return 0;
	if (eimg_sdk_open("fuzz", data, size, &e, &err) == EIMG_OK) {
		for (size_t i = 0; i < e->nmeta; i++)
			if (e->meta[i].enclave_size <= (16u << 20))
				(void)eimg_sdk_mrenclave(e, i, mr, &err);
		if (eimg_sdk_text(e, NULL, &text, &err) == EIMG_OK)
			free(text);
		text = NULL;
		if (eimg_sdk_json_string(e, NULL, &text, &err) == EIMG_OK)
			free(text);
		eimg_sdk_free(e);
	}
	if (eimg_oe_read("fuzz", data, size, &oe, &err) == EIMG_OK) {
		text = NULL;
		if (eimg_oe_text(&oe, "  ", &text, &err) == EIMG_OK)
			free(text);
		text = NULL;
		if (eimg_oe_json_string(&oe, NULL, NULL, &text, &err) == EIMG_OK)
			free(text);
	}
	return 0;
}
