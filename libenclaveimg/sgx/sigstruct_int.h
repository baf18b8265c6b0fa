/* SPDX-License-Identifier: Apache-2.0 */
/* Private: a SIGSTRUCT's fields as a jansson object, for the library's own
 * JSON documents (the image report); a signer's public modulus.  Not
 * installed. */
#ifndef EIMG_SIGSTRUCT_INT_H
#define EIMG_SIGSTRUCT_INT_H

#include <jansson.h>
#include "eimg/sigstruct.h"

/* A new object (NULL when out of memory). */
json_t *eimg_sigstruct_json(const struct eimg_sigstruct *s);

/* The little-endian modulus of the RSA-3072 (e=3) public key in path (a
 * public key, a certificate or an unencrypted private key; signer.c). */
int eimg_sgx_public_modulus(const char *path, uint8_t mod[EIMG_RSA_BYTES], eimg_error *err);

#endif
