/* SPDX-License-Identifier: Apache-2.0 */
/* Why two builds differ: enclave-measure --diff A B (enclave-measure(1)).
 *
 * Both inputs are of one kind (two images, two EIFs or two SGXS streams).
 * Everything is recomputed from content: the measurements (MRENCLAVE, or
 * PCR0/1/2), then every difference named as precisely as the inputs allow:
 * manifest fields (by JSON path), members (only in one, or differing, with
 * sizes and SHA-256), pages (the region, the ELF segment, the page range and
 * how many pages differ), the SGXS records where the streams part ways, EIF
 * sections, and the files of a ramdisk (path, mode, size, SHA-256).
 * Differences in what is not measured (runtime.json, signatures, EIF
 * metadata) are listed too and marked so. */
#ifndef EIMG_DIFF_H
#define EIMG_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"

#define EIMG_DIFF_MAX_ITEMS 200  /* differences listed; the rest are counted */

struct eimg_diff_item {
	char where[128];   /* "manifest", "member enclave.elf", "pages", "EIF section 2 (ramdisk)", ... */
	char what[384];    /* one line: what differs, A's value first */
	bool measured;     /* false: outside the measurement (informative) */
};

typedef struct eimg_diff {
	int kind;                       /* enum eimg_input_kind of both inputs */
	int target;                     /* images: enum eimg_target */
	bool measurement_equal;         /* MRENCLAVE, or PCR0, PCR1 and PCR2, equal */
	char measure_a[3][97], measure_b[3][97]; /* hex: MRENCLAVE in [0]; PCR0..2 for Nitro */
	unsigned nmeasure;              /* 1 (SGX) or 3 (Nitro) */
	size_t n;                       /* items listed */
	size_t total;                   /* differences found (>= n) */
	struct eimg_diff_item *items;
} eimg_diff;

/* Compares two files.  EIMG_OK: *out filled (free with eimg_diff_free), also
 * when they differ; EIMG_EINVAL for inputs of different kinds or that do not
 * parse; EIMG_EIO when one cannot be read. */
int eimg_diff_files(const char *a, const char *b, eimg_diff **out, eimg_error *err);
/* The same, reporting its long steps (an SGX image's "measuring", an EIF's
 * "hashing", one input after the other) to progress, which may be NULL. */
struct eimg_progress;
int eimg_diff_files_progress(const char *a, const char *b, struct eimg_progress *progress, eimg_diff **out,
			     eimg_error *err);
void eimg_diff_free(eimg_diff *d);

/* Text (one line per difference) and JSON (sorted keys); malloc'ed, ending
 * in a newline. */
int eimg_diff_report_text(const eimg_diff *d, const char *a, const char *b, char **out, eimg_error *err);
int eimg_diff_report_json(const eimg_diff *d, const char *a, const char *b, char **out, eimg_error *err);

#endif
