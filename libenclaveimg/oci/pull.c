/* SPDX-License-Identifier: Apache-2.0 */
/* Pulling an image by reference: the manifest (digest checked), then the
 * image layer streamed into a private temporary file with its digest and size
 * checked on the way; a partial or altered download is removed, never used. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "eimg/hash.h"
#include "eimg/image.h"
#include "oci/oci_int.h"

/* The media type of a Content-Type header, without parameters. */
static bool type_is(const char *ctype, const char *want)
{
	size_t n = strcspn(ctype, "; ");
	return n == strlen(want) && strncmp(ctype, want, n) == 0;
}

/* Every manifest type, so that the registry answers with what it holds and a
 * type we do not take is named rather than hidden behind a 404. */
#define ACCEPT_ALL OCI_MANIFEST_TYPE ", " OCI_INDEX_TYPE ", application/vnd.docker.distribution.manifest.v2+json, " \
		   "application/vnd.docker.distribution.manifest.list.v2+json"

int oci_get_manifest(struct oci_client *c, const char *repo, const char *what, const char *want,
		     struct oci_resp *rs, char digest[EIMG_OCI_DIGEST_MAX], eimg_error *err)
{
	char path[700], shown[200];
	uint8_t sha[32];
	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", repo, what);
	snprintf(shown, sizeof(shown), "manifest '%s'", what);
	struct oci_req rq = {.method = "GET", .path = path, .accept = ACCEPT_ALL, .body_fd = -1, .sink_fd = -1,
			     .max = EIMG_OCI_MAX_MANIFEST};
	int rc = oci_request(c, &rq, rs, err);
	if (rc)
		return rc;
	if (rs->status != 200) {
		rc = oci_status_error(c, rs, shown, err);
	} else if (!type_is(rs->content_type, want)) {
		char t[100];
		rc = eimg_err(err, EIMG_EINVAL, oci_client_name(c), "%s: unknown media type '%s' (expected %s)", shown,
			      eimg_escape(rs->content_type, strlen(rs->content_type), t, sizeof(t)), want);
	} else {
		eimg_sha256(rs->body, rs->len, sha);
		oci_digest_format(sha, digest);
		if (strncmp(what, "sha256:", 7) == 0 && strcmp(what, digest) != 0)
			rc = eimg_err(err, EIMG_EVERIFY, oci_client_name(c), "%s: the registry sent content of digest %s",
				      shown, digest);
		else if (strncmp(what, "sha256:", 7) != 0 && rs->digest[0] && strcmp(rs->digest, digest) != 0)
			rc = eimg_err(err, EIMG_EVERIFY, oci_client_name(c), "%s: content digest %s, the registry says %s",
				      shown, digest, rs->digest);
	}
	if (rc)
		oci_resp_clear(rs);
	return rc;
}

int oci_get_blob(struct oci_client *c, const char *repo, const struct oci_desc *d, int fd, uint64_t max,
		 struct oci_resp *rs, eimg_error *err)
{
	char path[700], got[EIMG_OCI_DIGEST_MAX], what[120];
	uint8_t sha[32];
	snprintf(path, sizeof(path), "/v2/%s/blobs/%s", repo, d->digest);
	snprintf(what, sizeof(what), "blob %s", d->digest);
	if (d->size > max)
		return eimg_err(err, EIMG_EINVAL, oci_client_name(c), "%s: %llu bytes, above the limit of %llu", what,
				(unsigned long long)d->size, (unsigned long long)max);
	struct oci_req rq = {.method = "GET", .path = path, .body_fd = -1, .sink_fd = fd, .sink_max = d->size + 1,
			     .max = (size_t)d->size + 1, .step = "downloading"};
	int rc = oci_request(c, &rq, rs, err);
	if (rc)
		return rc;
	if (rs->status != 200)
		return oci_status_error(c, rs, what, err);
	if (fd < 0) {
		eimg_sha256(rs->body, rs->len, sha);
		rs->received = rs->len;
	} else {
		memcpy(sha, rs->sha256, 32);
	}
	oci_digest_format(sha, got);
	if (rs->received != d->size)
		return eimg_err(err, EIMG_EVERIFY, oci_client_name(c), "%s: %s%llu bytes received, the manifest says %llu",
				what, rs->received > d->size ? "more than " : "", (unsigned long long)rs->received,
				(unsigned long long)d->size);
	if (strcmp(got, d->digest) != 0)
		return eimg_err(err, EIMG_EVERIFY, oci_client_name(c), "%s: the content does not match its digest (got %s)",
				what, got);
	return EIMG_OK;
}

/* The layer to pull: the image, or for an EIF-only artifact its EIF. */
static int pick_layer(const struct oci_client *c, const struct oci_manifest *m, const struct oci_desc **out,
		      eimg_error *err)
{
	bool ours = strcmp(m->artifact_type, EIMG_OCI_ARTIFACT_TYPE) == 0 ||
		    (!m->artifact_type[0] && strcmp(m->config.media_type, EIMG_OCI_ARTIFACT_TYPE) == 0);
	const struct oci_desc *eif = NULL;
	for (size_t i = 0; i < m->ndescs; i++) {
		if (ours && strcmp(m->descs[i].media_type, EIMG_OCI_IMAGE_LAYER) == 0) {
			*out = &m->descs[i];
			return EIMG_OK;
		}
		if (!eif && strcmp(m->descs[i].media_type, EIMG_OCI_EIF_LAYER) == 0)
			eif = &m->descs[i];
	}
	if (eif) {
		*out = eif;
		return EIMG_OK;
	}
	char t[100];
	const char *at = m->artifact_type[0] ? m->artifact_type : m->config.media_type;
	return eimg_err(err, EIMG_EINVAL, oci_client_name(c),
			"not an enclave image: artifact type '%s', and no layer of media type %s or %s",
			eimg_escape(at, strlen(at), t, sizeof(t)), EIMG_OCI_IMAGE_LAYER, EIMG_OCI_EIF_LAYER);
}

static int private_file(const char *name, struct eimg_oci_pulled *p, int *fd, eimg_error *err)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(p->dir, sizeof(p->dir), "%s/enclaveimg-pull.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(p->dir)) { /* mode 0700 */
		int rc = eimg_err_sys(err, p->dir, "cannot make a private folder");
		p->dir[0] = '\0';
		return rc;
	}
	snprintf(p->path, sizeof(p->path), "%s/%s", p->dir, name);
	*fd = open(p->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (*fd < 0)
		return eimg_err_sys(err, p->path, "cannot create");
	return EIMG_OK;
}

int eimg_oci_pull(const char *refstr, const struct eimg_oci_options *opts, struct eimg_oci_pulled *out,
		  eimg_error *err)
{
	struct eimg_oci_ref ref;
	struct eimg_oci_pulled p;
	struct oci_client *c = NULL;
	struct oci_manifest *m = NULL;
	struct oci_resp rs;
	const struct oci_desc *layer = NULL;
	int fd = -1, rc;
	memset(&p, 0, sizeof(p));
	memset(&rs, 0, sizeof(rs));
	if ((rc = eimg_oci_ref_parse(refstr, &ref, err)) || (rc = oci_client_new(&ref, opts, &c, err)) ||
	    (rc = oci_get_manifest(c, ref.repo, ref.digest[0] ? ref.digest : ref.tag, OCI_MANIFEST_TYPE, &rs, p.digest,
				   err)))
		goto out;
	rc = eimg_oci_manifest_parse(oci_client_name(c), rs.body, rs.len, &m, err);
	oci_resp_clear(&rs);
	if (rc || (rc = pick_layer(c, m, &layer, err)))
		goto out;
	eimg_oci_ref_format(&ref, p.digest, p.resolved, sizeof(p.resolved));
	/* Named after the repository, so that messages about the file say what it is. */
	const char *base = strrchr(ref.repo, '/') ? strrchr(ref.repo, '/') + 1 : ref.repo;
	char name[300];
	snprintf(name, sizeof(name), "%s.%s", base, strcmp(layer->media_type, EIMG_OCI_EIF_LAYER) == 0 ? "eif" : "eimg");
	if ((rc = private_file(name, &p, &fd, err)) ||
	    (rc = oci_get_blob(c, ref.repo, layer, fd, EIMG_IMAGE_MAX_ARCHIVE, &rs, err)))
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		rc = eimg_err_sys(err, p.path, "cannot write");
		goto out;
	}
	fd = -1;
	*out = p;
out:
	if (fd >= 0)
		close(fd);
	if (rc)
		eimg_oci_pulled_remove(&p);
	oci_resp_clear(&rs);
	eimg_oci_manifest_free(m);
	oci_client_free(c);
	return rc;
}

void eimg_oci_pulled_remove(struct eimg_oci_pulled *p)
{
	if (p->path[0])
		unlink(p->path);
	if (p->dir[0])
		rmdir(p->dir);
	p->path[0] = p->dir[0] = '\0';
}
