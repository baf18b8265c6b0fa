/* SPDX-License-Identifier: Apache-2.0 */
/* Randomness inside the enclave: the CPU's RDRAND, which works in and out of
 * enclaves (the host cannot feed it).  Used to seed BearSSL's HMAC-DRBG for
 * key pairs (keys.c, mail.c) and for sealing nonces (seal.c). */
#include "enclave.h"
#include "rt_int.h"

static int rdrand64(uint64_t *out)
{
	for (int i = 0; i < 32; i++) {
		unsigned char ok;
		uint64_t v;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok) : : "cc");
		if (ok) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

int eimg_rt_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		uint64_t v;
		if (rdrand64(&v))
			return -1;
		size_t n = len < 8 ? len : 8;
		memcpy(p, &v, n);
		explicit_bzero(&v, sizeof v);
		p += n;
		len -= n;
	}
	return 0;
}
