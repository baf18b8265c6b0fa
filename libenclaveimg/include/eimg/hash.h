/* SPDX-License-Identifier: Apache-2.0 */
/* Hashing (SHA-256/384/512) over OpenSSL's EVP, without exposing OpenSSL types. */
#ifndef EIMG_HASH_H
#define EIMG_HASH_H

#include <stddef.h>
#include <stdint.h>

enum eimg_hash_alg { EIMG_SHA256 = 256, EIMG_SHA384 = 384, EIMG_SHA512 = 512 };

typedef struct eimg_hash eimg_hash;

eimg_hash *eimg_hash_new(int alg);           /* NULL on allocation failure */
int eimg_hash_update(eimg_hash *h, const void *data, size_t len);
int eimg_hash_final(eimg_hash *h, uint8_t *out); /* out: 32/48/64 bytes; h can be reused after */
void eimg_hash_free(eimg_hash *h);
size_t eimg_hash_size(int alg);

void eimg_sha256(const void *data, size_t len, uint8_t out[32]);
void eimg_sha384(const void *data, size_t len, uint8_t out[48]);

#endif
