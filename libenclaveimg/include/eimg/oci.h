/* SPDX-License-Identifier: Apache-2.0 */
/* Enclave images in OCI registries (image-spec 1.1 artifacts, distribution-spec
 * 1.1), and the signed measurement statement that travels with them.
 * Format: man/enclave-oci.7.  Only oci/http.c includes libcurl.
 *
 * References: oci://HOST[:PORT]/REPO[:TAG][@sha256:HEX] (TAG defaults to
 * "latest"; with a digest the tag is ignored for pulling).
 * Transport: HTTPS with the system CA store; plain HTTP only for a loopback
 * host (127.0.0.0/8, ::1, localhost) or when plain_http is set.
 * Credentials: $REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json, else
 * ~/.docker/config.json ("auths" entries with "auth" = base64 user:password);
 * Basic and Bearer (token service) challenges. */
#ifndef EIMG_OCI_H
#define EIMG_OCI_H

#include <stdbool.h>
#include <stdint.h>
#include "eimg/error.h"

#define EIMG_OCI_ARTIFACT_TYPE  "application/vnd.enclaveimg.image.v1"
#define EIMG_OCI_IMAGE_LAYER    "application/vnd.enclaveimg.image.v1.tar"
#define EIMG_OCI_EIF_LAYER      "application/vnd.aws.nitro.eif"
#define EIMG_OCI_STATEMENT_TYPE "application/vnd.in-toto+json"
#define EIMG_OCI_DSSE_LAYER     "application/vnd.dsse.envelope.v1+json"
#define EIMG_OCI_PREDICATE_TYPE "https://enclaveimg.dev/measurement/v1"

/* Documented limits (enclave-oci(7)). */
#define EIMG_OCI_MAX_MANIFEST   (4u << 20)   /* a manifest, index or referrers list */
#define EIMG_OCI_MAX_DESCRIPTORS 1024        /* layers or index entries */
#define EIMG_OCI_MAX_ENVELOPE   (1u << 20)   /* a DSSE envelope */
#define EIMG_OCI_MAX_SMALL      (64u << 10)  /* token and error responses */
#define EIMG_OCI_MAX_AUTH_FILE  (1u << 20)   /* the credentials file */
#define EIMG_OCI_MAX_REFERRERS  64           /* statements examined per image */

#define EIMG_OCI_DIGEST_MAX 72   /* "sha256:" + 64 hex + NUL */

struct eimg_oci_ref {
	char host[256];          /* as written, without the port; [v6] brackets kept */
	unsigned port;           /* 0 = default */
	char repo[256];          /* lower-case path components */
	char tag[129];           /* "" when only a digest is given */
	char digest[EIMG_OCI_DIGEST_MAX]; /* "" when only a tag is given */
};

/* Whether s starts with "oci://". */
bool eimg_oci_is_ref(const char *s);
/* Parses a reference (grammar of the distribution spec; limits above). */
int eimg_oci_ref_parse(const char *s, struct eimg_oci_ref *out, eimg_error *err);
/* "oci://host[:port]/repo@sha256:..." into buf. */
const char *eimg_oci_ref_format(const struct eimg_oci_ref *r, const char *digest, char *buf, size_t size);

struct eimg_progress;
struct eimg_oci_options {
	bool plain_http;         /* allow http:// for a host that is not loopback */
	const char *auth_file;   /* NULL: $REGISTRY_AUTH_FILE, $DOCKER_CONFIG, ~/.docker */
	unsigned timeout;        /* seconds per request without progress; 0 = 30 */
	unsigned retries;        /* extra attempts for connection errors, 429 and 5xx; 0 = 3 */
	struct eimg_progress *progress; /* blobs "uploading" / "downloading"; may be NULL */
};

struct eimg_key_source;
struct eimg_oci_push_request {
	const char *image_path;             /* the .eimg */
	const char *ref;                    /* oci://... with a tag */
	const struct eimg_key_source *key;  /* signs the statement; NULL: no statement */
	const struct eimg_oci_options *opts;
};
struct eimg_oci_push_result {
	char reference[600];                         /* as pushed to: oci://host/repo:tag */
	char pinned[600];                            /* oci://host/repo@sha256:... */
	char digest[EIMG_OCI_DIGEST_MAX];            /* the artifact manifest */
	char statement_digest[EIMG_OCI_DIGEST_MAX];  /* its referrer, "" without a key */
	bool referrers_api;                          /* the registry indexed the subject itself */
	int target;                                  /* enum eimg_target */
};
/* Pushes the image's blobs and its manifest (tagged), then, with a key, the
 * signed statement as a referrer (the referrers API when the registry reports
 * OCI-Subject, else the fallback tag sha256-HEX).  The image is measured
 * (and its signature verified) first: an image that does not verify is not
 * pushed (EIMG_EVERIFY). */
int eimg_oci_push(const struct eimg_oci_push_request *req, struct eimg_oci_push_result *res, eimg_error *err);
/* What enclave-push prints: text lines, or JSON (schemas/push-output.schema.json).
 * malloc'd, NULL when out of memory. */
char *eimg_oci_push_report_text(const struct eimg_oci_push_result *r);
char *eimg_oci_push_report_json(const struct eimg_oci_push_result *r);

/* A pulled image: a private folder (0700) in $TMPDIR holding one file. */
struct eimg_oci_pulled {
	char path[4096];                       /* the file (.eimg, or .eif for an EIF-only artifact) */
	char dir[4096];
	char digest[EIMG_OCI_DIGEST_MAX];      /* the manifest's, as computed */
	char resolved[600];                    /* oci://host/repo@sha256:... */
};
/* Resolves the reference, pulls the manifest and the image layer (or, for an
 * artifact with no image layer, its EIF layer), checking every digest and
 * size while streaming into the private file.  EIMG_EVERIFY on any digest
 * mismatch (nothing is left behind); EIMG_EINVAL for an unknown media type;
 * EIMG_EIO naming the HTTP status or transport error. */
int eimg_oci_pull(const char *ref, const struct eimg_oci_options *opts, struct eimg_oci_pulled *out,
		  eimg_error *err);
/* Removes the file and its folder; safe on a zeroed struct and twice. */
void eimg_oci_pulled_remove(struct eimg_oci_pulled *p);

struct eimg_oci_verified {
	char statement_digest[EIMG_OCI_DIGEST_MAX];
	unsigned examined;                     /* statements looked at */
};
/* Looks up the statements that refer to the pulled manifest, and requires one
 * signed (DSSE) by the public key in pubkey_path whose subject is that
 * manifest and whose predicate equals the measurement recomputed from the
 * pulled file.  EIMG_EVERIFY otherwise, naming the field that differs. */
int eimg_oci_verify_statement(const struct eimg_oci_pulled *p, const char *pubkey_path,
			      const struct eimg_oci_options *opts, struct eimg_oci_verified *out, eimg_error *err);

/* What enclave-measure and enclave-run do with a reference: pull it, and
 * with statement_key (a public key file) require a statement signed by it
 * (eimg_oci_verify_statement).  Nothing is left behind on failure. */
int eimg_oci_fetch(const char *ref, const struct eimg_oci_options *opts, const char *statement_key,
		   struct eimg_oci_pulled *out, struct eimg_oci_verified *verified, eimg_error *err);

#endif
