/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the host services an enclave reaches with ocalls
 * (run/state.c): requests come from enclave code, so they are hostile.  The
 * first byte picks the ocall (sealing key, state read, an unknown one; the
 * write service only touches a file and is left out), the rest is the
 * request; the answer buffer is small to exercise the size checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eimg/enclave_abi.h"
#include "run/state_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct eimg_state *s;
	static const uint64_t ops[] = { EIMG_OCALL_SEAL_KEY, EIMG_OCALL_STATE_READ, 99 };
	uint8_t buf[64];
	if (!s) {
		char dir[] = "/tmp/fuzz-state-XXXXXX";
		struct eimg_identity id = { .isvsvn = 3 };
		eimg_error err;
		if (!mkdtemp(dir) || eimg_state_open(dir, &id, &s, &err) != EIMG_OK)
			abort();
	}
	if (size < 1)
		return 0;
	size_t len = size - 1 < sizeof buf ? size - 1 : sizeof buf;
	memcpy(buf, data + 1, len);
	uint64_t r = eimg_state_ocall(s, ops[data[0] % 3], buf, len, sizeof buf);
	if (r < EIMG_OCALL_EFIRST && r > sizeof buf)
		abort();   /* an answer longer than the buffer */
	return 0;
}
