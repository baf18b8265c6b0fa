/* SPDX-License-Identifier: Apache-2.0 */
/* Private: the OpenSSL side of Nitro attestation documents (crypto_chain.c). */
#ifndef EIMG_NSM_INT_H
#define EIMG_NSM_INT_H

#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"
#include "eimg/nsm.h"

struct eimg_cert_info {
	char subject[256], issuer[256]; /* RFC 2253, escaped */
	int64_t not_before, not_after;  /* Unix seconds */
};

/* Parses one DER certificate (nothing after it) for display; EIMG_EINVAL
 * naming what when it is not one. */
int eimg_chain_cert_info(const char *source, const char *what, const uint8_t *der, size_t len,
			 struct eimg_cert_info *out, eimg_error *err);

/* Verifies an ES384 signature (r||s, 96 bytes) over msg with the P-384 key
 * of the DER certificate cert.  EIMG_EVERIFY when it does not verify. */
int eimg_chain_verify_es384(const char *source, const uint8_t *cert, size_t certlen, const uint8_t *msg,
			    size_t msglen, const uint8_t *rs, size_t rslen, eimg_error *err);

/* Verifies the leaf through the untrusted certificates ca[0..nca) to root
 * (DER), the only trust anchor, at time now.  root_subject receives the
 * root's subject.  EIMG_EVERIFY naming OpenSSL's reason when it does not. */
int eimg_chain_verify(const char *source, const uint8_t *leaf, size_t leaflen, uint8_t *const *ca,
		      const size_t *calen, size_t nca, const uint8_t *root, size_t rootlen, uint64_t now,
		      char *root_subject, size_t rsize, eimg_error *err);

#endif
