/* SPDX-License-Identifier: Apache-2.0 */
/* User public keys: normalised to DER SubjectPublicKeyInfo before they are measured. */
#ifndef EIMG_KEYS_H
#define EIMG_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"

#define EIMG_MAX_PUBKEY_DER 16384

/* Parses a PEM or DER public key (or an X.509 certificate: its key is taken)
 * and returns its DER SubjectPublicKeyInfo.  Private keys are refused so that
 * one can never be measured into an image by mistake.  source names the input. */
int eimg_pubkey_to_der(const char *source, const uint8_t *in, size_t len, uint8_t **der, size_t *derlen,
		       eimg_error *err);

/* A short description like "RSA 3072" or "EC P-256" of a DER SPKI, into buf. */
int eimg_pubkey_describe(const uint8_t *der, size_t len, char *buf, size_t size);

#endif
