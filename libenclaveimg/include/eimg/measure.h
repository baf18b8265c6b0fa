/* SPDX-License-Identifier: Apache-2.0 */
/* Building and measuring images: the operations the tools share.
 *
 * eimg_build() turns a manifest into an image; eimg_sgx_image_open() turns
 * an image back into its parsed manifest, ELF and page layout and recomputes
 * MRENCLAVE from content, never trusting the recorded measurement.json. */
#ifndef EIMG_MEASURE_H
#define EIMG_MEASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/elf.h"
#include "eimg/error.h"
#include "eimg/image.h"
#include "eimg/layout.h"
#include "eimg/manifest.h"

#define EIMG_MEASUREMENT_FORMAT "enclave-measurement 1"

/* Limits on build inputs (enclave-build(1)). */
#define EIMG_MAX_ELF_FILE   (512ull << 20)  /* enclave ELF file */
#define EIMG_MAX_INPUT_FILE (256ull << 20)  /* one measured file */
#define EIMG_MAX_KEY_FILE   (64u << 10)     /* one user key (PEM) */

struct eimg_sgx_measurement {
	uint8_t mrenclave[32];
	uint64_t enclave_size;
	uint32_t threads, ssa_frames, ssa_frame_size;
	uint64_t heap_size, stack_size;
	uint64_t npages;      /* pages added (all measured) */
	uint64_t entry;       /* OENTRY */
	int mode;             /* enum eimg_mode */
};

/* An SGX image opened for measuring, signing or loading. */
typedef struct eimg_sgx_image {
	const eimg_image *image;     /* borrowed */
	eimg_manifest *manifest;     /* parsed from manifest.json */
	eimg_elf elf;                /* borrows image->elf */
	eimg_layout *layout;
	struct eimg_sgx_measurement m;
} eimg_sgx_image;

/* Recomputes everything from the image's content.  Fails with EIMG_EINVAL for
 * malformed content (non-canonical manifest, members not matching the
 * manifest, bad ELF) and EIMG_EVERIFY when the recorded measurement.json
 * disagrees with the recomputed one (the image was altered). img must
 * outlive the result. */
int eimg_sgx_image_open(const eimg_image *img, const char *source, eimg_sgx_image **out, eimg_error *err);
void eimg_sgx_image_free(eimg_sgx_image *s);

/* Convenience: just the measurement of an SGX image. */
int eimg_measure_image(const eimg_image *img, struct eimg_sgx_measurement *out, eimg_error *err);

struct eimg_build_result {
	int target;                    /* enum eimg_target */
	struct eimg_sgx_measurement sgx;
	uint8_t pcr[3][48];            /* Nitro: PCR0..2 */
};

struct eimg_progress;
struct eimg_build_options {
	const char *manifest_path;
	uint64_t mtime;                /* SOURCE_DATE_EPOCH or 0 */
	struct eimg_progress *progress; /* long steps (eimg/progress.h); may be NULL */
	/* The path eimg_image_write_file() will be given, if known: a Nitro EIF is
	 * then streamed straight into that output's temporary file (and not
	 * copied when the image is written) or a scratch file beside it.
	 * NULL: a scratch file in $TMPDIR or /tmp. */
	const char *output;
	/* Nitro: the EIF is also written to this file as it is streamed (not
	 * "-"); eimg_image_write_file puts it in place after the image (both
	 * or neither), and eimg_image_free removes it if the image never is. */
	const char *eif_output;
};

/* Builds the image described by a manifest file.  *out is a complete image
 * ready for eimg_image_write_file(). */
int eimg_build(const struct eimg_build_options *opt, eimg_image **out, struct eimg_build_result *res,
	       eimg_error *err);

/* The informative measurement record stored as measurement.json (canonical JSON). */
int eimg_measurement_json_sgx(const struct eimg_sgx_measurement *m, char **out, size_t *len, eimg_error *err);

/* The Nitro measurement record; pcr012 holds PCR0, PCR1, PCR2 (3 x 48 bytes). */
int eimg_measurement_json_nitro(const uint8_t *pcr012, char **out, size_t *len, eimg_error *err);

/* Reopens a Nitro image: checks the manifest is canonical and equals the
 * copy inside the application ramdisk, audits the EIF (recomputing every
 * PCR) and compares with the recorded measurement.json (EIMG_EVERIFY when
 * they differ).  *out is the EIF's audit report (eimg/nitro.h). */
struct eimg_nitro_report;
int eimg_nitro_image_open(const eimg_image *img, const char *source, struct eimg_nitro_report **out,
			  eimg_error *err);
/* The same with audit options (eimg/nitro.h: the time, threads, progress,
 * a copy of the bytes read for signing in one pass); opts may be NULL.  Both
 * report "hashing" to the image's progress (eimg_image_set_progress) unless
 * the options name another. */
struct eimg_nitro_audit_opts;
int eimg_nitro_image_open_opts(const eimg_image *img, const char *source, const struct eimg_nitro_audit_opts *opts,
			       struct eimg_nitro_report **out, eimg_error *err);

/* What kind of input a buffer holds, from its first bytes (up to 512): the
 * one detection every tool uses (core/detect.c), so that what one tool
 * refuses, all refuse alike.  Anything that looks like a tar archive (a
 * ustar header, a first member named EIMAGE) or a compressed stream is an
 * image: the image reader then says precisely what is wrong with it. */
enum eimg_input_kind { EIMG_INPUT_UNKNOWN = 0, EIMG_INPUT_IMAGE, EIMG_INPUT_SGXS, EIMG_INPUT_EIF,
		       EIMG_INPUT_SIGSTRUCT, EIMG_INPUT_ELF };
int eimg_detect_input(const uint8_t *head, size_t len);
/* The same for a file ("-": not read, reported as an image, which the image
 * reader takes from standard input).  Fails for a file that cannot be opened
 * or read, or a directory. */
int eimg_detect_file(const char *path, int *kind, eimg_error *err);
/* The message for an input of no known kind (EIMG_EINVAL), the same in every tool. */
int eimg_input_unknown(const char *path, eimg_error *err);

#endif
