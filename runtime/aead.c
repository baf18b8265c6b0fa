/* SPDX-License-Identifier: Apache-2.0 */
/* AES-GCM inside the enclave (BearSSL's constant-time AES and GHASH), shared
 * by Mail (mail.c, AES-256) and sealing (seal.c, AES-128 with the CPU's
 * sealing key). */
#include <bearssl.h>

#include "enclave.h"
#include "rt_int.h"

int eimg_rt_gcm(const uint8_t *key, size_t key_len, const uint8_t iv[12], int encrypt, const uint8_t *aad,
		size_t aad_len, uint8_t *data, size_t len, uint8_t tag[16])
{
	br_aes_ct64_ctr_keys bc;
	br_gcm_context gc;
	int ok = 1;
	br_aes_ct64_ctr_init(&bc, key, key_len);
	br_gcm_init(&gc, &bc.vtable, br_ghash_ctmul64);
	br_gcm_reset(&gc, iv, 12);
	br_gcm_aad_inject(&gc, aad, aad_len);
	br_gcm_flip(&gc);
	br_gcm_run(&gc, encrypt, data, len);
	if (encrypt)
		br_gcm_get_tag(&gc, tag);
	else
		ok = (int)br_gcm_check_tag(&gc, tag);
	explicit_bzero(&bc, sizeof bc);
	explicit_bzero(&gc, sizeof gc);
	return ok;
}
