/* SPDX-License-Identifier: Apache-2.0 */
/* Finding and checking the statements that refer to a pulled image: the
 * referrers API of distribution-spec 1.1, or its fallback tag sha256-<hex>. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/internal.h"
#include "oci/oci_int.h"

/* The index of referrers of digest; *m NULL when there are none. */
static int list_referrers(struct oci_client *c, const char *repo, const char *digest, struct oci_manifest **m,
			  eimg_error *err)
{
	char path[700], tag[80], got[EIMG_OCI_DIGEST_MAX];
	struct oci_resp rs;
	int rc;
	*m = NULL;
	snprintf(path, sizeof(path), "/v2/%s/referrers/%s?artifactType=%s", repo, digest, "application%2Fvnd.in-toto%2Bjson");
	struct oci_req rq = {.method = "GET", .path = path, .accept = OCI_INDEX_TYPE, .body_fd = -1, .sink_fd = -1,
			     .max = EIMG_OCI_MAX_MANIFEST};
	if ((rc = oci_request(c, &rq, &rs, err)))
		return rc;
	if (rs.status != 200 && rs.status != 404) {
		rc = oci_status_error(c, &rs, "listing referrers", err);
		oci_resp_clear(&rs);
		return rc;
	}
	if (rs.status == 404) { /* no referrers API: the fallback tag */
		oci_resp_clear(&rs);
		snprintf(tag, sizeof(tag), "sha256-%s", digest + 7);
		rc = oci_get_manifest(c, repo, tag, OCI_INDEX_TYPE, &rs, got, err);
		if (rc == EIMG_EINVAL && strstr(err->msg, "HTTP 404")) {
			eimg_error_clear(err);
			return EIMG_OK;
		}
		if (rc)
			return rc;
	}
	rc = eimg_oci_manifest_parse(oci_client_name(c), rs.body, rs.len, m, err);
	oci_resp_clear(&rs);
	if (rc == EIMG_OK && !(*m)->is_index) {
		eimg_oci_manifest_free(*m);
		*m = NULL;
		rc = eimg_err(err, EIMG_EINVAL, oci_client_name(c), "the referrers list is not an OCI index");
	}
	return rc;
}

/* One referrer: its manifest, its subject, its envelope, the signature and
 * the predicate. */
static int check_one(struct oci_client *c, const char *repo, const struct oci_desc *d, const char *subject,
		     const char *pubkey, const json_t *pred, eimg_error *err)
{
	struct oci_resp rs;
	struct oci_manifest *m = NULL;
	char got[EIMG_OCI_DIGEST_MAX], source[200];
	int rc = oci_get_manifest(c, repo, d->digest, OCI_MANIFEST_TYPE, &rs, got, err);
	if (rc)
		return rc;
	rc = eimg_oci_manifest_parse(oci_client_name(c), rs.body, rs.len, &m, err);
	oci_resp_clear(&rs);
	if (rc)
		return rc;
	snprintf(source, sizeof(source), "statement %s", d->digest);
	if (m->is_index || !m->has_subject || strcmp(m->subject.digest, subject) != 0) {
		rc = eimg_err(err, EIMG_EVERIFY, source, "does not refer to %s", subject);
		goto out;
	}
	rc = eimg_err(err, EIMG_EVERIFY, source, "holds no %s layer", EIMG_OCI_DSSE_LAYER);
	for (size_t i = 0; i < m->ndescs; i++) {
		if (strcmp(m->descs[i].media_type, EIMG_OCI_DSSE_LAYER) != 0)
			continue;
		rc = oci_get_blob(c, repo, &m->descs[i], -1, EIMG_OCI_MAX_ENVELOPE, &rs, err);
		if (rc == EIMG_OK)
			rc = oci_statement_verify(source, rs.body, rs.len, pubkey, subject, pred, err);
		oci_resp_clear(&rs);
		if (rc != EIMG_EVERIFY)
			break;
	}
out:
	eimg_oci_manifest_free(m);
	return rc;
}

int eimg_oci_verify_statement(const struct eimg_oci_pulled *p, const char *pubkey_path,
			      const struct eimg_oci_options *opts, struct eimg_oci_verified *out, eimg_error *err)
{
	struct eimg_oci_ref ref;
	struct eimg_oci_verified v;
	struct oci_client *c = NULL;
	struct oci_manifest *idx = NULL;
	json_t *pred = NULL;
	int target, rc;
	memset(&v, 0, sizeof(v));
	if ((rc = eimg_oci_ref_parse(p->resolved, &ref, err)) || (rc = oci_predicate_of_file(p->path, &pred, &target, err)) ||
	    (rc = oci_client_new(&ref, opts, &c, err)) || (rc = list_referrers(c, ref.repo, p->digest, &idx, err)))
		goto out;
	rc = eimg_err(err, EIMG_EVERIFY, p->resolved, "no measurement statement refers to this image");
	for (size_t i = 0; idx && i < idx->ndescs && v.examined < EIMG_OCI_MAX_REFERRERS; i++) {
		const struct oci_desc *d = &idx->descs[i];
		if (d->artifact_type[0] && strcmp(d->artifact_type, EIMG_OCI_STATEMENT_TYPE) != 0)
			continue;
		v.examined++;
		rc = check_one(c, ref.repo, d, p->digest, pubkey_path, pred, err);
		if (rc == EIMG_OK) {
			strcpy(v.statement_digest, d->digest);
			break;
		}
		if (rc != EIMG_EVERIFY)
			break;
	}
	if (rc == EIMG_OK)
		*out = v;
out:
	json_decref(pred);
	eimg_oci_manifest_free(idx);
	oci_client_free(c);
	return rc;
}

int eimg_oci_fetch(const char *ref, const struct eimg_oci_options *opts, const char *statement_key,
		   struct eimg_oci_pulled *out, struct eimg_oci_verified *verified, eimg_error *err)
{
	struct eimg_oci_pulled p;
	struct eimg_oci_verified v;
	memset(&v, 0, sizeof(v));
	int rc = eimg_oci_pull(ref, opts, &p, err);
	if (rc)
		return rc;
	if (statement_key && (rc = eimg_oci_verify_statement(&p, statement_key, opts, &v, err)) != EIMG_OK) {
		eimg_oci_pulled_remove(&p);
		return rc;
	}
	*out = p;
	if (verified)
		*verified = v;
	return EIMG_OK;
}
