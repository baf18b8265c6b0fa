/* SPDX-License-Identifier: Apache-2.0 */
/* Expected values (enclave-measure --expect, enclave-run --expect): exact
 * equality checks on named measurements, each mismatch reported with the
 * expected and the actual value.
 *
 * Syntax: whitespace-separated tokens; "#" starts a comment to end of line.
 *   <64 hex digits>        MRENCLAVE
 *   mrenclave:<64 hex>     MRENCLAVE
 *   mrsigner:<64 hex>      MRSIGNER (needs a signed image)
 *   PCR0:<96 hex> .. PCR8:<96 hex>   Nitro PCRs
 * Each name at most once. */
#ifndef EIMG_EXPECT_H
#define EIMG_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"

#define EIMG_EXPECT_MAX_TEXT 65536
#define EIMG_NPCR 9

/* The expected values.  Checked against an eimg_identity (eimg/constraint.h):
 * MRENCLAVE is known when has_sgx, MRSIGNER when has_sgx and not
 * no_sigstruct, PCRn when bit n of pcr_mask is set. */
struct eimg_expect {
	bool has_mrenclave, has_mrsigner;
	uint8_t mrenclave[32], mrsigner[32];
	uint16_t pcr_mask;          /* bit i: pcr[i] is expected */
	uint8_t pcr[EIMG_NPCR][48];
};

/* Parses one or more --expect strings into e (accumulating; call with a
 * zeroed e first).  source names the origin ("--expect" or a file name). */
int eimg_expect_parse(struct eimg_expect *e, const char *text, const char *source, eimg_error *err);
/* Reads expectations from a file (at most EIMG_EXPECT_MAX_TEXT bytes). */
int eimg_expect_parse_file(struct eimg_expect *e, const char *path, eimg_error *err);
bool eimg_expect_empty(const struct eimg_expect *e);

/* EIMG_OK when every expected value equals the actual one.  Otherwise
 * EIMG_EVERIFY, with err->msg listing every difference:
 * "MRENCLAVE differs: expected X, actual Y; PCR2 differs: ...".  A value that
 * is expected but unknown (e.g. mrsigner of an unsigned image) is a mismatch. */
struct eimg_identity;
int eimg_expect_check(const struct eimg_expect *e, const struct eimg_identity *actual, eimg_error *err);

#endif
