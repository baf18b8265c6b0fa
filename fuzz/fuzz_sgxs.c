/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the SGXS stream reader.  Oracle: whatever it accepts has
 * MRENCLAVE == SHA-256 of the bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/hash.h"
#include "eimg/sgxs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eimg_sgxs_info info;
	eimg_error err;
	if (eimg_sgxs_read_buffer("fuzz.sgxs", data, size, &info, &err) != EIMG_OK)
		return 0;
	uint8_t md[32];
	eimg_sha256(data, size, md);
	if (memcmp(md, info.mrenclave, 32) != 0 || info.neadd * 64 + info.nextend * 320 + 64 != size ||
	    info.ntcs > info.neadd || info.nextend > 16 * info.neadd)
		abort();
	return 0;
}
