/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: Open Enclave enclaves.  The input is read as an OE ELF (the
 * .oeinfo properties, the segments, relocations and dynamic symbols the
 * loader patches), its layout planned and shown in text and JSON, and its
 * load stream hashed when the enclave is small enough to hash quickly. */
#include <stdint.h>
#include <stdlib.h>

#include "eimg/oe_enclave.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eimg_oe_properties p;
	struct eimg_oe_layout l;
	eimg_error err;
	uint8_t mr[32];
	char *text = NULL;

	if (size > (4u << 20))
		return 0;
	if (eimg_oe_plan("fuzz", data, size, &p, &l, &err) != EIMG_OK)
		return 0;
	if (l.ecreate_size <= (16u << 20))
		(void)eimg_oe_mrenclave("fuzz", data, size, mr, &err);
	if (eimg_oe_layout_text(&l, "  ", &text, &err) == EIMG_OK)
		free(text);
	text = NULL;
	if (eimg_oe_json_string(&p, &l, mr, &text, &err) == EIMG_OK)
		free(text);
	return 0;
}
