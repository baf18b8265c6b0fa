/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-measure's parts: the options (main.c), measuring an input by its
 * kind (inputs.c), checking an attestation document (attest.c), and the
 * admission's verdict on what either found (judge.c). */
#ifndef EIMG_MEASURE_TOOL_H
#define EIMG_MEASURE_TOOL_H

#include <stdbool.h>
#include <stdint.h>

#include <enclaveimg.h>
#include "eimg/attest.h"
#include "cli/pull.h"
#include "cli/tool.h"

struct opts {
	const char *input;
	const char *attestation;
	const char *root;
	struct eimg_check_time when; /* --at, --max-age */
	bool when_given;
	const char *sgxs_out;
	const char *eif_out;
	const char *pcr8_cert;
	bool json, quiet;
	const char *print;
	bool diff;
	struct tool_expectations x;
	struct tool_pull pull;       /* INPUT oci://... */
};

/* Measures o->input by its kind (image, SGXS, EIF, another tool chain's
 * ELF), prints it and judges it: the exit code. */
int measure_input(const struct opts *o);
/* Checks the attestation document o->attestation, prints its claims and
 * judges them: the exit code. */
int measure_attestation(const struct opts *o);
/* --expect and --constraint against what was recomputed (now: the time of
 * the check, for constraints such as EXPIRE): the exit code. */
int measure_check_identity(const struct opts *o, const struct eimg_identity *id, const char *source, uint64_t now);
/* The admission's reasons, printed: the exit code. */
int measure_report(const struct opts *o, const struct eimg_admit_result *res, const char *source);
/* The policy enclave-measure judges by: as built, o's expectations. */
struct eimg_admit_policy measure_policy(const struct opts *o, uint64_t now);

#endif
