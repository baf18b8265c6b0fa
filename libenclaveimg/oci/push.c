/* SPDX-License-Identifier: Apache-2.0 */
/* Pushing an image: blobs (the empty config, the .eimg, for Nitro the EIF),
 * the artifact manifest under its tag, and the signed statement as a
 * referrer (enclave-oci(7)). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/internal.h"
#include "eimg/hash.h"
#include "eimg/image.h"
#include "eimg/manifest.h"
#include "eimg/measure.h"
#include "oci/oci_int.h"

struct blob {
	const uint8_t *data;     /* in memory, or */
	int fd;                  /* from a file */
	uint64_t size;
	char digest[EIMG_OCI_DIGEST_MAX];
};

static int hash_fd(int fd, const char *path, struct blob *b, eimg_error *err)
{
	uint8_t buf[65536], sha[32];
	eimg_hash *h = eimg_hash_new(EIMG_SHA256);
	ssize_t n;
	b->size = 0;
	if (!h)
		return eimg_err_nomem(err);
	while ((n = pread(fd, buf, sizeof(buf), (off_t)b->size)) > 0) {
		eimg_hash_update(h, buf, (size_t)n);
		b->size += (uint64_t)n;
	}
	eimg_hash_final(h, sha);
	eimg_hash_free(h);
	if (n < 0)
		return eimg_err_sys(err, path, "cannot read");
	oci_digest_format(sha, b->digest);
	return EIMG_OK;
}

static void mem_blob(const uint8_t *data, size_t len, struct blob *b)
{
	uint8_t sha[32];
	eimg_sha256(data, len, sha);
	b->data = data;
	b->fd = -1;
	b->size = len;
	oci_digest_format(sha, b->digest);
}

static int push_blob(struct oci_client *c, const char *repo, const struct blob *b, eimg_error *err)
{
	char path[600], url[2600];
	struct oci_resp rs;
	struct oci_req rq = {.method = "HEAD", .path = path, .body_fd = -1, .sink_fd = -1, .max = EIMG_OCI_MAX_SMALL};
	int rc;
	snprintf(path, sizeof(path), "/v2/%s/blobs/%s", repo, b->digest);
	if ((rc = oci_request(c, &rq, &rs, err)) != EIMG_OK)
		return rc;
	if (rs.status == 200) /* already there: content-addressed, nothing to send */
		return EIMG_OK;
	oci_resp_clear(&rs);
	snprintf(path, sizeof(path), "/v2/%s/blobs/uploads/", repo);
	rq.method = "POST";
	if ((rc = oci_request(c, &rq, &rs, err)) != EIMG_OK)
		return rc;
	if (rs.status != 202 || !rs.location[0]) {
		rc = oci_status_error(c, &rs, "starting a blob upload", err);
		oci_resp_clear(&rs);
		return rc;
	}
	const char *loc = rs.location;
	snprintf(url, sizeof(url), "%s%cdigest=%s", loc, strchr(loc, '?') ? '&' : '?', b->digest);
	oci_resp_clear(&rs);
	struct oci_req put = {.method = "PUT", .path = url, .content_type = "application/octet-stream",
			      .body = b->data, .body_fd = b->fd, .body_len = b->size, .sink_fd = -1,
			      .max = EIMG_OCI_MAX_SMALL, .step = "uploading"};
	if ((rc = oci_request(c, &put, &rs, err)) != EIMG_OK)
		return rc;
	if (rs.status != 201)
		rc = oci_status_error(c, &rs, "uploading a blob", err);
	oci_resp_clear(&rs);
	return rc;
}

/* PUTs a manifest under ref (a tag or its digest); checks the digest the
 * registry reports. */
static int put_manifest(struct oci_client *c, const char *repo, const char *ref, const char *json, size_t len,
			const char *what, char digest[EIMG_OCI_DIGEST_MAX], bool *subject_seen, eimg_error *err)
{
	char path[700];
	uint8_t sha[32];
	struct oci_resp rs;
	eimg_sha256(json, len, sha);
	oci_digest_format(sha, digest);
	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", repo, ref && *ref ? ref : digest);
	struct oci_req rq = {.method = "PUT", .path = path, .content_type = strstr(json, "\"manifests\"") ? OCI_INDEX_TYPE
								 : OCI_MANIFEST_TYPE,
			     .body = (const uint8_t *)json, .body_fd = -1, .body_len = len, .sink_fd = -1,
			     .max = EIMG_OCI_MAX_SMALL};
	int rc = oci_request(c, &rq, &rs, err);
	if (rc)
		return rc;
	if (rs.status != 201)
		rc = oci_status_error(c, &rs, what, err);
	else if (rs.digest[0] && strcmp(rs.digest, digest) != 0)
		rc = eimg_err(err, EIMG_EVERIFY, oci_client_name(c), "%s: the registry stored %s, not %s", what,
			      rs.digest, digest);
	if (subject_seen)
		*subject_seen = rs.oci_subject;
	oci_resp_clear(&rs);
	return rc;
}

static void desc_of(const struct blob *b, const char *type, struct oci_desc *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->media_type, sizeof(d->media_type), "%s", type);
	strcpy(d->digest, b->digest);
	d->size = b->size;
}

/* The fallback of distribution-spec 1.1: the index tagged sha256-<hex>. */
static int fallback_tag(struct oci_client *c, const char *repo, const char *subject, const struct oci_desc *d,
			eimg_error *err)
{
	char path[700], tag[80], *json = NULL, dig[EIMG_OCI_DIGEST_MAX];
	size_t len = 0;
	struct oci_resp rs;
	snprintf(tag, sizeof(tag), "sha256-%s", subject + 7);
	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", repo, tag);
	struct oci_req rq = {.method = "GET", .path = path, .accept = OCI_INDEX_TYPE, .body_fd = -1, .sink_fd = -1,
			     .max = EIMG_OCI_MAX_MANIFEST};
	int rc = oci_request(c, &rq, &rs, err);
	if (rc)
		return rc;
	if (rs.status != 200 && rs.status != 404)
		rc = oci_status_error(c, &rs, "reading the referrers tag", err);
	else
		rc = oci_index_add(rs.status == 200 ? rs.body : NULL, rs.status == 200 ? rs.len : 0, d, &json, &len, err);
	oci_resp_clear(&rs);
	if (rc == EIMG_OK)
		rc = put_manifest(c, repo, tag, json, len, "tagging the referrer", dig, NULL, err);
	free(json);
	return rc;
}

static int push_statement(struct oci_client *c, const char *repo, const struct eimg_oci_push_request *req,
			  json_t *pred, struct oci_desc *subject, struct eimg_oci_push_result *res, eimg_error *err)
{
	char *env = NULL, *man = NULL;
	size_t envlen = 0, manlen = 0;
	struct blob eb;
	struct oci_desc layer, ref;
	int rc = oci_statement_sign(repo, subject->digest, pred, req->key, &env, &envlen, err);
	if (rc)
		return rc;
	mem_blob((const uint8_t *)env, envlen, &eb);
	desc_of(&eb, EIMG_OCI_DSSE_LAYER, &layer);
	if ((rc = push_blob(c, repo, &eb, err)) ||
	    (rc = oci_manifest_build(EIMG_OCI_STATEMENT_TYPE, &layer, 1, subject, NULL, NULL, &man, &manlen, err)))
		goto out;
	rc = put_manifest(c, repo, NULL, man, manlen, "pushing the statement", res->statement_digest,
			  &res->referrers_api, err);
	if (rc)
		goto out;
	if (!res->referrers_api) {
		memset(&ref, 0, sizeof(ref));
		strcpy(ref.media_type, OCI_MANIFEST_TYPE);
		strcpy(ref.artifact_type, EIMG_OCI_STATEMENT_TYPE);
		strcpy(ref.digest, res->statement_digest);
		ref.size = manlen;
		rc = fallback_tag(c, repo, subject->digest, &ref, err);
	}
out:
	free(env);
	free(man);
	return rc;
}

static int push_image(struct oci_client *c, const struct eimg_oci_ref *ref, const struct eimg_oci_push_request *req,
		      const eimg_image *img, int fd, int target, struct oci_desc *out, eimg_error *err)
{
	struct blob cfg, image, eif;
	struct oci_desc layers[2];
	char *man = NULL, name[300];
	size_t manlen = 0, n = 1;
	const char *base = strrchr(req->image_path, '/') ? strrchr(req->image_path, '/') + 1 : req->image_path;
	int rc;
	mem_blob((const uint8_t *)"{}", 2, &cfg);
	image.fd = fd;
	image.data = NULL;
	if ((rc = hash_fd(fd, req->image_path, &image, err)) || (rc = push_blob(c, ref->repo, &cfg, err)) ||
	    (rc = push_blob(c, ref->repo, &image, err)))
		return rc;
	desc_of(&image, EIMG_OCI_IMAGE_LAYER, &layers[0]);
	layers[0].title = base;
	const eimg_blob *eb = eimg_image_eif(img);
	if (eb) {
		const uint8_t *p = NULL;
		if ((rc = eimg_blob_map(eb, &p, req->image_path, err)))
			return rc;
		mem_blob(p, (size_t)eimg_blob_size(eb), &eif);
		if ((rc = push_blob(c, ref->repo, &eif, err)))
			return rc;
		desc_of(&eif, EIMG_OCI_EIF_LAYER, &layers[1]);
		snprintf(name, sizeof(name), "%.*s.eif", (int)(strcspn(base, ".") ? strcspn(base, ".") : strlen(base)), base);
		layers[1].title = name;
		n = 2;
	}
	rc = oci_manifest_build(EIMG_OCI_ARTIFACT_TYPE, layers, n, NULL, "dev.enclaveimg.target",
				target == EIMG_TARGET_NITRO ? "nitro" : "sgx", &man, &manlen, err);
	if (rc == EIMG_OK) {
		memset(out, 0, sizeof(*out));
		strcpy(out->media_type, OCI_MANIFEST_TYPE);
		strcpy(out->artifact_type, EIMG_OCI_ARTIFACT_TYPE);
		out->size = manlen;
		rc = put_manifest(c, ref->repo, ref->tag, man, manlen, "pushing the manifest", out->digest, NULL, err);
	}
	free(man);
	return rc;
}

int eimg_oci_push(const struct eimg_oci_push_request *req, struct eimg_oci_push_result *res, eimg_error *err)
{
	struct eimg_oci_ref ref;
	struct eimg_oci_push_result r;
	struct oci_client *c = NULL;
	struct oci_desc subject;
	eimg_image *img = NULL;
	json_t *pred = NULL;
	int fd = -1, rc;
	memset(&r, 0, sizeof(r));
	if ((rc = eimg_oci_ref_parse(req->ref, &ref, err)))
		return rc;
	if (!ref.tag[0] || ref.digest[0])
		return eimg_err(err, EIMG_EUSAGE, req->ref, "push to a tag (oci://HOST/REPO:TAG), not a digest");
	if (oci_file_kind(req->image_path) == EIMG_INPUT_EIF)
		return eimg_err(err, EIMG_EINVAL, req->image_path, "is an EIF; push the .eimg built with it");
	/* Measured and verified before anything leaves the machine. */
	if ((rc = eimg_image_read_file(req->image_path, &img, err)) ||
	    (rc = oci_predicate_of_image(img, req->image_path, &pred, &r.target, err)))
		goto out;
	if ((fd = open(req->image_path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = eimg_err_sys(err, req->image_path, "cannot open");
		goto out;
	}
	if ((rc = oci_client_new(&ref, req->opts, &c, err)) ||
	    (rc = push_image(c, &ref, req, img, fd, r.target, &subject, err)))
		goto out;
	strcpy(r.digest, subject.digest);
	eimg_oci_ref_format(&ref, NULL, r.reference, sizeof(r.reference));
	eimg_oci_ref_format(&ref, r.digest, r.pinned, sizeof(r.pinned));
	if (req->key && (rc = push_statement(c, ref.repo, req, pred, &subject, &r, err)))
		goto out;
	*res = r;
out:
	if (fd >= 0)
		close(fd);
	oci_client_free(c);
	json_decref(pred);
	eimg_image_free(img);
	return rc;
}
