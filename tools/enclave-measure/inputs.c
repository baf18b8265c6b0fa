/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-measure INPUT: an image, an SGXS stream, a Nitro EIF or another
 * tool chain's ELF, measured by its kind, printed and judged (measure.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enclave-measure/measure.h"

static int measure_sgxs(const struct opts *o)
{
	eimg_error err;
	struct eimg_sgxs_info info;
	struct eimg_identity id;

	eimg_error_clear(&err);
	if (o->sgxs_out) {
		return tool_usage("--sgxs: the input '%s' is already an SGXS stream", o->input);
	}
	int rc = eimg_sgxs_read_file(o->input, &info, &err);
	if (rc)
		return tool_fail(&err, rc);
	/* An SGXS stream says nothing about the mode: judge it as hardware. */
	eimg_identity_sgx(info.mrenclave, NULL, EIMG_ID_HARDWARE, false, &id);
	char *text = NULL;
	rc = tool_want_json() ? eimg_report_sgxs_json(&info, o->input, &text, &err)
			      : eimg_report_sgxs_text(&info, o->input, &text, &err);
	if (rc)
		return tool_fail(&err, rc);
	int ex = tool_emit(text);
	if (ex)
		return ex;
	return measure_check_identity(o, &id, o->input, (uint64_t)time(NULL));
}

/* A Nitro EIF, plain or from an image (img): print the audit, then judge it. */
static int nitro_finish(const struct opts *o, eimg_nitro_report *rep, const eimg_image *img)
{
	eimg_error err;
	struct eimg_identity id;
	char *text = NULL;
	int rc, ex;

	eimg_error_clear(&err);
	rc = tool_want_json() ? eimg_nitro_report_json(rep, &text, &err) : eimg_nitro_report_text(rep, &text, &err);
	if (rc == EIMG_OK && img)
		rc = eimg_image_coverage_add(img, tool_want_json(), &text, &err);
	if (rc) {
		free(text);
		return tool_fail(&err, rc);
	}
	ex = tool_emit(text);
	if (ex)
		return ex;
	rc = eimg_nitro_report_verdict(rep, &err);
	if (rc)
		return tool_fail(&err, rc);
	eimg_nitro_report_identity(rep, &id);
	return measure_check_identity(o, &id, o->input, (uint64_t)time(NULL));
}

/* An Intel SGX SDK or Open Enclave ELF. */
static int measure_foreign(const struct opts *o)
{
	eimg_error err;
	struct eimg_identity id;
	struct eimg_foreign_measure_opts fo = { .sgxs_out = o->sgxs_out, .json = tool_want_json() };
	bool have_id = false;
	char *text = NULL;

	eimg_error_clear(&err);
	int rc = eimg_foreign_measure(o->input, &fo, &text, &id, &have_id, &err);
	if (rc)
		return tool_fail(&err, rc);
	int ex = tool_emit(text);
	if (ex || have_id)
		return ex ? ex : measure_check_identity(o, &id, o->input, (uint64_t)time(NULL));
	if (!eimg_expect_empty(&o->x.expect) || o->x.constraint)
		return tool_fail_file(EIMG_EVERIFY, o->input,
				      "MRENCLAVE was not recomputed: nothing to check --expect/--constraint against");
	return EIMG_EXIT_OK;
}

static int measure_eif(const struct opts *o)
{
	eimg_error err;
	eimg_nitro_report *rep = NULL;

	eimg_error_clear(&err);
	if (o->sgxs_out) {
		return tool_usage("--sgxs: '%s' is a Nitro EIF, not an SGX enclave", o->input);
	}
	struct eimg_nitro_audit_opts ao = { .progress = tool_progress(tool_chatty()) };
	int rc = eimg_nitro_audit_file(o->input, &ao, &rep, &err);
	if (rc)
		return tool_fail(&err, rc);
	int ex = nitro_finish(o, rep, NULL);
	eimg_nitro_report_free(rep);
	return ex;
}

static int measure_image(const struct opts *o)
{
	eimg_error err;
	eimg_image *img = NULL;
	eimg_sgx_image *s = NULL;
	struct eimg_admit_result *res = NULL;
	int rc, ex;

	eimg_error_clear(&err);
	rc = eimg_image_read_file(o->input, &img, &err);
	if (rc)
		return tool_fail(&err, rc);
	eimg_image_set_progress(img, tool_progress(tool_chatty())); /* measuring, or the Nitro audit's hashing */
	if (eimg_image_eif(img)) {
		eimg_nitro_report *rep = NULL;
		if (o->sgxs_out) {
			eimg_image_free(img);
			return tool_usage("--sgxs: '%s' is a Nitro image, not an SGX enclave", o->input);
		}
		rc = eimg_nitro_image_open(img, o->input, &rep, &err);
		ex = rc ? tool_fail(&err, rc) : nitro_finish(o, rep, img);
		eimg_image_free(img);
		eimg_nitro_report_free(rep);
		return ex;
	}
	rc = eimg_sgx_image_open(img, o->input, &s, &err);
	if (rc) {
		ex = tool_fail(&err, rc);
		goto out;
	}
	if (o->sgxs_out) {
		rc = eimg_sgxs_write_file(s->layout, o->sgxs_out, &err);
		if (rc) {
			ex = tool_fail(&err, rc);
			goto out;
		}
	}
	/* With --sgxs -, standard output holds the stream alone (its SHA-256 is MRENCLAVE). */
	if (!o->sgxs_out || strcmp(o->sgxs_out, "-") != 0) {
		char *text = NULL;
		rc = tool_want_json() ? eimg_report_sgx_json(s, o->input, &text, &err)
				      : eimg_report_sgx_text(s, o->input, &text, &err);
		if (rc == EIMG_OK && (rc = eimg_image_coverage_add(img, tool_want_json(), &text, &err))) {
			free(text);
			text = NULL;
		}
		ex = rc ? tool_fail(&err, rc) : tool_emit(text);
		if (ex)
			goto out;
	}
	/* The signature's MRSIGNER, ISVPRODID and ISVSVN only count once it
	 * verifies and signs this very enclave (a copied or forged SIGSTRUCT
	 * must not satisfy mrsigner:, S: or PROD:): the admission verifies it
	 * when there is anything to check. */
	struct eimg_admit_policy p = measure_policy(o, (uint64_t)time(NULL));
	if (!(res = malloc(sizeof *res))) {
		ex = tool_message(EIMG_EXIT_ERROR, "out of memory");
		goto out;
	}
	rc = eimg_admit_sgx(s, o->input, &p, res, &err);
	ex = rc && rc != EIMG_EVERIFY ? tool_fail(&err, rc) : measure_report(o, res, o->input);
out:
	free(res);
	eimg_sgx_image_free(s);
	eimg_image_free(img);
	return ex;
}

int measure_input(const struct opts *o)
{
	eimg_error err;
	int kind = 0, rc = tool_detect_file(o->input, &kind, &err);

	if (rc)
		return tool_fail(&err, rc);
	switch (kind) {
	case EIMG_INPUT_IMAGE: return measure_image(o);
	case EIMG_INPUT_SGXS: return measure_sgxs(o);
	case EIMG_INPUT_EIF: return measure_eif(o);
	case EIMG_INPUT_ELF: return measure_foreign(o);
	case EIMG_INPUT_SIGSTRUCT:
		/* Through eimg_error_format: one line whatever the file name holds. */
		return tool_fail_file(EIMG_EINVAL, o->input, "a SIGSTRUCT: show and verify it with 'enclave-sign verify'");
	default:
		return tool_fail(&err, eimg_input_unknown(o->input, &err));
	}
}
