/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the files of crypto/ only: they take OpenSSL types, so
 * nothing outside crypto/ includes this header (crypto.h is the API). */
#ifndef EIMG_OSSL_INT_H
#define EIMG_OSSL_INT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include "eimg/error.h"

/* The last queued OpenSSL error as text into buf (the queue cleared). */
const char *eimg_ossl_reason(char *buf, size_t size);
/* Fills err with code, file and "<what>: <OpenSSL's reason>"; returns code. */
int eimg_ossl_err(eimg_error *err, int code, const char *file, const char *what);

/* Moves n > 0 bytes that OpenSSL allocated at p into malloc'ed memory
 * (*out, *len); frees p either way. */
int eimg_ossl_take(unsigned char *p, int n, uint8_t **out, size_t *len, eimg_error *err);

/* Verifies an ECDSA signature given as r||s (two halves of rslen bytes,
 * rslen even and > 0, checked by the caller) over msg with pk and md.  A
 * signature that does not verify fails with EIMG_EVERIFY, the error naming
 * source and saying `mismatch`.  Clears OpenSSL's error queue. */
int eimg_ossl_verify_rs(EVP_PKEY *pk, const EVP_MD *md, const char *source, const uint8_t *msg, size_t msglen,
			const uint8_t *rs, size_t rslen, const char *mismatch, eimg_error *err);

#endif
