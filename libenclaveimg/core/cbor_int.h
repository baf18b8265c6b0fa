/* SPDX-License-Identifier: Apache-2.0 */
/* Private: strict loading of untrusted CBOR (cbor_check.c). */
#ifndef EIMG_CBOR_INT_H
#define EIMG_CBOR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

#include "eimg/error.h"

struct eimg_cbor_limits {
	unsigned max_depth;   /* nesting of arrays and maps, at most 16 */
	size_t max_items;     /* data items in all */
	bool allow_null;      /* accept null (the NSM writes it for absent fields) */
};

/* Checks buf is exactly one CBOR item within the limits (see cbor_check.c),
 * then loads it.  Errors name source and what ("payload", ...). */
int eimg_cbor_load_strict(const char *source, const char *what, const uint8_t *buf, size_t len,
			  const struct eimg_cbor_limits *lim, cbor_item_t **out, eimg_error *err);

/* Whether it is the definite text string s. */
bool eimg_cbor_text_is(const cbor_item_t *it, const char *s);
/* Copies the definite byte string it (the caller checked its type) into
 * malloc'ed memory (at least one byte allocated, so *out is never NULL). */
int eimg_cbor_bstr_dup(const cbor_item_t *it, uint8_t **out, size_t *len, eimg_error *err);

#endif
