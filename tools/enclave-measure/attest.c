/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-measure --attestation DOC: an enclave-attestation(5) document or a
 * Nitro NSM one, verified, its claims printed, then judged (measure.h). */
#include <stdio.h>
#include <stdlib.h>

#include "eimg/nsm.h"
#include "enclave-measure/measure.h"

/* An enclave-attestation(5) document (JSON). */
static int attestation_json(const struct opts *o, const char *doc, size_t len)
{
	eimg_error err;
	struct eimg_attest_result res;
	char *text = NULL;
	int rc, ex;

	eimg_error_clear(&err);
	if (o->root) {
		return tool_usage("--root: '%s' is an enclave-attestation document, not a Nitro one",
			o->attestation);
	}
	/* Verify first (signature or quote, binding, consistency), show the
	 * claims, then judge them: the claims are printed also on a mismatch. */
	rc = eimg_attestation_check(o->attestation, doc, len, NULL, &o->when, NULL, &res, NULL, 0, NULL, &err);
	if (rc)
		return tool_fail(&err, rc);
	rc = tool_want_json() ? eimg_attest_report_json(&res, o->attestation, &text, &err)
		     : eimg_attest_report_text(&res, o->attestation, &text, &err);
	if (rc) {
		eimg_attest_result_clear(&res);
		return tool_fail(&err, rc);
	}
	ex = tool_emit(text);
	if (!ex)
		ex = measure_check_identity(o, &res.id, o->attestation, res.checked_at);
	eimg_attest_result_clear(&res);
	return ex;
}

/* A Nitro NSM attestation document (COSE_Sign1). */
static int attestation_nsm(const struct opts *o, const uint8_t *doc, size_t len)
{
	eimg_error err;
	struct eimg_nsm_doc *d = NULL;
	struct eimg_identity id;
	char *text = NULL;
	int rc, ex;

	eimg_error_clear(&err);
	rc = eimg_nsm_attest_check(o->attestation, doc, len, o->root, &o->when, &d, &err);
	if (rc)
		return tool_fail(&err, rc);
	rc = tool_want_json() ? eimg_nsm_report_json(d, o->attestation, &text, &err)
		     : eimg_nsm_report_text(d, o->attestation, &text, &err);
	if (rc) {
		eimg_nsm_doc_free(d);
		return tool_fail(&err, rc);
	}
	ex = tool_emit(text);
	if (!ex && (o->x.constraint || !eimg_expect_empty(&o->x.expect))) {
		if (!d->chain_checked) {
			fprintf(stderr, "enclave-measure: '%s': the certificate chain was NOT checked (no --root): "
				"the document is unverified, so no constraint or expected value is accepted\n",
				o->attestation);
			ex = EIMG_EXIT_VERIFY;
		} else {
			eimg_nsm_identity(d, &id);
			ex = measure_check_identity(o, &id, o->attestation, d->checked_at);
		}
	}
	eimg_nsm_doc_free(d);
	return ex;
}

int measure_attestation(const struct opts *o)
{
	eimg_error err;
	uint8_t *doc = NULL;
	size_t len = 0;
	int ex, kind = 0;

	eimg_error_clear(&err);
	if (o->sgxs_out)
		return tool_usage("--sgxs: not with --attestation");
	int rc = eimg_attest_doc_read_file(o->attestation, &doc, &len, &kind, &err);
	if (rc)
		return tool_fail(&err, rc);
	if (kind == EIMG_ATTEST_DOC_JSON)
		ex = attestation_json(o, (const char *)doc, len);
	else
		ex = attestation_nsm(o, doc, len);
	free(doc);
	return ex;
}
