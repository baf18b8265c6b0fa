/* SPDX-License-Identifier: Apache-2.0 */
/* Private: the pieces of enclave-measure --diff (core/diff.c) that know a
 * target: SGX page layouts and SGXS streams (sgx/layout_diff.c), EIFs and
 * their ramdisks (nitro/eif_diff.c). */
#ifndef EIMG_DIFF_INT_H
#define EIMG_DIFF_INT_H

#include <stdbool.h>
#include <stdint.h>
#include "eimg/diff.h"
#include "eimg/layout.h"
#include "eimg/elf.h"
#include "core/internal.h"

/* Records one difference (counted always, listed up to EIMG_DIFF_MAX_ITEMS). */
void eimg_diff_add(eimg_diff *d, bool measured, const char *where, const char *fmt, ...) EIMG_PRINTF(4, 5);

/* Two SGX layouts (elf: the segments, to name them; may be NULL). */
void eimg_diff_layouts(eimg_diff *d, const eimg_layout *a, const eimg_elf *ea, const eimg_layout *b,
		       const eimg_elf *eb);

/* Two SGXS files, record by record (both already validated). */
int eimg_diff_sgxs_files(eimg_diff *d, const char *a, const char *b, eimg_error *err);

/* A reader over an EIF: a file (fd) or a buffer. */
struct eimg_diff_src {
	const char *name;
	int fd;                 /* -1: use buf */
	const uint8_t *buf;
	uint64_t len;
	struct eimg_progress *progress; /* the audit's "hashing"; may be NULL */
};
int eimg_diff_eifs(eimg_diff *d, const struct eimg_diff_src *a, const struct eimg_diff_src *b, eimg_error *err);

#endif
